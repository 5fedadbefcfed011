"""Pure scoring of scorecard answers (no widgets, no I/O).

``answers`` maps cell ids (``"versioning.code"``, ``"data.1"``) to level values; cells that are
missing or ``None`` are *unanswered*. :func:`score` dispatches on the rubric's ``scoring`` kind:

``maturity`` (mle-maturity)
    A group's (principle's) score is the mean of its answered cells; the overall score is the mean
    of all answered cells. Unanswered cells are left out of every mean and listed; a cell
    answered ``0`` ("not in place") is answered and pulls the means down. Beside the mean, the
    *weakest* score is the lowest principle score (Breck et al.'s rule that a system is only as
    ready as its weakest area): the mean says how far the system has come on average, the
    weakest says where it breaks first. ``display["weakest"]`` holds it.

``min-of-sections`` (ml-test-score)
    A section's score is the sum of its answered tests (a test not answered is a test not done,
    so it adds 0; it is still listed as unanswered). The final score is the minimum of the
    section sums (Breck et al. 2017); the band is the first whose ``up_to`` is at least the final.

Both kinds:

* Scores are exact fractions; the displayed text has one decimal, rounded half up with
  :mod:`decimal` (``2.25 -> "2.3"``), or ``"–"`` (en dash) when nothing is answered.
  The static page (``static/scorecard.js``) implements the same rule with integer arithmetic.
* How many cells are answered is part of the result (``answered`` of ``total``);
  :func:`coverage_text` words it ("over 7 of 18 cells") wherever an overall score is shown.
* Next steps: every answered cell below the top level, lowest level first (so ``0`` before
  ``1``); ties broken by group
  order (the rubric's implicit order: versioning, testing, reproducibility, deployment,
  monitoring, ways-of-working) and then item order (code, model, data). Each step carries the
  cell's "to reach the next level" text.
* Ahead of its foundations: a group G that ``depends_on`` a group F is flagged when both have
  answers and ``mean(G) - mean(F) >= rubric.foundation_gap`` (1.5 levels in mle-maturity),
  compared on the unrounded means. In mle-maturity reproducibility rests on versioning and
  testing, and monitoring on reproducibility and deployment; so monitoring at 3 with
  reproducibility at 1 is flagged, monitoring at 3 with reproducibility at 2 is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Mapping

from mlecourse.scorecard.rubric import Rubric, format_value

DASH = "–"  # shown when there is nothing to score


def round_half_up(value: Fraction | int | float | None) -> Decimal | None:
    """Round to one decimal, half up (``Fraction(9, 4)`` -> ``Decimal("2.3")``); None stays None."""
    if value is None:
        return None
    value = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def format_score(value: Fraction | int | float | None) -> str:
    """The displayed text of a score: one decimal rounded half up, or ``"–"`` for None."""
    rounded = round_half_up(value)
    return DASH if rounded is None else str(rounded)


@dataclass(frozen=True)
class NextStep:
    """What to do next for one answered cell below the top level."""

    cell: str
    group: str
    item: str
    level: int | float
    question: str
    text: str

    def to_dict(self) -> dict:
        return {"cell": self.cell, "group": self.group, "item": self.item, "level": self.level,
                "question": self.question, "text": self.text}


@dataclass(frozen=True)
class Ahead:
    """A group scoring well above a group it depends on."""

    group: str
    foundation: str
    score: Fraction
    foundation_score: Fraction
    group_name: str = ""
    foundation_name: str = ""

    @property
    def message(self) -> str:
        return (f"{self.group_name or self.group} ({format_score(self.score)}) is ahead of its "
                f"foundation {self.foundation_name or self.foundation} "
                f"({format_score(self.foundation_score)})")

    def to_dict(self) -> dict:
        return {"group": self.group, "foundation": self.foundation,
                "score": format_score(self.score),
                "foundation_score": format_score(self.foundation_score), "message": self.message}


@dataclass
class ScoreResult:
    """The outcome of :func:`score`. ``overall`` is the mean (maturity) or the final score."""

    rubric_id: str
    kind: str
    answers: dict
    group_scores: dict  # group id -> Fraction | None
    overall: Fraction | None
    overall_key: str  # "overall" (maturity) or "final" (min-of-sections)
    band: str | None = None
    unanswered: list = field(default_factory=list)
    next_steps: list = field(default_factory=list)
    ahead: list = field(default_factory=list)
    total: int = 0  # number of cells in the rubric

    @property
    def answered(self) -> int:
        """How many cells are answered (a ``0`` answer counts; ``None`` does not)."""
        return len(self.answers)

    @property
    def weakest(self) -> Fraction | None:
        """The lowest group score among groups with answers (None when nothing is answered)."""
        scores = [v for v in self.group_scores.values() if v is not None]
        return min(scores) if scores else None

    @property
    def weakest_groups(self) -> list:
        """Ids of the groups at the weakest score, in rubric order."""
        low = self.weakest
        return [] if low is None else [g for g, v in self.group_scores.items() if v == low]

    @property
    def display(self) -> dict:
        """Displayed text per group id, for ``overall_key`` and (maturity) ``"weakest"``.

        These are the numbers the page shows in its ``[data-mle-score]`` elements. The
        min-of-sections final score is already the lowest section, so it has no separate
        ``weakest``.
        """
        out = {g: format_score(v) for g, v in self.group_scores.items()}
        out[self.overall_key] = format_score(self.overall)
        if self.kind == "maturity":
            out["weakest"] = format_score(self.weakest)
        return out

    def to_dict(self) -> dict:
        """JSON-ready summary (used by ``mlecourse score --format json``)."""
        return {
            "rubric": self.rubric_id,
            "scoring": self.kind,
            "scores": self.display,
            "band": self.band,
            "answered": self.answered,
            "total": self.total,
            "weakest_groups": self.weakest_groups if self.kind == "maturity" else [],
            "unanswered": list(self.unanswered),
            "next_steps": [s.to_dict() for s in self.next_steps],
            "ahead_of_foundations": [a.to_dict() for a in self.ahead],
        }


def coverage_text(result: ScoreResult) -> str:
    """``"over 7 of 18 cells"`` when some cells are unanswered, ``""`` when all are answered."""
    if result.answered == result.total:
        return ""
    return f"over {result.answered} of {result.total} cells"


def clean_answers(rubric: Rubric, answers: Mapping | None) -> dict:
    """Check answers against the rubric; drop ``None``; return ``{cell: canonical value}``.

    Raises ValueError for an unknown cell or an out-of-range level.
    """
    out = {}
    for cid, value in (answers or {}).items():
        if cid not in rubric.cells:
            raise ValueError(f"answers: unknown cell {cid!r} for rubric {rubric.id!r}")
        if value is None:
            continue
        out[cid] = rubric.normalise_value(value, where=f"answers[{cid!r}]")
    return {cid: out[cid] for cid in rubric.cells if cid in out}


def _frac(value) -> Fraction:
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def next_steps(rubric: Rubric, answers: Mapping) -> list[NextStep]:
    """Answered cells below the top level, lowest first, then group order, then item order."""
    answers = clean_answers(rubric, answers)
    top = rubric.level_values[-1]
    group_pos = {g.id: i for i, g in enumerate(rubric.groups)}
    item_pos = {it.id: i for i, it in enumerate(rubric.items)}
    todo = [(cid, v) for cid, v in answers.items() if v != top]
    todo.sort(key=lambda cv: (rubric.level_index(cv[1]), group_pos[rubric.cells[cv[0]].group],
                              item_pos[rubric.cells[cv[0]].item]))
    steps = []
    for cid, value in todo:
        cell = rubric.cells[cid]
        steps.append(NextStep(cid, cell.group, cell.item, value, cell.question, cell.next[value]))
    return steps


def group_means(rubric: Rubric, answers: Mapping) -> dict:
    """Mean of the answered cells per group (``None`` for a group with no answers)."""
    answers = clean_answers(rubric, answers)
    out = {}
    for g in rubric.groups:
        values = [_frac(answers[f"{g.id}.{it.id}"]) for it in rubric.items
                  if f"{g.id}.{it.id}" in answers]
        out[g.id] = sum(values, Fraction(0)) / len(values) if values else None
    return out


def ahead_of_foundations(rubric: Rubric, group_scores: Mapping) -> list[Ahead]:
    """Groups whose score exceeds a group they depend on by at least ``rubric.foundation_gap``."""
    if rubric.foundation_gap is None:
        return []
    gap = _frac(rubric.foundation_gap)
    flagged = []
    for g in rubric.groups:
        mine = group_scores.get(g.id)
        for dep in g.depends_on:
            theirs = group_scores.get(dep)
            if mine is not None and theirs is not None and mine - theirs >= gap:
                flagged.append(Ahead(g.id, dep, mine, theirs, g.name, rubric.group(dep).name))
    return flagged


def score_maturity(rubric: Rubric, answers: Mapping | None) -> ScoreResult:
    """Score a ``maturity`` rubric (see the module docstring)."""
    answers = clean_answers(rubric, answers)
    groups = group_means(rubric, answers)
    values = [_frac(v) for v in answers.values()]
    overall = sum(values, Fraction(0)) / len(values) if values else None
    return ScoreResult(
        rubric_id=rubric.id, kind=rubric.scoring, answers=answers, group_scores=groups,
        overall=overall, overall_key="overall", total=len(rubric.cells),
        unanswered=[cid for cid in rubric.cells if cid not in answers],
        next_steps=next_steps(rubric, answers), ahead=ahead_of_foundations(rubric, groups),
    )


def band_for(rubric: Rubric, final: Fraction | None) -> str | None:
    """The label of the first band whose ``up_to`` is at least ``final`` (None for None)."""
    if final is None:
        return None
    for b in rubric.bands:
        if b["up_to"] is None or final <= _frac(b["up_to"]):
            return b["label"]
    return None


def score_min_of_sections(rubric: Rubric, answers: Mapping | None) -> ScoreResult:
    """Score a ``min-of-sections`` rubric such as the ML Test Score (see the module docstring)."""
    answers = clean_answers(rubric, answers)
    sums = {}
    totals = []
    for g in rubric.groups:
        cells = [f"{g.id}.{it.id}" for it in rubric.items]
        total = sum((_frac(answers[c]) for c in cells if c in answers), Fraction(0))
        totals.append(total)
        sums[g.id] = total if any(c in answers for c in cells) else None
    final = min(totals) if answers else None
    return ScoreResult(
        rubric_id=rubric.id, kind=rubric.scoring, answers=answers, group_scores=sums,
        overall=final, overall_key="final", band=band_for(rubric, final), total=len(rubric.cells),
        unanswered=[cid for cid in rubric.cells if cid not in answers],
        next_steps=next_steps(rubric, answers), ahead=ahead_of_foundations(rubric, sums),
    )


#: scoring kind -> function(rubric, answers) -> ScoreResult
SCORERS = {"maturity": score_maturity, "min-of-sections": score_min_of_sections}


def score(rubric: Rubric, answers: Mapping | None) -> ScoreResult:
    """Score answers with the rule the rubric declares (``rubric.scoring``)."""
    try:
        scorer = SCORERS[rubric.scoring]
    except KeyError:
        raise ValueError(f"rubric {rubric.id!r}: unknown scoring {rubric.scoring!r}") from None
    return scorer(rubric, answers)


# ------------------------------------------------------------------------------ comparison


@dataclass(frozen=True)
class CellChange:
    """One cell in a comparison: ``change`` is up, down, same, added, removed or unanswered."""

    cell: str
    before: int | float | None
    after: int | float | None
    change: str

    def to_dict(self) -> dict:
        return {"cell": self.cell, "before": self.before, "after": self.after,
                "change": self.change}


@dataclass
class Comparison:
    """Two assessments of the same rubric compared cell by cell."""

    cells: list
    before: ScoreResult
    after: ScoreResult

    @property
    def changed(self) -> list:
        """Cells whose answer differs (up, down, added or removed)."""
        return [c for c in self.cells if c.change not in ("same", "unanswered")]

    def score_changes(self) -> dict:
        """Displayed before/after text per group and overall: ``{key: (before, after)}``."""
        b, a = self.before.display, self.after.display
        return {k: (b[k], a[k]) for k in b}

    def to_dict(self) -> dict:
        return {"cells": [c.to_dict() for c in self.cells],
                "scores": {k: {"before": v[0], "after": v[1]}
                           for k, v in self.score_changes().items()}}


def compare(rubric: Rubric, before: Mapping | None, after: Mapping | None) -> Comparison:
    """Compare two answer sets of one rubric, cell by cell, in rubric order."""
    b = clean_answers(rubric, before)
    a = clean_answers(rubric, after)
    cells = []
    for cid in rubric.cells:
        old, new = b.get(cid), a.get(cid)
        if old is None and new is None:
            change = "unanswered"
        elif old is None:
            change = "added"
        elif new is None:
            change = "removed"
        elif new > old:
            change = "up"
        elif new < old:
            change = "down"
        else:
            change = "same"
        cells.append(CellChange(cid, old, new, change))
    return Comparison(cells, score(rubric, b), score(rubric, a))


def describe_value(rubric: Rubric, value) -> str:
    """``"2 (Automated)"`` for a level value; ``"–"`` for None."""
    if value is None:
        return DASH
    return f"{format_value(value)} ({rubric.level(value).name})"
