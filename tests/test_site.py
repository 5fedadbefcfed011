"""The built site in headless Chromium, as a reader sees it: offline, five parts in the sidebar."""

from __future__ import annotations

import pytest

from test_book import PARTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_landing_page_shows_the_parts_offline(built_book, serve, offline_page):
    base = serve(built_book)
    offline_page.goto(f"{base}/index.html")
    offline_page.wait_for_url("**/book/index.html")  # the site's front door redirects here
    captions = offline_page.locator("nav.bd-links p.caption .caption-text").all_inner_texts()
    assert [c.strip() for c in captions][:5] == PARTS
    assert offline_page.blocked_requests == [], "the page asked for something beyond the site"


def test_a_chapter_is_one_click_from_the_landing_page(built_book, serve, offline_page):
    base = serve(built_book)
    offline_page.goto(f"{base}/book/index.html")
    offline_page.locator("nav.bd-links a", has_text="Introduction").first.click()
    assert offline_page.url.endswith("book/introduction.html")
    assert offline_page.locator("h1").first.inner_text().strip()


def test_maths_renders_offline(built_book, serve, offline_page):
    # MathJax is vendored: a page with formulas renders them without any CDN.
    base = serve(built_book)
    offline_page.goto(f"{base}/notebooks/model-decay.html")
    offline_page.wait_for_selector("mjx-container", timeout=15000)
    assert offline_page.blocked_requests == []


def test_no_page_reaches_beyond_the_site(built_book, serve, offline_page):
    from test_book import toc_files

    base = serve(built_book)
    for page in toc_files():
        offline_page.goto(f"{base}/{page}.html", wait_until="load")
        assert offline_page.blocked_requests == [], f"{page}: {offline_page.blocked_requests}"


def _page_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return errors


def test_no_page_logs_a_console_error(built_book, serve, offline_page):
    # Every page, each as a first visit (the theme's colour mode is read from an empty
    # localStorage then): no uncaught exception and no console error.
    from test_book import toc_files

    base = serve(built_book)
    errors = _page_errors(offline_page)
    failures = {}
    for page in ["index", *toc_files()]:
        del errors[:]
        offline_page.goto(f"{base}/{page}.html", wait_until="load")
        offline_page.wait_for_timeout(100)  # let deferred scripts run
        if errors:
            failures[page] = list(errors)
        offline_page.evaluate("localStorage.clear()")
    assert not failures, failures


@pytest.mark.parametrize("width", [1280, 390])
def test_pages_and_outputs_fit_the_screen(built_book, serve, offline_page, width):
    # On a laptop and on a phone: printed outputs and code wrap instead of running off the
    # right edge, and no page is wider than the screen.
    from test_book import toc_files

    base = serve(built_book)
    offline_page.set_viewport_size({"width": width, "height": 844})
    clipped = {}
    for page in toc_files():
        offline_page.goto(f"{base}/{page}.html", wait_until="load")
        wide = offline_page.evaluate(
            """() => [...document.querySelectorAll('div.cell_output pre, div.cell_input pre')]
                 .filter(el => el.scrollWidth > el.clientWidth + 1)
                 .map(el => el.textContent.slice(0, 60))""")
        page_width = offline_page.evaluate("document.documentElement.scrollWidth")
        if page_width > width:
            wide.append(f"the page is {page_width} px wide")
        if wide:
            clipped[page] = wide
    assert not clipped, clipped


def test_figure_captions_read_like_body_text(built_book, serve, offline_page):
    # Captions in the body text's colour and weight, not the theme's pale light grey.
    base = serve(built_book)
    offline_page.goto(f"{base}/book/bridging-the-gap.html", wait_until="load")
    caption, body = offline_page.evaluate(
        """() => [document.querySelector('article figcaption'), document.querySelector('article p')]
             .map(el => { const cs = getComputedStyle(el);
                          return [cs.color, parseInt(cs.fontWeight), parseFloat(cs.fontSize)]; })""")
    assert caption[0] == body[0]
    assert caption[1] >= 400 and caption[2] >= 0.9 * body[2]
