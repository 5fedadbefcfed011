"""Tests of the data checks, model checks and quality gate (mlecourse.principles.checks), including the
claims of notebooks/testing.ipynb (same seeds and splits), and of the exercise's checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlecourse.principles.checks import (
    DataReport,
    GateDecision,
    baseline_comparison,
    behavioural_tests,
    directional_test,
    fairness_report,
    invariance_test,
    loan_schema,
    minimum_functionality_test,
    model_metrics,
    quality_gate,
    slice_metrics,
    validate_batch,
)
from mlecourse.example.model import train
from mlecourse.example.simulate import FEATURES, SENSITIVE, TARGET, Scenario, simulate_loans

# The notebook's setup: 9 months x 4,000 rows, seed 0; old = months 0-2, batch = 3-5,
# holdout = 6-8; the broken batch has 30 % of incomes in euros from month 3 on.
SEED = 0
ROWS = 4_000


def _split(history):
    month = history["month"]
    return (
        history[month < "2024-04-01"],
        history[(month >= "2024-04-01") & (month < "2024-07-01")],
        history[month >= "2024-07-01"],
    )


@pytest.fixture(scope="module")
def story():
    history = simulate_loans(months=9, rows_per_month=ROWS, seed=SEED)
    old, batch, holdout = _split(history)
    broken_history = simulate_loans(months=9, rows_per_month=ROWS, seed=SEED,
                                    scenario=Scenario(quality_break=(3, 0.3)))
    _, broken_batch, _ = _split(broken_history)
    return {
        "old": old, "batch": batch, "holdout": holdout, "broken_batch": broken_batch,
        "champion": train(old, seed=SEED),
        "candidate": train(pd.concat([old, batch]), seed=SEED),
        "broken_candidate": train(pd.concat([old, broken_batch]), seed=SEED),
    }


def _reads_age_model(df):
    """A model that (wrongly) takes the sensitive age band as an input."""
    pre = ColumnTransformer([
        ("num", StandardScaler(), ["income", "loan_amount", "term_months", "credit_history_years"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["employment_type", "region", "age_band"]),
    ])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))]).fit(df, df[TARGET])


def _ignores_income_model(df):
    cols = ["loan_amount", "term_months", "credit_history_years"]
    pre = ColumnTransformer([
        ("num", StandardScaler(), cols),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["employment_type", "region"]),
    ])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))]).fit(df, df[TARGET])


# --- data checks ------------------------------------------------------------------------------


def test_schema_passes_clean_batch(story):
    report = validate_batch(story["batch"])
    assert isinstance(report, DataReport)
    assert report.ok and report.failures.empty
    assert "passes every check" in str(report)


@pytest.mark.parametrize("drift", ["covariate_shift", "concept_drift", "label_shift",
                                   "seasonality"])
def test_schema_does_not_flag_legitimate_drift(drift):
    # Drift is for monitoring to see, not a data-quality failure.
    df = simulate_loans(months=24, rows_per_month=1_000, seed=1,
                        scenario=Scenario(**{drift: (0, 1.0)}))
    report = validate_batch(df)
    assert report.ok, str(report)


def test_schema_reports_nulls_in_the_right_column(story):
    df = story["batch"].copy()
    df.loc[df.index[::25], "loan_amount"] = np.nan
    report = validate_batch(df)
    assert not report.ok
    assert report.failed_columns == ["loan_amount"]
    row = report.failures.iloc[0]
    assert row["check"] == "not_nullable"
    assert row["failures"] == len(df.index[::25]) == 480


def test_schema_reports_unit_change(story):
    df = story["broken_batch"]
    report = validate_batch(df)
    assert not report.ok
    assert report.failed_columns == ["income"]
    checks = report.failures.set_index("check")
    range_row = checks.loc["in_range(0.0, 1000.0)"]
    assert range_row["failures"] == int((df["income"] > 1000).sum()) == 3555
    mean_row = report.failures[report.failures["check"].str.startswith("mean income")].iloc[0]
    assert "observed mean" in mean_row["examples"]


def test_schema_reports_unknown_category(story):
    df = story["batch"].copy()
    df.loc[df.index[::100], "region"] = "north-east"
    report = validate_batch(df)
    assert report.failed_columns == ["region"]
    row = report.failures.iloc[0]
    assert row["check"].startswith("isin")
    assert row["failures"] == 120
    assert row["examples"] == "north-east"
    assert "region" in str(report) and "north-east" in str(report)


def test_schema_reports_missing_column_and_wrong_type(story):
    df = story["batch"].drop(columns="region")
    df["term_months"] = df["term_months"].astype(float)
    report = validate_batch(df)
    failures = report.failures.set_index("column")
    assert failures.loc["region", "check"] == "column is missing"
    assert "dtype" in failures.loc["term_months", "check"]


def test_schema_statistical_check_on_default_rate(story):
    df = story["batch"].copy()
    df[TARGET] = 1
    report = validate_batch(df)
    assert report.failed_columns == [TARGET]
    assert "default rate" in report.failures.iloc[0]["check"]
    assert report.failures.iloc[0]["examples"] == "observed mean 1.000"


def test_validate_batch_bad_input():
    with pytest.raises(TypeError, match="DataFrame"):
        validate_batch([1, 2, 3])
    with pytest.raises(TypeError, match="schema"):
        validate_batch(pd.DataFrame(), schema="not a schema")
    with pytest.raises(ValueError, match="mean_income"):
        loan_schema(mean_income=(80, 20))


def test_validate_batch_accepts_a_custom_schema(story):
    schema = pa.DataFrameSchema({"income": pa.Column(float, pa.Check.le(10.0))})
    report = validate_batch(story["batch"], schema)
    assert report.failed_columns == ["income"]


# --- model metrics ----------------------------------------------------------------------------


def test_baseline_comparison_notebook_claims(story):
    train_df = pd.concat([story["old"], story["batch"]])
    table = baseline_comparison(story["candidate"], train_df, story["holdout"])
    assert list(table.columns) == ["baseline", "model"]
    # The baseline flags nobody: accuracy = share of non-defaults, F1 = 0, AUC = 0.5 ...
    assert table.loc["accuracy", "baseline"] == pytest.approx(1 - story["holdout"][TARGET].mean())
    assert table.loc["f1", "baseline"] == 0
    assert table.loc["roc_auc", "baseline"] == pytest.approx(0.5)
    # ... and beats the model on accuracy, while the model wins on everything that matters.
    assert table.loc["accuracy", "baseline"] > table.loc["accuracy", "model"]
    assert table.loc["roc_auc", "model"] > 0.75
    assert table.loc["f1", "model"] > 0.3
    assert table.loc["brier", "model"] < table.loc["brier", "baseline"]


def test_model_metrics_bad_input(story):
    with pytest.raises(ValueError, match="threshold"):
        model_metrics(story["candidate"], story["holdout"], threshold=1.5)
    with pytest.raises(ValueError, match="defaulted"):
        model_metrics(story["candidate"], story["holdout"].drop(columns=TARGET))
    with pytest.raises(TypeError, match="predict_proba"):
        model_metrics(object(), story["holdout"])


def test_slice_metrics(story):
    table = slice_metrics(story["candidate"], story["holdout"], by="employment_type")
    assert set(table.index) == {"employed", "self-employed", "contract", "unemployed", "overall"}
    assert table.loc["overall", "n"] == len(story["holdout"])
    assert table.drop(index="overall")["n"].sum() == len(story["holdout"])
    # The notebook's reading: unemployed applicants are flagged far more often than employed.
    assert table.loc["unemployed", "flagged"] > 5 * table.loc["employed", "flagged"]
    assert table.drop(index="overall")["roc_auc"].idxmin() == "unemployed"
    with pytest.raises(ValueError, match="nonexistent"):
        slice_metrics(story["candidate"], story["holdout"], by="nonexistent")


# --- behavioural tests ------------------------------------------------------------------------


def test_good_model_passes_all_behavioural_tests(story):
    results = behavioural_tests(story["candidate"], story["holdout"])
    assert [r.name for r in results] == [
        "invariance to application_id", "invariance to age_band",
        "higher income -> lower risk", "minimum functionality",
    ]
    assert all(r.passed for r in results), [str(r) for r in results]


def test_invariance_catches_a_model_that_reads_age(story):
    model = _reads_age_model(pd.concat([story["old"], story["batch"]]))
    result = invariance_test(model, story["holdout"], "age_band")
    assert not result.passed
    assert "must ignore" in result.detail
    assert invariance_test(model, story["holdout"], "application_id").passed


def test_directional_catches_a_model_that_ignores_income(story):
    model = _ignores_income_model(story["old"])
    result = directional_test(model, story["holdout"], "income")
    assert not result.passed
    assert "100.0% of rows not moving" in result.detail


def test_directional_catches_a_model_trained_on_the_unit_change(story):
    result = directional_test(story["broken_candidate"], story["holdout"], "income")
    assert not result.passed


def test_directional_increase_direction_and_bad_input(story):
    # Larger loans (other things equal) raise the risk in the good model.
    assert directional_test(story["candidate"], story["holdout"], "loan_amount",
                            expect="increase").passed
    with pytest.raises(ValueError, match="expect"):
        directional_test(story["candidate"], story["holdout"], expect="sideways")
    with pytest.raises(ValueError, match="region"):
        directional_test(story["candidate"], story["holdout"], "region")
    with pytest.raises(ValueError, match="salary"):
        directional_test(story["candidate"], story["holdout"], "salary")


def test_minimum_functionality_catches_a_constant_model(story):
    constant = Pipeline([("clf", DummyClassifier(strategy="prior"))])
    constant.fit(story["old"][FEATURES], story["old"][TARGET])
    result = minimum_functionality_test(constant)
    assert not result.passed
    assert minimum_functionality_test(story["candidate"]).passed


# --- fairness ---------------------------------------------------------------------------------


def test_fairness_report_notebook_claims(story):
    report = fairness_report(story["candidate"], story["holdout"])
    g = report.by_group
    assert list(g.index) == ["18-25", "26-40", "41-60", "61+"]
    assert report.sensitive == SENSITIVE
    # demographic parity difference = largest gap in flag rates between groups
    assert report.demographic_parity_difference == pytest.approx(
        g["flagged"].max() - g["flagged"].min()
    )
    assert g["flagged"].idxmax() == "18-25"
    assert g["default_rate"].idxmax() == "18-25"
    assert 0.1 < report.demographic_parity_difference < 0.4


# --- the gate ---------------------------------------------------------------------------------


def test_gate_accepts_good_candidate(story):
    decision = quality_gate(story["candidate"], story["champion"], story["batch"],
                            story["holdout"])
    assert isinstance(decision, GateDecision)
    assert decision.accepted, decision.reasons
    assert decision.reasons == []
    assert len(decision.details) == 10 and decision.details["passed"].all()
    assert set(decision.details["area"]) == {"data", "model", "behaviour", "fairness"}
    assert str(decision).startswith("ACCEPTED")


def test_gate_rejects_candidate_trained_on_broken_batch(story):
    decision = quality_gate(story["broken_candidate"], story["champion"],
                            story["broken_batch"], story["holdout"])
    assert not decision.accepted
    failed = decision.details.loc[~decision.details["passed"], "check"].tolist()
    assert failed == ["batch passes the schema", "ROC AUC not worse than champion",
                      "higher income -> lower risk"]
    assert len(decision.reasons) == 3
    assert "batch fails the data checks" in decision.reasons[0]
    assert "income" in decision.reasons[0]
    assert "champion" in decision.reasons[1]
    assert str(decision).startswith("REJECTED: 3 of 10")


def test_gate_rejects_model_reading_age_even_on_clean_data(story):
    model = _reads_age_model(pd.concat([story["old"], story["batch"]]))
    decision = quality_gate(model, story["champion"], story["batch"], story["holdout"])
    assert not decision.accepted
    assert any("invariance to age_band" in r for r in decision.reasons)


def test_gate_without_champion_skips_comparisons(story):
    decision = quality_gate(story["candidate"], None, story["batch"], story["holdout"])
    assert decision.accepted
    assert "ROC AUC not worse than champion" not in set(decision.details["check"])
    assert "fairness" not in set(decision.details["area"])


def test_gate_bad_input_names_the_problem(story):
    with pytest.raises(TypeError, match="candidate"):
        quality_gate(object(), story["champion"], story["batch"], story["holdout"])
    with pytest.raises(TypeError, match="champion"):
        quality_gate(story["candidate"], "v1", story["batch"], story["holdout"])
    with pytest.raises(ValueError, match="age_band"):
        quality_gate(story["candidate"], None, story["batch"],
                     story["holdout"].drop(columns="age_band"))
    with pytest.raises(TypeError, match="batch"):
        quality_gate(story["candidate"], None, "batch.csv", story["holdout"])
    with pytest.raises(ValueError, match="holdout is empty"):
        quality_gate(story["candidate"], None, story["batch"], story["holdout"].iloc[:0])


# --- the exercise's checks --------------------------------------------------------------------


def _good_schema():
    return pa.DataFrameSchema({
        "income": pa.Column(float, pa.Check.in_range(0, 1000), nullable=False),
        "loan_amount": pa.Column(float, pa.Check.ge(0), nullable=False),
        "region": pa.Column(str, pa.Check.isin(["north", "south", "east", "west"])),
    })


def _loose_schema():
    return pa.DataFrameSchema({"income": pa.Column(float, pa.Check.ge(0))})


def _strict_schema():
    return pa.DataFrameSchema({"income": pa.Column(float, pa.Check.le(100))})


def _good_test(model, batch):
    before = model.predict_proba(batch)[:, 1]
    richer = batch.assign(income=batch["income"] * 1.5)
    after = model.predict_proba(richer)[:, 1]
    assert (after < before).mean() > 0.95
    assert (after - before).mean() < -0.005


def _weak_test(model, batch):  # "not higher" passes on a model that ignores income
    before = model.predict_proba(batch)[:, 1]
    after = model.predict_proba(batch.assign(income=batch["income"] * 1.5))[:, 1]
    assert (after <= before).all()


def _as_learner_code(source: str, name: str):
    """Compile like a notebook cell: pytest does not rewrite these asserts (no message)."""
    namespace: dict = {}
    exec(compile(source, "<notebook cell>", "exec"), namespace)
    return namespace[name]


_backwards_test = _as_learner_code('''
def backwards(model, batch):
    before = model.predict_proba(batch)[:, 1]
    after = model.predict_proba(batch.assign(income=batch["income"] * 1.5))[:, 1]
    assert (after > before).mean() > 0.5
''', "backwards")


def _income_only_schema():  # the answer the issue found "Well done" for
    return pa.DataFrameSchema({"income": pa.Column(float, pa.Check.in_range(0, 1000))})


def _no_region_schema():
    return pa.DataFrameSchema({
        "income": pa.Column(float, pa.Check.in_range(0, 1000)),
        "loan_amount": pa.Column(float, nullable=False),
    })


def _any_change_test(model, batch):  # "the risk moves" without a direction
    before = model.predict_proba(batch)[:, 1]
    after = model.predict_proba(batch.assign(income=batch["income"] * 1.5))[:, 1]
    assert abs((after - before).mean()) > 0.005, "the risk does not move"


def _package_test(model, batch):
    assert directional_test(model, batch).passed


def _vandal_test(model, batch):
    model.named_steps["clf"].coef_[:] = 0
    _good_test(model, batch)


def _batch_test(model, batch):
    whole = model.predict_proba(batch)[:, 1]
    half = len(batch) // 2
    parts = np.concatenate([model.predict_proba(batch.iloc[:half])[:, 1],
                            model.predict_proba(batch.iloc[half:])[:, 1]])
    assert np.allclose(whole, parts, rtol=0, atol=1e-9), "scores depend on the batch"


def _shuffle_test(model, batch):  # reordering keeps the batch mean: cannot catch the fault
    order = np.random.default_rng(0).permutation(len(batch))
    assert np.allclose(model.predict_proba(batch)[order, 1],
                       model.predict_proba(batch.iloc[order])[:, 1]), "order matters"


_exact_test = _as_learner_code('''
import numpy as np
def exact(model, batch):  # no tolerance: fails on rounding
    whole = model.predict_proba(batch)[:20, 1]
    alone = np.array([model.predict_proba(batch.iloc[[i]])[0, 1] for i in range(20)])
    assert (whole == alone).all()
''', "exact")


def test_exercise_batch_challenge_explains_mistakes(capsys):
    from mlecourse.exercises.testing import check_batch_test

    check_batch_test(_batch_test)
    check_batch_test(_batch_test, variant=2)
    assert capsys.readouterr().out.count("Well done") == 2
    for test, message in [
        (_shuffle_test, "passed on the suspect model.*Shuffling"),
        (_good_test, "passed on"),
        (_exact_test, "failed on the good model.*no message.*tolerance"),
    ]:
        with pytest.raises(AssertionError, match=message):
            check_batch_test(test)


def test_exercise_schema_checks_explain_mistakes(capsys):
    from mlecourse.exercises.testing import check_schema
    from mlecourse.principles.checks import loan_schema

    check_schema(_good_schema)
    check_schema(_good_schema, variant=1)
    assert capsys.readouterr().out.count("Well done") == 2
    for schema, message in [
        (_loose_schema, "accepted the broken batch.*euros"),
        (_strict_schema, "rejects the clean batch"),
        (lambda: {"income": float}, "DataFrameSchema"),
        (_income_only_schema, "accepted a batch with missing loan amounts"),
        (_no_region_schema, "accepted a batch with the region 'north-east'"),
        (loan_schema, "package's own loan_schema"),
    ]:
        with pytest.raises(AssertionError, match=message):
            check_schema(schema)


def test_exercise_behavioural_checks_explain_mistakes():
    from mlecourse.exercises.testing import (
        check_behavioural_test,
        exercise_data,
        reversed_income_model,
    )

    check_behavioural_test(_good_test)
    check_behavioural_test(_good_test, variant=1)
    with pytest.raises(AssertionError, match="passed on the faulty model"):
        check_behavioural_test(_weak_test)
    with pytest.raises(AssertionError, match="failed on the good model.*no message"):
        check_behavioural_test(_backwards_test)
    with pytest.raises(AssertionError, match="raised KeyError"):
        check_behavioural_test(lambda model, batch: model.predict(batch["nope"]))
    with pytest.raises(AssertionError, match="passed on a model whose risk rises with income"):
        check_behavioural_test(_any_change_test)
    with pytest.raises(AssertionError, match="package's own directional_test"):
        check_behavioural_test(_package_test)
    # A learner test that damages the model it is given damages a copy only.
    with pytest.raises(AssertionError, match="failed on the good model"):
        check_behavioural_test(_vandal_test)
    check_behavioural_test(_good_test)
    data = exercise_data()
    assert data.good is not exercise_data().good
    # The material is what the exercise says it is.
    data = exercise_data()
    assert validate_batch(data.clean).ok
    assert validate_batch(data.broken).failed_columns == ["income"]
    assert not directional_test(data.faulty, data.clean).passed
    assert directional_test(data.good, data.clean).passed
