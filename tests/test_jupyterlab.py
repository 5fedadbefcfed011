"""The course works in JupyterLab: MyST renders (jupyterlab-myst), every book page opens as a
notebook (Jupytext) and keeps its build behaviour, and the scorecard saves where the file stays."""

from __future__ import annotations

import subprocess

import jupytext
import nbformat
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


def test_jupyterlab_myst_is_in_the_lock():
    lock = (ROOT / "requirements.txt").read_text(encoding="utf-8").lower()
    assert "jupyterlab-myst==" in lock


def test_scorecard_saves_by_default_where_the_file_outlives_the_notebook(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / "scorecard.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if "card.path.value" in c.source]
    assert "work" not in cell.source.split("card.path.value", 1)[1].splitlines()[0], \
        "the default must not point into the temporary folder the last cell deletes"
    namespace: dict = {}
    exec("from mlecourse.scorecard.widgets import Scorecard\n"
         "card = Scorecard('mle-maturity')\n"
         + "\n".join(line for line in cell.source.splitlines() if "card.path" in line), namespace)
    path = namespace["card"].path.value
    ignored = subprocess.run(["git", "check-ignore", "-q", f"notebooks/{path}"], cwd=ROOT)
    assert ignored.returncode == 0, f"notebooks/{path} is not git-ignored"
