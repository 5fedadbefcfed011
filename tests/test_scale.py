"""Tests of mlecourse.principles.scale: the scoring path, the cost arithmetic, partitions on pandas
and on a real Dask LocalCluster (same result; the cluster always closed), and the claims of
notebooks/cost-and-scale.ipynb."""

from __future__ import annotations

import math
import os
import socket
import tempfile
import urllib.error
import urllib.request
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

from mlecourse.example.model import train
from mlecourse.example.simulate import SCENARIOS, Scenario, simulate_loans
from mlecourse.principles import scale
from mlecourse.principles.drift import compare_policies, drift_report

SEED = 0


@pytest.fixture(scope="module")
def history():
    return simulate_loans(months=6, rows_per_month=3_000, seed=SEED)


@pytest.fixture(scope="module")
def model(history):
    return train(history, seed=SEED)


# --------------------------------------------------------------------------- scoring path


def test_batched_scoring_equals_row_by_row(history, model):
    batch = history.sample(150, random_state=1)  # shuffled, with a non-default index
    fast = scale.score_batch(batch, model)
    slow = scale.score_row_by_row(batch, model)
    assert list(fast.columns) == scale.SCORE_COLUMNS
    assert fast["application_id"].tolist() == batch["application_id"].tolist()
    assert fast.dtypes.to_dict() == slow.dtypes.to_dict()
    for column in ("application_id", "month", "refer"):
        assert fast[column].tolist() == slow[column].tolist()
    for column in ("risk", "instalment", "debt_to_income"):
        np.testing.assert_allclose(fast[column], slow[column], rtol=1e-12, atol=0)
    assert fast["refer"].tolist() == (fast["risk"] > scale.DECISION_THRESHOLD).tolist()


def test_scoring_refuses_bad_batches_naming_the_problem(history, model):
    with pytest.raises(ValueError, match="'income'"):
        scale.score_batch(history.drop(columns="income"), model)
    with pytest.raises(TypeError, match="DataFrame"):
        scale.score_batch(history.to_numpy(), model)
    with pytest.raises(ValueError, match="empty batch"):
        scale.seconds_per_row(scale.score_batch, history.iloc[:0], model)
    with pytest.raises(ValueError, match="repeat"):
        scale.seconds_per_row(scale.score_batch, history, model, repeat=0)


def test_profile_shows_one_model_call_per_row(history, model):
    rows = 20
    table = scale.profile_table(scale.score_row_by_row, history.iloc[:rows], model, top=40,
                                sort="cumulative")
    assert list(table.columns) == ["function", "calls", "own_s", "cumulative_s", "share"]
    proba = table[table["function"].str.startswith("predict_proba")]
    assert not proba.empty and (proba["calls"] >= rows).all()
    # The model calls are most of the loop's time: the hot spot is calling the model per row.
    loop = table["cumulative_s"].max()
    assert proba["cumulative_s"].max() > 0.5 * loop
    with pytest.raises(ValueError, match="sort"):
        scale.profile_table(len, [], sort="fast")


# ----------------------------------------------------------------------------------- costs


def test_cost_arithmetic():
    # 1 ms per row: a million rows take 1,000 s = 0.2778 vCPU-hours.
    assert scale.vcpu_hours(1_000_000, 0.001) == pytest.approx(1000 / 3600)
    assert scale.vcpu_hours(1_000_000, 0.001, vcpus=4) == pytest.approx(4000 / 3600)
    assert scale.compute_cost(2.0, 0.05) == pytest.approx(0.10)
    assert scale.cost_per_million(0.001, 0.36) == pytest.approx(0.10)
    assert scale.cost_per_million(0.0, 0.36) == 0.0
    assert scale.monthly_rows(200_000, 30, models=3, environments=2) == 36_000_000
    # The price is a parameter, never a hidden constant: doubling it doubles every cost.
    double = scale.cost_per_million(0.002, 0.10)
    assert double == pytest.approx(2 * scale.cost_per_million(0.002, 0.05))


@pytest.mark.parametrize("bad, error", [(-0.05, ValueError), (math.nan, ValueError),
                                        (math.inf, ValueError), (True, TypeError),
                                        ("0.05", TypeError)])
def test_cost_refuses_bad_prices_naming_them(bad, error):
    with pytest.raises(error, match="price_per_vcpu_hour"):
        scale.cost_per_million(0.001, bad)


def test_cost_table_scales_with_volume_and_method():
    seconds = {"row by row": 0.01, "batched": 0.00001}
    table = scale.cost_table(seconds, rows_per_month=10_000_000, price_per_vcpu_hour=0.05)
    assert table["method"].tolist() == ["row by row", "batched"]
    slow, fast = table.iloc[0], table.iloc[1]
    assert slow["us_per_row"] == pytest.approx(10_000)
    assert slow["vcpu_hours_month"] == pytest.approx(10_000_000 * 0.01 / 3600)
    assert slow["per_month"] == pytest.approx(slow["vcpu_hours_month"] * 0.05)
    assert slow["per_year"] == pytest.approx(12 * slow["per_month"])
    assert slow["per_million"] == pytest.approx(0.01 * 1e6 / 3600 * 0.05)
    assert slow["vcpus_busy"] == pytest.approx(slow["vcpu_hours_month"] / 730.5)
    assert slow["per_month"] / fast["per_month"] == pytest.approx(1000)
    with pytest.raises(ValueError, match="rows"):
        scale.cost_table(seconds, rows_per_month=-1, price_per_vcpu_hour=0.05)
    with pytest.raises(ValueError, match="mapping"):
        scale.cost_table({}, 1, 0.05)
    with pytest.raises(ValueError, match="models"):
        scale.monthly_rows(1, 1, models=-2)


def test_retraining_costs_adds_compute_and_money():
    policies = pd.DataFrame({"policy": ["never", "periodic"], "retrainings": [0, 6],
                             "training_rows": [0, 180_000], "mean_auc": [0.75, 0.78]})
    out = scale.retraining_costs(policies, seconds_per_training_row=1e-5,
                                 price_per_vcpu_hour=0.05, scale=10)
    assert out["compute_s"].tolist() == pytest.approx([0.0, 18.0])
    assert out["cost"].tolist() == pytest.approx([0.0, 18.0 / 3600 * 0.05])
    assert "compute_s" not in policies.columns  # the input is not modified
    with pytest.raises(ValueError, match="training_rows"):
        scale.retraining_costs(policies.drop(columns="training_rows"), 1e-5, 0.05)


# ------------------------------------------------------------------------------- partitions


def test_scenario_in_month_freezes_each_drift_at_its_severity():
    downturn = SCENARIOS["downturn"]  # both drifts from month 12, ramping in over 4 months
    assert scale.scenario_in_month(downturn, 11).active == []
    month13 = scale.scenario_in_month(downturn, 13)
    assert month13.covariate_shift.severity == pytest.approx(0.5)
    assert month13.covariate_shift.start == 0
    assert scale.scenario_in_month(downturn, 20).concept_drift.severity == pytest.approx(1.0)
    assert scale.scenario_in_month(None, 5) == Scenario()


def test_partitions_are_deterministic_distinct_and_generated_from_the_month():
    a = scale.simulate_partition(1, 500, seed=3, scenario=SCENARIOS["downturn"])
    b = scale.simulate_partition(1, 500, seed=3, scenario=SCENARIOS["downturn"])
    c = scale.simulate_partition(2, 500, seed=3, scenario=SCENARIOS["downturn"])
    pd.testing.assert_frame_equal(a, b)
    assert a["month"].unique().tolist() == [pd.Timestamp("2025-02-01")]
    assert not set(a["application_id"]) & set(c["application_id"])
    assert a.index[0] == 500 and c.index[0] == 1000
    assert not np.array_equal(a["income"].to_numpy(), c["income"].to_numpy())
    with pytest.raises(ValueError, match="rows"):
        scale.simulate_partition(0, 0)


def test_psi_from_partition_counts_equals_drift_report(history):
    # A current window with a drift, a category the reference never saw and missing values.
    parts = [scale.simulate_partition(i, 2_000, SEED, SCENARIOS["downturn"]) for i in range(3)]
    parts[1].loc[parts[1].index[:30], "region"] = "islands"
    parts[2].loc[parts[2].index[:40], "income"] = np.nan
    profile = scale.drift_profile(history)
    counts = pd.concat([scale.bin_counts(p, profile) for p in parts], ignore_index=True)
    psi = scale.psi_from_bin_counts(counts, profile)
    expected = drift_report(history, pd.concat(parts)).set_index("feature")["psi"]
    assert psi.index.tolist() == expected.index.tolist()
    np.testing.assert_allclose(psi.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=0)
    assert psi["income"] > 0.1  # the downturn moves incomes: the report is not trivially zero


def test_window_summary_equals_scoring_the_whole_frame(history, model):
    report = scale.window_report(model, history, partitions=3, rows=1_000, seed=SEED,
                                 scenario=SCENARIOS["downturn"])
    frame = pd.concat([scale.simulate_partition(i, 1_000, SEED, SCENARIOS["downturn"])
                       for i in range(3)])
    scored = scale.score_batch(frame, model)
    by_month = scored.groupby("month")
    assert report.rows == 3_000
    assert report.summary["rows"].tolist() == [1_000] * 3
    assert report.summary["referred"].tolist() == by_month["refer"].sum().tolist()
    np.testing.assert_allclose(report.summary["mean_risk"], by_month["risk"].mean(), rtol=1e-12)


# ------------------------------------------------------------------------- a real Dask cluster


def _status(url: str) -> int:
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
        with opener.open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def dask_run(history, model):
    """One LocalCluster for the Dask tests (starting one takes seconds): run the window on it,
    then raise inside the block, and record what was left afterwards."""
    seen = {}
    with pytest.raises(RuntimeError, match="raised inside the block"):
        with scale.dask_client() as client:
            seen["client"], seen["cluster"] = client, client.cluster
            seen["workers"] = len(client.scheduler_info()["workers"])
            seen["threads"] = sorted(client.nthreads().values())
            seen["address"] = client.scheduler.address
            http = client.cluster.scheduler.http_server._sockets.values()
            seen["http"] = [sock.getsockname() for sock in http]
            seen["dashboard"] = _status(f"http://127.0.0.1:{seen['http'][0][1]}/status")
            seen["scratch"] = client.run(lambda dask_worker: dask_worker.local_directory)
            seen["report"] = scale.window_report(model, history, partitions=3, rows=1_500,
                                                 seed=SEED, scenario=SCENARIOS["downturn"],
                                                 client=client)
            raise RuntimeError("raised inside the block")
    return seen


def test_dask_result_equals_the_pandas_result(dask_run, history, model):
    assert dask_run["workers"] == 2 and dask_run["threads"] == [1, 1]
    local = scale.window_report(model, history, partitions=3, rows=1_500, seed=SEED,
                                scenario=SCENARIOS["downturn"])
    remote = dask_run["report"]
    assert remote.rows == local.rows == 4_500
    # Counts and per-partition sums combine in the same order: equal to the last bit.
    pd.testing.assert_frame_equal(remote.summary, local.summary, check_exact=True)
    pd.testing.assert_series_equal(remote.psi, local.psi, check_exact=True)


def test_cluster_is_closed_after_an_exception(dask_run):
    assert dask_run["client"].status == "closed"
    assert dask_run["cluster"].status.name == "closed"
    assert all(not (n.process and n.process.is_alive())
               for n in dask_run["cluster"].workers.values())
    # No dashboard; the scheduler's health-check endpoint listens on a free local port only.
    assert dask_run["dashboard"] == 404
    assert all(host == "127.0.0.1" and port != 8787 for host, port in dask_run["http"])
    for folder in dask_run["scratch"].values():  # scratch space in a temporary folder, removed
        assert folder.startswith(tempfile.gettempdir()) and not os.path.exists(folder)
    url = urlparse(dask_run["address"])
    assert url.hostname == "127.0.0.1"  # local only, no port open to the network
    with socket.socket() as s:  # the scheduler's port is free again
        s.settimeout(2)
        assert s.connect_ex((url.hostname, url.port)) != 0


def test_dask_client_refuses_bad_sizes():
    with pytest.raises(ValueError, match="n_workers"):
        with scale.dask_client(n_workers=0):
            pass  # pragma: no cover


# ------------------------------------------------- claims of notebooks/cost-and-scale.ipynb

NB_ROWS, NB_PARTITIONS, NB_PARTITION_ROWS = 5_000, 4, 250_000  # the notebook's sizes


@pytest.fixture(scope="module")
def notebook_model():
    return train(simulate_loans(months=6, rows_per_month=NB_ROWS, seed=SEED), seed=SEED)


def test_notebook_claim_a_sample_gives_the_same_drift_alarms(notebook_model):
    history = simulate_loans(months=6, rows_per_month=NB_ROWS, seed=SEED)
    window = dict(partitions=NB_PARTITIONS, seed=SEED, scenario=SCENARIOS["downturn"])
    full = scale.window_report(notebook_model, history, rows=NB_PARTITION_ROWS, **window)
    window["seed"] = SEED + 1
    sample = scale.window_report(notebook_model, history, rows=NB_PARTITION_ROWS // 20, **window)
    assert full.rows == 1_000_000 and sample.rows == 50_000
    threshold = 0.2
    assert ((full.psi > threshold) == (sample.psi > threshold)).all()
    assert (full.psi - sample.psi).abs().max() < 0.01
    # The window is in the downturn: risk and referrals rise month after month.
    assert full.summary["mean_risk"].is_monotonic_increasing
    assert full.summary["referred_share"].is_monotonic_increasing


def test_notebook_claim_retraining_compute_is_negligible_for_this_model():
    replay = simulate_loans(months=24, rows_per_month=2_000, seed=SEED,
                            scenario=SCENARIOS["downturn"])
    policies = compare_policies(replay, train_months=6, every=3, label_delay=3, seed=SEED)
    # Even at 100 us per training row (several times what training measures) and at 100x the
    # replay's volume, the costliest policy's compute stays below one euro at EUR 0.05/vCPU-h.
    costs = scale.retraining_costs(policies, 1e-4, 0.05, scale=100)
    assert costs["cost"].max() < 1.0
    assert costs.set_index("policy").loc["never", "cost"] == 0.0
    best = policies.loc[policies["mean_auc"].idxmax(), "policy"]
    assert best != "never"  # retraining buys performance in the downturn


# ------------------------------------------------------- the exercise: find the hot spot

from mlecourse.exercises import scale as ex  # noqa: E402
from mlecourse.exercises.common import CheckFailed  # noqa: E402


@pytest.fixture(scope="module")
def solution():
    """The solution functions exactly as solutions/cost-hot-spot.ipynb defines them."""
    import nbformat

    from conftest import ROOT

    nb = nbformat.read(ROOT / "solutions" / "cost-hot-spot.ipynb", as_version=4)
    namespace: dict = {}
    exec(nb.cells[1].source, namespace)  # the imports cell
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            exec(cell.source, namespace)
    return namespace


def test_exercise_solution_passes_visible_and_hidden_checks(solution, capsys):
    ex.check_fast_scores(solution["fast_scores"])
    ex.check_fast_scores(solution["fast_scores"], ex.drifted_batch(), "the downturn")
    ex.check_fast_bin_counts(solution["fast_bin_counts"])
    assert "times faster" in capsys.readouterr().out


def test_exercise_slow_versions_agree_with_the_solution(solution):
    data = ex.exercise_data()
    pd.testing.assert_frame_equal(solution["fast_scores"](data.batch, data.model),
                                  ex.slow_scores(data.batch, data.model), rtol=1e-9)
    assert ex.slow_bin_counts([0.0, 0.5, 0.49, 2.0, -1.0], [0.0, 0.5]) == [1, 2, 2]


def _vectorised(batch, model, *, median="transform", proba=True, loop_model=False):
    """Variants of a fast answer, each with one mistake."""
    features = batch[ex.FEATURES]
    if loop_model:
        risk = np.array([model.predict_proba(features.iloc[[i]])[0, 1] for i in range(len(batch))])
    elif proba:
        risk = model.predict_proba(features)[:, 1]
    else:
        risk = model.predict(features).astype(float)
    income = batch["income"].to_numpy()
    instalment = ex.monthly_instalment(batch["loan_amount"].to_numpy(), ex.ANNUAL_RATE,
                                       batch["term_months"].to_numpy())
    dti = ex.debt_to_income(instalment, income)
    if median == "transform":
        med = batch.groupby("region")["income"].transform("median").to_numpy()
    else:
        med = np.full(len(batch), batch["income"].median())
    return pd.DataFrame({"application_id": batch["application_id"].to_numpy(), "risk": risk,
                         "debt_to_income": dti, "relative_income": income / med,
                         "decision": np.where((risk > ex.RISK_CUTOFF) | (dti > ex.DTI_CUTOFF),
                                              "refer", "approve")})


def _sorted_by_region(batch, model):
    return _vectorised(batch, model).assign(region=batch["region"].to_numpy()) \
        .sort_values("region").drop(columns="region")


def _with_nan(batch, model):
    out = _vectorised(batch, model)
    out.loc[0, "risk"] = np.nan
    return out


@pytest.mark.parametrize("answer, message", [
    (lambda b, m: _vectorised(b, m, median="global"), "own region"),
    (lambda b, m: _vectorised(b, m, proba=False), "risk differs"),
    (_sorted_by_region, "not in the batch's order"),
    (lambda b, m: _vectorised(b, m, loop_model=True), "times faster"),
    (lambda b, m: _vectorised(b, m).drop(columns="decision"), "columns"),
    (lambda b, m: _vectorised(b, m).to_dict("list"), "DataFrame"),
    (_with_nan, "NaN"),
    (ex.slow_scores, "slow version"),
], ids=["global-median", "predict-not-proba", "reordered", "model-per-row", "missing-column",
        "dict", "nan", "the-slow-one"])
def test_exercise_wrong_scores_fail_with_a_reason(answer, message):
    with pytest.raises(CheckFailed, match=message):
        ex.check_fast_scores(answer)


def _bisect_loop(values, edges):
    import bisect

    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bisect.bisect_right(edges, value)] += 1
    return counts


@pytest.mark.parametrize("answer", [
    lambda v, e: np.bincount(np.digitize(v, e), minlength=len(e) + 1).tolist(),
    lambda v, e: np.histogram(v, bins=[-np.inf, *e, np.inf])[0].tolist(),
], ids=["digitize", "histogram-with-infinite-edges"])
def test_exercise_every_vectorised_binning_reaches_the_goal(answer, capsys):
    """The speed goal is met by any NumPy answer, not only the solution's searchsorted."""
    ex.check_fast_bin_counts(answer)
    assert "times faster" in capsys.readouterr().out


class _AlwaysEqual(list):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("answer, message", [
    (lambda v, e: np.bincount(np.searchsorted(e, v, side="left"), minlength=len(e) + 1).tolist(),
     "closed on the left"),
    (lambda v, e: np.histogram(v, bins=e)[0].tolist(), "len\\(edges\\) - 1"),
    (lambda v, e: (np.bincount(np.searchsorted(e, v, side="right"), minlength=len(e) + 1)
                   / len(v)).tolist(), "whole number"),
    (lambda v, e: [sum(1 for x in v if (i == 0 or x >= e[i - 1]) and (i == len(e) or x < e[i]))
                   for i in range(len(e) + 1)], "times faster"),  # correct, but a Python loop
    (_bisect_loop, "times faster"),  # correct and smarter, but still one Python call per value
    (lambda v, e: _AlwaysEqual([0]), "counts"),
    (ex.slow_bin_counts, "version to replace"),
], ids=["side-left", "histogram", "shares", "still-a-loop", "bisect-loop", "lying-eq",
        "the-slow-one"])
def test_exercise_wrong_bin_counts_fail_with_a_reason(answer, message):
    with pytest.raises(CheckFailed, match=message):
        ex.check_fast_bin_counts(answer)


def test_exercise_check_refuses_the_package_binning():
    from mlecourse.principles import drift

    def uses_package(values, edges):
        index = drift._bin_index(np.asarray(values, float), np.asarray(edges, float))
        return np.bincount(index, minlength=len(edges) + 1).tolist()

    with pytest.raises(CheckFailed, match="package's own"):
        ex.check_fast_bin_counts(uses_package)


def test_exercise_hands_out_fresh_copies():
    first = ex.exercise_data()
    first.batch.loc[:, "income"] = 0.0
    first.model.steps.clear()
    second = ex.exercise_data()
    assert (second.batch["income"] > 0).all() and len(second.model.steps) == 2
