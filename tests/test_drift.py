"""Monitoring primitives (mlecourse.principles.drift), the model-decay notebook's claims, its exercise."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from mlecourse.principles.drift import (
    DEFAULT_EPS,
    POLICIES,
    alarm_months,
    chi2_test,
    compare_policies,
    drift_by_month,
    drift_report,
    evaluate_by_month,
    first_alarm,
    first_performance_alarm,
    known_at,
    ks_test,
    performance_by_month,
    psi,
    psi_categorical,
    psi_numeric,
    pvalues_by_month,
    simulate_policies,
    simulate_policy,
)
from mlecourse.example.model import train
from mlecourse.example.simulate import FEATURES, SCENARIOS, TARGET, simulate_loans

# The notebook's settings (notebooks/model-decay.ipynb).
SEED, ROWS, MONTHS, TRAIN_MONTHS, LABEL_DELAY = 0, 5_000, 24, 6, 3
TRAIN_END = pd.Timestamp("2024-07-01")


# ----------------------------------------------------------------------------------- PSI


def test_psi_categorical_matches_the_formula():
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 25 + ["b"] * 75
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert psi_categorical(ref, cur) == pytest.approx(expected)
    assert psi(pd.Series(ref), pd.Series(cur)) == pytest.approx(expected)  # auto -> categorical


def test_psi_numeric_uses_reference_quantiles_and_open_outer_bins():
    ref = np.arange(100.0)  # quartile edges 24.75, 49.5, 74.25
    cur = np.full(40, 1_000.0)  # far beyond the reference: all in the top bin, not dropped
    eps = DEFAULT_EPS
    expected = 3 * (eps - 0.25) * np.log(eps / 0.25) + (1 - 0.25) * np.log(1 / 0.25)
    assert psi_numeric(ref, cur, bins=4) == pytest.approx(expected)
    # Left-closed bins [e_k, e_(k+1)): 49.5 (an edge) and 60 share the third bin.
    on_edge = np.array([49.5] * 20 + [60.0] * 20)
    assert psi_numeric(ref, on_edge, bins=4) == pytest.approx(expected)


def test_psi_is_zero_for_identical_windows_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=50_000)
    assert psi_numeric(ref, ref) == pytest.approx(0.0, abs=1e-12)
    values = [psi_numeric(ref, rng.normal(loc=shift, size=50_000)) for shift in (0, 0.25, 0.5, 1)]
    assert values[0] < 0.01 < values[1] < values[2] < values[3]
    assert values[3] > 0.5


def test_psi_handles_empty_bins_unseen_categories_and_missing_values():
    assert np.isfinite(psi_categorical(["a"] * 10, ["b"] * 10))
    assert psi_categorical(["a", "b"] * 50, ["a", "b"] * 49 + ["c", "c"]) > 0.01
    ref = np.arange(100.0)
    with_nan = np.concatenate([np.arange(100.0), [np.nan] * 25])
    assert psi_numeric(ref, with_nan, bins=4) > 0.1  # missing values have a bin of their own
    assert np.isfinite(psi_numeric(ref, with_nan, bins=4))


def test_psi_rejects_bad_input_naming_it():
    with pytest.raises(ValueError, match="income.*reference window is empty"):
        psi_numeric([], [1.0], name="income")
    with pytest.raises(ValueError, match="current window is empty"):
        psi_categorical(["a"], [], name="region")
    with pytest.raises(TypeError, match="income"):
        psi_numeric(["a", "b"], [1.0], name="income")
    with pytest.raises(ValueError, match="bins"):
        psi_numeric([1.0, 2.0], [1.0], bins=1)
    with pytest.raises(ValueError, match="kind"):
        psi([1.0], [1.0], kind="ordinal")


def test_tests_wrap_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=500), rng.normal(0.3, size=400)
    res = stats.ks_2samp(a, b)
    assert ks_test(a, b) == pytest.approx((res.statistic, res.pvalue))
    ref, cur = ["a"] * 60 + ["b"] * 40, ["a"] * 40 + ["b"] * 60
    chi = stats.chi2_contingency([[60, 40], [40, 60]], correction=False)
    assert chi2_test(ref, cur) == pytest.approx((chi.statistic, chi.pvalue))
    assert chi2_test(["a"] * 5, ["a"] * 7) == (0.0, 1.0)


# --------------------------------------------------------------------------- reports, tables


@pytest.fixture(scope="module")
def baseline():
    return simulate_loans(MONTHS, ROWS, SEED)


@pytest.fixture(scope="module")
def downturn():
    return simulate_loans(MONTHS, ROWS, SEED, SCENARIOS["downturn"])


def _train_window(df):
    return df[df["month"] < TRAIN_END]


def test_drift_report_flags_the_moved_feature_only():
    df = simulate_loans(2, 20_000, seed=0)
    ref, cur = df[df["month"] == df["month"].min()], df[df["month"] > df["month"].min()].copy()
    cur["income"] = cur["income"] * 1.3
    rep = drift_report(ref, cur)
    assert list(rep.columns) == ["feature", "kind", "psi", "psi_alarm", "test", "statistic",
                                 "p_value", "p_adjusted", "significant"]
    flagged = rep.set_index("feature")
    assert flagged.loc["income", "psi_alarm"] and flagged.loc["income", "significant"]
    assert not flagged.drop(index="income")["psi_alarm"].any()
    assert set(rep["test"]) == {"ks", "chi2"}
    # Bonferroni: p_adjusted = min(1, m * p).
    np.testing.assert_allclose(rep["p_adjusted"], np.minimum(1, rep["p_value"] * len(rep)))
    raw = drift_report(ref, cur, correction=None)
    np.testing.assert_allclose(raw["p_adjusted"], raw["p_value"])


def test_drift_by_month_agrees_with_psi(downturn):
    ref = _train_window(downturn)
    table = drift_by_month(ref, downturn)
    assert list(table.index) == FEATURES
    assert len(table.columns) == MONTHS
    month = table.columns[15]
    cur = downturn[downturn["month"] == month]
    assert table.loc["income", month] == pytest.approx(psi_numeric(ref["income"], cur["income"]))
    assert table.loc["region", month] == pytest.approx(psi_categorical(ref["region"],
                                                                      cur["region"]))


def test_drift_table_unseen_category_in_current():
    ref = pd.DataFrame({"month": ["m1"] * 4, "x": [1.0, 2, 3, 4], "c": ["a", "b", "a", "b"]})
    cur = pd.DataFrame({"month": ["m2"] * 4, "x": [1.0, 2, 3, 4], "c": ["a", "b", "z", "z"]})
    table = drift_by_month(ref, cur, numeric=["x"], categorical=["c"])
    assert table.loc["c", "m2"] > 1 and table.loc["x", "m2"] == pytest.approx(0)


@pytest.mark.parametrize("func", [drift_report, drift_by_month])
def test_bad_windows_raise_clear_errors(func, baseline):
    ref = baseline.iloc[:1000]
    with pytest.raises(ValueError, match="current window is empty"):
        func(ref, baseline.iloc[:0])
    with pytest.raises(ValueError, match="reference window is empty"):
        func(baseline.iloc[:0], ref)
    with pytest.raises(ValueError, match="'region'"):
        func(ref, ref.drop(columns="region"))
    as_text = ref.assign(income=ref["income"].astype(str))
    with pytest.raises(TypeError, match="income.*current"):
        func(ref, as_text)
    with pytest.raises(TypeError, match="income.*reference"):
        func(as_text, ref)
    with pytest.raises(TypeError, match="DataFrame"):
        func(ref["income"], ref)


def test_alarm_helpers():
    table = pd.DataFrame({"m1": [0.01, 0.05], "m2": [0.3, 0.0], "m3": [0.1, 0.25]},
                         index=["a", "b"])
    assert alarm_months(table).tolist() == [False, True, True]
    assert first_alarm(table) == "m2"
    assert first_alarm(table, after="m2") == "m3"
    assert first_alarm(table, threshold=0.5) is None


# ----------------------------------------------------------------------- performance over time


def test_performance_by_month_records_when_labels_arrive():
    months = pd.to_datetime(["2024-01-01"] * 4 + ["2024-02-01"] * 4)
    y = [0, 1, 0, 1, 0, 0, 1, 1]
    s = [0.1, 0.9, 0.2, 0.8, 0.6, 0.4, 0.5, 0.7]
    perf = performance_by_month(months, y, s, label_delay=2)
    assert perf["auc"].tolist() == [1.0, pytest.approx(roc_auc_score([0, 0, 1, 1],
                                                                     [0.6, 0.4, 0.5, 0.7]))]
    assert perf["labels_known_from"].tolist() == list(pd.to_datetime(["2024-03-01",
                                                                      "2024-04-01"]))
    assert len(known_at(perf, "2024-03-01")) == 1
    assert len(known_at(perf, "2024-02-01")) == 0
    with pytest.raises(ValueError, match="length"):
        performance_by_month(months, y[:-1], s)
    with pytest.raises(ValueError, match="label_delay"):
        performance_by_month(months, y, s, label_delay=-1)
    with pytest.raises(ValueError, match="empty"):
        performance_by_month([], [], [])


# ------------------------------------------------------------------ the notebook's claims


@pytest.fixture(scope="module")
def first_model(baseline):
    return train(_train_window(baseline))


def test_claim_drift_alarm_comes_before_labels_show_the_decay(downturn, first_model):
    table = drift_by_month(_train_window(downturn), downturn)
    drift_month = first_alarm(table, after=TRAIN_END)
    assert drift_month is not None and drift_month >= pd.Timestamp("2025-01-01")
    perf = evaluate_by_month(first_model, downturn, label_delay=LABEL_DELAY)
    baseline_auc = perf[perf["month"] < "2025-01-01"]["auc"].iloc[TRAIN_MONTHS:].mean()
    alarm = first_performance_alarm(perf, baseline_auc)
    assert alarm is not None
    assert drift_month < alarm["labels_known_from"]  # input drift warns before labels can


def test_claim_no_false_psi_alarms_without_drift(baseline):
    table = drift_by_month(_train_window(baseline), baseline)
    assert not alarm_months(table).any()


def test_claim_seasonality_raises_false_alarms(first_model):
    season = simulate_loans(MONTHS, ROWS, SEED, SCENARIOS["seasonality"])
    model = train(_train_window(season))
    table = drift_by_month(_train_window(season), season)
    alarms = alarm_months(table)
    assert alarms.sum() >= 4  # every summer
    perf = evaluate_by_month(model, season).set_index("month")
    # ... while the model ranks applicants as well as during training.
    during_alarms = perf.loc[alarms[alarms].index, "auc"].mean()
    assert during_alarms > perf["auc"].iloc[:TRAIN_MONTHS].mean() - 0.01


def test_claim_uncorrected_tests_alarm_more_often_than_bonferroni(baseline):
    pvals = pvalues_by_month(_train_window(baseline), baseline[baseline["month"] >= TRAIN_END])
    raw = (pvals < 0.05).any().sum()
    bonferroni = (pvals * len(pvals) < 0.05).any().sum()
    assert raw > bonferroni  # with no drift at all, chance alone fires uncorrected tests
    assert (drift_by_month(_train_window(baseline), baseline) <= 0.2).all().all()


@pytest.fixture(scope="module")
def downturn_policies(downturn):
    return compare_policies(downturn, label_delay=LABEL_DELAY, seed=SEED).set_index("policy")


def test_claim_retraining_policies_on_the_downturn(downturn_policies):
    p = downturn_policies
    assert p.loc["never", "retrainings"] == 0
    assert p.loc["periodic", "retrainings"] == 6
    # Drift-triggered retraining beats never retraining ...
    assert p.loc["drift", "mean_auc"] > p.loc["never", "mean_auc"] + 0.015
    # ... matches periodic retraining ...
    assert p.loc["drift", "mean_auc"] > p.loc["periodic", "mean_auc"] - 0.005
    # ... at a fraction of its retrainings.
    assert 1 <= p.loc["drift", "retrainings"] <= p.loc["periodic", "retrainings"] / 3


def test_claim_input_drift_is_blind_to_concept_drift():
    df = simulate_loans(MONTHS, ROWS, SEED, SCENARIOS["concept drift"])
    never = simulate_policy(df, "never", label_delay=LABEL_DELAY)
    drift = simulate_policy(df, "drift", label_delay=LABEL_DELAY)
    perf = simulate_policy(df, "performance", label_delay=LABEL_DELAY)
    assert drift.retrainings == 0
    assert perf.retrainings >= 1 and perf.mean_auc > never.mean_auc + 0.015


def test_claim_periodic_retraining_buys_nothing_without_drift(baseline):
    never = simulate_policy(baseline, "never", label_delay=LABEL_DELAY)
    periodic = simulate_policy(baseline, "periodic", label_delay=LABEL_DELAY)
    drift = simulate_policy(baseline, "drift", label_delay=LABEL_DELAY)
    assert periodic.retrainings == 6 and drift.retrainings == 0
    assert abs(periodic.mean_auc - never.mean_auc) < 0.005


def test_policy_bookkeeping(downturn):
    res = simulate_policy(downturn, "periodic", every=4, label_delay=LABEL_DELAY)
    perf = res.performance
    assert len(perf) == MONTHS - TRAIN_MONTHS
    assert perf["retrained"].sum() == res.retrainings == 4
    # The model retrained at the end of a month serves from the next month on.
    versions = perf["model_version"].to_numpy()
    assert versions[0] == 0 and (np.diff(versions) >= 0).all()
    assert (versions[1:] - versions[:-1] == perf["retrained"].to_numpy()[:-1]).all()


def test_policies_share_their_first_model_and_equal_separate_replays(downturn, monkeypatch):
    import mlecourse.example.model as model_module

    separate = {p: simulate_policy(downturn, p, label_delay=LABEL_DELAY) for p in POLICIES}
    fits = []
    real_train = model_module.train
    monkeypatch.setattr(model_module, "train", lambda *a, **k: fits.append(1) or real_train(*a, **k))
    shared = simulate_policies(downturn, [*POLICIES, "never"], label_delay=LABEL_DELAY)
    assert list(shared) == list(POLICIES)
    for policy, result in shared.items():
        pd.testing.assert_frame_equal(result.performance, separate[policy].performance)
        assert (result.retrainings, result.training_rows) == (
            separate[policy].retrainings, separate[policy].training_rows)
    # One first model for all policies, then one fit per retraining.
    assert len(fits) == 1 + sum(r.retrainings for r in separate.values())


@pytest.mark.parametrize(
    "kwargs, match",
    [({"policy": "sometimes"}, "policy"), ({"every": 0}, "every"),
     ({"train_months": 24}, "train_months"), ({"auc_drop": 2}, "auc_drop")],
)
def test_policy_rejects_bad_arguments(kwargs, match, baseline):
    with pytest.raises(ValueError, match=match):
        simulate_policy(baseline, **kwargs)


def test_policy_needs_the_target_column(baseline):
    with pytest.raises(ValueError, match=TARGET):
        simulate_policy(baseline.drop(columns=TARGET))


# ----------------------------------------------------------------- the exercise's check cells


def _good_psi(reference, current, bins=10, eps=1e-4):
    # The learner's own NumPy version (the check refuses the package's psi_numeric).
    reference, current = np.asarray(reference, float), np.asarray(current, float)
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=bins)
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=bins)
    r, c = np.maximum(r / r.sum(), eps), np.maximum(c / c.sum(), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def _histogram_psi(reference, current, bins=10, eps=1e-4):
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1))
    r = np.maximum(np.histogram(reference, edges)[0] / len(reference), eps)
    c = np.maximum(np.histogram(current, edges)[0] / len(current), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def _all_quantiles_psi(reference, current, bins=10, eps=1e-4):
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1))
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=bins + 2)
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=bins + 2)
    r, c = np.maximum(r / r.sum(), eps), np.maximum(c / c.sum(), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def _no_eps_psi(reference, current, bins=10, eps=1e-4):
    edges = np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=bins)
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=bins)
    r, c = r / len(reference), c / len(current)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum((c - r) * np.log(c / r)))


class _Liar(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


@pytest.mark.parametrize(
    "impl, words",
    [
        (_histogram_psi, "outside the reference's range were dropped"),
        (_all_quantiles_psi, "off-by-one"),
        (lambda r, c, bins=10, eps=1e-4: _good_psi(r, c, bins - 1, eps), "9 bins instead of 10"),
        (lambda r, c, bins=10, eps=1e-4: _good_psi(r, c, bins + 1, eps), "11 bins instead of 10"),
        (lambda r, c, bins=10, eps=1e-4: np.array([_good_psi(r, c, bins, eps)]), "one number"),
        (lambda r, c, bins=10, eps=1e-4: "0.1", "number"),
        (_no_eps_psi, "eps"),
        (lambda r, c, bins=10, eps=1e-4: _good_psi(r, c), "bins=5 was asked"),
        (lambda r, c, bins=10, eps=1e-4: _good_psi(r, c, bins), "eps=0.001 was asked"),
        (lambda r, c, bins=10, eps=1e-4: -_good_psi(r, c, bins, eps), "sign is flipped"),
        (lambda r, c, bins=10, eps=1e-4: float("nan"), "nan"),
        (lambda r, c, bins=10, eps=1e-4: psi_numeric(r, c, bins, eps), "package's own"),
        (lambda r, c, bins=10, eps=1e-4: _Liar(0.1), "should be 0"),  # its == lies
    ],
)
def test_exercise_check_psi_explains_mistakes(impl, words):
    from mlecourse.exercises.model_decay import check_psi

    with pytest.raises(AssertionError, match=words):
        check_psi(impl)


def test_exercise_checks_accept_the_right_answers(capsys):
    from mlecourse.exercises.model_decay import (
        check_first_drift_month,
        check_first_drifted_feature,
        check_psi,
        mystery_data,
    )

    check_psi(_good_psi)
    check_first_drift_month(_first_drift_month)
    check_first_drifted_feature(_first_drifted_feature)
    assert capsys.readouterr().out.count("Well done") == 3
    # The data handed out are fresh copies: changing one changes no other.
    df = mystery_data()
    df["income"] = 0.0
    assert mystery_data()["income"].gt(0).all()


def _first_drift_month(df, feature="income", threshold=0.2, reference_months=6):
    months = sorted(df["month"].unique())
    reference = df.loc[df["month"].isin(months[:reference_months]), feature]
    for month in months[reference_months:]:
        if _good_psi(reference, df.loc[df["month"] == month, feature]) > threshold:
            return pd.Timestamp(month)
    return None


def _first_drifted_feature(df, reference_months=6, threshold=0.05, test=None):
    """PSI above ``threshold`` month by month; ``test(ref, cur) -> bool`` replaces PSI."""
    numeric = ["income", "loan_amount", "term_months", "credit_history_years"]
    months = sorted(df["month"].unique())
    reference = df[df["month"].isin(months[:reference_months])]
    for month in months[reference_months:]:
        current = df[df["month"] == month]
        for feature in numeric:
            moved = (test(reference[feature], current[feature]) if test else
                     _good_psi(reference[feature], current[feature]) > threshold)
            if moved:
                return {"feature": feature, "month": pd.Timestamp(month),
                        "ratio": current[feature].median() / reference[feature].median()}
    return None


@pytest.mark.parametrize(
    "answer, words",
    [
        (None, "None"),
        ("2024-10", "Timestamp"),
        (9, "Timestamp"),
        (pd.Timestamp("2024-09-01"), "too early"),
        (pd.Timestamp("2024-11-01"), "too late"),
        (pd.Timestamp("2024-02-01"), "reference window"),
        (pd.Timestamp("2025-02-01"), "not the month"),
        (pd.Timestamp("2024-10-15"), "not a month"),
    ],
)
def test_exercise_check_first_drift_month_explains_mistakes(answer, words):
    from mlecourse.exercises.model_decay import check_first_drift_month

    with pytest.raises(AssertionError, match=words):
        check_first_drift_month(lambda df, **kwargs: answer)


def _a_month_early(df, **kwargs):
    month = _first_drift_month(df, **kwargs)
    return None if month is None else month - pd.DateOffset(months=1)


@pytest.mark.parametrize("function, words", [
    (lambda df, **kwargs: pd.Timestamp("2024-10-01"), "two months later"),   # hard-coded
    (_a_month_early, "one month too early"),
    (lambda df, feature="income", threshold=0.2, reference_months=6:
        _first_drift_month(df, feature, 0.2, reference_months), "return None when there is no"),
    (lambda df, **kwargs: str(_first_drift_month(df, **kwargs)), "Timestamp"),
])
def test_exercise_check_first_drift_month_explains_wrong_functions(function, words):
    from mlecourse.exercises.model_decay import check_first_drift_month

    with pytest.raises(AssertionError, match=words):
        check_first_drift_month(function)


def _relative_change(df, reference_months=6):
    answer = _first_drifted_feature(df, reference_months)
    return {**answer, "ratio": answer["ratio"] - 1}


@pytest.mark.parametrize("function, words", [
    (lambda df, reference_months=6: _first_drifted_feature(df, threshold=0.3),
     "'loan_amount' moved earlier"),                      # a threshold above the first drift
    (lambda df, reference_months=6: {"feature": "loan_amount",
                                     "month": pd.Timestamp("2024-08-01"), "ratio": 1.5},
     "data set 2 says 'loan_amount'"),                    # hard-coded from data set 1
    (_relative_change, "relative change"),
    (lambda df, reference_months=6: tuple(_first_drifted_feature(df).values()), "dict"),
    (lambda df, reference_months=6: {**_first_drifted_feature(df), "ratio": float("inf")},
     "infinite"),
])
def test_exercise_check_first_drifted_feature_explains_mistakes(function, words):
    from mlecourse.exercises.model_decay import check_first_drifted_feature

    with pytest.raises(AssertionError, match=words):
        check_first_drifted_feature(function)


def test_exercise_challenge_accepts_another_defensible_method():
    from scipy.stats import ks_2samp

    from mlecourse.exercises.model_decay import check_first_drifted_feature

    check_first_drifted_feature(lambda df, reference_months=6: _first_drifted_feature(
        df, reference_months, test=lambda r, c: ks_2samp(r, c).pvalue < 1e-6))
