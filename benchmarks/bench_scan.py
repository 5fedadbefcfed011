"""Speed and memory of the read-only repository scan (``mlecourse assess``, issue 8).

A generated tree of 100,000 files (ten top-level packages of 10,000 files: Python modules, tests,
notebooks, data files, YAML, Markdown) is scanned; the generation is not timed. Peak memory is
measured with tracemalloc in a second run (tracemalloc slows Python down, so it is not timed),
for the whole tree and for one package of 10,000 files: the two peaks should be about equal,
because the scan keeps no list of paths.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

from mlecourse.scorecard.scan import scan

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


def _peak(path: Path) -> tuple[int, object]:
    tracemalloc.start()
    try:
        result = scan(path)
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def cases():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        n_files = generate(root)
        scan(root / "package_0")  # warm the file-system cache like a second run would
        start = time.perf_counter()
        result = scan(root)
        seconds = time.perf_counter() - start
        assert result.stats["files"] == n_files, result.stats
        start = time.perf_counter()
        _read_once(root)
        floor = time.perf_counter() - start
        peak_all, _ = _peak(root)
        peak_one, one = _peak(root / "package_0")
        yield (f"scan {n_files:,} files ({result.stats['files_read']:,} read, "
               f"{seconds / floor:.1f}x walking and reading them once); peak "
               f"{peak_all / 2**20:.1f} MiB vs {peak_one / 2**20:.1f} MiB for "
               f"{one.stats['files']:,}", seconds, 2.0)
