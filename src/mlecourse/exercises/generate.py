"""Generate the student notebooks in ``exercises/`` from the solution notebooks in ``solutions/``.

The solution notebooks are nbgrader source notebooks: solution cells carry
``metadata.nbgrader.solution = true`` and ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers,
check cells carry ``metadata.nbgrader.grade = true`` and may hide tests between
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. A teacher can therefore hand
``solutions/`` to ``nbgrader generate_assignment`` unchanged; for self-study we run nbgrader's
own preprocessors (LockCells, ClearSolutions, ClearHiddenTests, ClearOutput) without its
database, configured as ``nbgrader_config.py`` configures a teacher's release: check cells are
locked (not editable, not deletable) and every stub says what to write.

Usage: ``python -m mlecourse.exercises [SOLUTIONS_DIR] [EXERCISES_DIR]`` (``make exercises``).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

NBFORMAT_VERSION = 4


#: What replaces a code solution: a stub that says what to do (nbgrader's default is a bare
#: ``raise NotImplementedError()``, which a learner reads as a crash).
CODE_STUB = ('# YOUR CODE HERE\nraise NotImplementedError("Replace this line with your code, run '
             'the cell, then run the check cell below it.")')
#: What replaces a written answer ("Think about it").
TEXT_STUB = "YOUR ANSWER HERE: a few sentences; the solutions notebook has one answer to compare."


def nbgrader_config():
    """The nbgrader settings of a release, shared by this generator and ``nbgrader_config.py``."""
    from traitlets.config import Config

    config = Config()
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    return config


def _preprocessors():
    # Imported lazily: nbgrader is heavy and only this step needs it.
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, LockCells

    config = nbgrader_config()
    # nbgrader's generate_assignment order: lock cells first, then clear solutions and tests.
    return [LockCells(config=config), ClearSolutions(config=config),
            ClearHiddenTests(config=config), ClearOutput(config=config)]


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the student version of a solution notebook (the input is not modified).

    Solution regions become stubs that raise ``NotImplementedError`` with a sentence saying what
    to do, written answers become :data:`TEXT_STUB`, check and read-only cells are locked,
    hidden tests disappear and outputs and execution counts are cleared. Raises ``ValueError``
    naming the cell when a marker is unbalanced or sits in a cell without nbgrader metadata.
    """
    nb = copy.deepcopy(nb)
    resources: dict = {}
    for pre in _preprocessors():
        try:
            nb, resources = pre.preprocess(nb, resources)
        except RuntimeError as exc:  # nbgrader signals marker problems this way
            raise ValueError(str(exc)) from exc
    nb.metadata.pop("widgets", None)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """Serialise a notebook exactly as it is committed (stable text, trailing newline)."""
    return nbformat.writes(nb, version=NBFORMAT_VERSION) + "\n"


def expected_exercises(solutions_dir: Path) -> dict[str, str]:
    """Map each exercise file name to the text ``make exercises`` would write for it."""
    out = {}
    for path in sorted(Path(solutions_dir).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=NBFORMAT_VERSION)
        try:
            out[path.name] = render(student_version(nb))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
    return out


def generate(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Write the student notebooks; remove exercises whose solution no longer exists."""
    exercises_dir = Path(exercises_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    wanted = expected_exercises(Path(solutions_dir))
    written = []
    for name, text in wanted.items():
        target = exercises_dir / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    for stale in exercises_dir.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    solutions = Path(argv[0]) if argv else Path("solutions")
    exercises = Path(argv[1]) if len(argv) > 1 else Path("exercises")
    try:
        written = generate(solutions, exercises)
    except (ValueError, OSError) as exc:
        print(f"make exercises: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
