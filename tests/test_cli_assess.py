"""``mlecourse assess PATH``: exit statuses, the three formats, and the JSON importing elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlecourse import cli
from mlecourse.scorecard.assessment import parse_assessment, validate_assessment
from mlecourse.scorecard.rubric import load_rubric
from mlecourse.scorecard.scan import OUTSIDE

CELLS = load_rubric("mle-maturity").cell_ids


def small_repo(root: Path) -> Path:
    files = {
        "README.md": "# demo\n\nTrain with `python src/train.py`.\n",
        "requirements.txt": "numpy==1.26.4\nscikit-learn==1.5.0\n",
        "Dockerfile": "FROM python:3.11-slim\n",
        "src/train.py": "from sklearn.linear_model import LogisticRegression\n"
                        "model = LogisticRegression(random_state=0)\n",
        "tests/test_train.py": "def test_fit(model, X, y):\n    model.fit(X, y)\n",
        ".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: ruff check .\n"
                                    "      - run: pytest\n",
        ".pre-commit-config.yaml": "repos: []\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def run(capsys, *argv: str):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_missing_path_is_one_line_and_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "assess", str(tmp_path / "nope"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no such folder" in err and "nope" in err


def test_file_instead_of_folder_is_exit_2(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    code, out, err = run(capsys, "assess", str(tmp_path / "notes.txt"))
    assert code == 2 and out == ""
    assert err.strip() == f"mlecourse assess: {tmp_path / 'notes.txt'}: is a file, not a folder; " \
                          "give the project folder"


@pytest.mark.parametrize("rubric", ["ml-test-score", "no-such-rubric"])
def test_other_rubrics_are_refused(tmp_path, capsys, rubric):
    code, out, err = run(capsys, "assess", str(tmp_path), "--rubric", rubric)
    assert code == 2 and out == ""
    assert err.strip() == (f"mlecourse assess: the repository scan supports only mle-maturity, "
                           f"not {rubric!r}")


def test_empty_folder_json_is_a_valid_assessment_at_level_0(tmp_path, capsys):
    code, out, err = run(capsys, "assess", str(tmp_path), "--format", "json")
    assert code == 0 and err == ""
    a = parse_assessment(out, "mle-maturity")
    assert a["answers"] == {c: 0 for c in CELLS}  # the rubric's "not in place"
    assert a["evidence"] == {} and a["prefilled"] == CELLS
    assert "Level 1 needs data-card or readme" in a["notes"]["ways-of-working.data"]


def test_json_carries_evidence_and_imports_into_the_widget(tmp_path, capsys):
    from mlecourse.scorecard.widgets import Scorecard

    code, out, _ = run(capsys, "assess", str(small_repo(tmp_path)), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert validate_assessment(data) == data
    assert data["answers"]["testing.code"] == 2  # tests + CI running pytest + pre-commit hooks
    assert data["answers"]["testing.model"] == 1  # model tests, but no quality gate
    assert data["answers"]["reproducibility.code"] == 2  # pinned + Dockerfile + seed
    assert data["evidence"]["testing.code"][0] == {
        "signal": "ci-tests", "path": ".github/workflows/ci.yml", "line": 5,
        "detail": "pytest"}  # the evidence that made the level comes first
    card = Scorecard("mle-maturity")
    card.apply_assessment(data, prefilled=True)
    assert card.answers == data["answers"] and card.prefilled == set(CELLS)


def test_text_format_is_a_table_of_every_cell(tmp_path, capsys):
    code, out, _ = run(capsys, "assess", str(small_repo(tmp_path)))
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Principle"))
    assert lines[header].split() == ["Principle", "Aspect", "Level", "Evidence"]
    rows = [line for line in lines[header + 1:] if not line.lstrip().startswith("why:")][:18]
    assert rows[0].split()[:3] == ["Versioning", "Code", "0"]  # not a Git repository
    assert rows[3].split()[:3] == ["Testing", "Code", "2"]
    assert "ci-tests (.github/workflows/ci.yml:5)" in rows[3]
    assert sum(line.lstrip().startswith("why: ") for line in lines) == 18
    assert "Suggested overall:" in out and ", weakest principle " in out


def test_markdown_format_suits_a_pull_request(tmp_path, capsys):
    code, out, _ = run(capsys, "assess", str(small_repo(tmp_path)), "--format", "markdown")
    assert code == 0
    assert out.startswith("### MLE maturity scorecard: evidence from `")
    assert "Suggested overall **" in out and "weakest principle **" in out
    assert "| Principle | Aspect | Level | Evidence |" in out
    assert "| Testing | Code | 2 | `ci-tests` `.github/workflows/ci.yml:5`" in out
    assert out.count("\n| ") == 19  # header + 18 cells (separator starts with "|---")


def test_progress_goes_to_stderr_when_asked(tmp_path, capsys):
    code, out, err = run(capsys, "assess", str(small_repo(tmp_path)), "--progress")
    assert code == 0 and "scanning... 7 files" in err
    assert "scanning" not in out


def test_module_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mlecourse", "assess", str(small_repo(tmp_path)),
                           "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert validate_assessment(json.loads(proc.stdout))["rubric"]["id"] == "mle-maturity"
    missing = subprocess.run([sys.executable, "-m", "mlecourse", "assess", str(tmp_path / "x")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1


def hostile_repo(root: Path) -> Path:
    """File names that try to drive the terminal and inject Markdown."""
    small_repo(root)
    (root / "tests" / "test_\x1b]0;pwned\x07title.py").write_text("def test(): assert main()\n")
    (root / "tests" / "test_x\n# Injected](javascript:alert(1))![img](x).py").write_text(
        "def test(): assert main()\n")
    return root


def test_control_characters_and_markdown_in_names_are_escaped(tmp_path, capsys):
    root = hostile_repo(tmp_path)
    for fmt in ("text", "markdown"):
        code, out, err = run(capsys, "assess", str(root), "--format", fmt)
        assert code == 0
        assert "\x1b" not in out and "\x07" not in out and "\x1b" not in err
        assert "\\x1b]0;pwned\\x07" in out or fmt == "markdown"
    code, md, _ = run(capsys, "assess", str(root), "--format", "markdown")
    assert "\n# Injected" not in md  # no new heading
    assert "](javascript:" not in md and "![img](" not in md  # no live link or image
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 19  # the newline in a name did not break the table


def test_closed_pipe_is_quiet(tmp_path):
    """`mlecourse assess . | head`: the reader is gone before we write; exit quietly."""
    root = small_repo(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "mlecourse", "assess", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like head after its lines: nobody reads any more
    err = proc.stderr.read().decode()
    assert proc.wait() == 0
    assert err == ""  # no "Broken pipe", no traceback


def test_warnings_on_stderr_are_escaped(tmp_path, capsys):
    root = small_repo(tmp_path)
    (root / ".github" / "workflows" / "\x1b[2Jbad.yml").write_text("jobs: [unclosed\n")
    code, out, err = run(capsys, "assess", str(root), "--format", "json")
    assert code == 0 and json.loads(out)
    assert "\x1b" not in err
    assert "warning: .github/workflows/\\x1b[2Jbad.yml: CI file is not valid YAML" in err
