"""The read-only repository scan (mlecourse.scorecard.scan): calibration on realistic fixture repositories,
the signal-to-level mapping, the safety promises and the widget's pre-fill control."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from mlecourse.scorecard import scan as scan_module
from mlecourse.scorecard.assessment import validate_assessment
from mlecourse.scorecard.rubric import list_rubrics, load_rubric
from mlecourse.scorecard.scan import (
    MAX_EVIDENCE,
    OUTSIDE,
    READ_LIMIT,
    SIGNALS,
    assess,
    command_signals,
    deploy_promotion,
    evaluate_rule,
    load_signal_map,
    rule_text,
    scan,
    signal_table,
    suggest,
)

RUBRIC = load_rubric("mle-maturity")
CELLS = RUBRIC.cell_ids
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


# ------------------------------------------------------------------------------ helpers

def write(root: Path, files: dict) -> Path:
    """Create ``files`` ({relative path: text}) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def notebook(*sources: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    return nbformat.writes(nb)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Learner", "-c", "user.email=learner@example.org",
                    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
                    "-c", "tag.gpgsign=false", *args],
                   cwd=root, check=True, capture_output=True)


def commit_all(root: Path, tag: str | None = None, pack: bool = False) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    if tag:
        git(root, "tag", "-a", tag, "-m", f"release {tag}")
    if pack:
        git(root, "pack-refs", "--all")


def evidence(assessment: dict, cell: str, signal: str) -> list:
    return [e for e in assessment["evidence"].get(cell, []) if e["signal"] == signal]


def levels(assessment: dict) -> dict:
    return dict(assessment["answers"])


# marker written by any fixture file that gets executed or imported
MARKER_CODE = ("import pathlib\npathlib.Path({marker!r}).write_text('executed')\n")


def notebook_only_project(root: Path) -> Path:
    write(root, {
        "README.md": "# Churn analysis\n\nOpen the notebooks in order.\n",
        "requirements.txt": "pandas\nscikit-learn>=1.3\nmatplotlib\n",
        "notebooks/01-explore.ipynb": notebook("import pandas as pd\n"
                                               "df = pd.read_csv('../data/customers.csv')"),
        "notebooks/02-train.ipynb": notebook(
            "from sklearn.ensemble import RandomForestClassifier",
            "model = RandomForestClassifier(n_estimators=200, random_state=42)\n"
            "model.fit(X_train, y_train)"),
        "data/customers.csv": "id,churned\n1,0\n2,1\n",
    })
    commit_all(root)
    return root


def package_with_ci_project(root: Path, marker: Path) -> Path:
    write(root, {
        "README.md": "# churn\n\n## Install\n\n    uv sync\n",
        "CONTRIBUTING.md": "Open a pull request; one review is required.\n",
        "CHANGELOG.md": "## 0.1.0\n- first release\n",
        ".github/CODEOWNERS": "* @data-team\n",
        ".github/pull_request_template.md": "## What changed\n",
        ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/pre-commit/hooks\n",
        "pyproject.toml": (
            '[project]\nname = "churn"\nversion = "0.1.0"\n'
            'dependencies = ["pandas", "scikit-learn", "pandera"]\n\n'
            '[tool.pytest.ini_options]\naddopts = "--cov=churn"\n\n'
            '[tool.coverage.run]\nbranch = true\n\n[tool.ruff]\nline-length = 100\n'),
        "uv.lock": "version = 1\n",
        "setup.py": MARKER_CODE.format(marker=str(marker)),
        "conftest.py": MARKER_CODE.format(marker=str(marker)),
        "src/churn/__init__.py": "",
        "src/churn/features.py": ("import pandera as pa\n\n"
                                  "SCHEMA = pa.DataFrameSchema({'tenure': pa.Column(int)})\n"),
        "src/churn/model.py": ("from sklearn.linear_model import LogisticRegression\n\n"
                               "def make_model():\n"
                               "    return LogisticRegression(random_state=0)\n"),
        "tests/test_features.py": ("from churn.features import SCHEMA\n\n"
                                   "def test_schema():\n    assert SCHEMA\n"),
        "tests/test_model.py": ("from churn.model import make_model\n\n"
                                "def test_learns(X, y):\n    m = make_model().fit(X, y)\n"
                                "    assert m.predict(X).shape == y.shape\n"),
        ".github/workflows/ci.yml": (
            "name: ci\non: [pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - uses: actions/checkout@v4\n      - run: uv sync\n"
            "      - run: ruff check .\n      - run: pytest --cov=churn --cov-report=xml\n"),
    })
    commit_all(root, tag="v0.1.0")
    return root


def mlops_project(root: Path) -> Path:
    write(root, {
        "README.md": "# Loan default model\n",
        "CHANGELOG.md": "## 1.0.0\n- champion model v3\n",
        "MODEL_CARD.md": "# Model card\n\nIntended use: ...\n",
        "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nmlflow = "2.14.1"\n',
        "poetry.lock": "# poetry lock\n",
        ".dvc/config": "[core]\n    remote = storage\n['remote \"storage\"']\n"
                       "    url = s3://example-bucket/dvc\n",
        ".dvc/.gitignore": "/cache\n",
        ".dvc/cache/files/md5/ab/cdef": "import wandb  # cache content must not be read\n",
        "data/raw/loans.csv.dvc": "outs:\n- md5: 3f2a\n  path: loans.csv\n",
        "dvc.yaml": "stages:\n  train:\n    cmd: python src/train.py\n    deps: [data/raw]\n",
        "dvc.lock": ("schema: '2.0'\nstages:\n  train:\n    outs:\n    - path: model.pkl\n"
                     "      md5: 9b1c\n"),
        "params.yaml": "train:\n  C: 1.0\n",
        "src/train.py": (
            "import mlflow\nimport numpy as np\nfrom mlflow import MlflowClient\n\n"
            "np.random.seed(0)\n\n"
            "def main(model, X, y):\n"
            "    with mlflow.start_run():\n"
            "        mlflow.log_params({'C': 1.0})\n"
            "        mlflow.log_metric('auc', 0.81)\n"
            "        info = mlflow.sklearn.log_model(model, 'model',"
            " registered_model_name='loan-default')\n"
            "    client = MlflowClient()\n"
            "    client.set_registered_model_alias('loan-default', 'champion', 3)\n"),
        "src/validate.py": "import great_expectations as gx\n",
        "src/serve.py": (
            "from fastapi import FastAPI\nfrom prometheus_client import Counter\n\n"
            "app = FastAPI()\nPREDICTIONS = Counter('predictions', 'served')\n\n"
            "@app.get('/health')\ndef health():\n    return {'ok': True}\n\n"
            "@app.post('/predict', response_model=dict)\ndef predict(x: dict):\n"
            "    return {}\n"),
        "src/monitor.py": "import schedule\nfrom evidently.report import Report\n",
        "tests/test_model.py": "def test_fit(model, X, y):\n    model.fit(X, y)\n",
        "tests/test_validate.py": "def test_schema():\n    assert schema.ok()\n",
        "Dockerfile": ("FROM python:3.11-slim\nCOPY . /app\n"
                       "HEALTHCHECK CMD curl -f http://localhost/health\n"),
        "docker-compose.yml": "services:\n  api:\n    build: .\n",
        "k8s/deployment.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                "  name: loan-api\n"),
        "monitoring/alerts.yml": ("groups:\n  - name: api\n    rules:\n"
                                  "      - alert: HighErrorRate\n"
                                  "        expr: rate(x[5m]) > 0.1\n"),
        ".github/workflows/ci.yml": ("on: [pull_request]\njobs:\n  test:\n    steps:\n"
                                     "      - run: pytest --cov=src\n"),
        ".github/workflows/deploy.yml": (
            "on:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    steps:\n"
            "      - run: docker build -t registry.example.org/loan-api:${{ github.sha }} .\n"
            "      - run: docker push registry.example.org/loan-api:${{ github.sha }}\n"
            "      - run: kubectl apply -f k8s/\n"),
    })
    commit_all(root, tag="v1.0.0", pack=True)
    return root


# ------------------------------------------------------------------------------ the mapping

def test_signals_file_describes_exactly_the_signals_the_scanner_records():
    mapping = load_signal_map("mle-maturity")
    assert set(mapping["signals"]) == set(SIGNALS)
    assert set(mapping["cells"]) == set(CELLS)


def test_signals_file_is_not_mistaken_for_a_rubric():
    assert "mle-maturity.signals" not in list_rubrics()
    assert {"mle-maturity", "ml-test-score"} <= set(list_rubrics())


def test_rules_combine_alternatives_and_any_of_terms():
    rule = [["git", "git-tag"], ["git-lfs"]]
    assert evaluate_rule(rule, {"git", "git-tag"}.__contains__) == (True, [])
    assert evaluate_rule(rule, {"git-lfs"}.__contains__) == (True, [])
    assert evaluate_rule(rule, {"git"}.__contains__) == (False, ["git-tag"])
    nested = [["tests", "ci-tests", ["coverage-config", "pre-commit"]]]
    assert evaluate_rule(nested, {"tests", "ci-tests", "pre-commit"}.__contains__)[0]
    ok, missing = evaluate_rule(nested, {"tests", "ci-tests"}.__contains__)
    assert not ok and missing == [["coverage-config", "pre-commit"]]
    assert rule_text(nested) == "tests + ci-tests + (coverage-config or pre-commit)"
    assert rule_text(rule) == "[git + git-tag] or git-lfs"


def test_unsupported_rubric_is_refused():
    with pytest.raises(ValueError, match="supports only mle-maturity, not 'ml-test-score'"):
        load_signal_map("ml-test-score")


def test_signal_table_has_a_row_per_cell_for_the_book():
    rows = signal_table()
    assert len(rows) == 18
    first = rows[0]
    assert (first["Principle"], first["Aspect"]) == ("Versioning", "Code")
    assert first["Level 1 when"] == "git"
    assert first["Level 2 when (and level 1)"] == (
        "git + git-tag + (ci or run-params or pr-template or codeowners or pre-commit)")
    live = next(r for r in rows if (r["Principle"], r["Aspect"]) == ("Monitoring", "Model"))
    assert live["Level 2 when (and level 1)"].startswith("not in the repository")


# ------------------------------------------------------------------------------ calibration

def test_empty_folder_is_level_0_everywhere_and_says_what_was_looked_for(tmp_path):
    a = assess(tmp_path)
    assert validate_assessment(a) == a
    assert levels(a) == {c: 0 for c in CELLS}  # "not in place": nothing seen claims a level 1
    assert a["evidence"] == {}
    assert a["prefilled"] == CELLS
    assert "level 0" in a["notes"]["versioning.code"]
    assert "Level 1 needs git; not found: git (looked for git: a .git folder" \
        in a["notes"]["versioning.code"]
    for cell in CELLS:  # every "not found" names what was looked for
        assert "not found" in a["notes"][cell] and "looked for" in a["notes"][cell]


@needs_git
def test_notebook_only_project(tmp_path):
    a = assess(notebook_only_project(tmp_path / "churn"))
    expected = {c: 0 for c in CELLS}
    expected.update({c: 1 for c in ("versioning.code", "versioning.data", "reproducibility.code",
                                    "reproducibility.model", "reproducibility.data",
                                    "ways-of-working.code", "ways-of-working.model",
                                    "ways-of-working.data")})
    assert levels(a) == expected
    assert evidence(a, "versioning.code", "git")[0]["path"] == ".git"
    assert evidence(a, "versioning.code", "git-tag") == []
    deps = evidence(a, "reproducibility.code", "dependencies-listed")
    assert deps[0]["path"] == "requirements.txt"
    assert "3 requirement(s), 0 pinned" in deps[0]["detail"]
    seeds = evidence(a, "reproducibility.model", "seeds-set")
    assert seeds[0]["path"] == "notebooks/02-train.ipynb"
    assert seeds[0]["detail"] == "code cell 2: random_state=42"
    assert evidence(a, "reproducibility.code", "seeds-set") == []  # did not make level 2
    loading = evidence(a, "versioning.data", "data-loading")[0]
    assert loading["path"] == "notebooks/01-explore.ipynb" and "read_csv" in loading["detail"]
    assert evidence(a, "ways-of-working.code", "readme")[0]["path"] == "README.md"
    assert "testing.code" not in a["evidence"]  # no tests at all
    assert "Level 1 needs tests; not found: tests" in a["notes"]["testing.code"]


@needs_git
def test_tested_package_with_ci(tmp_path):
    marker = tmp_path / "EXECUTED"
    a = assess(package_with_ci_project(tmp_path / "churn", marker))
    expected = {c: 0 for c in CELLS}
    # a package that trains, tracks, packages and serves nothing: no model of its own (level 0),
    # and its README explains the library, not data of its own (ways-of-working.data 0)
    expected.update({"versioning.code": 2, "testing.code": 2, "testing.data": 2,
                     "ways-of-working.code": 2, "reproducibility.code": 1})
    assert levels(a) == expected
    tag = evidence(a, "versioning.code", "git-tag")[0]
    assert tag["path"] == ".git/refs/tags/v0.1.0" and "1 tag(s): v0.1.0" in tag["detail"]
    assert "Level 2: found git, git-tag, ci, pr-template" in a["notes"]["versioning.code"]
    assert ("Level 3 needs changelog + (ci-deploy or ci-deploy-manual or iac or ci-publish); "
            "not found: ci-deploy, ci-deploy-manual, iac, ci-publish") in a["notes"][
        "versioning.code"]
    ci = evidence(a, "testing.code", "ci-tests")[0]
    assert ci == {"signal": "ci-tests", "path": ".github/workflows/ci.yml", "line": 10,
                  "detail": "pytest --cov=churn --cov-report=xml"}
    assert [e["path"] for e in evidence(a, "testing.code", "tests")] == [
        "tests/test_features.py", "tests/test_model.py"]
    assert evidence(a, "testing.code", "coverage-config")[0]["path"] == "pyproject.toml"
    assert "the library 'churn'" in a["notes"]["testing.model"]
    assert evidence(a, "testing.data", "data-validation")[0] == {
        "signal": "data-validation", "path": "src/churn/features.py", "line": 1,
        "detail": "import pandera"}
    assert OUTSIDE in a["notes"]["testing.data"]  # level 3 cannot be seen in files
    assert evidence(a, "ways-of-working.code", "codeowners")[0]["path"] == ".github/CODEOWNERS"
    assert a["answers"]["reproducibility.code"] == 1  # locked, but no environment as code
    assert "not found: dockerfile, conda-environment" in a["notes"]["reproducibility.code"]
    assert not marker.exists(), "setup.py or conftest.py was executed"


@needs_git
def test_project_with_dvc_mlflow_docker_and_deployment(tmp_path):
    a = assess(mlops_project(tmp_path / "loans"))
    assert levels(a) == {
        "versioning.code": 3, "versioning.model": 3, "versioning.data": 3,
        "testing.code": 2, "testing.model": 1, "testing.data": 2,
        "reproducibility.code": 3, "reproducibility.model": 2, "reproducibility.data": 2,
        "deployment.code": 2, "deployment.model": 2, "deployment.data": 1,
        "monitoring.code": 2, "monitoring.model": 1, "monitoring.data": 2,
        "ways-of-working.code": 0, "ways-of-working.model": 1, "ways-of-working.data": 0,
    }
    tag = evidence(a, "versioning.code", "git-tag")[0]
    assert tag["path"] == ".git/packed-refs" and "v1.0.0" in tag["detail"]
    assert evidence(a, "versioning.data", "dvc-remote")[0] == {
        "signal": "dvc-remote", "path": ".dvc/config", "line": 3,
        "detail": "['remote \"storage\"']"}
    assert {e["path"] for e in evidence(a, "versioning.data", "dvc-data")} == {
        "dvc.lock", "data/raw/loans.csv.dvc"}
    reg = evidence(a, "versioning.model", "model-registry")[0]
    assert reg["path"] == "src/train.py" and reg["line"] == 11
    assert reg["detail"] == "log_model(registered_model_name=...)"
    alias = evidence(a, "versioning.model", "registry-alias")[0]
    assert alias["line"] == 13 and "set_registered_model_alias" in alias["detail"]
    deploy = evidence(a, "deployment.model", "ci-deploy")[0]
    assert deploy["path"] == ".github/workflows/deploy.yml" and deploy["line"] == 9
    # level 3 needs a gated deployment environment too; the note says so
    assert "not found: ci-environments" in a["notes"]["deployment.code"]
    assert evidence(a, "reproducibility.code", "ci-image")[0]["detail"].startswith("docker build")
    assert evidence(a, "reproducibility.code", "dockerfile")[0]["detail"] == \
        "FROM python:3.11-slim"
    assert evidence(a, "monitoring.code", "alert-rules")[0]["path"] == "monitoring/alerts.yml"
    assert {e["path"] for e in evidence(a, "monitoring.code", "health-check")} == {
        "Dockerfile", "src/serve.py"}
    assert evidence(a, "monitoring.data", "drift-library")[0]["path"] == "src/monitor.py"
    assert evidence(a, "deployment.data", "api-schema")[0]["path"] == "src/serve.py"
    assert evidence(a, "ways-of-working.model", "model-card")[0]["path"] == "MODEL_CARD.md"
    for cell in ("monitoring.code", "monitoring.model", "ways-of-working.model"):
        assert OUTSIDE in a["notes"][cell]
    assert "not found: shared-features" in a["notes"]["deployment.data"]
    assert "Level 3: found registry-alias" in a["notes"]["versioning.model"]
    # the DVC cache is never read: the wandb import in it does not count
    assert all(e["path"] != ".dvc/cache/files/md5/ab/cdef"
               for items in a["evidence"].values() for e in items)
    tracking = scan(tmp_path / "loans").evidence("experiment-tracking")
    assert tracking and all("wandb" not in e.get("detail", "") for e in tracking)


@needs_git
def test_only_candidate_files_are_opened_and_git_objects_never(tmp_path, monkeypatch):
    root = mlops_project(tmp_path / "loans")
    assert any((root / ".git" / "objects").rglob("*"))
    opened = []
    real_open = os.open

    def spying_open(path, flags, *args, **kwargs):
        opened.append(os.path.relpath(os.fspath(path), root))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    scan(root)
    git_reads = {p for p in opened if p.startswith(".git/")}
    assert git_reads <= {".git/packed-refs", ".git/config"}
    assert not any(p.startswith(".dvc/cache") for p in opened)
    assert "MODEL_CARD.md" not in opened and "k8s" not in opened  # names suffice
    assert "README.md" in opened  # read: a README that is only a title does not count
    assert "src/train.py" in opened and ".dvc/config" in opened


# ------------------------------------------------------------------------------ safety

def test_nothing_from_the_folder_is_executed_or_imported(tmp_path):
    marker = tmp_path / "EXECUTED"
    code = MARKER_CODE.format(marker=str(marker))
    root = write(tmp_path / "repo", {
        "setup.py": code, "conftest.py": code, "noxfile.py": code, "sitecustomize.py": code,
        "src/evilpkg_for_scan/__init__.py": code, "tests/test_evil.py": code,
        "notebooks/run.ipynb": notebook(code), "Makefile": "all:\n\ttouch " + str(marker) + "\n",
        ".pre-commit-config.yaml": "repos: []\n",
    })
    before = set(sys.modules)
    result = scan(root)
    assert not marker.exists()
    assert not any("evilpkg_for_scan" in m for m in set(sys.modules) - before)
    assert result.found("tests") and result.found("pytest-config")


def test_symlink_loops_are_survived(tmp_path):
    root = write(tmp_path / "repo", {"a/b/test_x.py": "def test(): assert main()\n"})
    os.symlink(root / "a", root / "a" / "b" / "up")  # folder loop
    os.symlink(root, root / "self")
    os.symlink(root / "x.py", root / "y.py")  # file loop
    os.symlink(root / "y.py", root / "x.py")
    result = scan(root)
    assert result.count("tests") == 1
    assert result.stats["links_not_followed"] == 4
    assert result.problems == []


def test_symlinks_out_of_the_folder_are_not_followed(tmp_path):
    outside = write(tmp_path / "outside", {"train.py": "import mlflow\n",
                                           "pkg/test_secret.py": "import wandb\n"})
    root = write(tmp_path / "repo", {"src/real.py": "import pandera\n"})
    os.symlink(outside, root / "linked_dir")
    os.symlink(outside / "train.py", root / "train_link.py")
    os.symlink(root / "src" / "real.py", root / "alias.py")  # inside: read as a file
    result = scan(root)
    assert not result.found("experiment-tracking") and not result.found("tests")
    assert not result.found("train-command")
    assert [e["path"] for e in result.evidence("data-validation")] == ["alias.py", "src/real.py"]
    assert result.stats["links_not_followed"] == 2


def test_unreadable_file_is_a_problem_not_a_failure(tmp_path, monkeypatch):
    root = write(tmp_path / "repo", {"src/locked.py": "import mlflow\n",
                                     "src/open.py": "import pandera\n"})
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    result = scan(root)
    assert result.problems == [{"path": "src/locked.py",
                                "problem": "cannot read: Permission denied"}]
    assert result.found("data-validation") and not result.found("experiment-tracking")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_chmod_000_file_is_reported(tmp_path):
    root = write(tmp_path / "repo", {"train.py": "import mlflow\n"})
    (root / "train.py").chmod(0)
    try:
        result = scan(root)
    finally:
        (root / "train.py").chmod(0o644)
    assert result.problems and result.problems[0]["path"] == "train.py"


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes")
def test_undecodable_name_is_reported(tmp_path):
    root = write(tmp_path / "repo", {"README.md": "# x\n\nRun it.\n"})
    with open(os.path.join(os.fsencode(root), b"bad\xffname.py"), "wb") as fh:
        fh.write(b"import mlflow\n")
    a_result = scan(root)
    assert a_result.problems == [{"path": "bad\\xffname.py",
                                  "problem": "name is not valid UTF-8; skipped"}]
    assert a_result.found("readme")
    json.dumps(suggest(a_result))  # the assessment stays valid JSON


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_never_opened(tmp_path):
    root = write(tmp_path / "repo", {"README.md": "# x\n\nRun it.\n"})
    os.mkfifo(root / "Dockerfile")  # opening it for reading would block
    os.symlink(root / "Dockerfile", root / "Containerfile")
    result = scan(root)
    assert not result.found("dockerfile")
    assert result.stats["special_files"] == 1 and result.stats["links_not_followed"] == 1


def test_large_file_is_read_only_in_part(tmp_path):
    filler = "x = 1\n" * (READ_LIMIT // 6 + 1000)
    root = write(tmp_path / "repo", {"late.py": filler + "import mlflow\n",
                                     "early.py": "import pandera\n" + filler})
    result = scan(root)
    assert result.found("data-validation") and not result.found("experiment-tracking")
    assert result.stats["truncated"] == 2
    assert result.stats["bytes_read"] == 2 * READ_LIMIT


def test_virtual_environments_node_modules_and_caches_are_skipped(tmp_path):
    root = write(tmp_path / "repo", {
        ".venv/lib/python3.11/site-packages/mlflow/test_tracking.py": "import mlflow\n",
        "venv/lib/x.py": "import wandb\n",
        "myenv/pyvenv.cfg": "home = /usr/bin\n",
        "myenv/lib/test_y.py": "import wandb\n",
        "condaenv/conda-meta/history": "",
        "condaenv/lib/test_z.py": "import wandb\n",
        "node_modules/pkg/test_w.py": "import wandb\n",
        "src/__pycache__/test_v.py": "import wandb\n",
        "src/.ipynb_checkpoints/Dockerfile": "FROM x\n",
        "build.egg-info/test_u.py": "import wandb\n",
        "src/app.py": "import pandera\n",
    })
    result = scan(root)
    assert not result.found("tests") and not result.found("experiment-tracking")
    assert not result.found("dockerfile")
    assert result.found("data-validation")
    assert result.stats["skipped_folders"] == 8


def test_evidence_is_capped_but_counted(tmp_path):
    root = write(tmp_path / "repo", {f"tests/test_{i:03d}.py": "def test(): assert main()\n"
                                     for i in range(40)})
    result = scan(root)
    assert result.count("tests") == 40
    assert [e["path"] for e in result.evidence("tests")] == [
        f"tests/test_{i:03d}.py" for i in range(MAX_EVIDENCE)]


def test_progress_is_reported_while_scanning(tmp_path):
    root = write(tmp_path / "repo", {f"data/{i}.csv": "" for i in range(25)})
    seen = []
    scan(root, progress=seen.append, every=10)
    assert seen == [10, 20, 25]


def test_missing_path_and_file_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        scan(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        scan(tmp_path / "file.txt")


def test_exact_pins_need_every_requirement_pinned(tmp_path):
    root = write(tmp_path / "repo", {
        "requirements.txt": "# compiled\nnumpy==1.26.4 \\\n    --hash=sha256:abc\n"
                            "pandas[performance]==2.2.2 ; python_version >= '3.10'\n-r base.txt\n",
        "requirements-dev.txt": "pytest==8.2.0\nruff\n",
    })
    result = scan(root)
    assert [e["path"] for e in result.evidence("pinned-requirements")] == ["requirements.txt"]
    assert result.count("dependencies-listed") == 2


@pytest.mark.parametrize("pinned, loose, counts", [(33, 2, True), (9, 2, False), (8, 1, False)])
def test_a_long_requirements_file_with_a_few_open_tools_is_pinned(tmp_path, pinned, loose, counts):
    lines = [f"pkg{i}=={i}.0" for i in range(pinned)] + [f"tool{i}>=1" for i in range(loose)]
    result = scan(write(tmp_path, {"requirements.txt": "\n".join(lines) + "\n"}))
    assert result.found("pinned-requirements") is counts


# ------------------------------------------------------------------------------ reports

@needs_git
def test_text_and_markdown_reports(tmp_path):
    root = mlops_project(tmp_path / "loans")
    result = scan(root)
    a = suggest(result)
    text = scan_module.format_text(a, result)
    rows = [line for line in text.splitlines() if line.startswith(tuple(
        g.name for g in RUBRIC.groups))]
    assert len(rows) == 18
    assert rows[0].split()[:3] == ["Versioning", "Code", "3"]
    assert "1*" in next(r for r in rows if r.startswith("Monitoring") and "Model" in r)
    why = text.splitlines()[text.splitlines().index(rows[0]) + 1]
    assert why.strip().startswith("why: Level 1: found git. Level 2: found git, git-tag, ci, "
                                  "run-params.")
    md = scan_module.format_markdown(a, result)
    assert "| Principle | Aspect | Level | Evidence |" in md
    assert "| Deployment | Code | 2 |" in md
    assert "`ci-image` `.github/workflows/deploy.yml:7`" in md
    assert "<details>" in md and "no evidence in the repository" in md


# ------------------------------------------------------------------------------ widget

def test_prefill_control_scans_and_marks_cells(tmp_path):
    from mlecourse.scorecard.widgets import Scorecard
    from mlecourse.scorecard.widgets_scan import add_prefill_control

    root = write(tmp_path / "repo", {
        "tests/test_model.py": "def test(m, X, y):\n    m.fit(X, y)\n",
        ".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: pytest --cov\n",
        "pipeline.py": "from tfx.components import Evaluator\nEvaluator(eval_config=c)\n",
    })
    card = Scorecard("mle-maturity")
    control = add_prefill_control(card)
    assert control.box in card.toolbar.children
    control.folder.value = str(root)
    control.button.click()
    assert card.answers["testing.code"] == 2 and card.answers["testing.model"] == 2
    assert card.prefilled == set(CELLS)
    assert "pre-filled from a scan" in card.descriptors["testing.code"].value
    assert "tests/test_model.py" in card.descriptors["testing.model"].value
    assert "Pre-filled 18 cells" in card.message.value
    card.controls["testing.code"].value = 3  # the learner disagrees
    assert "testing.code" not in card.prefilled and card.answers["testing.code"] == 3
    saved = card.to_assessment()
    assert "testing.code" not in saved["prefilled"] and "testing.model" in saved["prefilled"]


def test_prefill_control_keeps_answers_on_a_bad_folder(tmp_path):
    from mlecourse.scorecard.widgets import Scorecard
    from mlecourse.scorecard.widgets_scan import add_prefill_control

    card = Scorecard("mle-maturity")
    card.set_answer("versioning.code", 3)
    control = add_prefill_control(card)
    assert control.run(str(tmp_path / "missing")) is False
    assert card.answers == {"versioning.code": 3}
    assert "no such folder" in card.message.value and "unchanged" in card.message.value
    other = Scorecard("ml-test-score")
    assert add_prefill_control(other).button.disabled


def test_imports_inside_python_strings_do_not_count_but_notebook_sources_do(tmp_path):
    root = write(tmp_path / "repo", {
        "fixture.py": 'SOURCE = ("import mlflow\\n"\n          "import wandb\\n")\n',
        "train.ipynb": notebook("import mlflow"),
    })
    result = scan(root)
    assert [e["path"] for e in result.evidence("experiment-tracking")] == ["train.ipynb"]


# ------------------------------------------------------------------------------ issue 18: parsing, not text

def test_mentions_are_not_use(tmp_path):
    root = write(tmp_path / "repo", {
        "src/notes.py": ('"""We could use mlflow.start_run() and np.random.seed(0) here."""\n'
                         "# import wandb\n"
                         "def train(X, seed=0, random_state=42):\n"
                         "    return 'import mlflow'\n"),
        "docs/guide.md": "import mlflow\n\n```python\nmlflow.register_model(...)\n```\n",
        ".github/workflows/ci.yml": (
            "on: [pull_request]\njobs:\n  t:\n    steps:\n"
            "      - name: Run pytest with coverage and ruff  # a name, not a command\n"
            "        run: pip install pytest pytest-cov ruff\n"
            "      # - run: pytest\n"
            "      - run: echo done\n"),
    })
    result = scan(root)
    for signal in ("experiment-tracking", "seeds-set", "model-registry", "ci-tests",
                   "ci-coverage", "ci-lint"):
        assert not result.found(signal), signal
    assert result.found("ci")


def test_a_library_importing_itself_is_not_using_it(tmp_path):
    root = write(tmp_path / "repo", {
        "pyproject.toml": '[project]\nname = "evidently"\n',
        "src/evidently/__init__.py": "",
        "src/evidently/report.py": "from evidently.metrics import Drift\n",
        "tests/test_report.py": "import evidently\n",
        "examples/demo/requirements.txt": "evidently\n",
        "examples/demo/monitor.py": "import evidently\n",  # a sub-project importing the root
    })
    assert not scan(root).found("drift-library")


def test_one_ci_hop_through_make_tox_scripts_and_tasks(tmp_path):
    root = write(tmp_path / "repo", {
        "tests/test_a.py": "def test(): assert main()\n",
        "Makefile": "# test: not this one\ncheck:\n\truff check .\ntest: check\n"
                    "\t@pytest --cov=pkg tests/\n",
        "scripts/release.sh": "#!/bin/sh\nset -e\ntwine upload dist/*\n",
        "pixi.toml": '[tasks]\nimage = "docker build -t app ."\n',
        ".gitlab-ci.yml": ("test:\n  script:\n    - make test\n"
                           "release:\n  script:\n    - bash scripts/release.sh\n"
                           "image:\n  script:\n    - pixi run image\n"),
    })
    result = scan(root)
    tests = result.evidence("ci-tests")[0]
    assert tests["path"] == ".gitlab-ci.yml" and tests["line"] == 3
    assert tests["detail"] == "via Makefile target test: pytest --cov=pkg tests/"
    assert result.found("ci-coverage") and not result.found("ci-lint")  # one hop only
    assert "twine upload" in result.evidence("ci-deploy")[0]["detail"]
    assert "docker build" in result.evidence("ci-image")[0]["detail"]


def test_other_ci_systems(tmp_path):
    root = write(tmp_path / "repo", {
        "build/pipeline.yaml": ("steps:\n- name: 'gcr.io/cloud-builders/docker'\n"
                                "  args: ['build', '-t', 'app', '.']\n"
                                "- name: 'python'\n  entrypoint: 'pytest'\n"
                                "  args: ['tests/', '-s']\n"),
        "Jenkinsfile": "pipeline { stages { stage('t') { steps { sh 'tox -e py311' } } } }\n",
        "azure-pipelines.yml": "steps:\n- script: kubectl apply -f k8s/\n",
        ".circleci/config.yml": "jobs:\n  lint:\n    steps:\n      - run:\n"
                                "          command: flake8 src\n",
    })
    result = scan(root)
    assert result.evidence("ci-image")[0]["path"] == "build/pipeline.yaml"
    assert {e["path"] for e in result.evidence("ci-tests")} == {"Jenkinsfile",
                                                                "build/pipeline.yaml"}
    assert result.evidence("ci-deploy")[0]["path"] == "azure-pipelines.yml"
    assert result.evidence("ci-lint")[0]["path"] == ".circleci/config.yml"


def test_nested_github_workflows_never_run(tmp_path):
    root = write(tmp_path / "repo", {
        "exercise/.github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: pytest\n"})
    assert not scan(root).found("ci-tests")


def test_notebooks_are_parsed_code_cells_only_whatever_their_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    plot = nbformat.v4.new_code_cell("plot()")
    plot.outputs = [nbformat.v4.new_output("display_data",
                                           data={"image/png": "A" * 400_000})]
    text_cell = nbformat.v4.new_markdown_cell("import mlflow  (only a mention)")
    out_cell = nbformat.v4.new_code_cell("print('x')")
    out_cell.outputs = [nbformat.v4.new_output("stream", text="import wandb\nwandb.init()\n")]
    nb.cells = [plot, text_cell, out_cell, nbformat.v4.new_code_cell(
        "%matplotlib inline\nimport mlflow\nmlflow.start_run()")]
    root = write(tmp_path / "repo", {"train.ipynb": nbformat.writes(nb)})
    result = scan(root)
    track = result.evidence("experiment-tracking")
    assert [e["detail"] for e in track] == ["code cell 4: import mlflow"]
    assert result.stats["truncated"] == 0


# ------------------------------------------------------------------------------ issue 18: projects

def test_and_rules_need_one_project(tmp_path):
    root = write(tmp_path / "course", {
        "README.md": "# Course\n\nOne folder per week.\n",
        "week1/requirements.txt": "scikit-learn==1.5.0\n",
        "week1/Dockerfile": "FROM python:3.11\n",
        "week2/uv.lock": "version = 1\n", "week2/pyproject.toml": "[project]\nname='w2'\n",
        "week3/requirements.txt": "numpy\n",
        "week3/train.py": "import numpy as np\nnp.random.seed(0)\n",
    })
    result = scan(root)
    assert set(result.projects) == {"", "week1", "week2", "week3"}
    a = suggest(result)
    # lock (week2) + Dockerfile (week1) + seeds (week3) do not make level 2 together
    assert a["answers"]["reproducibility.code"] == 1
    write(root, {"week1/train.py": "import random\nrandom.seed(1)\n"})  # week1: pins+image+seed
    a = suggest(scan(root))
    assert a["answers"]["reproducibility.code"] == 2
    assert "(project week1/)" in a["notes"]["reproducibility.code"]
    assert {e["path"] for e in a["evidence"]["reproducibility.code"]} <= {
        "week1/requirements.txt", "week1/Dockerfile", "week1/train.py"}


def test_root_ci_counts_for_the_project_it_works_in(tmp_path):
    root = write(tmp_path / "mono", {
        "a/pyproject.toml": "[project]\nname='a'\n", "a/tests/test_a.py": "def test(): assert main()\n",
        "b/pyproject.toml": "[project]\nname='b'\n", "b/tests/test_b.py": "def test(): assert main()\n",
        "b/.pre-commit-config.yaml": "repos: []\n",
        "a/.pre-commit-config.yaml": "repos: []\n",
        ".github/workflows/ci.yml": ("jobs:\n  t:\n    steps:\n      - run: pytest\n"
                                     "        working-directory: a\n"),
    })
    a = suggest(scan(root))
    assert a["answers"]["testing.code"] == 2
    assert "(project a/)" in a["notes"]["testing.code"]
    assert all(not e["path"].startswith("b/") for e in a["evidence"]["testing.code"])


@needs_git
def test_submodules_are_excluded_and_named(tmp_path):
    root = write(tmp_path / "parent", {"README.md": "# p\n\nparent\n",
                                        "vendor/lib/.git": "gitdir: ../../.git/modules/lib\n",
                                        "vendor/lib/tests/test_x.py": "def test(): assert main()\n",
                                        "vendor/lib/.github/workflows/ci.yml": "x: 1\n"})
    result = scan(root)
    assert not result.found("tests")
    assert result.stats["submodules"] == 1 and result.excluded == ["vendor/lib"]
    assert "1 submodule(s) or nested repositories excluded (vendor/lib)" in \
        scan_module.format_text(suggest(result), result)


@needs_git
def test_git_file_of_a_worktree_is_followed_for_tags(tmp_path):
    main = tmp_path / "main"
    write(main, {"README.md": "# m\n\ntext\n"})
    commit_all(main, tag="v1.0.0")
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"))
    result = scan(tmp_path / "wt")
    assert result.found("git") and result.found("git-tag")
    assert "v1.0.0" in result.evidence("git-tag")[0]["detail"]


def test_git_file_pointing_anywhere_else_is_not_read(tmp_path):
    root = write(tmp_path / "repo", {".git": "gitdir: /etc\n"})
    result = scan(root)
    assert result.found("git") and not result.found("git-tag")
    assert not result.found("git-remote")


def test_level_3_needs_level_2_and_notes_say_what_is_missing(tmp_path):
    spec = {"level_1": [["a"]], "level_2": [["b", ["c", "d"]]], "level_3": [["e"]]}
    signals = {n: {"name": n, "looks_for": f"{n} files"} for n in "abcde"}
    level, note, used = scan_module.suggest_cell(spec, {"a", "e"}.__contains__,
                                                 signals=signals)
    assert level == 1 and used == ["a"]
    assert "Level 2 needs b + (c or d); not found: b, c, d (looked for b: b files; " in note
    level, _, used = scan_module.suggest_cell(spec, {"a", "b", "d", "e"}.__contains__)
    assert level == 3 and used == ["e", "b", "d", "a"]  # the highest level's evidence first


# ------------------------------------------------------------------------------ issue 18: safety

def test_symlinks_inside_git_are_never_followed(tmp_path):
    root = tmp_path / "repo"
    (root / ".git" / "refs").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    os.symlink("/", root / ".git" / "refs" / "tags")  # would walk the whole file system
    os.symlink("/etc/hostname", root / ".git" / "packed-refs")
    os.symlink("/etc/passwd", root / ".git" / "config")
    result = scan(root)
    assert result.found("git") and not result.found("git-tag") and not result.found("git-remote")
    assert result.stats["files_read"] == 0


def test_memory_stays_flat_with_a_huge_folder(tmp_path):
    import tracemalloc

    def peak(n):
        folder = tmp_path / f"flat{n}"
        folder.mkdir()
        for i in range(n):
            (folder / f"part_{i:06d}.csv").write_bytes(b"")
        tracemalloc.start()
        try:
            scan(folder)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, big = peak(200), peak(4000)
    assert big < small + 64 * 1024, (small, big)  # a listing of 4,000 names would be ~400 KB


def test_evidence_is_most_relevant_first_not_alphabetical(tmp_path):
    root = write(tmp_path / "repo", {
        "a/b/c/test_deep.py": "def test(): assert main()\n", "tests/test_z.py": "def test(): assert main()\n",
        **{f"aa/test_{i}.py": "def test(): assert main()\n" for i in range(8)}})
    paths = [e["path"] for e in scan(root).evidence("tests")]
    assert len(paths) == MAX_EVIDENCE and paths[0].count("/") == 1
    assert "a/b/c/test_deep.py" not in paths


def test_terminal_and_markdown_escaping():
    assert scan_module._printable("a\x1b]0;x\x07b\nc\u202e") == "a\\x1b]0;x\\x07b\\nc\\u202e"
    assert scan_module.md_code("a`b|c") == "``a`b\\|c``"
    assert scan_module.md_text("x\n# h [l](u) ![i](j) <b>") == \
        "x\\\\n\\# h \\[l\\]\\(u\\) \\!\\[i\\]\\(j\\) \\<b\\>"  # shows "x\\n# h ..."
    a = suggest(scan_module.ScanResult(root="/r", projects=[""],
                                       hits={"readme": {"": {"count": 1, "evidence": [
                                           {"signal": "readme",
                                            "path": "R\n# Pwned [x](http://e)"}]}}},
                                       stats={}))
    md = scan_module.format_markdown(a)
    assert "`R\\n# Pwned [x](http://e)`" in md and "\n# Pwned" not in md


def test_a_gating_script_is_a_quality_gate_but_a_print_is_not(tmp_path):
    root = write(tmp_path / "repo", {
        "gate.py": ("import sys\nauc = evaluate(candidate)\n"
                    "if auc < THRESHOLD or auc <= production_auc:\n"
                    "    sys.exit('candidate is worse than production')\n"),
        "report.py": "if auc < threshold:\n    print('below threshold')\n",
        "args.py": "def f(threshold):\n    if threshold < 0:\n        raise ValueError('x')\n",
    })
    gate = scan(root).evidence("model-gate")
    assert [(e["path"], e["line"]) for e in gate] == [("gate.py", 3)]


def test_a_library_without_training_has_no_model(tmp_path):
    files = {"pyproject.toml": '[project]\nname = "drift-kit"\n',
             "README.md": "# drift-kit\n\nDetect drift.\n",
             "drift_kit/__init__.py": "", "drift_kit/io.py": "import pickle\n"
                                                            "def save(o, f):\n"
                                                            "    pickle.dump(o, f)\n"}
    a = assess(write(tmp_path / "lib", files))
    model_cells = [c for c in CELLS if c.endswith(".model")]
    assert all(a["answers"][c] == 0 for c in model_cells)
    assert "the library 'drift_kit'" in a["notes"]["versioning.model"]
    files["train.py"] = "import mlflow\nmlflow.start_run()\n"  # now it trains a model
    a = assess(write(tmp_path / "lib", files))
    assert a["answers"]["versioning.model"] == 1


# ------------------------------------------------------------------------------ issue 18, round 2

CFN_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: We could add an AWS::CloudWatch::Alarm and Canary traffic later (a mention).
Resources:
  Endpoint:
    Type: "AWS::SageMaker::Endpoint"
    Properties:
      EndpointConfigName: !GetAtt EndpointConfig.EndpointConfigName
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !Ref Role
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      DeploymentPreference:
        Type: Canary10Percent5Minutes # AllAtOnce
        Alarms:
          - !Ref ErrorAlarm
        Hooks:
          PreTraffic: !Ref PreTrafficHook
  ErrorAlarm:
    Type: "AWS::CloudWatch::Alarm"
    Properties:
      MetricName: Errors
      Namespace: AWS/Lambda
      ComparisonOperator: GreaterThanThreshold
"""

CFN_PIPELINE = """\
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - Name: Source
          Actions:
            - {Name: Git, ActionTypeId: {Category: Source, Provider: CodeCommit}}
        - Name: DeployDev
          Actions:
            - {Name: Dev, ActionTypeId: {Category: Deploy, Provider: CloudFormation}}
        - Name: Approve
          Actions:
            - {Name: Ok, ActionTypeId: {Category: Approval, Provider: Manual}}
        - Name: DeployPrd
          Actions:
            - {Name: Prd, ActionTypeId: {Category: Deploy, Provider: CloudFormation}}
"""


def test_cloudformation_traffic_shifting_alarms_and_codepipeline_are_parsed(tmp_path):
    root = write(tmp_path / "repo", {"requirements.txt": "boto3\n",
                                     "assets/deploy.yml": CFN_TEMPLATE,
                                     "pipeline.yml": CFN_PIPELINE})
    result = scan(root)
    for signal in ("canary-release", "alert-rules", "metrics-export", "serving-app",
                   "model-packaging", "model-gate", "iac", "ci-deploy", "ci-environments"):
        assert result.found(signal), signal
    assert result.evidence("canary-release")[0]["line"] == 13  # the resource, not the mention
    a = suggest(result)
    assert levels(a)["deployment.model"] == 3 and levels(a)["deployment.code"] == 3
    assert levels(a)["monitoring.code"] == 2 and levels(a)["testing.model"] == 2


def test_cloudformation_mentions_and_all_at_once_deployments_do_not_count(tmp_path):
    template = CFN_TEMPLATE.replace("Canary10Percent5Minutes # AllAtOnce", "AllAtOnce  # Canary")
    template = template.split("  ErrorAlarm:")[0]  # no alarm resource, only its mention
    root = write(tmp_path / "repo", {"deploy.yml": template,
                                     "notes.yml": "text: Type AWS::CloudWatch::Alarm\n"})
    result = scan(root)
    assert not result.found("canary-release") and not result.found("alert-rules")
    assert not result.found("model-gate")  # a pre-traffic hook without traffic shifting


KEDRO_CATALOG = """\
companies:
  type: pandas.CSVDataset
  filepath: data/01_raw/companies.csv
  # versioned: true  (commented out: not versioned)
model_input_table:
  type: pandas.ParquetDataset
  filepath: data/03_primary/model_input_table.parquet
  versioned: true
regressor:
  type: pickle.PickleDataset
  filepath: data/06_models/regressor.pickle
  versioned: true
capacity_plot:
  type: plotly.PlotlyDataset
  filepath: data/08_reporting/plot.json
  versioned: true
metrics:
  type: kedro_datasets.tracking.MetricsDataset
  filepath: data/09_tracking/metrics.json
"""


def test_kedro_catalog_and_parameters_are_read_as_data_models_and_parameters(tmp_path):
    root = write(tmp_path / "repo", {
        "pyproject.toml": '[project]\nname = "spaceflights"\n',
        "conf/base/catalog.yml": KEDRO_CATALOG,
        "conf/base/parameters_data_science.yml": "model_options:\n  test_size: 0.2\n",
        "src/spaceflights/pipeline_registry.py": "from kedro.pipeline import Pipeline\n",
    })
    result = scan(root)
    got = {s: [e["detail"] for e in result.evidence(s)] for s in
           ("data-loading", "data-versioned", "model-saved", "run-params", "run-metrics")}
    assert got["data-versioned"] == ["Kedro catalog: model_input_table (versioned)"]
    assert "Kedro catalog: companies" in got["data-loading"]
    assert got["model-saved"] == ["Kedro catalog: regressor (versioned)"]
    assert got["run-params"] == ["Kedro parameters file"] and got["run-metrics"]
    a = levels(suggest(result))
    assert a["versioning.data"] == 2 and a["reproducibility.data"] == 2
    assert a["versioning.model"] == 1 and a["reproducibility.model"] == 1  # no tracker


def test_catalog_outside_conf_and_raw_data_only_is_not_versioning(tmp_path):
    raw_only = KEDRO_CATALOG.split("model_input_table:")[0]
    root = write(tmp_path / "repo", {"catalog.yml": KEDRO_CATALOG,  # not a Kedro conf folder
                                     "conf/base/catalog.yml": raw_only})
    result = scan(root)
    assert not result.found("data-versioned") and not result.found("model-saved")
    assert result.evidence("data-loading")[0]["path"] == "conf/base/catalog.yml"


def test_behave_features_are_tests_and_behave_in_ci_runs_them(tmp_path):
    root = write(tmp_path / "repo", {
        "features/run.feature": "Feature: run\n  Scenario: kedro run works\n",
        "features/steps/cli_steps.py": "from behave import given\n",
        ".github/workflows/ci.yml": ("on: [pull_request]\njobs:\n  e2e:\n    steps:\n"
                                     "      - run: pip install behave\n"
                                     "      - run: bandit -ll -r .\n"
                                     "      - run: behave features/run.feature\n"),
    })
    result = scan(root)
    assert result.evidence("tests")[0]["detail"] == "behave feature file"
    assert result.evidence("ci-tests")[0]["line"] == 7  # behave runs, pip install does not
    assert levels(suggest(result))["testing.code"] == 2


CALLBACKS = """\
import wandb
from mylib.callbacks import Callback


class WandbLogger(Callback):
    def on_epoch_end(self, net, **kwargs):
        wandb.log({"loss": net.history[-1]["loss"]})

    def on_train_end(self, net, **kwargs):
        import mlflow
        mlflow.log_metric("loss", 1.0)
"""


def test_a_library_offering_tracker_callbacks_does_not_track_its_own_runs(tmp_path):
    root = write(tmp_path / "lib", {
        "pyproject.toml": '[project]\nname = "mylib"\n',
        "README.md": "# mylib\n\nNets for sklearn.\n",
        "mylib/__init__.py": "", "mylib/callbacks.py": CALLBACKS,
        "mylib/tests/conftest.py": "import neptune\n",  # test support, not tracking
        "examples/cli/train.py": "import mlflow\nmlflow.start_run()\n",  # shows the library
        "notebooks/demo.ipynb": notebook("import pandas as pd\ndf = pd.read_csv('x.csv')"),
    })
    result = scan(root)
    assert result.library == "mylib" and not result.trains_models()
    assert [e["path"] for e in result.evidence("tracker-integration")] == ["mylib/callbacks.py"]
    assert [e["path"] for e in result.evidence("experiment-tracking")] == ["examples/cli/train.py"]
    a = suggest(result)
    assert all(a["answers"][c] == 0 for c in CELLS if c.endswith((".model", ".data")))
    assert "its README and the data its examples load" in a["notes"]["ways-of-working.data"]


def test_the_same_callback_in_an_application_is_tracking(tmp_path):
    root = write(tmp_path / "app", {"requirements.txt": "wandb\n",
                                    "app/callbacks.py": CALLBACKS.replace("mylib", "app")})
    result = scan(root)
    assert result.library is None
    assert "in a callback class" in result.evidence("experiment-tracking")[0]["detail"]


ZENML_PROMOTE = """\
from zenml import Model, get_step_context, pipeline, step
from zenml.enums import ModelStages


@pipeline(model=Model(name="yolo"))
def training():
    promote(evaluate(train(load())))


@step
def promote(metrics: dict) -> None:
    current = get_step_context().model
    prod_metrics = current.get_artifact("validation_metrics").load()
    if metrics["mAP50"] >= prod_metrics["mAP50"]:
        current.set_stage(ModelStages.PRODUCTION, force=True)
"""


def test_zenml_pipelines_version_artefacts_and_a_promotion_decision_is_a_gate(tmp_path):
    result = scan(write(tmp_path / "repo", {"requirements.txt": "zenml\n",
                                            "pipelines/training.py": ZENML_PROMOTE}))
    for signal, line in (("data-versioned", 5), ("model-gate", 14), ("registry-alias", 15),
                         ("model-registry", 1), ("pipeline", 1)):
        assert result.evidence(signal)[0]["line"] == line, signal
    a = levels(suggest(result))
    assert a["versioning.data"] == 2 and a["testing.model"] == 2


def test_other_pipeline_decorators_and_logging_branches_are_not_zenml_or_gates(tmp_path):
    code = ("from kfp.dsl import pipeline\n\n@pipeline(name='p')\ndef p():\n    pass\n\n"
            "if auc < threshold:\n    promotion_note = 'below'\n    print(promotion_note)\n")
    result = scan(write(tmp_path / "repo", {"p.py": code}))
    assert result.found("pipeline") and not result.found("data-versioned")
    assert not result.found("model-gate")  # the branch records nothing that decides


def test_ci_is_followed_two_hops_through_job_specs_and_make(tmp_path):
    root = write(tmp_path / "repo", {
        "tests/test_a.py": "def test(): assert main()\n",
        "deploy/jobs/workloads.yaml": "name: w\nentrypoint: bash deploy/jobs/workloads.sh\n",
        "deploy/jobs/workloads.sh": "#!/bin/bash\npython -m pytest tests --cov=app\n",
        "Makefile": "ci:\n\t$(MAKE) lint\n\tmake lint\nlint:\n\truff check .\n\tmake deeper\n"
                    "deeper:\n\tmypy .\n",
        ".github/workflows/w.yml": ("on: [pull_request]\njobs:\n  w:\n    steps:\n"
                                    "      - run: anyscale jobs submit deploy/jobs/workloads.yaml\n"
                                    "      - run: make ci\n"),
    })
    result = scan(root)
    detail = result.evidence("ci-tests")[0]["detail"]
    assert detail.startswith("via deploy/jobs/workloads.yaml -> deploy/jobs/workloads.sh: ")
    assert result.found("ci-coverage")
    assert "ruff check" in result.evidence("ci-lint")[0]["detail"]  # make ci -> make lint
    assert all("mypy" not in e["detail"] for e in result.evidence("ci-lint"))  # a third hop


def test_prefilter_keywords_are_computed_from_the_parser_tables():
    for name in scan_module._CALLS:
        assert scan_module.worth_parsing(f"x.{name}(1)\n"), name
    for name in scan_module._DOTTED_CALLS:
        assert scan_module.worth_parsing(f"{name}(1)\n"), name
    for name in scan_module._PROMOTE_CALLS:
        assert scan_module.worth_parsing(f"m.{name}('production')\n"), name
    assert not scan_module.worth_parsing("import numpy as np\nx = np.log(2)\n")


def test_copies_of_a_file_are_parsed_once_but_own_packages_are_judged_per_project(tmp_path,
                                                                                 monkeypatch):
    calls = []
    real = scan_module._parse_signals
    monkeypatch.setattr(scan_module, "_parse_signals",
                        lambda src, test: calls.append(src) or real(src, test))
    monkeypatch.setattr(scan_module, "_SIGNAL_CACHE", {})
    code = "import evidently\nevidently.run()\n"
    root = write(tmp_path / "repo", {
        "a/requirements.txt": "x\n", "a/monitor.py": code, "a/evidently/__init__.py": "",
        "b/requirements.txt": "x\n", "b/monitor.py": code,
    })
    result = scan(root)
    assert calls == [code]  # one parse for both copies
    assert [e["path"] for e in result.evidence("drift-library")] == ["b/monitor.py"]


def test_a_seed_in_a_parameters_file_counts_but_a_test_fixture_seed_does_not(tmp_path):
    root = write(tmp_path / "repo", {
        "params.yaml": "train:\n  C: 0.3\n  seed: 0\n",
        "tests/conftest.py": "import numpy as np\nrng = np.random.default_rng(seed=1)\n",
        "model.py": ("def fit(df, seed: int = 0):\n"
                     "    return LogisticRegression(random_state=seed)\n"),
    })
    seeds = scan(root).evidence("seeds-set")
    assert [(e["path"], e["line"], e["detail"]) for e in seeds] == [
        ("params.yaml", 3, "seed: 0 in a parameters file")]
    root = write(tmp_path / "other", {"params.yaml": "train:\n  seed: null\n  C: 1\n"})
    assert not scan(root).found("seeds-set")


# ------------------------------------------------------------------------------ round 3 patterns

def test_a_config_folder_named_like_a_library_is_not_the_project_own_package(tmp_path):
    validate = "import great_expectations as ge\n\nsuite = ge.from_pandas(df)\n"
    root = write(tmp_path / "repo", {
        "requirements.txt": "great_expectations\n",
        "great_expectations/great_expectations.yml": "config_version: 3\n",  # no Python code
        "flow.py": validate,
    })
    assert [e["path"] for e in scan(root).evidence("data-validation")] == ["flow.py"]
    write(root, {"great_expectations/__init__.py": ""})  # now it is a package of its own
    assert not scan(root).found("data-validation")


def test_hydra_entry_points_record_run_configuration(tmp_path):
    code = ("import hydra\n\n@hydra.main(version_base=None, config_path='conf')\n"
            "def main(cfg):\n    train(cfg)\n")
    result = scan(write(tmp_path / "repo", {"src/train_model.py": code,
                                            "conf/config.yaml": "seed: 1\n"}))
    assert result.evidence("run-params")[0]["line"] == 4
    mention = "# use @hydra.main to record the configuration\ndef main(cfg):\n    pass\n"
    assert not scan(write(tmp_path / "other", {"train.py": mention})).found("run-params")


METAFLOW = """\
from metaflow import FlowSpec, step


class TrainFlow(FlowSpec):
    @step
    def start(self):
        self.data = load()
        self.next(self.deploy)

    @step
    def deploy(self):
        from sagemaker.sklearn import SKLearnModel
        model = SKLearnModel(model_data=self.path, role=ROLE, entry_point="serve.py")
        model.deploy(instance_type="ml.c5.large", initial_instance_count=1)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_metaflow_artefacts_and_a_deploy_step_are_versioned_data_and_deployment(tmp_path):
    result = scan(write(tmp_path / "repo", {"requirements.txt": "metaflow\n",
                                            "flow.py": METAFLOW}))
    assert result.evidence("flow-artefacts")[0]["line"] == 4
    assert result.evidence("pipeline-deploy")[0]["detail"].startswith("model.deploy(...)")
    a = levels(suggest(result))
    assert a["reproducibility.data"] == 2 and a["deployment.code"] == 2
    assert a["deployment.model"] == 2 and a["versioning.data"] < 2


def test_a_deploy_call_outside_a_pipeline_step_and_a_flow_without_artefacts_do_not_count(
        tmp_path):
    code = ("from metaflow import FlowSpec, step\n\nclass F(FlowSpec):\n    @step\n"
            "    def start(self):\n        x = 1\n        self.next(self.end)\n\n"
            "def ship(model):\n    model.deploy(instance_type='ml.m5.large')\n")
    result = scan(write(tmp_path / "repo", {"requirements.txt": "metaflow\n", "f.py": code}))
    assert not result.found("flow-artefacts") and not result.found("pipeline-deploy")


def test_a_serverless_handler_is_a_service_but_a_method_with_those_names_is_not(tmp_path):
    handler = "import json\n\ndef lambda_handler(event, context):\n    return {'ok': 1}\n"
    result = scan(write(tmp_path / "repo", {"api/handler.py": handler}))
    assert result.evidence("serving-app")[0]["line"] == 3
    a = levels(suggest(result))  # a service, but it loads no model: it serves none
    assert (a["deployment.code"], a["monitoring.code"], a["deployment.data"]) == (1, 1, 0)
    method = "class C:\n    def on(self, event, context):\n        return 1\n"
    assert not scan(write(tmp_path / "other", {"c.py": method})).found("serving-app")


def test_a_dvc_file_tracking_a_model_is_model_versioning_not_data(tmp_path):
    model = "outs:\n- md5: 0a\n  path: ../models/model.onnx\n"
    data = "outs:\n- md5: 0b\n  path: data/raw.csv\n"
    root = write(tmp_path / "repo", {
        "requirements.txt": "wandb\n", "train.py": "import wandb\nwandb.init()\n",
        "dvcfiles/trained_model.dvc": model,
        ".dvc/config": "[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://b\n",
    })
    result = scan(root)
    assert result.found("dvc-model") and not result.found("dvc-data")
    a = levels(suggest(result))
    assert a["versioning.model"] == 2 and a["versioning.data"] < 2
    write(root, {"data.dvc": data})
    assert scan(root).evidence("dvc-data")[0]["path"] == "data.dvc"


def test_an_optional_logger_tidied_up_when_installed_is_not_tracking(tmp_path):
    code = ("from importlib.util import find_spec\n\ndef wrap():\n"
            "    if find_spec('wandb'):\n        import wandb\n        wandb.finish()\n")
    guarded = "try:\n    import mlflow\nexcept ImportError:\n    mlflow = None\n"
    root = write(tmp_path / "repo", {"src/utils.py": code, "src/opt.py": guarded})
    assert not scan(root).found("experiment-tracking")
    write(root, {"src/track.py": "import mlflow\nmlflow.start_run()\n"})
    assert scan(root).found("experiment-tracking")


DATAMODULE_TEST = """\
import torch


def test_mnist_datamodule(batch_size=32):
    dm = MNISTDataModule(batch_size=batch_size)
    x, y = next(iter(dm.train_dataloader()))
    assert len(x) == batch_size
    assert x.dtype == torch.float32


def test_model_output():
    assert net(x).shape == (1, 10)  # a model test, not a data test
"""


def test_datamodule_shape_and_dtype_tests_are_data_checks(tmp_path):
    root = write(tmp_path / "repo", {
        "tests/test_datamodules.py": DATAMODULE_TEST,
        ".github/workflows/t.yml": "on: [pull_request]\njobs:\n  t:\n    steps:\n"
                                   "      - run: pytest tests\n",
    })
    result = scan(root)
    assert [(e["line"], e["detail"].split()[1]) for e in result.evidence("data-tests")] == [
        (4, "test_mnist_datamodule")]
    assert levels(suggest(result))["testing.data"] == 2
    other = write(tmp_path / "other", {"tests/test_model.py": "def test_model_output():\n"
                                                              "    assert net(x).shape == (1,)\n"})
    assert not scan(other).found("data-tests")


def test_a_demo_script_named_test_beside_the_code_is_not_a_test(tmp_path):
    demo = "import requests\n\nprint(requests.get(URL).json())\n"
    root = write(tmp_path / "repo", {"src/test_gantry.py": demo})
    assert not scan(root).found("tests")
    write(root, {"src/test_utils.py": "def test_add():\n    assert 1 + 1 == 2\n",
                 "tests/test_demo.py": demo})  # inside a tests folder: a test file
    assert sorted(e["path"] for e in scan(root).evidence("tests")) == [
        "src/test_utils.py", "tests/test_demo.py"]


def test_a_template_readme_does_not_document_a_model_or_data(tmp_path):
    root = write(tmp_path / "tpl", {
        "cookiecutter.json": '{"project": "x"}\n',
        "README.md": "# Data science template\n\nCreate a project with cookiecutter.\n",
    })
    a = suggest(scan(root))
    assert levels(a)["ways-of-working.code"] == 1
    assert levels(a)["ways-of-working.model"] == 0 and levels(a)["ways-of-working.data"] == 0
    assert "project template (cookiecutter.json)" in a["notes"]["ways-of-working.model"]
    titled = write(tmp_path / "titled", {"README.md": "# Lightning-Hydra-Template\n\nUse it.\n"})
    assert scan(titled).template == "README title"
    plain = write(tmp_path / "plain", {"README.md": "# Churn model\n\nA template-free app.\n",
                                       "train.py": "model.fit(X, y)\n"})  # it has a model
    assert scan(plain).template is None
    assert levels(suggest(scan(plain)))["ways-of-working.model"] == 1


# ------------------------------------------------------------------------------ round 4

AZURE_TRAIN = '''
from azureml.core import Run
run = Run.get_context()
dataset = dataset.register(workspace=ws, name=name, create_new_version=True)
run.parent.log("mse", 3.2)
'''


def test_the_azure_ml_sdk_tracks_registers_and_versions(tmp_path):
    root = write(tmp_path / "aml", {"src/train_aml.py": AZURE_TRAIN,
                                    "src/register.py": "from azureml.core import Model\n"
                                    "Model.register(workspace=ws, model_name='m', model_path='p')\n"})
    result = scan(root)
    for signal in ("experiment-tracking", "run-metrics", "data-versioned", "model-registry"):
        assert result.found(signal), signal
    # a mention is not use: a log call on another object, register() without a model
    other = write(tmp_path / "other", {"src/a.py": "logger.log('mse', 1)\n"
                                       "# Run.get_context()\nform.register(name='x')\n"
                                       "ds.register(ws, create_new_version=False)\n"})
    for signal in ("experiment-tracking", "run-metrics", "data-versioned", "model-registry"):
        assert not scan(other).found(signal), signal


def test_a_script_that_cancels_the_run_when_the_new_model_is_worse_is_a_gate(tmp_path):
    gate = ("if new_model_mse >= production_model_mse:\n"
            "    print('worse')\n    if allow_cancel:\n        run.parent.cancel()\n")
    assert scan(write(tmp_path / "g", {"evaluate.py": gate})).found("model-gate")
    plain = "if new_model_mse >= production_model_mse:\n    print('worse')\n"
    assert not scan(write(tmp_path / "p", {"evaluate.py": plain})).found("model-gate")


def test_an_inference_schema_scoring_script_declares_its_input(tmp_path):
    score = ("from inference_schema.schema_decorators import input_schema\n"
             "@input_schema('data', NumpyParameterType(sample))\ndef run(data):\n"
             "    return model.predict(data)\n")
    result = scan(write(tmp_path / "s", {"score.py": score,
                                         "deploy/aks.yml": "computeType: AKS\n"
                                                           "appInsightsEnabled: True\n"}))
    assert result.found("api-schema") and result.found("serving-app")
    assert result.found("metrics-export")
    off = scan(write(tmp_path / "o", {"aks.yml": "appInsightsEnabled: false\n"}))
    assert not off.found("metrics-export")


def test_yaml_files_are_recognised_by_content_whatever_their_name(tmp_path):
    root = write(tmp_path / "y", {
        "env.yml": "name: flows\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n",
        ".pipelines/pr.yml": "trigger: none\npr: [main]\nsteps:\n"
                             "- script: pytest --cov=src tests\n  displayName: Unit tests\n",
        "config/model.yml": "dependencies:\n  - features\nsteps:\n  - name: train\n",
    })
    result = scan(root)
    assert [e["path"] for e in result.evidence("conda-environment")] == ["env.yml"]
    assert [e["path"] for e in result.evidence("ci-tests")] == [".pipelines/pr.yml"]
    assert ".pipelines/pr.yml" in {e["path"] for e in result.evidence("ci")}
    assert "config/model.yml" not in {e["path"] for e in result.evidence("ci")}


def test_a_conda_environment_is_pinned_when_its_packages_carry_versions(tmp_path):
    pinned = ("name: ci\ndependencies:\n  - python=3.7.*\n  - numpy=1.18.*\n  - conda-forge::jq\n"
              "  - pip\n  - pip:\n      - azureml-sdk==1.27.*\n      - pytest==5.4.*\n")
    loose = "name: env\ndependencies:\n  - python=3.7\n  - numpy\n  - pandas\n  - pip:\n    - mlflow\n"
    result = scan(write(tmp_path / "c", {"ci_dependencies.yml": pinned, "environment.yml": loose}))
    assert [e["path"] for e in result.evidence("pinned-requirements")] == ["ci_dependencies.yml"]
    assert len(result.evidence("conda-environment")) == 2


def test_an_azure_task_script_is_read_as_a_ci_command(tmp_path):
    cd = ("trigger: none\nstages:\n- stage: Deploy_ACI\n  jobs:\n  - job: deploy\n    steps:\n"
          "    - task: AzureCLI@1\n      displayName: kubectl apply (a name, not a command)\n"
          "      inputs:\n        scriptLocation: inlineScript\n"
          "        inlineScript: az ml model deploy --name svc --model m:1\n")
    result = scan(write(tmp_path / "a", {".pipelines/cd.yml": cd}))
    assert [e["detail"] for e in result.evidence("ci-deploy")] == [
        "az ml model deploy --name svc --model m:1"]


def test_a_data_test_may_measure_before_it_asserts(tmp_path):
    test = ("def test_check_schema():\n    data = pd.read_csv(path)\n"
            "    n_columns = data.shape[1]\n    assert n_columns == 10\n")
    assert scan(write(tmp_path / "d", {"data/data_test.py": test})).found("data-tests")
    other = ("def test_check_schema():\n    n_columns = data.shape[1]\n    assert path.exists()\n")
    assert not scan(write(tmp_path / "o", {"data/data_test.py": other})).found("data-tests")


def test_a_model_file_kept_in_the_repository_is_a_saved_model(tmp_path):
    root = write(tmp_path / "m", {"sample_model/lin_reg_model.joblib": "x",
                                  "models/classifier.pkl": "x", "data/table.pkl": "x",
                                  "tests/fixtures/tiny.onnx": "x"})
    assert sorted(e["path"] for e in scan(root).evidence("model-saved")) == [
        "models/classifier.pkl", "sample_model/lin_reg_model.joblib"]


def test_a_feast_feature_view_with_typed_fields_is_a_data_schema(tmp_path):
    views = ("from feast import FeatureView, Field\nfrom feast.types import Int64\n"
             "loans = FeatureView(name='loans', entities=[loan], "
             "schema=[Field(name='amount', dtype=Int64)], source=src)\n")
    assert scan(write(tmp_path / "f", {"features.py": views})).found("data-schema")
    untyped = "schema = [c for c in cols]\nview = FeatureView(name='x', schema=schema)\n"
    assert not scan(write(tmp_path / "u", {"features.py": untyped})).found("data-schema")


@needs_git
def test_one_tag_alone_is_not_a_release_practice(tmp_path):
    root = write(tmp_path / "t", {"app.py": "print('hi')\n"})
    commit_all(root, tag="v0.1")
    assert levels(suggest(scan(root)))["versioning.code"] == 1
    write(root, {"params.yaml": "lr: 0.1\n"})  # configuration committed with the code
    assert levels(suggest(scan(root)))["versioning.code"] == 2


# ------------------------------------------------------------------------------ round 5

def test_a_git_push_to_a_platform_deploys_but_a_push_to_origin_does_not(tmp_path):
    for line in ("git push heroku HEAD:main -f", "git push dokku@apps.example.org:churn main",
                 "git push https://heroku:$TOKEN@git.heroku.com/$APP.git HEAD:main",
                 "heroku container:release web --app churn", "cf push churn-api",
                 "git push https://user:$HF_TOKEN@huggingface.co/spaces/user/churn main",
                 "python build/utils.py --mode deploy-model --project p",
                 "python scripts/deploy_endpoint.py"):
        assert ("ci-deploy", line) in [(s, d) for s, d, *_ in command_signals(line)], line
    for line in ("git push origin main", "git push --tags", "git push origin v1.0",
                 "python build/utils.py --mode compile-pipeline", "echo deploy"):
        assert "ci-deploy" not in [s for s, *_ in command_signals(line)], line


def test_an_image_built_in_ci_without_a_deployment_is_not_automated_deployment(tmp_path):
    build = ("on: [push]\njobs:\n  build:\n    steps:\n"
             "      - run: docker build -t app .devcontainer\n")
    root = write(tmp_path / "b", {"Dockerfile": "FROM python:3.11\n",
                                  ".github/workflows/build.yml": build})
    assert levels(suggest(scan(root)))["deployment.code"] == 1
    write(root, {".github/workflows/build.yml": build + "      - run: git push heroku main\n"})
    assert levels(suggest(scan(root)))["deployment.code"] == 2


def test_a_saved_mlflow_model_folder_is_not_a_project_with_pinned_dependencies(tmp_path):
    model = "artifacts/1/abc/artifacts/model"
    root = write(tmp_path / "m", {
        "requirements.txt": "pandas\nscikit-learn\n",
        "train.py": "from sklearn.ensemble import RandomForestClassifier\n"
                    "m = RandomForestClassifier(random_state=42)\n",
        f"{model}/MLmodel": "flavors:\n  sklearn: {}\n",
        f"{model}/conda.yaml": "name: mlflow-env\nchannels: [conda-forge]\n"
                               "dependencies:\n  - python=3.8.5\n  - pip=21.0\n"
                               "  - pip:\n    - scikit-learn==0.24.1\n    - mlflow==1.14\n",
        f"{model}/requirements.txt": "mlflow==1.14\nscikit-learn==0.24.1\n",
    })
    result = scan(root)
    assert model not in result.projects
    assert not result.found("pinned-requirements") and not result.found("conda-environment")
    assert result.found("model-packaging")
    assert levels(suggest(result))["reproducibility.code"] == 1


EVIDENTLY_FLOW = '''
from prefect import flow, task
from evidently.test_suite import TestSuite
from evidently.test_preset import DataQualityTestPreset, BinaryClassificationTestPreset

@task
def check(reference, current):
    suite = TestSuite(tests=[DataQualityTestPreset()])
    suite.run(reference_data=reference, current_data=current)
    quality = TestSuite(tests=[BinaryClassificationTestPreset()])
'''


def test_evidently_test_suites_built_in_code_are_data_and_model_tests(tmp_path):
    root = write(tmp_path / "e", {"flows/requirements.txt": "prefect\nevidently\n",
                                  "flows/checks.py": EVIDENTLY_FLOW})
    result = scan(root)
    assert result.found("data-validation") and result.found("evaluation")
    assert levels(suggest(result))["testing.data"] == 2  # the suite runs in a Prefect flow
    # importing Evidently or naming a suite in a string is no test
    mention = write(tmp_path / "n", {"a.py": "import evidently\n"
                                             "text = 'TestSuite(tests=[DataQualityTestPreset()])'\n"
                                             "report = Report(metrics=[DataDriftPreset()])\n"})
    result = scan(mention)
    assert not result.found("data-validation") and not result.found("evaluation")


@pytest.mark.parametrize("base, counts", [("RecList", True), ("RecModel", False)])
def test_a_reclist_subclass_is_a_behavioural_model_test(tmp_path, base, counts):
    code = (f"from reclist.abstractions import {base}, rec_test\n\n"
            f"class SessionTests({base}):\n    @rec_test(test_type='HR@10')\n"
            "    def hit_rate(self):\n        return 0.1\n")
    assert scan(write(tmp_path, {"model/my_reclist.py": code})).found("evaluation") is counts


def test_dbt_column_tests_are_a_data_schema(tmp_path):
    tested = ("version: 2\nmodels:\n  - name: sessions\n    columns:\n      - name: session_id\n"
              "        tests: [unique, not_null]\n")
    untested = ("version: 2\nmodels:\n  - name: sessions\n    description: flat rows\n"
                "    columns:\n      - name: session_id\n        description: 'tests: none'\n")
    result = scan(write(tmp_path / "d", {"dbt/models/schema.yml": tested,
                                         "dbt/models/docs.yml": untested}))
    assert [e["path"] for e in result.evidence("data-schema")] == ["dbt/models/schema.yml"]


def test_drift_checks_count_as_wired_in_only_when_a_job_or_service_runs_them(tmp_path):
    report = "from evidently.report import Report\nreport = Report(metrics=[])\n"
    app = "from flask import Flask\napp = Flask(__name__)\n"
    by_hand = scan(write(tmp_path / "h", {"monitor.py": report, "app.py": app}))
    assert by_hand.found("drift-library") and not by_hand.found("drift-job")
    assert levels(suggest(by_hand))["monitoring.data"] == 1
    for name, extra in (("dag", "from airflow import DAG\n"),
                        ("api", "from fastapi import FastAPI\n"), ("cron", "import schedule\n")):
        wired = scan(write(tmp_path / name, {"monitor.py": extra + report}))
        assert levels(suggest(wired))["monitoring.data"] == 2, name
    test = scan(write(tmp_path / "t", {"tests/test_drift.py": "from prefect import flow\n"
                                                              + report}))
    assert not test.found("drift-job")
    page = scan(write(tmp_path / "s", {"dashboard.py": "import streamlit as st\n" + report}))
    assert not page.found("drift-job")  # a page someone opens runs the check by hand


def test_a_file_that_does_not_parse_still_shows_its_imports(tmp_path):
    dag = ('import airflow\nfrom airflow import DAG\nimport great_expectations as ge\n'
           'default_args = {"owner":` "Airflow"}\n'
           'doc = """\nimport mlflow\n"""\n')
    result = scan(write(tmp_path / "p", {"airflow/dag.py": dag}))
    assert result.found("pipeline") and result.found("data-validation")  # airflow/ is no package
    assert not result.found("experiment-tracking")  # a line of a string is no import
    write(tmp_path / "p", {"airflow/__init__.py": ""})  # now airflow/ is the project's package
    assert not scan(tmp_path / "p").found("pipeline")


def test_lineage_to_the_data_needs_a_dvc_remote(tmp_path):
    root = write(tmp_path / "l", {
        "dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n",
        "dvc.lock": "schema: '2.0'\nstages:\n  train:\n    outs:\n    - path: model.pkl\n",
        ".dvc/config": "[core]\n",
        "train.py": "import mlflow\nmlflow.register_model('runs:/1/model', 'churn')\n"
                    "client.transition_model_version_stage('churn', 1, 'Production')\n",
    })
    assert levels(suggest(scan(root)))["versioning.model"] == 2
    write(root, {".dvc/config": "[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://b/d\n"})
    assert levels(suggest(scan(root)))["versioning.model"] == 3


def test_a_web_app_serves_a_model_only_when_the_project_loads_one(tmp_path):
    app = ("from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hi():\n"
           "    return 'hi'\n")
    demo = write(tmp_path / "demo", {"app.py": app, "config.py": "import json\nc = json.load(f)\n",
                                     "train.py": "from sklearn import metrics\n"})
    got = levels(suggest(scan(demo)))
    assert (got["deployment.model"], got["deployment.data"], got["monitoring.code"]) == (0, 0, 1)
    served = write(tmp_path / "served", {"app.py": app + "model = joblib.load('model.joblib')\n"})
    got = levels(suggest(scan(served)))
    assert (got["deployment.model"], got["deployment.data"]) == (1, 1)


def test_a_repository_without_any_model_has_its_model_cells_at_0(tmp_path):
    root = write(tmp_path / "gx", {
        "README.md": "# Data quality tutorials\n\nRun the DAG to validate the sample data.\n",
        "dags/validate.py": "from airflow import DAG\nimport great_expectations as gx\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    a = suggest(scan(root))
    assert all(a["answers"][c] == 0 for c in CELLS if c.endswith(".model"))
    assert "model-saved" in a["notes"]["ways-of-working.model"]  # says what was looked for
    assert a["answers"]["ways-of-working.data"] == 1 and a["answers"]["testing.data"] == 2


@pytest.mark.parametrize("readme", [
    "[![CI](badge.svg)](ci)\n## Template for MLOps projects\n\nOpen it in a Codespace.\n",
    "churn\n=====\n\nProject layout.\n\n<small>Project based on the <a href='x'>cookiecutter "
    "data science project template</a>.</small>\n"])
def test_a_readme_a_template_wrote_documents_no_model_or_data(tmp_path, readme):
    root = write(tmp_path, {"README.md": readme,
                            "train.py": "import joblib\njoblib.dump(m, 'm')\n"})
    got = levels(suggest(scan(root)))
    assert (got["ways-of-working.code"], got["ways-of-working.model"],
            got["ways-of-working.data"]) == (1, 0, 0)


def test_serving_code_that_imports_the_project_feature_code_shares_it_with_training(tmp_path):
    serve = ("import onnxruntime as ort\nfrom data import DataModule\n\n"
             "session = ort.InferenceSession('model.onnx')\n")
    root = write(tmp_path / "s", {"requirements.txt": "onnxruntime\n", "data.py": "X = 1\n",
                                  "inference.py": serve, "app.py": "from fastapi import FastAPI\n"})
    assert levels(suggest(scan(root)))["deployment.data"] == 2
    # a library named like feature code is not the project's own: Hugging Face datasets
    other = write(tmp_path / "o", {"inference.py": serve.replace("from data import",
                                                                 "from datasets import")})
    assert not scan(other).found("shared-features")
    # feature code imported by training only is not shared with serving
    train = write(tmp_path / "t", {"features.py": "X = 1\n",
                                   "train.py": "from features import build\nmodel.fit(X, y)\n"
                                               "def predict(x):\n    return model.predict(x)\n"})
    assert not scan(train).found("shared-features")


@pytest.mark.parametrize("code", [
    "from feast import FeatureStore\nstore = FeatureStore('.')\n"
    "row = store.get_online_features(features=fs, entity_rows=rows)\n",
    "from tfx.components import Transform\nt = Transform(examples=e, schema=s, "
    "module_file='preprocessing.py')\n"])
def test_feast_online_features_and_tfx_transform_serve_the_training_features(tmp_path, code):
    assert scan(write(tmp_path, {"pipeline.py": code})).found("shared-features")


@pytest.mark.parametrize("code, counts", [
    ("import typer\n\ndef train(lr: float = 0.1):\n    pass\n\n"
     "if __name__ == '__main__':\n    typer.run(train)\n", True),
    ("def train_model():\n    pass\n\nif __name__ == '__main__':\n    train_model()\n", True),
    ("import click\n\n@click.command()\ndef train():\n    pass\n", True),
    ("def train():\n    pass\n", False),  # a function nothing runs
    ("if __name__ == '__main__':\n    a, b = train_test_split(x)\n", False),
])
def test_a_script_whose_command_is_training_is_one_command_training(tmp_path, code, counts):
    assert scan(write(tmp_path, {"src/fit_mnist.py": code})).found("train-command") is counts


def test_sagemaker_and_mlflow_experiments_created_in_code_are_tracking(tmp_path):
    code = "import boto3\nsm = boto3.client('sagemaker')\nsm.create_experiment(ExperimentName=n)\n"
    assert scan(write(tmp_path / "s", {"exp.py": code})).found("experiment-tracking")
    mention = "def create_experiment():\n    pass\n"
    assert not scan(write(tmp_path / "m", {"exp.py": mention})).found("experiment-tracking")


@pytest.mark.parametrize("module, level", [
    ("integrations.whylogs.data_validators.whylogs_data_validator", 2),
    ("integrations.whylogs.flavors", 0)])
def test_a_zenml_data_validator_step_validates_data_in_the_pipeline(tmp_path, module, level):
    step = f"from zenml import step\nfrom zenml.{module} import WhylogsDataValidator\n"
    assert levels(suggest(scan(write(tmp_path, {"steps/profile.py": step}))))["testing.data"] \
        == level


def test_a_batch_inference_pipeline_reusing_the_fitted_preprocessor_shares_features(tmp_path):
    infer = ("from zenml import pipeline, get_pipeline_context\n\n@pipeline\ndef inference():\n"
             "    model = get_pipeline_context().model\n"
             "    pre = model.get_artifact('preprocess_pipeline')\n")
    result = scan(write(tmp_path / "i", {"pipelines/inference.py": infer}))
    assert levels(suggest(result))["deployment.data"] == 2
    other = infer.replace("preprocess_pipeline", "raw_dataset")
    assert not scan(write(tmp_path / "o", {"pipelines/inference.py": other})).found(
        "shared-features")


@pytest.mark.parametrize("ci, promoted", [
    ("stages:\n- stage: Deploy_Dev\n  jobs: []\n- stage: Deploy_Prod\n  dependsOn: Deploy_Dev\n"
     "  jobs: []\n", True),
    ("on: push\njobs:\n  deploy-staging:\n    runs-on: x\n  deploy-prod:\n"
     "    needs: [deploy-staging]\n    runs-on: x\n", True),
    ("on: push\njobs:\n  test:\n    runs-on: x\n  deploy:\n    needs: test\n"
     "    runs-on: x\n", False),
])
def test_a_deploy_stage_that_waits_for_an_earlier_one_promotes_between_environments(
        tmp_path, ci, promoted):
    assert (deploy_promotion(yaml.safe_load(ci)) is not None) is promoted


def test_ci_running_end_to_end_tests_is_automated_testing(tmp_path):
    root = write(tmp_path, {
        "src/tests/pipeline_tests.py": "def test_e2e_pipeline():\n    assert run() == 0\n",
        "cloudbuild.yaml": "steps:\n- name: gcr.io/x\n  entrypoint: pytest\n"
                           "  args: ['src/tests/pipeline_tests.py']\n"})
    assert levels(suggest(scan(root)))["testing.code"] == 2
    write(tmp_path, {"src/tests/pipeline_tests.py": "def test_pipeline():\n"
                                                    "    assert run() == 0\n"})
    assert levels(suggest(scan(tmp_path)))["testing.code"] == 1


@pytest.mark.parametrize("module, counts", [("mlflow", True),
                                            ("tf_agents.eval.metric_utils", False)])
def test_a_bare_log_metrics_call_records_only_when_it_comes_from_a_tracker(tmp_path, module,
                                                                          counts):
    code = f"from {module} import log_metrics\nlog_metrics(metrics)\n"
    assert scan(write(tmp_path, {"train.py": code})).found("run-metrics") is counts


def test_a_tracker_that_logs_no_model_stores_no_model_metrics(tmp_path):
    drift = ("import mlflow\n\nwith mlflow.start_run():\n"
             "    mlflow.log_artifact('drift_report.html')\n")
    root = write(tmp_path, {"monitor/requirements.txt": "mlflow\n", "monitor/log.py": drift})
    assert levels(suggest(scan(root)))["monitoring.model"] == 0
    write(tmp_path, {"monitor/train.py": "model.fit(X, y)\n"})
    assert levels(suggest(scan(tmp_path)))["monitoring.model"] == 1


def test_common_deploy_actions_data_checks_and_registries_are_recognised(tmp_path):
    ci = ("on: push\njobs:\n  deploy:\n    steps:\n"
          "      - uses: akhileshns/heroku-deploy@v3.12.12\n"
          "      - uses: JamesIves/github-pages-deploy-action@v4\n")
    root = write(tmp_path, {".github/workflows/cd.yml": ci,
                            "checks.py": "from soda.scan import Scan\n",
                            "register.py": "import neptune\n"
                                           "neptune.init_model_version(model='M')\n"})
    result = scan(root)
    assert [e["detail"] for e in result.evidence("ci-deploy")] == [
        "akhileshns/heroku-deploy@v3.12.12"]
    assert result.found("data-validation") and result.found("model-registry")


def test_data_paths_ignored_below_data_downloads_and_a_process_script_are_data_steps(tmp_path):
    root = write(tmp_path, {".gitignore": "data/*/*\n", "src/process.py": "x = 1\n",
                            "src/datamodule.py": "ds = MNIST(root, train=True, download=True)\n",
                            "src/processor.py": "x = 1\n"})
    result = scan(root)
    assert result.found("data-ignored")
    assert [e["path"] for e in result.evidence("data-prep")] == ["src/process.py"]
    assert [e["path"] for e in result.evidence("data-loading")] == ["src/datamodule.py"]
    off = write(tmp_path / "off", {"get.py": "fetch(url, download=False)\n"})
    assert not scan(off).found("data-loading")


def test_git_lfs_versions_data_only_when_it_tracks_data_files(tmp_path):
    images = write(tmp_path / "i", {".gitattributes": "*.png filter=lfs diff=lfs merge=lfs -text\n"
                                                      "*.pt filter=lfs diff=lfs merge=lfs -text\n"})
    assert levels(suggest(scan(images)))["versioning.data"] == 1
    data = write(tmp_path / "d", {".gitattributes": "data/** filter=lfs diff=lfs merge=lfs -text\n"
                                                    "# *.csv filter=lfs\n"})
    assert levels(suggest(scan(data)))["versioning.data"] == 2
    csv = write(tmp_path / "c", {".gitattributes": "*.parquet filter=lfs diff=lfs -text\n"})
    assert scan(csv).found("lfs-data")


@pytest.mark.parametrize("runner, deploys", [("self-hosted", True), ("ubuntu-latest", False)])
def test_starting_the_service_on_a_self_hosted_runner_is_a_deployment(tmp_path, runner, deploys):
    ci = (f"on: push\njobs:\n  deploy:\n    runs-on: {runner}\n    steps:\n"
          "      - run: docker pull acct.dkr.ecr.aws/churn:latest\n"
          "      - run: docker run -d -p 8080:8080 acct.dkr.ecr.aws/churn:latest\n")
    result = scan(write(tmp_path, {".github/workflows/cd.yml": ci}))
    assert result.found("ci-deploy") is deploys


def test_a_real_readme_above_a_template_footer_still_documents_the_project(tmp_path):
    prose = "".join(f"The churn model uses feature {i} from the CRM export.\n" for i in range(8))
    readme = ("# Churn\n\n" + prose + "\n<small>Project based on the cookiecutter data science "
              "project template.</small>\n")
    root = write(tmp_path, {"README.md": readme, "train.py": "model.fit(X, y)\n"})
    assert levels(suggest(scan(root)))["ways-of-working.model"] == 1


def test_a_model_file_copied_into_a_deployed_app_is_not_a_packaged_model(tmp_path):
    app = ("from flask import Flask\nimport joblib\napp = Flask(__name__)\n"
           "m = joblib.load('m.joblib')\n")
    ci = "on: push\njobs:\n  cd:\n    steps:\n      - run: git push heroku HEAD:main\n"
    root = write(tmp_path, {"app.py": app, ".github/workflows/cd.yml": ci})
    assert levels(suggest(scan(root)))["deployment.model"] == 1
    write(tmp_path, {".github/workflows/cd.yml": ci + "      - run: docker build -t app .\n"})
    assert levels(suggest(scan(tmp_path)))["deployment.model"] == 2


@pytest.mark.parametrize("call, signal", [("trainer.push_to_hub()", "model-registry"),
                                          ("model.push_to_hub('org/churn')", "model-registry"),
                                          ("dataset.push_to_hub('org/churn-data')",
                                           "data-versioned"),
                                          ("push_to_hub(repo)", None)])
def test_pushes_to_the_hugging_face_hub_version_models_and_datasets(tmp_path, call, signal):
    result = scan(write(tmp_path, {"publish.py": call + "\n"}))
    found = {s for s in ("model-registry", "data-versioned") if result.found(s)}
    assert found == ({signal} if signal else set())


@pytest.mark.parametrize("check, gate", [("assert metrics['val/acc'] > 0.75", True),
                                         ("assert metrics['val/acc'] > 0.0", False),
                                         ("assert abs(auc_a - auc_b) < 0.001", False),
                                         ("assert len(batch) > 0.5", False)])
def test_a_test_holding_the_model_to_a_bar_run_by_ci_is_a_quality_gate(tmp_path, check, gate):
    root = write(tmp_path, {"tests/test_model.py": f"def test_quality(metrics):\n    {check}\n",
                            "train.py": "model.fit(X, y)\n",
                            ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    steps:\n"
                                                        "      - run: pytest\n"})
    assert (levels(suggest(scan(root)))["testing.model"] == 2) is gate


@pytest.mark.parametrize("pytest_line, level", [("pytest -v", 1), ("pytest --cov=src", 2)])
def test_a_linter_beside_the_tests_in_ci_is_not_yet_automated_testing(tmp_path, pytest_line,
                                                                      level):
    ci = ("on: [pull_request]\njobs:\n  t:\n    steps:\n      - run: flake8 .\n"
          f"      - run: {pytest_line}\n")
    root = write(tmp_path, {"tests/test_app.py": "def test_ok():\n    assert app.ok()\n",
                            ".github/workflows/ci.yml": ci})
    assert levels(suggest(scan(root)))["testing.code"] == level


def test_the_same_tree_gives_the_same_report_whatever_the_hash_seed():
    """Evidence is chosen in a fixed order (sets iterate in a per-process order): the capstone
    reference, scanned by two processes with different hash seeds, gives identical JSON."""
    import subprocess
    import sys

    reference = Path(__file__).resolve().parent.parent / "capstone" / "reference"
    outputs = set()
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "mlecourse", "assess", str(reference),
                               "--format", "json"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        outputs.add(re.sub(r'"(created|date)[^"]*": "[^"]*"', "", done.stdout))
    assert len(outputs) == 1


# ------------------------------------------------------------------------------ round 6

@pytest.mark.parametrize("files, step", [
    ({"mise.toml": '[tasks.test]\nrun = "uv run pytest --cov=src"\n'}, "mise run test"),
    ({"mise.toml": '[tasks.check]\ndepends = ["check:unit"]\n'
                   '[tasks."check:unit"]\nrun = ["uv run pytest --cov=src"]\n'}, "mise run check"),
    ({"Taskfile.yml": "version: '3'\ntasks:\n  test:\n    cmds:\n      - pytest --cov=src\n"},
     "task test"),
    ({"pyproject.toml": '[tool.poe.tasks]\ntest = "pytest --cov=src"\n'}, "uv run poe test"),
])
def test_ci_running_a_task_runner_task_runs_what_the_task_runs(tmp_path, files, step):
    ci = f"on: [pull_request]\njobs:\n  t:\n    steps:\n      - run: {step}\n"
    root = write(tmp_path, {"tests/test_app.py": "def test_ok():\n    assert app.ok()\n",
                            ".github/workflows/ci.yml": ci, **files})
    result = scan(root)
    assert result.found("ci-tests") and result.found("ci-coverage")
    assert levels(suggest(result))["testing.code"] == 2
    unused = write(tmp_path / "u", {".github/workflows/ci.yml": ci.replace(step, "echo hi"),
                                    **files})
    assert not scan(unused).found("ci-tests")  # a task nobody runs is no CI test


@pytest.mark.parametrize("script, deploys", [
    ("cd app\ngit pull origin main\ndocker compose up -d --build\n", True),
    ("uptime\n", False),
])
def test_an_ssh_step_that_restarts_the_service_on_a_server_is_a_deployment(tmp_path, script,
                                                                          deploys):
    body = "".join(f"            {line}\n" for line in script.splitlines())
    ci = ("on:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n"
          "    steps:\n      - uses: appleboy/ssh-action@v1\n        with:\n"
          "          host: example.org\n          script: |\n" + body)
    assert scan(write(tmp_path, {".github/workflows/cd.yml": ci})).found("ci-deploy") is deploys


@pytest.mark.parametrize("trigger, level", [("release:\n    types: [published]", 2),
                                            ("pull_request:", 1)])
def test_an_image_pushed_by_a_release_workflow_releases_the_code(tmp_path, trigger, level):
    ci = (f"on:\n  {trigger}\njobs:\n  image:\n    runs-on: ubuntu-latest\n    steps:\n"
          "      - uses: docker/build-push-action@v6\n        with:\n          push: true\n")
    root = write(tmp_path, {".github/workflows/cd.yml": ci, "Dockerfile": "FROM python:3.12\n",
                            "app.py": "from fastapi import FastAPI\nimport joblib\n"
                                      "app = FastAPI()\nm = joblib.load('m.joblib')\n"})
    got = levels(suggest(scan(root)))
    assert got["deployment.code"] == level
    assert got["deployment.model"] == 1  # a code release is no model deployment
    assert got["reproducibility.code"] < 3


def test_a_databricks_bundle_job_is_a_pipeline_that_retrains(tmp_path):
    bundle = ("resources:\n  jobs:\n    train:\n      schedule:\n"
              "        quartz_cron_expression: '0 0 6 ? * MON'\n      tasks:\n"
              "        - task_key: train\n          spark_python_task:\n"
              "            python_file: ../scripts/train.py\n")
    files = {"pyproject.toml": "[project]\nname = 'p'\ndependencies = ['mlflow']\n",
             "scripts/train.py": "import mlflow\nmlflow.start_run()\nmodel.fit(X, y)\n"}
    root = write(tmp_path, {**files, "resources/train_job.yml": bundle})
    result = scan(root)
    assert [e["detail"] for e in result.evidence("pipeline")] == ["Databricks job train (1 tasks)"]
    assert levels(suggest(result))["reproducibility.model"] == 2
    # a YAML with tasks but no bundle resources is no job
    other = write(tmp_path / "o", {**files, "conf/tasks.yml": "tasks:\n  - train\n"})
    assert not scan(other).found("pipeline")


@pytest.mark.parametrize("code, signal, expected", [
    ("w.quality_monitors.create(table_name=t, inference_log=MonitorInferenceLog(problem_type=p))",
     "drift-monitor", True),
    ("df.write.mode('overwrite').saveAsTable('cat.schema.train_set')", "data-versioned", True),
    ("df.to_csv('train.csv')", "data-versioned", False),
    # a field of a configuration class is the seed the project passes on; a default argument
    # is one a caller may replace
    ("class Model(BaseModel):\n    random_state: int | None = 42", "seeds-set", True),
    ("@dataclass\nclass Splitter:\n    seed = 7", "seeds-set", True),
    ("class Model(BaseModel):\n    random_state: int | None = None", "seeds-set", False),
    ("def split(df, random_state: int = 42):\n    return df", "seeds-set", False),
])
def test_lakehouse_monitors_delta_tables_and_seed_fields_are_recognised(tmp_path, code, signal,
                                                                        expected):
    assert scan(write(tmp_path, {"job.py": code + "\n"})).found(signal) is expected


def test_lefthook_hooks_are_pre_commit_hooks(tmp_path):
    root = write(tmp_path, {"lefthook.yml": "pre-commit:\n  commands:\n    lint:\n"
                                            "      run: ruff check\n",
                            ".github/pull_request_template.md": "## Why\n",
                            "README.md": "# Churn\n\nPredicts churn from the CRM export.\n"})
    assert scan(root).found("pre-commit")
    assert levels(suggest(scan(root)))["ways-of-working.code"] == 2


@pytest.mark.parametrize("test, gate", [
    ("self.metrics['f1'] >= metrics_old['f1']", True),
    ("new_auc > latest_auc", True),
    ("loss < previous_loss", False),  # early stopping, not a promotion decision
])
def test_a_candidate_compared_with_the_registered_model_decides_promotion(tmp_path, test, gate):
    # the registered model's metrics come from the tracker, so the file imports it
    code = (f"import mlflow\n\n\ndef model_improved(self):\n    if {test}:\n"
            "        return True\n    else:\n        return False\n")
    assert scan(write(tmp_path, {"evaluate_model.py": code})).found("model-gate") is gate


@pytest.mark.parametrize("route, schema", [
    ("@app.post('/predict')\ndef predict(req: PredictRequest):\n    return {}\n", True),
    ("@router.put('/items')\nasync def put(request: Request, item: Item):\n    return {}\n", True),
    ("@app.post('/predict')\nasync def predict(request: Request):\n    return {}\n", False),
    ("@app.get('/items')\ndef get(q: Query):\n    return {}\n", False),
])
def test_a_route_that_declares_its_request_body_writes_down_the_inputs(tmp_path, route, schema):
    code = "from fastapi import FastAPI\napp = FastAPI()\n" + route
    got = levels(suggest(scan(write(tmp_path, {"api/app.py": code}))))
    assert (got["testing.data"], got["deployment.data"]) == ((1, 1) if schema else (0, 0))


@pytest.mark.parametrize("code, alerts", [
    ("from flytekit import LaunchPlan, Email, WorkflowExecutionPhase\n"
     "n = Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=['a@b.c'])\n", True),
    ("from airflow import DAG\ndag = DAG('d', default_args={'email_on_failure': True})\n", True),
    ("from airflow import DAG\ndag = DAG('d', default_args={'email_on_failure': False})\n", False),
    ("from flytekit import Email, WorkflowExecutionPhase\n"
     "n = Email(phases=[WorkflowExecutionPhase.SUCCEEDED], recipients_email=['a@b.c'])\n", False),
])
def test_a_pipeline_that_notifies_on_failure_is_watched(tmp_path, code, alerts):
    got = levels(suggest(scan(write(tmp_path, {"flows/schedule.py": code}))))
    assert got["monitoring.code"] == (2 if alerts else 0)


def test_a_databricks_job_that_emails_on_failure_is_watched(tmp_path):
    bundle = ("resources:\n  jobs:\n    refresh:\n      email_notifications:\n"
              "        on_failure: [team@example.org]\n      tasks:\n        - task_key: a\n")
    assert scan(write(tmp_path, {"resources/job.yml": bundle})).found("failure-alerts")


def test_cached_flyte_tasks_keep_each_runs_data(tmp_path):
    code = ("from flytekit import task, workflow\n@task(cache=True, cache_version='1')\n"
            "def get_data() -> int:\n    return 1\n@workflow\ndef wf():\n    get_data()\n")
    root = write(tmp_path, {"wf.py": code})
    assert levels(suggest(scan(root)))["reproducibility.data"] == 2
    plain = write(tmp_path / "p", {"wf.py": code.replace("cache=True, ", "")})
    assert levels(suggest(scan(plain)))["reproducibility.data"] == 1


@pytest.mark.parametrize("check, bar", [("assert out['score'] == 0.99", False),
                                        ("assert out['score'] >= 0.9", True)])
def test_an_equality_with_a_known_score_is_no_quality_bar(tmp_path, check, bar):
    root = write(tmp_path, {"tests/test_api.py": f"def test_predict(out):\n    {check}\n"})
    assert scan(root).found("metric-test") is bar


@pytest.mark.parametrize("files, step", [
    ({"tasks.py": "from invoke import task\n@task\ndef test_unit(c):\n"
                  "    c.run('pytest --cov=src')\n"}, "inv test-unit"),
    ({"pyproject.toml": '[tool.taskipy.tasks]\ntest = "pytest --cov=src"\n'}, "poetry run task test"),
    ({"pyproject.toml": '[tool.hatch.envs.default]\n'}, "hatch test --cover"),
])
def test_ci_running_invoke_taskipy_or_hatch_tests_runs_the_tests(tmp_path, files, step):
    ci = f"on: [pull_request]\njobs:\n  t:\n    steps:\n      - run: {step}\n"
    root = write(tmp_path, {"tests/test_app.py": "def test_ok():\n    assert app.ok()\n",
                            ".github/workflows/ci.yml": ci, **files})
    assert scan(root).found("ci-tests")


@pytest.mark.parametrize("call, data_test", [("load_audio(path)", True),
                                             ("build_features(df)", True),
                                             ("load_model(path)", False),
                                             ("make_widget(path)", False)])
def test_a_test_of_the_loading_or_feature_code_that_checks_shapes_tests_data(tmp_path, call,
                                                                             data_test):
    test = f"def test_it():\n    x = {call}\n    assert x.ndim == 1\n"
    assert scan(write(tmp_path, {"tests/test_io.py": test})).found("data-tests") is data_test


@pytest.mark.parametrize("line, signal, expected", [
    ("python -m churn.train --epochs 3", "ci-train", True),
    ("mlflow run . -e train", "ci-train", True),
    ("kedro run --pipeline training", "ci-train", True),
    ("python -m churn.serve", "ci-train", False),
    ("great_expectations checkpoint run orders", "ci-data-validation", True),
    ("dbt test --select staging", "ci-data-validation", True),
    ("dbt run", "ci-data-validation", False),
    ("railway up --service api", "ci-deploy", True),
    ("ssh deploy@host 'cd app && docker compose up -d'", "ci-deploy", True),
    ("ssh deploy@host uptime", "ci-deploy", False),
    ("pyflyte register workflows --project p --domain staging", "ci-deploy", True),
    ("pyflyte run workflows/train.py wf", "ci-deploy", False),
    ("prefect deploy --all", "ci-deploy", True),
])
def test_ci_commands_that_train_validate_data_or_deploy(line, signal, expected):
    assert any(s == signal for s, *_ in command_signals(line)) is expected


def test_a_ci_job_that_trains_a_tracked_model_retrains_in_one_command(tmp_path):
    ci = "on:\n  schedule:\n    - cron: '0 3 * * 1'\njobs:\n  t:\n    steps:\n" \
         "      - run: kedro run --pipeline fit\n"
    files = {"churn/fit_all.py": "import mlflow\nmlflow.start_run()\n"}
    result = scan(write(tmp_path, {**files, ".github/workflows/retrain.yml": ci}))
    assert [e["detail"] for e in result.evidence("ci-train")] == ["kedro run --pipeline fit"]
    assert not result.found("train-command")
    assert levels(suggest(result))["reproducibility.model"] == 2
    assert levels(suggest(scan(write(tmp_path / "n", files))))["reproducibility.model"] == 1


# ------------------------------------------------------------------ round 7 (issue 18)

DAGSTER_ASSETS = ("import dagster as dg\n\n@dg.asset\ndef orders():\n    return 1\n\n"
                  "@dg.asset_check(asset=orders)\ndef orders_not_empty(orders):\n"
                  "    return dg.AssetCheckResult(passed=orders > 0)\n")
DAGSTER_SCHEDULE = ("import dagster as dg\nnightly = dg.ScheduleDefinition(\n"
                    "    name='nightly', cron_schedule='0 3 * * *', target='*')\n")


@pytest.mark.parametrize("files, data_level, monitoring_level", [
    ({"defs/assets.py": DAGSTER_ASSETS, "defs/schedules.py": DAGSTER_SCHEDULE}, 2, 2),
    ({"defs/assets.py": DAGSTER_ASSETS}, 2, 0),  # checked when made, but made by hand
    # the same names without the orchestrator import are someone's helpers
    ({"defs/assets.py": DAGSTER_ASSETS.replace("import dagster as dg", "import mylib as dg"),
      "defs/schedules.py": DAGSTER_SCHEDULE}, 0, 0),
    ({"dags/check.py": "from airflow import DAG\n"
                       "from airflow.providers.common.sql.operators.sql import "
                       "SQLColumnCheckOperator\n"
                       "with DAG('orders', schedule='@daily') as dag:\n"
                       "    SQLColumnCheckOperator(task_id='c', table='orders', column_mapping={})\n"},
     2, 2),
    ({"dags/check.py": "from airflow import DAG\n"
                       "from airflow.providers.common.sql.operators.sql import "
                       "SQLColumnCheckOperator\n"
                       "with DAG('orders', schedule=None) as dag:\n"
                       "    SQLColumnCheckOperator(task_id='c', table='orders', column_mapping={})\n"},
     2, 0),
])
def test_data_checks_an_orchestrator_runs_on_a_schedule_watch_production_data(
        tmp_path, files, data_level, monitoring_level):
    got = levels(suggest(scan(write(tmp_path, files))))
    assert (got["testing.data"], got["monitoring.data"]) == (data_level, monitoring_level)


@pytest.mark.parametrize("code, watched", [
    ("import dagster as dg\npolicy = dg.FreshnessPolicy(maximum_lag_minutes=60)\n", True),
    ("from dagster_cloud.anomaly_detection import build_anomaly_detection_freshness_checks\n"
     "checks = build_anomaly_detection_freshness_checks(assets=[orders])\n", True),
    ("from mylib import FreshnessPolicy\npolicy = FreshnessPolicy(maximum_lag_minutes=60)\n", False),
])
def test_freshness_checks_watch_a_data_pipeline(tmp_path, code, watched):
    got = levels(suggest(scan(write(tmp_path, {"defs/assets.py": code}))))
    assert got["monitoring.code"] == (1 if watched else 0)


@pytest.mark.parametrize("step, deploys", [
    ("uses: dagster-io/dagster-cloud-action/actions/utils/dagster-cloud-cli@v1\n"
     "        with:\n          command: ci deploy --location-name etl", True),
    ("uses: dagster-io/dagster-cloud-action/actions/utils/dagster-cloud-cli@v1\n"
     "        with:\n          command: ci check --project-dir .", False),
    ("name: dagster-cloud ci deploy\n        run: echo ok", False),  # a step name runs nothing
])
def test_a_cli_action_runs_its_command_with_the_tool_it_wraps(tmp_path, step, deploys):
    ci = f"on: [push]\njobs:\n  d:\n    steps:\n      - {step}\n"
    root = write(tmp_path, {".github/workflows/deploy.yml": ci})
    assert scan(root).found("ci-deploy") is deploys


@pytest.mark.parametrize("blueprint, deploys, health", [
    ("services:\n  - type: web\n    name: api\n    env: docker\n    healthCheckPath: /health\n",
     True, True),
    ("services:\n  - type: web\n    name: api\n    autoDeploy: false\n", False, False),
    # DigitalOcean App Platform
    ("services:\n  - name: api\n    github:\n      repo: a/b\n      deploy_on_push: true\n"
     "    health_check:\n      http_path: /ping\n", True, True),
    ("services:\n  - name: api\n    github:\n      repo: a/b\n", False, False),
])
def test_a_platform_blueprint_that_deploys_each_push_is_a_deployment(tmp_path, blueprint,
                                                                     deploys, health):
    name = "render.yaml" if "type:" in blueprint else ".do/app.yaml"
    result = scan(write(tmp_path, {name: blueprint, "Dockerfile": "FROM python:3.12\n"}))
    assert (result.found("ci-deploy"), result.found("health-check")) == (deploys, health)
    assert levels(suggest(result))["deployment.code"] == (2 if deploys else 1)


@pytest.mark.parametrize("body, counts", [
    ("def test_placeholder():\n    assert 1 == 1\n", False),
    ("def test_nothing():\n    '''To do.'''\n    assert True\n\ndef test_more():\n    pass\n",
     False),
    ("from churn import train\n\ndef test_train():\n    assert train() is not None\n", True),
    ("def test_sum():\n    assert sum([1, 1]) == 2\n", True),  # calls code: a real test
])
def test_a_test_that_checks_only_constants_tests_nothing(tmp_path, body, counts):
    ci = "on: [push]\njobs:\n  t:\n    steps:\n      - run: pytest --cov\n"
    root = write(tmp_path, {"tests/test_app.py": body, ".github/workflows/ci.yml": ci})
    result = scan(root)
    assert result.found("tests") is counts
    assert levels(suggest(result))["testing.code"] == (2 if counts else 0)


@pytest.mark.parametrize("code, recorded", [
    ("from fastai.callback.wandb import WandbCallback\nlearn.fit_one_cycle(5, cbs=[WandbCallback()])\n",
     True),
    ("from lightning.pytorch.callbacks import ModelCheckpoint\n"
     "ckpt = ModelCheckpoint(dirpath='ckpt', monitor='val_loss')\n", True),
    ("from argus.callbacks import MonitorCheckpoint\n"
     "cb = MonitorCheckpoint('runs/a', monitor='val_lwlrap', max_saves=3)\n", True),
    ("from lightning.pytorch.callbacks import ModelCheckpoint\n"
     "ckpt = ModelCheckpoint(dirpath='ckpt')\n", False),  # the last epoch, no metric
])
def test_callbacks_that_record_validation_metrics_store_them_per_model(tmp_path, code, recorded):
    got = levels(suggest(scan(write(tmp_path, {"train_net.py": code}))))
    assert (got["testing.model"], got["monitoring.model"]) == ((1, 1) if recorded else (0, 0))


@pytest.mark.parametrize("kind, registry", [("model", True), ("dataset", False)])
def test_a_wandb_model_artifact_versions_the_model(tmp_path, kind, registry):
    code = ("import wandb\nrun = wandb.init()\n"
            f"art = wandb.Artifact(name='recommender', type='{kind}')\n"
            "art.add_file('model.pkl')\nrun.log_artifact(art)\n")
    got = levels(suggest(scan(write(tmp_path, {"train_model.py": code}))))
    assert got["versioning.model"] == (2 if registry else 1)


SERVE = ("import joblib\nfrom fastapi import FastAPI\napp = FastAPI()\n"
         "model = joblib.load('models/model.pkl')\n")


@pytest.mark.parametrize("steps, shared", [
    ("[('scale', StandardScaler()), ('clf', LogisticRegression())]", True),
    ("[('prep', ColumnTransformer([('oh', OneHotEncoder(), ['plan'])])), "
     "('clf', LogisticRegression())]", True),
    ("[('clf', LogisticRegression())]", False),  # no preprocessing inside the saved model
])
def test_a_served_model_saved_with_its_preprocessing_serves_the_training_features(
        tmp_path, steps, shared):
    train = ("import joblib\nfrom sklearn.pipeline import Pipeline\n"
             "from sklearn.compose import ColumnTransformer\n"
             "from sklearn.preprocessing import StandardScaler, OneHotEncoder\n"
             f"pipe = Pipeline({steps})\npipe.fit(X, y)\n"
             "joblib.dump(pipe, 'models/model.pkl')\n")
    root = write(tmp_path, {"src/train.py": train, "api/app.py": SERVE})
    assert levels(suggest(scan(root)))["deployment.data"] == (2 if shared else 1)
    # without a service that loads it, nothing is served
    alone = write(tmp_path / "alone", {"src/train.py": train})
    assert levels(suggest(scan(alone)))["deployment.data"] == 0


@pytest.mark.parametrize("steps, level", [
    (["terraform -chdir=infra apply -auto-approve"], 1),  # infrastructure only: no code deployed
    (["docker build -t api . && docker push api", "terraform apply -auto-approve"], 2),
    (["aws lambda update-function-configuration --function-name api --environment x"], 2),
])
def test_infrastructure_applied_by_ci_deploys_code_only_with_the_image_it_runs(tmp_path, steps,
                                                                             level):
    runs = "".join(f"      - run: {step}\n" for step in steps)
    ci = f"on: [push]\njobs:\n  d:\n    steps:\n{runs}"
    root = write(tmp_path, {".github/workflows/cd.yml": ci, "infra/main.tf": "# infra\n"})
    assert levels(suggest(scan(root)))["deployment.code"] == level


@pytest.mark.parametrize("trigger, code_level, model_level", [
    ("on: [push]", 2, 2),
    ("on:\n  workflow_dispatch:", 2, 1),  # one click deploys the code, but nothing is automatic
])
def test_a_model_deployed_only_when_someone_starts_the_workflow_is_deployed_by_hand(
        tmp_path, trigger, code_level, model_level):
    ci = (f"{trigger}\njobs:\n  deploy:\n"
          "    uses: Org/templates/.github/workflows/create-deployment.yml@main\n"
          "    with:\n      endpoint_name: taxi\n")
    train = ("import mlflow\nmlflow.sklearn.log_model(model, 'model', "
             "registered_model_name='taxi')\n")
    got = levels(suggest(scan(write(tmp_path, {".github/workflows/deploy.yml": ci,
                                               "src/train.py": train}))))
    assert (got["deployment.code"], got["deployment.model"]) == (code_level, model_level)


@pytest.mark.parametrize("extra, level", [
    ({}, 1),  # gated and packaged, but the service is put into use by hand
    ({"flows/train.py": "from prefect import flow\n"}, 2),  # the gate sits in a pipeline
])
def test_a_gate_before_packaging_deploys_automatically_only_within_a_pipeline_or_cd(
        tmp_path, extra, level):
    evaluate = ("import mlflow\n\ndef promote(auc, threshold):\n    if auc < threshold:\n"
                "        raise ValueError('worse than the threshold')\n"
                "    mlflow.sklearn.log_model(model, 'model')\n")
    root = write(tmp_path, {"src/evaluate.py": evaluate, **extra})
    assert levels(suggest(scan(root)))["deployment.model"] == level


@pytest.mark.parametrize("terraform, level", [
    ('resource "azurerm_application_insights" "appi" {\n  application_type = "web"\n}\n', 1),
    ('resource "azurerm_application_insights" "appi" {}\n'
     'resource "azurerm_monitor_metric_alert" "slow" {}\n', 2),
    ('# resource "azurerm_application_insights" "appi" {}\n', 0),  # a comment provisions nothing
    ('resource "azurerm_storage_account" "sa" {}\n', 0),
])
def test_monitoring_provisioned_as_terraform_resources(tmp_path, terraform, level):
    root = write(tmp_path, {"infrastructure/monitoring.tf": terraform})
    assert levels(suggest(scan(root)))["monitoring.code"] == level


@pytest.mark.parametrize("code, tracked", [
    ("import wandb\n\nshow = wandb.Image(x.reshape(28, 28))\n", False),  # a helper, no run
    ("import wandb\n\nwandb.init(project='digits')\nwandb.log({'loss': 0.1})\n", True),
])
def test_a_tracker_used_only_for_its_data_types_tracks_no_run(tmp_path, code, tracked):
    assert scan(write(tmp_path, {"explore.py": code})).found("experiment-tracking") is tracked


@pytest.mark.parametrize("code, saved", [
    ("from lightning.pytorch.callbacks import ModelCheckpoint\ncb = ModelCheckpoint(dirpath='c')\n",
     True),
    ("from fastai.callback.tracker import SaveModelCallback\ncb = SaveModelCallback()\n", True),
    ("import torch.utils.checkpoint as cp\ny = cp.checkpoint(f, x)\n", False),  # activations
])
def test_a_checkpoint_callback_saves_the_model(tmp_path, code, saved):
    got = levels(suggest(scan(write(tmp_path, {"fit_net.py": code}))))
    assert got["versioning.model"] == (1 if saved else 0)


@pytest.mark.parametrize("code, recorded", [
    ("import json\nwith open(OUT / 'metrics.json', 'w') as f:\n    json.dump(results, f)\n", True),
    ("from pathlib import Path\nPath('reports/eval_metrics.json').write_text(text)\n", True),
    ("import json\nwith open('metrics.json') as f:\n    old = json.load(f)\n", False),  # reads
    ("import json\nwith open(OUT / 'config.json', 'w') as f:\n    json.dump(cfg, f)\n", False),
])
def test_a_run_that_writes_its_metrics_to_a_file_records_them(tmp_path, code, recorded):
    got = levels(suggest(scan(write(tmp_path, {"src/fit.py": code}))))
    assert got["monitoring.model"] == (1 if recorded else 0)


def test_a_tracking_client_is_tracking_and_a_render_service_only_deploys_from_render_yaml(
        tmp_path):
    client = "import mlflow\n\nclient = mlflow.MlflowClient()\n"
    assert scan(write(tmp_path / "c", {"report.py": client})).found("experiment-tracking")
    other = "services:\n  - type: web\n    name: api\n"  # not a Render blueprint
    assert not scan(write(tmp_path / "a", {"app.yaml": other})).found("ci-deploy")
