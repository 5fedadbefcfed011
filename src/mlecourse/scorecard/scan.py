"""Read-only scan of a project folder for evidence of MLE maturity (``mlecourse assess PATH``).

:func:`scan` walks a folder and records *signals* (a Git tag, a CI workflow that runs pytest, a
DVC remote, a call to ``mlflow.register_model`` ...), each with up to :data:`MAX_EVIDENCE`
places (path relative to the root, line where useful, detail). :func:`suggest` turns the
signals into a suggested level per cell of the ``mle-maturity`` rubric, using the mapping
written down as data in ``rubrics/mle-maturity.signals.yaml`` (:func:`load_signal_map`), and
returns an assessment in the interchange format (:mod:`mlecourse.scorecard.assessment`) with evidence,
notes and every cell listed as ``prefilled``. :func:`assess` does both.

Safety promises (tested in ``tests/test_scan.py``):

* nothing from the folder is executed, imported or installed: files are only opened for reading
  and searched with regular expressions (``setup.py`` and ``conftest.py`` are text here);
* only regular files inside the folder are read (``O_NOFOLLOW``, ``fstat`` checks); symbolic
  links to folders are never followed (so link loops cannot trap the walk) and a link to a file
  is read only when its resolved target lies inside the root;
* the walk is iterative (``os.scandir`` and an explicit stack, no recursion limit);
* Git objects are skipped (only ``.git/refs/tags``, ``.git/packed-refs`` and ``.git/config`` are
  read, as text); so are virtual environments (any folder holding ``pyvenv.cfg`` or
  ``conda-meta``, and ``.venv``/``venv``), ``node_modules``, ``__pycache__`` and build caches;
* at most :data:`READ_LIMIT` bytes of a file are read, and only files that are candidates by
  name or extension are read at all;
* unreadable files and names that are not valid UTF-8 are listed in ``problems``, never fatal.

Memory does not grow with the tree: paths are not collected, evidence is capped per signal and
problems are capped at :data:`MAX_PROBLEMS`.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml

from mlecourse.scorecard.rubric import RUBRIC_DIR, Rubric, load_rubric

READ_LIMIT = 256 * 1024  #: bytes read at most from one file
MAX_EVIDENCE = 5  #: places kept per signal
MAX_PROBLEMS = 100  #: problems kept (the rest are counted)
SUPPORTED_RUBRICS = ("mle-maturity",)
OUTSIDE = "no evidence in the repository — answer it yourself"

#: Folder names never entered (lower case); folders ending in ``.egg-info`` are skipped too.
SKIP_DIRS = frozenset({
    "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", ".hypothesis", ".ipynb_checkpoints", ".jupyter_cache",
    "_build", ".eggs", "site-packages", ".terraform", ".cache", ".idea", ".gradle",
    ".next", ".parcel-cache", ".dvc_cache",
})
#: A folder holding one of these files is a virtual environment and is skipped.
VENV_MARKERS = ("pyvenv.cfg", "conda-meta")

_O_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


# ------------------------------------------------------------------------------ patterns

def _imports(*modules: str) -> str:
    """An import of any of ``modules`` at the start of a line.

    ``{Q}`` is replaced by ``"?`` for notebooks (source lines are JSON strings there) and by
    nothing for Python files, so an import written inside a string of a ``.py`` file (a test
    fixture, say) does not count.
    """
    return r'^[ \t]*{Q}[ \t]*(?:import|from)[ \t]+(?:' + "|".join(modules) + r")\b"


_MOD_TRACKING = ("mlflow", "wandb", "neptune", "comet_ml", "clearml")
_MOD_SERVING = ("fastapi", "flask", "bentoml", "seldon_core", "kserve", "litserve")
_MOD_METRICS = ("prometheus_client", "prometheus_fastapi_instrumentator", "opentelemetry", "statsd")
_MOD_DRIFT = ("evidently", "alibi_detect", "nannyml", "whylogs")
_MOD_VALIDATION = ("pandera", "great_expectations", "tensorflow_data_validation", "deepchecks")
_MOD_FEATURES = ("feast", "hopsworks", "tecton")
_MOD_FAIRNESS = ("fairlearn", "aif360")

# (signal, keywords, regex): the regex runs only when one of the keywords occurs in the text,
# so a file is searched at the speed of a substring test for the signals it cannot show.
_PY = [
    ("experiment-tracking", _MOD_TRACKING, _imports(*_MOD_TRACKING)
     + r"|\b(?:mlflow\.(?:start_run|autolog|log_metrics?|log_params?)|wandb\.init)\s*\("),
    ("model-registry", ("register_model", "create_model_version", "create_registered_model",
                        "link_model", "MlflowClient", "registered_model_name"),
     r"\b(?:register_model|create_model_version|create_registered_model|link_model)\s*\("
     r"|\bMlflowClient\s*\(|\bregistered_model_name\s*="),
    ("registry-alias", ("set_registered_model_alias", "transition_model_version_stage", "models:/"),
     r"\b(?:set_registered_model_alias|transition_model_version_stage)\s*\(|models:/[\w.-]+@\w+"),
    ("model-packaging", ("mlflow.", "bentoml."),
     r"\bmlflow\.\w+\.(?:log_model|save_model)\s*\(|\bmlflow\.pyfunc\b"
     r"|\bbentoml\.\w+\.save_model\s*\("),
    ("run-params", ("mlflow.", "wandb.config"),
     r"\b(?:mlflow\.log_params?|mlflow\.autolog|wandb\.config\.update)\s*\("),
    ("run-metrics", ("mlflow.", "wandb.log"),
     r"\b(?:mlflow\.log_metrics?|mlflow\.autolog|wandb\.log)\s*\("),
    ("serving-app", _MOD_SERVING + ("FastAPI", "Flask"), _imports(*_MOD_SERVING)
     + r"|\b(?:FastAPI|Flask)\s*\(|@bentoml\.service"),
    ("health-check", ("/health", "/ready", "/livez", "/ping"),
     r"""["'](?:/health|/healthz|/ready|/readyz|/livez|/ping)["']"""),
    ("api-schema", ("response_model",), r"\bresponse_model\s*="),
    ("metrics-export", _MOD_METRICS, _imports(*_MOD_METRICS)),
    ("drift-library", _MOD_DRIFT, _imports(*_MOD_DRIFT)),
    ("data-validation", _MOD_VALIDATION, _imports(*_MOD_VALIDATION)),
    ("feature-store", _MOD_FEATURES, _imports(*_MOD_FEATURES)),
    ("fairness-checks", _MOD_FAIRNESS, _imports(*_MOD_FAIRNESS)),
    ("load-tests", ("locust",), _imports("locust")),
    ("seeds-set", ("seed", "random_state"),
     r"\brandom_state\s*=\s*\d+|\b(?:random|np\.random|numpy\.random|torch|torch\.cuda|tf\.random)"
     r"\.(?:manual_seed|seed|set_seed|manual_seed_all)\s*\(\s*\d+"
     r"|\bdefault_rng\s*\(\s*(?:seed\s*=\s*)?\d+|\bset_seed\s*\(\s*\d+|\bseed\s*=\s*\d+"),
]
_TEST = _PY + [
    ("model-tests", (".fit(", ".predict"), r"\.(?:fit|predict|predict_proba)\s*\("),
    ("repro-test", ("eproduc", "eterminis", "EPRODUC", "ETERMINIS"),
     r"(?i:reproduc|determinis)"),
    ("integration-tests", ("pytest.mark.",), r"@pytest\.mark\.(?:integration|e2e)\b"),
]
_CI = [
    ("ci-tests", ("pytest", "py.test", "tox", "nox", "unittest", "test"),
     r"\b(?:pytest|py\.test|tox|nox|unittest|make\s+test|npm\s+test)\b"),
    ("ci-coverage", ("cov",), r"--cov\b|\bcoverage\s+(?:run|report|xml)\b|\bcodecov\b"),
    ("ci-lint", ("ruff", "flake8", "pylint", "mypy", "black", "isort", "pre-commit"),
     r"\b(?:ruff|flake8|pylint|mypy|black\s+--check|isort\s+--check|pre-commit\s+run"
     r"|pre-commit/action)\b"),
    ("ci-image", ("docker", "podman", "kaniko", "buildah"),
     r"\b(?:docker|podman)\s+(?:build|buildx|push)\b|docker/build-push-action"
     r"|\bkaniko\b|\bbuildah\s+(?:bud|build)\b"),
    ("ci-deploy", ("kubectl", "helm", "terraform", "deploy", "seldon", "kserve"),
     r"\bkubectl\s+(?:apply|rollout|set\s+image|create)\b|\bhelm\s+(?:upgrade|install)\b"
     r"|\bterraform\s+apply\b|\bbundle\s+deploy\b"
     r"|\bgcloud\s+(?:run|app|functions)\s+deploy\b|\baz\s[\w -]{0,60}?\bdeploy\b"
     r"|\b(?:cdk|serverless|sam|fly|eb)\s+deploy\b|\bmlflow\s+deployments\s+create\b"
     r"|\bseldon\b|\bkserve\b|azure/webapps-deploy|amazon-ecs-deploy"),
]
_YAML = [
    ("kubernetes", ("kind:",),
     r"^kind:[ \t]*(?:Deployment|Service|StatefulSet|DaemonSet|Job|CronJob|Pod|Ingress"
     r"|HorizontalPodAutoscaler|InferenceService|SeldonDeployment|Rollout)\b"),
    ("canary-release", ("canary", "Canary", "shadow", "mirror", "kind:"),
     r"^[ \t]*canaryTrafficPercent[ \t]*:|^kind:[ \t]*(?:Rollout|Canary)\b"
     r"|^[ \t]*-?[ \t]*(?:canary|shadow|mirror)[ \t]*:"),
    ("alert-rules", ("alert",), r"^[ \t]*-?[ \t]*alert[ \t]*:[ \t]*\S"),
]
_DOCKER = [("health-check", ("HEALTHCHECK", "healthcheck"), r"(?i:^[ \t]*HEALTHCHECK\b)")]
_MAKE = [("train-command", ("train", "dvc"), r"^(?:re)?train[\w-]*[ \t]*:|\bdvc\s+repro\b")]
_PYPROJECT = [
    ("pytest-config", ("[tool.pytest",), r"^\[tool\.pytest\.ini_options\]"),
    ("coverage-config", ("coverage", "--cov"), r"^\[tool\.coverage\b|--cov\b"),
    ("linter-config", ("[tool.",), r"^\[tool\.(?:ruff|black|isort|mypy|pylint|flake8)\b"),
    ("dependencies-listed", ("dependencies",),
     r"^dependencies[ \t]*=|^\[tool\.poetry\.dependencies\]"),
]
_SETUPCFG = [
    ("pytest-config", ("[tool:pytest]",), r"^\[tool:pytest\]"),
    ("coverage-config", ("coverage", "--cov"), r"^\[coverage:|--cov\b"),
    ("linter-config", ("flake8", "mypy", "isort", "pylint"), r"^\[(?:flake8|mypy|isort|pylint)"),
    ("dependencies-listed", ("install_requires",), r"^install_requires\b"),
]
_TOX = [("pytest-config", ("[pytest]",), r"^\[pytest\]"),
        ("linter-config", ("[flake8]",), r"^\[flake8\]"),
        ("coverage-config", ("--cov",), r"--cov\b")]
_GITATTRIBUTES = [("git-lfs", ("lfs",), r"\bfilter=lfs\b")]
_GITCONFIG = [("git-remote", ("[remote",), r'^\s*\[remote\s+"[^"]*"\]')]
_DVCCONFIG = [("dvc-remote", ("remote",), r"""^\s*\[\s*['"]?remote\s[^\]\n]*\]""")]


@dataclass(frozen=True)
class _Patterns:
    rules: tuple  # (signal, frozenset of keywords, compiled regex)
    keywords: tuple  # every keyword once, each tested once per file

    @classmethod
    def build(cls, triples: list) -> "_Patterns":
        rules = tuple((sig, frozenset(kws), re.compile(rx, re.M)) for sig, kws, rx in triples)
        keywords = tuple(sorted({k for _, kws, _ in triples for k in kws}))
        return cls(rules, keywords)

    @property
    def signals(self) -> set:
        return {sig for sig, _, _ in self.rules}


def _quoted(triples: list, quote: str) -> list:
    return [(sig, kws, rx.replace("{Q}", quote)) for sig, kws, rx in triples]


NOTEBOOK = _Patterns.build(_quoted(_PY, '"?'))
PY, TEST, CI, YAML_K8S, DOCKER, MAKE, PYPROJECT, SETUPCFG, TOX, GITATTRIBUTES, GITCONFIG, \
    DVCCONFIG = (_Patterns.build(_quoted(p, "")) for p in (
        _PY, _TEST, _CI, _YAML, _DOCKER, _MAKE, _PYPROJECT, _SETUPCFG, _TOX, _GITATTRIBUTES,
        _GITCONFIG, _DVCCONFIG))
_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?\s*===?\s*[A-Za-z0-9][\w.+!-]*"
                  r"\s*(?:;.*)?$")

_CONDA = [("conda-environment", "conda environment"),
          ("dependencies-listed", "conda environment")]
#: Files recognised by their exact (lower-case) name alone: name -> [(signal, detail)].
_BY_NAME = {
    "poetry.lock": [("lockfile", "Poetry lock file")],
    "uv.lock": [("lockfile", "uv lock file")],
    "pipfile.lock": [("lockfile", "Pipenv lock file")],
    "pdm.lock": [("lockfile", "PDM lock file")],
    "pixi.lock": [("lockfile", "pixi lock file")],
    "conda-lock.yml": [("lockfile", "conda-lock file")],
    "pipfile": [("dependencies-listed", "Pipfile")],
    "setup.py": [("dependencies-listed", "setup.py (read as text, never run)")],
    "environment.yml": _CONDA, "environment.yaml": _CONDA, "conda.yaml": _CONDA,
    "dvc.yaml": [("dvc-pipeline", "DVC pipeline stages")],
    "dvc.lock": [("dvc-lock", "DVC lock file"), ("dvc-data", "outputs hashed in dvc.lock")],
    "params.yaml": [("run-params", "parameters file")],
    "metrics.json": [("run-metrics", "metrics file")],
    "mlproject": [("train-command", "MLflow project entry points")],
    "mlmodel": [("model-packaging", "MLflow model")],
    "bentofile.yaml": [("model-packaging", "BentoML build file"),
                       ("serving-app", "BentoML build file")],
    "feature_store.yaml": [("feature-store", "Feast feature store")],
    "chart.yaml": [("kubernetes", "Helm chart")],
    "pulumi.yaml": [("iac", "Pulumi project")],
    "cdk.json": [("iac", "AWS CDK app")],
    "alertmanager.yml": [("alert-rules", "Alertmanager configuration")],
    "train.py": [("train-command", "training script")],
    "train_model.py": [("train-command", "training script")],
    "locustfile.py": [("load-tests", "Locust load test")],
    "conftest.py": [("pytest-config", "pytest conftest (read as text, never run)")],
    "pytest.ini": [("pytest-config", "pytest.ini")],
    ".coveragerc": [("coverage-config", ".coveragerc")],
    "codecov.yml": [("coverage-config", "Codecov configuration")],
    ".codecov.yml": [("coverage-config", "Codecov configuration")],
    "coverage.xml": [("coverage-config", "coverage report")],
    "ruff.toml": [("linter-config", "ruff")], ".ruff.toml": [("linter-config", "ruff")],
    ".flake8": [("linter-config", "flake8")], ".pylintrc": [("linter-config", "pylint")],
    "pylintrc": [("linter-config", "pylint")], "mypy.ini": [("linter-config", "mypy")],
    ".mypy.ini": [("linter-config", "mypy")], ".isort.cfg": [("linter-config", "isort")],
    ".pre-commit-config.yaml": [("pre-commit", "pre-commit hooks")],
    ".pre-commit-config.yml": [("pre-commit", "pre-commit hooks")],
    "renovate.json": [("dependency-updates", "Renovate")],
    ".renovaterc": [("dependency-updates", "Renovate")],
    ".renovaterc.json": [("dependency-updates", "Renovate")],
    "mkdocs.yml": [("docs", "MkDocs site")],
    ".readthedocs.yaml": [("docs", "Read the Docs configuration")],
    ".readthedocs.yml": [("docs", "Read the Docs configuration")],
    "_toc.yml": [("docs", "Jupyter Book table of contents")],
    "dockerfile": [("dockerfile", None)], "containerfile": [("dockerfile", None)],
}
_CI_NAMES = {".gitlab-ci.yml": "GitLab CI", "azure-pipelines.yml": "Azure Pipelines",
             "bitbucket-pipelines.yml": "Bitbucket Pipelines", ".travis.yml": "Travis CI",
             "jenkinsfile": "Jenkins"}
#: Lower-case name prefixes of documentation files that are signals wherever they are.
_DOC_PREFIXES = {
    "model_card": "model-card", "model-card": "model-card", "modelcard": "model-card",
    "data_card": "data-card", "data-card": "data-card", "datacard": "data-card",
    "datasheet": "data-card", "contributing": "contributing",
    "pull_request_template": "pr-template", "openapi.": "api-schema", "swagger.": "api-schema",
}
_DOC_PREFIX_TUPLE = tuple(_DOC_PREFIXES)
_CHANGELOG_NAMES = frozenset({"changelog", "changes", "history", "release_notes", "release-notes",
                              "releasenotes", "news"})
_TEXT_EXTS = ("", "md", "rst", "txt", "markdown", "adoc")

# Configuration files whose text is searched with their own patterns, by exact name.
_PATTERNS_BY_NAME = {
    "pyproject.toml": PYPROJECT,
    "setup.cfg": SETUPCFG,
    "tox.ini": TOX,
    ".gitattributes": GITATTRIBUTES,
}


# ------------------------------------------------------------------------------ the result

@dataclass
class ScanResult:
    """What :func:`scan` found. ``hits[signal] = {"count": n, "evidence": [...]}``."""

    root: str
    hits: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def found(self, signal: str) -> bool:
        """True when the signal was seen at least once."""
        return signal in self.hits

    def evidence(self, signal: str) -> list:
        """The places recorded for a signal (at most :data:`MAX_EVIDENCE`)."""
        return list(self.hits.get(signal, {}).get("evidence", []))

    def count(self, signal: str) -> int:
        """How many times the signal was seen (files, or tags for ``git-tag``)."""
        return self.hits.get(signal, {}).get("count", 0)


def _safe_name(text: str) -> str:
    """A path that may hold undecodable bytes, as printable text."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class _Scanner:
    def __init__(self, root: str, progress: Callable[[int], None] | None, every: int,
                 read_limit: int):
        self.root = root
        self.root_real = os.path.realpath(root)
        self.progress = progress
        self.every = max(1, int(every))
        self.read_limit = int(read_limit)
        self.result = ScanResult(root=root)
        self.stats = {"files": 0, "folders": 0, "files_read": 0, "bytes_read": 0,
                      "truncated": 0, "skipped_folders": 0, "links_not_followed": 0,
                      "special_files": 0, "problems_not_listed": 0}
        self.result.stats = self.stats

    # ---------------------------------------------------------------- recording

    def hit(self, signal: str, path: str, line: int | None = None, detail: str | None = None,
            count: int = 1) -> None:
        entry = self.result.hits.get(signal)
        if entry is None:
            entry = self.result.hits[signal] = {"count": 0, "evidence": []}
        entry["count"] += count
        if len(entry["evidence"]) < MAX_EVIDENCE:
            ev = {"signal": signal, "path": path}
            if line is not None:
                ev["line"] = line
            if detail:
                ev["detail"] = detail
            entry["evidence"].append(ev)

    def problem(self, path: str, text: str) -> None:
        if len(self.result.problems) < MAX_PROBLEMS:
            self.result.problems.append({"path": path, "problem": text})
        else:
            self.stats["problems_not_listed"] += 1

    # ---------------------------------------------------------------- reading

    def read(self, abspath: str, relpath: str) -> str | None:
        """At most ``read_limit`` bytes of a regular file as text; None (and a problem) if not."""
        try:
            fd = os.open(abspath, _O_READ)
        except OSError as exc:
            self.problem(relpath, f"cannot read: {exc.strerror or exc}")
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            chunks, size = [], 0
            want = min(info.st_size, self.read_limit)  # no extra read to find the end
            while size < want:
                chunk = os.read(fd, want - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as exc:
            self.problem(relpath, f"cannot read: {exc.strerror or exc}")
            return None
        finally:
            os.close(fd)
        self.stats["files_read"] += 1
        self.stats["bytes_read"] += size
        if info.st_size > size:
            self.stats["truncated"] += 1
        return b"".join(chunks).decode("utf-8", errors="replace")

    def search(self, abspath: str, relpath: str, patterns: _Patterns) -> str | None:
        """Read a file and record the first match of each signal in ``patterns``."""
        text = self.read(abspath, relpath)
        if text is None:
            return None
        present = {k for k in patterns.keywords if k in text}
        if not present:
            return text
        for signal, keywords, regex in patterns.rules:
            if keywords.isdisjoint(present):
                continue
            m = regex.search(text)
            if m is not None:
                line = text.count("\n", 0, m.start()) + 1
                detail = " ".join(m.group(0).split())[:80].strip('"')
                self.hit(signal, relpath, line, detail)
        return text

    # ---------------------------------------------------------------- the walk

    def run(self) -> ScanResult:
        start = time.perf_counter()
        stack = [("", self.root)]
        while stack:
            reldir, absdir = stack.pop()
            try:
                with os.scandir(absdir) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.problem(reldir or ".", f"cannot list folder: {exc.strerror or exc}")
                continue
            if reldir and any(e.name in VENV_MARKERS for e in entries):
                self.stats["skipped_folders"] += 1
                continue
            self.stats["folders"] += 1
            subdirs = []
            for e in entries:
                name = e.name
                if not name.isascii():
                    try:
                        name.encode("utf-8")
                    except UnicodeEncodeError:
                        where = _safe_name(f"{reldir}/{name}" if reldir else name)
                        self.problem(where, "name is not valid UTF-8; skipped")
                        continue
                relpath = f"{reldir}/{name}" if reldir else name
                try:
                    if e.is_symlink():
                        self._link(e, name, reldir, relpath)
                    elif e.is_dir(follow_symlinks=False):
                        if self._enter(e, name, reldir, relpath):
                            subdirs.append((relpath, e.path))
                    elif e.is_file(follow_symlinks=False):
                        self._count_file()
                        self._file(name, reldir, relpath, e.path)
                    else:
                        self.stats["special_files"] += 1  # FIFO, socket, device: never opened
                except OSError as exc:
                    self.problem(relpath, f"cannot inspect: {exc.strerror or exc}")
            stack.extend(reversed(subdirs))
        self.stats["seconds"] = round(time.perf_counter() - start, 3)
        if self.progress is not None:
            self.progress(self.stats["files"])
        return self.result

    def _count_file(self) -> None:
        n = self.stats["files"] = self.stats["files"] + 1
        if self.progress is not None and n % self.every == 0:
            self.progress(n)

    def _link(self, e, name: str, reldir: str, relpath: str) -> None:
        target = os.path.realpath(e.path)
        if not _inside(target, self.root_real):
            self.stats["links_not_followed"] += 1  # points out of the folder: never read
            return
        try:
            info = os.stat(target)
        except OSError:
            self.stats["links_not_followed"] += 1  # dangling link or link loop
            return
        if stat.S_ISREG(info.st_mode):
            self._count_file()
            self._file(name, reldir, relpath, target)
        else:
            self.stats["links_not_followed"] += 1  # links to folders are never followed

    def _enter(self, e, name: str, reldir: str, relpath: str) -> bool:
        """Handle a folder by name; return True when the walk should go into it."""
        lname = name.lower()
        if lname == ".git":
            if not reldir:
                self._git(e.path)
            return False
        if lname == ".dvc":
            self._dvc(e.path, relpath)
            return False
        if lname == "mlruns":
            self.hit("experiment-tracking", relpath, detail="local MLflow runs folder")
            return False
        if lname in SKIP_DIRS or lname.endswith(".egg-info"):
            self.stats["skipped_folders"] += 1
            return False
        if not reldir and lname in ("docs", "doc"):
            self.hit("docs", relpath, detail="documentation folder")
        elif lname in ("integration", "e2e", "end_to_end") and "test" in reldir.lower():
            self.hit("integration-tests", relpath, detail="integration test folder")
        return True

    def _file(self, name: str, reldir: str, relpath: str, abspath: str) -> None:
        lname = name.lower()
        dot = lname.rfind(".")
        ext = lname[dot + 1:] if dot > 0 else ""
        if ext == "py":
            if lname.startswith("test_") or lname.endswith("_test.py"):
                self.hit("tests", relpath)
                if "integration" in lname or "e2e" in lname or "end_to_end" in lname:
                    self.hit("integration-tests", relpath, detail="integration test file")
                self.search(abspath, relpath, TEST)
                return
            for signal, detail in _BY_NAME.get(lname, ()):
                self.hit(signal, relpath, detail=detail)
            self.search(abspath, relpath, PY)
            return
        if ext == "ipynb":
            self.search(abspath, relpath, NOTEBOOK)
            return
        by_name = _BY_NAME.get(lname)
        if by_name:
            for signal, detail in by_name:
                if signal == "dockerfile":
                    self._dockerfile(abspath, relpath)
                else:
                    self.hit(signal, relpath, detail=detail)
            return
        if ext in ("yml", "yaml"):
            self._yaml(lname, reldir, relpath, abspath)
            return
        if lname in _CI_NAMES:
            self.hit("ci", relpath, detail=_CI_NAMES[lname])
            self.search(abspath, relpath, CI)
            return
        if ext == "dvc":
            self.hit("dvc-data", relpath, detail="data tracked by DVC")
            return
        if ext == "tf":
            self.hit("iac", relpath, detail="Terraform")
            return
        if ext == "dockerfile" or lname.startswith(("dockerfile.", "containerfile.")):
            self._dockerfile(abspath, relpath)
            return
        if lname in ("makefile", "gnumakefile", "justfile"):
            self.search(abspath, relpath, MAKE)
            return
        if ext == "txt" and (lname.startswith("requirements")
                             or reldir.lower().rsplit("/", 1)[-1] == "requirements"):
            self._requirements(abspath, relpath)
            return
        patterns = _PATTERNS_BY_NAME.get(lname)
        if patterns is not None:
            self.search(abspath, relpath, patterns)
            return
        if lname == "codeowners":
            if reldir.lower() in ("", ".github", "docs", ".gitlab"):
                self.hit("codeowners", relpath)
            return
        parent = reldir.lower()
        if parent.endswith(("pull_request_template", ".gitlab/merge_request_templates")):
            self.hit("pr-template", relpath)
            return
        if parent.endswith(("issue_template", ".gitlab/issue_templates")):
            self.hit("issue-template", relpath)
            return
        if lname.startswith(_DOC_PREFIX_TUPLE):
            for prefix, signal in _DOC_PREFIXES.items():
                if lname.startswith(prefix):
                    self.hit(signal, relpath)
                    break
            return
        stem = lname[:dot] if dot > 0 else lname
        if stem == "readme" and not reldir:
            self.hit("readme", relpath)
            return
        if stem in _CHANGELOG_NAMES and ext in _TEXT_EXTS and parent in ("", "docs"):
            self.hit("changelog", relpath)

    def _yaml(self, lname: str, reldir: str, relpath: str, abspath: str) -> None:
        parent = reldir.lower()
        if parent.endswith(".github/workflows") or parent == ".circleci" or lname in _CI_NAMES:
            self.hit("ci", relpath, detail=_CI_NAMES.get(lname, "GitHub Actions"
                     if parent.endswith("workflows") else "CircleCI"))
            self.search(abspath, relpath, CI)
        elif lname in ("dependabot.yml", "dependabot.yaml"):
            self.hit("dependency-updates", relpath, detail="Dependabot")
        elif lname.startswith(("docker-compose", "compose.")):
            self.hit("compose", relpath)
        elif lname.endswith(".conda-lock.yml"):
            self.hit("lockfile", relpath, detail="conda-lock file")
        elif lname.startswith(("openapi.", "swagger.")):
            self.hit("api-schema", relpath)
        elif parent.endswith(("issue_template", ".gitlab/issue_templates")):
            self.hit("issue-template", relpath)
        else:
            self.search(abspath, relpath, YAML_K8S)

    def _dockerfile(self, abspath: str, relpath: str) -> None:
        text = self.search(abspath, relpath, DOCKER)
        base = None
        if text:
            m = re.search(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)", text, re.M | re.I)
            base = f"FROM {m.group(1)}" if m else None
        self.hit("dockerfile", relpath, detail=base)

    def _requirements(self, abspath: str, relpath: str) -> None:
        text = self.read(abspath, relpath)
        if text is None:
            return
        total = pinned = 0
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", "-")):
                continue
            line = line.split(" #", 1)[0].rstrip("\\").strip()
            if not line:
                continue
            total += 1
            pinned += bool(_PIN.match(line))
        if total:
            self.hit("dependencies-listed", relpath,
                     detail=f"{total} requirement(s), {pinned} pinned with ==")
        if total and pinned == total:
            self.hit("pinned-requirements", relpath,
                     detail=f"all {total} requirement(s) pinned with ==")

    def _git(self, gitpath: str) -> None:
        if not os.path.isdir(gitpath):
            self.hit("git", ".git", detail="a .git file (worktree or submodule)")
            return
        self.hit("git", ".git", detail="Git repository")
        tags: set[str] = set()
        first_path = None
        stack = [(os.path.join(gitpath, "refs", "tags"), "")]
        while stack and len(tags) < 100_000:  # loose tags: small text files, names only
            folder, prefix = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    stack.append((e.path, f"{prefix}{e.name}/"))
                elif e.is_file(follow_symlinks=False):
                    tags.add(prefix + e.name)
                    first_path = first_path or f".git/refs/tags/{prefix}{e.name}"
        packed_path = os.path.join(gitpath, "packed-refs")
        if os.path.isfile(packed_path):
            text = self.read(packed_path, ".git/packed-refs") or ""
            for line in text.splitlines():
                if line[:1] not in ("#", "^") and " refs/tags/" in line:
                    tags.add(line.split(" refs/tags/", 1)[1].strip())
                    first_path = first_path or ".git/packed-refs"
        if tags:
            shown = sorted(tags)[:3]
            self.hit("git-tag", first_path, count=len(tags),
                     detail=f"{len(tags)} tag(s): {', '.join(shown)}"
                            + (", ..." if len(tags) > 3 else ""))
        config = os.path.join(gitpath, "config")
        if os.path.isfile(config):
            self.search(config, ".git/config", GITCONFIG)

    def _dvc(self, dvcpath: str, relpath: str) -> None:
        self.hit("dvc", relpath, detail="DVC project folder")
        config = os.path.join(dvcpath, "config")
        if os.path.isfile(config) and not os.path.islink(config):
            self.search(config, f"{relpath}/config", DVCCONFIG)


def scan(path: str | Path, progress: Callable[[int], None] | None = None, every: int = 2000,
         read_limit: int = READ_LIMIT) -> ScanResult:
    """Walk the folder ``path`` read-only and return the signals found (see the module docstring).

    ``progress(n_files)`` is called every ``every`` files and once at the end. A missing path or
    a path that is not a folder raises ``ValueError`` naming it.
    """
    text = os.fspath(path)
    if not os.path.exists(text):
        raise ValueError(f"{text}: no such folder")
    if not os.path.isdir(text):
        raise ValueError(f"{text}: is a file, not a folder; give the project folder")
    return _Scanner(text, progress, every, read_limit).run()


# ------------------------------------------------------------------------------ the mapping

#: Every signal the scanner can record (the signals file must describe exactly these).
SIGNALS = frozenset(
    set().union(*(p.signals for p in (PY, TEST, CI, YAML_K8S, DOCKER, MAKE, PYPROJECT, SETUPCFG,
                                      TOX, GITATTRIBUTES, GITCONFIG, DVCCONFIG)))
    | {s for pairs in _BY_NAME.values() for s, _ in pairs}
    | set(_DOC_PREFIXES.values())
    | {"git", "git-tag", "dvc", "dvc-data", "iac", "ci", "compose", "lockfile", "api-schema",
       "dependency-updates", "issue-template", "pr-template", "codeowners", "readme", "changelog",
       "tests", "integration-tests", "docs", "pinned-requirements", "dependencies-listed",
       "experiment-tracking", "dockerfile"}
)


def signal_map_path(rubric_id: str = "mle-maturity") -> Path:
    """Where the signal-to-level mapping of a rubric lives (``rubrics/<id>.signals.yaml``)."""
    return RUBRIC_DIR / f"{rubric_id}.signals.yaml"


def _check_rule(rule, signals: dict, where: str) -> None:
    if isinstance(rule, dict):
        if set(rule) != {"outside"} or not isinstance(rule["outside"], str):
            raise ValueError(f"{where}: must be a list of alternatives or {{outside: reason}}")
        return
    if not isinstance(rule, list) or not rule:
        raise ValueError(f"{where}: must be a non-empty list of alternatives")
    for i, alt in enumerate(rule):
        if not isinstance(alt, list) or not alt:
            raise ValueError(f"{where}[{i}]: an alternative must be a non-empty list of signals")
        for term in alt:
            for name in (term if isinstance(term, list) else [term]):
                if name not in signals:
                    raise ValueError(f"{where}[{i}]: unknown signal {name!r}")


@lru_cache(maxsize=None)
def _load_signal_map(path: str, rubric_id: str) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != "mlecourse-signals/1":
        raise ValueError(f"{path}: field 'schema' must be 'mlecourse-signals/1'")
    if data.get("rubric") != rubric_id:
        raise ValueError(f"{path}: field 'rubric' must be {rubric_id!r}")
    signals = data.get("signals")
    if not isinstance(signals, dict):
        raise ValueError(f"{path}: field 'signals' must be a mapping")
    for sid, spec in signals.items():
        if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str)
                                                 for k in ("name", "looks_for")):
            raise ValueError(f"{path}: field 'signals.{sid}' needs text 'name' and 'looks_for'")
    rubric = load_rubric(rubric_id)
    cells = data.get("cells")
    if not isinstance(cells, dict) or set(cells) != set(rubric.cells):
        missing = sorted(set(rubric.cells) - set(cells or {}))
        extra = sorted(set(cells or {}) - set(rubric.cells))
        raise ValueError(f"{path}: field 'cells' must have one entry per rubric cell "
                         f"(missing {missing}, unknown {extra})")
    for cid, spec in cells.items():
        if not isinstance(spec, dict):
            raise ValueError(f"{path}: field 'cells.{cid}' must be a mapping")
        for key in ("level_2", "level_3"):
            _check_rule(spec.get(key), signals, f"{path}: field 'cells.{cid}.{key}'")
        for name in spec.get("evidence") or []:
            if name not in signals:
                raise ValueError(f"{path}: field 'cells.{cid}.evidence' names unknown signal "
                                 f"{name!r}")
    return data


def load_signal_map(rubric_id: str = "mle-maturity") -> dict:
    """Load and check the signal-to-level mapping (``rubrics/<id>.signals.yaml``).

    Raises ValueError naming the file and field when a cell is missing, a rule is malformed or
    a rule names a signal that the file does not describe.
    """
    if rubric_id not in SUPPORTED_RUBRICS:
        raise ValueError(f"the repository scan supports only {', '.join(SUPPORTED_RUBRICS)}, "
                         f"not {rubric_id!r}")
    return _load_signal_map(str(signal_map_path(rubric_id)), rubric_id)


def _names(term) -> list:
    return term if isinstance(term, list) else [term]


def rule_text(rule) -> str:
    """A rule as text: ``git + git-tag``, ``a + (b or c)``; alternatives joined by ``or``."""
    if isinstance(rule, dict):
        return f"not in the repository: {rule['outside']}"

    def term_text(term):
        return term if isinstance(term, str) else "(" + " or ".join(term) + ")"

    parts = [" + ".join(term_text(t) for t in alt) for alt in rule]
    return " or ".join(f"[{p}]" if len(rule) > 1 and " + " in p else p for p in parts)


def rule_signals(rule) -> list:
    """Signals a rule names, in order, without repeats."""
    if isinstance(rule, dict):
        return []
    out = []
    for alt in rule:
        for term in alt:
            for name in _names(term):
                if name not in out:
                    out.append(name)
    return out


def evaluate_rule(rule, found: Callable[[str], bool]) -> tuple[bool, list]:
    """``(holds, missing)``: does some alternative hold; else the closest one's missing terms."""
    if isinstance(rule, dict):
        return False, []
    best = None
    for alt in rule:
        missing = [t for t in alt if not any(found(n) for n in _names(t))]
        if not missing:
            return True, []
        if best is None or len(missing) < len(best):
            best = missing
    return False, best or []


def found_in_rule(rule, found: Callable[[str], bool]) -> list:
    """The found signals of the first alternative that holds (empty when none holds)."""
    if isinstance(rule, dict):
        return []
    for alt in rule:
        names = [[n for n in _names(t) if found(n)] for t in alt]
        if all(names):
            return [n for group in names for n in group]
    return []


def cell_signals(spec: dict) -> list:
    """Every signal a cell's mapping names (level 2, level 3, then extra evidence)."""
    out = []
    for name in (rule_signals(spec.get("level_2")) + rule_signals(spec.get("level_3"))
                 + list(spec.get("evidence") or [])):
        if name not in out:
            out.append(name)
    return out


def suggest_cell(spec: dict, found: Callable[[str], bool], outside_text: str = OUTSIDE):
    """``(level, note)`` for one cell from its mapping and the signals found."""
    def names(missing):
        return ", ".join(t if isinstance(t, str) else " or ".join(t) for t in missing)

    level, parts = 1, []
    for target in (2, 3):  # level 3 counts only once level 2 holds
        rule = spec.get(f"level_{target}")
        if isinstance(rule, dict):
            label = "Level 2 and above" if target == 2 else "Level 3"
            parts.append(f"{label}: {outside_text} ({rule['outside']}).")
            break
        ok, missing = evaluate_rule(rule, found)
        if not ok:
            parts.append(f"Level {target} needs {rule_text(rule)}; not found: {names(missing)}.")
            break
        level = target
        parts.append(f"Level {target}: found {', '.join(found_in_rule(rule, found))}.")
    if spec.get("note"):
        parts.append(spec["note"].strip())
    return level, f"Suggested by a scan of the repository: level {level}. " + " ".join(parts)


def suggest(result: ScanResult, rubric: Rubric | str = "mle-maturity", created=None) -> dict:
    """Turn a :class:`ScanResult` into an assessment: levels, evidence, notes, all prefilled."""
    rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    mapping = load_signal_map(rubric.id)
    outside_text = mapping.get("outside_text", OUTSIDE)
    from mlecourse.scorecard.assessment import new_assessment

    answers, notes, evidence = {}, {}, {}
    for cid in rubric.cells:
        spec = mapping["cells"][cid]
        level, note = suggest_cell(spec, result.found, outside_text)
        answers[cid] = level
        notes[cid] = note
        items = [dict(ev) for name in cell_signals(spec) for ev in result.evidence(name)]
        if items:
            evidence[cid] = items
    return new_assessment(rubric, answers, notes, evidence, prefilled=list(rubric.cells),
                          created=created)


def assess(path: str | Path, rubric: Rubric | str = "mle-maturity",
           progress: Callable[[int], None] | None = None, created=None) -> dict:
    """Scan ``path`` read-only and return the suggested assessment (interchange format)."""
    rubric_id = rubric.id if isinstance(rubric, Rubric) else str(rubric)
    load_signal_map(rubric_id)  # refuse an unsupported rubric before scanning
    return suggest(scan(path, progress=progress), rubric, created=created)


def signal_table(rubric: Rubric | str = "mle-maturity") -> list[dict]:
    """One row per cell: what suggests level 2 and level 3, and further evidence (for the book)."""
    rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    mapping = load_signal_map(rubric.id)
    names = {g.id: g.name for g in rubric.groups}
    items = {it.id: it.name for it in rubric.items}
    rows = []
    for cid, cell in rubric.cells.items():
        spec = mapping["cells"][cid]
        rows.append({
            "Principle": names[cell.group], "Aspect": items[cell.item],
            "Level 2 when": rule_text(spec["level_2"]),
            "Level 3 when (and level 2)": rule_text(spec["level_3"]),
            "Also shown as evidence": ", ".join(spec.get("evidence") or []),
        })
    return rows


# ------------------------------------------------------------------------------ reports

def _evidence_summary(items: list, limit: int = 3) -> str:
    by_signal: dict[str, dict] = {}
    for ev in items:
        by_signal.setdefault(ev["signal"], ev)
    parts = []
    for signal, ev in list(by_signal.items())[:limit]:
        where = ev.get("path", "")
        if ev.get("line"):
            where += f":{ev['line']}"
        parts.append(f"{signal} ({where})")
    if len(by_signal) > limit:
        parts.append(f"+{len(by_signal) - limit} more")
    return ", ".join(parts)


def _outside_cells(rubric_id: str) -> set:
    mapping = load_signal_map(rubric_id)
    return {cid for cid, spec in mapping["cells"].items() if isinstance(spec["level_2"], dict)}


def format_text(assessment: dict, result: ScanResult | None = None) -> str:
    """A readable table (principle x aspect, level, evidence summary) with scores and problems."""
    from mlecourse.scorecard.scoring import score

    rubric = load_rubric(assessment["rubric"]["id"])
    outside = _outside_cells(rubric.id)
    names = {g.id: g.name for g in rubric.groups}
    items = {it.id: it.name for it in rubric.items}
    pw = max(len("Principle"), *(len(n) for n in names.values()))
    aw = max(len("Aspect"), *(len(n) for n in items.values()))
    lines = []
    if result is not None:
        s = result.stats
        lines += [f"Evidence from {result.root} ({s['files']:,} files, {s['files_read']:,} read, "
                  f"{s['seconds']:.2f} s)", ""]
    lines.append(f"{'Principle':<{pw}}  {'Aspect':<{aw}}  Level  Evidence")
    for cid, cell in rubric.cells.items():
        level = assessment["answers"][cid]
        mark = "*" if cid in outside else " "
        ev = _evidence_summary(assessment["evidence"].get(cid, [])) or "-"
        lines.append(f"{names[cell.group]:<{pw}}  {items[cell.item]:<{aw}}  {level}{mark:<4}  {ev}")
    res = score(rubric, assessment["answers"])
    lines += ["", f"* {OUTSIDE}.",
              f"Suggested overall: {res.display['overall']}, weakest principle "
              f"{res.display['weakest']} (every answer is a suggestion; "
              f"change what is wrong). Why each level: --format markdown or json (notes)."]
    if result is not None:
        lines += _problem_lines(result)
    return "\n".join(lines)


def _problem_lines(result: ScanResult) -> list:
    s = result.stats
    lines = []
    skipped = [f"{s['skipped_folders']} folder(s) skipped (virtual environments, caches, "
               f"node_modules)" if s["skipped_folders"] else "",
               f"{s['links_not_followed']} symbolic link(s) not followed"
               if s["links_not_followed"] else "",
               f"{s['truncated']} large file(s) read only in part" if s["truncated"] else ""]
    skipped = [x for x in skipped if x]
    if skipped:
        lines.append("Skipped: " + "; ".join(skipped) + ".")
    if result.problems:
        extra = s.get("problems_not_listed", 0)
        lines.append(f"Problems ({len(result.problems) + extra}):")
        lines += [f"  {p['path']}: {p['problem']}" for p in result.problems]
        if extra:
            lines.append(f"  ... and {extra} more")
    return lines


def _md(text: str) -> str:
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace(">", "&gt;").replace("`", "'"))


def format_markdown(assessment: dict, result: ScanResult | None = None) -> str:
    """A Markdown report for a pull-request comment or a README (table plus the reasons)."""
    from mlecourse.scorecard.scoring import score

    rubric = load_rubric(assessment["rubric"]["id"])
    outside = _outside_cells(rubric.id)
    names = {g.id: g.name for g in rubric.groups}
    items = {it.id: it.name for it in rubric.items}
    res = score(rubric, assessment["answers"])
    title = Path(result.root).resolve().name if result is not None else "the repository"
    lines = [f"### {rubric.title}: evidence from `{_md(title)}`", "",
             f"Suggested overall **{res.display['overall']}**, weakest principle "
             f"**{res.display['weakest']}**. These are suggestions from a "
             f"read-only scan; cells marked * need your own answer ({OUTSIDE}).", "",
             "| Principle | Aspect | Level | Evidence |", "|---|---|:-:|---|"]
    for cid, cell in rubric.cells.items():
        by_signal: dict[str, list] = {}
        for e in assessment["evidence"].get(cid, []):
            by_signal.setdefault(e["signal"], []).append(e)
        shown = []
        for signal, places in by_signal.items():  # the first place of each signal
            e = places[0]
            where = e.get("path", "") + (f":{e['line']}" if e.get("line") else "")
            more = f" (+{len(places) - 1})" if len(places) > 1 else ""
            shown.append(f"`{_md(signal)}` {_md(where)}{more}")
        mark = " *" if cid in outside else ""
        lines.append(f"| {_md(names[cell.group])} | {_md(items[cell.item])} | "
                     f"{assessment['answers'][cid]}{mark} | {'<br>'.join(shown) or '–'} |")
    lines += ["", "<details><summary>Why these levels</summary>", ""]
    for cid, cell in rubric.cells.items():
        lines.append(f"- **{_md(names[cell.group])}, {_md(items[cell.item])}**: "
                     f"{_md(assessment['notes'].get(cid, ''))}")
    lines += ["", "</details>"]
    if result is not None:
        extra = _problem_lines(result)
        if extra:
            lines += [""] + [_md(x) if not x.startswith("  ") else f"- {_md(x.strip())}"
                             for x in extra]
    return "\n".join(lines)
