"""Checks for the warm-up exercise (how exercises work).

Every check runs several asymmetric cases through :mod:`mlecourse.exercises.common`, so a
hard-coded value, the share of the wrong outcome, NaN or an object with a lying ``==`` cannot
pass. Hidden tests call the same checks with more cases (``cases=...``), never new conditions.
"""

from __future__ import annotations

import pandas as pd

from mlecourse.exercises.common import as_number, as_text, call, call_expecting, fail, fresh

#: (outcomes, share of defaults). Asymmetric on purpose: the share of 0s differs from the share
#: of 1s, and no two answers are equal, so a constant cannot pass. A tuple is a sequence too.
RATE_CASES = (
    ([1, 0, 0, 0], 0.25),
    ([1, 0, 0, 1], 0.5),
    ((0, 1, 1, 1, 0), 0.6),
    ([0, 0, 0], 0.0),
    ([1], 1.0),
)


def _explain_rate(got: float, outcomes, want: float, what: str) -> str:
    n, defaults = len(outcomes), sum(outcomes)
    if got == defaults and defaults != want:
        return (f"{what} returned {got:g}: that is the number of defaults. Divide by the number "
                "of applications to get a share.")
    if abs(got - (1 - want)) < 1e-12:
        return (f"{what} returned {got:g}, the share of repayments (0s). A default is a 1: "
                "count the 1s.")
    if got == n:
        return f"{what} returned {got:g}, the number of applications, not the share of defaults."
    if abs(got - 100 * want) < 1e-9:
        return f"{what} returned {got:g}, a percentage; return a share between 0 and 1."
    return f"{what} should be {want:g}, but it returned {got:g}."


def check_default_rate(default_rate, cases=RATE_CASES) -> None:
    """Explain what is wrong with a learner's ``default_rate`` function, or return quietly."""
    __tracebackhide__ = True
    answers = []
    for outcomes, _ in cases:
        what = f"default_rate({outcomes!r})"
        answers.append(as_number(call(default_rate, fresh(outcomes), what=what),
                                 f"{what}'s result"))
    wrong = [(got, outcomes, want) for got, (outcomes, want) in zip(answers, cases)
             if abs(got - want) > 1e-12]
    if wrong and len(answers) > 1 and len(set(answers)) == 1:
        fail(f"default_rate returned {answers[0]:g} for every batch tried. Compute the share "
             "from `outcomes` instead of returning a fixed value.")
    for got, outcomes, want in wrong[:1]:
        fail(_explain_rate(got, outcomes, want, f"default_rate({outcomes!r})"))
    caught = call_expecting(default_rate, [], error=(ValueError, ZeroDivisionError),
                            what="default_rate([])")
    if isinstance(caught, ZeroDivisionError):
        fail("default_rate([]) raised ZeroDivisionError. An empty batch is bad input: check for "
             "it first and raise a ValueError that says the batch is empty.")
    if caught is None:
        fail("default_rate([]) returned a value, but an empty batch has no share of defaults: "
             "raise a ValueError that says the batch is empty.")
    if not str(caught).strip():
        fail("default_rate([]) raised a ValueError without a message. Say what is wrong, e.g. "
             "raise ValueError(\"the batch is empty\").")
    print("Well done: default_rate is correct.")


# --- the challenge: which group defaults most often? --------------------------------------------

def _batch(groups: dict[str, tuple[int, int]], column: str) -> pd.DataFrame:
    """A batch with ``n`` applications and ``d`` defaults per group ({name: (n, d)})."""
    rows = []
    for name, (n, d) in groups.items():
        rows += [{column: name, "defaulted": int(i < d)} for i in range(n)]
    # Interleave the groups, as real batches are not sorted.
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


#: (column, {group: (applications, defaults)}, the riskiest group). The group with the most
#: defaults is never the riskiest one (it is also the biggest), so counting defaults fails.
RISK_CASES = (
    ("region", {"north": (40, 8), "south": (10, 4), "east": (20, 2), "west": (30, 3)}, "south"),
    ("region", {"north": (6, 3), "south": (50, 10), "east": (12, 1)}, "north"),
    ("employment_type", {"employed": (60, 6), "self-employed": (15, 3), "retired": (5, 2)},
     "retired"),
)


def check_riskiest_group(riskiest_group, cases=RISK_CASES) -> None:
    """Check ``riskiest_group(batch, column)``: the value of ``column`` with the highest default
    rate. Explain a wrong answer, or return quietly."""
    __tracebackhide__ = True
    answers = []
    for column, groups, _ in cases:
        what = f"riskiest_group(batch, {column!r})"
        got = call(riskiest_group, fresh(_batch(groups, column)), column, what=what)
        answers.append(as_text(got, f"{what}'s result"))
    if len(set(answers)) == 1 and len({want for *_, want in cases}) > 1:
        fail(f"riskiest_group returned {answers[0]!r} for every batch tried. Compute the answer "
             "from `batch` and `column` instead of returning a fixed value.")
    for got, (column, groups, want) in zip(answers, cases):
        if got == want:
            continue
        what = f"riskiest_group(batch, {column!r})"
        rates = {g: d / n for g, (n, d) in groups.items()}
        table = ", ".join(f"{g}: {d} of {n}" for g, (n, d) in groups.items())
        if got not in groups:
            fail(f"{what} returned {got!r}, which is not a value of the column {column!r} "
                 f"(its values: {', '.join(groups)}).")
        if got == max(groups, key=lambda g: groups[g][1]):
            fail(f"{what} returned {got!r}, the group with the most defaults ({table}). It is "
                 "also the biggest group: compare the share of defaults, not the count.")
        if got == min(rates, key=rates.get):
            fail(f"{what} returned {got!r}, the group with the LOWEST default rate ({table}).")
        fail(f"{what} returned {got!r}, but {want!r} defaults most often ({table}).")
    print("Well done: riskiest_group finds the group that defaults most often.")
