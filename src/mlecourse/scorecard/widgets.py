"""Thin ipywidgets layers over the pure functions (no scoring happens here).

:class:`Scorecard` answers every cell of a rubric with a control that shows the level
descriptors, and shows live results computed by :func:`mlecourse.scorecard.scoring.score`: a
group x item heatmap, group and overall scores, ordered next steps. It saves to and loads from
the JSON interchange format (:mod:`mlecourse.scorecard.assessment`) and compares with a saved assessment.

    card = Scorecard("mle-maturity")
    card              # displays in JupyterLab
    card.set_answer("versioning.code", 2)
    card.result       # the ScoreResult of the current answers

Extension point: a later control (e.g. "pre-fill from a folder") builds an assessment and calls
``card.apply_assessment(assessment, prefilled=True)``; put its widgets in the toolbar with
``card.add_control(widget)``. Pre-filled cells are marked until the learner changes them.

:func:`plot_heatmap` draws the same results with matplotlib for the static site.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import ipywidgets as w

from mlecourse.scorecard.assessment import (
    compare_assessments,
    load_assessment,
    new_assessment,
    save_assessment,
    validate_assessment,
)
from mlecourse.scorecard.rubric import Rubric, format_value, load_rubric
from mlecourse.scorecard.report import overall_label, weakest_label
from mlecourse.scorecard.scoring import DASH, ScoreResult, coverage_text, format_score, score

#: Level colours, lowest to top; a rubric with n levels uses the last n, so its top level is
#: always green and a maturity "0 · not in place" the darkest red. The page's CSS (--mle-shade-*)
#: uses the same colours.
RANK_COLOURS = ("#f4866b", "#fcbba1", "#fdd49e", "#a1d99b")
EMPTY_COLOUR = "#ececec"


def level_colours(rubric: Rubric) -> list[str]:
    """One colour per level of ``rubric``, lowest first (see :data:`RANK_COLOURS`)."""
    n = len(rubric.levels)
    if n > len(RANK_COLOURS):
        return [RANK_COLOURS[round(i * (len(RANK_COLOURS) - 1) / (n - 1))] for i in range(n)]
    return list(RANK_COLOURS[len(RANK_COLOURS) - n:])


def _colour(rubric: Rubric, rank: int | None) -> str:
    return EMPTY_COLOUR if rank is None else level_colours(rubric)[rank]


def heatmap_html(rubric: Rubric, result: ScoreResult) -> str:
    """An HTML table: one row per group, one column per item, coloured by level, with scores."""
    head = "".join(f"<th style='padding:2px 8px'>{escape(it.name)}</th>" for it in rubric.items)
    total = "Score" if rubric.scoring == "maturity" else "Sum"
    rows = []
    for g in rubric.groups:
        tds = []
        for it in rubric.items:
            cid = f"{g.id}.{it.id}"
            value = result.answers.get(cid)
            rank = None if value is None else rubric.level_index(value)
            text = "" if value is None else format_value(value)
            tds.append(f"<td data-cell='{escape(cid)}' style='background:{_colour(rubric, rank)};"
                       f"text-align:center;font-weight:bold;min-width:2.4em;padding:2px 8px'>"
                       f"{text}</td>")
        rows.append(f"<tr><th style='text-align:left;padding:2px 8px'>{escape(g.name)}</th>"
                    f"{''.join(tds)}<td style='text-align:center;font-weight:bold;padding:2px 8px'>"
                    f"{format_score(result.group_scores[g.id])}</td></tr>")
    span = f"colspan='{len(rubric.items) + 1}' style='text-align:left;padding:2px 8px'"
    big = "style='text-align:center;font-weight:bold;font-size:1.15em;padding:2px 8px'"
    coverage = coverage_text(result)
    foot = (f"<tr><th {span}>{overall_label(rubric)}</th><td {big} data-score='overall'>"
            f"{format_score(result.overall)}</td><td>{escape(coverage)}</td></tr>")
    if rubric.scoring == "maturity":  # the weakest link beside the mean
        who = ", ".join(rubric.group(g).name for g in result.weakest_groups)
        foot += (f"<tr><th {span}>{escape(weakest_label(rubric))}</th><td {big} "
                 f"data-score='weakest'>{result.display['weakest']}</td>"
                 f"<td>{escape(who)}</td></tr>")
    band = f"<p><b>Interpretation:</b> {escape(result.band)}</p>" if result.band else ""
    return (f"<table style='border-collapse:collapse'><thead><tr>"
            f"<th style='padding:2px 8px'>{escape(rubric.group_label)}</th>{head}"
            f"<th style='padding:2px 8px'>{total}</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            f"<tfoot>{foot}</tfoot></table>{band}")


def next_steps_html(rubric: Rubric, result: ScoreResult, notes: dict | None = None) -> str:
    """The ordered next steps and the 'ahead of its foundations' flags as HTML (text escaped)."""
    notes = notes or {}
    names = {g.id: g.name for g in rubric.groups}
    items = {it.id: it.name for it in rubric.items}
    parts = []
    if result.ahead:
        parts.append("<ul style='color:#8a4b00'>" + "".join(
            f"<li>⚠ {escape(names[a.group])} ({format_score(a.score)}) is ahead of its "
            f"foundation {escape(names[a.foundation])} ({format_score(a.foundation_score)})</li>"
            for a in result.ahead) + "</ul>")
    total = len(rubric.cells)
    missing = len(result.unanswered)
    if rubric.scoring == "maturity":
        parts.append("<p style='font-size:0.9em'>The <b>mean</b> says how far the system has "
                     "come on average; the <b>weakest principle</b> says where it breaks first "
                     "(a system is only as ready as its weakest area).</p>")
    parts.append(f"<p><i>{total - missing} of {total} answered"
                 + (f"; {missing} unanswered "
                    f"({'left out of the scores' if rubric.scoring == 'maturity' else 'counted as not done'})"
                    if missing else "") + ".</i></p>")
    if result.next_steps:
        lis = []
        for s in result.next_steps:
            note = notes.get(s.cell)
            note_html = f"<br><small>Your note: {escape(note)}</small>" if note else ""
            lis.append(f"<li data-cell='{escape(s.cell)}'><b>{escape(names[s.group])}, "
                       f"{escape(items[s.item])} ({format_value(s.level)})</b>: "
                       f"{escape(s.text)}{note_html}</li>")
        parts.append("<b>Next steps</b><ol>" + "".join(lis) + "</ol>")
    else:
        parts.append("<b>Next steps</b><p>Answer some cells to see what to do next.</p>"
                     if not result.answers else
                     "<b>Next steps</b><p>Every answered cell is at the top level.</p>")
    return "".join(parts)


def comparison_html(rubric: Rubric, comparison) -> str:
    """A table of the cells that changed and of the scores before and after."""
    rows = "".join(
        f"<tr><td>{escape(c.cell)}</td><td>{DASH if c.before is None else format_value(c.before)}"
        f"</td><td>{DASH if c.after is None else format_value(c.after)}</td>"
        f"<td>{escape(c.change)}</td></tr>"
        for c in comparison.changed
    ) or "<tr><td colspan='4'>No cell changed.</td></tr>"
    scores = "".join(f"<tr><td>{escape(k)}</td><td>{b}</td><td>{a}</td></tr>"
                     for k, (b, a) in comparison.score_changes().items())
    return ("<b>Changed cells (saved → current)</b><table><tr><th>cell</th><th>saved</th>"
            f"<th>current</th><th>change</th></tr>{rows}</table>"
            "<b>Scores</b><table><tr><th></th><th>saved</th><th>current</th></tr>"
            f"{scores}</table>")


class Scorecard:
    """An ipywidgets scorecard for one rubric (see the module docstring)."""

    def __init__(self, rubric: Rubric | str = "mle-maturity", assessment: dict | None = None):
        self.rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
        self.prefilled: set[str] = set()
        self.evidence: dict = {}
        self._applying = False
        self.result: ScoreResult = score(self.rubric, {})

        self.controls: dict[str, w.ToggleButtons] = {}
        self.descriptors: dict[str, w.HTML] = {}
        self.notes: dict[str, w.Textarea] = {}
        self.clear_buttons: dict[str, w.Button] = {}
        pages = []
        for g in self.rubric.groups:
            cells = []
            for it in self.rubric.items:
                cells.append(self._cell_widget(f"{g.id}.{it.id}", it.name))
            pages.append(w.VBox(cells))
        self.form = w.Accordion(children=pages,
                                titles=tuple(g.name for g in self.rubric.groups))

        self.heatmap = w.HTML()
        self.next_steps = w.HTML()
        self.message = w.HTML()
        self.comparison = w.HTML()
        self.path = w.Text(description="File", placeholder="assessment.json",
                           layout=w.Layout(width="24em"))
        self.save_button = w.Button(description="Save", icon="download")
        self.load_button = w.Button(description="Load", icon="upload")
        self.compare_button = w.Button(description="Compare with file", icon="exchange")
        self.save_button.on_click(lambda _: self.save(self.path.value))
        self.load_button.on_click(lambda _: self.load(self.path.value))
        self.compare_button.on_click(lambda _: self.compare_with(self.path.value))
        self.toolbar = w.HBox([self.path, self.save_button, self.load_button,
                               self.compare_button])
        self.widget = w.VBox([
            w.HTML(f"<h3>{escape(self.rubric.title)}</h3><p>{escape(self.rubric.description)}</p>"),
            self.toolbar, self.message,
            w.HBox([self.heatmap, self.next_steps], layout=w.Layout(grid_gap="2em")),
            self.comparison, self.form,
        ])
        if assessment is not None:
            self.apply_assessment(assessment)
        else:
            self.refresh()

    # ---------------------------------------------------------------- building

    def _cell_widget(self, cid: str, item_name: str) -> w.VBox:
        cell = self.rubric.cells[cid]
        options = [(f"{format_value(lv.value)} {lv.name}", lv.value) for lv in self.rubric.levels]
        control = w.ToggleButtons(options=options, value=None,
                                  tooltips=[cell.levels[lv.value] for lv in self.rubric.levels],
                                  style={"button_width": "9em"})
        control.observe(lambda change, cid=cid: self._on_change(cid), names="value")
        note = w.Textarea(placeholder="Why this level? (plain text)",
                          layout=w.Layout(width="95%", height="3em"))
        note.observe(lambda change: self.refresh(), names="value")
        clear = w.Button(description="Clear", layout=w.Layout(width="6em"))
        clear.on_click(lambda _, cid=cid: self.set_answer(cid, None))
        self.controls[cid] = control
        self.notes[cid] = note
        self.clear_buttons[cid] = clear
        self.descriptors[cid] = w.HTML()
        question = f"<b>{escape(item_name)}</b>: {escape(cell.question)}"
        if cell.detail:
            question += f"<br><small>{escape(cell.detail)}</small>"
        return w.VBox([w.HTML(question), w.HBox([control, clear]), self.descriptors[cid], note],
                      layout=w.Layout(border="1px solid #ddd", padding="4px", margin="4px 0"))

    def add_control(self, widget: w.Widget) -> None:
        """Append a widget to the toolbar (for example a "pre-fill from a folder" control)."""
        self.toolbar.children = (*self.toolbar.children, widget)

    # ---------------------------------------------------------------- state

    @property
    def answers(self) -> dict:
        """Current answers ``{cell: value}`` (unanswered cells left out)."""
        return {cid: c.value for cid, c in self.controls.items() if c.value is not None}

    def set_answer(self, cell: str, value) -> None:
        """Set one cell's answer (``None`` clears it); raises ValueError for a bad cell or level."""
        if cell not in self.controls:
            raise ValueError(f"unknown cell {cell!r} for rubric {self.rubric.id!r}")
        if value is not None:
            value = self.rubric.normalise_value(value, where=f"cell {cell!r}")
        self.controls[cell].value = value

    def _on_change(self, cid: str) -> None:
        if not self._applying:
            self.prefilled.discard(cid)  # the learner's own answer now
            self.refresh()

    def to_assessment(self, created=None) -> dict:
        """The current answers, notes, evidence and pre-filled marks as an assessment dict."""
        answers = self.answers
        notes = {cid: t.value for cid, t in self.notes.items() if t.value}
        return new_assessment(self.rubric, answers, notes, self.evidence,
                              [c for c in self.prefilled if c in answers], created=created)

    def apply_assessment(self, assessment: dict, prefilled: bool = False) -> None:
        """Show an assessment in the controls (validated first; on error nothing changes).

        ``prefilled=True`` marks every answered cell as pre-filled (suggested by a scan);
        otherwise the assessment's own ``prefilled`` list is used. Marks disappear when the
        learner changes a cell.
        """
        clean = validate_assessment(assessment, self.rubric)
        self._applying = True
        try:
            for cid, control in self.controls.items():
                control.value = clean["answers"].get(cid)
                self.notes[cid].value = clean["notes"].get(cid, "")
        finally:
            self._applying = False
        self.evidence = clean["evidence"]
        self.prefilled = set(clean["answers"]) if prefilled else set(clean["prefilled"])
        self.refresh()

    # ---------------------------------------------------------------- results

    def refresh(self) -> None:
        """Recompute the results with :func:`mlecourse.scorecard.scoring.score` and redraw them."""
        if self._applying:
            return
        self.result = score(self.rubric, self.answers)
        notes = {cid: t.value for cid, t in self.notes.items() if t.value}
        self.heatmap.value = heatmap_html(self.rubric, self.result)
        self.next_steps.value = next_steps_html(self.rubric, self.result, notes)
        for cid, html in self.descriptors.items():
            html.value = self._descriptor_html(cid)

    def _descriptor_html(self, cid: str) -> str:
        cell = self.rubric.cells[cid]
        chosen = self.controls[cid].value
        lines = []
        for lv in self.rubric.levels:
            text = f"{format_value(lv.value)}: {escape(cell.levels[lv.value])}"
            lines.append(f"<li><b>{text}</b></li>" if chosen == lv.value else
                         f"<li style='color:#666'>{text}</li>")
        extra = ""
        if cid in self.prefilled:
            extra += "<i>pre-filled from a scan; change it if it is wrong</i>"
        for ev in self.evidence.get(cid, []):
            where = ev.get("path", "")
            if ev.get("line"):
                where += f":{ev['line']}"
            extra += (f"<br><small>evidence: {escape(str(ev.get('signal', '')))} "
                      f"{escape(str(where))} {escape(str(ev.get('detail', '')))}</small>")
        return f"<ul style='margin:0'>{''.join(lines)}</ul>{extra}"

    # ---------------------------------------------------------------- files

    def _say(self, text: str, error: bool = False) -> None:
        colour = "#9b1c1c" if error else "#1d4d6e"
        self.message.value = f"<span style='color:{colour}'>{escape(text)}</span>"

    def save(self, path: str | Path) -> Path | None:
        """Write the current assessment to ``path`` (JSON); report the outcome in the message."""
        try:
            if not str(path).strip():
                raise ValueError("give a file name first")
            out = save_assessment(self.to_assessment(), path)
        except (ValueError, OSError) as exc:
            self._say(f"Could not save: {exc}", error=True)
            return None
        self._say(f"Saved to {out}.")
        return out

    def load(self, path: str | Path) -> bool:
        """Load an assessment file; on any error show a message and keep the current answers."""
        try:
            if not str(path).strip():
                raise ValueError("give a file name first")
            self.apply_assessment(load_assessment(path, self.rubric))
        except (ValueError, OSError) as exc:
            self._say(f"Could not load: {exc}. Your current answers are unchanged.", error=True)
            return False
        self._say(f"Loaded {path}.")
        return True

    def compare_with(self, saved: str | Path | dict):
        """Compare a saved assessment (file or dict) with the current answers, cell by cell."""
        try:
            before = saved if isinstance(saved, dict) else load_assessment(saved, self.rubric)
            comparison = compare_assessments(before, self.to_assessment(), self.rubric)
        except (ValueError, OSError) as exc:
            self._say(f"Could not compare: {exc}", error=True)
            return None
        self.comparison.value = comparison_html(self.rubric, comparison)
        self._say(f"Compared with the saved assessment: {len(comparison.changed)} cell(s) changed.")
        return comparison

    def _ipython_display_(self):  # pragma: no cover - needs a front end
        from IPython.display import display

        display(self.widget)


def plot_heatmap(rubric: Rubric | str, answers: dict, ax=None, title: str | None = None):
    """Draw the group x item heatmap with group scores (static figure for the site).

    Scores come from :func:`mlecourse.scorecard.scoring.score`; returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    result = score(rubric, answers)
    n_levels = len(rubric.levels)
    grid = [[(rubric.level_index(result.answers[f"{g.id}.{it.id}"]) + 1)
             if f"{g.id}.{it.id}" in result.answers else 0 for it in rubric.items]
            for g in rubric.groups]
    cmap = ListedColormap([EMPTY_COLOUR, *level_colours(rubric)])
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * len(rubric.items) + 3.5, 0.6 * len(rubric.groups) + 1.5))
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=n_levels + 0.5, aspect="auto")
    for i, g in enumerate(rubric.groups):
        for j, it in enumerate(rubric.items):
            value = result.answers.get(f"{g.id}.{it.id}")
            ax.text(j, i, "" if value is None else format_value(value), ha="center", va="center",
                    fontsize=12, weight="bold")
    ax.set_xticks(range(len(rubric.items)))
    ax.set_xticklabels([it.name for it in rubric.items])
    ax.set_yticks(range(len(rubric.groups)))
    ax.set_yticklabels([f"{g.name} ({format_score(result.group_scores[g.id])})"
                        for g in rubric.groups])
    ax.set_xticks([x - 0.5 for x in range(1, len(rubric.items))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rubric.groups))], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="both", length=0)
    if title is None:
        coverage = coverage_text(result)
        if result.overall_key == "overall":
            title = (f"{rubric.title}: mean {format_score(result.overall)}"
                     f"{' ' + coverage if coverage else ''}, weakest "
                     f"{format_score(result.weakest)}")
        else:
            title = f"{rubric.title}: final score {format_score(result.overall)}"
    ax.set_title(title)
    return ax
