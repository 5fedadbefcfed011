"""Speed and memory of the read-only repository scan (``mlecourse assess``, issue 8).

A generated tree of 100,000 files (ten top-level packages of 10,000 files: Python modules, tests,
notebooks, data files, YAML, Markdown) is scanned; the generation is not timed. Memory is
measured in fresh child processes (not timed), for the whole tree and for one package of 10,000
files: the two should be about equal, because the scan keeps no list of paths. Two figures:
the growth of the child's peak resident memory during the scan (``ru_maxrss``: everything,
C libraries and the interpreter's arenas included) and the peak of Python's own heap traced by
tracemalloc. The latter alone is misleading: it misses memory that C code allocates (the issue
that found 147 MB for one huge folder measured resident memory), and the scan's Python peak is
tens of KiB, which an earlier version printed as "0.0 MiB".
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlecourse.scorecard.scan import _SIGNAL_CACHE, _only_constant_checks, scan

N_PACKAGES = 10
DIRS_PER_PACKAGE = 100
FILES_PER_DIR = 100  # 10 x 100 x 100 = 100,000 files

_MODULE = ("import numpy as np\nimport pandas as pd\n\n\ndef transform(df: pd.DataFrame):\n"
           "    \"\"\"Scale the numeric columns.\"\"\"\n    return (df - df.mean()) / df.std()\n"
           * 4)
_TRAIN = "import mlflow\n\nwith mlflow.start_run():\n    mlflow.log_metric('auc', 0.8)\n"
_TEST = ("from pkg import transform\n\n\ndef test_transform(df):\n"
         "    assert transform(df) is not None\n")
_NOTEBOOK = ('{"cells": [{"cell_type": "code", "source": ["import pandas as pd\\n", '
             '"df = pd.read_csv(\'x.csv\')"]}], "metadata": {}, "nbformat": 4, '
             '"nbformat_minor": 5}\n')
_YAML = "name: config\nparams:\n  lr: 0.01\n  epochs: 10\n"
_CSV = "a,b,c\n" + "1,2,3\n" * 20


def _content(i: int) -> tuple[str, str]:
    """Name and text of the i-th file in a folder (a realistic mix)."""
    kind = i % 20
    if kind < 6:
        return f"module_{i}.py", (_TRAIN if i == 0 else _MODULE)
    if kind == 6:
        return f"test_module_{i}.py", _TEST
    if kind == 7:
        return f"analysis_{i}.ipynb", _NOTEBOOK
    if kind == 8:
        return f"config_{i}.yaml", _YAML
    if kind == 9:
        return f"notes_{i}.md", "# Notes\n\nSome text.\n"
    if kind < 16:
        return f"part_{i}.csv", _CSV
    return f"image_{i}.png", "\x89PNG fake image bytes\n"


def generate(root: Path) -> int:
    """Write the tree under ``root``; return the number of files."""
    n = 0
    for p in range(N_PACKAGES):
        for d in range(DIRS_PER_PACKAGE):
            folder = root / f"package_{p}" / f"sub_{d // 10}" / f"dir_{d}"
            folder.mkdir(parents=True)
            for i in range(FILES_PER_DIR):
                name, text = _content(i)
                (folder / name).write_text(text, encoding="utf-8")
                n += 1
    (root / "README.md").write_text("# big\n", encoding="utf-8")
    return n + 1


def _read_once(root: Path) -> int:
    """The floor: walk the tree and read the files the scan reads (text, not data files)."""
    total = 0
    for path in root.rglob("*"):
        if path.suffix in {".py", ".ipynb", ".yaml", ".md"}:
            total += len(path.read_bytes())
    return total


# The child prints its resident memory before the scan and its peak during the scan (KiB; the
# peak is reset first through /proc/self/clear_refs, else the imports' peak would hide the
# scan's), then the traced Python heap peak (bytes) of a second scan under tracemalloc.
_CHILD = """
import re, sys, tracemalloc
from mlecourse.scorecard import scan as s

def status(field):
    text = open("/proc/self/status").read()
    return int(re.search(field + r":\\s+(\\d+)", text).group(1))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
before = status("VmRSS")
s.scan(sys.argv[1])
after = status("VmHWM")
s._SIGNAL_CACHE.clear()
s._only_constant_checks.cache_clear()
tracemalloc.start()
s.scan(sys.argv[1])
print(before, after, tracemalloc.get_traced_memory()[1])
"""


def _peak(path: Path) -> tuple[float, float]:
    """(growth of the peak resident memory, peak traced Python heap), both in KiB."""
    import mlecourse

    src = str(Path(mlecourse.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH", "")) if p))
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    before, after, traced = (int(x) for x in out[-3:])
    return float(after - before), traced / 1024


def cases():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        n_files = generate(root)
        scan(root / "package_0")  # warm the file-system cache like a second run would
        _SIGNAL_CACHE.clear()  # but not the parser's: a new process starts without it
        _only_constant_checks.cache_clear()
        start = time.perf_counter()
        result = scan(root)
        seconds = time.perf_counter() - start
        assert result.stats["files"] == n_files, result.stats
        start = time.perf_counter()
        _read_once(root)
        floor = time.perf_counter() - start
        rss_all, heap_all = _peak(root)
        rss_one, heap_one = _peak(root / "package_0")
        yield (f"scan {n_files:,} files ({result.stats['files_read']:,} read, "
               f"{seconds / floor:.1f}x walking and reading them once); memory growth "
               f"{rss_all / 1024:.1f} MiB resident, {heap_all:.0f} KiB Python heap vs "
               f"{rss_one / 1024:.1f} MiB, {heap_one:.0f} KiB for 10,000 files", seconds, 2.0)
