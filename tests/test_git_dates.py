"""Commits made through the course's git helper get the same hash on every run."""

from __future__ import annotations

import shutil

import pytest

from mlecourse.principles.versioning import COMMIT_DATE, git, init_repo

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _history(path) -> tuple[str, str, str]:
    repo = init_repo(path)
    (repo / "train.py").write_text("print('train')\n", encoding="utf-8")
    git(repo, "add", "train.py")
    git(repo, "commit", "--quiet", "-m", "Train the loan-default model")
    git(repo, "tag", "-a", "v1.0", "-m", "First release")
    return (git(repo, "rev-parse", "HEAD"), git(repo, "rev-parse", "v1.0"),
            git(repo, "log", "-1", "--format=%aI %cI"))


def test_two_runs_give_the_same_commit_and_tag_hashes(tmp_path, monkeypatch):
    first = _history(tmp_path / "one")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2001-01-01T00:00:00+00:00")  # the caller's clock
    second = _history(tmp_path / "two")
    assert first[:2] == second[:2]
    assert first[2] == f"{COMMIT_DATE} {COMMIT_DATE}"
