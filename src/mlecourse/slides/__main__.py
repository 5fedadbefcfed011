"""``python -m mlecourse.slides [--repo .] [--out DIR] [--site DIR] [--pdf]`` (``make slides``)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from mlecourse.slides import build

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def print_pdfs(decks: list[Path], chromium: str) -> list[Path]:
    """Print each deck to ``<deck>.pdf`` in reveal.js's ``?print-pdf`` view, one slide a page.

    Playwright drives the system Chromium and waits until reveal.js has laid out the print
    pages; ``chromium --print-to-pdf`` alone sometimes prints before that (an empty PDF).
    """
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            for deck in decks:
                page.goto(deck.resolve().as_uri() + "?print-pdf")
                page.wait_for_function("document.querySelectorAll('.pdf-page').length > 0",
                                       timeout=60_000)
                target = deck.with_suffix(".pdf")
                page.pdf(path=str(target), prefer_css_page_size=True, print_background=True)
                written.append(target)
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.slides",
                                     description="Write one slide deck per chapter and notebook.")
    parser.add_argument("--repo", default=".", help="the course repository (default: .)")
    parser.add_argument("--out", default="_build/html/slides",
                        help="where to write the decks (default: _build/html/slides)")
    parser.add_argument("--site", default="_build/html",
                        help="a built site whose figures the decks show, if it exists "
                             "(default: _build/html)")
    parser.add_argument("--pdf", action="store_true",
                        help="also print a PDF handout of each deck with headless Chromium")
    args = parser.parse_args(argv)
    try:
        site = Path(args.site)
        decks = build(Path(args.repo), Path(args.out), site=site if site.is_dir() else None)
        for deck in decks:
            print(f"wrote {deck}")
        if args.pdf:
            chromium = next((shutil.which(c) for c in CHROMIUM if shutil.which(c)), None)
            if chromium is None:
                raise OSError("no Chromium on PATH for the PDF handouts (install 'chromium', "
                              "or run without --pdf)")
            for pdf in print_pdfs(decks, chromium):
                print(f"wrote {pdf}")
    except (ValueError, OSError) as exc:
        print(f"make slides: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
