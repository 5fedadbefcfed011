"""Slide decks generated from the book: one reveal.js deck per chapter and hands-on notebook.

A deck is made from the page's own text, so it never drifts from the book: the title, what the
learner will learn, an outline of the sections, the key takeaways, and each self-check question
as a prompt for the class with its answer in the speaker notes. Decks are text-only for now
Figures: when the site has been built, each deck also shows the figures of its page as the
book drew them (the images in ``_build/html/_images``, with their captions); without a built
site the decks are text-only.

Sources are discovered at run time: every page of ``_toc.yml`` under ``book/`` or
``notebooks/`` that has a "Key takeaways" or "Self-check" section gets a deck named after the
file. reveal.js is vendored in ``vendor/reveal`` (from the npm registry), so decks work offline.

``python -m mlecourse.slides [--out DIR] [--pdf]`` (``make slides``) writes the decks; the
Sphinx extension ``mlecourse.slides.sphinxext`` writes them into the built site.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

VENDOR = Path(__file__).parent / "vendor" / "reveal"
SKIP_OUTLINE = ("key takeaways", "self-check", "where next", "what you will learn")
COURSE = "Machine Learning Engineering: a foundation for building scalable ML systems"
NOT_TAUGHT = ("book/instructor-guide",)  # pages for teachers, not for a class


@dataclass
class Slide:
    """One slide: a heading, HTML body and speaker notes (HTML)."""

    title: str
    body: str = ""
    notes: str = ""


@dataclass
class Deck:
    """A deck made from one page of the book."""

    name: str
    title: str
    page: str  # the page's path in the built site, e.g. "book/introduction.html"
    slides: list[Slide] = field(default_factory=list)


# --- reading pages -------------------------------------------------------------------------

def page_text(path: Path) -> str:
    """The Markdown of a page: a MyST .md file without front matter and code cells, or the
    Markdown cells of a notebook."""
    path = Path(path)
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        return "\n\n".join("".join(c["source"]) for c in nb["cells"]
                           if c["cell_type"] == "markdown")
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    return re.sub(r"^```\{code-cell\}.*?^```[ \t]*$", "", text, flags=re.S | re.M)


def sections(text: str) -> tuple[str, str, list[tuple[str, str]]]:
    """Split a page into its title, the text before the first ``##`` heading, and
    ``(heading, body)`` pairs."""
    title = next((ln[2:].strip() for ln in text.splitlines() if ln.startswith("# ")), "")
    parts = re.split(r"^## +(.+)$", text, flags=re.M)
    return title, parts[0], [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def bullets(text: str) -> list[str]:
    """The items of the first bullet list in ``text`` (continuation lines joined)."""
    items: list[str] = []
    in_list = False
    for line in text.splitlines():
        stripped = line.strip()
        if re.match(r"^[-*] ", stripped) and (in_list or not items):
            items.append(stripped[2:].strip())
            in_list = True
        elif (in_list and stripped and line.startswith((" ", "\t"))
              and not stripped.startswith(("```", ":::"))):
            items[-1] += " " + stripped
        elif in_list and (not stripped or stripped.startswith(("```", ":::"))):
            if items:
                break
        elif in_list:
            break
    return items


def self_check(text: str) -> list[tuple[str, str]]:
    """``(question, answer)`` pairs of a Self-check section (answers from its dropdowns)."""
    pairs = []
    for item in re.split(r"^\d+\. +", text, flags=re.M)[1:]:
        match = re.search(r"^\s*(`{3,}|:{3,})\{dropdown\}[^\n]*\n(.*?)^\s*\1\s*$", item,
                          flags=re.S | re.M)
        question = item[:match.start()] if match else item
        answer = match.group(2) if match else ""
        answer = "\n".join(ln for ln in answer.splitlines() if not ln.strip().startswith(":"))
        pairs.append((" ".join(question.split()), " ".join(answer.split())))
    return pairs


_ROLE = re.compile(r"\{(\w+)(?::\w+)?\}`([^`]*)`")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def _role(match: re.Match) -> str:
    kind, content = match.group(1), match.group(2)
    if kind == "cite":
        return f"[{content}]"
    label = re.match(r"^(.*?)\s*<[^>]*>$", content)
    return label.group(1) if label else content


def inline(text: str) -> str:
    """Render MyST inline text as safe HTML: roles become their text, links their label."""
    from markdown_it import MarkdownIt

    text = _LINK.sub(r"\1", _ROLE.sub(_role, text))
    return MarkdownIt("commonmark", {"html": False}).renderInline(text)


# --- making decks --------------------------------------------------------------------------

def make_deck(path: Path, name: str, page: str) -> Deck | None:
    """The deck of one page, or None when the page has neither takeaways nor a self-check."""
    text = page_text(path)
    title, intro, secs = sections(text)
    by_name = {h.lower(): body for h, body in secs}
    takeaways = next((bullets(b) for h, b in by_name.items() if "key takeaways" in h), [])
    checks = next((self_check(b) for h, b in by_name.items() if h.startswith("self-check")), [])
    if not takeaways and not checks:
        return None
    deck = Deck(name=name, title=title or name, page=page)
    tagline = next((ln.strip("* ") for ln in intro.splitlines()
                    if ln.startswith("*") and ln.endswith("*") and not ln.startswith("**")), "")
    subtitle = f"<p><em>{inline(tagline)}</em></p>" if tagline else ""
    deck.slides.append(Slide(title=deck.title, body=subtitle + f"<p>{COURSE}</p>",
                             notes="Machine Learning Engineering course. "
                                   f"The page: {html.escape(page)}."))
    learn = bullets(intro)
    if learn:
        deck.slides.append(Slide("What you will learn", _list(learn),
                                 "Ask which of these the class already does at work or in "
                                 "projects."))
    outline = [h for h, _ in secs if not h.lower().startswith(SKIP_OUTLINE)]
    if outline:
        deck.slides.append(Slide("Outline", _list(outline),
                                 "One slide per section is not the aim: teach from the page and "
                                 "the notebook; come back here to show where you are."))
    if takeaways:
        deck.slides.append(Slide("Key takeaways", _list(takeaways),
                                 "Ask each pair to pick the takeaway they would explain to a "
                                 "colleague first, and why."))
    for n, (question, answer) in enumerate(checks, start=1):
        deck.slides.append(Slide(f"Discuss ({n}/{len(checks)})", f"<p>{inline(question)}</p>",
                                 f"<p><strong>Answer:</strong> {inline(answer)}</p>"
                                 if answer else ""))
    # A notebook names its own exercise; a chapter links to many, so its deck names none.
    exercises = (list(dict.fromkeys(re.findall(r"\(\.\./exercises/([a-z0-9-]+)\.ipynb\)", text)))
                 if page.startswith("notebooks/") else [])
    links = "".join(f'<li>Exercise: <a href="../exercises/{n}.html">{n}</a></li>'
                    for n in exercises)
    deck.slides.append(Slide("Read and run it", f'<ul><li><a href="../{html.escape(page)}">'
                             f"{html.escape(deck.title)}</a> on the course site</li>{links}</ul>",
                             "Students finish the exercise at home; its check cells explain "
                             "each mistake." if exercises else ""))
    return deck


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>"


def _toc_files(repo: Path) -> list[str]:
    import yaml

    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((Path(repo) / "_toc.yml").read_text(encoding="utf-8")))
    return found


def discover(repo: Path) -> list[Deck]:
    """The decks of every book chapter and notebook in the table of contents, in its order."""
    repo = Path(repo)
    decks = []
    for entry in _toc_files(repo):
        if not entry.startswith(("book/", "notebooks/")) or entry in NOT_TAUGHT:
            continue
        for suffix in (".md", ".ipynb"):
            path = repo / (entry + suffix)
            if path.exists():
                deck = make_deck(path, Path(entry).name, entry + ".html")
                if deck is not None:
                    decks.append(deck)
                break
    return decks


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} (slides)</title>
<link rel="stylesheet" href="reveal/reset.css">
<link rel="stylesheet" href="reveal/reveal.css">
<link rel="stylesheet" href="reveal/theme/white.css">
<style>.reveal ul {{ font-size: 0.8em; }} .reveal p {{ font-size: 0.9em; }}
.reveal h2 {{ font-size: 1.4em; }} .reveal img.figure {{ max-height: 560px; margin: 0; }}
.reveal p.caption {{ font-size: 0.5em; }}</style>
</head>
<body>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script src="reveal/reveal.js"></script>
<script src="reveal/plugin/notes.js"></script>
<script>Reveal.initialize({{ hash: true, slideNumber: true, plugins: [RevealNotes] }});</script>
</body>
</html>
"""


def render(deck: Deck) -> str:
    """The deck as one HTML page that loads reveal.js from ``reveal/`` next to it."""
    parts = []
    for s in deck.slides:
        notes = f'\n<aside class="notes">{s.notes}</aside>' if s.notes else ""
        heading = f"<h2>{inline(s.title)}</h2>\n" if s.title else ""
        parts.append(f"<section>\n{heading}{s.body}{notes}\n</section>")
    return PAGE.format(title=html.escape(deck.title), slides="\n".join(parts))


def render_index(decks: list[Deck]) -> str:
    rows = "".join(f'<li><a href="{d.name}.html">{html.escape(d.title)}</a> '
                   f'(<a href="{d.name}.pdf">PDF</a>)</li>' for d in decks)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Slides</title></head><body><h1>Slides</h1>"
            f"<p>One deck per chapter and notebook. Press S for speaker notes.</p><ul>{rows}</ul>"
            "</body></html>\n")


_IMG = re.compile(r'<img alt="[^"]*" src="((?:\.\./)*_images/[^"]+\.(?:png|svg|jpg))"[^>]*>'
                  r'(?:\s*</div>)*\s*(?:<p>(.*?)</p>)?', re.S)


def site_figures(page_html: Path) -> list[tuple[Path, str]]:
    """The figures of a built page: each image file and the caption paragraph under it."""
    text = Path(page_html).read_text(encoding="utf-8")
    found = []
    for match in _IMG.finditer(text):
        caption = re.sub(r"<[^>]+>", "", match.group(2) or "")
        image = (page_html.parent / match.group(1)).resolve()
        found.append((image, html.unescape(" ".join(caption.split()))))
    return found


def add_figures(deck: Deck, site: Path, out: Path) -> None:
    """Insert a slide per figure of the deck's built page (before the takeaways)."""
    page = Path(site) / deck.page
    if not page.exists():
        return
    figures = []
    for n, (image, caption) in enumerate(site_figures(page), start=1):
        if not image.exists():
            continue
        target = Path(out) / "img" / f"{deck.name}-{n}{image.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target)
        body = (f'<img class="figure" src="img/{html.escape(target.name)}" '
                f'alt="{html.escape(caption)}">'
                + (f'<p class="caption">{html.escape(caption)}</p>' if caption else ""))
        figures.append(Slide("", body, "The figure as the book draws it; the page has "
                                             "the code behind it."))
    at = next((i for i, s in enumerate(deck.slides) if s.title == "Key takeaways"),
              len(deck.slides) - 1)
    deck.slides[at:at] = figures


def build(repo: Path, out: Path, site: Path | None = None) -> list[Path]:
    """Write every deck, an index and the vendored reveal.js into ``out``; return the decks.

    ``site``: a built site (``_build/html``) whose figures the decks show.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "reveal").exists():
        shutil.rmtree(out / "reveal")
    shutil.copytree(VENDOR, out / "reveal")
    decks = discover(repo)
    written = []
    for deck in decks:
        if site is not None:
            add_figures(deck, site, out)
        target = out / f"{deck.name}.html"
        target.write_text(render(deck), encoding="utf-8")
        written.append(target)
    (out / "index.html").write_text(render_index(decks), encoding="utf-8")
    return written
