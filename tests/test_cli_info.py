"""`mlecourse info` lists the bundled example assessments as paths `mlecourse score` accepts."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlecourse", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_info_lists_the_worked_example_and_score_accepts_it_from_anywhere(tmp_path):
    proc = _run("info")
    assert proc.returncode == 0, proc.stderr
    listed = [shlex.split(line)[0] for line in proc.stdout.splitlines() if line.startswith("  ")]
    names = [Path(p).name for p in listed]
    assert "worked-example.json" in names
    assert all(Path(p).is_file() for p in listed)
    worked = listed[names.index("worked-example.json")]
    scored = _run("score", worked, cwd=tmp_path)  # from an unrelated folder
    assert scored.returncode == 0, scored.stderr
    assert "Overall" in scored.stdout
