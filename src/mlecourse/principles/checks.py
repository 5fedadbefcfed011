"""Tests for data and models of the running example, ending in one quality gate.

Data checks
    :func:`loan_schema` is a pandera schema of a batch of loan applications (types, ranges,
    nullability, allowed categories and two statistical checks); :func:`validate_batch` runs it
    lazily and summarises every failure in a small table (:class:`DataReport`).

Model checks
    :func:`model_metrics` and :func:`baseline_comparison` (against scikit-learn's
    ``DummyClassifier``), :func:`slice_metrics`, behavioural tests (:func:`invariance_test`,
    :func:`directional_test`, :func:`minimum_functionality_test`, all bundled in
    :func:`behavioural_tests`) and :func:`fairness_report` (fairlearn ``MetricFrame`` and
    demographic parity difference across the age band).

The gate
    :func:`quality_gate` runs all of the above and decides whether a candidate model may replace
    the champion, returning a :class:`GateDecision` with the reasons.

Models are anything with ``predict_proba`` that accepts a DataFrame of the simulator's columns
(the course's pipelines from :mod:`mlecourse.example.model` select their own inputs).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Optional

import numpy as np
import pandas as pd

# pandera, fairlearn and scikit-learn's metrics cost seconds to import: each is imported by the
# functions that use it, so importing this module (for a constant or one check) stays cheap.

from mlecourse.example.simulate import (
    AGE_BANDS,
    EMPLOYMENT_TYPES,
    FEATURES,
    REGIONS,
    SENSITIVE,
    TARGET,
    TERMS,
)

__all__ = [
    "DECISION_THRESHOLD",
    "SAFE_APPLICANT",
    "RISKY_APPLICANT",
    "loan_schema",
    "DataReport",
    "validate_batch",
    "predict_scores",
    "model_metrics",
    "baseline_comparison",
    "slice_metrics",
    "CheckResult",
    "invariance_test",
    "directional_test",
    "minimum_functionality_test",
    "behavioural_tests",
    "FairnessReport",
    "fairness_report",
    "GateDecision",
    "quality_gate",
]

#: The lender sends an application to manual review when its predicted default risk is at least
#: this; every label-based metric (accuracy, F1, selection rate) uses it.
DECISION_THRESHOLD = 0.2

#: An applicant any sensible model must find low-risk (minimum functionality test).
SAFE_APPLICANT = {
    "month": pd.Timestamp("2024-01-01"), "application_id": 1, "income": 120.0,
    "loan_amount": 5.0, "term_months": 12, "credit_history_years": 20.0,
    "employment_type": "employed", "region": "west", "age_band": "41-60", "defaulted": 0,
}
#: An applicant any sensible model must find high-risk (minimum functionality test).
RISKY_APPLICANT = {
    "month": pd.Timestamp("2024-01-01"), "application_id": 2, "income": 10.0,
    "loan_amount": 30.0, "term_months": 60, "credit_history_years": 0.0,
    "employment_type": "unemployed", "region": "south", "age_band": "26-40", "defaulted": 1,
}


# --------------------------------------------------------------------------------------------
# Data checks
# --------------------------------------------------------------------------------------------


_BAND_CHECKS = ("mean_income", "default_rate")


def _pandera():
    import pandera.pandas as pa

    return pa


def _band_check(low: float, high: float, name: str, what: str) -> pa.Check:
    pa = _pandera()
    return pa.Check(
        lambda s: bool(low <= s.mean() <= high),
        name=name,
        error=f"{what} within [{low:g}, {high:g}]",
    )


def loan_schema(
    *,
    mean_income: tuple[float, float] = (20.0, 80.0),
    default_rate: tuple[float, float] = (0.02, 0.30),
) -> pa.DataFrameSchema:
    """The pandera schema of a batch of loan applications.

    Checks types, that no value is missing, plausible ranges (income and loan amount in
    thousands of EUR: an income above 1,000 means the unit changed), the allowed categories and
    two statistical properties of the batch: the mean income lies in ``mean_income`` and the
    default rate in ``default_rate``. Extra columns are allowed.
    """
    for name, band in (("mean_income", mean_income), ("default_rate", default_rate)):
        if len(band) != 2 or not band[0] < band[1]:
            raise ValueError(f"{name} must be a (low, high) pair with low < high, got {band!r}")
    pa = _pandera()
    return pa.DataFrameSchema(
        {
            "month": pa.Column(pa.DateTime, nullable=False),
            "application_id": pa.Column(int, pa.Check.gt(0), unique=True, nullable=False),
            "income": pa.Column(
                float,
                [
                    pa.Check.in_range(0.0, 1000.0),
                    _band_check(*mean_income, "mean_income", "mean income (thousand EUR)"),
                ],
                nullable=False,
            ),
            "loan_amount": pa.Column(float, pa.Check.in_range(0.0, 2000.0), nullable=False),
            "term_months": pa.Column(int, pa.Check.isin(list(TERMS)), nullable=False),
            "credit_history_years": pa.Column(
                float, pa.Check.in_range(0.0, 80.0), nullable=False
            ),
            "employment_type": pa.Column(
                str, pa.Check.isin(list(EMPLOYMENT_TYPES)), nullable=False
            ),
            "region": pa.Column(str, pa.Check.isin(list(REGIONS)), nullable=False),
            "age_band": pa.Column(str, pa.Check.isin(list(AGE_BANDS)), nullable=False),
            TARGET: pa.Column(
                int,
                [pa.Check.isin([0, 1]), _band_check(*default_rate, "default_rate", "default rate")],
                nullable=False,
            ),
        },
        name="loan_applications",
        strict=False,
    )


@dataclass
class DataReport:
    """Outcome of :func:`validate_batch`: ``ok`` and one row per failed check in ``failures``
    (columns ``column``, ``check``, ``failures`` = number of failing values, ``examples``)."""

    ok: bool
    n_rows: int
    failures: pd.DataFrame

    @property
    def failed_columns(self) -> list[str]:
        """The columns with at least one failed check, in schema order."""
        return list(dict.fromkeys(self.failures["column"]))

    def __str__(self) -> str:
        if self.ok:
            return f"batch of {self.n_rows:,} rows passes every check"
        lines = [f"batch of {self.n_rows:,} rows fails {len(self.failures)} check(s):"]
        for row in self.failures.itertuples(index=False):
            lines.append(
                f"  {row.column}: {row.check} ({row.failures:,} failing, e.g. {row.examples})"
            )
        return "\n".join(lines)


_FAILURE_COLUMNS = ["column", "check", "failures", "examples"]


def _statistical_checks(schema: pa.DataFrameSchema) -> set:
    """Error texts of the schema's whole-column checks whose failure is a mean out of band."""
    return {
        check.error
        for column in schema.columns.values()
        for check in column.checks
        if check.name in _BAND_CHECKS
    }


def _summarise_failures(
    cases: pd.DataFrame, df: pd.DataFrame, schema: pa.DataFrameSchema
) -> pd.DataFrame:
    cases = cases.copy()
    statistical = _statistical_checks(schema)
    missing = cases["check"] == "column_in_dataframe"
    cases.loc[missing, "column"] = cases.loc[missing, "failure_case"]
    cases.loc[missing, "check"] = "column is missing"
    rows = []
    order = {name: i for i, name in enumerate(df.columns)}
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        if check in statistical and pd.api.types.is_numeric_dtype(df[column]):
            examples = f"observed mean {df[column].mean():,.3f}"
            count = 1
        elif check == "not_nullable":
            examples = "NaN or None"
            count = len(group)
        else:
            uniq = list(dict.fromkeys(map(str, group["failure_case"])))
            examples = ", ".join(uniq[:3]) + (", ..." if len(uniq) > 3 else "")
            count = len(group)
        rows.append({"column": column, "check": check, "failures": count, "examples": examples})
    out = pd.DataFrame(rows, columns=_FAILURE_COLUMNS)
    out["_order"] = out["column"].map(lambda c: order.get(c, len(order)))
    return out.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def validate_batch(df: pd.DataFrame, schema: Optional[pa.DataFrameSchema] = None) -> DataReport:
    """Validate a batch against ``schema`` (default :func:`loan_schema`) and report every failure.

    Runs pandera with ``lazy=True`` so that all failures are collected, not just the first, and
    summarises pandera's ``failure_cases`` into one row per (column, check).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"validate_batch expects a pandas DataFrame, got {type(df).__name__}")
    schema = loan_schema() if schema is None else schema
    pa = _pandera()
    from pandera.errors import SchemaErrors

    if not isinstance(schema, pa.DataFrameSchema):
        raise TypeError(f"schema must be a pandera DataFrameSchema, got {type(schema).__name__}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        return DataReport(False, len(df), _summarise_failures(exc.failure_cases, df, schema))
    return DataReport(True, len(df), pd.DataFrame(columns=_FAILURE_COLUMNS))


# --------------------------------------------------------------------------------------------
# Model metrics
# --------------------------------------------------------------------------------------------


def _require_frame(df, name: str, columns=()) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise ValueError(f"{name} is empty")
    for column in columns:
        if column not in df.columns:
            raise ValueError(f"{name} lacks the column {column!r}")


def predict_scores(model, df: pd.DataFrame, *, name: str = "model") -> np.ndarray:
    """Predicted default probabilities of ``model`` for the rows of ``df``."""
    if not hasattr(model, "predict_proba"):
        raise TypeError(f"{name} must have a predict_proba method, got {type(model).__name__}")
    return np.asarray(model.predict_proba(df))[:, 1]


def _threshold(threshold: float) -> float:
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
    return float(threshold)


def _metrics(y, scores, threshold) -> dict:
    from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, roc_auc_score

    labels = scores >= threshold
    return {
        "accuracy": accuracy_score(y, labels),
        "f1": f1_score(y, labels, zero_division=0),
        "roc_auc": roc_auc_score(y, scores) if len(np.unique(y)) == 2 else float("nan"),
        "brier": brier_score_loss(y, scores),
    }


def model_metrics(model, df: pd.DataFrame, *, threshold: float = DECISION_THRESHOLD) -> dict:
    """Accuracy and F1 (at ``threshold``), ROC AUC and Brier score of ``model`` on ``df``."""
    _require_frame(df, "df", [TARGET])
    return _metrics(df[TARGET].to_numpy(), predict_scores(model, df), _threshold(threshold))


def baseline_comparison(
    model, train: pd.DataFrame, holdout: pd.DataFrame, *, threshold: float = DECISION_THRESHOLD
) -> pd.DataFrame:
    """Metrics of ``model`` next to a naive baseline, both on ``holdout``.

    The baseline is scikit-learn's ``DummyClassifier(strategy="prior")`` fitted on ``train``: it
    predicts the training default rate for everybody. Rows are metrics, columns
    ``baseline`` and ``model``.
    """
    _require_frame(train, "train", [TARGET])
    _require_frame(holdout, "holdout", [TARGET])
    threshold = _threshold(threshold)
    from sklearn.dummy import DummyClassifier

    dummy = DummyClassifier(strategy="prior").fit(train[FEATURES], train[TARGET])
    y = holdout[TARGET].to_numpy()
    table = pd.DataFrame(
        {
            "baseline": _metrics(y, dummy.predict_proba(holdout[FEATURES])[:, 1], threshold),
            "model": _metrics(y, predict_scores(model, holdout), threshold),
        }
    )
    table.index.name = "metric"
    return table


def _score_metrics(threshold: float) -> dict:
    from fairlearn.metrics import selection_rate
    from sklearn.metrics import recall_score, roc_auc_score

    def default_rate(y_true, y_score):
        return float(np.mean(y_true))

    def mean_score(y_true, y_score):
        return float(np.mean(y_score))

    def auc(y_true, y_score):
        return roc_auc_score(y_true, y_score) if len(np.unique(y_true)) == 2 else float("nan")

    def recall(y_true, y_score):
        return recall_score(y_true, y_score >= threshold, zero_division=0)

    def flagged(y_true, y_score):
        return selection_rate(y_true, y_score >= threshold)

    return {
        "n": lambda y_true, y_score: len(y_true),
        "default_rate": default_rate,
        "mean_score": mean_score,
        "roc_auc": auc,
        "recall": recall,
        "flagged": flagged,
    }


def slice_metrics(
    model, df: pd.DataFrame, by: str, *, threshold: float = DECISION_THRESHOLD
) -> pd.DataFrame:
    """Metrics per value of column ``by`` (one row per slice, plus an ``overall`` row).

    Columns: ``n``, ``default_rate`` (observed), ``mean_score`` (predicted), ``roc_auc``,
    ``recall`` and ``flagged`` (share sent to review at ``threshold``). Computed with
    fairlearn's ``MetricFrame``.
    """
    _require_frame(df, "df", [TARGET, by])
    from fairlearn.metrics import MetricFrame

    mf = MetricFrame(
        metrics=_score_metrics(_threshold(threshold)),
        y_true=df[TARGET].to_numpy(),
        y_pred=predict_scores(model, df),
        sensitive_features=df[by],
    )
    table = mf.by_group.copy()
    table.loc["overall"] = mf.overall
    table["n"] = table["n"].astype(int)
    return table


# --------------------------------------------------------------------------------------------
# Behavioural tests
# --------------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """One named test with its outcome and a sentence explaining it."""

    name: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.detail}"


def _perturbed(column: pd.Series) -> pd.Series:
    """Another plausible value in every row: categories move to the next category, numbers are
    reversed in order (so the column keeps its distribution)."""
    if pd.api.types.is_numeric_dtype(column):
        return pd.Series(column.to_numpy()[::-1], index=column.index)
    values = sorted(map(str, column.dropna().unique()))
    if len(values) < 2:
        raise ValueError(f"column {column.name!r} needs at least two distinct values to perturb")
    nxt = {v: values[(i + 1) % len(values)] for i, v in enumerate(values)}
    return column.map(lambda v: nxt.get(str(v), v))


def invariance_test(model, df: pd.DataFrame, column: str, *, tol: float = 1e-9) -> CheckResult:
    """Changing ``column`` alone (a field the model must ignore) must not change predictions.

    Each row gets another plausible value of ``column`` (the next category, or another row's
    number); the test passes when no predicted probability moves by more than ``tol``.
    """
    _require_frame(df, "df", [column])
    before = predict_scores(model, df)
    changed = df.copy()
    changed[column] = _perturbed(df[column])
    after = predict_scores(model, changed)
    shift = float(np.max(np.abs(after - before)))
    passed = shift <= tol
    detail = (
        f"changing {column} moves predictions by at most {shift:.2g}"
        + ("" if passed else f" (allowed {tol:g}): the model reads a field it must ignore")
    )
    return CheckResult(f"invariance to {column}", passed, detail)


def directional_test(
    model,
    df: pd.DataFrame,
    feature: str = "income",
    *,
    factor: float = 1.5,
    expect: str = "decrease",
    min_mean_change: float = 0.005,
    max_violation_share: float = 0.01,
) -> CheckResult:
    """Multiplying ``feature`` by ``factor`` must move the risk in the ``expect`` direction.

    Passes when the mean predicted probability moves by at least ``min_mean_change`` in the
    expected direction and at most ``max_violation_share`` of the rows fail to move that way
    (a model that ignores the feature fails: nothing moves).
    """
    _require_frame(df, "df", [feature])
    if expect not in ("decrease", "increase"):
        raise ValueError(f"expect must be 'decrease' or 'increase', got {expect!r}")
    if not pd.api.types.is_numeric_dtype(df[feature]):
        raise ValueError(f"directional_test needs a numeric column, but {feature!r} is not")
    before = predict_scores(model, df)
    changed = df.copy()
    changed[feature] = df[feature] * factor
    after = predict_scores(model, changed)
    sign = -1.0 if expect == "decrease" else 1.0
    moved = sign * (after - before)  # positive = moved the expected way
    mean_change = float(np.mean(after - before))
    violations = float(np.mean(moved <= 0))
    passed = sign * mean_change >= min_mean_change and violations <= max_violation_share
    detail = (
        f"{feature} x {factor:g}: mean risk change {mean_change:+.3g} "
        f"(expected {'<= -' if sign < 0 else '>= +'}{min_mean_change:g}), "
        f"{violations:.1%} of rows not moving the expected way (allowed {max_violation_share:.0%})"
    )
    return CheckResult(f"higher {feature} -> {'lower' if sign < 0 else 'higher'} risk", passed,
                       detail)


def minimum_functionality_test(
    model, *, safe_max: float = 0.05, risky_min: float = 0.5
) -> CheckResult:
    """An obviously safe applicant must score below ``safe_max``, an obviously risky one above
    ``risky_min`` (see ``SAFE_APPLICANT`` and ``RISKY_APPLICANT``)."""
    cases = pd.DataFrame([SAFE_APPLICANT, RISKY_APPLICANT])
    safe, risky = predict_scores(model, cases)
    passed = bool(safe < safe_max and risky > risky_min)
    detail = (
        f"obviously safe applicant {safe:.3f} (must be < {safe_max:g}), "
        f"obviously risky applicant {risky:.3f} (must be > {risky_min:g})"
    )
    return CheckResult("minimum functionality", passed, detail)


def behavioural_tests(model, df: pd.DataFrame) -> list[CheckResult]:
    """The course's behavioural test suite: invariance to ``application_id`` and to the sensitive
    ``age_band``, higher income -> lower risk, minimum functionality."""
    return [
        invariance_test(model, df, "application_id"),
        invariance_test(model, df, SENSITIVE),
        directional_test(model, df, "income"),
        minimum_functionality_test(model),
    ]


# --------------------------------------------------------------------------------------------
# Fairness
# --------------------------------------------------------------------------------------------


@dataclass
class FairnessReport:
    """Per-group metrics (fairlearn ``MetricFrame.by_group``) and the demographic parity
    difference: the largest gap in the share of applicants flagged between two groups."""

    by_group: pd.DataFrame
    demographic_parity_difference: float
    sensitive: str


def fairness_report(
    model, df: pd.DataFrame, *, sensitive: str = SENSITIVE, threshold: float = DECISION_THRESHOLD
) -> FairnessReport:
    """Fairness of the review decisions (score >= ``threshold``) across ``sensitive``.

    ``by_group`` has ``n``, ``default_rate`` (observed), ``flagged`` (selection rate),
    ``recall`` (true positive rate) and ``false_positive_rate`` per group.
    """
    _require_frame(df, "df", [TARGET, sensitive])
    from fairlearn.metrics import (MetricFrame, demographic_parity_difference,
                                   selection_rate)
    from sklearn.metrics import recall_score

    threshold = _threshold(threshold)
    y = df[TARGET].to_numpy()
    flagged = (predict_scores(model, df) >= threshold).astype(int)

    def fpr(y_true, y_pred):
        negatives = y_true == 0
        return float(np.mean(y_pred[negatives])) if negatives.any() else float("nan")

    mf = MetricFrame(
        metrics={
            "n": lambda y_true, y_pred: len(y_true),
            "default_rate": lambda y_true, y_pred: float(np.mean(y_true)),
            "flagged": selection_rate,
            "recall": partial(recall_score, zero_division=0),
            "false_positive_rate": fpr,
        },
        y_true=y,
        y_pred=flagged,
        sensitive_features=df[sensitive],
    )
    table = mf.by_group.copy()
    table["n"] = table["n"].astype(int)
    dpd = float(demographic_parity_difference(y, flagged, sensitive_features=df[sensitive]))
    return FairnessReport(table, dpd, sensitive)


# --------------------------------------------------------------------------------------------
# The quality gate
# --------------------------------------------------------------------------------------------


@dataclass
class GateDecision:
    """Whether the candidate may replace the champion, why not (``reasons``, empty when
    accepted) and every check the gate ran (``details``: area, check, passed, observed,
    required)."""

    accepted: bool
    reasons: list[str]
    details: pd.DataFrame = field(repr=False)

    def __str__(self) -> str:
        n = len(self.details)
        if self.accepted:
            return f"ACCEPTED: the candidate passed all {n} checks"
        head = f"REJECTED: {len(self.reasons)} of {n} checks failed"
        return "\n".join([head, *(f"  - {r}" for r in self.reasons)])


def quality_gate(
    candidate,
    champion,
    batch: pd.DataFrame,
    holdout: pd.DataFrame,
    *,
    schema: Optional[pa.DataFrameSchema] = None,
    threshold: float = DECISION_THRESHOLD,
    min_auc_margin: float = 0.05,
    max_auc_drop: float = 0.01,
    max_dp_increase: float = 0.05,
) -> GateDecision:
    """Decide whether ``candidate`` may replace ``champion`` (``None``: there is no champion yet).

    ``batch`` is the new data the candidate was trained on, ``holdout`` a trusted evaluation set
    with outcomes. The candidate is accepted only if all of these pass:

    - data: ``batch`` and ``holdout`` pass the schema (default :func:`loan_schema`);
    - baseline: the candidate's ROC AUC on ``holdout`` beats the naive baseline's by at least
      ``min_auc_margin`` and its Brier score is lower than the baseline's;
    - champion: its ROC AUC is at most ``max_auc_drop`` below the champion's;
    - behaviour: every test in :func:`behavioural_tests`;
    - fairness: its demographic parity difference across the age band is at most
      ``max_dp_increase`` above the champion's.

    The comparisons with the champion are skipped when ``champion`` is ``None``.
    """
    _require_frame(batch, "batch", [*FEATURES, TARGET])
    _require_frame(holdout, "holdout", [*FEATURES, TARGET, SENSITIVE])
    predict_scores(candidate, holdout.head(1), name="candidate")
    if champion is not None:
        predict_scores(champion, holdout.head(1), name="champion")
    threshold = _threshold(threshold)
    rows: list[dict] = []
    reasons: list[str] = []

    def record(area, check, passed, observed, required, reason):
        rows.append({"area": area, "check": check, "passed": bool(passed),
                     "observed": observed, "required": required})
        if not passed:
            reasons.append(reason)

    for name, frame in (("batch", batch), ("holdout", holdout)):
        report = validate_batch(frame, schema)
        problems = "; ".join(
            f"{r.column} {r.check} ({r.failures:,} failing, e.g. {r.examples})"
            for r in report.failures.itertuples(index=False)
        )
        record("data", f"{name} passes the schema", report.ok,
               f"{len(report.failures)} failed check(s)", "none",
               f"the {name} fails the data checks: {problems}")

    base = baseline_comparison(candidate, batch, holdout, threshold=threshold)
    auc, base_auc = base.loc["roc_auc", "model"], base.loc["roc_auc", "baseline"]
    record("model", "ROC AUC above baseline", auc >= base_auc + min_auc_margin, f"{auc:.4f}",
           f">= {base_auc + min_auc_margin:.4f}",
           f"ROC AUC {auc:.3f} does not beat the naive baseline ({base_auc:.3f}) by "
           f"{min_auc_margin:g}")
    brier, base_brier = base.loc["brier", "model"], base.loc["brier", "baseline"]
    record("model", "Brier score below baseline", brier < base_brier, f"{brier:.4f}",
           f"< {base_brier:.4f}",
           f"Brier score {brier:.4f} is not below the naive baseline's {base_brier:.4f}")
    if champion is not None:
        champ_auc = model_metrics(champion, holdout, threshold=threshold)["roc_auc"]
        record("model", "ROC AUC not worse than champion", auc >= champ_auc - max_auc_drop,
               f"{auc:.4f}", f">= {champ_auc - max_auc_drop:.4f}",
               f"ROC AUC {auc:.3f} is more than {max_auc_drop:g} below the champion's "
               f"{champ_auc:.3f}")

    for result in behavioural_tests(candidate, holdout):
        record("behaviour", result.name, result.passed, result.detail, "see test",
               f"behavioural test '{result.name}' failed: {result.detail}")

    if champion is not None:
        from fairlearn.metrics import demographic_parity_difference

        groups = holdout[SENSITIVE]
        y = holdout[TARGET].to_numpy()

        def parity_gap(model):
            flags = (predict_scores(model, holdout) >= threshold).astype(int)
            return float(demographic_parity_difference(y, flags, sensitive_features=groups))

        value, champ_value = parity_gap(candidate), parity_gap(champion)
        limit = champ_value + max_dp_increase
        record("fairness", f"demographic parity difference ({SENSITIVE})", value <= limit,
               f"{value:.4f}", f"<= {limit:.4f}",
               f"demographic parity difference across {SENSITIVE} {value:.3f} exceeds the "
               f"champion's {champ_value:.3f} by more than {max_dp_increase:g}")
    details = pd.DataFrame(rows, columns=["area", "check", "passed", "observed", "required"])
    return GateDecision(not reasons, reasons, details)
