"""Checks for the model-decay exercise: implement PSI, find the month in which drift began, and
(the challenge) find which feature drifted first and by how much.

Every call of learner code goes through :mod:`mlecourse.exercises.common` (time limit, plain
values, fresh copies). Hidden tests call the same checks with more cases (``cases=...``).
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import numpy as np
import pandas as pd

from mlecourse.example.simulate import Drift, Scenario, simulate_loans
from mlecourse.exercises.common import (
    as_dict, as_number, as_text, call, fail, fresh, same_function,
)
from mlecourse.principles import drift
from mlecourse.principles.drift import psi_numeric

REFERENCE_MONTHS = 6
THRESHOLD = 0.2
FEATURE = "income"
_DRIFT_START = 9  # month index; the learner has to find it


@lru_cache(maxsize=1)
def _mystery():
    scenario = Scenario(covariate_shift=Drift(_DRIFT_START, 0.8))
    return simulate_loans(months=15, rows_per_month=4_000, seed=11, scenario=scenario)


def mystery_data() -> pd.DataFrame:
    """Fifteen months of applications; somewhere after the reference half-year the inputs move.

    A fresh copy on every call: learner code may change it without affecting any check.
    """
    return _mystery().copy()


# --- part 1: psi --------------------------------------------------------------------------------

@contextlib.contextmanager
def _package_watch():
    """Notice when the package's PSI machinery runs inside learner code (an imported answer)."""
    used = []
    original = drift._psi_from_counts

    def spy(*args, **kwargs):
        used.append(True)
        return original(*args, **kwargs)

    drift._psi_from_counts = spy
    try:
        yield used
    finally:
        drift._psi_from_counts = original


def _psi_with_edges(reference, current, edges, eps=1e-4, closed_range=False, per_window=False):
    """PSI with explicit bin edges: a model of typical mistakes, for the diagnosis."""
    if closed_range:  # np.histogram: values outside [edges[0], edges[-1]] are dropped
        r, _ = np.histogram(reference, bins=edges)
        c, _ = np.histogram(current, bins=edges)
    else:
        k = len(edges) + 1
        r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=k)
        c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=k)
    # Shares of the counted values, or of the whole window (dropped values still counted).
    r = np.maximum(r / (len(reference) if per_window else r.sum()), eps)
    c = np.maximum(c / (len(current) if per_window else max(c.sum(), 1)), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_cases(seed: int = 2024):
    """Named (reference, current, keyword arguments) cases for ``check_psi``."""
    rng = np.random.default_rng(seed)
    ref = rng.lognormal(3.6, 0.45, size=20_000)
    return {
        "a shifted window": (ref, rng.lognormal(3.45, 0.5, size=8_000), {}),
        "a window partly beyond the reference's range": (ref, rng.lognormal(4.6, 0.45, 5_000), {}),
        "a window that leaves some bins empty": (ref, 3 * rng.lognormal(3.6, 0.45, 5_000), {}),
        "pandas Series with bins=5": (pd.Series(ref), pd.Series(rng.lognormal(3.5, 0.45, 6_000)),
                                      {"bins": 5}),
        "empty bins with eps=0.001": (ref, 3 * rng.lognormal(3.6, 0.45, 5_000), {"eps": 1e-3}),
    }


def _psi_value(psi, reference, current, kwargs, what):
    __tracebackhide__ = True
    with _package_watch() as used:
        value = call(psi, fresh(reference), fresh(current), **kwargs, what=what)
    if used:
        fail("Your psi calls the course package's own PSI (mlecourse.principles.drift). The "
             "exercise asks you to write it yourself: the package's version is there for the "
             "notebooks, not for this answer.")
    if isinstance(value, (np.ndarray, pd.Series, list, tuple)):
        fail(f"{what} returned a {type(value).__name__}; psi should return one number. Sum the "
             "per-bin terms (c - r) * ln(c / r) into a single float.")
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        fail(f"{what} returned {value}. An empty bin gives ln(0) or 0/0: floor every share at "
             "eps before applying the formula.")
    return as_number(value, f"{what}'s result")


def _diagnose_psi(ref, cur, kwargs, got, want) -> str:
    bins, eps = kwargs.get("bins", 10), kwargs.get("eps", 1e-4)
    quantiles = np.quantile(ref, np.linspace(0, 1, bins + 1))
    dropped = ("values outside the reference's range were dropped (np.histogram does that). "
               "The outer bins must be open: everything below the first inner edge falls in the "
               "first bin, everything above the last one in the last bin.")
    diagnoses = [
        (_psi_with_edges(ref, cur, quantiles, eps, closed_range=True), dropped),
        (_psi_with_edges(ref, cur, quantiles, eps, closed_range=True, per_window=True), dropped),
        (_psi_with_edges(ref, cur, quantiles, eps),
         f"you used all {bins + 1} quantiles, minimum and maximum included, as edges: an "
         f"off-by-one in the binning ({bins + 2} bins, two of them almost empty). {bins} bins "
         f"need {bins - 1} inner edges."),
        (psi_numeric(ref, cur, bins=bins - 1, eps=eps),
         f"you built {bins - 1} bins instead of {bins}: an off-by-one in the binning."),
        (psi_numeric(ref, cur, bins=bins + 1, eps=eps),
         f"you built {bins + 1} bins instead of {bins}: an off-by-one in the binning."),
        (psi_numeric(ref, cur, bins=bins, eps=1e-300),
         "an empty bin's share was not floored at eps, so ln(c / r) blows up: replace every "
         "share below eps by eps before applying the formula."),
        (-want, "the sign is flipped: PSI = sum (c - r) * ln(c / r) is never negative."),
    ]
    if bins != 10:
        diagnoses.insert(0, (psi_numeric(ref, cur, bins=10, eps=eps),
                             f"you built 10 bins although bins={bins} was asked: use the `bins` "
                             "argument instead of a fixed number."))
    if eps != 1e-4:
        diagnoses.insert(0, (psi_numeric(ref, cur, bins=bins, eps=1e-4),
                             f"you floored the shares at 1e-4 although eps={eps} was asked: use "
                             "the `eps` argument instead of a fixed number."))
    for variant, message in diagnoses:
        if np.isclose(got, variant, rtol=1e-6, atol=1e-9):
            return message
    return ("check the bins (quantiles of the reference, outer bins open), the shares (counts / "
            "size of each window), the eps floor and the formula sum (c - r) * ln(c / r).")


def check_psi(psi, cases=None) -> None:
    """Explain what is wrong with a learner's ``psi(reference, current, bins=10, eps=1e-4)``."""
    __tracebackhide__ = True
    same_function(psi, psi_numeric, "psi_numeric")
    same = np.random.default_rng(7).normal(size=5_000)
    value = _psi_value(psi, same, same, {}, "psi(x, x)")
    if abs(value) > 1e-9:
        fail(f"psi(x, x) should be 0 (identical windows), but it returned {value:.4g}. Check "
             "that both windows are binned with the same edges and turned into shares.")
    for name, (ref, cur, kwargs) in (cases or psi_cases()).items():
        args = "".join(f", {k}={v}" for k, v in kwargs.items())
        got = _psi_value(psi, ref, cur, kwargs, f"psi(reference, current{args}) for {name}")
        want = psi_numeric(np.asarray(ref, float), np.asarray(cur, float), **kwargs)
        if not np.isclose(got, want, rtol=1e-6, atol=1e-9):
            fail(f"psi returned {got:.4f} for {name}, expected {want:.4f}: "
                 + _diagnose_psi(np.asarray(ref, float), np.asarray(cur, float), kwargs,
                                 got, want))
    print("Well done: psi is correct.")


# --- part 2: when did the drift begin? ----------------------------------------------------------

def _as_month(value, what: str) -> pd.Timestamp:
    """A plain Timestamp (day precision) from a Timestamp or datetime64; refuse anything else."""
    __tracebackhide__ = True
    if isinstance(value, (str, pd.Period, int, np.integer)) or not isinstance(
            value, (pd.Timestamp, np.datetime64)):
        fail(f"{what} should return the month as a pandas Timestamp (a value of the 'month' "
             f"column, e.g. pd.Timestamp('2024-03-01')), not a {type(value).__name__}.")
    # Rebuilt from its text, so a subclass with its own == plays no part in the comparison.
    return pd.Timestamp(as_text(str(pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S"))))


def _relabelled(df: pd.DataFrame, months: int) -> pd.DataFrame:
    """The same data with every month moved ``months`` later: a hard-coded date cannot pass."""
    df = df.copy()
    df["month"] = df["month"] + pd.DateOffset(months=months)
    return df


def drift_month_cases():
    """(description, data, keyword arguments, index of the right month or None)."""
    return [
        ("the mystery data", mystery_data, {}, _DRIFT_START),
        ("the mystery data with every month two months later",
         lambda: _relabelled(mystery_data(), 2), {}, _DRIFT_START),
        ("the mystery data with threshold=100", mystery_data, {"threshold": 100}, None),
    ]


def _explain_month(answer, months, truth_index, name) -> str:
    index = {pd.Timestamp(m): i for i, m in enumerate(months)}
    if answer not in index:
        return f"{answer:%Y-%m-%d} is not a month of {name} (months start on day 1)."
    i = index[answer]
    if i < REFERENCE_MONTHS:
        return (f"{answer:%B %Y} is inside the reference window of {name} (its first "
                f"{REFERENCE_MONTHS} months): compare only later months with the reference.")
    if i == truth_index - 1:
        return (f"{answer:%B %Y} is one month too early for {name}: its PSI is still small. Did "
                "you take the month before the first one above the threshold?")
    if i == truth_index + 1:
        return (f"{answer:%B %Y} is one month too late for {name}: the month before it already "
                "exceeds the threshold. Did you skip the first alarm (an off-by-one in the loop)?")
    return (f"{answer:%B %Y} is not the month in which drift began in {name}. "
            f"Compute the PSI of the feature for every month against the first "
            f"{REFERENCE_MONTHS} months and take the first month above the threshold.")


def check_first_drift_month(first_drift_month, cases=None) -> None:
    """Check ``first_drift_month(df, feature, threshold, reference_months)`` on several data
    sets: the first month above the threshold, or ``None`` when no month exceeds it."""
    __tracebackhide__ = True
    if not callable(first_drift_month):
        fail("Pass the function itself to the check: check_first_drift_month(first_drift_month), "
             f"not its result (a {type(first_drift_month).__name__}).")
    for name, data, kwargs, truth_index in (cases or drift_month_cases()):
        df = data()
        months = sorted(df["month"].unique())
        args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        what = f"first_drift_month(df{args}) on {name}"
        answer = call(first_drift_month, df, **kwargs, what=what)
        if truth_index is None:
            if answer is not None:
                fail(f"{what} returned {answer!r}, but no month exceeds that threshold: return "
                     "None when there is no alarm.")
            continue
        if answer is None:
            fail(f"{what} returned None, but the data do drift. Compare every month after the "
                 f"reference window with the reference and look for PSI > {THRESHOLD}.")
        answer = _as_month(answer, "first_drift_month")
        if answer != pd.Timestamp(months[truth_index]):
            fail(_explain_month(answer, months, truth_index, name))
    print(f"Well done: first_drift_month dates the drift (in the mystery data: "
          f"{pd.Timestamp(sorted(_mystery()['month'].unique())[_DRIFT_START]):%B %Y}).")


# --- the challenge: which feature drifted first, and by how much? -----------------------------

@lru_cache(maxsize=1)
def _calm(seed: int = 5) -> pd.DataFrame:
    return simulate_loans(months=12, rows_per_month=2_000, seed=seed)


#: Each plan moves features by a factor from a month index on: (feature, start, factor).
CHALLENGE_PLANS = (
    (("loan_amount", 7, 1.5), ("income", 9, 0.7)),
    (("credit_history_years", 8, 0.65), ("loan_amount", 10, 1.5)),
)


def challenge_data(plan=CHALLENGE_PLANS[0]) -> pd.DataFrame:
    """Twelve months of a second lender's applications; from some month on, features move."""
    df = _calm().copy()
    months = sorted(df["month"].unique())
    for feature, start, factor in plan:
        later = df["month"] >= months[start]
        df.loc[later, feature] = df.loc[later, feature] * factor
    return df


def _median_ratio(df, feature, month, reference_months=REFERENCE_MONTHS) -> float:
    months = sorted(df["month"].unique())
    reference = df.loc[df["month"].isin(months[:reference_months]), feature]
    return float(df.loc[df["month"] == month, feature].median() / reference.median())


def check_first_drifted_feature(first_drifted_feature, plans=CHALLENGE_PLANS) -> None:
    """Check ``first_drifted_feature(df, reference_months=6)``: a dict with the ``feature`` that
    moved first, the ``month`` it moved and the ``ratio`` of its median in that month to its
    median in the reference months."""
    __tracebackhide__ = True
    for number, plan in enumerate(plans, start=1):
        df = challenge_data(plan)
        months = sorted(df["month"].unique())
        what = f"first_drifted_feature(df) on data set {number}"
        result = call(first_drifted_feature, df.copy(), what=what)
        if result is None:
            fail(f"{what} returned None, but features do move in this data set. Compare every "
                 "month after the reference months with the reference, feature by feature, and "
                 "look at changes well above the month-to-month noise.")
        result = as_dict(result, f"{what}'s result")
        missing = {"feature", "month", "ratio"} - set(result)
        if missing:
            fail(f"{what} returned a dict without {', '.join(sorted(missing))}: return "
                 "{'feature': ..., 'month': ..., 'ratio': ...}.")
        feature = as_text(result["feature"], f"{what}['feature']")
        month = _as_month(result["month"], f"{what}['month']")
        first, start, factor = plan[0]
        moved = {f: pd.Timestamp(months[s]) for f, s, _ in plan}
        if feature != first:
            if feature in moved:
                fail(f"{what} says {feature!r} moved first, and it did move, from "
                     f"{moved[feature]:%B %Y}; but {first!r} moved earlier. Look at every "
                     "feature, and at changes smaller than your threshold: a jump from "
                     "month-to-month noise to a steady higher level is a drift too.")
            fail(f"{what} says {feature!r} moved first, but {feature!r} did not drift in this "
                 "data set; its month-to-month changes are noise. With many features and months, "
                 "a test at p < 0.05 fires by chance: compare the size of the change instead.")
        if month != moved[first]:
            fail(f"{what} names the right feature ({first!r}), but the month is {month:%B %Y}; "
                 f"{_explain_month(month, months, start, 'data set ' + str(number))}")
        ratio = as_number(result["ratio"], f"{what}['ratio']")
        want = _median_ratio(df, first, months[start])
        if abs(ratio - want) > 0.03:
            if abs(ratio - (want - 1)) <= 0.03:
                fail(f"{what}['ratio'] is {ratio:.3f}, the relative change; return the ratio "
                     f"median(month) / median(reference), here about {want:.2f}.")
            if abs(ratio - 1 / want) <= 0.03:
                fail(f"{what}['ratio'] is {ratio:.3f}, the ratio upside down; return "
                     "median(month) / median(reference).")
            fail(f"{what}['ratio'] is {ratio:.3f}, but the median of {first!r} in "
                 f"{month:%B %Y} is {want:.2f} times its median over the reference months.")
    print("Well done: you found which feature drifted first, when, and by how much.")
