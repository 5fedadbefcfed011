"""The static scorecard pages: HTML contract, and behaviour in headless Chromium.

A tiny Sphinx project (myst_parser + mlecourse.scorecard.sphinxext + the two book pages) is built in a
temporary folder, served on loopback, and driven with Playwright; every request beyond loopback
is aborted. The same fixtures as the Python scoring tests are checked against the page, and the
page's JavaScript scoring is compared with the Python scoring on random answers.
"""

from __future__ import annotations

import base64
import json
import random
import re
import subprocess
import sys
from fractions import Fraction
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import scorecard_fixtures
from mlecourse.scorecard.assessment import load_assessment, validate_assessment
from mlecourse.scorecard.rubric import format_value, load_rubric
from mlecourse.scorecard.scoring import format_score, score

ROOT = Path(__file__).resolve().parent.parent
PRINCIPLES = ["versioning", "testing", "reproducibility", "deployment", "monitoring",
              "ways-of-working"]
SECTIONS = ["data", "model", "infrastructure", "monitoring"]


FIXTURES = scorecard_fixtures()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """Build the two scorecard pages with the course's Sphinx extension; return the HTML dir."""
    src = tmp_path_factory.mktemp("scorecard-src")
    (src / "conf.py").write_text(
        'project = "scorecard test"\nextensions = ["myst_parser", "mlecourse.scorecard.sphinxext"]\n'
        'html_theme = "alabaster"\nsuppress_warnings = ["myst.xref_missing"]\n',
        encoding="utf-8")
    for name in ("mle-maturity", "ml-test-score"):
        text = (ROOT / "book" / "scorecard" / f"{name}.md").read_text(encoding="utf-8")
        text = re.sub(r"\{cite:[pt]\}`[^`]*`", "", text)  # no bibliography in this tiny build
        (src / f"{name}.md").write_text(text, encoding="utf-8")
    (src / "index.md").write_text("# Test\n\n```{toctree}\nmle-maturity\nml-test-score\n```\n",
                                  encoding="utf-8")
    out = tmp_path_factory.mktemp("scorecard-html")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


# ------------------------------------------------------------------ HTML contract (no browser)


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.radios: dict[str, list[str]] = {}
        self.forms: list[dict] = []
        self.scores: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "radio":
            self.radios.setdefault(a["name"], []).append(a["value"])
        if tag == "form" and "data-mle-scorecard" in a:
            self.forms.append(a)
        if "data-mle-score" in a:
            self.scores.append(a["data-mle-score"])
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])


def _parse(path: Path) -> _Inputs:
    parser = _Inputs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_maturity_page_follows_the_html_contract(site):
    p = _parse(site / "mle-maturity.html")
    assert [f["data-mle-scorecard"] for f in p.forms] == ["mle-maturity"]
    assert p.radios == {f"{g}.{a}": ["1", "2", "3"] for g in PRINCIPLES
                        for a in ("code", "model", "data")}
    assert set(p.scores) == set(PRINCIPLES) | {"overall"}
    assert any("_static/scorecard.js" in s for s in p.scripts)
    text = (site / "mle-maturity.html").read_text(encoding="utf-8")
    assert "data-mle-next" in text
    # the questions come from the rubric file, not from hand-copied HTML
    rubric = load_rubric("mle-maturity")
    assert rubric.cells["versioning.model"].question in text


def test_ml_test_score_page_follows_the_html_contract(site):
    p = _parse(site / "ml-test-score.html")
    assert [f["data-mle-scorecard"] for f in p.forms] == ["ml-test-score"]
    assert p.radios == {f"{s}.{n}": ["0", "0.5", "1"] for s in SECTIONS for n in range(1, 8)}
    assert set(p.scores) == set(SECTIONS) | {"final"}
    assert "data-mle-band" in (site / "ml-test-score.html").read_text(encoding="utf-8")


def test_assets_are_copied_and_only_linked_on_scorecard_pages(site):
    assert (site / "_static" / "scorecard.js").is_file()
    assert (site / "_static" / "scorecard.css").is_file()
    assert not any("scorecard" in s for s in _parse(site / "index.html").scripts)
    for name in ("scorecard.js", "scorecard.css"):
        text = (site / "_static" / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), f"{name} refers to another site"


# ------------------------------------------------------------------ browser helpers



def _open(page, serve, site, name: str):
    base = serve(site)
    page.goto(f"{base}/{name}.html")
    expect(page.locator("form[data-mle-ready]")).to_have_count(1)
    return base


def _answer(page, cell: str, value) -> None:
    page.locator(f'input[name="{cell}"][value="{format_value(value)}"]').check()


def _scores(page) -> dict:
    return page.eval_on_selector_all(
        "[data-mle-score]", "els => Object.fromEntries(els.map(e => "
        "[e.getAttribute('data-mle-score'), e.textContent.trim()]))")


def _next(page, maturity: bool = True) -> list[str]:
    a, b = ("data-principle", "data-aspect") if maturity else ("data-section", "data-test")
    return page.eval_on_selector_all(
        "[data-mle-next] > li", f"els => els.map(e => e.getAttribute('{a}') + '.' + "
        f"e.getAttribute('{b}'))")


def _checked(page) -> dict:
    return page.eval_on_selector_all(
        "input[type=radio]:checked", "els => Object.fromEntries(els.map(e => [e.name, e.value]))")


def _import(page, data, name: str = "assessment.json") -> None:
    payload = data if isinstance(data, (bytes, str)) else json.dumps(data)
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    page.set_input_files("input[data-mle-action=import]",
                         files=[{"name": name, "mimeType": "application/json", "buffer": payload}])


# ------------------------------------------------------------------ browser tests


@pytest.mark.browser
def test_empty_page_shows_dashes_and_makes_no_outside_requests(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    assert _scores(offline_page) == {k: "–" for k in PRINCIPLES + ["overall"]}
    assert _next(offline_page) == []
    assert offline_page.blocked_requests == []


@pytest.mark.browser
def test_clicking_answers_updates_scores_and_next_steps(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    fx = FIXTURES["mle-maturity-rounding-quarter"]
    for cell, value in fx["assessment"]["answers"].items():
        _answer(offline_page, cell, value)
    assert _scores(offline_page) == fx["expected"]["scores"]   # overall 2.25 -> 2.3
    assert _next(offline_page) == fx["expected"]["next"]
    _answer(offline_page, "testing.code", 3)
    assert _scores(offline_page)["overall"] == "2.8"             # 11/4 = 2.75 -> 2.8
    offline_page.click('[data-mle-clear="testing.code"]')
    assert _scores(offline_page)["testing"] == "–"
    assert _scores(offline_page)["overall"] == "2.7"             # 8/3


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_imported_fixture_shows_the_same_results_as_python(site, serve, offline_page, name):
    fx = FIXTURES[name]
    rubric_id = fx["assessment"]["rubric"]["id"]
    maturity = rubric_id == "mle-maturity"
    _open(offline_page, serve, site, rubric_id)
    _import(offline_page, fx["assessment"])
    expect(offline_page.locator("[data-mle-message]")).to_contain_text("Imported")
    expected = fx["expected"]
    assert _scores(offline_page) == expected["scores"]
    if "next" in expected:
        assert _next(offline_page, maturity) == expected["next"]
    if "band" in expected:
        assert offline_page.text_content("[data-mle-band]") == expected["band"]
    ahead = offline_page.eval_on_selector_all(
        "[data-mle-ahead] > li", "els => els.map(e => [e.dataset.group, e.dataset.foundation])")
    assert ahead == expected["ahead"]
    answers = {c: format_value(v) for c, v in fx["assessment"]["answers"].items()}
    assert _checked(offline_page) == answers


def _random_answers(rubric, rng: random.Random) -> dict:
    keep = rng.random()
    return {c: rng.choice(rubric.level_values) for c in rubric.cells if rng.random() < keep}


@pytest.mark.browser
@pytest.mark.parametrize("rubric_id", ["mle-maturity", "ml-test-score"])
def test_javascript_scoring_equals_python_scoring(site, serve, offline_page, rubric_id):
    _open(offline_page, serve, site, rubric_id)
    rubric = load_rubric(rubric_id)
    rng = random.Random(0)
    cases = [_random_answers(rubric, rng) for _ in range(300)]
    js = offline_page.evaluate(
        """cases => { const r = window.MLEScorecard.instances[0].rubric;
           return cases.map(a => window.MLEScorecard.score(r, a)); }""",
        [{c: format_value(v) for c, v in a.items()} for a in cases])
    for answers, got in zip(cases, js):
        want = score(rubric, answers)
        assert got["display"] == want.display, answers
        assert [s["cell"] for s in got["next"]] == [s.cell for s in want.next_steps], answers
        assert [[a["group"], a["foundation"]] for a in got["ahead"]] == \
               [[a.group, a.foundation] for a in want.ahead], answers
        assert got["band"] == want.band, answers


@pytest.mark.browser
def test_javascript_rounding_equals_python_on_a_grid(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    pairs = [(num, den) for den in range(1, 41) for num in range(0, 3 * den + 1)]
    js = offline_page.evaluate(
        "pairs => pairs.map(([n, d]) => window.MLEScorecard.formatFraction(n, d))", pairs)
    assert js == [format_score(Fraction(n, d)) for n, d in pairs]
    assert js[pairs.index((21, 20))] == "1.1" and js[pairs.index((9, 4))] == "2.3"


@pytest.mark.browser
def test_answers_and_notes_survive_a_reload(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    _answer(offline_page, "deployment.model", 3)
    _answer(offline_page, "deployment.code", 1)
    offline_page.fill('[data-mle-note="deployment.code"]', "manual <b>copy</b>")
    offline_page.reload()
    expect(offline_page.locator("form[data-mle-ready]")).to_have_count(1)
    assert _checked(offline_page) == {"deployment.code": "1", "deployment.model": "3"}
    assert _scores(offline_page)["deployment"] == "2.0"
    assert offline_page.input_value('[data-mle-note="deployment.code"]') == "manual <b>copy</b>"
    assert "manual <b>copy</b>" in offline_page.text_content("[data-mle-next]")


@pytest.mark.browser
def test_corrupted_local_storage_is_ignored_with_a_notice(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    offline_page.evaluate(
        "localStorage.setItem('mlecourse-scorecard:mle-maturity', '{broken json')")
    offline_page.reload()
    expect(offline_page.locator("form[data-mle-ready]")).to_have_count(1)
    assert "could not be read" in offline_page.text_content("[data-mle-message]")
    assert _scores(offline_page)["overall"] == "–"
    _answer(offline_page, "testing.code", 2)        # the page still works
    assert _scores(offline_page)["overall"] == "2.0"


def _valid():
    return json.loads(json.dumps(FIXTURES["mle-maturity-full"]["assessment"]))


def _with(**changes):
    data = _valid()
    for key, value in changes.items():
        data[key] = value
    return data


BAD_IMPORTS = {
    "malformed": (b"{this is not json", "not valid JSON"),
    "other-rubric": (FIXTURES["ml-test-score-full"]["assessment"],
                     "assessment for rubric 'ml-test-score', not 'mle-maturity'"),
    "unknown-cell": (_with(answers={"versioning.cod": 1}), "unknown cell 'versioning.cod'"),
    "out-of-range": (_with(answers={"versioning.code": 4}), "out of range"),
    "string-level": (_with(answers={"versioning.code": "2"}), "out of range"),
}


@pytest.mark.browser
@pytest.mark.parametrize("case", sorted(BAD_IMPORTS))
def test_bad_imports_show_a_message_and_keep_the_answers(site, serve, offline_page, case):
    payload, message = BAD_IMPORTS[case]
    _open(offline_page, serve, site, "mle-maturity")
    _answer(offline_page, "monitoring.data", 2)
    _import(offline_page, payload)
    msg = offline_page.locator("[data-mle-message]")
    expect(msg).to_contain_text("Import failed")
    assert message in msg.text_content()
    assert "current answers are unchanged" in msg.text_content()
    assert _checked(offline_page) == {"monitoring.data": "2"}
    assert _scores(offline_page)["overall"] == "2.0"


@pytest.mark.browser
def test_a_script_in_a_note_is_shown_as_text_and_never_runs(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    fx = FIXTURES["mle-maturity-partial"]
    note = fx["assessment"]["notes"]["testing.data"]
    _import(offline_page, fx["assessment"])
    expect(offline_page.locator("[data-mle-message]")).to_contain_text("Imported")
    assert offline_page.evaluate("window.__pwned === undefined")
    assert offline_page.locator("[data-mle-next] script, [data-mle-next] img").count() == 0
    assert note in offline_page.text_content("[data-mle-next]")
    assert offline_page.input_value('[data-mle-note="testing.data"]') == note


def _link(base: str, data: dict) -> str:
    raw = base64.urlsafe_b64encode(json.dumps(data).encode("utf-8")).decode().rstrip("=")
    return f"{base}/mle-maturity.html#assessment={raw}"


def _offline(context):
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith("http://127.0.0.1") else route.abort())
    return context


@pytest.mark.browser
def test_shared_link_carries_the_answers_to_a_fresh_browser(site, serve, offline_page, browser):
    base = _open(offline_page, serve, site, "mle-maturity")
    _answer(offline_page, "versioning.code", 3)
    _answer(offline_page, "testing.model", 1)
    offline_page.click("[data-mle-action=share]")
    url = offline_page.input_value("[data-mle-share-url]")
    assert url.startswith(f"{base}/mle-maturity.html#assessment=")

    context = _offline(browser.new_context())   # empty localStorage
    try:
        other = context.new_page()
        other.goto(url)
        expect(other.locator("form[data-mle-ready]")).to_have_count(1)
        assert _checked(other) == {"versioning.code": "3", "testing.model": "1"}
        assert _scores(other)["overall"] == "2.0"
        assert "shared link" in other.text_content("[data-mle-message]")
        assert "#assessment=" not in other.url      # later changes survive a reload
        _answer(other, "testing.model", 2)
        other.reload()
        expect(other.locator("form[data-mle-ready]")).to_have_count(1)
        assert _checked(other) == {"versioning.code": "3", "testing.model": "2"}

        evil = _valid()
        evil["notes"] = {"versioning.data": "<script>window.__pwned=1</script>"
                                            "<img src=x onerror='window.__pwned=1'>"}
        other.goto(_link(base, evil))
        other.reload()
        expect(other.locator("form[data-mle-ready]")).to_have_count(1)
        assert other.evaluate("window.__pwned === undefined")
        assert "<script>window.__pwned=1</script>" in other.text_content("[data-mle-next]")

        other.goto(f"{base}/mle-maturity.html#assessment=not-base64!!")
        other.reload()
        expect(other.locator("form[data-mle-ready]")).to_have_count(1)
        assert "shared link could not be read" in other.text_content("[data-mle-message]")
    finally:
        context.close()


@pytest.mark.browser
def test_export_writes_the_interchange_format(site, serve, offline_page, tmp_path):
    _open(offline_page, serve, site, "ml-test-score")
    _answer(offline_page, "data.1", 0.5)
    _answer(offline_page, "monitoring.7", 1)
    offline_page.fill('[data-mle-note="data.1"]', "checked by hand in March")
    with offline_page.expect_download() as info:
        offline_page.click("[data-mle-action=export]")
    path = tmp_path / "export.json"
    info.value.save_as(path)
    data = load_assessment(path)                 # validates against the Python format
    assert data["rubric"]["id"] == "ml-test-score"
    assert data["answers"] == {"data.1": 0.5, "monitoring.7": 1}
    assert data["notes"] == {"data.1": "checked by hand in March"}
    assert validate_assessment(data)["created"]


@pytest.mark.browser
def test_reset_clears_answers_and_storage(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    _answer(offline_page, "versioning.code", 2)
    offline_page.click("[data-mle-action=reset]")
    assert _checked(offline_page) == {}
    assert _scores(offline_page)["overall"] == "–"
    offline_page.reload()
    expect(offline_page.locator("form[data-mle-ready]")).to_have_count(1)
    assert _checked(offline_page) == {}


@pytest.mark.browser
def test_ml_test_score_page_scores_sections_final_and_band(site, serve, offline_page):
    _open(offline_page, serve, site, "ml-test-score")
    assert _scores(offline_page) == {k: "–" for k in SECTIONS + ["final"]}
    for section in SECTIONS:
        for n in (1, 2):
            _answer(offline_page, f"{section}.{n}", 1)
    _answer(offline_page, "model.3", 0.5)
    scores = _scores(offline_page)
    assert scores == {"data": "2.0", "model": "2.5", "infrastructure": "2.0",
                      "monitoring": "2.0", "final": "2.0"}
    assert offline_page.text_content("[data-mle-band]").startswith("A first pass")
    assert offline_page.blocked_requests == []
