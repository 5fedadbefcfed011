"""The Makefile: a missing or unsupported Python stops it with one clear line."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def test_missing_python_stops_make_with_one_line(tmp_path):
    proc = subprocess.run(["make", "-s", "venv", f"VENV={tmp_path / 'venv'}", "PYTHON_FOR_VENV="],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.startswith("make: Python")]
    assert len(lines) == 1 and "3.10, 3.11 or 3.12 is required" in lines[0]
    assert not (tmp_path / "venv").exists()


def test_help_lists_the_targets():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True).stdout
    for target in ("book", "test", "lab", "exercises", "slides", "classroom", "bench", "clean"):
        assert f"make {target}" in out
