"""The ``mlecourse`` console script and ``python -m mlecourse``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mlecourse import __version__, cli


def test_version_flag(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out


def test_module_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "mlecourse", "info"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "mlecourse" in proc.stdout


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "mlecourse"
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: mlecourse" in proc.stdout
