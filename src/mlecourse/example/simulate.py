"""The course's running example: a lender's loan applications, month by month.

``simulate_loans`` returns one row per loan application with the outcome already attached::

    from mlecourse.example.simulate import simulate_loans, Scenario, Drift
    df = simulate_loans(months=24, rows_per_month=20_000, seed=0)
    df = simulate_loans(months=24, seed=0,
                        scenario=Scenario(covariate_shift=Drift(start=12, severity=1.0)))

Columns
-------
``month``                 pandas Timestamp, first day of the month (``start`` is month index 0)
``application_id``        int, unique over the whole simulation
``income``                annual income, thousands of EUR (float, 0.1 resolution)
``loan_amount``           thousands of EUR (float, 0.1 resolution)
``term_months``           int, one of 12, 24, 36, 48, 60
``credit_history_years``  float, years since the first credit record (0.1 resolution)
``employment_type``       str: "employed", "self-employed", "contract", "unemployed"
``region``                str: "north", "south", "east", "west"
``age_band``              str: "18-25", "26-40", "41-60", "61+" (the sensitive attribute;
                          not a model input)
``defaulted``             int 0/1, the target (about 10 % defaults without drift)

How the data are generated
--------------------------
Age band, employment type, region and term are drawn from fixed category mixes. Credit history
grows with age, income depends on employment, region and age (log-normal), and the loan amount
is a log-normal multiple of income that grows with the term. The probability of default is a
logistic function of log income, the debt-to-income ratio (``loan_amount / income``, with a
kink above 0.8 that a linear model cannot represent), term, credit history, employment type and
region. Because the model inputs are ``income`` and ``loan_amount`` separately, a linear model
is only an approximation of the truth; this is deliberate, so that moving inputs hurt it.

Scenarios
---------
A :class:`Scenario` switches on named drifts; all are off by default and they combine freely.
Each drift is a :class:`Drift` ``(start, severity, ramp)``: it begins at month index ``start``
and reaches full ``severity`` after ``ramp`` months (``ramp=0``: a sudden step). A tuple
``(start, severity)`` or ``(start, severity, ramp)`` is accepted wherever a ``Drift`` is.

``covariate_shift``  The inputs move (a new online broker channel in an economic downturn):
                     incomes are multiplied by ``exp(-0.25 s)`` (22 % lower at ``s=1``), the loan
                     to income ratio by ``exp(0.45 s)`` (so loans are about 22 % larger), terms
                     get longer, applicants younger, contract and self-employed work more common
                     and the region mix moves towards the east (mixes move ``min(s, 1)`` of the
                     way to the shifted mix). More applicants are risky, so the default rate
                     rises (about 10 % -> 24 % at ``s=1``) although the input->outcome rule is
                     unchanged.
``concept_drift``    The input->outcome relationship changes (a sectoral and regional shock):
                     contract and self-employed work become riskier (+0.9 and +0.6 log-odds at
                     ``s=1``), the east region becomes riskier (+0.8), credit history stops
                     protecting and income protects less. The input distribution is unchanged, so
                     input drift measures cannot see it.
``label_shift``      The base default rate changes while the profile of defaulters and
                     non-defaulters stays the same (P(x | y) fixed): the prior odds of default are
                     multiplied by ``exp(s)`` by rejection sampling (``s=1``: about 10 % -> 22 %).
``seasonality``      A yearly pattern tied to the calendar month: loan amounts peak in July
                     (factor ``exp(0.4 s cos(2 pi (m - 7) / 12))`` for calendar month ``m``, i.e.
                     up to 49 % above the level of spring and autumn) and default risk peaks in
                     February (up to +0.6 ``s`` log-odds). ``start`` switches the pattern on; a
                     model trained on fewer than 12 months has not seen the whole cycle.
``quality_break``    A sudden data-quality break: from ``start`` on, ``income`` is reported in EUR
                     instead of thousands of EUR (values x 1000) for a share ``severity`` of rows
                     (1.0 = every row; ``ramp`` is ignored). Outcomes are computed from the true
                     income, so only the recorded column is broken.

Determinism: every month draws from its own ``numpy.random.default_rng([seed, month_index])``
using only platform-independent numpy generators, so the same seed gives the same data on every
platform, and the first ``k`` months do not depend on how many months are simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional, Union

import numpy as np
import pandas as pd

__all__ = [
    "Drift",
    "Scenario",
    "simulate_loans",
    "drift_amount",
    "SCENARIOS",
    "FEATURES",
    "NUMERIC_FEATURES",
    "CATEGORICAL_FEATURES",
    "TARGET",
    "SENSITIVE",
    "COLUMNS",
    "EMPLOYMENT_TYPES",
    "REGIONS",
    "AGE_BANDS",
    "TERMS",
]

NUMERIC_FEATURES = ["income", "loan_amount", "term_months", "credit_history_years"]
CATEGORICAL_FEATURES = ["employment_type", "region"]
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
TARGET = "defaulted"
SENSITIVE = "age_band"
COLUMNS = ["month", "application_id", *FEATURES, SENSITIVE, TARGET]

EMPLOYMENT_TYPES = ("employed", "self-employed", "contract", "unemployed")
REGIONS = ("north", "south", "east", "west")
AGE_BANDS = ("18-25", "26-40", "41-60", "61+")
TERMS = (12, 24, 36, 48, 60)

# Category mixes: (baseline, fully shifted under covariate shift).
_AGE_MIX = (np.array([0.17, 0.38, 0.32, 0.13]), np.array([0.30, 0.40, 0.22, 0.08]))
_EMP_MIX = (np.array([0.62, 0.14, 0.16, 0.08]), np.array([0.46, 0.20, 0.26, 0.08]))
_REGION_MIX = (np.array([0.30, 0.25, 0.25, 0.20]), np.array([0.16, 0.22, 0.47, 0.15]))
_TERM_MIX = (np.array([0.12, 0.22, 0.30, 0.16, 0.20]), np.array([0.05, 0.12, 0.28, 0.23, 0.32]))

# Income model (log scale) and credit history by age band.
_INCOME_BASE = np.log(38.0)
_INCOME_EMP = np.array([0.10, 0.15, -0.10, -0.90])
_INCOME_REGION = np.array([0.10, -0.10, -0.05, 0.05])
_INCOME_AGE = np.array([-0.35, 0.0, 0.15, -0.10])
_HISTORY_MEAN = np.array([3.0, 9.0, 18.0, 25.0])

# Default model (log-odds).
_INTERCEPT = -3.0
_RISK_EMP = np.array([0.0, 0.35, 0.55, 1.30])
_RISK_REGION = np.array([0.0, 0.15, 0.05, -0.10])
_CONCEPT_EMP = np.array([0.0, 0.6, 0.9, 0.0])
_CONCEPT_REGION = np.array([0.0, 0.0, 0.8, 0.0])


@dataclass(frozen=True)
class Drift:
    """One drift: begins at month index ``start``, full ``severity`` after ``ramp`` months.

    ``severity`` 0 means no effect, 1 the documented size; values above 1 exaggerate
    (category mixes saturate at 1). ``ramp=0`` is a sudden step at ``start``.
    """

    start: int = 0
    severity: float = 1.0
    ramp: int = 0

    def __post_init__(self):
        for name in ("start", "ramp"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"Drift.{name} must be an int, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"Drift.{name} must be >= 0, got {value}")
        sev = self.severity
        if isinstance(sev, bool) or not isinstance(sev, (int, float, np.integer, np.floating)):
            raise TypeError(f"Drift.severity must be a number, got {type(sev).__name__}")
        if not np.isfinite(sev) or sev < 0:
            raise ValueError(f"Drift.severity must be finite and >= 0, got {sev}")

    def amount(self, month_index: int) -> float:
        """Effective severity at ``month_index``: 0 before ``start``, ramping to ``severity``."""
        if month_index < self.start:
            return 0.0
        if self.ramp == 0:
            return float(self.severity)
        return float(self.severity) * min(1.0, (month_index - self.start + 1) / self.ramp)


DriftLike = Union[Drift, tuple, None]


def _as_drift(name: str, value) -> Optional[Drift]:
    if value is None or isinstance(value, Drift):
        return value
    if isinstance(value, tuple) and 1 <= len(value) <= 3:
        return Drift(*value)
    if isinstance(value, dict):
        return Drift(**value)
    raise TypeError(
        f"Scenario.{name} must be a Drift, a tuple (start, severity[, ramp]) or None, "
        f"got {type(value).__name__}"
    )


@dataclass(frozen=True)
class Scenario:
    """Named, combinable drifts (all off by default); see the module docstring for each."""

    covariate_shift: Optional[Drift] = None
    concept_drift: Optional[Drift] = None
    label_shift: Optional[Drift] = None
    seasonality: Optional[Drift] = None
    quality_break: Optional[Drift] = None

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, _as_drift(f.name, getattr(self, f.name)))

    def scaled(self, factor: float) -> "Scenario":
        """The same scenario with every severity multiplied by ``factor`` (for explorers)."""
        return Scenario(
            **{
                f.name: None
                if getattr(self, f.name) is None
                else Drift(getattr(self, f.name).start, getattr(self, f.name).severity * factor,
                           getattr(self, f.name).ramp)
                for f in fields(self)
            }
        )

    @property
    def active(self) -> list[str]:
        """Names of the drifts that are switched on."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


def drift_amount(scenario: Scenario, name: str, month_index: int) -> float:
    """Effective severity of drift ``name`` in ``scenario`` at ``month_index`` (0 when off)."""
    drift = getattr(scenario, name)
    return 0.0 if drift is None else drift.amount(month_index)


#: Named example scenarios used across the course (drifts begin in month index 12, i.e. after a
#: year). "downturn" is the running story: inputs and the input->outcome rule change together,
#: ramping in over four months.
SCENARIOS = {
    "no drift": Scenario(),
    "covariate shift": Scenario(covariate_shift=Drift(12, 1.0)),
    "concept drift": Scenario(concept_drift=Drift(12, 1.0)),
    "label shift": Scenario(label_shift=Drift(12, 1.0)),
    "seasonality": Scenario(seasonality=Drift(0, 1.0)),
    "quality break": Scenario(quality_break=Drift(12, 1.0)),
    "downturn": Scenario(covariate_shift=Drift(12, 1.0, 4), concept_drift=Drift(12, 1.0, 4)),
}


def _mix(pair, amount):
    w = min(max(amount, 0.0), 1.0)
    p = (1.0 - w) * pair[0] + w * pair[1]
    return p / p.sum()


def _draw_categories(rng, p, n):
    # Inverse-CDF sampling: platform independent and vectorised.
    idx = np.searchsorted(np.cumsum(p), rng.random(n), side="right")
    return np.minimum(idx, len(p) - 1)


def _month_block(rng, n, t, month_of_year, sc):
    cov = drift_amount(sc, "covariate_shift", t)
    con = drift_amount(sc, "concept_drift", t)
    sea = drift_amount(sc, "seasonality", t)

    age = _draw_categories(rng, _mix(_AGE_MIX, cov), n)
    emp = _draw_categories(rng, _mix(_EMP_MIX, cov), n)
    region = _draw_categories(rng, _mix(_REGION_MIX, cov), n)
    term_idx = _draw_categories(rng, _mix(_TERM_MIX, cov), n)
    term = np.asarray(TERMS)[term_idx]

    shape = 3.0
    history = rng.gamma(shape, _HISTORY_MEAN[age] / shape)
    history = np.round(np.clip(history, 0.0, 45.0), 1)

    log_income = (_INCOME_BASE + _INCOME_EMP[emp] + _INCOME_REGION[region] + _INCOME_AGE[age]
                  - 0.25 * cov + 0.45 * rng.standard_normal(n))
    income = np.round(np.clip(np.exp(log_income), 5.0, 500.0), 1)

    season_loan = 0.4 * sea * np.cos(2 * np.pi * (month_of_year - 6) / 12)
    log_ratio = (np.log(0.30) + 0.25 * (term - 36) / 12 + 0.45 * cov + season_loan
                 + 0.5 * rng.standard_normal(n))
    loan = np.round(np.clip(income * np.exp(log_ratio), 1.0, 1000.0), 1)

    dti = loan / income
    logit = (
        _INTERCEPT
        - 0.9 * (1.0 - 0.5 * min(con, 1.5)) * np.log(income / 40.0)
        + 1.4 * (dti - 0.3)
        + 2.5 * np.maximum(dti - 0.8, 0.0)
        + 0.25 * (term - 36) / 12
        - 0.07 * (1.0 - min(con, 1.0)) * (history - 8.0)
        + _RISK_EMP[emp]
        + _RISK_REGION[region]
        + con * (_CONCEPT_EMP[emp] + _CONCEPT_REGION[region])
        + 0.6 * sea * np.cos(2 * np.pi * (month_of_year - 1) / 12)
    )
    p = 1.0 / (1.0 + np.exp(-logit))
    defaulted = (rng.random(n) < p).astype(np.int64)
    return {
        "age": age, "emp": emp, "region": region, "term": term, "history": history,
        "income": income, "loan": loan, "defaulted": defaulted,
    }


def _generate_month(seed, t, n, month_of_year, sc):
    rng = np.random.default_rng([seed, t])
    lab = drift_amount(sc, "label_shift", t)
    if lab == 0.0:
        return _month_block(rng, n, t, month_of_year, sc)
    # Label shift by rejection sampling keeps P(x | y) and multiplies the prior odds by exp(lab):
    # accept defaulters with probability a1 and non-defaulters with a0, a1 / a0 = exp(lab).
    a1, a0 = (1.0, np.exp(-lab)) if lab > 0 else (np.exp(lab), 1.0)
    parts, have = [], 0
    while have < n:
        block = _month_block(rng, 2 * n, t, month_of_year, sc)
        keep = rng.random(2 * n) < np.where(block["defaulted"] == 1, a1, a0)
        block = {k: v[keep] for k, v in block.items()}
        parts.append(block)
        have += int(keep.sum())
    return {k: np.concatenate([b[k] for b in parts])[:n] for k in parts[0]}


def simulate_loans(
    months: int = 24,
    rows_per_month: int = 20_000,
    seed: int = 0,
    scenario: Optional[Scenario] = None,
    start: str = "2024-01",
) -> pd.DataFrame:
    """Simulate ``months`` months of loan applications with outcomes (see module docstring).

    Parameters
    ----------
    months : number of months (>= 1); month index 0 is ``start``.
    rows_per_month : applications per month (>= 1).
    seed : non-negative int; same seed, same data on every platform.
    scenario : a :class:`Scenario` (default: no drift).
    start : first month, anything ``pandas.Period(start, "M")`` understands, e.g. "2024-01".

    Returns a DataFrame with the columns in ``COLUMNS`` sorted by month then application_id.
    """
    for name, value, low in (("months", months, 1), ("rows_per_month", rows_per_month, 1),
                             ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    if scenario is None:
        scenario = Scenario()
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    try:
        first = pd.Period(start, freq="M")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"start must be a month such as '2024-01', got {start!r}") from exc

    n = int(rows_per_month)
    blocks = []
    for t in range(int(months)):
        month_of_year = (first.month - 1 + t) % 12
        blocks.append(_generate_month(int(seed), t, n, month_of_year, scenario))
    cat = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}

    income = cat["income"]
    qb = scenario.quality_break
    if qb is not None and qb.severity > 0:
        month_idx = np.repeat(np.arange(months), n)
        share = min(float(qb.severity), 1.0)
        # One extra platform-independent stream decides which rows the broken feed delivers.
        u = np.random.default_rng([int(seed), 1_000_003]).random(months * n)
        broken = (month_idx >= qb.start) & (u < share)
        income = np.where(broken, income * 1000.0, income)

    month_starts = pd.period_range(first, periods=int(months), freq="M").to_timestamp()
    df = pd.DataFrame(
        {
            "month": np.repeat(month_starts.values, n),
            "application_id": np.arange(1, months * n + 1, dtype=np.int64) + 1_000_000,
            "income": income.astype(np.float64),
            "loan_amount": cat["loan"].astype(np.float64),
            "term_months": cat["term"].astype(np.int64),
            "credit_history_years": cat["history"].astype(np.float64),
            "employment_type": np.asarray(EMPLOYMENT_TYPES, dtype=object)[cat["emp"]],
            "region": np.asarray(REGIONS, dtype=object)[cat["region"]],
            "age_band": np.asarray(AGE_BANDS, dtype=object)[cat["age"]],
            "defaulted": cat["defaulted"].astype(np.int64),
        }
    )
    return df
