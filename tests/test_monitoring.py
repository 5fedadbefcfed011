"""Monitoring in production: every claim of notebooks/monitoring.ipynb, asserted on the package."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlecourse.example.features import add_features
from mlecourse.principles import monitoring as mon

START = pd.Timestamp("2025-04-01")  # INCIDENT_START as a month: the incidents begin here
INCIDENT = mon.Incident("2025-02-11 08:00", hours=36, slowdown=4.0, error_rate=0.08)
INPUT_RULES = [mon.AlertRule("seasonal_psi_max", 0.2), mon.AlertRule("out_of_range_rate", 0.0),
               mon.AlertRule("null_rate", 0.0), mon.AlertRule("unknown_category_rate", 0.0),
               mon.AlertRule("schema_errors", 0.0)]


@pytest.fixture(scope="module")
def replays():
    return {name: mon.example_replay(name, incidents=[INCIDENT], holdout_share=0.05)
            for name in mon.REPLAY_SCENARIOS}


@pytest.fixture(scope="module")
def metrics(replays):
    return {name: mon.monthly_metrics(r.records, r.reference) for name, r in replays.items()}


@pytest.fixture(scope="module")
def downturn_log(replays, tmp_path_factory):
    r = replays["downturn"]
    with mon.PredictionLog(tmp_path_factory.mktemp("log") / "log.db") as log:
        log.log_predictions(r.records)
        log.log_labels(mon.label_feed(r.records, r.data, label_delay=3))
        yield log


# ----------------------------------------------------------------------------- the log


def test_replay_is_seeded_labelled_simulated_and_has_unique_ids(replays):
    r = replays["seasonal only"]
    again = mon.example_replay("seasonal only", incidents=[INCIDENT], holdout_share=0.05)
    pd.testing.assert_frame_equal(r.records, again.records)
    assert r.records["request_id"].is_unique
    assert set(r.records["source"]) == {mon.REPLAY_SOURCE}
    assert "simulated" in mon.REPLAY_SOURCE
    assert r.records["ts"].min() >= pd.Timestamp("2025-01-01")
    assert r.records["ts"].max() < pd.Timestamp("2026-01-01")
    failed = r.records["status"] == "error"
    assert failed.any() and r.records.loc[failed, ["score", "decision"]].isna().all().all()
    assert r.records.loc[~failed, "score"].between(0, 1).all()
    assert 0.03 < r.records["holdout"].mean() < 0.07


def test_replay_serves_each_version_from_its_first_month(replays):
    r = replays["seasonal only"]
    records = mon.replay_serving(r.data, [(pd.Timestamp("2025-01-01"), "1", r.model),
                                          (pd.Timestamp("2025-07-01"), "2", r.model)])
    month = records["ts"].dt.to_period("M").dt.to_timestamp()
    assert (records.loc[month < "2025-07-01", "model_version"] == "1").all()
    assert (records.loc[month >= "2025-07-01", "model_version"] == "2").all()


def test_log_round_trip_and_sql(replays, tmp_path):
    records = replays["seasonal only"].records.head(500)
    with mon.PredictionLog(tmp_path / "log.db") as log:
        assert log.log_predictions(records) == 500
        back = log.predictions()
        assert len(log) == 500
        for column in ["request_id", "score", "decision", "income", "term_months"]:
            pd.testing.assert_series_equal(back[column], records[column].reset_index(drop=True),
                                           check_dtype=False)
        assert (back["ts"] == records["ts"].dt.floor("s").reset_index(drop=True)).all()
        by_decision = log.query("SELECT decision, COUNT(*) AS n FROM predictions "
                                "WHERE status = 'ok' GROUP BY decision ORDER BY decision")
        assert by_decision["n"].sum() == (records["status"] == "ok").sum()


def test_log_refuses_bad_batches_and_keeps_what_it_had(replays, tmp_path):
    records = replays["seasonal only"].records.head(50)
    with mon.PredictionLog(tmp_path / "log.db") as log:
        log.log_predictions(records.head(10))
        with pytest.raises(ValueError, match="logged twice"):
            log.log_predictions(records.head(20))  # the first 10 are already there
        assert len(log) == 10  # the batch was refused as a whole
        with pytest.raises(ValueError, match="'latency_ms'"):
            log.log_predictions(records.drop(columns="latency_ms"))
        with pytest.raises(ValueError, match="not a timestamp"):
            log.log_predictions(records.tail(1).assign(ts="yesterday"))
        with pytest.raises(ValueError, match="decision"):
            log.log_predictions(records.tail(1).assign(decision="maybe", status="ok"))
        with pytest.raises(TypeError, match="list of dicts"):
            log.log_predictions("not records")
        assert len(log) == 10
        one = records.iloc[20].to_dict()
        assert log.log_predictions(one) == 1  # a service can log a single request
        # The serving app's decisions: 'approve', or 'review' (referred to a person).
        from mlecourse.principles.serving import decisions

        referred = records.iloc[[21]].assign(decision=decisions([0.99])[0], status="ok")
        assert log.log_predictions(referred) == 1


# ------------------------------------------------------------------------ delayed labels


def test_labels_only_for_approved_and_three_months_late(replays):
    r = replays["downturn"]
    labels = mon.label_feed(r.records, r.data, label_delay=3)
    approved = r.records[r.records["decision"] == "approve"]
    assert set(labels["request_id"]) == set(approved["request_id"])
    ts = approved.set_index("request_id")["ts"].loc[labels["request_id"]]
    arrived = pd.to_datetime(labels["arrived"]).to_numpy()
    assert (ts.dt.to_period("M") + 3 == pd.Series(arrived).dt.to_period("M").to_numpy()).all()
    with pytest.raises(ValueError, match="label_delay"):
        mon.label_feed(r.records, r.data, label_delay=-1)


def test_what_the_team_knows_grows_with_the_date(downturn_log):
    early = mon.realised_performance(downturn_log, "2025-06-01")
    late = mon.realised_performance(downturn_log, "2026-01-01")
    # on 1 June 2025 only the labels of January and February (and part of March) are in
    assert early.loc[early["month"] >= "2025-04-01", "labelled"].sum() == 0
    assert early.loc[early["month"] == "2025-01-01", "labelled"].iloc[0] > 0
    assert late["labelled"].sum() > early["labelled"].sum()
    assert (late.loc[late["month"] >= "2025-10-01", "labelled"] == 0).all()
    assert (late["labelled"] <= late["approved"]).all()
    # before any prediction, and before any label: empty answers, not errors
    assert mon.realised_performance(downturn_log, "2024-06-01").empty
    first_month = mon.realised_performance(downturn_log, "2025-01-20")
    assert first_month["labelled"].sum() == 0 and first_month["auc"].isna().all()


def test_selective_labels_bias_the_realised_metrics(downturn_log, replays):
    views = mon.label_views(downturn_log, replays["downturn"].data, "2026-04-01")
    # approved loans default less often than applicants as a whole, in every quarter
    assert (views["default_rate_approved"] < views["default_rate_all"]).all()
    # the random holdout is unbiased: on average much closer to the truth
    gap_holdout = (views["default_rate_holdout"] - views["default_rate_all"]).abs().mean()
    gap_approved = (views["default_rate_approved"] - views["default_rate_all"]).abs().mean()
    assert gap_holdout < gap_approved / 2
    # ranking quality looks worse on the approved (a narrower range of scores)
    assert (views["auc_approved"] < views["auc_all"]).all()


# ---------------------------------------------------------------------- data quality


def test_quality_break_fires_the_day_it_starts_and_not_before(replays):
    daily = mon.quality_by_period(replays["quality break"].records, "day")
    rule = [mon.AlertRule("out_of_range_rate", 0.0)]
    assert mon.first_alert(daily, rule) == START
    assert not mon.evaluate_rules(daily[daily.index < START], rule).any().any()


def test_seasonality_fires_no_quality_alert(replays):
    daily = mon.quality_by_period(replays["seasonal only"].records, "day")
    fired = mon.evaluate_rules(daily, INPUT_RULES[1:])
    assert not fired.any().any()
    assert daily.attrs["schema_problems"] == []


def test_quality_checks_catch_nulls_unknown_categories_and_schema_changes(replays):
    batch = replays["seasonal only"].records.head(300).copy()
    batch.loc[batch.index[:30], "loan_amount"] = np.nan
    batch.loc[batch.index[30:45], "region"] = "north-east"
    q = mon.quality_by_period(batch, "month").iloc[0]
    assert q["null_rate"] == pytest.approx(30 / 300)
    assert q["unknown_category_rate"] == pytest.approx(15 / 300)
    assert q["out_of_range_rate"] == 0 and q["schema_errors"] == 0
    changed = replays["seasonal only"].records.head(300).drop(columns="region")
    changed["term_months"] = changed["term_months"].astype(str)
    report = mon.quality_by_period(changed, "month")
    assert report["schema_errors"].iloc[0] == 2
    problems = " ".join(report.attrs["schema_problems"])
    assert "region" in problems and "term_months" in problems


# ------------------------------------------------------------------- input monitors


def test_naive_psi_alerts_on_the_season_seasonal_reference_does_not(metrics):
    seasonal = metrics["seasonal only"]
    naive = mon.evaluate_rules(seasonal, [mon.AlertRule("psi_max", 0.2)]).iloc[:, 0]
    # midwinter and midsummer, the extremes of the loan-amount season
    assert {"January", "July"} <= {f"{m:%B}" for m in naive.index[naive]}
    assert seasonal["seasonal_psi_max"].max() < 0.1
    assert not mon.evaluate_rules(seasonal, INPUT_RULES).any().any()


def test_input_rules_catch_the_incidents_in_time(metrics):
    assert mon.first_alert(metrics["quality break"], INPUT_RULES) == START
    downturn = mon.first_alert(metrics["downturn"], INPUT_RULES)
    assert START < downturn <= START + pd.DateOffset(months=3)


def test_concept_drift_is_invisible_to_input_monitors_but_not_to_labels(metrics, replays,
                                                                        tmp_path):
    concept = metrics["concept drift"]
    assert mon.first_alert(concept, INPUT_RULES) is None
    assert concept["seasonal_psi_max"].max() < 0.1
    r = replays["concept drift"]
    with mon.PredictionLog(tmp_path / "log.db") as log:
        log.log_predictions(r.records)
        log.log_labels(mon.label_feed(r.records, r.data, label_delay=3))
        realised = mon.realised_performance(log, "2026-01-01").dropna(subset=["auc"])
        # ... but only once the labels are in: nothing of April is known before July
        june = mon.realised_performance(log, "2025-06-30 23:59:59")
    before = realised.loc[realised["month"] < START, "auc"].mean()
    after = realised.loc[realised["month"] >= START, "auc"].mean()
    assert after < before - 0.05
    assert june.loc[june["month"] >= START, "labelled"].sum() == 0


# ------------------------------------------------------------------------ the service


def test_windowed_service_alerts_are_quieter_and_still_catch_the_incident(replays):
    daily = mon.service_by_period(replays["seasonal only"].records, "day")
    incident = (daily.index >= "2025-02-11") & (daily.index <= "2025-02-19")
    for metric, window in (("error_rate", 7), ("latency_p95_ms", 3)):
        single = mon.evaluate_rules(daily, [mon.AlertRule(metric, mon.SLO[metric])]).iloc[:, 0]
        windowed = mon.evaluate_rules(
            daily, [mon.AlertRule(metric, mon.SLO[metric], window=window)]).iloc[:, 0]
        assert windowed[incident].any(), metric
        false_single, false_windowed = single[~incident].sum(), windowed[~incident].sum()
        assert false_single >= 10 and false_windowed <= false_single / 5, metric
    assert daily.loc["2025-02-11", "latency_p95_ms"] > 2 * mon.SLO["latency_p95_ms"]


# --------------------------------------------------------------------- alert rules


def test_alert_rules_validate_their_fields_and_the_table():
    table = pd.DataFrame({"x": [0.0, 1.0, 2.0, 0.0]})
    with pytest.raises(ValueError, match="unknown metric 'y'.*known metrics: x"):
        mon.evaluate_rules(table, [mon.AlertRule("y", 1.0)])
    with pytest.raises(ValueError, match="empty window"):
        mon.AlertRule("x", 1.0, window=0)
    with pytest.raises(ValueError, match="direction"):
        mon.AlertRule("x", 1.0, direction="up")
    with pytest.raises(ValueError, match="threshold"):
        mon.AlertRule("x", float("nan"))
    with pytest.raises(ValueError, match="empty"):
        mon.evaluate_rules(table.iloc[:0], [mon.AlertRule("x", 1.0)])
    fired = mon.evaluate_rules(table, [mon.AlertRule("x", 0.5), mon.AlertRule("x", 0.5, window=2),
                                       mon.AlertRule("x", 0.5, direction="below")])
    assert fired.iloc[:, 0].tolist() == [False, True, True, False]
    assert fired.iloc[:, 1].tolist() == [False, False, True, True]  # means 0.5, 1.5, 1.0
    assert fired.iloc[:, 2].tolist() == [True, False, False, True]
    assert list(fired.columns) == ["x > 0.5", "x over 2 periods > 0.5", "x < 0.5"]


def test_monitors_need_the_columns_they_read(replays):
    records = replays["seasonal only"].records
    with pytest.raises(ValueError, match="'latency_ms'"):
        mon.service_by_period(records.drop(columns="latency_ms"))
    with pytest.raises(ValueError, match="'score'"):
        mon.monthly_metrics(records.drop(columns="score"), replays["seasonal only"].reference)
    with pytest.raises(ValueError, match="period"):
        mon.quality_by_period(records, "week")


# -------------------------------------------------------------- training-serving skew


def test_skew_check_catches_the_unit_mismatch_and_not_a_correct_copy(replays):
    r = replays["seasonal only"]
    training = add_features(r.reference)
    served = r.records.copy()
    served["debt_to_income"] = mon.serving_debt_to_income(served)
    bad = mon.skew_report(training, served, ["debt_to_income"]).iloc[0]
    assert bad["skew"] and bad["psi"] > 1.0 and bad["ratio"] < 0.2
    same_rows = add_features(served.drop(columns="debt_to_income"))["debt_to_income"]
    assert np.allclose(served["debt_to_income"] * 12, same_rows)
    good = mon.skew_report(training, add_features(r.records), ["debt_to_income"]).iloc[0]
    assert not good["skew"]
    with pytest.raises(ValueError, match="columns is empty"):
        mon.skew_report(training, served, [])


# --------------------------------------------------------------------- Prometheus


def test_prometheus_export_matches_the_log_and_leaves_the_global_registry(replays, metrics):
    from prometheus_client import REGISTRY
    from prometheus_client.parser import text_string_to_metric_families

    r = replays["downturn"]
    before = {m.name for m in REGISTRY.collect()}
    text = mon.prometheus_text(r.records, metrics["downturn"].iloc[-1])
    assert text == mon.prometheus_text(r.records, metrics["downturn"].iloc[-1])
    assert {m.name for m in REGISTRY.collect()} == before
    families = {f.name: f for f in text_string_to_metric_families(text)}
    total = sum(s.value for s in families["loan_requests"].samples if s.name.endswith("_total"))
    assert total == len(r.records)
    errors = sum(s.value for s in families["loan_request_errors"].samples)
    assert errors == (r.records["status"] == "error").sum()
    psi = {s.labels["feature"]: s.value for s in families["loan_input_psi"].samples}
    assert psi["income"] == pytest.approx(metrics["downturn"]["psi_income"].iloc[-1])
    assert "created" not in text  # nothing read from the clock


def test_dashboard_has_four_panels(replays, metrics, downturn_log):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = replays["downturn"]
    fig = mon.plot_dashboard(metrics["downturn"], mon.quality_by_period(r.records),
                             mon.service_by_period(r.records),
                             mon.realised_performance(downturn_log, "2025-10-01"), "2025-09-01")
    try:
        assert len(fig.axes) == 5  # four panels, one with a second y axis
        assert "September 2025" in fig._suptitle.get_text()
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ the exercise


def _solution_fires(values, rule):
    out = []
    for i in range(len(values)):
        if i + 1 < rule.window:
            out.append(False)
            continue
        average = sum(values[i + 1 - rule.window:i + 1]) / rule.window
        out.append(average > rule.threshold if rule.direction == "above"
                   else average < rule.threshold)
    return out


def _windowless(values, rule):
    return [v > rule.threshold if rule.direction == "above" else v < rule.threshold
            for v in values]


def _half_window(values, rule):
    out = []
    for i in range(len(values)):
        w = values[max(0, i + 1 - rule.window):i + 1]
        avg = sum(w) / len(w)
        out.append(avg > rule.threshold if rule.direction == "above" else avg < rule.threshold)
    return out


def _not_strict(values, rule):
    return [(v >= rule.threshold if rule.direction == "above" else v <= rule.threshold)
            if ok else False
            for v, ok in _averages(values, rule)]


def _always_above(values, rule):
    return [v > rule.threshold if ok else False for v, ok in _averages(values, rule)]


def _averages(values, rule):
    for i in range(len(values)):
        full = i + 1 >= rule.window
        yield (sum(values[i + 1 - rule.window:i + 1]) / rule.window if full else 0.0), full


def _package(values, rule):
    return mon.evaluate_rules(pd.DataFrame({rule.metric: values}), [rule]).iloc[:, 0].tolist()


class _Liar:
    def __eq__(self, other):
        return True


@pytest.fixture(scope="module")
def exercise():
    from mlecourse.exercises import monitoring as ex

    return ex


def test_exercise_cases_have_no_near_ties(exercise):
    for values, rule in exercise._cases():
        means = pd.Series(values).rolling(rule.window).mean().dropna()
        close = (means - rule.threshold).abs() < 1e-9
        assert (means[close] == rule.threshold).all()  # ties only where they are exact


def test_fires_check_accepts_the_solution(exercise, capsys):
    exercise.check_fires(_solution_fires)
    assert "Well done" in capsys.readouterr().out


@pytest.mark.parametrize("answer, message", [
    (_windowless, "judged every period on its own"),
    (_half_window, "not yet full"),
    (_not_strict, "strictly beyond"),
    (_always_above, "direction is reversed"),
    (_package, "package's own"),
    (lambda values, rule: _Liar(), "should be a list"),
    (lambda values, rule: [True] * (len(values) - 1), "one True or False per period"),
    (lambda values, rule: [float("nan")] * len(values), "True or False"),
])
def test_fires_check_explains_wrong_answers(exercise, answer, message):
    with pytest.raises(AssertionError, match=message):
        exercise.check_fires(answer)


def test_rules_check_accepts_the_solution_for_two_seeds(exercise, capsys):
    def solution():
        return [AlertRule("out_of_range_rate", 0.0), AlertRule("seasonal_psi_max", 0.2)]

    exercise.check_rules(solution)
    exercise.check_rules(solution, seed=1)
    assert capsys.readouterr().out.count("Well done") == 2


AlertRule = mon.AlertRule


@pytest.mark.parametrize("rules, message", [
    ([AlertRule("psi_max", 0.2), AlertRule("out_of_range_rate", 0.0)],
     "False alarm.*seasonal-only.*same calendar month"),
    ([AlertRule("out_of_range_rate", 0.0)], "Missed.*downturn"),
    ([AlertRule("out_of_range_rate", 0.0), AlertRule("seasonal_psi_max", 0.2, window=6)],
     "Too late.*downturn"),
    ([AlertRule("seasonal_psi_income", 0.3, window=3)], "Too late.*quality break"),
    ([AlertRule("seasonal_psi_max", 0.01)], "False alarm.*ordinary"),
    ([AlertRule("error_rate", 0.0005)], "False alarm.*service metrics"),
    ([], "no rules"),
    (["psi_max > 0.2"], "not an AlertRule"),
    ([AlertRule("psi", 0.2)], "metric 'psi'.*Known metrics"),
    ([AlertRule("seasonal_psi_max", 0.2)] * 2, "both called"),
])
def test_rules_check_explains_false_alarms_and_misses(exercise, rules, message):
    with pytest.raises(AssertionError, match=message):
        exercise.check_rules(lambda: list(rules))


def test_exercise_metrics_are_fresh_copies(exercise):
    first = exercise.exercise_metrics()
    first["seasonal only"].iloc[:, :] = 99.0
    assert exercise.exercise_metrics()["seasonal only"]["psi_max"].max() < 1.0


def test_the_numbers_the_notebook_states(replays):
    # "a quarter of the incomes", "from April 2025", "p95 below 220 ms, at most 1 % errors"
    assert mon.REPLAY_SCENARIOS["quality break"].quality_break.severity == 0.25
    assert mon.INCIDENT_START == 15  # month index 15 of a simulation starting in January 2024
    assert mon.SLO == {"latency_p95_ms": 220.0, "error_rate": 0.01}
    r = replays["seasonal only"]
    assert r.reference["month"].max() == pd.Timestamp("2024-12-01")


def test_month_scrubber_offers_every_month(replays, metrics, downturn_log):
    import matplotlib

    matplotlib.use("Agg")
    from mlecourse.principles.monitoring_widgets import scrubber

    r = replays["downturn"]
    widget = scrubber(downturn_log, metrics["downturn"], mon.quality_by_period(r.records),
                      mon.service_by_period(r.records))
    slider = widget.children[0]
    assert len(slider.options) == 12
    slider.value = slider.options[-1][1]  # redraws without error
