"""Cost and scale: measure the scoring path, put a price on it, and run it over partitions.

Measuring
---------
:func:`score_batch` is the running example's scoring path done right: the feature code of
:mod:`mlecourse.example.features` on whole columns and one ``predict_proba`` call for the batch.
:func:`score_row_by_row` computes exactly the same table the way a first prototype often does,
one row and one model call at a time. :func:`seconds_per_row` times either, and
:func:`profile_table` summarises a ``cProfile`` run so you can see where the time goes.

Costs
-----
Compute is billed by the hour. A job that needs ``s`` seconds of one vCPU per row costs, for
``n`` rows at a price ``p`` per vCPU-hour, ``n * s / 3600 * p``. The functions below do only this
arithmetic and take the price as a parameter: prices differ by provider, region, instance type
and date, so the caller states (and cites, or labels as an assumption) the price it uses.

Partitions, one implementation
------------------------------
A window too large for one process is split into partitions. Everything a partition needs is
computed by the same functions whether the partitions run in a loop in this process or on a
Dask cluster:

* :func:`simulate_partition` generates one month of applications *where it runs* (on a worker,
  nothing is shipped from the client);
* :func:`score_batch` and :func:`summarise_scores` score it and reduce the scores to sums and
  counts per month;
* :func:`bin_counts` counts the partition's values in the PSI bins of a reference profile
  (:func:`drift_profile`, the bins of :mod:`mlecourse.principles.drift`).

Counts and sums add up across partitions, so :func:`combine_summaries` and
:func:`psi_from_bin_counts` turn the partitions' outputs into the window's result; PSI itself is
computed by :mod:`mlecourse.principles.drift`'s own formula. :func:`window_report` runs the whole
thing either in this process (``client=None``) or on a Dask cluster (a ``Client`` from
:func:`dask_client`), and the two give the same result.

The cluster
-----------
:func:`dask_client` is a context manager: without an address it starts a
``dask.distributed.LocalCluster`` of worker *processes* on this machine (no dashboard, logs
silenced, scratch space in a temporary folder); with an address it connects to an existing
scheduler. Either way the client (and a cluster it started) is closed when the block ends, also
when the block raises.
"""

from __future__ import annotations

import contextlib
import cProfile
import logging
import math
import pstats
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Optional

import numpy as np
import pandas as pd

from mlecourse.example.features import DEFAULT_ANNUAL_RATE, add_features
from mlecourse.example.simulate import (
    FEATURES,
    Drift,
    Scenario,
    drift_amount,
    simulate_loans,
)
from mlecourse.principles import drift as _drift

__all__ = [
    "DECISION_THRESHOLD",
    "SCORE_COLUMNS",
    "score_batch",
    "score_row_by_row",
    "seconds_per_row",
    "profile_table",
    "vcpu_hours",
    "compute_cost",
    "cost_per_million",
    "monthly_rows",
    "cost_table",
    "retraining_costs",
    "scenario_in_month",
    "simulate_partition",
    "summarise_scores",
    "combine_summaries",
    "drift_profile",
    "bin_counts",
    "BIN_COUNT_COLUMNS",
    "psi_from_bin_counts",
    "WindowReport",
    "window_report",
    "dask_client",
]

#: Risk above which an application is referred to a person (as in the testing chapter).
DECISION_THRESHOLD = 0.2
#: Columns of :func:`score_batch`'s result, in order.
SCORE_COLUMNS = ["application_id", "month", "risk", "instalment", "debt_to_income", "refer"]
SECONDS_PER_HOUR = 3600.0


# ------------------------------------------------------------------------------ scoring path


def _check_batch(batch, what: str = "batch") -> None:
    if not isinstance(batch, pd.DataFrame):
        raise TypeError(f"the {what} must be a pandas DataFrame, got {type(batch).__name__}")
    missing = [c for c in ["application_id", "month", *FEATURES] if c not in batch.columns]
    if missing:
        raise ValueError(f"the {what} lacks column(s): {', '.join(repr(c) for c in missing)}")


def score_batch(batch: pd.DataFrame, model, threshold: float = DECISION_THRESHOLD,
                annual_rate: float = DEFAULT_ANNUAL_RATE) -> pd.DataFrame:
    """Score a batch of applications in one pass: one model call, feature code on whole columns.

    Returns one row per application (same order) with :data:`SCORE_COLUMNS`: the predicted
    ``risk`` of default, the monthly ``instalment`` and ``debt_to_income`` ratio of
    :func:`mlecourse.example.features.add_features`, and ``refer`` (risk above ``threshold``).
    """
    _check_batch(batch)
    features = add_features(batch[["loan_amount", "term_months", "income"]],
                            annual_rate=annual_rate)
    risk = model.predict_proba(batch[FEATURES])[:, 1]
    return pd.DataFrame({
        "application_id": batch["application_id"].to_numpy(),
        "month": batch["month"].to_numpy(),
        "risk": risk,
        "instalment": features["instalment"].to_numpy(),
        "debt_to_income": features["debt_to_income"].to_numpy(),
        "refer": risk > threshold,
    })


def score_row_by_row(batch: pd.DataFrame, model, threshold: float = DECISION_THRESHOLD,
                     annual_rate: float = DEFAULT_ANNUAL_RATE) -> pd.DataFrame:
    """The same table as :func:`score_batch`, computed the slow way: one row, one model call and
    one scalar feature computation at a time. Kept to be measured, not to be used."""
    from mlecourse.example.features import debt_to_income, monthly_instalment

    _check_batch(batch)
    rows = []
    for i in range(len(batch)):
        row = batch.iloc[[i]]
        risk = float(model.predict_proba(row[FEATURES])[0, 1])
        instalment = monthly_instalment(float(row["loan_amount"].iloc[0]), annual_rate,
                                        float(row["term_months"].iloc[0]))
        dti = debt_to_income(instalment, float(row["income"].iloc[0]))
        rows.append((row["application_id"].iloc[0], row["month"].iloc[0], risk, instalment, dti,
                     risk > threshold))
    out = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    return out.astype({"application_id": batch["application_id"].dtype,
                       "month": batch["month"].dtype, "refer": bool})


def seconds_per_row(function: Callable, batch: pd.DataFrame, *args, repeat: int = 3,
                    **kwargs) -> float:
    """Wall time of ``function(batch, *args, **kwargs)`` divided by the rows of ``batch``.

    The best of ``repeat`` runs: other work on the machine only ever makes a run slower, so the
    minimum is the least disturbed estimate.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    if len(batch) == 0:
        raise ValueError("cannot time a function on an empty batch (0 rows)")
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function(batch, *args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best / len(batch)


def _where(func_key) -> str:
    filename, line, name = func_key
    if filename == "~":  # built-in functions
        return name.strip("<>")
    parts = filename.replace("\\", "/").split("/")
    # Keep the path from the package folder on ('sklearn/utils/validation.py'), not the venv.
    for anchor in ("site-packages", "mlecourse", "lib"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + (anchor == "site-packages"):]
            break
    return f"{name} ({'/'.join(parts[-3:])}:{line})"


def profile_table(function: Callable, *args, top: Optional[int] = 10, sort: str = "own",
                  **kwargs) -> pd.DataFrame:
    """Run ``function(*args, **kwargs)`` under ``cProfile``; the ``top`` functions as a table
    (``top=None``: all of them).

    Columns: ``function`` (name, file and line), ``calls``, ``own_s`` (time in the function
    itself), ``cumulative_s`` (including what it calls) and ``share`` (``own_s`` over the whole
    run). ``sort``: ``"own"`` or ``"cumulative"``.
    """
    if sort not in ("own", "cumulative"):
        raise ValueError(f"sort must be 'own' or 'cumulative', got {sort!r}")
    profiler = cProfile.Profile()
    profiler.runcall(function, *args, **kwargs)
    # {function: (primitive calls, calls, own time, cumulative time, callers)}
    stats = pstats.Stats(profiler).stats
    total = sum(v[2] for v in stats.values()) or 1.0
    table = pd.DataFrame(
        [(_where(k), v[1], v[2], v[3]) for k, v in stats.items()],
        columns=["function", "calls", "own_s", "cumulative_s"],
    )
    table["share"] = table["own_s"] / total
    key = "own_s" if sort == "own" else "cumulative_s"
    table = table.sort_values(key, ascending=False, kind="stable")
    return (table if top is None else table.head(top)).reset_index(drop=True)


# ------------------------------------------------------------------------------------ costs


def _nonnegative(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def vcpu_hours(rows, seconds_per_row, vcpus: float = 1.0) -> float:
    """vCPU-hours to process ``rows`` at ``seconds_per_row`` (wall time) on ``vcpus`` vCPUs."""
    return (_nonnegative(rows, "rows") * _nonnegative(seconds_per_row, "seconds_per_row")
            * _nonnegative(vcpus, "vcpus") / SECONDS_PER_HOUR)


def compute_cost(hours, price_per_vcpu_hour) -> float:
    """Price of ``hours`` vCPU-hours at ``price_per_vcpu_hour`` (same currency as the price)."""
    return _nonnegative(hours, "hours") * _nonnegative(price_per_vcpu_hour, "price_per_vcpu_hour")


def cost_per_million(seconds_per_row, price_per_vcpu_hour) -> float:
    """Cost of one million predictions at ``seconds_per_row`` of one vCPU each."""
    return compute_cost(vcpu_hours(1_000_000, seconds_per_row), price_per_vcpu_hour)


def monthly_rows(rows_per_run, runs_per_month, models: int = 1, environments: int = 1) -> int:
    """Rows scored a month: every run scores ``rows_per_run`` rows, for every model (champion,
    challengers, shadow models) in every environment (development, staging, production...)."""
    for name, value in (("rows_per_run", rows_per_run), ("runs_per_month", runs_per_month),
                        ("models", models), ("environments", environments)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return int(rows_per_run) * int(runs_per_month) * int(models) * int(environments)


def cost_table(seconds: Mapping[str, float], rows_per_month, price_per_vcpu_hour) -> pd.DataFrame:
    """One row per way of scoring: its measured seconds per row, what a million predictions
    cost, and the vCPU-hours and cost of ``rows_per_month`` rows a month and a year.

    Columns: ``method``, ``us_per_row``, ``per_million``, ``vcpu_hours_month``, ``per_month``,
    ``per_year``, ``vcpus_busy`` (vCPUs kept busy around the clock: hours a month / 730).
    """
    if not isinstance(seconds, Mapping) or not seconds:
        raise ValueError("seconds must be a non-empty mapping {method: seconds per row}")
    rows = []
    for method, s in seconds.items():
        hours = vcpu_hours(rows_per_month, s)
        rows.append({
            "method": str(method),
            "us_per_row": _nonnegative(s, f"seconds[{method!r}]") * 1e6,
            "per_million": cost_per_million(s, price_per_vcpu_hour),
            "vcpu_hours_month": hours,
            "per_month": compute_cost(hours, price_per_vcpu_hour),
            "per_year": 12 * compute_cost(hours, price_per_vcpu_hour),
            "vcpus_busy": hours / (365.25 * 24 / 12),
        })
    return pd.DataFrame(rows)


def retraining_costs(policies: pd.DataFrame, seconds_per_training_row, price_per_vcpu_hour,
                     scale: float = 1.0) -> pd.DataFrame:
    """Add the compute and the money of each policy's retrainings to a ``compare_policies`` table.

    ``training_rows`` (rows processed by all retrainings of the replay) times ``scale`` (e.g. the
    ratio of production volume to the replay's rows per month) times the measured
    ``seconds_per_training_row`` gives ``compute_s`` and ``cost``.
    """
    if not isinstance(policies, pd.DataFrame):
        raise TypeError(f"policies must be a DataFrame, got {type(policies).__name__}")
    missing = [c for c in ("policy", "retrainings", "training_rows", "mean_auc")
               if c not in policies.columns]
    if missing:
        raise ValueError(f"policies lacks column(s): {', '.join(missing)} "
                         "(expected a compare_policies table)")
    s = _nonnegative(seconds_per_training_row, "seconds_per_training_row")
    factor = _nonnegative(scale, "scale")
    out = policies.copy()
    out["compute_s"] = out["training_rows"].astype(float) * factor * s
    out["cost"] = [compute_cost(vcpu_hours(1, c), price_per_vcpu_hour) for c in out["compute_s"]]
    return out


# ---------------------------------------------------------------------- partitions of a window


def scenario_in_month(scenario: Optional[Scenario], month_index: int) -> Scenario:
    """The scenario as it stands in month ``month_index``: every active drift frozen at its
    severity of that month (a ``Drift(0, severity)``), so one month can be simulated alone."""
    scenario = Scenario() if scenario is None else scenario
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    frozen = {}
    for name in scenario.active:
        amount = drift_amount(scenario, name, month_index)
        frozen[name] = Drift(0, amount) if amount > 0 else None
    return Scenario(**frozen)


def simulate_partition(index: int, rows: int, seed: int = 0,
                       scenario: Optional[Scenario] = None, first_month: int = 12,
                       start: str = "2024-01") -> pd.DataFrame:
    """Partition ``index`` of a large window: month ``first_month + index`` of ``scenario``.

    Generated where it is called (on a Dask worker: nothing travels from the client). Each
    partition draws from its own seed, derived from ``(seed, month)`` with numpy's
    ``SeedSequence``; application ids are unique across partitions.
    """
    for name, value, low in (("index", index, 0), ("rows", rows, 1), ("seed", seed, 0),
                             ("first_month", first_month, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    month = int(first_month) + int(index)
    own_seed = int(np.random.SeedSequence([int(seed), month]).generate_state(1)[0])
    first = pd.Period(start, freq="M") + month
    part = simulate_loans(months=1, rows_per_month=int(rows), seed=own_seed,
                          scenario=scenario_in_month(scenario, month), start=str(first))
    part["application_id"] += int(index) * int(rows)
    # Consecutive index across partitions, as one big frame would have.
    part.index = pd.RangeIndex(int(index) * int(rows), (int(index) + 1) * int(rows))
    return part


def summarise_scores(scored: pd.DataFrame) -> pd.DataFrame:
    """Sums and counts of a scored batch per month: ``rows``, ``referred``, ``risk_sum``.

    Sums and counts add up across partitions (:func:`combine_summaries`); means do not.
    """
    missing = [c for c in ("month", "risk", "refer") if c not in scored.columns]
    if missing:
        raise ValueError(f"scored batch lacks column(s): {', '.join(missing)}")
    grouped = scored.groupby("month", sort=True)
    return pd.DataFrame({
        "rows": grouped.size().astype(np.int64),
        "referred": grouped["refer"].sum().astype(np.int64),
        "risk_sum": grouped["risk"].sum().astype(np.float64),
    }).reset_index()


def combine_summaries(parts: pd.DataFrame) -> pd.DataFrame:
    """The window's summary from the partitions' :func:`summarise_scores` rows (concatenated).

    Adds ``mean_risk`` and ``referred_share`` per month.
    """
    total = parts.groupby("month", sort=True)[["rows", "referred", "risk_sum"]].sum()
    total["mean_risk"] = total["risk_sum"] / total["rows"]
    total["referred_share"] = total["referred"] / total["rows"]
    return total.reset_index()


def drift_profile(reference: pd.DataFrame, numeric: Optional[Iterable[str]] = None,
                  categorical: Optional[Iterable[str]] = None, bins: int = 10,
                  eps: float = _drift.DEFAULT_EPS):
    """What PSI needs from the reference window, computed once: bin edges and counts per feature
    (numeric bins at the reference's quantiles, categories as seen; see
    :mod:`mlecourse.principles.drift`). Small, so it travels to workers cheaply."""
    numeric, categorical = _drift._split_features(numeric, categorical)
    _drift._check_bins(bins)
    _drift._check_eps(eps)
    _drift._check_frame(reference, "reference", numeric + categorical)
    return _drift._Profile(reference, numeric, categorical, bins, eps)


#: Columns of :func:`bin_counts`' result.
BIN_COUNT_COLUMNS = ["feature", "bin", "count"]


def bin_counts(part: pd.DataFrame, profile) -> pd.DataFrame:
    """How many of ``part``'s values fall in each PSI bin of ``profile``, in long format.

    Numeric bins are labelled by their index (as text), categorical ones by the category
    (missing values as ``"<missing>"``). Counts add up across partitions.
    """
    _drift._check_frame(part, "current", profile.numeric + profile.categorical)
    frames = []
    for c in profile.numeric:
        values = _drift._numeric_array(part[c], c, "current")
        edges = profile.edges[c]
        counts = np.bincount(_drift._bin_index(values, edges), minlength=len(edges) + 2)
        frames.append(pd.DataFrame({"feature": c, "bin": [str(i) for i in range(len(counts))],
                                    "count": counts.astype(np.int64)}))
    for c in profile.categorical:
        counts = pd.Series(_drift._category_keys(part[c])).value_counts(sort=False)
        frames.append(pd.DataFrame({"feature": c, "bin": counts.index.astype(str),
                                    "count": counts.to_numpy(np.int64)}))
    return pd.concat(frames, ignore_index=True)[BIN_COUNT_COLUMNS]


def psi_from_bin_counts(counts: pd.DataFrame, profile) -> pd.Series:
    """PSI per feature from the concatenated :func:`bin_counts` of every partition of a window,
    with :mod:`mlecourse.principles.drift`'s formula (same bins, same ``eps``)."""
    total = counts.groupby(["feature", "bin"], sort=False)["count"].sum()
    out = {}
    for c in profile.numeric:
        k = len(profile.edges[c]) + 2
        cur = total[c].reindex([str(i) for i in range(k)], fill_value=0).to_numpy(np.float64)
        out[c] = float(_drift._psi_from_counts(profile.ref_counts[c], cur, profile.eps))
    for c in profile.categorical:
        ref = pd.Series(profile.ref_counts[c], index=profile.cats[c].astype(str))
        cur = total[c]
        cats = ref.index.union(cur.index)  # categories seen in either window, as drift_report
        out[c] = float(_drift._psi_from_counts(
            ref.reindex(cats, fill_value=0).to_numpy(np.float64),
            cur.reindex(cats, fill_value=0).to_numpy(np.float64), profile.eps))
    return pd.Series(out, name="psi").rename_axis("feature")


def _score_summary(part: pd.DataFrame, model, threshold: float) -> pd.DataFrame:
    return summarise_scores(score_batch(part, model, threshold))


def _partition_outputs(part: pd.DataFrame, model, profile, threshold: float):
    """Everything one partition contributes: its score summary and its PSI bin counts."""
    return _score_summary(part, model, threshold), bin_counts(part, profile)


@dataclass(frozen=True)
class WindowReport:
    """Result of :func:`window_report`: the ``summary`` (a :func:`combine_summaries` table, one
    row per month), the ``psi`` per feature over the whole window, the window's ``rows`` and the
    wall time of the run in ``seconds``."""

    summary: pd.DataFrame
    psi: pd.Series
    rows: int
    seconds: float


def window_report(model, reference: pd.DataFrame, partitions: int, rows: int, seed: int = 0,
                  scenario: Optional[Scenario] = None, first_month: int = 12,
                  threshold: float = DECISION_THRESHOLD, bins: int = 10,
                  client=None) -> WindowReport:
    """Score a window of ``partitions`` x ``rows`` simulated applications and report its drift.

    Partition ``i`` is :func:`simulate_partition` ``(i, rows, seed, scenario, first_month)``.
    With ``client=None`` the partitions are generated and processed one after another in this
    process with pandas; with a ``dask.distributed.Client`` they become a ``dask.dataframe``
    whose partitions are generated, scored and counted on the workers, and only the small
    per-partition summaries travel back. Both paths call the same functions, so they return the
    same ``summary`` and ``psi``.
    """
    if isinstance(partitions, bool) or not isinstance(partitions, (int, np.integer)) \
            or partitions < 1:
        raise ValueError(f"partitions must be an int >= 1, got {partitions!r}")
    profile = drift_profile(reference, bins=bins)
    start = time.perf_counter()
    if client is None:
        outputs = [_partition_outputs(simulate_partition(i, rows, seed, scenario, first_month),
                                      model, profile, threshold) for i in range(partitions)]
        summaries = pd.concat([o[0] for o in outputs], ignore_index=True)
        counts = pd.concat([o[1] for o in outputs], ignore_index=True)
    else:
        summaries, counts = _on_dask(client, model, profile, partitions, rows, seed, scenario,
                                     first_month, threshold)
    summary = combine_summaries(summaries)
    psi = psi_from_bin_counts(counts, profile)
    return WindowReport(summary, psi, int(partitions) * int(rows), time.perf_counter() - start)


def _on_dask(client, model, profile, partitions, rows, seed, scenario, first_month, threshold):
    import dask
    import dask.dataframe as dd

    # Metadata from a tiny partition computed here, so Dask never calls the functions on an
    # empty frame (a model cannot score zero rows) to guess the output's columns.
    sample = simulate_partition(0, 8, seed, scenario, first_month)
    meta_summary, meta_counts = (o.iloc[:0] for o in
                                 _partition_outputs(sample, model, profile, threshold))
    with dask.config.set({"dataframe.convert-string": False}):  # keep pandas' object columns
        window = dd.from_map(simulate_partition, range(partitions), rows=rows, seed=seed,
                             scenario=scenario, first_month=first_month, meta=sample.iloc[:0],
                             enforce_metadata=False)
        summaries = window.map_partitions(_score_summary, model, threshold, meta=meta_summary,
                                          enforce_metadata=False)
        counts = window.map_partitions(bin_counts, profile, meta=meta_counts,
                                       enforce_metadata=False)
        # One computation for both: each partition is generated once and feeds both outputs.
        summaries, counts = client.compute([summaries, counts], sync=True)
    return summaries.reset_index(drop=True), counts.reset_index(drop=True)


# ------------------------------------------------------------------------------- the cluster


_NOISY_LOGGERS = ("distributed", "tornado", "bokeh", "asyncio")


@contextlib.contextmanager
def _quiet_logs(level: int = logging.ERROR):
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, before):
            lg.setLevel(lvl)


@contextlib.contextmanager
def dask_client(address: Optional[str] = None, n_workers: int = 2, threads_per_worker: int = 1):
    """A ``dask.distributed.Client``, closed when the block ends, also after an exception.

    ``address=None``: start a ``LocalCluster`` of ``n_workers`` worker processes with
    ``threads_per_worker`` threads each on 127.0.0.1, without a dashboard, with its scratch
    space in a temporary folder and its logs below ERROR silenced; it is closed with the client.
    ``address="tcp://host:8786"``: connect to that scheduler instead (the same code then runs on
    a real cluster); only the client is closed.
    """
    from distributed import Client, LocalCluster

    for name, value in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet_logs())
        if address is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="mle-dask-"))
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                   processes=True, host="127.0.0.1", dashboard_address=None,
                                   silence_logs=logging.ERROR, local_directory=scratch,
                                   # Without a dashboard the scheduler still answers health
                                   # checks over HTTP, by default on port 8787: use a free port
                                   # on 127.0.0.1 so clusters on a shared machine never collide.
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            stack.callback(cluster.close)  # runs after client.close (last in, first out)
            client = Client(cluster)
        else:
            client = Client(address)
        stack.callback(client.close)
        yield client
