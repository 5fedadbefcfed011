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
        'project = "scorecard test"\n'
        # sphinx_thebe as Jupyter Book loads it: its configuration script must appear once
        'extensions = ["myst_parser", "sphinx_thebe", "mlecourse.scorecard.sphinxext"]\n'
        'thebe_config = {}\n'
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
    # "0 · Not in place" comes from the rubric file, in every maturity cell
    assert p.radios == {f"{g}.{a}": ["0", "1", "2", "3"] for g in PRINCIPLES
                        for a in ("code", "model", "data")}
    assert set(p.scores) == set(PRINCIPLES) | {"overall", "weakest"}
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
    assert _scores(offline_page) == {k: "–" for k in PRINCIPLES + ["overall", "weakest"]}
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
    "string-level": (_with(answers={"versioning.code": "2"}), "must be a number or null"),
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
        other.click("[data-mle-action=confirm]")      # it would replace saved answers: asked
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
def test_reset_asks_first_clears_answers_and_storage_and_can_be_undone(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    _answer(offline_page, "versioning.code", 2)
    offline_page.fill('[data-mle-note="versioning.code"]', "tagged releases")
    offline_page.click("[data-mle-action=reset]")
    expect(offline_page.locator("[data-mle-confirm]")).to_be_visible()
    assert "1 answer and 1 note" in offline_page.text_content("[data-mle-confirm]")
    offline_page.click("[data-mle-action=cancel]")                 # nothing happens
    assert _checked(offline_page) == {"versioning.code": "2"}
    offline_page.click("[data-mle-action=reset]")
    offline_page.click("[data-mle-action=confirm]")
    assert _checked(offline_page) == {}
    assert _scores(offline_page)["overall"] == "–"
    assert "cleared" in offline_page.text_content("[data-mle-message]")
    offline_page.reload()
    expect(offline_page.locator("form[data-mle-ready]")).to_have_count(1)
    assert _checked(offline_page) == {}
    offline_page.click("[data-mle-action=undo]")                   # undo survives a reload
    assert _checked(offline_page) == {"versioning.code": "2"}
    assert offline_page.input_value('[data-mle-note="versioning.code"]') == "tagged releases"
    expect(offline_page.locator("[data-mle-action=undo]")).to_be_disabled()
    offline_page.reload()
    expect(offline_page.locator("form[data-mle-ready]")).to_have_count(1)
    assert _checked(offline_page) == {"versioning.code": "2"}


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


# ------------------------------------------------------------------ issue 19: level 0, weakest, answered


def test_every_page_has_each_script_once(site):
    for name in ("index", "mle-maturity", "ml-test-score"):
        text = (site / f"{name}.html").read_text(encoding="utf-8")
        assert text.count("const THEBE_JS_URL") == 1, name
        assert text.count("_static/scorecard.js") == (0 if name == "index" else 1), name


def test_inline_code_in_rubric_text_is_rendered_as_code(site):
    text = (site / "mle-maturity.html").read_text(encoding="utf-8")
    shown = re.sub(r"<script.*?</script>", "", text, flags=re.S)   # the rubric JSON keeps its text
    assert "<code>dvc repro</code>" in shown and "`" not in shown


def test_note_length_and_file_size_caps_come_from_the_schema(site):
    from mlecourse.scorecard.assessment import max_note_length

    text = (site / "mle-maturity.html").read_text(encoding="utf-8")
    assert text.count(f'maxlength="{max_note_length()}"') == 18
    assert '"x-max-bytes":2000000' in text            # the schema travels with the page


@pytest.mark.browser
def test_not_in_place_weakest_and_answered_count_on_the_page(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    fx = FIXTURES["mle-maturity-not-in-place"]
    for cell, value in fx["assessment"]["answers"].items():
        _answer(offline_page, cell, value)
    assert _scores(offline_page) == fx["expected"]["scores"]
    assert _next(offline_page) == fx["expected"]["next"]          # 0 before 1
    assert offline_page.text_content("[data-mle-answered]") == "7"
    coverage = offline_page.locator("[data-mle-coverage]")
    expect(coverage).to_be_visible()
    assert coverage.text_content() == "over 7 of 18 cells"
    assert offline_page.text_content("[data-mle-weakest-names]") == "(Monitoring)"
    heat = offline_page.locator('[data-mle-heat="monitoring.data"]')
    assert heat.text_content() == "0" and heat.get_attribute("data-shade") == "0"
    for cell in load_rubric("mle-maturity").cells:                # fill the rest
        if cell not in fx["assessment"]["answers"]:
            _answer(offline_page, cell, 0)
    assert offline_page.text_content("[data-mle-answered]") == "18"
    assert coverage.text_content() == ""


def _case_bytes(case: dict) -> bytes:
    if "text_base64" in case:
        return base64.b64decode(case["text_base64"])
    return json.dumps(case["data"], ensure_ascii=False).encode("utf-8")


def _case_rubric(case: dict) -> str:
    if case.get("rubric"):
        return case["rubric"]
    data = case.get("data")
    if isinstance(data, dict) and data.get("rubric", {}).get("id") in ("mle-maturity", "ml-test-score"):
        return data["rubric"]["id"]
    return "mle-maturity"


CASES = json.loads(resources.files("mlecourse.scorecard").joinpath(
    "fixtures", "validation-cases.json").read_text("utf-8"))["cases"]


@pytest.mark.browser
def test_the_page_and_python_agree_on_every_shared_validation_case(site, serve, offline_page):
    from mlecourse.scorecard.assessment import assessment_schema, parse_assessment

    _open(offline_page, serve, site, "mle-maturity")
    payload = [{"rubric": load_rubric(_case_rubric(c)).to_dict(),
                "bytes": list(_case_bytes(c))} for c in CASES]
    js = offline_page.evaluate(
        """([cases, schema]) => cases.map(c => {
             try { const r = window.MLEScorecard.parseBytes(c.rubric, schema, new Uint8Array(c.bytes));
                   return {ok: true, answers: r.answers}; }
             catch (e) { return {ok: false, message: e.message}; } })""",
        [payload, assessment_schema()])
    for case, got in zip(CASES, js):
        name = case["name"]
        try:
            py = parse_assessment(_case_bytes(case), case.get("rubric"), source="f")
            py_ok, py_message = True, ""
        except ValueError as exc:
            py_ok, py_message = False, str(exc).removeprefix("f: ")
        assert got["ok"] is case["valid"] is py_ok, (name, got, py_message)
        if py_ok:
            assert got["answers"] == {c: format_value(v) for c, v in py["answers"].items()}, name
            continue
        for message in (got["message"], py_message):
            if "field" in case:
                assert f"field '{case['field']}'" in message, (name, message)
            assert any(m in message for m in case.get("message_any", [case.get("message")])), \
                (name, message)
        if "message_any" not in case and case["name"] not in ("not-json", "utf16-file", "nan-level"):
            assert got["message"] == py_message, name            # the very same sentence


@pytest.mark.browser
@pytest.mark.parametrize("name", ["evidence-42-null", "level-almost-2", "created-yesterday",
                                  "utf16-file"])
def test_the_issue_s_examples_are_refused_by_the_import_button(site, serve, offline_page, name):
    case = next(c for c in CASES if c["name"] == name)
    _open(offline_page, serve, site, "mle-maturity")
    _answer(offline_page, "testing.code", 1)
    _import(offline_page, _case_bytes(case))
    msg = offline_page.locator("[data-mle-message]")
    expect(msg).to_contain_text("Import failed")
    assert case["message"] in msg.text_content()
    assert _checked(offline_page) == {"testing.code": "1"}


def _ask_state(page) -> str:
    return page.eval_on_selector("[data-mle-confirm]", "e => e.hidden ? 'hidden' : e.textContent")


@pytest.mark.browser
def test_a_link_asks_before_replacing_saved_answers_and_can_be_undone(site, serve, offline_page):
    base = _open(offline_page, serve, site, "mle-maturity")
    for cell, value in {"versioning.code": 2, "testing.code": 1, "deployment.code": 3}.items():
        _answer(offline_page, cell, value)
    offline_page.fill('[data-mle-note="testing.code"]', "pytest in CI, no coverage")
    mine = _checked(offline_page)
    link = _link(base, FIXTURES["mle-maturity-partial"]["assessment"])

    offline_page.goto(link)                               # same page: only the hash changes
    expect(offline_page.locator("[data-mle-confirm]")).to_be_visible()
    assert "Replace the 3 answers and 1 note" in _ask_state(offline_page)
    assert _checked(offline_page) == mine                 # nothing replaced while asking
    offline_page.click("[data-mle-action=cancel]")
    assert _checked(offline_page) == mine and "#assessment=" not in offline_page.url
    assert "Kept the answers" in offline_page.text_content("[data-mle-message]")

    offline_page.goto(_link(base, FIXTURES["mle-maturity-partial"]["assessment"]).replace(
        "/mle-maturity.html", "/mle-maturity.html?fresh"))  # a fresh load with the link
    expect(offline_page.locator("[data-mle-confirm]")).to_be_visible()
    offline_page.click("[data-mle-action=confirm]")
    linked = {c: format_value(v) for c, v in
              FIXTURES["mle-maturity-partial"]["assessment"]["answers"].items()}
    assert _checked(offline_page) == linked
    assert "Undo brings back" in offline_page.text_content("[data-mle-message]")
    offline_page.reload()                                 # undo survives a reload
    expect(offline_page.locator("form[data-mle-ready]")).to_have_count(1)
    assert _checked(offline_page) == linked
    offline_page.click("[data-mle-action=undo]")
    assert _checked(offline_page) == mine
    assert offline_page.input_value('[data-mle-note="testing.code"]') == "pytest in CI, no coverage"
    assert "Restored the answers you had before the shared link" in \
        offline_page.text_content("[data-mle-message]")
    offline_page.click("[data-mle-action=undo]")          # the undo is undoable: nothing lost
    assert _checked(offline_page) == linked


@pytest.mark.browser
def test_an_import_can_be_undone(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    _answer(offline_page, "ways-of-working.data", 0)
    _import(offline_page, FIXTURES["mle-maturity-full"]["assessment"])
    expect(offline_page.locator("[data-mle-message]")).to_contain_text("Imported")
    assert len(_checked(offline_page)) == 18
    offline_page.click("[data-mle-action=undo]")
    assert _checked(offline_page) == {"ways-of-working.data": "0"}


@pytest.mark.browser
def test_every_failed_save_is_shown(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    offline_page.evaluate("""() => { Storage.prototype.setItem = function () {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); }; }""")
    _answer(offline_page, "versioning.code", 2)
    msg = offline_page.locator("[data-mle-message]")
    expect(msg).to_contain_text("could not be saved in this browser (QuotaExceededError")
    assert "mle-error" in msg.get_attribute("class")
    _import(offline_page, FIXTURES["mle-maturity-full"]["assessment"])
    expect(msg).to_contain_text("Imported")
    assert "could not be saved" in msg.text_content()
    offline_page.fill('[data-mle-note="testing.code"]', "x")
    assert "could not be saved" in msg.text_content()


@pytest.mark.browser
def test_blocked_storage_is_shown_when_the_page_opens(site, serve, offline_page):
    offline_page.add_init_script("""Object.defineProperty(window, 'localStorage', {
        get() { throw new DOMException('blocked', 'SecurityError'); } });""")
    _open(offline_page, serve, site, "mle-maturity")
    assert "could not be saved in this browser (SecurityError" in \
        offline_page.text_content("[data-mle-message]")
    _answer(offline_page, "versioning.code", 3)          # the page still scores
    assert _scores(offline_page)["overall"] == "3.0"


@pytest.mark.browser
def test_a_file_over_the_size_cap_is_refused_without_reading_it(site, serve, offline_page):
    _open(offline_page, serve, site, "mle-maturity")
    data = _valid()
    data["notes"] = {"versioning.code": "x" * 6_000_000}
    _import(offline_page, data)
    msg = offline_page.locator("[data-mle-message]")
    expect(msg).to_contain_text("Import failed: the file is 6,")
    assert "at most 2,000,000" in msg.text_content()
    assert _checked(offline_page) == {}


@pytest.mark.browser
def test_compare_two_assessments_on_the_page_as_python_does(site, serve, offline_page):
    from mlecourse.scorecard.scoring import compare

    rubric = load_rubric("mle-maturity")
    before = FIXTURES["mle-maturity-rounding-16"]["assessment"]
    after = FIXTURES["mle-maturity-full"]["assessment"]
    _open(offline_page, serve, site, "mle-maturity")
    _import(offline_page, after)
    offline_page.set_input_files("input[data-mle-action=compare]", files=[{
        "name": "before.json", "mimeType": "application/json",
        "buffer": json.dumps(before).encode()}])
    expect(offline_page.locator("[data-mle-compare]")).to_be_visible()
    want = compare(rubric, before["answers"], after["answers"])
    rows = offline_page.eval_on_selector_all(
        "[data-mle-compare] tbody tr", "els => Object.fromEntries(els.map(e => "
        "[e.dataset.key, [...e.querySelectorAll('td')].map(td => td.textContent)]))")
    assert rows.pop("answered") == [str(len(want.before.answers)), str(len(want.after.answers))]
    assert rows == {k: list(v) for k, v in want.score_changes().items()}
    changed = offline_page.eval_on_selector_all(
        "[data-mle-compare] li", "els => els.map(e => [e.dataset.cell, e.dataset.change])")
    assert changed == [[c.cell, c.change] for c in want.changed]
    assert f"{len(want.changed)} cells changed" in offline_page.text_content("[data-mle-message]")


@pytest.mark.browser
@pytest.mark.parametrize("rubric_id", ["mle-maturity", "ml-test-score"])
def test_markdown_export_is_the_table_the_cli_prints(site, serve, offline_page, rubric_id, tmp_path):
    from mlecourse.scorecard.report import result_markdown

    rubric = load_rubric(rubric_id)
    _open(offline_page, serve, site, rubric_id)
    names = [n for n, fx in FIXTURES.items() if fx["assessment"]["rubric"]["id"] == rubric_id]
    cases = [FIXTURES[n]["assessment"]["answers"] for n in names]
    cases += [_random_answers(rubric, random.Random(seed)) for seed in range(20)]
    js = offline_page.evaluate(
        """cases => { const r = window.MLEScorecard.instances[0].rubric;
           return cases.map(a => window.MLEScorecard.markdown(r, a)); }""",
        [{c: format_value(v) for c, v in a.items()} for a in cases])
    for answers, got in zip(cases, js):
        assert got == result_markdown(rubric, score(rubric, answers))
    _import(offline_page, FIXTURES[names[0]]["assessment"])
    with offline_page.expect_download() as info:
        offline_page.click("[data-mle-action=export-markdown]")
    path = tmp_path / "export.md"
    info.value.save_as(path)
    assert path.read_text(encoding="utf-8") == result_markdown(
        rubric, score(rubric, FIXTURES[names[0]]["assessment"]["answers"]))


@pytest.mark.browser
@pytest.mark.parametrize("name", ["index", "mle-maturity", "ml-test-score"])
def test_no_console_errors(site, serve, offline_page, name):
    errors = []
    offline_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    offline_page.on("pageerror", lambda e: errors.append(str(e)))
    offline_page.goto(f"{serve(site)}/{name}.html")
    offline_page.wait_for_load_state("load")
    if name != "index":
        expect(offline_page.locator("form[data-mle-ready]")).to_have_count(1)
    assert errors == []


@pytest.mark.browser
@pytest.mark.parametrize("rubric_id", ["mle-maturity", "ml-test-score"])
def test_grid_and_cards_fit_a_phone(site, serve, browser, rubric_id):
    context = _offline(browser.new_context(viewport={"width": 390, "height": 844},
                                           device_scale_factor=1, is_mobile=True))
    try:
        page = context.new_page()
        page.goto(f"{serve(site)}/{rubric_id}.html")
        expect(page.locator("form[data-mle-ready]")).to_have_count(1)
        width = page.evaluate("window.innerWidth")
        boxes = page.eval_on_selector_all(
            "table.mle-heatmap thead th, fieldset.mle-cell, .mle-toolbar",
            "els => els.map(e => e.getBoundingClientRect().right)")
        assert boxes and max(boxes) <= width + 0.5, (max(boxes), width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


@pytest.mark.parametrize("theme, expected", [
    ("sphinx_book_theme", {"default_mode": "auto", "github_user": "x"}),
    ("alabaster", {"github_user": "x"}),          # other themes are left alone
])
def test_book_theme_gets_a_default_mode_so_no_page_logs_an_error(theme, expected):
    from types import SimpleNamespace

    from mlecourse.scorecard.sphinxext import _theme_defaults

    config = SimpleNamespace(html_theme=theme, html_context={"github_user": "x"})
    _theme_defaults(None, config)
    assert config.html_context == expected
    config = SimpleNamespace(html_theme=theme, html_context={"default_mode": "dark"})
    _theme_defaults(None, config)
    assert config.html_context == {"default_mode": "dark"}   # a chosen mode is kept


@pytest.mark.parametrize("n_levels", [2, 4, 6])
def test_the_page_takes_its_levels_from_the_rubric_file(n_levels):
    """No code lists the levels: a rubric with other levels renders its own radios and shades."""
    from mlecourse.scorecard.report import result_markdown
    from mlecourse.scorecard.rubric import rubric_from_dict
    from mlecourse.scorecard.sphinxext import render_scorecard_html

    rubric = rubric_from_dict({
        "id": "tiny", "version": "1.0.0", "title": "Tiny", "scoring": "maturity",
        "levels": [{"value": v, "name": f"L{v}", "description": f"Level {v}."}
                   for v in range(n_levels)],
        "default_next": {v: "Do more." for v in range(n_levels - 1)},
        "groups": [{"id": "docs", "name": "Docs"}], "items": [{"id": "readme", "name": "README"}],
        "cells": [{"id": "docs.readme", "question": "Is there a `README`?"}],
    })
    p = _Inputs()
    html = render_scorecard_html(rubric)
    p.feed(html)
    assert p.radios == {"docs.readme": [str(v) for v in range(n_levels)]}
    shades = [int(s) for s in re.findall(r'class="mle-key" data-rank="\d+" data-shade="(\d+)"', html)]
    assert len(shades) == n_levels and shades[-1] == 3 and shades == sorted(shades)
    assert "<code>README</code>" in html
    assert "| **Weakest group** | | **–** |" in result_markdown(rubric, score(rubric, {}))
