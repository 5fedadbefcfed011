"""Monitoring primitives: input drift, performance over time with label delay, retraining policies.

Population Stability Index (PSI)
--------------------------------
For a feature, split the values into bins, let ``r_i`` be the share of the *reference* window
in bin ``i`` and ``c_i`` the share of the *current* window. Then

    PSI = sum_i (c_i - r_i) * ln(c_i / r_i)

PSI is 0 when both windows fill the bins alike and grows with every shift, in either direction
(it is the symmetrised Kullback-Leibler divergence of the two binned distributions).

* Numeric features: the bin edges are the reference's quantiles at ``k / bins``,
  ``k = 1 .. bins-1``, so each bin holds about ``1 / bins`` of the reference. Bins are closed on
  the left, ``[e_k, e_(k+1))``, and the outer bins are open (``-inf`` and ``+inf``), so values of
  the current window beyond the reference's range land in the end bins instead of being lost.
  Coinciding quantiles (discrete columns such as ``term_months``) are merged, so such a column
  may get fewer bins. Missing values (NaN) get a bin of their own.
* Categorical features: one bin per category seen in either window (missing values are a
  category of their own), so a category the reference never saw counts as drift.
* Empty bins: a share of 0 would make ``ln(c_i / r_i)`` infinite, so every share is floored at
  ``eps`` (default ``1e-4``) before the formula is applied; shares are not renormalised. An empty
  bin therefore adds a large but finite term.

A rule of thumb from credit scoring (Siddiqi, *Credit Risk Scorecards*, Wiley 2006) reads
"below 0.1: stable, 0.1-0.25: some shift, above 0.25: major shift"; the course uses 0.2 as its
default alarm threshold. These bands are conventions, not statistical guarantees. PSI measures
the *size* of a shift, but its estimate is biased upwards in small samples (roughly by
``(bins - 1) * (1/n_ref + 1/n_cur)`` when nothing changed), and more so with more bins and
empty bins; :func:`psi_and_ks_by_size` shows both effects next to a KS test's p-value.

Statistical tests
-----------------
``drift_report`` adds a two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``) for numeric
features and a chi-squared test of homogeneity (``scipy.stats.chi2_contingency``) for categorical
ones. Two caveats the course teaches:

* Multiple testing: testing ``m`` features at level ``alpha`` raises a false alarm somewhere with
  probability up to ``1 - (1 - alpha)^m`` (26 % for ``m = 6``, ``alpha = 0.05``), and a monthly
  monitor repeats that every month. The report therefore also gives Bonferroni-adjusted
  p-values ``min(1, m * p)`` (``correction="bonferroni"``, the default; ``None`` disables it).
* Sample size: with hundreds of thousands of rows a test flags differences far too small to
  matter. The tests run on a seeded random sample of at most ``test_rows`` rows per window
  (default 50,000; ``None`` uses all rows), which also bounds their cost. PSI always uses every
  row.

Performance over time
---------------------
Outcomes arrive late: a default is known only months after the loan was granted.
``performance_by_month`` records, next to each month's AUC, the month from which those labels are
known (``labels_known_from = month + label_delay``); ``known_at`` keeps what a monitor could see
on a given date. Input drift, by contrast, is known as soon as the month's applications are in.

Retraining policies
-------------------
``simulate_policy`` replays a simulation month by month under a policy -- ``"never"``,
``"periodic"`` (every ``every`` months), ``"drift"`` (retrain when the largest PSI of a month
against the current model's training data exceeds ``threshold``) or ``"performance"`` (retrain
when the AUC on newly labelled data falls ``auc_drop`` below the model's AUC at training) -- and
returns the monthly performance and the number of retrainings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd
# scipy.stats and scikit-learn's metrics are imported by the functions that use them: importing
# this module for PSI alone stays cheap.

from mlecourse.example.simulate import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, TARGET

__all__ = [
    "DEFAULT_THRESHOLD",
    "psi",
    "psi_numeric",
    "psi_categorical",
    "ks_test",
    "chi2_test",
    "psi_and_ks_by_size",
    "calibration_by_group",
    "drift_report",
    "drift_by_month",
    "alarm_months",
    "first_alarm",
    "pvalues_by_month",
    "performance_by_month",
    "first_performance_alarm",
    "evaluate_by_month",
    "known_at",
    "PolicyResult",
    "simulate_policy",
    "simulate_policies",
    "compare_policies",
    "POLICIES",
]

DEFAULT_THRESHOLD = 0.2
DEFAULT_EPS = 1e-4
POLICIES = ("never", "periodic", "drift", "performance")


# --------------------------------------------------------------------------- validation helpers


def _values(x, name: str) -> pd.Series:
    if isinstance(x, pd.Series):
        return x
    if isinstance(x, pd.DataFrame):
        raise TypeError(f"'{name}': expected one column of values, got a DataFrame")
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"'{name}': expected a 1-D array of values, got shape {arr.shape}")
    return pd.Series(arr)


def _numeric_array(s: pd.Series, name: str, window: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        raise TypeError(
            f"column '{name}' in the {window} window is declared numeric but has dtype "
            f"{s.dtype}; convert it (e.g. pd.to_numeric) or declare it categorical"
        )
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_bins(bins):
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"bins must be an int >= 2, got {bins!r}")


def _check_frame(df, window: str, columns: Sequence[str]):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"the {window} window must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise ValueError(f"the {window} window is empty (0 rows)")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"the {window} window lacks column(s): {', '.join(repr(c) for c in missing)}"
        )


def _split_features(numeric, categorical):
    numeric = list(NUMERIC_FEATURES if numeric is None else numeric)
    categorical = list(CATEGORICAL_FEATURES if categorical is None else categorical)
    both = set(numeric) & set(categorical)
    if both:
        raise ValueError(f"column(s) declared both numeric and categorical: {sorted(both)}")
    if not numeric and not categorical:
        raise ValueError("no features to compare: numeric and categorical are both empty")
    return numeric, categorical


# ------------------------------------------------------------------------------- PSI machinery


def _edges(ref: np.ndarray, bins: int, name: str) -> np.ndarray:
    finite = ref[~np.isnan(ref)]
    if finite.size == 0:
        raise ValueError(f"column '{name}' in the reference window has no non-missing values")
    q = np.quantile(finite, np.arange(1, bins) / bins)
    return np.unique(q)


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin ``i`` = number of edges <= value (left-closed bins); NaN -> ``len(edges) + 1``."""
    # A few vectorised comparisons beat a binary search per value; a one-byte counter keeps
    # memory traffic low (bins <= 253 in practice).
    dtype = np.uint8 if len(edges) + 2 < 256 else np.int64
    idx = np.zeros(values.shape[0], dtype=dtype)
    for e in edges:
        np.add(idx, values >= e, out=idx, casting="unsafe")
    nan = np.isnan(values)
    if nan.any():
        idx[nan] = len(edges) + 1
    return idx


def _psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float) -> np.ndarray:
    """PSI of ``cur_counts`` (shape ``(..., k)``) against ``ref_counts`` (shape ``(k,)``)."""
    r = np.maximum(ref_counts / ref_counts.sum(), eps)
    cur_tot = cur_counts.sum(axis=-1, keepdims=True)
    c = np.maximum(cur_counts / np.where(cur_tot == 0, 1, cur_tot), eps)
    return ((c - r) * np.log(c / r)).sum(axis=-1)


def _check_eps(eps):
    if not (isinstance(eps, (float, int)) and 0 < eps < 1):
        raise ValueError(f"eps must be a number in (0, 1), got {eps!r}")


def psi_numeric(reference, current, bins: int = 10, eps: float = DEFAULT_EPS,
                name: str = "values") -> float:
    """PSI of a numeric feature with bins at the reference's quantiles (see module docstring)."""
    _check_bins(bins)
    _check_eps(eps)
    ref = _numeric_array(_values(reference, name), name, "reference")
    cur = _numeric_array(_values(current, name), name, "current")
    if ref.size == 0:
        raise ValueError(f"column '{name}': the reference window is empty")
    if cur.size == 0:
        raise ValueError(f"column '{name}': the current window is empty")
    edges = _edges(ref, bins, name)
    k = len(edges) + 2
    rc = np.bincount(_bin_index(ref, edges), minlength=k)
    cc = np.bincount(_bin_index(cur, edges), minlength=k)
    return float(_psi_from_counts(rc, cc, eps))


def _category_keys(s: pd.Series) -> np.ndarray:
    # Missing values become a category of their own ("<missing>").
    values = s.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = "<missing>"
    return values


def psi_categorical(reference, current, eps: float = DEFAULT_EPS, name: str = "values") -> float:
    """PSI over the categories seen in either window (see module docstring)."""
    _check_eps(eps)
    ref = _values(reference, name)
    cur = _values(current, name)
    if len(ref) == 0:
        raise ValueError(f"column '{name}': the reference window is empty")
    if len(cur) == 0:
        raise ValueError(f"column '{name}': the current window is empty")
    rc, cc = _category_counts(ref, cur)
    return float(_psi_from_counts(rc, cc, eps))


def _category_counts(ref: pd.Series, cur: pd.Series):
    # value_counts(dropna=False) keeps missing values as a category of their own.
    rv = ref.value_counts(dropna=False)
    cv = cur.value_counts(dropna=False)
    cats = rv.index.union(cv.index)
    return (rv.reindex(cats, fill_value=0).to_numpy(np.float64),
            cv.reindex(cats, fill_value=0).to_numpy(np.float64))


def psi(reference, current, bins: int = 10, eps: float = DEFAULT_EPS, kind: str = "auto",
        name: str = "values") -> float:
    """Population Stability Index of ``current`` against ``reference`` (one feature).

    ``kind``: ``"numeric"``, ``"categorical"`` or ``"auto"`` (numeric dtypes -> numeric,
    anything else -> categorical). Formula, binning and ``eps`` in the module docstring.
    """
    if kind == "auto":
        ref = _values(reference, name)
        kind = ("numeric" if pd.api.types.is_numeric_dtype(ref.dtype)
                and not pd.api.types.is_bool_dtype(ref.dtype) else "categorical")
    if kind == "numeric":
        return psi_numeric(reference, current, bins=bins, eps=eps, name=name)
    if kind == "categorical":
        return psi_categorical(reference, current, eps=eps, name=name)
    raise ValueError(f"kind must be 'auto', 'numeric' or 'categorical', got {kind!r}")


# --------------------------------------------------------------------------------- tests


def ks_test(reference, current, name: str = "values") -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``); returns (D, p-value).

    Missing values are dropped. Raises ``TypeError`` for non-numeric data, ``ValueError`` when a
    window has no values.
    """
    ref = _numeric_array(_values(reference, name), name, "reference")
    cur = _numeric_array(_values(current, name), name, "current")
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref.size == 0 or cur.size == 0:
        window = "reference" if ref.size == 0 else "current"
        raise ValueError(f"column '{name}': the {window} window has no non-missing values")
    from scipy import stats

    res = stats.ks_2samp(ref, cur)
    return float(res.statistic), float(res.pvalue)


def psi_and_ks_by_size(reference, current, sizes: Sequence[int], bins: Sequence[int] = (10, 20),
                       seed: int = 0, name: str = "values") -> pd.DataFrame:
    """PSI (for each number of ``bins``) and the KS test on ``n`` rows of each window, per ``n``.

    For every ``n`` in ``sizes`` the first ``n`` rows of a seeded shuffle of each window are
    compared, so the samples are nested. Returns one row per ``n`` (index ``rows``) with the
    columns ``PSI, <b> bins`` for each ``b`` in ``bins``, ``KS statistic`` and ``KS p-value``.
    It shows how the two measures behave as data grows: a p-value tends to 0 for any fixed
    shift, however small, while PSI settles at the size of the shift (from above: small samples
    inflate it). Raises ``ValueError`` when a size is not a positive int or exceeds a window.
    """
    ref = _values(reference, name).reset_index(drop=True)
    cur = _values(current, name).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    ref = ref.iloc[rng.permutation(len(ref))]
    cur = cur.iloc[rng.permutation(len(cur))]
    rows = []
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"sizes must be positive ints, got {n!r}")
        smaller = min(len(ref), len(cur))
        if n > smaller:
            raise ValueError(f"size {n:,} exceeds the smaller window ({smaller:,} rows)")
        row = {f"PSI, {b} bins": psi_numeric(ref[:n], cur[:n], bins=b, name=name) for b in bins}
        row["KS statistic"], row["KS p-value"] = ks_test(ref[:n], cur[:n], name=name)
        rows.append(pd.Series(row, name=int(n)))
    return pd.DataFrame(rows).rename_axis("rows")


def calibration_by_group(model, df: pd.DataFrame, groups, features=None,
                         target: str = TARGET) -> pd.DataFrame:
    """Observed and predicted default rate of a fitted classifier on ``df``, per group.

    ``groups`` is a column name or an array of group labels aligned with ``df``. Returns one row
    per group with ``rows``, ``share`` (of all rows), ``observed`` (mean of ``target``),
    ``predicted`` (mean predicted probability) and ``gap`` (predicted minus observed; negative
    means the model under-predicts).
    """
    features = list(FEATURES if features is None else features)
    _check_frame(df, "evaluation", [*features, target])
    labels = df[groups].to_numpy() if isinstance(groups, str) else np.asarray(groups)
    if len(labels) != len(df):
        raise ValueError(f"groups has {len(labels)} labels for {len(df)} rows")
    frame = pd.DataFrame({"group": labels, "observed": df[target].to_numpy(),
                          "predicted": model.predict_proba(df[features])[:, 1]})
    out = frame.groupby("group").agg(rows=("observed", "size"), observed=("observed", "mean"),
                                     predicted=("predicted", "mean"))
    out["share"] = out["rows"] / out["rows"].sum()
    out["gap"] = out["predicted"] - out["observed"]
    return out[["rows", "share", "observed", "predicted", "gap"]]


def chi2_test(reference, current, name: str = "values") -> tuple[float, float]:
    """Chi-squared test of homogeneity of the category counts (``scipy.stats.chi2_contingency``).

    Returns (chi2, p-value); a column with a single category in both windows gives (0.0, 1.0).
    """
    ref, cur = _values(reference, name), _values(current, name)
    if len(ref) == 0 or len(cur) == 0:
        window = "reference" if len(ref) == 0 else "current"
        raise ValueError(f"column '{name}': the {window} window is empty")
    rc, cc = _category_counts(ref, cur)
    if len(rc) < 2:
        return 0.0, 1.0
    from scipy import stats

    res = stats.chi2_contingency(np.vstack([rc, cc]), correction=False)
    return float(res.statistic), float(res.pvalue)


def _sample(df: pd.DataFrame, n: Optional[int], rng: np.random.Generator) -> pd.DataFrame:
    if n is None or len(df) <= n:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=n, replace=False))]


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: Optional[Iterable[str]] = None,
    categorical: Optional[Iterable[str]] = None,
    bins: int = 10,
    eps: float = DEFAULT_EPS,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = 0.05,
    correction: Optional[str] = "bonferroni",
    test_rows: Optional[int] = 50_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-feature drift of ``current`` against ``reference``.

    ``numeric`` / ``categorical`` default to the simulator's ``NUMERIC_FEATURES`` and
    ``CATEGORICAL_FEATURES``. Returns one row per feature with columns ``feature``, ``kind``,
    ``psi``, ``psi_alarm`` (psi > threshold), ``test`` ("ks" or "chi2"), ``statistic``,
    ``p_value``, ``p_adjusted`` (Bonferroni ``min(1, m p)`` over the ``m`` features, or equal to
    ``p_value`` when ``correction=None``) and ``significant`` (p_adjusted < alpha). See the module
    docstring for why tests use at most ``test_rows`` sampled rows and why p-values need
    correcting. Raises ``ValueError`` for empty windows or missing columns and ``TypeError`` for a
    non-numeric column declared numeric, each naming the column.
    """
    numeric, categorical = _split_features(numeric, categorical)
    _check_bins(bins)
    _check_eps(eps)
    if correction not in (None, "bonferroni"):
        raise ValueError(f"correction must be 'bonferroni' or None, got {correction!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    cols = numeric + categorical
    _check_frame(reference, "reference", cols)
    _check_frame(current, "current", cols)
    # Validate dtypes up front so the error names the column before any work is done.
    ref_num = {c: _numeric_array(reference[c], c, "reference") for c in numeric}
    cur_num = {c: _numeric_array(current[c], c, "current") for c in numeric}

    rng = np.random.default_rng(seed)
    ref_s = _sample(reference[cols], test_rows, rng)
    cur_s = _sample(current[cols], test_rows, rng)

    rows = []
    for c in numeric:
        edges = _edges(ref_num[c], bins, c)
        k = len(edges) + 2
        rc = np.bincount(_bin_index(ref_num[c], edges), minlength=k)
        cc = np.bincount(_bin_index(cur_num[c], edges), minlength=k)
        value = float(_psi_from_counts(rc, cc, eps))
        stat, p = ks_test(ref_s[c], cur_s[c], name=c)
        rows.append((c, "numeric", value, "ks", stat, p))
    for c in categorical:
        rc, cc = _category_counts(reference[c], current[c])
        value = float(_psi_from_counts(rc, cc, eps))
        stat, p = chi2_test(ref_s[c], cur_s[c], name=c)
        rows.append((c, "categorical", value, "chi2", stat, p))
    out = pd.DataFrame(rows, columns=["feature", "kind", "psi", "test", "statistic", "p_value"])
    m = len(out)
    out["p_adjusted"] = np.minimum(1.0, out["p_value"] * m) if correction else out["p_value"]
    out["significant"] = out["p_adjusted"] < alpha
    out.insert(3, "psi_alarm", out["psi"] > threshold)
    return out


# --------------------------------------------------------------------------- drift over time


class _Profile:
    """What PSI needs from a reference window: bin edges and counts per feature (computed once)."""

    def __init__(self, reference, numeric, categorical, bins, eps):
        self.numeric, self.categorical, self.eps = numeric, categorical, eps
        self.edges, self.ref_counts, self.cats = {}, {}, {}
        for c in numeric:
            ref = _numeric_array(reference[c], c, "reference")
            edges = _edges(ref, bins, c)
            self.edges[c] = edges
            self.ref_counts[c] = np.bincount(_bin_index(ref, edges), minlength=len(edges) + 2)
        for c in categorical:
            keys = _category_keys(reference[c])
            cats = pd.Index(pd.unique(keys))
            self.cats[c] = cats
            self.ref_counts[c] = np.bincount(cats.get_indexer(keys), minlength=len(cats))

    def table(self, data, codes, n_months) -> dict:
        out = {}
        for c in self.numeric:
            cur = _numeric_array(data[c], c, "current")
            edges = self.edges[c]
            k = len(edges) + 2
            cc = np.bincount(codes * k + _bin_index(cur, edges), minlength=n_months * k)
            out[c] = _psi_from_counts(self.ref_counts[c], cc.reshape(n_months, k), self.eps)
        for c in self.categorical:
            keys = _category_keys(data[c])
            cats = self.cats[c]
            idx = cats.get_indexer(keys)
            rc = self.ref_counts[c]
            if (idx < 0).any():  # categories the reference never saw get bins of their own
                new = pd.Index(pd.unique(keys[idx < 0]))
                cats = cats.append(new)
                idx = cats.get_indexer(keys)
                rc = np.concatenate([rc, np.zeros(len(new), dtype=rc.dtype)])
            k = len(cats)
            cc = np.bincount(codes * k + idx, minlength=n_months * k)
            out[c] = _psi_from_counts(rc, cc.reshape(n_months, k), self.eps)
        return out


def drift_by_month(
    reference: pd.DataFrame,
    data: pd.DataFrame,
    numeric: Optional[Iterable[str]] = None,
    categorical: Optional[Iterable[str]] = None,
    month_col: str = "month",
    bins: int = 10,
    eps: float = DEFAULT_EPS,
) -> pd.DataFrame:
    """PSI of every month of ``data`` against ``reference``: a feature x month table.

    Rows are features (numeric first, in the given order), columns the sorted months. Computed in
    one pass per feature (bin once, count per month with ``np.bincount``). Raises like
    :func:`drift_report` on bad input.
    """
    numeric, categorical = _split_features(numeric, categorical)
    _check_bins(bins)
    _check_eps(eps)
    cols = numeric + categorical
    _check_frame(reference, "reference", cols)
    _check_frame(data, "current", [*cols, month_col])
    profile = _Profile(reference, numeric, categorical, bins, eps)
    return _month_table(profile, data, month_col)


def _month_table(profile: _Profile, data: pd.DataFrame, month_col: str) -> pd.DataFrame:
    codes, months = pd.factorize(data[month_col], sort=True)
    out = pd.DataFrame(profile.table(data, codes, len(months)), index=months).T
    out.columns.name = month_col
    out.index.name = "feature"
    return out


def alarm_months(table: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.Series:
    """For a ``drift_by_month`` table: per month, does any feature's PSI exceed ``threshold``?"""
    return (table > threshold).any(axis=0)


def first_alarm(table: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD, after=None):
    """First month (column label) whose largest PSI exceeds ``threshold``, or ``None``.

    ``after``: only consider months strictly after this one (e.g. the end of training).
    """
    alarms = alarm_months(table, threshold)
    if after is not None:
        alarms = alarms[alarms.index > after]
    hits = alarms[alarms]
    return None if hits.empty else hits.index[0]


def pvalues_by_month(
    reference: pd.DataFrame,
    data: pd.DataFrame,
    numeric: Optional[Iterable[str]] = None,
    categorical: Optional[Iterable[str]] = None,
    month_col: str = "month",
    test_rows: Optional[int] = 50_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Uncorrected test p-values (KS or chi-squared) of every month against ``reference``.

    A feature x month table like :func:`drift_by_month`; apply a correction yourself (e.g.
    Bonferroni: multiply by the number of features) to see how many alarms survive.
    """
    numeric, categorical = _split_features(numeric, categorical)
    _check_frame(data, "current", [month_col])
    out = {}
    for month, part in data.groupby(month_col, sort=True):
        rep = drift_report(reference, part, numeric, categorical, correction=None,
                           test_rows=test_rows, seed=seed)
        out[month] = rep.set_index("feature")["p_value"]
    table = pd.DataFrame(out)
    table.columns.name = month_col
    return table


# ---------------------------------------------------------------------- performance over time


def performance_by_month(months, y_true, scores, label_delay: int = 0) -> pd.DataFrame:
    """Monthly performance of ``scores`` against ``y_true``, with label availability.

    Returns one row per month: ``month``, ``rows``, ``auc`` (NaN when a month holds one class),
    ``brier``, ``default_rate`` (observed), ``mean_score`` (predicted) and ``labels_known_from``
    = month + ``label_delay`` months (the first month a monitor could compute that row).
    """
    if isinstance(label_delay, bool) or not isinstance(label_delay, (int, np.integer)) \
            or label_delay < 0:
        raise ValueError(f"label_delay must be an int >= 0, got {label_delay!r}")
    months = pd.Series(np.asarray(months)).reset_index(drop=True)
    y = np.asarray(y_true)
    s = np.asarray(scores, dtype=np.float64)
    if not (len(months) == len(y) == len(s)):
        raise ValueError(
            f"months, y_true and scores differ in length: {len(months)}, {len(y)}, {len(s)}"
        )
    if len(y) == 0:
        raise ValueError("no rows to evaluate (empty window)")
    codes, uniq = pd.factorize(months, sort=True)
    g = len(uniq)
    if np.isnan(s).any():
        raise ValueError("scores contain missing values (NaN)")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y_true must hold only 0 and 1")
    y = y.astype(np.float64)
    n = np.bincount(codes, minlength=g).astype(np.float64)
    pos = np.bincount(codes, weights=y, minlength=g)
    neg = n - pos
    # AUC per month in one pass (Mann-Whitney): ranks within each month, ties averaged;
    # equal to sklearn's roc_auc_score month by month.
    ranks = pd.Series(s).groupby(codes).rank(method="average").to_numpy()
    rank_pos = np.bincount(codes, weights=ranks * y, minlength=g)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_pos - pos * (pos + 1) / 2) / (pos * neg)
    auc = np.where((pos > 0) & (neg > 0), auc, np.nan)
    brier = np.bincount(codes, weights=(s - y) ** 2, minlength=g) / n
    out = pd.DataFrame({"month": uniq, "rows": n.astype(np.int64), "auc": auc, "brier": brier,
                        "default_rate": pos / n,
                        "mean_score": np.bincount(codes, weights=s, minlength=g) / n})
    try:
        month_ts = pd.to_datetime(out["month"])
    except (ValueError, TypeError) as exc:
        raise ValueError("months must be dates (e.g. the simulator's 'month' column)") from exc
    out["labels_known_from"] = month_ts + pd.DateOffset(months=int(label_delay))
    return out


def first_performance_alarm(performance: pd.DataFrame, baseline: float,
                            auc_drop: float = 0.03) -> Optional[pd.Series]:
    """First row of a ``performance_by_month`` table whose AUC is below ``baseline - auc_drop``.

    Returns that row (its ``month`` and ``labels_known_from``: when a monitor could first raise
    the alarm) or ``None`` when performance never falls that far.
    """
    hits = performance[performance["auc"] < baseline - auc_drop]
    return None if hits.empty else hits.iloc[0]


def evaluate_by_month(model, df: pd.DataFrame, label_delay: int = 0, features=None,
                      target: str = TARGET, month_col: str = "month") -> pd.DataFrame:
    """``performance_by_month`` of a fitted classifier's default probability on ``df``."""
    features = list(FEATURES if features is None else features)
    _check_frame(df, "evaluation", [*features, target, month_col])
    scores = model.predict_proba(df[features])[:, 1]
    return performance_by_month(df[month_col], df[target], scores, label_delay)


def known_at(performance: pd.DataFrame, as_of) -> pd.DataFrame:
    """The rows of a ``performance_by_month`` table whose labels are known by month ``as_of``."""
    return performance[performance["labels_known_from"] <= pd.Timestamp(as_of)]


# ---------------------------------------------------------------------- retraining policies


@dataclass(frozen=True)
class PolicyResult:
    """Outcome of :func:`simulate_policy`.

    ``performance``: one row per evaluated month with ``month``, ``auc``, ``brier``,
    ``model_version`` (0 = the initial model) and ``retrained`` (a retraining happened at the end
    of that month); ``retrainings``: how many times the model was retrained; ``training_rows``:
    rows processed by those retrainings (a proxy for their compute cost); ``mean_auc``: the
    average monthly AUC over the evaluated months.
    """

    policy: str
    performance: pd.DataFrame
    retrainings: int
    mean_auc: float
    training_rows: int = 0


def simulate_policy(
    df: pd.DataFrame,
    policy: str = "never",
    train_months: int = 6,
    every: int = 3,
    threshold: float = DEFAULT_THRESHOLD,
    label_delay: int = 1,
    window: int = 6,
    auc_drop: float = 0.03,
    bins: int = 10,
    seed: int = 0,
    month_col: str = "month",
    *,
    _first_model: Optional[dict] = None,
) -> PolicyResult:
    """Replay ``df`` month by month under a retraining ``policy``.

    The first model is trained on the first ``train_months`` months; every later month is scored
    by the model in service and evaluated afterwards. At the end of month ``t`` the labels of
    months up to ``t - label_delay`` are known, and the policy may retrain:

    * ``"never"``: keep the first model.
    * ``"periodic"``: retrain every ``every`` months on the latest ``window`` labelled months.
    * ``"drift"``: compare month ``t``'s inputs with the serving model's training data; when the
      largest PSI exceeds ``threshold``, wait until the labels of month ``t`` are known and then
      retrain on the labelled months since the alarm (at most ``window``). Its reference becomes
      the new training data. Input drift gives the alarm early; training still needs labels.
    * ``"performance"``: when the labels of month ``t - label_delay`` arrive and the serving
      model's AUC on that month is more than ``auc_drop`` below its AUC on its own training data,
      retrain on that labelled month (the first one known to be affected). Sees every kind of
      decay, concept drift included, but only ``label_delay`` months late.

    Models come from :func:`mlecourse.example.model.train`. To replay several policies on the
    same data, :func:`simulate_policies` trains the first model once for all of them (through
    ``_first_model``, a dict that replays of this same ``df`` share; leave it out).
    """
    # Local imports: keep drift importable without scikit-learn's cost.
    from sklearn.metrics import roc_auc_score

    from mlecourse.example.model import train

    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if not 0 < auc_drop < 1:
        raise ValueError(f"auc_drop must be in (0, 1), got {auc_drop!r}")
    for name, value, low in (("train_months", train_months, 1), ("every", every, 1),
                             ("label_delay", label_delay, 0), ("window", window, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    _check_frame(df, "simulation", [*FEATURES, TARGET, month_col])
    codes, months = pd.factorize(df[month_col], sort=True)
    n_months = len(months)
    if n_months <= train_months:
        raise ValueError(
            f"need more than train_months={train_months} months in '{month_col}', "
            f"got {n_months}"
        )
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_months + 1))

    def rows(first: int, last: int) -> pd.DataFrame:  # months first..last inclusive
        return df.iloc[order[bounds[first]:bounds[last + 1]]]

    first_model = {} if _first_model is None else _first_model

    def fit(data, first=False):
        if first:  # the same for every policy on this df: trained once (only predicted with)
            if "model" not in first_model:
                first_model["model"] = train(data, seed=seed)
            fitted = first_model["model"]
        else:
            fitted = train(data, seed=seed)
        if policy != "performance":  # only that policy compares against the training AUC
            return fitted, np.nan
        y_fit = data[TARGET].to_numpy()
        return fitted, roc_auc_score(y_fit, fitted.predict_proba(data[FEATURES])[:, 1])

    def profile(data):
        return _Profile(data, list(NUMERIC_FEATURES), list(CATEGORICAL_FEATURES), bins,
                        DEFAULT_EPS) if policy == "drift" else None

    y_all = df[TARGET].to_numpy()
    scores = np.full(len(df), np.nan)
    scored_until = train_months - 1  # months up to here are scored (or are training months)

    def score_until(t):
        # Score the serving model's not-yet-scored months up to t in one call (fewer, larger
        # predict calls are much faster than one per month).
        nonlocal scored_until
        if t > scored_until:
            sel = order[bounds[scored_until + 1]:bounds[t + 1]]
            scores[sel] = model.predict_proba(df.iloc[sel][FEATURES])[:, 1]
            scored_until = t

    def month_auc(t):
        sel = order[bounds[t]:bounds[t + 1]]
        y = y_all[sel]
        return roc_auc_score(y, scores[sel]) if 0 < y.sum() < len(y) else np.nan

    train_df = rows(0, train_months - 1)
    model, baseline = fit(train_df, first=True)
    reference = profile(train_df)
    version, retrainings, pending, deployed, training_rows = 0, 0, None, train_months, 0
    versions, retrained_at, largest_psi = [], [], {}
    for t in range(train_months, n_months):
        versions.append(version)
        last_labelled = t - label_delay
        first, retrain = None, False
        if policy == "periodic" and (t - train_months + 1) % every == 0:
            first, retrain = max(0, last_labelled - window + 1), True
        elif policy == "drift":
            if pending is None:
                if t not in largest_psi:
                    # PSI of every remaining month against the serving model's training data,
                    # in one pass; recomputed only when the reference changes.
                    rest = rows(t, n_months - 1)
                    table = reference.table(rest, codes[order[bounds[t]:]] - t, n_months - t)
                    largest = np.max(np.vstack(list(table.values())), axis=0)
                    largest_psi = dict(zip(range(t, n_months), largest))
                if largest_psi[t] > threshold:
                    pending = t
            if pending is not None and last_labelled >= pending:
                first, retrain = max(pending, last_labelled - window + 1), True
                pending = None
        elif policy == "performance" and last_labelled >= deployed:
            score_until(last_labelled)
            if month_auc(last_labelled) < baseline - auc_drop:
                first, retrain = last_labelled, True
        retrained_at.append(retrain)
        if retrain:
            score_until(t)  # the old model served up to and including month t
            train_df = rows(first, last_labelled)
            model, baseline = fit(train_df)
            reference = profile(train_df)
            largest_psi = {}
            deployed = t + 1
            version += 1
            retrainings += 1
            training_rows += len(train_df)
    score_until(n_months - 1)
    evaluated = order[bounds[train_months]:]
    perf = performance_by_month(months[codes[evaluated]], y_all[evaluated], scores[evaluated])
    perf = pd.DataFrame({
        "month": months[train_months:],
        "auc": perf["auc"].to_numpy(),
        "brier": perf["brier"].to_numpy(),
        "model_version": versions,
        "retrained": retrained_at,
    })
    mean_auc = float(np.nanmean(perf["auc"]))
    return PolicyResult(policy, perf, retrainings, mean_auc, training_rows)


def simulate_policies(df: pd.DataFrame, policies: Sequence[str] = POLICIES,
                      **kwargs) -> dict[str, PolicyResult]:
    """:func:`simulate_policy` of each of ``policies`` on ``df``: ``{policy: PolicyResult}``.

    Every policy starts from the same first model, so it is trained once and shared; each
    result equals its own ``simulate_policy`` call. ``kwargs`` go to ``simulate_policy``.
    """
    shared: dict = {}
    return {p: simulate_policy(df, p, **kwargs, _first_model=shared)
            for p in dict.fromkeys(policies)}


def compare_policies(df: pd.DataFrame, policies: Sequence[str] = POLICIES,
                     **kwargs) -> pd.DataFrame:
    """Run :func:`simulate_policy` for each policy; one summary row each.

    Columns: ``policy``, ``retrainings``, ``training_rows``, ``mean_auc``, ``min_auc``.
    ``kwargs`` go to ``simulate_policy``.
    """
    rows = []
    for p, r in simulate_policies(df, policies, **kwargs).items():
        rows.append((p, r.retrainings, r.training_rows, r.mean_auc,
                     float(np.nanmin(r.performance["auc"]))))
    return pd.DataFrame(rows, columns=["policy", "retrainings", "training_rows", "mean_auc",
                                       "min_auc"])
