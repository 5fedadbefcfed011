"""The assessment interchange format: create, validate, load/save, compare; ``mlecourse score``."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from mlecourse import cli
from mlecourse.scorecard.rubric import load_rubric
from mlecourse.scorecard.assessment import (
    compare_assessments,
    load_assessment,
    new_assessment,
    parse_assessment,
    save_assessment,
    score_assessment,
    validate_assessment,
)

CREATED = "2026-11-28T10:00:00+00:00"


def _fixture(name: str) -> dict:
    text = resources.files("mlecourse.scorecard").joinpath("fixtures", f"{name}.json").read_text("utf-8")
    return json.loads(text)


def test_new_assessment_has_the_interchange_fields():
    a = new_assessment("mle-maturity", {"testing.data": 1, "versioning.code": 2.0},
                       notes={"testing.data": "checked by hand"}, created=CREATED)
    assert a["format"] == "mlecourse-assessment" and a["format_version"] == 1
    assert a["rubric"] == {"id": "mle-maturity", "version": load_rubric("mle-maturity").version}
    assert list(a["answers"].items()) == [("versioning.code", 2), ("testing.data", 1)]  # rubric order
    assert isinstance(a["answers"]["versioning.code"], int)
    assert a["notes"] == {"testing.data": "checked by hand"}
    assert a["created"] == CREATED


def test_created_defaults_to_an_iso_timestamp():
    from datetime import datetime

    a = new_assessment("ml-test-score", {"data.1": 0.5})
    assert datetime.fromisoformat(a["created"]).tzinfo is not None
    assert a["answers"] == {"data.1": 0.5}


def test_save_and_load_round_trip(tmp_path):
    a = new_assessment("mle-maturity", {"monitoring.data": 3}, notes={"monitoring.data": "<b>x</b>"},
                       evidence={"monitoring.data": [{"signal": "prometheus", "path": "app.py",
                                                      "line": 3}]},
                       prefilled=["monitoring.data"], created=CREATED)
    path = save_assessment(a, tmp_path / "a.json")
    assert load_assessment(path) == a
    assert json.loads(path.read_text(encoding="utf-8"))["notes"]["monitoring.data"] == "<b>x</b>"


def test_worked_example_is_a_valid_assessment():
    a = validate_assessment(_fixture("worked-example"))
    assert len(a["answers"]) == 18


@pytest.mark.parametrize("name", ["mle-maturity-full", "ml-test-score-full"])
def test_fixture_assessments_validate(name):
    a = _fixture(name)["assessment"]
    assert validate_assessment(a)["answers"] == a["answers"]


def _bad(mutate):
    a = copy.deepcopy(_fixture("mle-maturity-full")["assessment"])
    mutate(a)
    return a


@pytest.mark.parametrize("mutate, message", [
    (lambda a: a.update(format="something-else"), "field 'format'"),
    (lambda a: a.update(format_version=2), "field 'format_version'"),
    (lambda a: a.update(extra=1), "field 'extra' is not a known field"),
    (lambda a: a["rubric"].update(id="ml-test-score"), "assessment for rubric 'ml-test-score', not 'mle-maturity'"),
    (lambda a: a["rubric"].update(version="2.0.0"), "incompatible"),
    (lambda a: a["answers"].update({"versioning.cod": 1}), "unknown cell 'versioning.cod'"),
    (lambda a: a["answers"].update({"versioning.code": 4}), "out of range"),
    (lambda a: a["answers"].update({"versioning.code": -1}), "out of range"),
    (lambda a: a["answers"].update({"versioning.code": 2.0000000000001}), "out of range"),
    (lambda a: a["answers"].update({"versioning.code": 0.5}), "out of range"),
    (lambda a: a["answers"].update({"versioning.code": "2"}), "must be a number"),
    (lambda a: a["answers"].update({"versioning.code": True}), "must be a number"),
    (lambda a: a.update(answers=[1, 2]), "field 'answers'"),
    (lambda a: a["notes"].update({"versioning.code": 3}), "must be text"),
    (lambda a: a["notes"].update({"nope.code": "x"}), "unknown cell 'nope.code'"),
    (lambda a: a.update(evidence={"versioning.code": [{"path": "x"}]}), '["signal"]\' is missing'),
    (lambda a: a.update(evidence={"versioning.code": [42, None]}),
     "field 'evidence[\"versioning.code\"][0]' must be a JSON object"),
    (lambda a: a.update(prefilled=["nope"]), "field 'prefilled"),
    (lambda a: a.update(prefilled=["nope.code"]), "field 'prefilled' has unknown cell"),
    (lambda a: a["rubric"].update(id="../../../../etc/passwd"), "not a path"),
    (lambda a: a.update(created="2026-02-30"), "not a real date"),
    (lambda a: a.update(created="yesterday"), "field 'created'"),
])
def test_bad_assessments_are_refused_with_a_clear_message(mutate, message):
    with pytest.raises(ValueError) as info:
        validate_assessment(_bad(mutate), "mle-maturity", source="my.json")
    assert message in str(info.value)
    assert str(info.value).startswith("my.json:")


def test_another_rubrics_assessment_is_refused():
    mts = _fixture("ml-test-score-full")["assessment"]
    with pytest.raises(ValueError, match="assessment for rubric 'ml-test-score', not 'mle-maturity'"):
        validate_assessment(mts, "mle-maturity")


def test_ml_test_score_levels_are_checked():
    with pytest.raises(ValueError, match="out of range"):
        new_assessment("ml-test-score", {"data.1": 0.25})
    with pytest.raises(ValueError, match="unknown cell 'data.8'"):
        new_assessment("ml-test-score", {"data.8": 1})


def test_malformed_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "mlecourse-assessment", ', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        load_assessment(path)
    with pytest.raises(ValueError, match="must be a JSON object"):
        parse_assessment("[1, 2]")
    with pytest.raises(ValueError, match="no such assessment file"):
        load_assessment(tmp_path / "missing.json")


def test_score_and_compare_assessments():
    before = new_assessment("mle-maturity", {"versioning.code": 1}, created=CREATED)
    after = new_assessment("mle-maturity", {"versioning.code": 2, "testing.code": 1},
                           created=CREATED)
    assert score_assessment(after).display["overall"] == "1.5"
    comparison = compare_assessments(before, after)
    assert [(c.cell, c.change) for c in comparison.changed] == [("versioning.code", "up"),
                                                                ("testing.code", "added")]
    with pytest.raises(ValueError, match="assessment for rubric"):
        compare_assessments(before, _fixture("ml-test-score-full")["assessment"])


# ------------------------------------------------------------------ mlecourse score


def _write_fixture(tmp_path, name):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(_fixture(name)["assessment"]), encoding="utf-8")
    return path


def test_cli_score_text(tmp_path, capsys):
    path = _write_fixture(tmp_path, "mle-maturity-full")
    assert cli.main(["score", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Overall (mean)     1.9" in out and "Weakest principle  1.0  (Reproducibility)" in out
    assert "Monitoring (3.0) is ahead of its foundation Reproducibility (1.0)" in out
    assert out.index("1. Versioning, Data (level 1)") < out.index("2. Testing, Data (level 1)")


def test_cli_score_json(tmp_path, capsys):
    path = _write_fixture(tmp_path, "ml-test-score-full")
    assert cli.main(["score", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = _fixture("ml-test-score-full")["expected"]
    assert data["scores"] == expected["scores"]
    assert data["band"] == expected["band"]
    assert [s["cell"] for s in data["next_steps"]] == expected["next"]


def test_cli_score_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    assert cli.main(["score", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlecourse score:") and "not valid JSON" in err and "\n" not in err
    good = _write_fixture(tmp_path, "mle-maturity-full")
    assert cli.main(["score", str(good), "--rubric", "ml-test-score"]) == 2
    assert "assessment for rubric 'mle-maturity'" in capsys.readouterr().err


# ------------------------------------------------------------------ the shared validation cases
# The same file drives the page's validator in tests/test_scorecard_page.py.

def _cases() -> list[dict]:
    return _fixture("validation-cases")["cases"]


def case_bytes(case: dict) -> bytes:
    """The raw file of a validation case."""
    import base64

    if "text_base64" in case:
        return base64.b64decode(case["text_base64"])
    return json.dumps(case["data"], ensure_ascii=False).encode("utf-8")


def test_the_cases_cover_both_outcomes_and_the_issue_s_examples():
    names = {c["name"] for c in _cases()}
    assert {"evidence-42-null", "level-almost-2", "created-yesterday", "utf16-file"} <= names
    assert sum(c["valid"] for c in _cases()) >= 5 and sum(not c["valid"] for c in _cases()) >= 20


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_python_agrees_with_the_shared_validation_cases(case):
    if case["valid"]:
        assert parse_assessment(case_bytes(case), case.get("rubric"), source="case.json")
        return
    with pytest.raises(ValueError) as info:
        parse_assessment(case_bytes(case), case.get("rubric"), source="case.json")
    message = str(info.value)
    assert message.startswith("case.json: ") and "\n" not in message
    if "field" in case:
        assert f"field '{case['field']}'" in message
    wanted = case.get("message_any", [case.get("message")])
    assert any(m in message for m in wanted), message


def test_the_schema_is_a_valid_draft_2020_12_schema_and_ships_with_the_package():
    from jsonschema import Draft202012Validator

    from mlecourse.scorecard.assessment import assessment_schema

    Draft202012Validator.check_schema(assessment_schema())
    text = (resources.files("mlecourse.scorecard") / "assessment.schema.json").read_text("utf-8")
    assert json.loads(text)["x-max-bytes"] == 2_000_000


def test_importing_the_package_does_not_import_jsonschema():
    import subprocess
    import sys

    code = ("import sys, mlecourse.scorecard.assessment, mlecourse.cli; "
            "print('jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
