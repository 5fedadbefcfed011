"""The exercises pipeline: solutions/ (nbgrader source) generates exercises/ (student notebooks),
and the rules every exercise follows (README, "Contributing", "Exercises"): locked check cells,
stubs that say what to write, a challenge, answers to every "Think about it", hidden tests that
only add cases, and visible checks that fail every known wrong answer with a message naming it.
"""

from __future__ import annotations

import ast
import copy
import re

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
    assert stubs and all(exercises.CODE_STUB.splitlines()[1] in c.source for c in stubs)
    nbformat.validate(student)


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_student_version_locks_check_cells_as_nbgrader_release_does(path):
    student = exercises.student_version(nbformat.read(path, as_version=4))
    checks = [c for c in student.cells if _nbgrader(c).get("grade") and c.cell_type == "code"]
    assert checks
    for cell in checks:
        assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False
    for cell in student.cells:
        if _nbgrader(cell).get("solution"):
            assert cell.metadata.get("deletable") is False  # editable: the learner writes here


def test_stub_says_what_to_write():
    namespace: dict = {}
    exec("def f():\n    " + exercises.CODE_STUB.replace("\n", "\n    "), namespace)
    with pytest.raises(NotImplementedError, match="Replace this line with your code"):
        namespace["f"]()


def _sections(nb, title):
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and c.source.lstrip().startswith(title)]


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_every_think_about_it_has_an_answer_hidden_from_learners(path):
    nb = nbformat.read(path, as_version=4)
    questions = _sections(nb, "## Think about it")
    assert questions, f"{path.name} has no 'Think about it' section"
    student = exercises.student_version(nb)
    for i in questions:
        answer = nb.cells[i + 1]
        meta = _nbgrader(answer)
        assert answer.cell_type == "markdown" and meta.get("solution") and meta.get("grade"), \
            f"{path.name}: the cell after 'Think about it' must be a (manually graded) answer"
        assert len(answer.source) > 200
        assert student.cells[i + 1].source == exercises.TEXT_STUB


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_every_exercise_has_a_checked_challenge(path):
    nb = nbformat.read(path, as_version=4)
    starts = _sections(nb, "## Challenge")
    assert len(starts) == 1, f"{path.name} needs one '## Challenge' section"
    after = nb.cells[starts[0]:]
    assert any(_nbgrader(c).get("solution") and c.cell_type == "code" for c in after)
    assert any(_nbgrader(c).get("grade") and c.cell_type == "code" for c in after)


def _hidden_and_visible(source: str) -> tuple[str, str]:
    match = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
    if not match:
        return "", source
    return match.group(1), source.replace(match.group(0), "")


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_hidden_tests_only_add_cases_to_the_visible_checks(path):
    """A hidden test may only call a check function the visible part calls (with more cases):
    every condition the text states is then graded by what the learner can run."""
    for cell in nbformat.read(path, as_version=4).cells:
        hidden, visible = _hidden_and_visible(cell.source)
        if not hidden:
            continue
        visible_calls = {n.func.id for n in ast.walk(ast.parse(visible))
                         if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        for statement in ast.parse(hidden).body:
            assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call), \
                f"{path.name}: hidden test {ast.unparse(statement)!r} is not a check call"
            name = getattr(statement.value.func, "id", "")
            assert name.startswith("check_") and name in visible_calls, \
                f"{path.name}: hidden test calls {name}, which the visible check does not"


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
        assert meta.get("solution") or meta.get("grade"), \
            f"unexpected crash outside an exercise: {where}"
        assert ename in {"NotImplementedError", "CheckFailed"}, f"unclear failure: {where}"
        if meta.get("grade"):  # a check on a stub says so, in a sentence
            assert "not written yet" in evalue, where


# --- the wrong-answers suite: every known wrong answer fails the VISIBLE check ------------------

_LIAR = "class Liar(float):\n    def __eq__(self, other):\n        return True\n\n"
_LIAR_STR = "class LiarStr(str):\n    def __eq__(self, other):\n        return True\n\n"

#: notebook -> check cell grade_id -> [(a wrong definition of the graded function, the words
#: the check's message must contain)]. At least three per graded function; the first ones are
#: those found by trying the exercises as a learner (issue 17).
WRONG_ANSWERS = {
    "warm-up.ipynb": {
        "check-default-rate": [
            ("def default_rate(o):\n    return 1 - sum(o) / len(o)", "share of repayments"),
            ("def default_rate(o):\n    return 0.5", "for every batch"),
            ("def default_rate(o):\n    return float('nan')", "NaN"),
            (_LIAR + "def default_rate(o):\n    return Liar(0.5)", "for every batch"),
            ("def default_rate(o):\n    return sum(o) / len(o)", "ZeroDivisionError"),
            ("def default_rate(o):\n    return sum(o)", "number of defaults"),
            ("def default_rate(o):\n    if not o:\n        raise ValueError()\n"
             "    return sum(o) / len(o)", "without a message"),
        ],
        "check-riskiest-group": [
            ("def riskiest_group(b, c):\n    return b.groupby(c)['defaulted'].sum().idxmax()",
             "most defaults.*compare the share"),
            ("def riskiest_group(b, c):\n    return b.groupby(c)['defaulted'].mean().idxmin()",
             "LOWEST"),
            ("def riskiest_group(b, c):\n    return 'south'", "for every batch"),
            ("def riskiest_group(b, c):\n"
             "    return b.groupby('region')['defaulted'].mean().idxmax()", "KeyError"),
        ],
    },
    "model-decay-psi.ipynb": {
        "check-psi": [
            ("from mlecourse.principles.drift import psi_numeric\n"
             "def psi(r, c, bins=10, eps=1e-4):\n    return psi_numeric(r, c, bins, eps)",
             "package's own"),
            ("import mlecourse.principles.drift as d\n"
             "def psi(r, c, bins=10, eps=1e-4):\n    return d.psi(r, c, bins, eps)",
             "package's own"),
            ("def psi(r, c, bins=10, eps=1e-4):\n"
             "    e = np.quantile(r, np.linspace(0, 1, bins + 1))\n"
             "    r = np.maximum(np.histogram(r, e)[0] / len(r), eps)\n"
             "    c = np.maximum(np.histogram(c, e)[0] / len(c), eps)\n"
             "    return float(np.sum((c - r) * np.log(c / r)))", "dropped"),
            ("def psi(r, c, bins=10, eps=1e-4):\n    return float('nan')", "nan"),
            (_LIAR + "def psi(r, c, bins=10, eps=1e-4):\n    return Liar(0.1)", "should be 0"),
        ],
        "check-first-drift-month": [
            ("def first_drift_month(df, **kw):\n    return pd.Timestamp('2024-10-01')",
             "two months later"),
            ("def first_drift_month(df, feature='income', threshold=0.2, reference_months=6):\n"
             "    months = sorted(df['month'].unique())\n"
             "    ref = df.loc[df['month'].isin(months[:reference_months]), feature]\n"
             "    for m in months[reference_months:]:\n"
             "        if psi(ref, df.loc[df['month'] == m, feature]) > 0.2:\n"
             "            return pd.Timestamp(m)", "return None when there is no alarm"),
            ("def first_drift_month(df, **kw):\n    return '2024-10'", "Timestamp"),
        ],
        "check-first-drifted-feature": [
            ("def first_drifted_feature(df, reference_months=6):\n"
             "    return {'feature': 'loan_amount', 'month': pd.Timestamp('2024-08-01'),"
             " 'ratio': 1.5}", "data set 2"),
            ("def first_drifted_feature(df, reference_months=6):\n"
             "    return {'feature': 'income', 'month': pd.Timestamp('2024-10-01'), 'ratio': 0.7}",
             "'loan_amount' moved earlier"),
            ("def first_drifted_feature(df, reference_months=6):\n"
             "    return ('loan_amount', pd.Timestamp('2024-08-01'), 1.5)", "dict"),
            ("def first_drifted_feature(df, reference_months=6):\n    return None",
             "features do move"),
        ],
    },
    "testing-gate.ipynb": {
        "check-make-schema": [
            ("def make_schema():\n    return pa.DataFrameSchema("
             "{'income': pa.Column(float, pa.Check.in_range(0, 1000))})",
             "accepted a batch with missing loan amounts"),
            ("def make_schema():\n    return pa.DataFrameSchema({"
             "'income': pa.Column(float, pa.Check.in_range(0, 1000)),"
             " 'loan_amount': pa.Column(float, nullable=False)})", "region 'north-east'"),
            ("def make_schema():\n    return pa.DataFrameSchema("
             "{'income': pa.Column(float, pa.Check.le(100))})", "rejects the clean batch"),
            ("def make_schema():\n    return {'income': float}", "DataFrameSchema"),
            ("from mlecourse.principles.checks import loan_schema\n"
             "def make_schema():\n    return loan_schema()", "package's own"),
        ],
        "check-income-test": [
            ("def income_test(model, batch):\n"
             "    model.named_steps['clf'].coef_[:] = 0\n", "faulty model"),
            ("def income_test(model, batch):\n"
             "    before = model.predict_proba(batch)[:, 1]\n"
             "    after = model.predict_proba(batch.assign(income=batch['income'] * 1.5))[:, 1]\n"
             "    assert (after <= before).all()", "passed on the faulty model"),
            ("def income_test(model, batch):\n"
             "    before = model.predict_proba(batch)[:, 1]\n"
             "    after = model.predict_proba(batch.assign(income=batch['income'] * 1.5))[:, 1]\n"
             "    assert (after > before).mean() > 0.5", "good model.*no message"),
            ("def income_test(model, batch):\n"
             "    before = model.predict_proba(batch)[:, 1]\n"
             "    after = model.predict_proba(batch.assign(income=batch['income'] * 1.5))[:, 1]\n"
             "    assert abs((after - before).mean()) > 0.005, 'no effect'",
             "risk rises with income"),
        ],
        "check-batch-test": [
            ("def batch_test(model, batch):\n"
             "    order = np.random.default_rng(0).permutation(len(batch))\n"
             "    assert np.allclose(model.predict_proba(batch)[order, 1],"
             " model.predict_proba(batch.iloc[order])[:, 1]), 'order matters'", "Shuffling"),
            ("def batch_test(model, batch):\n    pass", "passed on the suspect"),
            ("def batch_test(model, batch):\n"
             "    whole = model.predict_proba(batch)[:20, 1]\n"
             "    alone = [model.predict_proba(batch.iloc[[i]])[0, 1] for i in range(20)]\n"
             "    assert list(whole) == alone, 'scores differ'", "tolerance"),
        ],
    },
    "versioning-lineage.ipynb": {
        "check-champion-fingerprint": [
            ("def champion_fingerprint(client, model_name):\n"
             "    return setup.manifests['loans-2024-06'].fingerprint", "still returned the old"),
            ("def champion_fingerprint(client, model_name):\n"
             "    return setup.manifests['loans-2024-12'].fingerprint", "newest snapshot"),
            (_LIAR_STR + "def champion_fingerprint(client, model_name):\n"
             "    return LiarStr('x')", "not the fingerprint of either"),
            ("def champion_fingerprint(c, model_name):\n"
             "    v = client.get_model_version_by_alias(model_name, 'champion')\n"
             "    return client.get_run(v.run_id).data.tags['data_fingerprint']",
             "through the `client` argument"),
            ("def champion_fingerprint(client, model_name):\n    return 2", "version number"),
        ],
        "check-champion-snapshot": [
            ("def champion_snapshot(client, model_name, snapshot_dir):\n"
             "    return 'loans-2024-12'", "newest is not champion"),
            ("def champion_snapshot(client, model_name, snapshot_dir):\n"
             "    return 'loans-2024-06'", "still returned"),
            (_LIAR_STR + "def champion_snapshot(client, model_name, snapshot_dir):\n"
             "    return LiarStr('x')", "not one of the snapshots"),
        ],
        "check-versions-trained-on": [
            ("def versions_trained_on(client, model_name, snapshot_dir, snapshot):\n"
             "    return [1, 2] if snapshot == 'loans-2024-06' else [3]",
             "without the new version"),
            ("def versions_trained_on(client, model_name, snapshot_dir, snapshot):\n"
             "    v = client.get_model_version_by_alias(model_name, 'champion')\n"
             "    return [int(v.version)]", "only the champion"),
            ("def versions_trained_on(client, model_name, snapshot_dir, snapshot):\n"
             "    return []", "returned \\[\\]"),
        ],
    },
}

_NAMESPACES: dict = {}


def _solution_namespace(name: str) -> tuple[dict, dict]:
    """Run a solution notebook's code in-process (without its final clean-up); return the
    namespace and its check cells' visible sources by grade_id."""
    if name not in _NAMESPACES:
        nb = nbformat.read(ROOT / "solutions" / name, as_version=4)
        namespace: dict = {"__name__": "__notebook__"}
        checks = {}
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or "workdir.cleanup()" in cell.source:
                continue
            exec(compile(cell.source, f"{name}[{i}]", "exec"), namespace)
            if _nbgrader(cell).get("grade"):
                checks[_nbgrader(cell)["grade_id"]] = _hidden_and_visible(cell.source)[1]
        _NAMESPACES[name] = (namespace, checks)
    return _NAMESPACES[name]


@pytest.fixture(scope="module", autouse=True)
def _clean_up_notebook_state():
    yield
    for namespace, _ in _NAMESPACES.values():
        if "workdir" in namespace:
            namespace["workdir"].cleanup()
    _NAMESPACES.clear()


@pytest.mark.parametrize("name", sorted(WRONG_ANSWERS))
def test_unchanged_solution_passes_visible_and_hidden_checks(name, capsys):
    namespace, checks = _solution_namespace(name)  # runs every cell, hidden tests included
    assert set(checks) == set(WRONG_ANSWERS[name]), "every check cell needs wrong answers"
    assert capsys.readouterr().out.count("Well done") >= len(checks)


WRONG_CASES = [(name, gid, code, words) for name, table in sorted(WRONG_ANSWERS.items())
               for gid, answers in table.items() for code, words in answers]


@pytest.mark.parametrize("name, grade_id, code, words", WRONG_CASES,
                         ids=[f"{n}:{g}:{i}" for i, (n, g, _, _) in enumerate(WRONG_CASES)])
def test_wrong_answer_fails_the_visible_check_naming_the_mistake(name, grade_id, code, words):
    from mlecourse.exercises.common import CheckFailed

    namespace, checks = _solution_namespace(name)
    namespace = dict(namespace)  # the wrong definition replaces the solution in a copy only
    exec(compile(code, "<wrong answer>", "exec"), namespace)
    with pytest.raises(CheckFailed) as failed:
        exec(compile(checks[grade_id], f"{name}:{grade_id}", "exec"), namespace)
    assert re.search(words, str(failed.value), re.S), str(failed.value)


@pytest.mark.parametrize("name", sorted(WRONG_ANSWERS))
def test_every_graded_function_has_three_wrong_answers(name):
    assert all(len(answers) >= 3 for answers in WRONG_ANSWERS[name].values())


#: The graded function of each check cell, for the time-limit test.
GRADED_FUNCTIONS = {
    "check-default-rate": "default_rate", "check-riskiest-group": "riskiest_group",
    "check-psi": "psi", "check-first-drift-month": "first_drift_month",
    "check-first-drifted-feature": "first_drifted_feature", "check-make-schema": "make_schema",
    "check-income-test": "income_test", "check-batch-test": "batch_test",
    "check-champion-fingerprint": "champion_fingerprint",
    "check-champion-snapshot": "champion_snapshot",
    "check-versions-trained-on": "versions_trained_on",
}
HANG_CASES = [(name, gid) for name, table in sorted(WRONG_ANSWERS.items()) for gid in table]


@pytest.mark.parametrize("name, grade_id", HANG_CASES, ids=[g for _, g in HANG_CASES])
def test_a_learner_function_that_never_returns_is_stopped_with_a_message(name, grade_id,
                                                                          monkeypatch):
    from mlecourse.exercises import common

    namespace, checks = _solution_namespace(name)  # with the normal time limit
    namespace = dict(namespace)
    monkeypatch.setattr(common, "TIME_LIMIT", 0.5)
    function = GRADED_FUNCTIONS[grade_id]
    exec(f"def {function}(*args, **kwargs):\n    while True:\n        pass\n", namespace)
    with pytest.raises(common.CheckFailed, match="did not finish within 0.5 s"):
        exec(compile(checks[grade_id], f"{name}:{grade_id}", "exec"), namespace)


def test_every_check_hides_its_frames_from_tracebacks():
    """``__tracebackhide__`` in every check function: IPython shows the message, not the
    checker's source (which may hold the answer)."""
    import importlib
    import inspect

    for module in ("warm_up", "model_decay", "testing", "versioning", "common"):
        mod = importlib.import_module(f"mlecourse.exercises.{module}")
        for fname, function in inspect.getmembers(mod, inspect.isfunction):
            if function.__module__ == mod.__name__ and fname.startswith("check_"):
                assert "__tracebackhide__" in function.__code__.co_varnames, f"{module}.{fname}"
