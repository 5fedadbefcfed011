"""Notebooks are committed without outputs: the site shows executed output, git shows code."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import ROOT


def tracked_notebooks() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True)
    files = set(out.stdout.split())
    # Also check notebooks not yet added, so a mistake shows before the commit.
    for folder in ("notebooks", "solutions", "exercises"):
        files.update(str(p.relative_to(ROOT)) for p in (ROOT / folder).glob("*.ipynb"))
    return sorted(files)


def stripped_problems(nb: dict) -> list[str]:
    """List what keeps a notebook (as JSON) from being committed: outputs, counts, widget state."""
    problems = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index} has an execution count")
    if "widgets" in nb.get("metadata", {}):
        problems.append("notebook metadata holds saved widget state")
    return problems


def test_the_check_catches_outputs():
    dirty = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream"}],
                        "execution_count": 3, "source": ""}], "metadata": {"widgets": {}}}
    assert len(stripped_problems(dirty)) == 3
    assert stripped_problems({"cells": [{"cell_type": "code", "outputs": [],
                                         "execution_count": None}], "metadata": {}}) == []


@pytest.mark.parametrize("path", tracked_notebooks())
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads((ROOT / path).read_text(encoding="utf-8"))
    assert stripped_problems(nb) == [], f"{path}: strip outputs before committing"
