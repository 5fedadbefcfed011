"""Checks for the monitoring exercise: "alert on the incident, not on the season".

Part 1: the learner writes ``fires(values, rule)``, which evaluates one declarative
:class:`~mlecourse.principles.monitoring.AlertRule` on a series of metric values;
:func:`check_fires` compares it with the course's definition on several asymmetric cases and
names the usual mistakes (the window ignored, a half-full window firing, the direction or the
strict comparison wrong, a maximum instead of an average).

Part 2: the learner writes ``incident_rules()``, a list of alert rules. :func:`check_rules`
replays the seasonal-only, quality-break and downturn scenarios (:func:`exercise_metrics`),
evaluates the rules with the package's :func:`~mlecourse.principles.monitoring.evaluate_rules`
and explains every false alarm and every miss.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from mlecourse.exercises.common import (
    as_bool,
    as_list,
    call,
    fail,
    fresh,
    same_function,
)
from mlecourse.principles import monitoring as mon
from mlecourse.principles.monitoring import AlertRule

__all__ = ["REPLAYS", "DEADLINES", "START", "exercise_metrics", "check_fires", "check_rules"]

#: The replays the rules are judged on, in the order the check reports them.
REPLAYS = ("seasonal only", "quality break", "downturn")
#: The month every incident begins, and how many months after it a rule may fire at the latest.
START = pd.Timestamp("2025-04-01")
DEADLINES = {"quality break": 0, "downturn": 3}
_ROWS = 1_500


@lru_cache(maxsize=4)
def _metrics(seed: int) -> dict:
    out = {}
    for name in REPLAYS:
        replay = mon.example_replay(name, rows_per_month=_ROWS, seed=seed)
        out[name] = mon.monthly_metrics(replay.records, replay.reference)
    return out


def exercise_metrics(seed: int = 0) -> dict:
    """Monthly monitoring metrics of 2025 for each replay (fresh copies on every call).

    One table per name in :data:`REPLAYS`: rows are months, columns the metrics of
    :func:`mlecourse.principles.monitoring.monthly_metrics`.
    """
    return fresh(_metrics(seed))


# ------------------------------------------------------------------------------ part 1


def _reference(values, rule: AlertRule) -> list:
    table = pd.DataFrame({rule.metric: values})
    return mon.evaluate_rules(table, [rule]).iloc[:, 0].tolist()


def _variants(values, rule: AlertRule) -> list:
    """Typical wrong evaluations, each with the message that explains it."""
    s = pd.Series(values, dtype=float)
    above = rule.direction == "above"

    def cmp(v, strict=True, flip=False):
        up = above != flip
        if strict:
            return (v > rule.threshold) if up else (v < rule.threshold)
        return (v >= rule.threshold) if up else (v <= rule.threshold)

    full = s.rolling(rule.window, min_periods=rule.window)
    return [
        (cmp(s).tolist(),
         f"you judged every period on its own, but the rule has window={rule.window}: "
         f"average the metric over the last {rule.window} periods first. A single-point rule "
         "fires on every noisy day."),
        (cmp(s.rolling(rule.window, min_periods=1).mean()).tolist(),
         "a window that is not yet full fired. The first window - 1 periods have too little "
         "history to judge: they must give False."),
        (cmp(full.mean(), flip=True).fillna(False).tolist(),
         f"the direction is reversed: direction={rule.direction!r} fires when the average is "
         f"{'above' if above else 'below'} the threshold."),
        (cmp(full.mean(), strict=False).fillna(False).tolist(),
         "an average exactly equal to the threshold fired. The rule fires only when the value is "
         "strictly beyond the threshold (> for 'above', < for 'below')."),
        (cmp(full.max() if above else full.min()).fillna(False).tolist(),
         "you used the most extreme value in the window instead of the average: one spike "
         "then fires the rule for a whole window, exactly what a window should smooth away."),
    ]


def _cases():
    rng = np.random.default_rng(13)
    noisy = np.round(rng.gamma(2.0, 0.05, 12), 3).tolist()
    return [
        ([0.1, 0.5, 0.1, 0.1, 0.6, 0.7, 0.2], AlertRule("error_rate", 0.4)),
        ([0.1, 0.5, 0.1, 0.1, 0.6, 0.7, 0.2], AlertRule("error_rate", 0.4, window=2)),
        # binary fractions: the average of the full window equals the threshold exactly
        ([0.25, 0.25, 0.125, 0.25, 0.25, 0.25, 0.5, 0.125], AlertRule("psi", 0.25, window=3)),
        ([0.8, 0.7, 0.75, 0.6, 0.55, 0.7], AlertRule("auc", 0.7, direction="below", window=2)),
        ([0.2, 0.2, 0.9, 0.1, 0.1], AlertRule("latency", 0.3, window=3)),
        (noisy, AlertRule("error_rate", 0.12, window=4)),
    ]


def check_fires(fires, extra_cases=()) -> None:
    """Explain what is wrong with a learner's ``fires(values, rule) -> list of bool``."""
    __tracebackhide__ = True
    same_function(fires, mon.evaluate_rules, "rule evaluation (evaluate_rules)")
    for values, rule in [*_cases(), *extra_cases]:
        what = f"fires({values}, {rule})"
        got = as_list(call(fires, list(values), rule, what=what), f"the result of {what}",
                      item=as_bool)
        if len(got) != len(values):
            fail(f"{what} returned {len(got)} values for {len(values)} periods: give one True or "
                 "False per period, in order.")
        want = _reference(values, rule)
        if got == want:
            continue
        for variant, message in _variants(values, rule):
            if got == variant:
                fail(f"{what} returned {got}, expected {want}: {message}")
        fail(f"{what} returned {got}, expected {want}. Average the last {rule.window} values "
             f"(none while the window is not full) and compare with {rule.threshold} in the "
             f"rule's direction ({rule.direction!r}).")
    print("Well done: fires evaluates alert rules correctly.")


# ------------------------------------------------------------------------------ part 2


def _hint(metric: str) -> str:
    if metric.startswith("psi_"):
        return ("it compares each month with the whole training year, so the summer peak and "
                "the winter trough of loan amounts look like drift. Compare with the same "
                "calendar month instead (the seasonal_psi_ metrics), or choose another signal.")
    if metric.startswith(("latency", "error_rate", "requests")):
        return "service metrics are about the service, not about the data or the model."
    if metric in ("mean_score", "approval_rate"):
        return ("scores and approvals move with the season too (defaults peak in winter, loan "
                "amounts in summer).")
    return "the threshold is within the ordinary month-to-month variation; loosen it."


def _known(rules, table) -> None:
    __tracebackhide__ = True
    for rule in rules:
        if rule.metric not in table.columns:
            fail(f"the rule {rule.name!r} uses the metric {rule.metric!r}, which the replays do "
                 f"not have. Known metrics: {', '.join(table.columns)}.")


def check_rules(incident_rules, seed: int = 0) -> None:
    """Replay the three scenarios and explain every false alarm and every miss of the rules."""
    __tracebackhide__ = True
    raw = call(incident_rules, what="incident_rules()")
    rules = as_list(raw, "the result of incident_rules()")
    if not rules:
        fail("incident_rules() returned no rules: an empty rule set never fires, so it misses "
             "every incident.")
    for i, rule in enumerate(rules):
        if not isinstance(rule, AlertRule):
            fail(f"item {i} of incident_rules() is a {type(rule).__name__}, not an AlertRule. "
                 "Build each rule with AlertRule(metric, threshold, direction=..., window=...).")
    rules = [AlertRule(str(r.metric), float(r.threshold), str(r.direction), int(r.window),
                       str(r.name)) for r in rules]  # plain copies: no learner subclass survives
    names = [r.name for r in rules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        fail(f"Two of your rules are both called {twice[0]!r}: drop the duplicate, or give each "
             "rule its own name (AlertRule(..., name='...')).")
    metrics = exercise_metrics(seed)
    _known(rules, metrics["seasonal only"])
    where = f" (replays with seed {seed})" if seed else ""
    fired = mon.evaluate_rules(metrics["seasonal only"], rules)
    for rule in rules:
        hits = fired.index[fired[rule.name]]
        if len(hits):
            fail(f"False alarm{where}: {rule.name!r} fired in {hits[0]:%B %Y} on the "
                 f"seasonal-only replay, where nothing is wrong; {_hint(rule.metric)}")
    for name, months in DEADLINES.items():
        deadline = START + pd.DateOffset(months=months)
        table = metrics[name]
        early = mon.first_alert(table[table.index < START], rules)
        if early is not None:
            fail(f"False alarm{where}: your rules fired in {early:%B %Y} on the {name} replay, "
                 f"before the incident began in {START:%B %Y}.")
        first = mon.first_alert(table, rules)
        if first is None:
            fail(f"Missed{where}: no rule fired on the {name} replay at all. "
                 + _miss_hint(name))
        if first > deadline:
            fail(f"Too late{where}: your first alert on the {name} replay came in {first:%B %Y}; "
                 f"it must come by {deadline:%B %Y}. " + _miss_hint(name))
    print("Well done: your rules alert on both incidents in time and stay quiet on the season.")


def _miss_hint(name: str) -> str:
    if name == "quality break":
        return ("From April 2025 a quarter of the incomes arrive in euros instead of thousands "
                "of euros: which metric counts values out of their valid range?")
    return ("The downturn moves incomes, loan amounts, terms and regions over four months. "
            "Which drift measure stays low on the season but rises with them, and where does "
            "its threshold have to be?")
