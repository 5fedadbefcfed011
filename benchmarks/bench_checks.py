"""Speed of the data checks and the quality gate (testing, issue 6)."""

import time

import pandas as pd

from mlecourse.principles.checks import quality_gate, validate_batch
from mlecourse.example.model import train
from mlecourse.example.simulate import Scenario, simulate_loans


def cases():
    rows = 200_000
    clean = simulate_loans(months=10, rows_per_month=rows // 10, seed=0)
    start = time.perf_counter()
    report = validate_batch(clean)
    seconds = time.perf_counter() - start
    assert report.ok, str(report)
    yield (f"validate_batch: pandera schema on a clean {rows:,}-row batch", seconds, 1.0)

    broken = simulate_loans(months=10, rows_per_month=rows // 10, seed=0,
                            scenario=Scenario(quality_break=(5, 0.3)))
    start = time.perf_counter()
    report = validate_batch(broken)
    seconds = time.perf_counter() - start
    assert not report.ok
    yield (f"validate_batch: broken {rows:,}-row batch (lazy, failure report)", seconds, 1.5)

    # The notebook's gate: 12,000-row batch and holdout, champion and candidate trained.
    history = simulate_loans(months=9, rows_per_month=4_000, seed=0)
    month = history["month"]
    old = history[month < "2024-04-01"]
    batch = history[(month >= "2024-04-01") & (month < "2024-07-01")]
    holdout = history[month >= "2024-07-01"]
    champion = train(old)
    start = time.perf_counter()
    candidate = train(pd.concat([old, batch]))
    decision = quality_gate(candidate, champion, batch, holdout)
    seconds = time.perf_counter() - start
    assert decision.accepted, decision.reasons
    yield ("quality_gate end to end: train candidate + data, model, behaviour, fairness "
           "(12,000-row batch and holdout)", seconds, 2.0)


if __name__ == "__main__":
    for label, seconds, budget in cases():
        print(f"{label:<75} {seconds:6.3f} s (budget {budget:g} s)")
