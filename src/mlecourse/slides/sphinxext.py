"""Sphinx extension: publish the slide decks with the site and link each page to its deck.

Listed in ``_config.yml`` (``sphinx.extra_extensions``). On an HTML build it

- writes every deck into ``<outdir>/slides/`` when the build finishes (reveal.js included);
- adds a "Slides for this page" link at the top of each page that has a deck;
- provides the ``{deck}`name``` role: a link to that deck (``index``: the list of decks), or
  the name as literal text when the deck does not exist yet (so a plan can name decks of
  pages still to come).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes

from mlecourse import slides


def _find_decks(app) -> None:
    """Map each page's docname (e.g. "book/introduction") to its deck name, fresh every build
    (kept on the app, not the pickled environment, so a new page gets its deck at once)."""
    decks = slides.discover(Path(app.srcdir))
    app._mle_decks = {d.page[: -len(".html")]: d.name for d in decks}


def _decks(app) -> dict[str, str]:
    if getattr(app, "_mle_decks", None) is None:
        _find_decks(app)
    return app._mle_decks


def _to_root(docname: str) -> str:
    return "../" * docname.count("/")


def _deck_link(docname: str, deck: str, text: str) -> nodes.raw:
    href = f"{_to_root(docname)}slides/{deck}.html"
    return nodes.raw("", f'<a class="mle-deck-link reference external" href="{href}">{text}</a>',
                     format="html")


def deck_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    env = inliner.document.settings.env
    decks = set(_decks(env.app).values())
    name_ = text.strip()
    if name_ == "index":
        return [_deck_link(env.docname, "index", "all slide decks")], []
    if name_ not in decks:
        return [nodes.literal(rawtext, name_)], []
    return [_deck_link(env.docname, name_, name_)], []


def _add_page_links(app, doctree, docname) -> None:
    deck = _decks(app).get(docname)
    if deck is None or app.builder.format != "html":
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    para = nodes.paragraph(classes=["mle-deck"])
    para += _deck_link(docname, deck, "Slides for this page")
    para += nodes.raw("", " (press S for speaker notes)", format="html")
    title = next(iter(section.findall(nodes.title)), None)
    section.insert(section.index(title) + 1 if title is not None else 0, para)


def _write_decks(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    slides.build(Path(app.srcdir), Path(app.outdir) / "slides", site=Path(app.outdir))


def setup(app):
    app.add_role("deck", deck_role)
    app.connect("builder-inited", _find_decks)
    app.connect("doctree-resolved", _add_page_links)
    app.connect("build-finished", _write_decks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
