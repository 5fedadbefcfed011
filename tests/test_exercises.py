"""The exercises pipeline: solutions/ (nbgrader source) generates exercises/ (student notebooks)."""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import ROOT
from mlecourse.exercises import generate as exercises

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _ids(paths):
    return [p.name for p in paths]


def test_every_solution_has_an_exercise_and_no_stale_ones():
    names = {p.name for p in SOLUTIONS}
    assert names, "solutions/ holds no notebooks"
    assert {p.name for p in (ROOT / "exercises").glob("*.ipynb")} == names


def test_exercises_are_in_sync_with_solutions():
    expected = exercises.expected_exercises(ROOT / "solutions")
    stale = [name for name, text in expected.items()
             if (ROOT / "exercises" / name).read_text(encoding="utf-8") != text]
    assert not stale, f"exercises/ is out of date for {stale}: run `make exercises`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_notebook_is_an_nbgrader_source(path):
    nb = nbformat.read(path, as_version=4)
    solution_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    graded_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert solution_cells, f"{path.name} has no solution cell"
    assert graded_cells, f"{path.name} has no check cell"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate nbgrader grade_id"
    assert all("BEGIN SOLUTION" in c.source for c in solution_cells if c.cell_type == "code")


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_student_version_has_stubs_and_no_answers(path):
    student = exercises.student_version(nbformat.read(path, as_version=4))
    text = "\n".join(c.source for c in student.cells)
    assert not any(marker in text for marker in MARKERS)
    stubs = [c for c in student.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert stubs and all("raise NotImplementedError()" in c.source for c in stubs)
    nbformat.validate(student)


def test_unbalanced_marker_is_refused_with_the_reason():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "f",
                                 "locked": False, "schema_version": 3}
    nb.cells.append(cell)
    with pytest.raises(ValueError, match="END SOLUTION|end"):
        exercises.student_version(nb)


def test_generation_does_not_modify_the_solution():
    nb = nbformat.read(SOLUTIONS[0], as_version=4)
    before = copy.deepcopy(nb)
    exercises.student_version(nb)
    assert nb == before


def _run_allowing_errors(nb, cwd):
    """Execute every cell, carrying on after errors; return (cell, error name) per failing cell."""
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    failures = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                failures.append((cell, output["ename"], output.get("evalue", "")))
    return failures


EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.parametrize("path", EXERCISES, ids=_ids(EXERCISES))
def test_exercise_fails_only_at_stubs_and_checks(path):
    nb = nbformat.read(path, as_version=4)
    failures = _run_allowing_errors(nb, path.parent)
    assert failures, f"{path.name} ran without any error: are the stubs really empty?"
    for cell, ename, evalue in failures:
        meta = cell.metadata.get("nbgrader", {})
        where = f"{path.name}, cell {cell.get('id')}: {ename}: {evalue}"
        assert meta.get("solution") or meta.get("grade"), f"unexpected crash outside an exercise: {where}"
        # CheckFailed: the AssertionError subclass of mlecourse.exercises.common.
        assert ename in {"NotImplementedError", "AssertionError", "CheckFailed"}, \
            f"unclear failure: {where}"
