"""Checks for the cost exercise: find the hot spot in a slow function and make it much faster.

The learner gets two deliberately slow functions, :func:`slow_scores` (a Python loop over the
rows of a batch that calls the model once per row and recomputes the regional median income for
every row) and :func:`slow_bin_counts` (a Python loop that bins values one at a time), and writes
fast versions. :func:`check_fast_scores` and :func:`check_fast_bin_counts` compare the outputs
with the slow versions' and measure both functions in the same run: the speed-up is a ratio, so
the check means the same on a fast laptop and on a busy shared machine.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from mlecourse.example.features import debt_to_income, monthly_instalment
from mlecourse.example.model import train
from mlecourse.example.simulate import FEATURES, SCENARIOS, simulate_loans
from mlecourse.exercises.common import (
    as_int,
    as_list,
    as_number,
    as_text,
    call,
    fail,
    fresh,
    same_function,
)

__all__ = [
    "ANNUAL_RATE",
    "RISK_CUTOFF",
    "DTI_CUTOFF",
    "MIN_SPEEDUP",
    "MIN_BIN_SPEEDUP",
    "RESULT_COLUMNS",
    "ExerciseData",
    "exercise_data",
    "drifted_batch",
    "slow_scores",
    "slow_bin_counts",
    "check_fast_scores",
    "check_fast_bin_counts",
    "measured_speedup",
]

ANNUAL_RATE = 0.06
RISK_CUTOFF = 0.2
DTI_CUTOFF = 0.45
MIN_SPEEDUP = 20.0
# Binning 20,000 values with NumPy (searchsorted, digitize) is only about 20 times faster than
# the Python loop on an idle machine, because a binary search per value is not free; 10 times
# still separates every vectorised answer from every loop (bisect in a loop: about 3 times).
MIN_BIN_SPEEDUP = 10.0
RESULT_COLUMNS = ["application_id", "risk", "debt_to_income", "relative_income", "decision"]
_SEED = 11
_TIMING_ROWS = 60
_BIN_EDGES = [-1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5]


def slow_scores(batch: pd.DataFrame, model) -> pd.DataFrame:
    """Score a batch of loan applications, slowly (the exercise's starting point).

    For every application: the predicted ``risk`` of default, the ``debt_to_income`` ratio
    (monthly instalment at 6 % a year), the applicant's income relative to the median income of
    the applicants from the same region in this batch (``relative_income``) and a ``decision``:
    "refer" when the risk is above 0.2 or the debt-to-income ratio above 0.45, else "approve".
    One row per application, in the batch's order.
    """
    rows = []
    for i in range(len(batch)):
        row = batch.iloc[[i]]
        regional_median = batch.groupby("region")["income"].median()
        relative_income = row["income"].iloc[0] / regional_median[row["region"].iloc[0]]
        risk = model.predict_proba(row[FEATURES])[0, 1]
        instalment = monthly_instalment(row["loan_amount"].iloc[0], ANNUAL_RATE,
                                        row["term_months"].iloc[0])
        dti = debt_to_income(instalment, row["income"].iloc[0])
        decision = "refer" if risk > RISK_CUTOFF or dti > DTI_CUTOFF else "approve"
        rows.append({"application_id": int(row["application_id"].iloc[0]), "risk": float(risk),
                     "debt_to_income": float(dti), "relative_income": float(relative_income),
                     "decision": decision})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def slow_bin_counts(values, edges) -> list:
    """How many ``values`` fall in each bin, one value at a time (the challenge's starting point).

    The ``len(edges) + 1`` bins are ``(-inf, e0)``, ``[e0, e1)``, ..., ``[e_last, +inf)``: closed
    on the left, like the PSI bins of the model-decay chapter. ``edges`` are increasing.
    """
    counts = [0] * (len(edges) + 1)
    for value in values:
        i = 0
        while i < len(edges) and value >= edges[i]:
            i += 1
        counts[i] += 1
    return counts


# ----------------------------------------------------------------------------- the material


@dataclass(frozen=True)
class ExerciseData:
    """A month of applications to score (``batch``) and the fitted ``model`` to score them with."""

    batch: pd.DataFrame
    model: object


@lru_cache(maxsize=1)
def _material():
    history = simulate_loans(months=4, rows_per_month=2_000, seed=_SEED)
    model = train(history[history["month"] < "2024-04-01"], seed=_SEED)
    batch = history[history["month"] == "2024-04-01"].iloc[:_TIMING_ROWS].reset_index(drop=True)
    return batch, model


def exercise_data() -> ExerciseData:
    """Fresh copies of the batch and the model (changing them cannot affect the checks)."""
    batch, model = _material()
    return ExerciseData(batch.copy(), fresh(model))


@lru_cache(maxsize=1)
def _drifted():
    history = simulate_loans(months=16, rows_per_month=25, seed=_SEED + 1,
                             scenario=SCENARIOS["downturn"])
    return history[history["month"] >= "2025-03-01"].reset_index(drop=True)


def drifted_batch() -> pd.DataFrame:
    """A second batch for the hidden tests: months of the downturn, other applicants."""
    return _drifted().copy()


def _cases():
    """(description, batch) pairs for the visible check: the timing batch, a shuffled sample with
    its original (non-consecutive) index, and a single application."""
    batch = exercise_data().batch
    shuffled = batch.sample(25, random_state=3)
    return [("the exercise batch", batch),
            ("a shuffled sample of 25 rows that keeps its original index", shuffled),
            ("a batch of one application", batch.iloc[[7]])]


# --------------------------------------------------------------------------------- measuring


def _best_time(function, args, what: str, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` time-limited calls, each on fresh copies of ``args``."""
    __tracebackhide__ = True
    best = math.inf
    for _ in range(repeat):
        copies = fresh(args)
        start = time.perf_counter()
        call(function, *copies, what=what)
        best = min(best, time.perf_counter() - start)
    return best


def measured_speedup(slow, fast, *args, slow_seconds: float | None = None, repeat: int = 3,
                     what: str = "your function") -> float:
    """The best of ``repeat`` ``slow(*args)`` times over the best of ``repeat`` ``fast(*args)``
    times, measured now (``slow_seconds``: a time of ``slow(*args)`` already measured in this
    run, taken instead of measuring the slow function again). Best times, because a busy
    machine only ever adds time to a run."""
    __tracebackhide__ = True
    if slow_seconds is None:
        slow_seconds = _best_time(slow, args, "the slow version", repeat)
    return slow_seconds / max(_best_time(fast, args, what, repeat), 1e-9)


def _check_ratio(ratio: float, what: str, rows: str, goal: float = MIN_SPEEDUP) -> None:
    __tracebackhide__ = True
    if ratio < goal:
        fail(f"Same output, but {what} is only {ratio:.1f} times faster than the slow version "
             f"(both measured just now on {rows}); the goal is {goal:.0f} times. Profile "
             "your function as in Part 1: which work is still done once per row instead of once "
             "per batch?")


# -------------------------------------------------------------------------------- scores


def _plain_scores(result, name: str) -> dict:
    """The learner's table as plain Python lists per column (after checking its shape)."""
    __tracebackhide__ = True
    if not isinstance(result, pd.DataFrame):
        fail(f"{name} should be a pandas DataFrame like slow_scores returns, but it is a "
             f"{type(result).__name__}.")
    columns = [as_text(c, "a column name") if isinstance(c, str) else repr(c)
               for c in result.columns]
    if columns != RESULT_COLUMNS:
        fail(f"{name} has the columns {columns}; slow_scores returns {RESULT_COLUMNS}, in this "
             "order.")
    return {
        "application_id": as_list(result["application_id"], "the application_id column", as_int),
        "risk": as_list(result["risk"], "the risk column", as_number),
        "debt_to_income": as_list(result["debt_to_income"], "the debt_to_income column",
                                  as_number),
        "relative_income": as_list(result["relative_income"], "the relative_income column",
                                   as_number),
        "decision": as_list(result["decision"], "the decision column", as_text),
    }


_HINTS = {
    "risk": "the risk is the model's probability of default: predict_proba(...)[:, 1] on the "
            "model's FEATURES",
    "debt_to_income": "compute the monthly instalment at ANNUAL_RATE from loan_amount and "
                      "term_months, then debt_to_income(instalment, income); both functions "
                      "accept whole columns",
    "relative_income": "divide each applicant's income by the median income of *their own "
                       "region* in this batch (groupby('region')['income'].transform('median')), "
                       "not by one median over everyone",
    "decision": "'refer' when risk > RISK_CUTOFF *or* debt_to_income > DTI_CUTOFF, "
                "else 'approve' (np.where works on whole arrays)",
}


def _compare_scores(expected: dict, got: dict, on: str) -> None:
    __tracebackhide__ = True
    n_exp, n_got = len(expected["application_id"]), len(got["application_id"])
    if n_got != n_exp:
        fail(f"On {on}, your function returns {n_got} rows; there are {n_exp} applications. "
             "Return exactly one row per application.")
    if got["application_id"] != expected["application_id"]:
        k = next(i for i, (a, b) in enumerate(zip(expected["application_id"],
                                                   got["application_id"])) if a != b)
        fail(f"On {on}, the rows are not in the batch's order (first difference at position {k}: "
             f"application {got['application_id'][k]} where {expected['application_id'][k]} "
             "belongs). Keep the batch's row order; watch out for sorting, groupby results and "
             "label-based .loc on a batch whose index is not 0, 1, 2, ...")
    for column in ("risk", "debt_to_income", "relative_income"):
        for i, (a, b) in enumerate(zip(expected[column], got[column])):
            if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12):
                fail(f"On {on}, {column} differs for application "
                     f"{expected['application_id'][i]}: expected {a:.6g}, got {b:.6g}. "
                     f"Hint: {_HINTS[column]}.")
    for i, (a, b) in enumerate(zip(expected["decision"], got["decision"])):
        if a != b:
            fail(f"On {on}, the decision for application {expected['application_id'][i]} is "
                 f"{b!r}; expected {a!r}. Hint: {_HINTS['decision']}.")


def check_fast_scores(fast_scores, batch: pd.DataFrame | None = None,
                      name: str | None = None) -> None:
    """Explain what is wrong with a learner's ``fast_scores(batch, model)``, or return quietly.

    It must return the same table as :func:`slow_scores` (floats to 1e-9 relative, ids and
    decisions exactly) on every case, and be at least :data:`MIN_SPEEDUP` times faster on the
    exercise batch, measured in this run. With ``batch``: (also) compare on that batch.
    """
    __tracebackhide__ = True
    same_function(fast_scores, slow_scores, "slow_scores (it is the slow version to replace)")
    cases = _cases() if batch is None else [(name or "another batch", batch)]
    model = exercise_data().model
    slow_seconds = []
    for on, case in cases:
        start = time.perf_counter()
        expected = slow_scores(case.copy(), fresh(model))
        slow_seconds.append(time.perf_counter() - start)
        result = call(fast_scores, fresh(case), fresh(model), what="fast_scores(batch, model)")
        _compare_scores(_plain_scores(expected, "slow_scores"),
                        _plain_scores(result, "Your result"), on)
    if batch is None:  # the first case is the exercise batch: its slow time is the reference
        on, timing_batch = cases[0]
        ratio = measured_speedup(slow_scores, fast_scores, timing_batch, model,
                                 slow_seconds=slow_seconds[0], what="fast_scores(batch, model)")
        _check_ratio(ratio, "fast_scores", f"{len(timing_batch)} applications")
        print(f"Same output on {len(cases)} batches and {ratio:,.0f} times faster than "
              "slow_scores (measured just now). Well done.")


# ---------------------------------------------------------------------------- bin counts


def _bin_cases():
    rng = np.random.default_rng(_SEED)
    edges = list(_BIN_EDGES)
    on_edges = np.array(edges * 3 + [-9.0, 9.0, 0.1])  # values exactly on edges and outside
    return [
        ("20,000 normal values", rng.standard_normal(20_000), edges),
        ("values exactly on the edges and beyond the outer ones", on_edges, edges),
        ("three values and a single edge", np.array([2.0, -1.0, 0.5]), [0.5]),
    ]


def _check_counts(expected: list, got: list, on: str, edges) -> None:
    __tracebackhide__ = True
    if len(got) != len(expected):
        fail(f"On {on}, you return {len(got)} counts; {len(edges)} edges make "
             f"{len(expected)} bins: below the first edge, between each pair, and from the last "
             "edge on. np.histogram has only len(edges) - 1 bins and drops values outside them.")
    if sum(got) != sum(expected):
        fail(f"On {on}, your counts add up to {sum(got)}, but there are {sum(expected)} values: "
             "every value belongs to exactly one bin, also values beyond the outer edges.")
    if got != expected:
        fail(f"On {on}, you return the counts {got}; expected {expected}. Values equal to an edge "
             "belong to the bin that *starts* at that edge (bins are closed on the left): with "
             "np.searchsorted that is side='right'.")


def check_fast_bin_counts(fast_bin_counts, values=None, edges=None,
                          name: str | None = None) -> None:
    """Explain what is wrong with a learner's ``fast_bin_counts(values, edges)``, or return.

    It must return the same list of counts as :func:`slow_bin_counts` (plain ints, compared
    exactly) on every case and be at least :data:`MIN_BIN_SPEEDUP` times faster on 20,000 values,
    measured in this run. With ``values`` and ``edges``: (also) compare on those.
    """
    __tracebackhide__ = True
    from mlecourse.principles import drift

    same_function(fast_bin_counts, slow_bin_counts, "slow_bin_counts (the version to replace)")
    same_function(fast_bin_counts, drift._bin_index, "PSI binning")
    cases = _bin_cases() if values is None else [(name or "other values", values, edges)]
    for on, case_values, case_edges in cases:
        expected = slow_bin_counts(case_values, case_edges)
        result = call(fast_bin_counts, fresh(case_values), fresh(case_edges),
                      what="fast_bin_counts(values, edges)")
        got = as_list(result, "your result", as_int)
        _check_counts(expected, got, on, case_edges)
    if values is None:
        _, big, big_edges = cases[0]
        # the slow loop takes milliseconds here: time it again, best of three, like the fast one
        ratio = measured_speedup(slow_bin_counts, fast_bin_counts, big, big_edges,
                                 what="fast_bin_counts(values, edges)")
        _check_ratio(ratio, "fast_bin_counts", f"{len(big):,} values", MIN_BIN_SPEEDUP)
        print(f"Same counts on {len(cases)} cases and {ratio:,.0f} times faster than "
              "slow_bin_counts (measured just now). Well done.")
