"""``make bench``: print one table of wall times against their budgets.

Cases come from three places:
- every ``benchmarks/bench_*.py`` module's ``cases()`` generator of
  ``(label, seconds, budget_seconds)``;
- each notebook in ``notebooks/`` and ``solutions/``, executed in a fresh kernel;
- the book: a clean build into a temporary folder, then a rebuild with nothing changed.

``python -m benchmarks --quick`` skips the notebooks and the book; ``--only TEXT``
(repeatable) runs the selected cases only (see ``--help``).
Exit status 1 when a case is over its budget, so a regression is visible in a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
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


def _everything(_label: str) -> bool:
    return True


def module_cases(wanted=_everything, only=()):
    """Cases of each ``benchmarks/bench_*.py``. A module whose ``cases`` takes ``wanted`` skips
    the cases it does not want before measuring them; with ``only``, any other module runs
    only when one of those texts occurs in its name (its labels carry measured figures)."""
    import benchmarks

    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            if "wanted" in inspect.signature(module.cases).parameters:
                yield from module.cases(wanted=wanted)
            elif not only or any(text in info.name for text in only):
                yield from module.cases()


def notebook_cases(wanted=_everything, only=()):
    import nbformat
    from nbclient import NotebookClient

    for folder in ("notebooks", "solutions"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            label = f"notebook {folder}/{path.name} (fresh kernel)"
            if not wanted(label):
                continue
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            seconds = time.perf_counter() - start
            yield label, seconds, NOTEBOOK_BUDGETS.get(path.name, NOTEBOOK_BUDGET)


def book_cases(wanted=_everything, only=()):
    labels = ("book: clean build", "book: rebuild, nothing changed")
    if not any(wanted(label) for label in labels):
        return
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
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the notebooks and the book")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="run only the cases whose label contains TEXT (repeatable), e.g. "
                             "'notebooks/model-decay' for its run time and its imports; a "
                             "bench_*.py module that cannot select its cases in advance runs "
                             "only when TEXT occurs in its name (e.g. 'drift')")
    args = parser.parse_args(argv)
    only = tuple(args.only)

    def wanted(label: str) -> bool:
        return not only or any(text in label for text in only)

    sources = [module_cases] + ([] if args.quick else [notebook_cases, book_cases])
    print(f"{'case':<64} {'seconds':>9} {'budget':>8}  ok")
    over = 0
    for source in sources:
        for label, seconds, budget in source(wanted, only):
            ok = seconds <= budget
            over += not ok
            print(f"{label:<64} {seconds:>9.3f} {budget:>8.1f}  {'yes' if ok else 'NO'}", flush=True)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
