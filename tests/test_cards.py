"""Ways of working: model cards, datasheets, the pull-request review and the CI workflow.

The registry fixture repeats the notebook's story (same data, same two versions), so the claims
the notebook makes are asserted here.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlecourse.example.model import make_model
from mlecourse.example.simulate import FEATURES, simulate_loans
from mlecourse.principles.cards import (
    MODEL_CARD_SECTIONS, card_fields, changed_fields, ci_workflow, data_summary, datasheet_data,
    md_escape, model_card_data, registry_record, render_datasheet, render_model_card,
    save_model_card, workflow_errors,
)
from mlecourse.principles.checks import fairness_report, quality_gate
from mlecourse.principles.review import (
    CATEGORIES, check_findings, defect_effects, example_pull_request, load_script,
    parse_findings,
)
from mlecourse.principles.versioning import (
    TAG_DATA_FINGERPRINT, TAG_DATA_SNAPSHOT, TAG_GIT_COMMIT, TAG_GIT_TAG, fingerprint,
    mlflow_offline, sklearn_pip_requirements,
)

MODEL = "loan-default"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def history():
    return simulate_loans(months=12, rows_per_month=1_000, seed=0)


@pytest.fixture(scope="module")
def evaluation(history):
    return history[history["month"] >= "2024-10-01"]


@pytest.fixture(scope="module")
def story(history, evaluation, tmp_path_factory):
    """The notebook's registry: version 1 (champion, six months) and version 2 (nine months)."""
    with mlflow_offline(tmp_path_factory.mktemp("registry")):
        import mlflow
        from mlflow import MlflowClient

        client = MlflowClient()
        client.create_registered_model(MODEL)
        out = {"client": client}
        for until, C in (("2024-07-01", 1.0), ("2024-10-01", 0.5)):
            data = history[history["month"] < until].reset_index(drop=True)
            model = make_model(seed=0).set_params(clf__C=C).fit(data[FEATURES], data["defaulted"])
            with mlflow.start_run() as run:
                mlflow.log_params({"C": C, "seed": 0, "train_until": until})
                mlflow.set_tags({TAG_GIT_COMMIT: COMMIT, TAG_GIT_TAG: "v1.0",
                                 TAG_DATA_FINGERPRINT: fingerprint(data),
                                 TAG_DATA_SNAPSHOT: f"loans-until-{until}"})
                info = mlflow.sklearn.log_model(model, name="model",
                                                pip_requirements=sklearn_pip_requirements())
            mv = client.create_model_version(MODEL, source=info.model_uri,
                                             run_id=run.info.run_id, model_id=info.model_id)
            out.setdefault("versions", []).append((mv.version, model, data))
        client.set_registered_model_alias(MODEL, "champion", out["versions"][0][0])

        def card(version, champion=None, **kwargs):
            v, model, data = out["versions"][int(version) - 1]
            champ_model = out["versions"][int(champion) - 1][1] if champion else None
            record = registry_record(client, MODEL, version=v)
            return model_card_data(
                record, quality_gate(model, champ_model, data, evaluation),
                fairness_report(model, evaluation), champion=champion,
                training=data_summary(data, "training months", snapshot=record["data_snapshot"]),
                evaluation=data_summary(evaluation, "last quarter"), **kwargs)

        out["card"] = card
        out["card_v1"] = card("1")
        out["card_v2"] = card("2", champion="1")
        yield out


# --- Markdown escaping ------------------------------------------------------------------------

def test_md_escape_keeps_tables_and_html_inert():
    assert md_escape("a|b") == r"a\|b"
    assert md_escape("<script>x</script>") == r"\<script\>x\</script\>"
    assert md_escape("two\nlines") == "two lines"
    assert md_escape("train_until") == r"train\_until"
    assert md_escape(0.25) == "0.25" and md_escape(None) == ""


# --- the registry -----------------------------------------------------------------------------

def test_registry_record_reads_version_lineage_and_parameters(story):
    record = registry_record(story["client"], MODEL, alias="champion")
    assert record["version"] == "1" and record["aliases"] == ["champion"]
    assert record["code_commit"] == COMMIT and record["code_tag"] == "v1.0"
    assert record["parameters"] == {"C": "1.0", "seed": "0", "train_until": "2024-07-01"}
    assert record["data_fingerprint"] == fingerprint(story["versions"][0][2])
    assert registry_record(story["client"], MODEL, version=2)["parameters"]["C"] == "0.5"


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "no-such-model", "alias": "champion"}, "no model named 'no-such-model'"),
    ({"name": MODEL, "alias": "challenger"}, "no alias 'challenger'"),
    ({"name": MODEL, "version": 9}, "no version 9"),
    ({"name": MODEL}, "exactly one of alias= or version="),
    ({"name": MODEL, "alias": "champion", "version": 1}, "exactly one of"),
])
def test_registry_record_names_what_the_registry_lacks(story, kwargs, message):
    with pytest.raises(ValueError, match=message):
        registry_record(story["client"], **kwargs)


# --- the model card ---------------------------------------------------------------------------

def test_card_has_mitchell_sections_in_order_and_the_registry_facts(story):
    text = render_model_card(story["card_v1"])
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Model details", "## Intended use", "## Factors", "## Metrics",
                        "## Evaluation data", "## Training data", "## Ethical considerations",
                        "## Caveats and recommendations"]
    assert len(MODEL_CARD_SECTIONS) == len(headings)
    assert "version 1 (aliases: champion)" in text
    assert f"commit {COMMIT} (tag v1.0)" in text
    assert r"C = 1.0, seed = 0, train\_until = 2024-07-01" in text
    assert "Quality gate: **accepted** (compared with: no champion (first model))" in text
    assert fingerprint(story["versions"][0][2]) in text


def test_card_metrics_are_the_gate_and_fairness_results(story, evaluation):
    v, model, data = story["versions"][0]
    gate = quality_gate(model, None, data, evaluation)
    fair = fairness_report(model, evaluation)
    card = story["card_v1"]
    assert [row["check"] for row in card["metrics"]["checks"]] == list(gate.details["check"])
    assert all(row["passed"] for row in card["metrics"]["checks"]) == gate.accepted
    groups = {row["group"]: row for row in card["metrics"]["fairness"]}
    assert set(groups) == set(fair.by_group.index)
    assert groups["18-25"]["flagged"] == f"{fair.by_group.loc['18-25', 'flagged']:.3f}"
    assert card["metrics"]["demographic_parity_difference"] == \
        f"{fair.demographic_parity_difference:.3f}"
    text = render_model_card(card)
    assert text.count("| behaviour |") == int((gate.details["area"] == "behaviour").sum())


def test_regenerating_from_the_same_inputs_changes_nothing(story):
    again = story["card"]("1")
    assert changed_fields(story["card_v1"], again) == []
    assert render_model_card(again) == render_model_card(story["card_v1"])


def test_retraining_changes_exactly_the_fields_that_changed(story):
    changes = changed_fields(story["card_v1"], story["card_v2"])
    not_metrics = {c for c in changes if not c.startswith("metrics")}
    assert not_metrics == {
        "model_details.aliases", "model_details.parameters", "model_details.run_id",
        "model_details.version", "training_data.fingerprint", "training_data.months",
        "training_data.rows", "training_data.snapshot",
    }
    assert "metrics.champion" in changes
    assert any(c.startswith("metrics.fairness[") for c in changes)  # the new model flags others
    # Version 2 is compared with the champion: the gate ran two more checks.
    assert "metrics.checks[ROC AUC not worse than champion].passed" in changes
    # What stayed the same: code, evaluation data, the people's text.
    fields_v1 = card_fields(story["card_v1"])
    for name in fields_v1:
        if name.split(".")[0].split("[")[0] in ("intended_use", "factors", "evaluation_data",
                                                 "ethical_considerations", "caveats"):
            assert name not in changes
    assert "model_details.code_commit" not in changes


def test_one_changed_input_changes_one_field(story):
    base = story["card_v1"]
    other_use = dict(base["intended_use"], out_of_scope="Anything but manual review.")
    assert changed_fields(base, story["card"]("1", intended_use=other_use)) == \
        ["intended_use.out_of_scope"]
    # Moving the alias in the registry changes the aliases field of both cards, nothing else.
    client = story["client"]
    client.set_registered_model_alias(MODEL, "champion", "2")
    try:
        assert changed_fields(base, story["card"]("1")) == ["model_details.aliases"]
    finally:
        client.set_registered_model_alias(MODEL, "champion", "1")


def test_markdown_diff_touches_only_lines_of_changed_fields(story):
    old, new = story["card_v1"], story["card_v2"]
    changed_values = {md_escape(card_fields(new)[f]) for f in changed_fields(old, new)
                      if f in card_fields(new)}
    lines = [line[1:] for line in difflib.unified_diff(
        render_model_card(old).splitlines(), render_model_card(new).splitlines(),
        lineterm="", n=0) if line.startswith("+") and not line.startswith("+++")]
    assert lines
    for line in lines:
        assert any(value in line for value in changed_values), line


def test_card_refuses_training_data_the_registry_did_not_record(story, evaluation):
    v, model, data = story["versions"][0]
    record = registry_record(story["client"], MODEL, version=v)
    other = story["versions"][1][2]
    with pytest.raises(ValueError, match="training data: fingerprint .* is not the"):
        model_card_data(record, quality_gate(model, None, data, evaluation),
                        fairness_report(model, evaluation),
                        training=data_summary(other, "wrong data"),
                        evaluation=data_summary(evaluation, "last quarter"))


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["intended_use"].pop("out_of_scope"), "'intended_use.out_of_scope'"),
    (lambda c: c["intended_use"].update(primary_uses="  "), "'intended_use.primary_uses'"),
    (lambda c: c.update(caveats=[]), "section 'caveats'"),
    (lambda c: c.update(caveats="one long string"), "'caveats' must be a list"),
    (lambda c: c["caveats"].append(""), r"'caveats\[3\]' is empty"),
    (lambda c: c.pop("factors"), "section 'factors'"),
    (lambda c: c["model_details"].pop("version"), "'model_details.version'"),
])
def test_missing_or_empty_field_is_named(story, edit, message):
    import copy

    card = copy.deepcopy(story["card_v1"])
    edit(card)
    with pytest.raises(ValueError, match=message):
        render_model_card(card)


def test_user_text_cannot_break_the_card(story):
    import copy

    card = copy.deepcopy(story["card_v1"])
    card["intended_use"]["primary_users"] = "credit | officers <b>only</b>\n## Injected"
    text = render_model_card(card)
    assert r"credit \| officers \<b\>only\</b\> \#\# Injected" in text
    assert "\n## Injected" not in text


def test_card_is_saved_beside_the_model(story):
    import mlflow

    client = story["client"]
    record = registry_record(client, MODEL, version=1)
    text = render_model_card(story["card_v1"])
    uri = save_model_card(client, record, text)
    assert uri == f"runs:/{record['run_id']}/model_card.md"
    assert mlflow.artifacts.load_text(uri) == text
    assert client.get_model_version(MODEL, "1").tags["model_card"] == "model_card.md"
    with pytest.raises(ValueError, match="empty"):
        save_model_card(client, record, "  ")


# --- the datasheet ----------------------------------------------------------------------------

def test_datasheet_states_composition_and_known_biases(history):
    data = datasheet_data(history)
    text = render_datasheet(data)
    for heading in ("Motivation", "Composition", "Collection process",
                    "Known biases and limitations", "Uses", "Maintenance"):
        assert f"## {heading}" in text
    assert f"observed default rate {history['defaulted'].mean():.1%}" in text
    assert "Selective labels" in text and "Label delay" in text
    rates = history.groupby("age_band")["defaulted"].mean()
    assert f"{rates.min():.1%} ({rates.idxmin()})" in text
    assert f"{rates.max():.1%} ({rates.idxmax()})" in text
    shares = [float(g["share"].rstrip("%")) for g in data["groups"]]
    assert sum(shares) == pytest.approx(100, abs=0.3)
    assert fingerprint(history) in text


def test_datasheet_names_a_missing_column_or_field(history):
    with pytest.raises(ValueError, match="age_band"):
        datasheet_data(history.drop(columns="age_band"))
    data = datasheet_data(history)
    data["biases"] = []
    with pytest.raises(ValueError, match="'biases'"):
        render_datasheet(data)


# --- the pull request -------------------------------------------------------------------------

def test_pull_request_plants_one_defect_per_category_on_changed_lines():
    pr = example_pull_request()
    assert sorted(d.category for d in pr.defects) == sorted(CATEGORIES)
    changed = set(pr.changed_lines)
    for defect in pr.defects:
        assert set(defect.lines) <= changed, defect
    assert pr.diff.startswith("--- a/train.py\n+++ b/train.py\n")
    lines = pr.after.splitlines()
    (skew,) = [d for d in pr.defects if d.category == "training-serving-skew"]
    assert "np.log1p" in lines[skew.lines[0] - 1]
    assert "np.log1p" not in pr.after[pr.after.index("def prepare"):pr.after.index("def build")]
    # Every changed line without a defect has a note saying why it is fine.
    defect_lines = {line for d in pr.defects for line in d.lines}
    blank = {i for i, text in enumerate(lines, 1) if not text.strip()}
    assert changed - defect_lines - blank == set(pr.notes)


def test_both_versions_run_and_only_the_new_one_is_unseeded(history):
    pr = example_pull_request()
    old, new = load_script(pr.before, "old"), load_script(pr.after, "new")
    data = history[history["month"] < "2024-10-01"]
    _, m1 = old.train_and_evaluate(data)
    _, m2 = old.train_and_evaluate(data)
    assert m1 == m2
    _, n1 = new.train_and_evaluate(data)
    _, n2 = new.train_and_evaluate(data)
    assert n1 != n2  # the same code, data and seed parameter, another result
    # The change reports better numbers than the code it replaces: that is what tempts. Its split
    # draws from NumPy's global generator, so one draw is luck (in 400 draws the gain was below
    # 0.03 in 2.5% of them): fix that generator for five draws and compare their mean.
    state = np.random.get_state()
    try:
        gains = []
        for seed in range(5):
            np.random.seed(seed)
            gains.append(new.train_and_evaluate(data)[1]["roc_auc"] - m1["roc_auc"])
    finally:
        np.random.set_state(state)
    assert min(gains) > 0 and sum(gains) / len(gains) > 0.03, gains


def test_review_of_every_defect_is_complete():
    pr = example_pull_request()
    findings = [(d.lines[0], d.category) for d in pr.defects]
    report = check_findings(findings, pr)
    assert report.complete and sorted(report.found) == sorted(CATEGORIES)
    assert all(e.startswith("found:") for e in report.explanations)
    # Any line of a defect counts, and dicts are accepted too.
    alt = [{"line": d.lines[-1], "category": d.category} for d in pr.defects]
    assert check_findings(alt, pr).complete


def test_review_explains_misses_and_each_kind_of_false_alarm():
    pr = example_pull_request()
    leak = next(d for d in pr.defects if d.category == "temporal-leakage")
    unchanged = next(i for i in range(1, 40) if i not in pr.changed_lines
                     and pr.after.splitlines()[i - 1].strip())
    fine = next(iter(pr.notes))
    report = check_findings([(leak.lines[1], "temporal-leakage"),
                             (leak.lines[1], "unseeded-randomness"),
                             (unchanged, "test-set-tuning"),
                             (fine, "training-serving-skew")], pr)
    assert report.found == ["temporal-leakage"]
    assert sorted(report.missed) == ["test-set-tuning", "training-serving-skew",
                                     "unseeded-randomness"]
    assert len(report.false_alarms) == 3 and not report.complete
    text = str(report)
    assert "but of category temporal-leakage, not unseeded-randomness" in text
    assert f"line {unchanged} is not part of this change" in text
    assert f"line {fine} is fine: {pr.notes[fine]}" in text
    assert text.count("missed:") == 3


@pytest.mark.parametrize("findings, message", [
    ([(12, "leak")], "unknown category 'leak'"),
    ([(999, "temporal-leakage")], "line 999 is outside train.py"),
    ([(True, "temporal-leakage")], "whole number"),
    ([("12", "temporal-leakage")], "whole number"),
    ([(12,)], "a \\(line, category\\) pair"),
    ([{"line": 12}], "exactly the keys"),
])
def test_malformed_findings_are_named(findings, message):
    with pytest.raises(ValueError, match=message):
        parse_findings(findings, example_pull_request())
    with pytest.raises(TypeError, match="list of"):
        parse_findings("12 temporal-leakage", example_pull_request())


@pytest.fixture(scope="module")
def effects(history):
    table = defect_effects(history, cutoff="2024-07-01", fresh_from="2024-10-01")
    return {(row.defect, row.metric.split(" on ")[0].split(" over ")[0]): row
            for row in table.itertuples(index=False)}


def _pair(effects, defect, metric):
    row = effects[(defect, metric)]
    return getattr(row, "_2"), getattr(row, "_3")  # with defect, without defect


def test_leakage_inflates_the_reported_auc(effects):
    with_leak, honest = _pair(effects, "temporal-leakage", "ROC AUC")
    assert with_leak > honest + 0.03


def test_tuning_on_the_test_set_inflates_f1_and_moves_the_review_share(effects):
    tuned, honest = _pair(effects, "test-set-tuning", "F1 score")
    assert tuned > honest
    share_tuned, share_policy = _pair(effects, "test-set-tuning", "share flagged for review")
    assert abs(share_tuned - share_policy) > 0.01


def test_unseeded_split_spreads_the_auc(effects):
    high, low = _pair(effects, "unseeded-randomness", "ROC AUC")
    assert high - low > 0.01


def test_skew_breaks_the_served_model(effects):
    served, offline = _pair(effects, "training-serving-skew", "ROC AUC")
    assert served < offline - 0.05
    served_share, offline_share = _pair(effects, "training-serving-skew",
                                        "share flagged for review")
    assert served_share < 0.01 < offline_share


# --- the CI workflow --------------------------------------------------------------------------

def test_workflow_gates_in_order_and_waits_for_approval():
    workflow = yaml.safe_load(ci_workflow())
    jobs = workflow["jobs"]
    assert list(jobs) == ["lint", "unit-tests", "data-tests", "train", "quality-gate",
                          "model-card", "register"]
    assert jobs["train"]["needs"] == ["unit-tests", "data-tests"]
    assert jobs["quality-gate"]["needs"] == "train" and jobs["model-card"]["needs"] == \
        "quality-gate"
    assert jobs["register"]["environment"] == "model-approval"
    assert "push" in jobs["register"]["if"]
    assert set(workflow["on"]) == {"pull_request", "push"}
    assert "&id" not in ci_workflow()  # no YAML anchors


def test_workflow_passes_the_official_schema():
    assert workflow_errors(ci_workflow()) == []
    assert workflow_errors(ci_workflow(python="3.11", branch="trunk")) == []


@pytest.mark.parametrize("old, new, message", [
    ("runs-on:", "runs_on:", "jobs.lint: 'runs-on' is a required property"),
    ("needs: lint", "needs: 3", "jobs.unit-tests.needs: 3 is not of type 'array'"),
    ("pull_request:", "pull_requests:", "'pull_requests' was unexpected"),
])
def test_workflow_schema_names_the_mistake(old, new, message):
    errors = workflow_errors(ci_workflow().replace(old, new, 1))
    assert any(message in e for e in errors), errors


def test_workflow_errors_handles_unquoted_on_and_bad_yaml():
    assert workflow_errors("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: ls}]\n") == []
    assert workflow_errors("a: [b")[0].startswith("not valid YAML")
    with pytest.raises(TypeError):
        workflow_errors(None)


def test_workflow_validation_skips_only_the_slow_optional_import():
    code = ("import sys\n"
            "from mlecourse.principles.cards import ci_workflow, workflow_errors\n"
            "assert workflow_errors(ci_workflow()) == []\n"
            "assert 'rfc3987_syntax' not in sys.modules\n"
            "import rfc3987_syntax\n")  # a later import of the skipped module still works
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr


def _offline_env():
    env = dict(os.environ)
    # A proxy that refuses every connection: the check must not need the network.
    dead = "http://127.0.0.1:9"
    env.update({"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead,
                "https_proxy": dead, "NO_PROXY": "", "no_proxy": ""})
    return env


def test_check_jsonschema_cli_agrees_offline(tmp_path):
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(ci_workflow())
    bad.write_text(ci_workflow().replace("runs-on:", "runs_on:", 1))
    cli = Path(sys.executable).with_name("check-jsonschema")
    # One run for both files (each start of the CLI costs seconds): it must refuse the bad one
    # only, naming the file and the missing key.
    done = subprocess.run([str(cli), "--builtin-schema", "vendor.github-workflows",
                           str(good), str(bad)], capture_output=True, text=True,
                          env=_offline_env())
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{bad}::" in done.stdout and "runs-on" in done.stdout, done.stdout
    assert f"{good}::" not in done.stdout, done.stdout


# --- the exercise: review this pull request ---------------------------------------------------

from mlecourse.exercises.common import CheckFailed  # noqa: E402
from mlecourse.exercises.ways_of_working import (  # noqa: E402
    check_card_fields, check_review, exercise_pull_request,
)

SOLUTION_FINDINGS = [(29, "temporal-leakage"), (44, "test-set-tuning"),
                     (37, "unseeded-randomness"), (39, "training-serving-skew")]


def test_exercise_pull_request_is_consistent_and_runs(history):
    pr = exercise_pull_request()
    assert sorted(d.category for d in pr.defects) == sorted(CATEGORIES)
    changed = set(pr.changed_lines)
    defect_lines = {line for d in pr.defects for line in d.lines}
    blank = {i for i, text in enumerate(pr.after.splitlines(), 1) if not text.strip()}
    assert defect_lines <= changed
    assert changed - defect_lines - blank == set(pr.notes)
    assert {(d.lines[0], d.category) for d in pr.defects} >= {SOLUTION_FINDINGS[2],
                                                              SOLUTION_FINDINGS[3]}
    assert max(len(line) for line in pr.after.splitlines()) <= 100
    # The reviewed code really runs, and the unseeded sample changes the model run to run.
    new = load_script(pr.after, "retrain_after")
    new.MAX_ROWS = 5_000
    _, first = new.retrain(history, "2024-12-01")
    _, second = new.retrain(history, "2024-12-01")
    assert first["rows"] < len(history) and first["roc_auc"] != second["roc_auc"]


def test_review_check_accepts_the_solution(capsys):
    check_review(lambda: list(SOLUTION_FINDINGS))
    assert "found all 4 defects" in capsys.readouterr().out
    # Other lines of the same defects count too, and dicts are fine.
    check_review(lambda: [{"line": 28, "category": "temporal-leakage"},
                          {"line": 48, "category": "test-set-tuning"},
                          {"line": 37, "category": "unseeded-randomness"},
                          {"line": 39, "category": "training-serving-skew"}])


def _review_fails(findings_fn) -> str:
    with pytest.raises(CheckFailed) as info:
        check_review(findings_fn)
    return str(info.value)


def test_review_check_explains_a_miss_without_giving_the_line():
    message = _review_fails(lambda: SOLUTION_FINDINGS[:3])
    assert "missed: a defect of category training-serving-skew" in message
    assert "inputs()" in message and "39" not in message


@pytest.mark.parametrize("findings, expected", [
    ([], "returned no findings"),
    (SOLUTION_FINDINGS[:3] + [(39, "temporal-leakage")], "does hold a defect, but not of "
                                                          "category temporal-leakage"),
    (SOLUTION_FINDINGS + [(14, "test-set-tuning")], "line 14 is not part of this change"),
    (SOLUTION_FINDINGS + [(47, "test-set-tuning")], "line 47 is fine: computing a metric"),
    (SOLUTION_FINDINGS + [(31, "test-set-tuning")], "line 31 is an empty line"),
    (SOLUTION_FINDINGS + [SOLUTION_FINDINGS[0]], "more than once"),
    ([(29, "leakage")], "unknown category 'leak"),
    ([(float("nan"), "temporal-leakage")], "whole number"),
    ([(29.0, "temporal-leakage")], "whole number"),
    ([(29, "temporal-leakage", "extra")], "(line, category) pair"),
    ("29 temporal-leakage", "should be a list"),
])
def test_review_check_names_each_mistake(findings, expected):
    assert expected in _review_fails(lambda: findings)


def test_review_check_refuses_stubs_lies_and_the_package_answer():
    def stub():
        raise NotImplementedError()

    assert "not written yet" in _review_fails(stub)

    class Liar:
        def __eq__(self, other):
            return True

    assert "should be a list" in _review_fails(lambda: [Liar()])

    def from_package():
        return [(d.lines[0], d.category) for d in exercise_pull_request().defects]

    assert "reads the planted defects" in _review_fails(from_package)


GOOD_CARD = {
    "intended_use": {
        "primary_uses": "Score broker applications nightly for fast-track offers below the "
                        "threshold.",
        "primary_users": "The broker channel's operations team and the credit officers.",
        "out_of_scope": "Automatic rejection, pricing, and any channel the model was not "
                        "checked on.",
    },
    "caveats": [
        "Defaults are known twelve months after a loan starts, so quality stays unknown for a "
        "year.",
        "Broker applicants are younger: watch flag rates per age band every month.",
    ],
}


def _card_fails(fields) -> str:
    with pytest.raises(CheckFailed) as info:
        check_card_fields(lambda: fields)
    return str(info.value)


def test_card_check_accepts_a_good_answer(capsys):
    import copy

    check_card_fields(lambda: copy.deepcopy(GOOD_CARD))
    assert "names the age band and the label delay" in capsys.readouterr().out


def _edited(edit):
    import copy

    fields = copy.deepcopy(GOOD_CARD)
    edit(fields)
    return fields


@pytest.mark.parametrize("edit, expected", [
    (lambda f: f["intended_use"].pop("out_of_scope"), "lacks the field 'out_of_scope'"),
    (lambda f: f["intended_use"].update(primary_users="Officers."), "too short"),
    (lambda f: f.update(caveats=f["caveats"][:1]), "at least two caveats"),
    (lambda f: f.update(caveats=["Broker applicants differ from branch applicants a lot.",
                                 "Defaults are known twelve months after a loan starts."]),
     "does not name the sensitive attribute"),
    (lambda f: f.update(caveats=["Broker applicants are younger: watch each age band.",
                                 "The model never saw broker applications before."]),
     "does not mention the label delay"),
    (lambda f: f.pop("caveats"), "no 'caveats' entry"),
    (lambda f: f.update(notes="x"), "unexpected key"),
    (lambda f: f["caveats"].append(float("nan")), "should be text"),
])
def test_card_check_names_each_mistake(edit, expected):
    assert expected in _card_fails(_edited(edit))


def test_card_check_refuses_the_notebooks_text_and_non_dicts():
    from mlecourse.principles.cards import DEFAULT_CAVEATS, DEFAULT_INTENDED_USE

    copied = {"intended_use": dict(DEFAULT_INTENDED_USE), "caveats": list(DEFAULT_CAVEATS)}
    assert "the notebook's text" in _card_fails(copied)
    assert "should be a dict" in _card_fails([("intended_use", {})])
