"""The site: it builds with zero warnings, and a reader finds the five parts of the talk."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

PARTS = ["1 Introduction", "2 ML Systems", "3 MLE Principles", "4 Bridging the Gap", "5 Conclusion"]


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc["parts"]:
        walk(part["chapters"])
    return files


def test_toc_parts_mirror_the_talk():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = [part["caption"] for part in toc["parts"]]
    assert captions[:5] == PARTS
    assert "Exercises" in captions and "Instructor guide" in captions


def test_every_toc_entry_exists():
    missing = [f for f in toc_files()
               if not any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb"))]
    assert not missing


def test_every_notebook_and_solution_is_in_the_toc():
    listed = set(toc_files())
    for folder in ("notebooks", "solutions", "exercises"):
        for path in (ROOT / folder).glob("*.ipynb"):
            assert f"{folder}/{path.stem}" in listed, f"{folder}/{path.name} is not in _toc.yml"


def test_config_executes_solutions_but_not_exercises():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    execute = config["execute"]
    assert execute["execute_notebooks"] in {"cache", "force"}
    assert "exercises/*" in execute["exclude_patterns"]
    assert not any("solutions" in p for p in execute["exclude_patterns"])
    assert execute["raise_on_error"] is True and execute["timeout"] > 0
    assert config["repository"]["url"].startswith("https://")
    buttons = config["launch_buttons"]
    assert {"binderhub_url", "colab_url"} <= buttons.keys()
    # JupyterHub only with a real hub (the instructor guide says how): never a placeholder
    assert "example." not in (buttons.get("jupyterhub_url") or "")


@pytest.mark.slow
def test_book_builds_without_warnings(built_book):
    for page in toc_files():
        assert (built_book / f"{page}.html").exists(), f"{page}.html was not built"


def _notebooks() -> list[Path]:
    return sorted(p for folder in ("notebooks", "solutions") for p in (ROOT / folder).glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_notebook_ran_cleanly_in_the_build(built_book, path):
    # The build is the one execution of each notebook per run (raise_on_error already fails it
    # on an exception); here each notebook is checked to have really run, cell by cell.
    import nbformat

    executed = ROOT / "_build" / "jupyter_execute" / path.parent.name / path.name
    assert executed.exists(), f"{path.parent.name}/{path.name} was not executed by the build"
    nb = nbformat.read(executed, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.get("execution_count") for c in code), \
        f"{path.name}: some code cells did not run"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"


@pytest.mark.slow
def test_sidebar_lists_the_five_parts(built_book):
    # index.html redirects to the root page, book/index.html, which carries the sidebar.
    html = (built_book / "book" / "index.html").read_text(encoding="utf-8")
    captions = re.findall(r'<p aria-level="2" class="caption" role="heading">'
                          r'<span class="caption-text">\s*(.*?)\s*</span>', html)
    assert captions[:5] == PARTS, captions


@pytest.mark.slow
def test_execution_error_fails_the_build_and_names_the_notebook(tmp_path):
    # The course's own execute settings, in a one-page book holding a broken notebook.
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    execute = {**config["execute"], "cache": str(tmp_path / "cache")}
    (tmp_path / "_config.yml").write_text(
        yaml.safe_dump({"title": "t", "only_build_toc_files": True, "execute": execute}))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n- file: broken\n")
    (tmp_path / "index.md").write_text("# Index\n")
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken"), nbformat.v4.new_code_cell("1 / 0")]
    nbformat.write(nb, tmp_path / "broken.ipynb")
    # The course's wrapper: jupyter-book without jsonschema's slow optional IRI grammar.
    jb = [sys.executable, "-m", "mlecourse.book", "jupyter-book"]
    proc = subprocess.run([*jb, "build", str(tmp_path), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "broken" in proc.stdout + proc.stderr
    assert "ZeroDivisionError" in proc.stdout + proc.stderr
