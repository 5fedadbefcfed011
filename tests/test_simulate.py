"""Behaviour of the running example (mlecourse.example.simulate) and the shared model."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlecourse.example.model import make_model, train
from mlecourse.example.simulate import (
    AGE_BANDS,
    CATEGORICAL_FEATURES,
    COLUMNS,
    EMPLOYMENT_TYPES,
    FEATURES,
    NUMERIC_FEATURES,
    REGIONS,
    SCENARIOS,
    SENSITIVE,
    TARGET,
    TERMS,
    Drift,
    Scenario,
    simulate_loans,
)

ROWS = 5_000


@pytest.fixture(scope="module")
def base():
    return simulate_loans(months=24, rows_per_month=ROWS, seed=0)


def test_shared_constants():
    assert FEATURES == ["income", "loan_amount", "term_months", "credit_history_years",
                        "employment_type", "region"]
    assert NUMERIC_FEATURES == FEATURES[:4] and CATEGORICAL_FEATURES == FEATURES[4:]
    assert TARGET == "defaulted" and SENSITIVE == "age_band"
    assert SENSITIVE not in FEATURES


def test_columns_types_and_ranges(base):
    assert list(base.columns) == COLUMNS
    assert len(base) == 24 * ROWS
    assert base["month"].dtype == "datetime64[ns]"
    assert (base["month"].dt.day == 1).all()
    assert base["month"].iloc[0] == pd.Timestamp("2024-01-01")
    assert base["month"].iloc[-1] == pd.Timestamp("2025-12-01")
    assert base["month"].value_counts().eq(ROWS).all()
    assert base["application_id"].is_unique
    for col in ["income", "loan_amount", "credit_history_years"]:
        assert base[col].dtype == np.float64 and (base[col] >= 0).all()
    assert set(base["term_months"].unique()) == set(TERMS)
    assert set(base["employment_type"].unique()) == set(EMPLOYMENT_TYPES)
    assert set(base["region"].unique()) == set(REGIONS)
    assert set(base["age_band"].unique()) == set(AGE_BANDS)
    assert set(base["defaulted"].unique()) == {0, 1}
    # Realistic magnitudes: median income tens of thousands, loans below income.
    assert 25 < base["income"].median() < 60
    assert base["loan_amount"].median() < base["income"].median()
    # Older applicants have longer credit histories.
    hist = base.groupby("age_band")["credit_history_years"].mean()
    assert hist["18-25"] < hist["26-40"] < hist["41-60"] < hist["61+"]


def test_start_month_is_configurable():
    df = simulate_loans(months=3, rows_per_month=10, start="2023-11")
    assert list(df["month"].unique()) == list(pd.to_datetime(["2023-11-01", "2023-12-01",
                                                              "2024-01-01"]))


def test_same_seed_same_data_and_months_are_independent(base):
    again = simulate_loans(months=24, rows_per_month=ROWS, seed=0)
    pd.testing.assert_frame_equal(base, again)
    other = simulate_loans(months=24, rows_per_month=ROWS, seed=1)
    assert not base["income"].equals(other["income"])
    # The first months do not depend on how many months are simulated.
    short = simulate_loans(months=6, rows_per_month=ROWS, seed=0)
    pd.testing.assert_frame_equal(short, base.iloc[: 6 * ROWS])


def test_golden_values_pin_the_generator():
    # Integer and 0.1-rounded outputs are stable across platforms; a change to the generating
    # process must be deliberate (update these numbers and say so in the changelog).
    df = simulate_loans(months=2, rows_per_month=1_000, seed=42)
    assert int(df["defaulted"].sum()) == GOLDEN["defaults"]
    assert df["income"].iloc[:3].tolist() == GOLDEN["income"]
    assert df["region"].iloc[:3].tolist() == GOLDEN["region"]


GOLDEN = {"defaults": 175, "income": [60.5, 92.4, 76.8], "region": ["west", "south", "west"]}


def test_stable_without_drift(base):
    rates = base.groupby("month")[TARGET].mean()
    assert 0.07 < rates.mean() < 0.13
    assert rates.max() - rates.min() < 0.04


def _halves(df, col, stat="median"):
    before = df[df["month"] < "2025-01-01"][col]
    after = df[df["month"] >= "2025-01-01"][col]
    return getattr(before, stat)(), getattr(after, stat)()


def test_covariate_shift_moves_inputs_from_its_start(base):
    df = simulate_loans(24, ROWS, seed=0, scenario=SCENARIOS["covariate shift"])
    # Identical before the drift starts (same random numbers).
    pd.testing.assert_frame_equal(df.iloc[: 12 * ROWS], base.iloc[: 12 * ROWS])
    inc_before, inc_after = _halves(df, "income")
    assert inc_after < 0.85 * inc_before
    loan_before, loan_after = _halves(df, "loan_amount")
    assert loan_after > 1.1 * loan_before
    east = df.assign(east=df["region"].eq("east"))
    e_before, e_after = _halves(east, "east", "mean")
    assert e_after > e_before + 0.1
    d_before, d_after = _halves(df, TARGET, "mean")
    assert d_after > d_before + 0.05


def test_concept_drift_changes_outcomes_not_inputs(base):
    df = simulate_loans(24, ROWS, seed=0, scenario=SCENARIOS["concept drift"])
    pd.testing.assert_frame_equal(df[FEATURES + [SENSITIVE]], base[FEATURES + [SENSITIVE]])
    late = df["month"] >= "2025-01-01"
    contract = df["employment_type"].eq("contract")
    assert df.loc[late & contract, TARGET].mean() > base.loc[late & contract, TARGET].mean() + 0.08
    assert not df.loc[~late, TARGET].ne(base.loc[~late, TARGET]).any()


def test_label_shift_changes_base_rate_but_not_profiles():
    df = simulate_loans(24, 20_000, seed=0, scenario=Scenario(label_shift=Drift(12, 1.0)))
    early, late = df[df["month"] < "2025-01-01"], df[df["month"] >= "2025-01-01"]
    p0, p1 = early[TARGET].mean(), late[TARGET].mean()
    odds_ratio = (p1 / (1 - p1)) / (p0 / (1 - p0))
    assert odds_ratio == pytest.approx(np.e, rel=0.1)
    # P(x | y) is unchanged: incomes of defaulters (and of non-defaulters) look alike.
    for y in (0, 1):
        m0 = early.loc[early[TARGET] == y, "income"].median()
        m1 = late.loc[late[TARGET] == y, "income"].median()
        assert m1 == pytest.approx(m0, rel=0.05)


def test_seasonality_follows_the_calendar():
    df = simulate_loans(24, ROWS, seed=0, scenario=SCENARIOS["seasonality"])
    med = df.groupby(df["month"].dt.month)["loan_amount"].median()
    assert med[7] > 1.3 * med[1]
    rate = df.groupby(df["month"].dt.month)[TARGET].mean()
    assert rate[2] > rate[8] + 0.02


def test_quality_break_multiplies_income_by_1000(base):
    df = simulate_loans(24, ROWS, seed=0, scenario=SCENARIOS["quality break"])
    late = (df["month"] >= "2025-01-01").to_numpy()
    np.testing.assert_allclose(df.loc[late, "income"], base.loc[late, "income"] * 1000)
    np.testing.assert_array_equal(df.loc[~late, "income"], base.loc[~late, "income"])
    assert df[TARGET].equals(base[TARGET])  # outcomes use the true income
    half = simulate_loans(24, ROWS, seed=0, scenario=Scenario(quality_break=Drift(12, 0.5)))
    broken = (half["income"] != base["income"]).to_numpy()
    assert not broken[~late].any()
    assert 0.45 < broken[late].mean() < 0.55


def test_drifts_combine_and_ramp():
    drift = Drift(start=12, severity=1.0, ramp=4)
    assert [drift.amount(t) for t in (11, 12, 13, 15, 20)] == [0.0, 0.25, 0.5, 1.0, 1.0]
    both = SCENARIOS["downturn"]
    assert both.active == ["covariate_shift", "concept_drift"]
    assert Scenario(covariate_shift=(3, 0.5)).covariate_shift == Drift(3, 0.5)
    assert both.scaled(2.0).concept_drift == Drift(12, 2.0, 4)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"months": 0}, ValueError, "months"),
        ({"rows_per_month": -1}, ValueError, "rows_per_month"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"seed": -1}, ValueError, "seed"),
        ({"scenario": "drift"}, TypeError, "scenario"),
        ({"start": "not a month"}, ValueError, "start"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, words):
    with pytest.raises(error, match=words):
        simulate_loans(**{"months": 2, "rows_per_month": 10, **kwargs})


def test_bad_drifts_are_named():
    with pytest.raises(ValueError, match="start"):
        Drift(start=-1)
    with pytest.raises(ValueError, match="severity"):
        Drift(severity=float("nan"))
    with pytest.raises(TypeError, match="covariate_shift"):
        Scenario(covariate_shift="strong")


# ----------------------------------------------------------------------------- the model


def _monthly_auc(model, df):
    return df.groupby("month").apply(
        lambda g: roc_auc_score(g[TARGET], model.predict_proba(g[FEATURES])[:, 1]),
        include_groups=False,
    )


@pytest.fixture(scope="module")
def first_half_year_model(base):
    # Every scenario shares the first year, so one model trained on it serves them all.
    return train(base[base["month"] < "2024-07-01"])


def test_model_pipeline_shape():
    model = make_model(seed=3)
    assert [name for name, _ in model.steps] == ["pre", "clf"]
    assert model.named_steps["pre"].transformers[1][1].handle_unknown == "ignore"


def test_model_is_useful_and_stable_without_drift(base, first_half_year_model):
    auc = _monthly_auc(first_half_year_model, base)
    assert auc.iloc[6:12].mean() > 0.75
    assert abs(auc.iloc[12:].mean() - auc.iloc[6:12].mean()) < 0.015


@pytest.mark.parametrize("name, min_drop", [("concept drift", 0.05), ("downturn", 0.03),
                                            ("quality break", 0.1)])
def test_model_decays_under_drift(name, min_drop, base, first_half_year_model):
    df = simulate_loans(24, ROWS, seed=0, scenario=SCENARIOS[name])
    auc = _monthly_auc(first_half_year_model, df)
    assert auc.iloc[6:12].mean() - auc.iloc[-6:].mean() > min_drop


def test_covariate_shift_hurts_calibration_more_than_ranking(base, first_half_year_model):
    df = simulate_loans(24, ROWS, seed=0, scenario=SCENARIOS["covariate shift"])
    late = df[df["month"] >= "2025-01-01"]
    predicted = first_half_year_model.predict_proba(late[FEATURES])[:, 1].mean()
    assert late[TARGET].mean() - predicted > 0.01  # the old model under-predicts defaults
    auc = _monthly_auc(first_half_year_model, df)
    assert auc.iloc[12:].mean() > auc.iloc[6:12].mean() - 0.01


def test_train_rejects_bad_data(base):
    with pytest.raises(ValueError, match="region"):
        train(base.drop(columns="region"))
    with pytest.raises(ValueError, match="empty"):
        train(base.iloc[:0])
    with pytest.raises(ValueError, match="one class"):
        train(base[base[TARGET] == 0].iloc[:100])
