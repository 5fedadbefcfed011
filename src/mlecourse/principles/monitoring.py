"""Monitoring in production: the prediction log, delayed labels, alert rules and system health.

The prediction log
    :class:`PredictionLog` keeps every prediction in an embedded SQLite database (the standard
    library's ``sqlite3``; give it a path in a temporary folder). A serving process calls
    :meth:`PredictionLog.log_predictions` with one record per request (:data:`LOG_COLUMNS`);
    outcomes arrive later through :meth:`PredictionLog.log_labels`. Everything else reads the
    log with SQL (:meth:`PredictionLog.query`).

A replay of the serving path
    Until a real service writes the log, :func:`replay_serving` replays the serving path on the
    simulator's applications: it scores each month with the shared model, decides (approve when
    the predicted risk is below the threshold, plus a small random holdout approved whatever the
    score), and stamps every request with an id, a timestamp and the model version. Its latency
    and errors are **simulated** (seeded log-normal latencies, rare errors, optional incidents),
    and every replayed record says so in its ``source`` column.

Delayed and selective labels
    :func:`label_feed` delivers the outcome of an *approved* loan ``label_delay`` months after
    the application (a declined applicant never gets a loan, so never defaults or repays: the
    selective-labels problem). :func:`realised_performance` joins the labels known by a date
    back to the log by request id and computes AUC and default rate per model version and month.

Signals and alerts
    :func:`quality_by_period` runs the pandera schema of :mod:`mlecourse.principles.checks` on
    the logged inputs and turns its failures into null, range, unknown-category and
    schema-change rates per day or month; :func:`service_by_period` gives latency percentiles
    and error rates; :func:`monthly_metrics` adds input drift (PSI against the training data,
    and against the same calendar month of the training data, from
    :mod:`mlecourse.principles.drift`). :class:`AlertRule` is a declarative rule (metric,
    window, threshold, direction) and :func:`evaluate_rules` evaluates rules on such a table.

Training-serving skew and export
    :func:`skew_report` compares a feature as training computed it with the same feature as
    serving computed it. :func:`prometheus_text` exports the current metrics in the Prometheus
    text format with ``prometheus_client`` (its own ``CollectorRegistry``, never the global one).

Nothing here reads the clock: every date is a parameter, and every random draw is seeded.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from mlecourse.example.simulate import (
    CATEGORICAL_FEATURES,
    FEATURES,
    NUMERIC_FEATURES,
    TARGET,
    Drift,
    Scenario,
    simulate_loans,
)

__all__ = [
    "LOG_COLUMNS",
    "LABEL_COLUMNS",
    "REPLAY_SOURCE",
    "PredictionLog",
    "Incident",
    "simulated_latency",
    "replay_serving",
    "label_feed",
    "realised_performance",
    "input_schema",
    "quality_by_period",
    "service_by_period",
    "monthly_metrics",
    "AlertRule",
    "evaluate_rules",
    "first_alert",
    "serving_debt_to_income",
    "skew_report",
    "prometheus_text",
    "SLO",
    "INCIDENT_START",
    "REPLAY_SCENARIOS",
    "Replay",
    "example_replay",
    "label_views",
    "plot_dashboard",
]

#: Columns of the prediction log, with their SQLite types. Features are logged as received.
LOG_COLUMNS = {
    "request_id": "TEXT PRIMARY KEY",
    "ts": "TEXT NOT NULL",  # ISO 8601, seconds: sorts like the time it stands for
    "model_version": "TEXT NOT NULL",
    **{c: "REAL" for c in ("income", "loan_amount")},
    "term_months": "INTEGER",
    "credit_history_years": "REAL",
    "employment_type": "TEXT",
    "region": "TEXT",
    "score": "REAL",  # NULL when the request failed
    # 'approve', 'decline', 'review' (the serving app refers risky applications to a person:
    # no loan, so no label, unless that person approves), NULL when the request failed
    "decision": "TEXT",
    "holdout": "INTEGER NOT NULL",  # 1: approved by the random holdout, whatever the score
    "latency_ms": "REAL NOT NULL",
    "status": "TEXT NOT NULL",  # 'ok' or 'error'
    "source": "TEXT NOT NULL",  # who wrote the record: a service, or a replay
}
#: Columns of the label table: the outcome of a request, and when it became known.
LABEL_COLUMNS = {"request_id": "TEXT PRIMARY KEY", TARGET: "INTEGER NOT NULL",
                 "arrived": "TEXT NOT NULL"}
#: ``source`` of every record :func:`replay_serving` writes: its latencies are simulated.
REPLAY_SOURCE = "replay (simulated latency and errors)"

#: Service-level objectives of the example service (what the team promised its users).
SLO = {"latency_p95_ms": 220.0, "error_rate": 0.01}

_DECISIONS = ("approve", "decline", "review")

#: Month index at which the incidents of :data:`REPLAY_SCENARIOS` begin (April 2025): the model,
#: trained on 2024, has served three quiet months by then.
INCIDENT_START = 15
_SEASON = Drift(0, 1.0)
#: The replays the monitoring notebook and exercise use. The season is always there, as in the
#: real world; the incidents come on top of it.
REPLAY_SCENARIOS = {
    "seasonal only": Scenario(seasonality=_SEASON),
    "quality break": Scenario(seasonality=_SEASON, quality_break=Drift(INCIDENT_START, 0.25)),
    "downturn": Scenario(seasonality=_SEASON, covariate_shift=Drift(INCIDENT_START, 1.0, 4),
                         concept_drift=Drift(INCIDENT_START, 1.0, 4)),
    "concept drift": Scenario(seasonality=_SEASON, concept_drift=Drift(INCIDENT_START, 1.0)),
}


# ------------------------------------------------------------------------------ the log


def _as_frame(records, what: str) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        return records
    if isinstance(records, Mapping):
        records = [records]
    if isinstance(records, (list, tuple)) and all(isinstance(r, Mapping) for r in records):
        return pd.DataFrame(list(records))
    raise TypeError(f"{what} must be a DataFrame, a dict or a list of dicts, "
                    f"got {type(records).__name__}")


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s): {', '.join(repr(c) for c in missing)}")


def _iso(values, what: str = "ts") -> list:
    """ISO 8601 text to the second (sorts like the time it stands for)."""
    values = pd.Series(values)
    ts = values if pd.api.types.is_datetime64_any_dtype(values) else \
        pd.to_datetime(values, errors="coerce", format="ISO8601")
    if ts.isna().any():
        bad = values[ts.isna()].iloc[0]
        raise ValueError(f"{what!r} holds a value that is not a timestamp: {bad!r}")
    return np.datetime_as_string(ts.to_numpy().astype("datetime64[s]")).tolist()


def _plain(column: pd.Series) -> list:
    """Python values for SQLite (numpy scalars are not SQLite types); missing -> NULL."""
    values = column.tolist()
    missing = column.isna().to_numpy()
    if missing.any():
        values = [None if m else v for v, m in zip(values, missing)]
    return values


class PredictionLog:
    """An append-only prediction log in SQLite, with the labels that arrive later.

    ``path``: the database file (use a temporary folder); it is created if needed. Use as a
    context manager, or call :meth:`close`.
    """

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path)
        cols = ", ".join(f"{c} {t}" for c, t in LOG_COLUMNS.items())
        labels = ", ".join(f"{c} {t}" for c, t in LABEL_COLUMNS.items())
        with self.conn:
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS predictions ({cols})")
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS labels ({labels})")
            self.conn.execute("CREATE INDEX IF NOT EXISTS predictions_ts ON predictions (ts)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _insert(self, table: str, columns: Sequence[str], df: pd.DataFrame) -> int:
        # Plain Python values (numpy scalars are not SQLite types), missing values as NULL.
        data = [_plain(df[c]) for c in columns]
        marks = ", ".join("?" for _ in columns)
        try:
            with self.conn:  # one transaction: a batch is logged completely or not at all
                self.conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    zip(*data))
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"{table}: {exc} (a request id logged twice, or a required value "
                             "missing); nothing of this batch was written") from None
        return len(df)

    def log_predictions(self, records) -> int:
        """Append prediction records (a DataFrame, a dict or a list of dicts); returns the count.

        Every column of :data:`LOG_COLUMNS` is required (features may hold missing values: the
        log records what arrived). Raises ``ValueError`` naming missing columns, a timestamp that
        is not one, a decision other than 'approve'/'decline'/'review', or a request id logged twice.
        """
        df = _as_frame(records, "records").copy()
        _require(df, LOG_COLUMNS, "the prediction records")
        df["ts"] = _iso(df["ts"])
        ok = df["status"] == "ok"
        bad = ~df.loc[ok, "decision"].isin(_DECISIONS)
        if bad.any():
            raise ValueError(f"'decision' must be one of {_DECISIONS} for a request with status "
                             f"'ok', got {df.loc[ok, 'decision'][bad].iloc[0]!r}")
        return self._insert("predictions", list(LOG_COLUMNS), df)

    def log_labels(self, records) -> int:
        """Append outcomes (``request_id``, ``defaulted``, ``arrived``); returns the count."""
        df = _as_frame(records, "labels").copy()
        _require(df, LABEL_COLUMNS, "the label records")
        df["arrived"] = _iso(df["arrived"], "arrived")
        return self._insert("labels", list(LABEL_COLUMNS), df)

    def query(self, sql: str, params: Union[Sequence, Mapping] = ()) -> pd.DataFrame:
        """Run a SQL query on the log and return the result as a DataFrame."""
        return pd.read_sql_query(sql, self.conn, params=params)

    def predictions(self, until=None) -> pd.DataFrame:
        """The logged predictions (up to the timestamp ``until``, if given), ``ts`` parsed."""
        if until is None:
            df = self.query("SELECT * FROM predictions ORDER BY ts, request_id")
        else:
            df = self.query("SELECT * FROM predictions WHERE ts <= ? ORDER BY ts, request_id",
                            (_iso([until])[0],))
        df["ts"] = pd.to_datetime(df["ts"], format="ISO8601")
        return df

    def __len__(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0])


# ------------------------------------------------------------------- a replay of serving


@dataclass(frozen=True)
class Incident:
    """A simulated service incident: from ``start`` for ``hours`` hours, latencies are multiplied
    by ``slowdown`` and requests fail with probability ``error_rate``."""

    start: str
    hours: float = 24.0
    slowdown: float = 3.0
    error_rate: float = 0.05


def simulated_latency(timestamps, seed: int = 0, median_ms: float = 80.0, sigma: float = 0.5,
                      error_rate: float = 0.001, incidents: Sequence[Incident] = ()):
    """SIMULATED service latencies (ms) and error flags for requests at ``timestamps``.

    Log-normal latencies (median ``median_ms``, log-scale spread ``sigma``; a heavy right tail,
    as real services have) and independent errors with probability ``error_rate``; during an
    :class:`Incident` both get worse. Seeded: the same inputs give the same draws.
    """
    ts = pd.to_datetime(pd.Series(timestamps)).to_numpy()
    rng = np.random.default_rng([seed, 424242])
    n = len(ts)
    latency = median_ms * np.exp(sigma * rng.standard_normal(n))
    errors = rng.random(n) < error_rate
    for inc in incidents:
        start = np.datetime64(pd.Timestamp(inc.start))
        during = (ts >= start) & (ts < start + np.timedelta64(int(inc.hours * 3600), "s"))
        latency = np.where(during, latency * inc.slowdown, latency)
        errors |= during & (rng.random(n) < inc.error_rate)
    return np.round(latency, 1), errors


def replay_serving(df: pd.DataFrame, deployments, *, threshold: float = 0.2,
                   holdout_share: float = 0.02, seed: int = 0,
                   incidents: Sequence[Incident] = ()) -> pd.DataFrame:
    """Replay the serving path on the simulator's applications ``df``; return log records.

    ``deployments``: a fitted model (served as version "1") or a list of
    ``(first_month, version, model)`` in order: each version serves from its first month on.
    Every application gets a request id (``"r<application_id>"``), a timestamp spread at random
    over its month, the score of the model in service, a decision (approve below ``threshold``;
    a random ``holdout_share`` of requests is approved whatever the score, so that the outcomes
    of some would-be declines are observed) and a SIMULATED latency and status (see
    :func:`simulated_latency`). Failed requests have no score and no decision.
    Rows of months before the first deployment are not replayed.
    """
    _require(df, ["month", "application_id", *FEATURES], "the applications")
    if not 0 <= holdout_share < 1:
        raise ValueError(f"holdout_share must be in [0, 1), got {holdout_share!r}")
    if hasattr(deployments, "predict_proba"):
        deployments = [(df["month"].min(), "1", deployments)]
    deployments = sorted(((pd.Timestamp(m), str(v), mod) for m, v, mod in deployments),
                         key=lambda d: d[0])
    if not deployments:
        raise ValueError("deployments is empty: give at least one (first_month, version, model)")
    rows = df[df["month"] >= deployments[0][0]].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"no applications on or after the first deployment "
                         f"({deployments[0][0]:%Y-%m})")
    rng = np.random.default_rng([seed, 7])
    month = pd.to_datetime(rows["month"])
    seconds = (month + pd.offsets.MonthBegin(1) - month).dt.total_seconds().to_numpy()
    ts = month + pd.to_timedelta(np.floor(rng.random(len(rows)) * seconds), unit="s")
    version = pd.Series(deployments[0][1], index=rows.index)
    score = np.full(len(rows), np.nan)
    for i, (first, name, model) in enumerate(deployments):
        until = deployments[i + 1][0] if i + 1 < len(deployments) else pd.Timestamp.max
        sel = ((month >= first) & (month < until)).to_numpy()
        if sel.any():
            score[sel] = model.predict_proba(rows.loc[sel, FEATURES])[:, 1]
            version[sel] = name
    holdout = rng.random(len(rows)) < holdout_share
    latency, errors = simulated_latency(ts, seed=seed, incidents=incidents)
    decision = np.where(holdout | (score < threshold), "approve", "decline").astype(object)
    score[errors] = np.nan
    decision[errors] = None
    out = pd.DataFrame({
        "request_id": "r" + rows["application_id"].astype(str),
        "ts": ts, "model_version": version,
        **{c: rows[c] for c in FEATURES},
        "score": score, "decision": decision, "holdout": holdout.astype(int),
        "latency_ms": latency, "status": np.where(errors, "error", "ok"),
        "source": REPLAY_SOURCE,
    })
    return out.sort_values(["ts", "request_id"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Replay:
    """One replayed scenario: the simulated ``data`` (outcomes included), the training rows
    (``reference``, 2024), the ``model`` trained on them and the log ``records`` of 2025."""

    name: str
    data: pd.DataFrame
    reference: pd.DataFrame
    model: object
    records: pd.DataFrame


def example_replay(name: str, rows_per_month: int = 2_000, seed: int = 0,
                   incidents: Sequence[Incident] = (), holdout_share: float = 0.02) -> Replay:
    """Replay :data:`REPLAY_SCENARIOS` ``name``: train on 2024, serve 2025 with model version "1".

    Returns fresh objects on every call (nothing is cached).
    """
    from mlecourse.example.model import train

    if name not in REPLAY_SCENARIOS:
        raise ValueError(f"unknown replay {name!r}; choose one of {list(REPLAY_SCENARIOS)}")
    data = simulate_loans(24, rows_per_month, seed, REPLAY_SCENARIOS[name])
    reference = data[data["month"] < "2025-01-01"]
    model = train(reference, seed=seed)
    records = replay_serving(data, [(pd.Timestamp("2025-01-01"), "1", model)], seed=seed,
                             incidents=incidents, holdout_share=holdout_share)
    return Replay(name, data, reference, model, records)


def label_feed(records: pd.DataFrame, outcomes: pd.DataFrame, label_delay: int = 3) -> pd.DataFrame:
    """The outcomes a lender observes: approved requests only, ``label_delay`` months later.

    ``records``: logged predictions (``request_id``, ``ts``, ``decision``); ``outcomes``: the
    simulator's rows (``application_id``, ``defaulted``). A declined applicant never gets the
    loan, so no outcome is ever observed for them (selective labels).
    """
    _require(records, ["request_id", "ts", "decision"], "the prediction records")
    _require(outcomes, ["application_id", TARGET], "the outcomes")
    if isinstance(label_delay, bool) or not isinstance(label_delay, (int, np.integer)) \
            or label_delay < 0:
        raise ValueError(f"label_delay must be an int >= 0 (months), got {label_delay!r}")
    approved = records[records["decision"] == "approve"]
    truth = outcomes.set_index("r" + outcomes["application_id"].astype(str))[TARGET]
    missing = ~approved["request_id"].isin(truth.index)
    if missing.any():
        raise ValueError(f"no outcome for request {approved['request_id'][missing].iloc[0]!r}")
    ts = pd.to_datetime(approved["ts"])
    month = ts.dt.to_period("M")
    # The same day and time label_delay months later, clipped to the end of that month (as
    # DateOffset does, but vectorised: 31 January + 3 months is 30 April, not 1 May).
    target = month + int(label_delay)
    last = (target + 1).dt.to_timestamp() - pd.Timedelta(seconds=1)
    arrived = np.minimum(target.dt.to_timestamp() + (ts - month.dt.to_timestamp()), last)
    return pd.DataFrame({"request_id": approved["request_id"].to_numpy(),
                         TARGET: truth.loc[approved["request_id"]].to_numpy(),
                         "arrived": arrived.to_numpy()})


def realised_performance(log: PredictionLog, as_of, holdout_only: bool = False) -> pd.DataFrame:
    """What the team can know on ``as_of``: labels arrived by then, joined to the log by request id.

    One row per model version and month of the predictions: ``predictions``, ``approved``,
    ``labelled`` (outcomes known by ``as_of``), ``default_rate`` and ``auc`` of the labelled
    requests (NaN when a month has no labels or a single class). ``holdout_only``: use only
    the random holdout's labels (unbiased, but few).
    """
    from mlecourse.principles.drift import performance_by_month

    as_of = _iso([as_of])[0]
    df = log.query(
        f"""SELECT p.model_version, substr(p.ts, 1, 7) AS month, p.score, p.decision,
                   p.holdout, l.{TARGET} AS outcome
            FROM predictions AS p
            LEFT JOIN labels AS l ON l.request_id = p.request_id AND l.arrived <= :as_of
            WHERE p.ts <= :as_of AND p.status = 'ok'""", {"as_of": as_of})
    if holdout_only:
        df = df[df["holdout"] == 1]
    df["month"] = pd.to_datetime(df["month"] + "-01")
    counts = df.groupby(["model_version", "month"]).agg(
        predictions=("score", "size"), approved=("decision", lambda d: int((d == "approve").sum())),
        labelled=("outcome", "count")).reset_index()
    known = df.dropna(subset=["outcome"])
    perf = []
    for version, part in known.groupby("model_version"):
        p = performance_by_month(part["month"], part["outcome"].astype(int), part["score"])
        perf.append(p[["month", "auc", "default_rate"]].assign(model_version=version))
    if perf:
        cols = ["model_version", "month", "auc", "default_rate"]
        out = counts.merge(pd.concat(perf)[cols], on=["model_version", "month"], how="left")
    else:  # no label has arrived yet (or nothing was predicted yet)
        out = counts.assign(auc=np.nan, default_rate=np.nan)
    return out.sort_values(["month", "model_version"]).reset_index(drop=True)


def label_views(log: PredictionLog, data: pd.DataFrame, as_of, freq: str = "Q") -> pd.DataFrame:
    """Selective labels: the same model judged on three sets of outcomes, per period ``freq``.

    ``all`` uses every application's outcome from the simulator ``data`` (what nobody in a real
    lender can know: declined applicants never repay or default); ``approved`` the labels the
    team has on ``as_of`` (approved loans only); ``holdout`` only the random holdout's labels
    (approved whatever the score, so a random sample of applicants). Columns ``auc_<view>``,
    ``default_rate_<view>`` and ``n_<view>``.
    """
    from sklearn.metrics import roc_auc_score

    _require(data, ["application_id", TARGET], "the simulated data")
    as_of = _iso([as_of])[0]
    df = log.query(
        f"""SELECT p.request_id, p.ts, p.score, p.holdout, l.{TARGET} AS outcome
            FROM predictions AS p
            LEFT JOIN labels AS l ON l.request_id = p.request_id AND l.arrived <= :as_of
            WHERE p.status = 'ok'""", {"as_of": as_of})
    truth = data.set_index("r" + data["application_id"].astype(str))[TARGET]
    df["truth"] = truth.reindex(df["request_id"]).to_numpy()
    df["period"] = pd.to_datetime(df["ts"], format="ISO8601").dt.to_period(freq)
    known = df["outcome"].notna()
    views = {"all": (df, "truth"), "approved": (df[known], "outcome"),
             "holdout": (df[known & (df["holdout"] == 1)], "outcome")}
    rows = {}
    for view, (part, col) in views.items():
        for period, g in part.groupby("period"):
            y = g[col].astype(int)
            row = rows.setdefault(period, {})
            row[f"auc_{view}"] = roc_auc_score(y, g["score"]) if 0 < y.sum() < len(y) else np.nan
            row[f"default_rate_{view}"] = float(y.mean())
            row[f"n_{view}"] = len(g)
    out = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    out.index.name = "period"
    return out


# ----------------------------------------------------------------------- data quality


def input_schema():
    """The pandera schema of one request's inputs: :func:`checks.loan_schema` restricted to the
    model's features, without its batch-level statistical check (incoming batches are small and
    seasonal; the per-value checks are what catch a broken feed at once)."""
    from mlecourse.principles.checks import loan_schema

    schema = loan_schema().select_columns(FEATURES)
    income = schema.columns["income"]
    return schema.update_column(
        "income", checks=[c for c in income.checks if c.name != "mean_income"])


def _period(ts: pd.Series, period: str) -> pd.Series:
    if period not in ("day", "month"):
        raise ValueError(f"period must be 'day' or 'month', got {period!r}")
    ts = pd.to_datetime(ts)
    return ts.dt.normalize() if period == "day" else ts.dt.to_period("M").dt.to_timestamp()


def _quality_flags(frame: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Per-row failure flags (null, out of range, unknown category) and whole-batch failures."""
    import warnings

    from pandera.errors import SchemaErrors

    flags = pd.DataFrame(False, index=frame.index,
                         columns=["null", "out_of_range", "unknown_category"])
    schema_problems = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            input_schema().validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        whole = cases["index"].isna()
        retyped = set()
        for row in cases[whole].itertuples():
            if row.check == "column_in_dataframe":
                schema_problems.append(f"{row.failure_case}: missing column")
            elif str(row.check).startswith("dtype("):
                retyped.add(row.column)
                expected = str(row.check)[len("dtype("):-1].strip("'")
                schema_problems.append(f"{row.column}: type changed (expected {expected}, "
                                       f"got {row.failure_case})")
        # A column whose type changed fails its value checks on every row; that is one schema
        # problem, not a flood of range failures.
        rows = cases[~whole & ~cases["column"].isin(retyped)]
        kind = np.where(rows["check"] == "not_nullable", "null",
                        np.where(rows["check"].astype(str).str.startswith("isin")
                                 & rows["column"].isin(CATEGORICAL_FEATURES),
                                 "unknown_category", "out_of_range"))
        for k in flags.columns:
            idx = rows["index"][kind == k].astype(frame.index.dtype).unique()
            flags.loc[idx, k] = True
    return flags, sorted(set(schema_problems))


def quality_by_period(log_frame: pd.DataFrame, period: str = "day") -> pd.DataFrame:
    """Data-quality rates of the logged inputs per ``period`` ('day' or 'month').

    Runs :func:`input_schema` once over the whole frame and reports, per period, ``requests``
    and the share of requests with a missing input (``null_rate``), a value out of its range
    (``out_of_range_rate``), an unknown category (``unknown_category_rate``), plus
    ``schema_errors``: the number of whole-column problems (a missing column, a changed type),
    which concern every period of the frame.
    """
    _require(log_frame, ["ts"], "the log")
    frame = log_frame.reset_index(drop=True)
    flags, problems = _quality_flags(frame)
    flags["period"] = _period(frame["ts"], period)
    out = flags.groupby("period").agg(requests=("null", "size"), null_rate=("null", "mean"),
                                      out_of_range_rate=("out_of_range", "mean"),
                                      unknown_category_rate=("unknown_category", "mean"))
    out["schema_errors"] = len(problems)
    out.attrs["schema_problems"] = problems
    return out


def service_by_period(log_frame: pd.DataFrame, period: str = "day") -> pd.DataFrame:
    """Service health per period: ``requests``, latency percentiles (p50, p95, p99, ms) and
    ``error_rate`` (share of requests with status 'error')."""
    _require(log_frame, ["ts", "latency_ms", "status"], "the log")
    df = pd.DataFrame({"period": _period(log_frame["ts"], period),
                       "latency": log_frame["latency_ms"].to_numpy(float),
                       "error": (log_frame["status"] == "error").to_numpy()})
    g = df.groupby("period")
    out = pd.DataFrame({"requests": g.size(), "error_rate": g["error"].mean()})
    for q in (50, 95, 99):
        out[f"latency_p{q}_ms"] = g["latency"].quantile(q / 100)
    return out


def monthly_metrics(log_frame: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Every monitoring signal the inputs give, one row per month of the log.

    Columns: ``psi_<feature>`` and ``psi_max`` (against ``reference``, the training data),
    ``seasonal_psi_<feature>`` and ``seasonal_psi_max`` (each month against the *same calendar
    month* of ``reference``; needs a reference that covers all twelve), the quality rates of
    :func:`quality_by_period`, ``mean_score``, ``approval_rate`` and the service metrics of
    :func:`service_by_period`. Known as soon as the month's requests are in; no labels needed.
    """
    from mlecourse.principles import drift

    _require(log_frame, ["ts", *FEATURES, "score", "decision"], "the log")
    _require(reference, ["month", *FEATURES], "the reference")
    frame = log_frame.reset_index(drop=True).assign(month=_period(log_frame["ts"], "month"))
    valid = frame.dropna(subset=NUMERIC_FEATURES)
    table = drift.drift_by_month(reference, valid)
    out = pd.DataFrame(index=table.columns)
    for f in FEATURES:
        out[f"psi_{f}"] = table.loc[f]
    out["psi_max"] = table.max(axis=0)
    ref_month = pd.to_datetime(reference["month"]).dt.month
    seasonal = {}
    for m, part in valid.groupby(valid["month"].dt.month):
        same = reference[ref_month == m]
        if same.empty:
            raise ValueError(f"the reference has no rows of calendar month {m}: seasonal PSI "
                             "needs a reference that covers a whole year")
        seasonal[m] = drift.drift_by_month(same, part)
    seasonal = pd.concat(seasonal.values(), axis=1).sort_index(axis=1)
    for f in FEATURES:
        out[f"seasonal_psi_{f}"] = seasonal.loc[f]
    out["seasonal_psi_max"] = seasonal.max(axis=0)
    quality = quality_by_period(frame, "month")
    out = out.join(quality.drop(columns="requests"), how="outer")
    g = frame.groupby("month")
    out["mean_score"] = g["score"].mean()
    out["approval_rate"] = g["decision"].apply(lambda d: float((d == "approve").mean()))
    out = out.join(service_by_period(frame, "month"))
    out.index.name = "month"
    return out


# ------------------------------------------------------------------------- alert rules


_DIRECTIONS = ("above", "below")


@dataclass(frozen=True)
class AlertRule:
    """A declarative alert rule: fire when ``metric``, averaged over the last ``window``
    periods, is ``direction`` ('above' or 'below') ``threshold``.

    ``window=1`` judges every period on its own (a single-point alert); a longer window smooths
    noise at the cost of a later alert. ``name`` labels the rule in reports.
    """

    metric: str
    threshold: float
    direction: str = "above"
    window: int = 1
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.metric, str) or not self.metric:
            raise TypeError(f"AlertRule.metric must be a metric name (str), got {self.metric!r}")
        if isinstance(self.window, bool) or not isinstance(self.window, (int, np.integer)) \
                or self.window < 1:
            raise ValueError(f"AlertRule.window must be an int >= 1 (periods), got "
                             f"{self.window!r}: an empty window never sees anything")
        if self.direction not in _DIRECTIONS:
            raise ValueError(f"AlertRule.direction must be 'above' or 'below', got "
                             f"{self.direction!r}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)) \
                or not np.isfinite(self.threshold):
            raise ValueError(f"AlertRule.threshold must be a finite number, got "
                             f"{self.threshold!r}")
        if not self.name:
            sign = ">" if self.direction == "above" else "<"
            span = "" if self.window == 1 else f" over {self.window} periods"
            object.__setattr__(self, "name", f"{self.metric}{span} {sign} {self.threshold:g}")


def evaluate_rules(metrics: pd.DataFrame, rules: Sequence[AlertRule]) -> pd.DataFrame:
    """Evaluate ``rules`` on a metric table (rows: periods in time order; columns: metrics).

    Returns a boolean table, one column per rule (its name), True where the rule fires. A
    window that is not yet full (the first ``window - 1`` periods) does not fire. Raises
    ``ValueError`` for an unknown metric (listing the known ones) or an empty table.
    """
    if not isinstance(metrics, pd.DataFrame):
        raise TypeError(f"metrics must be a DataFrame, got {type(metrics).__name__}")
    if metrics.empty:
        raise ValueError("the metric table is empty: there is no period to evaluate")
    rules = list(rules)
    names = [getattr(r, "name", None) for r in rules]
    twice = sorted({n for n in names if n is not None and names.count(n) > 1})
    if twice:
        raise ValueError(f"two rules share the name {twice[0]!r}: give each rule its own name")
    out = pd.DataFrame(index=metrics.index)
    for rule in rules:
        if not isinstance(rule, AlertRule):
            raise TypeError(f"every rule must be an AlertRule, got {type(rule).__name__}")
        if rule.metric not in metrics.columns:
            raise ValueError(f"unknown metric {rule.metric!r}; known metrics: "
                             f"{', '.join(map(str, metrics.columns))}")
        value = metrics[rule.metric].astype(float).rolling(rule.window,
                                                           min_periods=rule.window).mean()
        fired = value > rule.threshold if rule.direction == "above" else value < rule.threshold
        out[rule.name] = fired.fillna(False).astype(bool)
    return out


def first_alert(metrics: pd.DataFrame, rules: Sequence[AlertRule], after=None):
    """The first period in which any rule fires (strictly after ``after``, if given), or None."""
    fired = evaluate_rules(metrics, rules).any(axis=1)
    if after is not None:
        fired = fired[fired.index > after]
    hits = fired[fired]
    return None if hits.empty else hits.index[0]


# ------------------------------------------------------------------ training-serving skew


def serving_debt_to_income(df: pd.DataFrame, annual_rate: float = 0.06) -> pd.Series:
    """A deliberately WRONG second implementation of ``debt_to_income``, for teaching.

    Written again for the serving path, it divides the *monthly* instalment by the *annual*
    income (it forgets the factor 12 of :func:`mlecourse.example.features.debt_to_income`): the
    kind of unit mismatch that two code paths for one feature produce.
    """
    from mlecourse.example.features import monthly_instalment

    inst = monthly_instalment(df["loan_amount"].to_numpy(), annual_rate,
                              df["term_months"].to_numpy())
    return pd.Series(inst / np.maximum(df["income"].to_numpy(), 1.0), index=df.index,
                     name="debt_to_income")


def skew_report(training: pd.DataFrame, serving: pd.DataFrame, columns: Sequence[str],
                threshold: float = 0.2) -> pd.DataFrame:
    """Compare features as training computed them with the same features as serving did.

    One row per column: ``psi`` of the serving values against the training values, the
    ``median_training`` and ``median_serving`` and their ``ratio`` (a unit mismatch shows as a
    round factor such as 12 or 1000), and ``skew`` (psi > threshold).
    """
    from mlecourse.principles.drift import psi

    columns = list(columns)
    if not columns:
        raise ValueError("columns is empty: name the features to compare")
    _require(training, columns, "the training features")
    _require(serving, columns, "the serving features")
    rows = []
    for c in columns:
        value = psi(training[c], serving[c], name=c)
        mt, ms = float(training[c].median()), float(serving[c].median())
        rows.append((c, value, mt, ms, ms / mt if mt else np.nan))
    out = pd.DataFrame(rows, columns=["feature", "psi", "median_training", "median_serving",
                                      "ratio"])
    out["skew"] = out["psi"] > threshold
    return out


# ------------------------------------------------------------------------- Prometheus


def prometheus_text(log_frame: pd.DataFrame, metrics_row: Optional[pd.Series] = None,
                    realised: Optional[pd.DataFrame] = None) -> str:
    """The monitoring metrics in the Prometheus text exposition format.

    Uses ``prometheus_client`` with a fresh ``CollectorRegistry`` (never the process-wide
    default) and a collector that reports what the log holds: a request counter per model
    version and decision, an error counter, a latency histogram, and gauges for the input
    signals of ``metrics_row`` (one row of :func:`monthly_metrics`) and the realised AUC per
    model version (``realised``: a :func:`realised_performance` table; the latest labelled
    month per version). Deterministic: no creation timestamps, nothing read from the clock.
    """
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )

    _require(log_frame, ["model_version", "decision", "status", "latency_ms"], "the log")
    buckets = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

    class _LogCollector:
        def collect(self):
            requests = CounterMetricFamily("loan_requests", "Scored loan applications.",
                                           labels=["model_version", "decision"])
            decision = log_frame["decision"].fillna("none")
            counts = log_frame.groupby([log_frame["model_version"], decision]).size()
            for (version, dec), n in counts.items():
                requests.add_metric([str(version), str(dec)], int(n))
            yield requests
            errors = CounterMetricFamily("loan_request_errors", "Requests that failed.",
                                         labels=["model_version"])
            failed = log_frame["status"] == "error"
            for version, n in failed.groupby(log_frame["model_version"]).sum().items():
                errors.add_metric([str(version)], int(n))
            yield errors
            seconds = log_frame["latency_ms"].to_numpy(float) / 1000.0
            cumulative = [(f"{b:g}", float((seconds <= b).sum())) for b in buckets]
            latency = HistogramMetricFamily(
                "loan_request_latency_seconds", "Request latency (simulated in a replay).",
                buckets=[*cumulative, ("+Inf", float(len(seconds)))],
                sum_value=float(seconds.sum()))
            yield latency
            if metrics_row is not None:
                psi = GaugeMetricFamily("loan_input_psi",
                                        "PSI of an input against the training data.",
                                        labels=["feature"])
                for f in FEATURES:
                    psi.add_metric([f], float(metrics_row[f"psi_{f}"]))
                yield psi
                quality = GaugeMetricFamily("loan_input_quality_failure_ratio",
                                            "Share of requests failing a data-quality check.",
                                            labels=["check"])
                for check in ("null", "out_of_range", "unknown_category"):
                    quality.add_metric([check], float(metrics_row[f"{check}_rate"]))
                yield quality
            if realised is not None:
                auc = GaugeMetricFamily("loan_realised_auc",
                                        "AUC on the labels known so far, latest labelled month.",
                                        labels=["model_version"])
                for version, part in realised.dropna(subset=["auc"]).groupby("model_version"):
                    auc.add_metric([str(version)],
                                   float(part.sort_values("month")["auc"].iloc[-1]))
                yield auc

    registry = CollectorRegistry()
    registry.register(_LogCollector())
    return generate_latest(registry).decode("utf-8")


# --------------------------------------------------------------------------- dashboard


def plot_dashboard(metrics: pd.DataFrame, daily_quality: pd.DataFrame, daily_service: pd.DataFrame,
                   realised: pd.DataFrame, month, title: str = "", slo: Mapping = SLO):
    """A four-panel monitoring dashboard as the team would see it at the end of ``month``.

    Panels: inputs (largest PSI, against training and against the same month of training),
    data quality (daily share of requests failing a check), service (daily p95 latency and
    error rate against the SLO) and realised performance (AUC per month, only for labels known
    by the end of ``month``). ``realised`` is a :func:`realised_performance` table computed
    as of the end of ``month``. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    month = pd.Timestamp(month)
    end = month + pd.offsets.MonthBegin(1)
    m = metrics[metrics.index <= month]
    q = daily_quality[daily_quality.index < end]
    sv = daily_service[daily_service.index < end]
    first, last = metrics.index.min(), metrics.index.max() + pd.offsets.MonthBegin(1)
    fig, axes = plt.subplots(2, 2, figsize=(7, 5), sharex=True)
    (inputs, quality), (service, perf) = axes
    inputs.plot(m.index, m["psi_max"], marker="o", ms=3, label="vs training")
    inputs.plot(m.index, m["seasonal_psi_max"], marker="s", ms=3,
                label="vs same month of training")
    inputs.axhline(0.2, color="C3", ls="--", lw=1)
    inputs.set_title("Inputs: largest PSI", fontsize=9)
    inputs.set_ylim(0, max(0.6, float(m[["psi_max", "seasonal_psi_max"]].max().max()) * 1.1
                           if len(m) else 0.6))
    inputs.legend(fontsize=7, loc="upper left")
    for col, label in (("out_of_range_rate", "out of range"), ("null_rate", "missing"),
                       ("unknown_category_rate", "unknown category")):
        quality.plot(q.index, q[col], lw=1, label=label)
    quality.set_ylim(-0.02, 0.5)
    quality.set_title("Data quality: daily share of failing requests", fontsize=9)
    quality.legend(fontsize=7, loc="upper left")
    service.plot(sv.index, sv["latency_p95_ms"], lw=1, color="C0", label="p95 latency (ms)")
    service.set_ylim(0, 800)
    service.axhline(slo["latency_p95_ms"], color="C0", ls="--", lw=1)
    service.set_ylabel("ms (simulated)", fontsize=8)
    errors = service.twinx()
    errors.plot(sv.index, sv["error_rate"], lw=1, color="C3", label="error rate")
    errors.axhline(slo["error_rate"], color="C3", ls=":", lw=1)
    errors.set_ylim(0, 0.1)
    errors.tick_params(labelsize=7)
    service.set_title("Service: daily p95 latency (blue), error rate (red)", fontsize=9)
    known = realised.dropna(subset=["auc"])
    for version, part in known.groupby("model_version"):
        perf.plot(part["month"], part["auc"], marker="o", ms=3, label=f"model {version}")
    perf.set_ylim(0.4, 0.85)
    perf.set_title("Realised AUC (labels known so far)", fontsize=9)
    if len(known):
        perf.legend(fontsize=7, loc="lower left")
    for ax in axes.flat:
        ax.set_xlim(first, last)
        ax.axvspan(month, end, color="grey", alpha=0.15)
        ax.tick_params(labelsize=7)
        ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle(title or f"Monitoring dashboard, end of {month:%B %Y}", fontsize=10)
    fig.tight_layout()
    return fig
