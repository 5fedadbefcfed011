"""Checks for the model-decay exercise: implement PSI, then find the month in which drift began."""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from mlecourse.principles.drift import psi_numeric
from mlecourse.example.simulate import Drift, Scenario, simulate_loans

REFERENCE_MONTHS = 6
THRESHOLD = 0.2
FEATURE = "income"
_DRIFT_START = 9  # month index; the learner has to find it


def mystery_data() -> pd.DataFrame:
    """Fifteen months of applications; somewhere after the reference half-year the inputs move."""
    scenario = Scenario(covariate_shift=Drift(_DRIFT_START, 0.8))
    return simulate_loans(months=15, rows_per_month=4_000, seed=11, scenario=scenario)


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


def _cases():
    rng = np.random.default_rng(2024)
    ref = rng.lognormal(3.6, 0.45, size=20_000)
    return {
        "a shifted window": (ref, rng.lognormal(3.45, 0.5, size=8_000)),
        "a window partly beyond the reference's range": (ref, rng.lognormal(4.6, 0.45, 5_000)),
        "a window that leaves some bins empty": (ref, 3 * rng.lognormal(3.6, 0.45, 5_000)),
    }


def check_psi(psi) -> None:
    """Explain what is wrong with a learner's ``psi(reference, current, bins=10, eps=1e-4)``."""
    rng = np.random.default_rng(7)
    same = rng.normal(size=5_000)
    value = psi(same, same)
    if isinstance(value, (np.ndarray, pd.Series, list, tuple)):
        raise AssertionError(
            f"psi should return one number, but it returned a {type(value).__name__}. "
            "Sum the per-bin terms (c - r) * ln(c / r) into a single float."
        )
    if not isinstance(value, Real) or isinstance(value, bool):
        raise AssertionError(f"psi should return a number, but it returned {type(value).__name__}.")
    if not np.isfinite(value) or abs(value) > 1e-9:
        raise AssertionError(
            f"psi(x, x) should be 0 (identical windows), but it returned {value}. "
            "Check that both windows are binned with the same edges and turned into shares."
        )
    for name, (ref, cur) in _cases().items():
        got = psi(ref, cur)
        want = psi_numeric(ref, cur, bins=10)
        if not np.isfinite(got):
            raise AssertionError(
                f"psi returned {got} for {name}. An empty bin gives ln(0): floor every share "
                "at eps before applying the formula."
            )
        if np.isclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        quantiles = np.quantile(ref, np.linspace(0, 1, 11))
        dropped = ("values outside the reference's range were dropped (np.histogram does "
                   "that). Use only the inner edges (the 10 %, ..., 90 % quantiles) and let the "
                   "outer bins run to -inf and +inf.")
        diagnoses = [
            (_psi_with_edges(ref, cur, quantiles, closed_range=True), dropped),
            (_psi_with_edges(ref, cur, quantiles, closed_range=True, per_window=True), dropped),
            (_psi_with_edges(ref, cur, quantiles),
             "you used all 11 quantiles, minimum and maximum included, as edges: that is an "
             "off-by-one in the binning (12 bins, two of them almost empty). For 10 bins you "
             "need the 9 inner edges np.quantile(reference, np.linspace(0, 1, 11)[1:-1])."),
            (psi_numeric(ref, cur, bins=9),
             "you built 9 bins instead of 10: an off-by-one in the binning. np.linspace(0, 1, "
             "bins) gives bins points; the inner edges are np.linspace(0, 1, bins + 1)[1:-1]."),
            (psi_numeric(ref, cur, bins=11),
             "you built 11 bins instead of 10: an off-by-one in the binning. The inner edges "
             "are np.linspace(0, 1, bins + 1)[1:-1], i.e. bins - 1 of them."),
            (-want, "the sign is flipped: PSI = sum (c - r) * ln(c / r) is never negative."),
        ]
        for variant, message in diagnoses:
            if np.isclose(got, variant, rtol=1e-6, atol=1e-9):
                raise AssertionError(f"psi returned {got:.4f} for {name}, expected {want:.4f}: "
                                     + message)
        raise AssertionError(
            f"psi returned {got:.4f} for {name}, expected {want:.4f}. Check the bins (deciles "
            "of the reference, outer bins open), the shares (counts / total of each window), "
            "the eps floor and the formula sum (c - r) * ln(c / r)."
        )
    print("Well done: psi is correct.")


def check_first_drift_month(answer) -> None:
    """Explain what is wrong with the month a learner reports as the start of the drift."""
    df = mystery_data()
    months = sorted(df["month"].unique())
    truth = pd.Timestamp(months[_DRIFT_START])
    if answer is None:
        raise AssertionError(
            "first_drift_month returned None, but the data do drift. Compare every month after "
            f"the reference window with the reference and look for PSI > {THRESHOLD}."
        )
    if isinstance(answer, (str, pd.Period, int, np.integer)) or not isinstance(
        answer, (pd.Timestamp, np.datetime64)
    ):
        raise AssertionError(
            f"Return the month as a pandas Timestamp (a value of the 'month' column, e.g. "
            f"pd.Timestamp('2024-03-01')), not a {type(answer).__name__}."
        )
    answer = pd.Timestamp(answer)
    index = {pd.Timestamp(m): i for i, m in enumerate(months)}
    if answer not in index:
        raise AssertionError(
            f"{answer:%Y-%m-%d} is not a month of the data (months start on day 1)."
        )
    i = index[answer]
    if i < REFERENCE_MONTHS:
        raise AssertionError(
            f"{answer:%B %Y} is inside the reference window (the first {REFERENCE_MONTHS} "
            "months): compare only later months with the reference."
        )
    if i == _DRIFT_START - 1:
        raise AssertionError(
            f"{answer:%B %Y} is one month too early: its PSI is still small. Did you take the "
            "month before the first one above the threshold?"
        )
    if i == _DRIFT_START + 1:
        raise AssertionError(
            f"{answer:%B %Y} is one month too late: the month before it already exceeds the "
            "threshold. Did you skip the first alarm (e.g. an off-by-one in the loop)?"
        )
    if answer != truth:
        raise AssertionError(
            f"{answer:%B %Y} is not the month in which drift began. Compute the PSI of "
            f"'{FEATURE}' for every month against the first {REFERENCE_MONTHS} months and take "
            f"the first month above {THRESHOLD}."
        )
    print(f"Well done: the drift began in {truth:%B %Y}.")
