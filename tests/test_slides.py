"""Slide decks: made from the book's own text, published with the site, working offline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlecourse import slides

ROOT = Path(__file__).resolve().parent.parent

PAGE = """---
jupytext:
  text_representation: {extension: .md}
---

# A chapter

*One line that says what the chapter is about.*

:::{admonition} In this chapter
:class: tip

- learn one thing about {term}`Data fingerprint <Data fingerprint>`;
- and a second, see [the notebook](../notebooks/x.ipynb).
:::

## First section

Text.

```{code-cell} ipython3
print("## not a heading")
```

## Key takeaways

```{admonition} Key takeaways
:class: important
- Takeaway one, with **bold** and a <script>alert(1)</script> tag.
- Takeaway two runs
  over two lines {cite:t}`breck2017mltestscore`.
```

## Self-check

1. First question?

   ```{dropdown} Answer
   First answer.
   ```

2. Second question, which is
   long? Try [the exercise](../exercises/warm-up.ipynb).

   ```{dropdown} Answer
   Second answer.
   ```
"""


def _deck(tmp_path, text=PAGE):
    page = tmp_path / "chapter.md"
    page.write_text(text, encoding="utf-8")
    return slides.make_deck(page, "chapter", "book/chapter.html")


def test_a_deck_holds_the_pages_own_points_with_answers_only_in_the_notes(tmp_path):
    deck = _deck(tmp_path)
    titles = [s.title for s in deck.slides]
    assert titles == ["A chapter", "What you will learn", "Outline", "Key takeaways",
                      "Discuss (1/2)", "Discuss (2/2)", "Read and run it"]
    by_title = {s.title: s for s in deck.slides}
    assert by_title["Outline"].body == "<ul><li>First section</li></ul>"  # code cells are skipped
    learn = by_title["What you will learn"].body
    assert "learn one thing about Data fingerprint;" in learn and "see the notebook." in learn
    takeaways = by_title["Key takeaways"].body
    assert "<strong>bold</strong>" in takeaways and "&lt;script&gt;" in takeaways
    shown = slides.render(deck).split('<div class="slides">')[1].split("</div></div>")[0]
    assert "<script>" not in shown
    assert "Takeaway two runs over two lines [breck2017mltestscore]." in takeaways
    second = by_title["Discuss (2/2)"]
    assert second.body == "<p>Second question, which is long? Try the exercise.</p>"
    last = deck.slides[-1].body
    assert '<a href="../book/chapter.html">A chapter</a>' in last
    assert "exercises/" not in last  # a chapter's deck names no exercise
    (tmp_path / "nb.md").write_text(PAGE)
    notebook_deck = slides.make_deck(tmp_path / "nb.md", "nb", "notebooks/nb.html")
    assert '<a href="../exercises/warm-up.html">warm-up</a>' in notebook_deck.slides[-1].body
    assert "Second answer." in second.notes and "answer" not in second.body.lower()


def test_a_page_without_takeaways_or_self_check_has_no_deck(tmp_path):
    assert _deck(tmp_path, "# Just text\n\nNothing to present.\n") is None


def test_every_taught_page_of_the_book_gets_a_deck_in_book_order():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    decks = slides.discover(ROOT)
    names = [d.name for d in decks]
    assert {"introduction", "principles", "versioning", "testing", "conclusion"} <= set(names)
    assert "instructor-guide" not in names
    positions = [toc.index(d.page[: -len(".html")]) for d in decks]
    assert positions == sorted(positions)
    principles = next(d for d in decks if d.name == "principles")
    source = (ROOT / "book" / "principles.md").read_text(encoding="utf-8")
    assert sum(s.title.startswith("Discuss") for s in principles.slides) == \
        source.count("{dropdown} Answer")


def test_build_writes_decks_an_index_and_reveal(tmp_path):
    written = slides.build(ROOT, tmp_path)
    assert written and all(p.exists() for p in written)
    assert (tmp_path / "reveal" / "reveal.js").exists()
    assert (tmp_path / "reveal" / "LICENSE").exists()
    index = (tmp_path / "index.html").read_text()
    assert all(f'href="{p.name}"' in index for p in written)
    for deck in written:
        assert not re.search(r'(src|href)="(https?:)?//', deck.read_text()), deck.name


@pytest.mark.slow
def test_the_site_build_publishes_decks_and_links_pages_to_them(tmp_path):
    """A one-chapter book with the course's slides extension, built with warnings as errors."""
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "chapter.md").write_text(
        "# A chapter\n\n![A plot](plot.png)\n\n*The caption.*\n\n"
        "## Key takeaways\n\n- One point.\n\n## Self-check\n\n"
        "1. A question?\n\n   ```{dropdown} Answer\n   An answer.\n   ```\n")
    shutil.copy(ROOT / "src" / "mlecourse" / "slides" / "vendor" / "reveal" / "LICENSE",
                tmp_path / "book" / "plot.png")  # any file: Sphinx copies it as the image
    (tmp_path / "book" / "guide.md").write_text(
        "# Guide\n\nDecks: {deck}`chapter` and {deck}`not-written-yet`.\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/guide\nchapters:\n- file: book/chapter\n")
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({
        "title": "t", "only_build_toc_files": True, "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["colon_fence"]},
        "sphinx": {"extra_extensions": ["mlecourse.slides.sphinxext"]}}))
    # The course's wrapper: jupyter-book without jsonschema's slow optional IRI grammar.
    jb = [sys.executable, "-m", "mlecourse.book", "jupyter-book"]
    proc = subprocess.run([*jb, "build", str(tmp_path), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = tmp_path / "_build" / "html"
    assert (html / "slides" / "chapter.html").exists()
    assert (html / "slides" / "reveal" / "reveal.js").exists()
    chapter = (html / "book" / "chapter.html").read_text()
    assert 'href="../slides/chapter.html">Slides for this page</a>' in chapter
    deck = (html / "slides" / "chapter.html").read_text()
    assert 'src="img/chapter-1.png"' in deck and "The caption." in deck
    assert (html / "slides" / "img" / "chapter-1.png").exists()
    guide = (html / "book" / "guide.html").read_text()
    assert 'href="../slides/chapter.html">chapter</a>' in guide
    assert "not-written-yet" in guide and "slides/not-written-yet" not in guide


def test_decks_show_the_figures_of_the_built_page_with_their_captions(tmp_path):
    site = tmp_path / "site"
    (site / "book").mkdir(parents=True)
    (site / "_images").mkdir()
    (site / "_images" / "abc.png").write_bytes(b"\x89PNG fake")
    (site / "book" / "chapter.html").write_text(
        '<div><img alt="x" src="../_images/abc.png" />\n</div>\n</div>\n'
        '<p><em>Adoption &amp; barriers</em> <span>[IBM, 2022]</span></p>'
        '<img alt="gone" src="../_images/missing.png" />')
    deck = _deck(tmp_path)
    slides.add_figures(deck, site, tmp_path / "out")
    figures = [s for s in deck.slides if 'class="figure"' in s.body]
    assert len(figures) == 1  # the missing image is skipped
    assert 'src="img/chapter-1.png"' in figures[0].body
    # The caption keeps its citation.
    assert "Adoption &amp; barriers [IBM, 2022]" in figures[0].body
    assert (tmp_path / "out" / "img" / "chapter-1.png").read_bytes() == b"\x89PNG fake"
    titles = [s.title for s in deck.slides]
    assert titles.index("") == titles.index("Key takeaways") - 1


# --- in the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deck_site(tmp_path_factory):
    """Every deck of the course; the introduction's with a figure from a (fake) built site."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    site = tmp_path_factory.mktemp("site")
    (site / "_images").mkdir()
    (site / "book").mkdir()
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [2, 1, 3])
    fig.savefig(site / "_images" / "fig.png")
    plt.close(fig)
    (site / "book" / "introduction.html").write_text(
        '<img alt="f" src="../_images/fig.png" />\n<p><em>A line.</em></p>')
    out = tmp_path_factory.mktemp("slides")
    return out, slides.build(ROOT, out, site=site)


@pytest.mark.browser
def test_every_deck_steps_through_offline_without_errors(deck_site, serve, offline_page):
    out, decks = deck_site
    base = serve(out)
    errors: list[str] = []
    offline_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    offline_page.on("pageerror", lambda e: errors.append(str(e)))
    for deck in decks:
        offline_page.goto(f"{base}/{deck.name}")
        offline_page.wait_for_function("window.Reveal && Reveal.isReady()")
        total = offline_page.evaluate("Reveal.getTotalSlides()")
        assert total >= 3, deck.name
        seen = 1
        while not offline_page.evaluate("Reveal.isLastSlide()"):
            offline_page.keyboard.press("ArrowRight")
            seen += 1
            assert seen <= total, f"{deck.name}: stepped past the last slide"
        assert seen == total, deck.name
        images = offline_page.evaluate(
            "[...document.querySelectorAll('img.figure')].map(i => i.naturalWidth)")
        assert all(w > 0 for w in images), deck.name
        if deck.name == "introduction":
            assert images, "the introduction deck lost its figure"
        # The speaker notes plugin is loaded (notes open with S in a presenter window).
        assert offline_page.evaluate("Reveal.hasPlugin('notes')"), deck.name
    assert errors == []
    assert offline_page.blocked_requests == []
