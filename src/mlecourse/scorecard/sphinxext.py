"""Sphinx extension for the course site: the ``mle-scorecard`` directive.

In a MyST page::

    ```{mle-scorecard} mle-maturity
    ```

renders the rubric (a packaged id, or a path to a rubric YAML file relative to the page) as an
HTML form at build time, with the rubric embedded as JSON for ``static/scorecard.js``. The
script and ``static/scorecard.css`` (vanilla, no framework, no CDN) are copied into
``_static/`` and linked only on pages that contain a scorecard.

The HTML contract that the script and the browser tests rely on:

* the form carries ``data-mle-scorecard="<rubric id>"``;
* each cell is a group of radio inputs named ``<group>.<item>`` whose values are the level
  values (``1``, ``2``, ``3`` or ``0``, ``0.5``, ``1``);
* ``[data-mle-score="<group>"]`` and ``[data-mle-score="overall"]`` (maturity) or
  ``[data-mle-score="final"]`` and ``[data-mle-band]`` (min-of-sections) show the scores;
* ``[data-mle-next]`` is the ordered list of next steps;
* ``[data-mle-score="weakest"]`` (maturity) holds the lowest principle score, beside the mean;
* ``[data-mle-answered]`` holds how many cells are answered (visible: "over 7 of 18 cells");
* ``[data-mle-action="undo"]`` restores the answers a link, an import or a reset replaced;
* ``[data-mle-message]`` shows every success and failure message.

The assessment JSON Schema (``assessment.schema.json``) is embedded too: the script validates
imports, links and saved answers with it, as Python does.

Every page also loses duplicate ``<script>`` entries (sphinx-thebe registers its configuration
script twice, which logs "Identifier 'THEBE_JS_URL' has already been declared"), and the book
theme gets an explicit ``default_mode`` (without one it logs "Got invalid theme mode").
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from mlecourse import __version__
from mlecourse.scorecard.assessment import assessment_schema, max_note_length
from mlecourse.scorecard.report import overall_label, weakest_label
from mlecourse.scorecard.rubric import Rubric, format_value, load_rubric, rubric_path

STATIC_DIR = Path(__file__).parent / "static"
JS_FILE = "scorecard.js"
CSS_FILE = "scorecard.css"


def _a(value) -> str:
    """Escape for an HTML attribute value."""
    return escape(str(value), quote=True)


def _t(value) -> str:
    """Escape for HTML text."""
    return escape(str(value), quote=False)


def _inline(value) -> str:
    """Escape for HTML text and render `backtick` spans as inline code (rubric wording)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _t(value))


def _script_json(data) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def rubric_json(rubric: Rubric) -> str:
    """The rubric as JSON that is safe inside a ``<script>`` element."""
    return _script_json(rubric.to_dict())


def _source_text(rubric: Rubric, ref: dict) -> str:
    src = rubric.sources.get(ref.get("source"), {})
    title = src.get("title", ref.get("source", ""))
    detail = ref.get("detail")
    return f"{title}: {detail}" if detail else title


#: Level colours in scorecard.css, lowest first; a rubric with n levels uses the last n shades
#: (the same rule as mlecourse.scorecard.widgets.level_colours), so the top level is green.
N_SHADES = 4


def _shade(rubric: Rubric, value) -> int:
    n = len(rubric.levels)
    rank = rubric.level_index(value)
    return round(rank * (N_SHADES - 1) / (n - 1)) if n > N_SHADES else N_SHADES - n + rank


def _cell_html(rubric: Rubric, cell, item_name: str) -> str:
    cid = cell.id
    options = []
    for lv in rubric.levels:
        key = format_value(lv.value)
        options.append(
            f'<label class="mle-option" data-rank="{rubric.level_index(lv.value)}" '
            f'data-shade="{_shade(rubric, lv.value)}">'
            f'<input type="radio" name="{_a(cid)}" value="{_a(key)}">'
            f'<span class="mle-level">{_t(key)} · {_t(lv.name)}</span>'
            f'<span class="mle-descriptor">{_inline(cell.levels[lv.value])}</span></label>'
        )
    detail = f'<p class="mle-detail">{_inline(cell.detail)}</p>' if cell.detail else ""
    refs = ""
    if cell.references:
        refs = ('<details class="mle-refs"><summary>Sources</summary><ul>'
                + "".join(f"<li>{_t(_source_text(rubric, r))}</li>" for r in cell.references)
                + "</ul></details>")
    return (
        f'<fieldset class="mle-cell" data-mle-cell="{_a(cid)}" id="mle-cell-{_a(cid)}">'
        f'<legend><span class="mle-item">{_t(item_name)}</span> {_inline(cell.question)}'
        f'<span class="mle-prefilled-badge" hidden>pre-filled</span></legend>'
        f"{detail}"
        f'<div class="mle-options" role="radiogroup">{"".join(options)}</div>'
        f'<div class="mle-cell-tools"><button type="button" class="mle-clear" '
        f'data-mle-clear="{_a(cid)}">Clear answer</button>'
        f'<label class="mle-note-label">Notes <textarea rows="2" data-mle-note="{_a(cid)}" '
        f'maxlength="{max_note_length()}" '
        f'aria-label="Notes for {_a(cid)}" placeholder="Why this level? (plain text)"></textarea>'
        f"</label></div>{refs}</fieldset>"
    )


def _heatmap_html(rubric: Rubric) -> str:
    head = "".join(f"<th scope=\"col\">{_t(it.name)}</th>" for it in rubric.items)
    total_label = "Score" if rubric.scoring == "maturity" else "Sum"
    rows = []
    for g in rubric.groups:
        cells = "".join(
            f'<td class="mle-heat" data-mle-heat="{_a(g.id)}.{_a(it.id)}"></td>'
            for it in rubric.items
        )
        rows.append(f'<tr><th scope="row"><a href="#mle-group-{_a(g.id)}">{_t(g.name)}</a></th>'
                    f'{cells}<td class="mle-score" data-mle-score="{_a(g.id)}">–</td></tr>')
    span = len(rubric.items) + 1
    key = "overall" if rubric.scoring == "maturity" else "final"
    foot = (f'<tr><th scope="row" colspan="{span}">{_t(overall_label(rubric))} '
            f'<span class="mle-coverage-inline" data-mle-coverage></span></th>'
            f'<td class="mle-score mle-overall" data-mle-score="{key}">–</td></tr>')
    if rubric.scoring == "maturity":  # the weakest link beside the mean
        foot += (f'<tr class="mle-weakest-row"><th scope="row" colspan="{span}">'
                 f'{_t(weakest_label(rubric))} <span class="mle-weakest-names" '
                 f'data-mle-weakest-names></span></th>'
                 f'<td class="mle-score mle-overall" data-mle-score="weakest">–</td></tr>')
    return (f'<div class="mle-heatmap-wrap"><table class="mle-heatmap" data-mle-heatmap><thead><tr>'
            f"<th scope=\"col\">{_t(rubric.group_label)}</th>{head}<th scope=\"col\">"
            f"{total_label}</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            f"<tfoot>{foot}</tfoot></table></div>")


def _summary_html(rubric: Rubric) -> str:
    """The sentence under the grid: the answered count, and what the mean and weakest are for."""
    total = len(rubric.cells)
    text = (f'<p class="mle-coverage">Answered: <strong data-mle-answered>0</strong> of '
            f'{total} cells.</p>')
    if rubric.scoring == "maturity":
        text += ('<p class="mle-explain">The <strong>mean</strong> says how far the system has '
                 'come on average. The <strong>weakest principle</strong> says where it breaks '
                 'first: a system is only as ready as its weakest area, so raise that one before '
                 'polishing the rest.</p>')
    return text


def render_scorecard_html(rubric: Rubric) -> str:
    """The scorecard form for ``rubric`` as an HTML string (the directive's output)."""
    band = ""
    if rubric.scoring == "min-of-sections":
        band = '<p class="mle-band-line">Interpretation: <strong data-mle-band>–</strong></p>'
    legend = "".join(
        f'<span class="mle-key" data-rank="{i}" data-shade="{_shade(rubric, lv.value)}">'
        f'{_t(format_value(lv.value))} {_t(lv.name)}</span>'
        for i, lv in enumerate(rubric.levels)
    )
    groups = []
    for g in rubric.groups:
        cells = "".join(
            _cell_html(rubric, rubric.cells[f"{g.id}.{it.id}"], it.name) for it in rubric.items
        )
        desc = f'<p class="mle-group-desc">{_inline(g.description)}</p>' if g.description else ""
        groups.append(f'<fieldset class="mle-group" id="mle-group-{_a(g.id)}">'
                      f"<legend>{_t(g.name)}</legend>{desc}{cells}</fieldset>")
    accept = 'accept=".json,application/json"'
    return (
        f'<form class="mle-scorecard" data-mle-scorecard="{_a(rubric.id)}" '
        f'data-mle-version="{_a(rubric.version)}" data-mle-kind="{_a(rubric.scoring)}" '
        f'autocomplete="off" novalidate>'
        f'<noscript><p class="mle-message mle-error">The scorecard needs JavaScript for its live '
        f"scores. You can still read every question below.</p></noscript>"
        f'<div class="mle-toolbar">'
        f'<button type="button" data-mle-action="export">Export JSON</button>'
        f'<button type="button" data-mle-action="export-markdown">Export Markdown</button>'
        f'<label class="mle-import">Import JSON <input type="file" {accept}'
        f' data-mle-action="import"></label>'
        f'<label class="mle-import">Compare with a file <input type="file" {accept}'
        f' data-mle-action="compare"></label>'
        f'<button type="button" data-mle-action="share">Make a shareable link</button>'
        f'<button type="button" data-mle-action="reset">Reset</button>'
        f'<button type="button" data-mle-action="undo" disabled>Undo</button>'
        f'<input type="text" readonly class="mle-share-url" data-mle-share-url '
        f'aria-label="Shareable link" hidden></div>'
        f'<div class="mle-confirm" data-mle-confirm role="alertdialog" aria-live="assertive" '
        f'hidden>'
        f'<p data-mle-confirm-text></p>'
        f'<button type="button" data-mle-action="confirm">Replace</button> '
        f'<button type="button" data-mle-action="cancel">Keep my answers</button></div>'
        f'<p class="mle-message" data-mle-message role="status" aria-live="polite"></p>'
        f'<section class="mle-results" aria-label="Results">'
        f'<div class="mle-legend">{legend}</div>{_heatmap_html(rubric)}{_summary_html(rubric)}'
        f'{band}'
        f'<ul class="mle-ahead" data-mle-ahead></ul>'
        f'<p class="mle-unanswered" data-mle-unanswered></p>'
        f'<h3 class="mle-next-title">Next steps</h3>'
        f'<ol class="mle-next" data-mle-next></ol>'
        f'<div class="mle-compare" data-mle-compare hidden></div></section>'
        f'{"".join(groups)}'
        f'<script type="application/json" data-mle-rubric>{rubric_json(rubric)}</script>'
        f'<script type="application/json" data-mle-schema>'
        f'{_script_json(assessment_schema())}</script>'
        f"</form>"
    )


class ScorecardDirective(SphinxDirective):
    """``{mle-scorecard} <rubric id or path>``: the rubric as a self-scoring HTML form."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False

    def run(self):
        arg = self.arguments[0].strip()
        target = arg
        if arg.endswith((".yaml", ".yml")):
            _, target = self.env.relfn2path(arg)
        try:
            path = rubric_path(target)
            rubric = load_rubric(path)
        except ValueError as exc:
            raise self.error(f"mle-scorecard: {exc}") from None
        self.env.note_dependency(str(Path(path).resolve()))
        return [nodes.raw("", render_scorecard_html(rubric), format="html")]


def _add_static_path(app) -> None:
    static = str(STATIC_DIR)
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)


def _add_assets(app, pagename, templatename, context, doctree) -> None:
    """Link the scorecard script and style sheet on pages that contain a scorecard."""
    if "data-mle-scorecard=" in context.get("body", ""):
        app.add_css_file(CSS_FILE)
        app.add_js_file(JS_FILE, defer="defer")


# --- site-wide fixes ------------------------------------------------------------------------

SITE_CSS_FILE = "course.css"
# Startup messages that dump a whole configuration object (myst-parser, myst-nb) on every build.
_CONFIG_DUMPS = ("MdParserConfig(", "NbParserConfig(")


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated inline scripts from a page.

    Sphinx 7.4 registers an inline script (``add_js_file(None, body=...)``) with the file name
    ``None`` and adds it again as ``''`` before writing, and the two do not compare equal. So
    sphinx-thebe's ``const THEBE_JS_URL = ...`` is declared twice and every page throws a
    SyntaxError in the browser. Keep the first of each (file name, attributes) pair.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, keep = set(), []
    for js in scripts:
        key = (getattr(js, "filename", js) or "",
               tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            keep.append(js)
    scripts[:] = keep


class _QuietConfigDumps:
    """A logging filter that drops the configuration dumps, keeping every warning."""

    def filter(self, record) -> bool:
        if record.levelno >= 30:  # warnings and errors always pass
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        return not any(marker in message for marker in _CONFIG_DUMPS)


def _quiet_build_log(app) -> None:
    import logging

    for handler in logging.getLogger("sphinx").handlers:
        handler.addFilter(_QuietConfigDumps())


def _quiet_kernels(app) -> None:
    """Executed notebooks run in kernels with a throwaway IPython profile that logs errors only.

    ipykernel 7 logs "Kernel is running over TCP without encryption" at start-up; with one
    kernel per page that is a dozen warnings about a local, loopback-only build. The profile
    also keeps a reader's own IPython start-up files out of the executed pages.
    """
    import os
    import tempfile

    if os.environ.get("IPYTHONDIR"):
        return  # the user chose a profile: leave it alone
    folder = tempfile.mkdtemp(prefix="mlecourse-ipython-")
    profile = Path(folder, "profile_default")
    profile.mkdir()
    profile.joinpath("ipython_kernel_config.py").write_text(
        'c.IPKernelApp.log_level = "ERROR"\n', "utf-8")
    os.environ["IPYTHONDIR"] = folder
    app.connect("build-finished", lambda app, exc: _remove_profile(folder))


def _remove_profile(folder: str) -> None:
    import os
    import shutil

    if os.environ.get("IPYTHONDIR") == folder:
        del os.environ["IPYTHONDIR"]
    shutil.rmtree(folder, ignore_errors=True)


#: Themes built on pydata-sphinx-theme: with no ``default_mode`` they log "Got invalid theme
#: mode: . Resetting to auto." on a first visit; "auto" is what they fall back to anyway.
PYDATA_THEMES = ("sphinx_book_theme", "pydata_sphinx_theme")


def _theme_defaults(app, config) -> None:
    """Give pydata-based themes an explicit ``default_mode`` so no page logs a console error."""
    if config.html_theme in PYDATA_THEMES:  # the theme reads it from html_context
        context = dict(config.html_context or {})
        context.setdefault("default_mode", "auto")
        config.html_context = context


def setup(app):
    """Register the directive, the static files and the site-wide fixes."""
    app.add_directive("mle-scorecard", ScorecardDirective)
    app.connect("config-inited", _theme_defaults)
    app.connect("builder-inited", _add_static_path)
    app.connect("html-page-context", _add_assets)
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after others add scripts
    app.add_css_file(SITE_CSS_FILE)
    _quiet_build_log(app)
    app.connect("config-inited", lambda app, config: _quiet_kernels(app))
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
