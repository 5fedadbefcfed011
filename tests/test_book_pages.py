"""Every book page opens in JupyterLab as a notebook (Jupytext) and keeps its build behaviour."""

from __future__ import annotations

import jupytext
import pytest
import yaml
from myst_nb.core.read import is_myst_markdown_notebook

from conftest import ROOT

PAGES = sorted((ROOT / "book").rglob("*.md"))


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n"), "no front matter"
    return yaml.safe_load(text.split("---\n", 2)[1])


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_has_a_jupytext_header_and_keeps_its_build_behaviour(path):
    text = path.read_text(encoding="utf-8")
    meta = _front_matter(text)
    header = meta.get("jupytext") or meta.get("jupyter", {}).get("jupytext")
    assert header["text_representation"]["format_name"] == "myst"
    nb = jupytext.reads(text, fmt="md")  # no Pandoc needed: the header names the format
    assert nb.cells, f"{path.name} opens as an empty notebook"
    # Pages with a kernelspec are executed notebooks; the others stay text pages.
    assert is_myst_markdown_notebook(text) == ("kernelspec" in meta)
