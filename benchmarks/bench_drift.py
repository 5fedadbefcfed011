"""Speed of the running example and of the drift primitives (model decay, issue 4)."""

import time

import numpy as np
import pandas as pd

from mlecourse.principles.drift import drift_by_month, drift_report
from mlecourse.example.simulate import SCENARIOS, simulate_loans


def _window(n, shift, seed):
    """A 10-feature window: 6 continuous numeric, 4 categorical columns."""
    rng = np.random.default_rng(seed)
    data = {f"x{i}": rng.normal(loc=shift * i / 5, size=n) for i in range(6)}
    levels = np.array(["a", "b", "c", "d", "e"], dtype=object)
    for i in range(4):
        p = np.array([0.3, 0.25, 0.2, 0.15, 0.1]) + shift * np.array([-0.1, 0, 0, 0, 0.1])
        data[f"c{i}"] = levels[np.searchsorted(np.cumsum(p / p.sum()), rng.random(n))]
    return pd.DataFrame(data)


def _read_once(ref, cur):
    """The floor: touch every value of every column once (no statistics at all)."""
    for frame in (ref, cur):
        for column in frame.columns:
            values = frame[column].to_numpy()
            if values.dtype == object:
                len(set(values))
            else:
                values.sum()


def _numpy_scipy_baseline(ref, cur, numeric, categorical, bins=10, eps=1e-4):
    """What one would write without the package: per column, quantile bins with np.histogram,
    PSI, scipy's KS test and chi-squared test on value_counts."""
    from scipy import stats

    for column in numeric:
        edges = np.unique(np.quantile(ref[column], np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        r = np.maximum(np.histogram(ref[column], edges)[0] / len(ref), eps)
        c = np.maximum(np.histogram(cur[column], edges)[0] / len(cur), eps)
        np.sum((c - r) * np.log(c / r))
        stats.ks_2samp(ref[column], cur[column])
    for column in categorical:
        counts = pd.concat([ref[column].value_counts(), cur[column].value_counts()], axis=1)
        counts = counts.fillna(0).to_numpy().T
        shares = np.maximum(counts / counts.sum(axis=1, keepdims=True), eps)
        np.sum((shares[1] - shares[0]) * np.log(shares[1] / shares[0]))
        stats.chi2_contingency(counts, correction=False)


def cases():
    months, rows = 24, 20_000
    start = time.perf_counter()
    simulate_loans(months=months, rows_per_month=rows, seed=0, scenario=SCENARIOS["downturn"])
    seconds = time.perf_counter() - start
    yield (f"simulate_loans {months} x {rows:,} rows "
           f"({months * rows / seconds / 1e6:.1f} M rows/s)", seconds, 1.0)

    n = 1_000_000
    ref, cur = _window(n, 0.0, 0), _window(n, 0.5, 1)
    numeric = [f"x{i}" for i in range(6)]
    categorical = [f"c{i}" for i in range(4)]
    start = time.perf_counter()
    drift_report(ref, cur, numeric=numeric, categorical=categorical)
    ours = time.perf_counter() - start
    # Two yardsticks measured in the same run, so a regression shows as a ratio whatever the
    # machine's load: reading every column once (the floor) and a plain numpy/scipy version.
    start = time.perf_counter()
    _read_once(ref, cur)
    floor = time.perf_counter() - start
    start = time.perf_counter()
    _numpy_scipy_baseline(ref, cur, numeric, categorical)
    baseline = time.perf_counter() - start
    yield ("drift_report 1,000,000 vs 1,000,000 rows x 10 features (PSI + tests): "
           f"{ours / floor:.1f}x read-once floor, {baseline / ours:.1f}x faster than "
           "numpy/scipy baseline", ours, 1.0)

    df = simulate_loans(months=months, rows_per_month=rows, seed=0,
                        scenario=SCENARIOS["downturn"])
    start = time.perf_counter()
    drift_by_month(df[df["month"] < "2024-07-01"], df)
    yield (f"drift_by_month feature x month table ({months} x {rows:,} rows)",
           time.perf_counter() - start, 1.0)


if __name__ == "__main__":
    for label, seconds, budget in cases():
        print(f"{label:<75} {seconds:6.3f} s (budget {budget:g} s)")
