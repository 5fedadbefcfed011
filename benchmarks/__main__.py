"""``make bench``: print one table of wall times against their budgets.

Cases come from three places:
- every ``benchmarks/bench_*.py`` module's ``cases()`` generator of
  ``(label, seconds, budget_seconds)``;
- each notebook in ``notebooks/`` and ``solutions/``, executed in a fresh kernel;
- the book: a clean build into a temporary folder, then a rebuild with nothing changed.

``python -m benchmarks --quick`` skips the notebooks and the book.
Exit status 1 when a case is over its budget, so a regression is visible in a terminal.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_BUDGET = 10.0
# The issue-22 target is 10 s each; the hands-on notebooks of part 3 were specified at 15 s
# and cost-and-scale at 30 s. cost-hot-spot is back at 10 s (6.4 s at load 2.9); the others
# still spend 3-5 s importing MLflow, scikit-learn and matplotlib, or run DVC's stages in
# fresh Pythons.
NOTEBOOK_BUDGETS = {"cost-and-scale.ipynb": 30.0, **{f"{name}.ipynb": 15.0 for name in (
    "reproducibility", "deployment", "monitoring", "ways-of-working")}}
CLEAN_BUILD_BUDGET = 120.0
REBUILD_BUDGET = 2.0


def module_cases():
    import benchmarks

    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            yield from module.cases()


def notebook_cases():
    import nbformat
    from nbclient import NotebookClient

    for folder in ("notebooks", "solutions"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            seconds = time.perf_counter() - start
            yield (f"notebook {folder}/{path.name} (fresh kernel)", seconds,
                   NOTEBOOK_BUDGETS.get(path.name, NOTEBOOK_BUDGET))


def book_cases():
    with tempfile.TemporaryDirectory() as tmp:
        # Build a copy so the timing starts from nothing: no _build, no execution cache.
        src = Path(tmp) / "course"
        shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__"))
        # make book's command: jupyter-book, and only when something changed since the last build
        cmd = [sys.executable, "-m", "mlecourse.book", "build", str(src), "-W", "-n", "--keep-going", "-q"]
        for label, budget in (("book: clean build", CLEAN_BUILD_BUDGET),
                              ("book: rebuild, nothing changed", REBUILD_BUDGET)):
            start = time.perf_counter()
            # cwd matters: the execution cache path in _config.yml is relative to it.
            subprocess.run(cmd, check=True, capture_output=True, cwd=src)
            yield label, time.perf_counter() - start, budget


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    sources = [module_cases] + ([] if quick else [notebook_cases, book_cases])
    print(f"{'case':<64} {'seconds':>9} {'budget':>8}  ok")
    over = 0
    for source in sources:
        for label, seconds, budget in source():
            ok = seconds <= budget
            over += not ok
            print(f"{label:<64} {seconds:>9.3f} {budget:>8.1f}  {'yes' if ok else 'NO'}", flush=True)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
