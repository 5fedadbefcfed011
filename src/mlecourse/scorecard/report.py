"""A score as text for a terminal and as Markdown for a pull request or a wiki (pure functions).

``mlecourse score`` prints :func:`result_text` or :func:`result_markdown`; the static page's
"Export Markdown" button builds the same Markdown in ``static/scorecard.js`` (the browser tests
compare the two on the shared fixtures), so keep both in step.

Both show the mean and the weakest principle side by side, and how many cells are answered
beside the overall score ("2.3 over 7 of 18 cells").
"""

from __future__ import annotations

import re

from mlecourse.scorecard.rubric import Rubric, format_value
from mlecourse.scorecard.scoring import DASH, ScoreResult, coverage_text, format_score


def overall_label(rubric: Rubric) -> str:
    """``"Overall (mean)"`` for maturity rubrics, ``"Final (lowest section sum)"`` otherwise."""
    return "Overall (mean)" if rubric.scoring == "maturity" else "Final (lowest section sum)"


def weakest_label(rubric: Rubric) -> str:
    """``"Weakest principle"``: the lowest group score (maturity rubrics only)."""
    return f"Weakest {rubric.group_label.lower()}"


def _weakest_names(rubric: Rubric, result: ScoreResult) -> str:
    names = {g.id: g.name for g in rubric.groups}
    return ", ".join(names[g] for g in result.weakest_groups)


def _step_line(rubric: Rubric, step) -> str:
    group = rubric.group(step.group).name
    item = next(it.name for it in rubric.items if it.id == step.item)
    return f"{group}, {item} (level {format_value(step.level)}): {step.text}"


def result_text(rubric: Rubric, result: ScoreResult) -> str:
    """A readable report: scores, mean beside weakest, flags, unanswered cells, next steps."""
    names = {g.id: g.name for g in rubric.groups}
    rows = [(names[g.id], format_score(result.group_scores[g.id]), "") for g in rubric.groups]
    rows.append((overall_label(rubric), format_score(result.overall), coverage_text(result)))
    if rubric.scoring == "maturity":
        who = _weakest_names(rubric, result)
        rows.append((weakest_label(rubric), result.display["weakest"], f"({who})" if who else ""))
    width = max(len(r[0]) for r in rows)
    lines = [f"{rubric.title} ({rubric.id} {rubric.version})", ""]
    lines += [f"  {label:<{width}}  {value:>3}  {extra}".rstrip() for label, value, extra in rows]
    if result.band:
        lines.append(f"  {'Band':<{width}}  {result.band}")
    for a in result.ahead:
        lines.append(f"  ! {a.message}")
    if result.unanswered:
        lines += ["", f"Unanswered ({len(result.unanswered)}): {', '.join(result.unanswered)}"]
    lines += ["", "Next steps:" if result.next_steps else "Next steps: none."]
    lines += [f"  {n}. {_step_line(rubric, s)}" for n, s in enumerate(result.next_steps, 1)]
    return "\n".join(lines)


def md(text: str) -> str:
    """Text made safe for a Markdown table cell: no HTML, no ``|``, one line.

    Backticks are kept, so inline code in a rubric's wording renders as code.
    """
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\s+", " ", text.replace("|", "\\|")).strip()


def result_markdown(rubric: Rubric, result: ScoreResult) -> str:
    """The result as a Markdown table plus summary and next steps (what the page exports)."""
    items = [it for it in rubric.items]
    blank = " |" * len(items)
    total = "Score" if rubric.scoring == "maturity" else "Sum"
    lines = [f"### {md(rubric.title)} ({md(rubric.id)} {md(rubric.version)})", "",
             f"| {md(rubric.group_label)} | " + " | ".join(md(it.name) for it in items)
             + f" | {total} |",
             "|---|" + ":-:|" * (len(items) + 1)]
    for g in rubric.groups:
        values = [result.answers.get(f"{g.id}.{it.id}") for it in items]
        cells = " | ".join(DASH if v is None else format_value(v) for v in values)
        lines.append(f"| {md(g.name)} | {cells} | {format_score(result.group_scores[g.id])} |")
    coverage = coverage_text(result)
    lines.append(f"| **{overall_label(rubric)}** |{blank} **{format_score(result.overall)}**"
                 + (f" {coverage}" if coverage else "") + " |")
    if rubric.scoring == "maturity":
        who = _weakest_names(rubric, result)
        lines.append(f"| **{md(weakest_label(rubric))}** |{blank} **{result.display['weakest']}**"
                     + (f" ({md(who)})" if who else "") + " |")
    lines += ["", f"Answered: {result.answered} of {result.total} cells."]
    if result.band:
        lines.append(f"Interpretation: {md(result.band)}.")
    lines += [f"- Warning: {md(a.message)}." for a in result.ahead]
    lines += ["", "**Next steps**" if result.next_steps else "**Next steps:** none.", ""]
    lines += [f"{n}. {md(_step_line(rubric, s))}" for n, s in enumerate(result.next_steps, 1)]
    return "\n".join(lines).rstrip() + "\n"
