"""Feature code of the running example: small pure functions the testing chapter tests.

Two derived quantities a lender computes for every loan application:

- :func:`monthly_instalment`: the fixed monthly payment of an annuity loan,
  ``P * r / (1 - (1 + r) ** -n)`` with monthly rate ``r = annual_rate / 12``.
  The textbook formula divides by zero when the rate is 0 (an interest-free loan) and loses
  all precision for tiny rates; this version falls back to ``P / n`` there.
- :func:`debt_to_income`: annual repayments divided by annual income. Zero income (an
  applicant without earnings) would give ``inf``; this version floors the income at
  ``min_income`` so the ratio stays finite and large.

:func:`add_features` adds both as columns to a batch of the simulator's applications.
Units follow the simulator: amounts and incomes in thousands of EUR, terms in months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Monthly rates below this are treated as interest-free (the annuity formula is unstable there).
TINY_RATE = 1e-12
#: Default interest rate (per year) used when a batch has no rate column.
DEFAULT_ANNUAL_RATE = 0.06
#: Incomes below this (thousands of EUR per year) are floored in :func:`debt_to_income`.
MIN_INCOME = 1.0


def _as_array(value, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if (arr < 0).any():
        raise ValueError(f"{name} must not be negative (smallest value {arr.min()!r})")
    return arr


def _scalar_or_array(result: np.ndarray, *inputs):
    if all(np.ndim(x) == 0 for x in inputs):
        return float(result)
    return result


def monthly_instalment(principal, annual_rate, term_months):
    """Fixed monthly payment of an annuity loan (same unit as ``principal``).

    ``principal`` is the amount borrowed, ``annual_rate`` the nominal yearly interest rate as a
    fraction (0.06 for 6 %), ``term_months`` the number of monthly payments (at least 1).
    Works on scalars (returns a float) or NumPy/pandas arrays (returns an array).
    An interest-free loan (rate 0) is repaid in equal parts: ``principal / term_months``.

    >>> round(monthly_instalment(12.0, 0.0, 12), 6)
    1.0
    >>> round(monthly_instalment(10.0, 0.06, 36), 4)
    0.3042
    """
    p = _as_array(principal, "principal")
    rate = _as_array(annual_rate, "annual_rate")
    n = _as_array(term_months, "term_months")
    if (n < 1).any():
        raise ValueError(f"term_months must be at least 1 (smallest value {n.min()!r})")
    r = rate / 12.0
    tiny = r < TINY_RATE
    safe_r = np.where(tiny, 1.0, r)  # avoid 0/0 in the branch np.where discards
    # 1 - (1 + r) ** -n, computed without cancellation for small r
    denominator = -np.expm1(-n * np.log1p(safe_r))
    result = np.where(tiny, p / n, p * safe_r / denominator)
    return _scalar_or_array(result, principal, annual_rate, term_months)


def debt_to_income(instalment, income, *, min_income: float = MIN_INCOME):
    """Annual repayments as a share of annual income: ``12 * instalment / income``.

    ``instalment`` is the monthly payment and ``income`` the annual income, both in the same
    unit (thousands of EUR in the running example). Incomes below ``min_income`` (default
    ``MIN_INCOME``) are floored to it, so an applicant with no income gets a large, finite
    ratio instead of ``inf`` (which would break a model's input scaling).

    >>> debt_to_income(1.0, 48.0)
    0.25
    >>> debt_to_income(1.0, 0.0)
    12.0
    """
    if not min_income > 0:
        raise ValueError(f"min_income must be positive, got {min_income!r}")
    inst = _as_array(instalment, "instalment")
    inc = _as_array(income, "income")
    result = 12.0 * inst / np.maximum(inc, min_income)
    return _scalar_or_array(result, instalment, income)


def add_features(df: pd.DataFrame, *, annual_rate: float = DEFAULT_ANNUAL_RATE) -> pd.DataFrame:
    """Return a copy of a batch with ``instalment`` and ``debt_to_income`` columns added.

    Needs the columns ``loan_amount``, ``term_months`` and ``income``; raises ``ValueError``
    naming the first one that is missing.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"add_features expects a pandas DataFrame, got {type(df).__name__}")
    for column in ("loan_amount", "term_months", "income"):
        if column not in df.columns:
            raise ValueError(f"add_features needs a column {column!r}, which the batch lacks")
    out = df.copy()
    out["instalment"] = monthly_instalment(
        out["loan_amount"].to_numpy(), annual_rate, out["term_months"].to_numpy()
    )
    out["debt_to_income"] = debt_to_income(out["instalment"].to_numpy(), out["income"].to_numpy())
    return out
