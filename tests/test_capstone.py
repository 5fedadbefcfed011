"""The capstone: the starter trains and scores, its baseline and the reference's raised cells are
pinned, and ``mlecourse capstone check`` reports moves, order, runs and deliverables.

Levels are never written here: the pinned files (``python -m mlecourse.capstone pin``) hold them,
so a change of the scanner's rules means re-pinning, not editing tests.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from mlecourse import capstone, cli
from mlecourse.scorecard.rubric import load_rubric

CAPSTONE = ROOT / "capstone"
STARTER, REFERENCE = CAPSTONE / "starter", CAPSTONE / "reference"
RUBRIC = load_rubric("mle-maturity")


def pinned_file(name: str) -> dict:
    return json.loads((CAPSTONE / name).read_text(encoding="utf-8"))


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes: to show a run left the folder untouched."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def copy_of(folder: Path, tmp_path: Path, name: str = "mine") -> Path:
    target = tmp_path / name
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# --- pinned figures --------------------------------------------------------------------------

def test_pinned_files_match_a_fresh_scan():
    """Fails when the scanner, the starter or the reference changed without re-pinning."""
    fresh = capstone.pinned(CAPSTONE)
    assert set(fresh) == {"expected/starter-baseline.json", "expected/reference-raised.json",
                          "reference/scorecard/before.json", "reference/scorecard/after.json"}
    for name, data in fresh.items():
        assert pinned_file(name) == data, f"re-run: python -m mlecourse.capstone pin ({name})"


def test_the_starter_is_at_the_floor_everywhere():
    """Immature: no cell above the talk's lowest level (1; a scanner with a level 0 "not in
    place" may put cells without any evidence below it), each level with its reason."""
    base = pinned_file("expected/starter-baseline.json")
    assert set(base["answers"]) == set(RUBRIC.cells)
    assert max(base["answers"].values()) <= 1
    assert all(base["notes"][cid] for cid in RUBRIC.cells)


def test_the_reference_raises_at_least_eight_cells_with_evidence_in_order():
    raised = pinned_file("expected/reference-raised.json")
    assert len(raised) >= 8
    assert len({cid.split(".")[0] for cid in raised}) >= 3
    assert all(r["after"] > r["before"] and r["signals"] for r in raised.values())
    base = pinned_file("expected/starter-baseline.json")
    report = capstone.check(REFERENCE, baseline=base, run=False)
    assert [c.cell for c in report.raised] == list(raised)
    assert all(c.evidence for c in report.raised)
    assert report.violations == []
    assert all(d["found"] and not d["problem"] for d in report.deliverables)
    text = report.to_text()
    for c in report.raised:  # every raised cell is shown with every signal of its evidence
        after_header = text.split(f"\n  {c.label}: {c.before} -> {c.after}\n")[1]
        block = re.match(r"(?:      .*\n)*", after_header).group(0)  # its evidence lines
        for signal in raised[c.cell]["signals"]:
            assert f"      {signal}: " in block, (c.cell, signal)


# --- running the projects (slow: each step is a fresh Python process) ------------------------

@pytest.mark.slow
def test_the_starter_trains_and_scores_from_a_copy_and_stays_untouched():
    before = snapshot(STARTER)
    steps = capstone.run_project(STARTER)
    assert [(s.name, s.ok) for s in steps] == [("train", True), ("score", True)], steps
    assert "train.ipynb" in steps[0].command
    assert snapshot(STARTER) == before  # no model file, no output in the course's folder


@pytest.mark.slow
def test_the_reference_trains_scores_and_passes_the_whole_check(tmp_path, capsys):
    mine = copy_of(REFERENCE, tmp_path)
    before = snapshot(mine)
    code, out, err = run_cli(capsys, "capstone", "check", str(mine))
    assert code == 0, out + err
    assert "train: python train.py: ok" in out and "score: python score.py" in out
    assert "Nothing to fix." in out
    assert snapshot(mine) == before  # trained in a temporary copy, not in the learner's folder


@pytest.mark.slow
def test_the_reference_passes_its_own_tests(tmp_path):
    import os
    import subprocess
    import sys

    mine = copy_of(REFERENCE, tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests"], cwd=mine, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


SERVE_SCRIPT = """
import sqlite3
from fastapi.testclient import TestClient
from mlecourse.example.simulate import FEATURES, simulate_loans
import serve

row = simulate_loans(months=1, rows_per_month=1, seed=3)[FEATURES].iloc[0].to_dict()
with TestClient(serve.app) as http:
    answer = http.post("/predict", json={"applications": [row]})
    assert answer.status_code == 200, answer.text
    metrics = http.get("/metrics/").text
    assert "loan_predictions_total{" in metrics, metrics[:500]
logged = sqlite3.connect("logs/predictions.db").execute(
    "SELECT decision, model_version FROM predictions").fetchall()
assert logged == [(logged[0][0], "1")] and logged[0][0] in ("approve", "decline"), logged
print("served and logged")
"""


@pytest.mark.slow
def test_the_reference_service_serves_counts_and_logs(tmp_path):
    """serve.py: the course's app on the champion, Prometheus metrics, the prediction log."""
    import os
    import subprocess
    import sys

    mine = copy_of(REFERENCE, tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    for argv in ([sys.executable, "train.py"], [sys.executable, "-c", SERVE_SCRIPT]):
        done = subprocess.run(argv, cwd=mine, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "served and logged" in done.stdout


@pytest.mark.slow
def test_a_project_that_no_longer_trains_is_one_clear_line(tmp_path, capsys):
    mine = copy_of(STARTER, tmp_path)
    nb = json.loads((mine / "train.ipynb").read_text(encoding="utf-8"))
    nb["cells"][1]["source"] = "raise RuntimeError('the export moved')\n"
    (mine / "train.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    code, out, _ = run_cli(capsys, "capstone", "check", str(mine))
    assert code == 1
    line = next(ln for ln in out.splitlines() if ln.startswith("  - train failed"))
    assert "RuntimeError: the export moved" in line and "exit status 1" in line


def test_a_hanging_training_is_stopped_at_the_time_limit(tmp_path):
    mine = copy_of(STARTER, tmp_path)
    (mine / "train.py").write_text("import time\ntime.sleep(60)\n", encoding="utf-8")
    steps = capstone.run_project(mine, seconds=1.5)
    assert len(steps) == 1 and not steps[0].ok
    assert "time limit" in steps[0].message and steps[0].seconds < 30


def test_a_project_without_training_or_scoring_code_is_named(tmp_path):
    mine = tmp_path / "empty"
    mine.mkdir()
    assert "neither train.py nor train.ipynb" in capstone.run_project(mine)[0].message
    (mine / "train.py").write_text("print('trained')\n", encoding="utf-8")
    steps = capstone.run_project(mine)
    assert steps[0].ok and steps[1].message == "the project has no score.py"


@pytest.mark.parametrize("output, problem", [
    ("", "score.py wrote no output file"),
    ("application_id,risk\n1,0.5\n", "no 'score' column"),
    ("application_id,score\n1,0.5\n", "1 rows for 200 applications"),
    ("score\n" + "0.5\n" * 199 + "1.5\n", "outside [0, 1]"),
    ("score\n" + "0.5\n" * 199 + "nan\n", "missing or outside"),
])
def test_bad_scores_are_named(tmp_path, output, problem):
    out = tmp_path / "scores.csv"
    if output:
        out.write_text(output, encoding="utf-8")
    assert problem in capstone._check_scores(out, 200)
    out.write_text("score\n" + "0.25\n" * 200, encoding="utf-8")
    assert capstone._check_scores(out, 200) == ""


# --- bad input ---------------------------------------------------------------------------------

def test_a_folder_that_is_not_a_copy_of_the_starter_is_refused(tmp_path, capsys):
    code, out, err = run_cli(capsys, "capstone", "check", str(tmp_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "not a copy of the capstone starter" in err
    assert "cp -r capstone/starter" in err
    code, _, err = run_cli(capsys, "capstone", "check", str(tmp_path / "nowhere"))
    assert code == 2 and "no such folder" in err


def test_a_bad_time_limit_is_refused(tmp_path, capsys):
    code, _, err = run_cli(capsys, "capstone", "check", str(STARTER), "--time-limit", "0")
    assert code == 2 and "--time-limit" in err


def test_missing_and_invalid_deliverables_are_named(tmp_path, capsys):
    mine = copy_of(STARTER, tmp_path)
    code, out, _ = run_cli(capsys, "capstone", "check", str(mine), "--no-run")
    assert code == 1
    for name in ("scorecard/before.json", "scorecard/after.json",
                 "scorecard/self-assessment.json", "MODEL_CARD.md", "REPORT.md"):
        assert f"  - deliverable {name}: missing" in out
    (mine / "scorecard").mkdir()
    (mine / "scorecard" / "before.json").write_text("{not json", encoding="utf-8")
    (mine / "model-card.md").write_text("# card\n", encoding="utf-8")
    found = {d["name"]: d for d in capstone.deliverables(mine)}
    assert found["scorecard/before.json"]["problem"].startswith("not a valid assessment")
    assert found["model-card.md"]["found"] and not found["model-card.md"]["problem"]


def test_file_names_are_escaped_in_the_report(tmp_path, capsys):
    mine = copy_of(STARTER, tmp_path)
    (mine / "model_card\x1b[31mred.md").write_text("# card\n", encoding="utf-8")
    (mine / "tests").mkdir()
    (mine / "tests" / "test_\x1b]0;owned\x07.py").write_text("def test_x():\n    pass\n",
                                                           encoding="utf-8")
    code, out, _ = run_cli(capsys, "capstone", "check", str(mine), "--no-run")
    assert "\x1b" not in out and "\x07" not in out
    assert "model_card\\x1b[31mred.md" in out
    data = json.loads(run_cli(capsys, "capstone", "check", str(mine), "--no-run",
                              "--format", "json")[1])
    assert data["deliverables"][3]["name"] == "model_card\x1b[31mred.md"  # JSON keeps it exact


def test_the_learners_copy_is_compared_cell_by_cell(tmp_path, capsys):
    """A copy with tests and CI raises some cells; a copy of the reference that lost its tests
    lowers what the tests carried. Status and evidence come from the scanner."""
    base = pinned_file("expected/starter-baseline.json")
    after = pinned_file("reference/scorecard/after.json")
    cells = capstone.compare_cells(after, base)  # the reference as baseline: all lowered or same
    assert {c.status for c in cells} == {"lowered", "unchanged"}
    assert sum(c.status == "lowered" for c in cells) == len(pinned_file(
        "expected/reference-raised.json"))
    mine = copy_of(REFERENCE, tmp_path)
    shutil.rmtree(mine / "tests")
    report = capstone.check(mine, baseline=after, run=False)
    lowered = {c.cell for c in report.cells if c.status == "lowered"}
    assert "testing.code" in lowered
    assert any(p.startswith("lowered: Testing, Code") for p in report.problems)


# --- order ---------------------------------------------------------------------------------------

def cells_at(levels: dict) -> list:
    floor = RUBRIC.level_values[0]
    base = {cid: floor for cid in RUBRIC.cells}
    return capstone.compare_cells({"answers": base}, {"answers": {**base, **levels}})


def test_monitoring_raised_before_its_foundations_is_an_order_violation():
    up = RUBRIC.level_values[1]
    out = capstone.order_violations(cells_at({"monitoring.code": up}))
    assert any("Monitoring, Code raised" in v and "Reproducibility" in v for v in out)
    assert any("Deployment" in v for v in out)
    # Reproducibility depends on versioning and testing: monitoring is checked against those too.
    assert any("Versioning" in v for v in out)


def test_raising_the_foundations_first_is_in_order():
    up = RUBRIC.level_values[1]
    levels = {c: up for c in ("versioning.model", "testing.code", "reproducibility.code",
                              "deployment.code", "monitoring.code")}
    assert capstone.order_violations(cells_at(levels)) == []
    del levels["testing.code"]
    out = capstone.order_violations(cells_at(levels))
    assert out and all("Testing" in v for v in out if "raised" in v)


def test_the_scorecard_flag_is_reported_too():
    top = RUBRIC.level_values[-1]
    out = capstone.order_violations(cells_at({f"monitoring.{a}": top
                                              for a in ("code", "model", "data")}))
    assert any(v.startswith("the scorecard flags it:") and "ahead of its foundation" in v
               for v in out)


def test_safe_escapes_control_characters_only():
    assert capstone.safe("plain name.md") == "plain name.md"
    assert capstone.safe("a\x1b[2Jb\tc\u202ed") == "a\\x1b[2Jb\\x09c\\u202ed"
    assert capstone.safe("naïve € 名前") == "naïve € 名前"


# --- the brief ---------------------------------------------------------------------------------

def test_the_brief_states_what_the_checker_checks():
    text = " ".join((ROOT / "book" / "capstone.md").read_text(encoding="utf-8").split())
    words = {5: "five", 3: "three"}
    assert (f"at least {words[capstone.GOAL_CELLS]} cells across at least "
            f"{words[capstone.GOAL_PRINCIPLES]} principles") in text
    for name, _, _ in capstone.DELIVERABLES:
        assert f"`{name}`" in text
    assert "at least eight cells" in text  # pinned above: the reference raises >= 8
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "- file: book/evidence\n      - file: book/capstone\n" in toc
    guide = (ROOT / "book" / "instructor-guide.md").read_text(encoding="utf-8")
    assert "## The capstone project" in guide and "capstone/reference" in guide


def test_pin_writes_the_pinned_files_where_it_is_told(tmp_path, capsys):
    root = tmp_path / "capstone"
    for part in ("starter", "reference"):
        shutil.copytree(CAPSTONE / part, root / part,
                        ignore=shutil.ignore_patterns("__pycache__", "scorecard"))
    written = capstone.pin(root)
    assert sorted(p.relative_to(root).as_posix() for p in written) == sorted(
        capstone.pinned(CAPSTONE))
    for p in written:
        assert p.read_bytes() == (CAPSTONE / p.relative_to(root)).read_bytes()
    assert capstone.main(["unpin"]) == 2 and "usage" in capsys.readouterr().err


def test_a_cell_without_an_answer_counts_below_every_level():
    floor = RUBRIC.level_values[0]
    base = {cid: floor for cid in RUBRIC.cells}
    gone = dict(base)
    del gone["testing.code"]
    cells = {c.cell: c for c in capstone.compare_cells({"answers": base}, {"answers": gone})}
    assert cells["testing.code"].status == "lowered"
    back = capstone.compare_cells({"answers": gone}, {"answers": base})
    assert [c.cell for c in back if c.status == "raised"] == ["testing.code"]
    assert capstone.order_violations(back) == []
