"""Checks for the deployment exercise "promote or roll back?".

Part 1: the learner writes ``decide(metrics, policy)``, a canary's release decision from its
logged metrics; :func:`check_decide` replays several canaries (a good challenger, a slower one,
one with shifted scores, one with too little traffic, errors, and the limits themselves) and
explains each wrong decision. Part 2: ``canary_metrics(log)`` computes those metrics from a raw
request log; :func:`check_canary_metrics` compares them on several logs.

The rules are those of :func:`mlecourse.principles.release.canary_decision`; a learner who hands
in that function is asked for their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlecourse.exercises.common import (
    as_dict,
    as_int,
    as_number,
    as_text,
    call,
    fail,
    fresh,
    same_function,
)

__all__ = [
    "POLICY",
    "policy",
    "canaries",
    "request_log",
    "check_decide",
    "check_canary_metrics",
]

#: The release policy agreed before the canary (the same defaults as the package's).
POLICY = {"min_requests": 400, "max_error_rate": 0.01, "max_latency_ratio": 1.5,
          "max_score_psi": 0.1}

_DECISIONS = ("promote", "rollback", "wait")
# Each case changes one thing of a clean canary, so a wrong answer points at one mistake; the
# good challenger (a few errors, a little slower, scores a little different) comes last.
_CLEAN = {"requests": 1000, "errors": 0, "p95_latency_ms": 4.0, "champion_p95_latency_ms": 4.0,
          "score_psi": 0.02}

# (name, change to the clean canary, expected decision, {wrong decision: what it means})
_CASES = [
    ("a slower challenger", {"p95_latency_ms": 9.0}, "rollback", {
        "promote": "Its p95 latency is 9.0 ms against the champion's 4.0 ms, 2.25 times as "
                   "slow: compare the ratio p95_latency_ms / champion_p95_latency_ms with "
                   "max_latency_ratio."}),
    ("a challenger with shifted scores", {"score_psi": 0.31}, "rollback", {
        "promote": "Its score PSI against the champion is 0.31, above max_score_psi: its scores "
                   "moved too far from the champion's."}),
    ("a challenger with too little traffic", {"requests": 150}, "wait", {
        "promote": "Only 150 canary requests, fewer than min_requests: too little traffic to "
                   "decide anything yet, so wait.",
        "rollback": "Only 150 canary requests: too little traffic to decide, so wait."}),
    ("too little traffic, but shifted scores", {"requests": 150, "score_psi": 0.5}, "wait", {
        "rollback": "With only 150 requests (below min_requests) every metric is mostly noise: "
                    "the policy checks the traffic first and waits, whatever the other "
                    "metrics say."}),
    ("a challenger that fails requests", {"errors": 25}, "rollback", {
        "promote": "25 errors in 1,000 requests is an error rate of 2.5 %, above "
                   "max_error_rate (1 %)."}),
    ("a slow service where the champion is slow too",
     {"p95_latency_ms": 30.0, "champion_p95_latency_ms": 25.0}, "promote", {
        "rollback": "30 ms against the champion's 25 ms is a ratio of 1.2, within "
                    "max_latency_ratio: the limit is a ratio to the champion, not milliseconds.",
        "wait": "1,000 requests are more than min_requests: there is enough traffic to decide."}),
    ("a few errors in much traffic", {"requests": 4000, "errors": 12}, "promote", {
        "rollback": "12 errors in 4,000 requests is 0.3 %, below max_error_rate: compare the "
                    "error *rate* (errors / requests), not the count, with the limit.",
        "wait": "4,000 requests are more than min_requests: there is enough traffic to decide."}),
    ("exactly at every limit", {"requests": 400, "errors": 4, "p95_latency_ms": 6.0,
                                "score_psi": 0.1}, "promote", {
        "rollback": "Every metric is exactly at its limit (400 requests, 1 % errors, ratio 1.5, "
                    "PSI 0.1). The policy says a value at a limit passes: use > for the limits, "
                    "not >=.",
        "wait": "400 requests is exactly min_requests, which is enough: wait only below it."}),
    ("a good challenger", {"errors": 3, "p95_latency_ms": 5.0, "score_psi": 0.03}, "promote", {
        "rollback": "Every metric is within the policy (3 errors in 1,000 requests is 0.3 %, "
                    "latency ratio 1.25, PSI 0.03): a good challenger must be promoted, or no "
                    "release ever happens.",
        "wait": "1,000 requests are more than min_requests: there is enough traffic to decide."}),
]


def policy() -> dict:
    """A fresh copy of the exercise's release policy."""
    return dict(POLICY)


def canaries() -> pd.DataFrame:
    """The logged metrics of the canaries the check replays (one row each), for a first look."""
    shown = ("a good challenger", "a slower challenger", "a challenger with shifted scores",
             "a challenger with too little traffic")
    rows = [{"canary": name, **_CLEAN, **change} for name, change, _, _ in _CASES
            if name in shown]
    return pd.DataFrame(rows).set_index("canary")


def _check_one(decide, name, metrics, pol, expected, explain) -> None:
    __tracebackhide__ = True
    answer = call(decide, fresh(metrics), fresh(pol), what=f"decide(<{name}>, policy)")
    answer = as_text(answer, f"decide(<{name}>, policy)")
    if answer not in _DECISIONS:
        fail(f"decide must return 'promote', 'rollback' or 'wait' (lower case), but for {name} "
             f"it returned {answer!r}.")
    if answer != expected:
        reason = explain.get(answer, "")
        fail(f"For {name} ({_describe(metrics)}) the decision should be {expected!r}, "
             f"not {answer!r}. {reason}".strip())


def _describe(metrics: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in metrics.items())


def check_decide(decide, pol: dict | None = None, cases=None) -> None:
    """Replay the canaries and explain the first wrong decision; print a summary when right.

    ``pol`` replaces the policy (the hidden tests use a stricter one: the answer must read the
    policy, not hard-code the numbers).
    """
    __tracebackhide__ = True
    from mlecourse.principles.release import CanaryPolicy, canary_decision

    same_function(decide, canary_decision, "canary_decision")
    pol = policy() if pol is None else dict(pol)
    if cases is None:
        cases = _CASES if pol == POLICY else _cases_for(pol)
    for name, change, expected, explain in cases:
        metrics = {**_CLEAN, **change}
        _check_one(decide, name, metrics, pol, expected, explain)
        truth = canary_decision(metrics, CanaryPolicy(**pol))
        assert truth == expected, f"exercise bug: {name}"  # the exercise's own consistency
    print(f"decide is right on all {len(cases)} canaries.")


def _cases_for(pol: dict) -> list:
    """Cases built around another policy's limits (same conditions, other numbers)."""
    n = pol["min_requests"]
    champion = 10.0
    return [
        ("a good challenger under a stricter policy",
         {"requests": n + 1, "errors": 0, "p95_latency_ms": champion,
          "champion_p95_latency_ms": champion, "score_psi": pol["max_score_psi"] / 2},
         "promote", {"rollback": "All metrics are within this policy's limits.",
                     "wait": f"{n + 1} requests are more than min_requests={n}."}),
        ("just too little traffic", {"requests": n - 1, "errors": 0}, "wait",
         {"promote": f"{n - 1} requests are fewer than min_requests={n}: read the limit from "
                     "the policy argument, not from the numbers in the text.",
          "rollback": f"{n - 1} requests are fewer than min_requests={n}: wait."}),
        ("slightly too slow",
         {"requests": n, "errors": 0, "champion_p95_latency_ms": champion,
          "p95_latency_ms": champion * pol["max_latency_ratio"] * 1.01}, "rollback",
         {"promote": "The latency ratio is just above this policy's max_latency_ratio: read the "
                     "limit from the policy argument."}),
        ("scores slightly too far",
         {"requests": n, "errors": 0, "score_psi": pol["max_score_psi"] * 1.01}, "rollback",
         {"promote": "The PSI is just above this policy's max_score_psi: read the limit from the "
                     "policy argument."}),
    ]


# --- part 2: metrics from the request log -------------------------------------------------------

def request_log(kind: str = "good", seed: int = 0) -> pd.DataFrame:
    """A canary's raw request log: one row per request.

    Columns: ``arm`` ("champion" or "canary"), ``latency_ms``, ``error`` (True when the request
    failed; its ``score`` is then NaN) and ``score``. ``kind``: "good", "slower", "shifted",
    "little traffic" or "champion errors" (failures on the champion's arm only).
    """
    kinds = ("good", "slower", "shifted", "little traffic", "champion errors")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {', '.join(kinds)}; got {kind!r}")
    rng = np.random.default_rng([seed, kinds.index(kind)])
    n = 300 if kind == "little traffic" else 3000
    canary = rng.random(n) < 0.2
    latency = rng.lognormal(np.log(4.0), 0.35, n)
    if kind == "slower":
        latency[canary] *= 2.0
    score = rng.beta(2.0, 8.0, n)
    if kind == "shifted":
        score[canary] = rng.beta(3.0, 5.0, int(canary.sum()))
    error = rng.random(n) < 0.004
    if kind == "champion errors":
        error |= (~canary) & (rng.random(n) < 0.05)
    score[error] = np.nan
    return pd.DataFrame({"arm": np.where(canary, "canary", "champion"),
                         "latency_ms": latency.round(3), "error": error, "score": score})


def _reference_metrics(log: pd.DataFrame) -> dict:
    from mlecourse.principles.drift import psi

    canary, champion = log[log["arm"] == "canary"], log[log["arm"] == "champion"]
    return {
        "requests": int(len(canary)),
        "errors": int(canary["error"].sum()),
        "p95_latency_ms": float(np.percentile(canary["latency_ms"], 95)),
        "champion_p95_latency_ms": float(np.percentile(champion["latency_ms"], 95)),
        "score_psi": psi(champion["score"].dropna(), canary["score"].dropna(), name="score"),
    }


_METRIC_HINTS = {
    "requests": "count the canary's requests only (rows with arm == 'canary'), failed ones "
                "included",
    "errors": "count the failed requests of the canary's arm only: the champion's failures say "
              "nothing about the challenger",
    "p95_latency_ms": "the 95th percentile of the canary's latency_ms (np.percentile(x, 95)), "
                      "not the mean or the maximum",
    "champion_p95_latency_ms": "the 95th percentile of the champion's latency_ms",
    "score_psi": "psi(champion scores, canary scores) with the champion as the reference, "
                 "failed requests (NaN scores) left out",
}


def check_canary_metrics(canary_metrics, kinds=("good", "slower", "shifted", "little traffic",
                                                "champion errors"), seed: int = 0) -> None:
    """Compare the learner's metrics with the expected ones on several request logs."""
    __tracebackhide__ = True
    for kind in kinds:
        log = request_log(kind, seed)
        expected = _reference_metrics(log)
        what = f"canary_metrics(<the {kind!r} log>)"
        got = as_dict(call(canary_metrics, fresh(log), what=what), what)
        missing = [k for k in expected if k not in got]
        if missing:
            fail(f"{what} lacks the key(s) {', '.join(missing)}; decide() reads all of "
                 f"{', '.join(expected)}.")
        for key, value in expected.items():
            if key in ("requests", "errors"):
                mine = as_int(got[key], f"{key} of {what}")
                ok = mine == value
            else:
                mine = as_number(got[key], f"{key} of {what}")
                ok = abs(mine - value) <= 1e-9 * max(1.0, abs(value))
            if not ok:
                fail(f"{key} of {what} is {mine:g}, expected {value:g}: {_METRIC_HINTS[key]}.")
    print(f"canary_metrics is right on all {len(kinds)} logs.")
