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


WIDTHS = (1280, 390)  # a laptop and a phone


def _page_errors(page) -> list[str]:
    """Console errors, uncaught exceptions and failed loads of ``page``, as they happen. The
    browser's own request for /favicon.ico (the site has none) is not the page's error."""
    errors: list[str] = []

    def console(message):
        if message.type == "error" and not message.location.get("url", "").endswith(
                "/favicon.ico"):
            errors.append(f"console {message.type}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return errors


_TOO_WIDE = """() => [...document.querySelectorAll('div.cell_output pre, div.cell_input pre')]
                 .filter(el => el.scrollWidth > el.clientWidth + 1)
                 .map(el => el.textContent.slice(0, 60))"""


def _too_wide(page, width: int) -> list[str]:
    """Printed outputs and code that run off their box, and the page if wider than the screen."""
    wide = page.evaluate(_TOO_WIDE)
    page_width = page.evaluate("document.documentElement.scrollWidth")
    if page_width > width:
        wide.append(f"the page is {page_width} px wide")
    return wide


@pytest.fixture(scope="module")
def sweep(built_book, serve, browser):
    """Open every page of the site once, as a first visit on a laptop, and record what the tests
    below check: requests beyond the site, console errors, and what does not fit the screen, at
    1280 px and again after narrowing the same page to a phone's 390 px (the theme lays out by
    media queries, which a resize re-applies). One pass for all checks: each page load costs
    about a second."""
    from conftest import LOOPBACK
    from test_book import toc_files

    base = serve(built_book)
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 844})
    page = context.new_page()
    # Record requests beyond the site by listening, not routing: a route sends every request
    # through Python and doubles the sweep's time. The browser resolves no host names anyway
    # (CHROMIUM_ARGS), so nothing leaves the machine.
    page.blocked_requests = []
    page.on("request", lambda request: None if request.url.startswith(LOOPBACK)
            else page.blocked_requests.append(request.url))
    errors = _page_errors(page)
    found = {"blocked": {}, "errors": {}, **{width: {} for width in WIDTHS}}
    try:
        for name in ["index", *toc_files()]:
            del errors[:], page.blocked_requests[:]
            page.set_viewport_size({"width": WIDTHS[0], "height": 844})
            page.goto(f"{base}/{name}.html", wait_until="load")
            if name == "index":  # the front door redirects; measure the page it leads to
                page.wait_for_url("**/book/index.html", wait_until="load")
            page.wait_for_timeout(100)  # let deferred scripts run
            for width in WIDTHS:
                if width != WIDTHS[0]:
                    page.set_viewport_size({"width": width, "height": 844})
                if wide := _too_wide(page, width):
                    found[width][name] = wide
            if errors:
                found["errors"][name] = list(errors)
            if page.blocked_requests:
                found["blocked"][name] = list(page.blocked_requests)
            page.evaluate("localStorage.clear()")  # the next page is a first visit too
    finally:
        context.close()
    return found


def test_every_page_stays_offline_logs_no_error_and_fits_laptop_and_phone(sweep):
    # One test, so one worker sweeps the site once. Every page, each as a first visit (the
    # theme's colour mode is read from an empty localStorage then): nothing requested beyond the
    # site, no uncaught exception or console error, and on a laptop and on a phone printed
    # outputs and code wrap instead of running off the right edge, no page wider than the screen.
    problems = {"requests beyond the site": sweep["blocked"], "console errors": sweep["errors"],
                **{f"too wide at {width} px": sweep[width] for width in WIDTHS}}
    assert {what: pages for what, pages in problems.items() if pages} == {}


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
