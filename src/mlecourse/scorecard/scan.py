"""Read-only scan of a project folder for evidence of MLE maturity (``mlecourse assess PATH``).

:func:`scan` walks a folder and records *signals* (a Git tag, a CI job that runs pytest, a DVC
remote, a call to ``mlflow.register_model`` ...), each with the places that show it (path
relative to the root, line where useful, detail) and the *project* it belongs to. A project is
a folder with its own ``pyproject.toml``, ``setup.cfg``, ``requirements.txt``,
``environment.yml``, ``dvc.yaml`` ... (see :data:`PROJECT_MARKERS`; a saved MLflow model, whose
``MLmodel`` sits beside the environment files MLflow wrote for it, is not one); the root folder
is the repository-wide layer (root CI, ``.git``, root files) shared by every project.
:func:`suggest` turns the signals into a suggested level per cell of the ``mle-maturity``
rubric with the mapping written down as data in ``rubrics/mle-maturity.signals.yaml``; a rule
that needs several signals holds only when they all come from one project (or the shared
layer).

Code is matched by parsing, not by text: Python files and the code cells of notebooks with
:mod:`ast` (comments, docstrings, strings and default arguments never count; outputs of
notebooks are ignored; a file that does not parse as a whole still shows its import lines), CI
files with a YAML parser (only the commands a step runs count, never its name; ``pip install
pytest`` is not running pytest), following up to two hops through ``make``, ``just``, ``tox``,
``pixi run``, ``hatch run``, a job spec YAML (``anyscale jobs submit job.yaml``) or a
repository script. CloudFormation/SAM templates (CodePipeline stages, traffic shifting,
CloudWatch alarms, SageMaker resources) and Kedro configuration (data catalog, parameters) are
parsed as YAML too. A tracker used inside a callback/logger class of a library is an
integration the library offers, not the library tracking its own runs.

Safety promises (tested in ``tests/test_scan.py``):

* nothing from the folder is executed, imported or installed: files are only opened for reading,
  parsed (``ast.parse`` builds a tree and runs nothing; YAML with the safe loader) or searched;
* only regular files inside the folder are read (``O_NOFOLLOW``, ``fstat`` checks); symbolic
  links to folders are never followed, also inside ``.git``; a link to a file is read only when
  its resolved target lies inside the root. The one pointer followed out of the folder is the
  root's own ``.git`` *file* (a worktree or submodule checkout), and only when it names a real
  Git folder; there only tag names, ``packed-refs`` and ``config`` are read;
* the walk is iterative and never holds a folder's listing (memory stays flat with huge folders);
* Git objects are skipped; so are virtual environments, ``node_modules``, caches and the
  contents of Git submodules (their CI never runs for the parent; they are counted and named);
* at most :data:`READ_LIMIT` bytes of a file are read (:data:`NOTEBOOK_READ_LIMIT` for
  notebooks, whose outputs may be large), and only files that are candidates by name are read;
* unreadable files and names that are not valid UTF-8 are listed in ``problems``, never fatal.
"""

from __future__ import annotations

import ast
import json
import os
import re
import stat
import textwrap
import time
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml

from mlecourse.scorecard.rubric import RUBRIC_DIR, Rubric, load_rubric

READ_LIMIT = 256 * 1024  #: bytes read at most from one file
NOTEBOOK_READ_LIMIT = 16 * 1024 * 1024  #: notebooks: outputs can be large, code cells come after
MAX_EVIDENCE = 5  #: places kept per signal and project
#: A long requirements file is pinned when this share of it is (a docs or notebook tool left
#: open beside 30 pinned packages does not unpin the environment).
PINNED_SHARE = 0.85
MAX_PROBLEMS = 100  #: problems kept (the rest are counted)
SUPPORTED_RUBRICS = ("mle-maturity",)
OUTSIDE = "no evidence in the repository — answer it yourself"
SHARED = ""  #: the project key of the repository-wide layer (the root folder)

#: Folder names never entered (lower case); folders ending in ``.egg-info`` are skipped too.
SKIP_DIRS = frozenset({
    "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", ".hypothesis", ".ipynb_checkpoints", ".jupyter_cache",
    "_build", ".eggs", "site-packages", ".terraform", ".cache", ".idea", ".gradle",
    ".next", ".parcel-cache", ".dvc_cache", ".pixi",
})
#: A folder holding one of these is a virtual environment and is skipped.
VENV_MARKERS = ("pyvenv.cfg", "conda-meta")
#: A folder holding one of these files is a project root of its own.
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt",
                   "environment.yml", "environment.yaml", "dvc.yaml", "Pipfile", "pixi.toml",
                   "MLproject", "conda.yaml", "requirements-dev.txt", "uv.lock", "poetry.lock")

_O_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

# ------------------------------------------------------------------------------ Python code

#: Imported top-level modules (or ``package.module``) -> signal. Imports in test files count only
#: for the signals in :data:`_TEST_OK`; a project importing itself never counts.
_IMPORTS = {}
for _sig, _mods in {
    "experiment-tracking": ("mlflow", "wandb", "neptune", "comet_ml", "clearml", "dvclive", "aim",
                            "ml_metadata", "smexperiments", "sagemaker.experiments",
                            "azureml.core.Run", "azureml.core.run"),
    "serving-app": ("fastapi", "flask", "bentoml", "seldon_core", "kserve", "litserve",
                    "ray.serve", "torchserve", "gradio", "streamlit"),
    "metrics-export": ("prometheus_client", "prometheus_fastapi_instrumentator",
                       "opentelemetry", "statsd"),
    "drift-library": ("evidently", "alibi_detect", "nannyml", "whylogs"),
    "data-validation": ("pandera", "great_expectations", "tensorflow_data_validation",
                        "deepchecks", "soda"),
    "feature-store": ("feast", "hopsworks", "tecton"),
    "fairness-checks": ("fairlearn", "aif360", "fairness_indicators"),
    "load-tests": ("locust",),
    "pipeline": ("zenml", "kedro", "metaflow", "prefect", "airflow", "tfx", "kfp", "dagster",
                 "dagster_cloud",
                 "flytekit", "sagemaker.workflow", "luigi", "stepfunctions",
                 "azureml.pipeline", "azure.ai.ml.dsl"),
    "evaluation": ("sklearn.metrics", "torchmetrics", "tensorflow_model_analysis", "evaluate"),
}.items():
    for _m in _mods:
        _IMPORTS[_m] = _sig
#: Serving frameworks made for models (a Flask or FastAPI app may serve anything).
_MODEL_SERVERS = frozenset({"bentoml", "seldon_core", "kserve", "litserve", "torchserve"})
#: Top-level modules of experiment trackers (a bare ``log_metric(...)`` must come from one).
_TRACKERS = frozenset({"mlflow", "wandb", "neptune", "comet_ml", "clearml", "dvclive", "aim"})
_TEST_OK = frozenset({"data-validation", "fairness-checks", "load-tests", "evaluation"})

#: Called function or method name (last part of the dotted name) -> signal.
_CALLS = {
    "register_model": "model-registry", "create_model_version": "model-registry",
    "create_registered_model": "model-registry", "link_model": "model-registry",
    "RegisterModel": "model-registry", "ModelPackage": "model-registry",
    "init_model_version": "model-registry",  # Neptune model registry
    "set_registered_model_alias": "registry-alias",
    "transition_model_version_stage": "registry-alias",
    "log_params": "run-params", "log_param": "run-params",
    "log_metrics": "run-metrics", "log_metric": "run-metrics",
    "FastAPI": "serving-app", "Flask": "serving-app",
    "SchemaGen": "data-validation", "ExampleValidator": "data-validation",
    "validate_statistics": "data-validation",
    "Evaluator": "model-gate", "ConditionStep": "model-gate", "MetricThreshold": "model-gate",
    "GenericValueThreshold": "model-gate",
    "ModelDeploymentMonitoringJob": "drift-monitor", "DefaultModelMonitor": "drift-monitor",
    "ModelQualityMonitor": "drift-monitor", "DataDriftDetector": "drift-monitor",
    "create_monitoring_schedule": "drift-monitor",
    # Databricks Lakehouse Monitoring: the platform profiles the table and computes drift
    "MonitorInferenceLog": "drift-monitor", "MonitorTimeSeries": "drift-monitor",
    # a Delta table (Databricks' default table format) keeps every write as a table version
    "saveAsTable": "data-versioned", "write_deltalake": "data-versioned",
    "read_csv": "data-loading", "read_parquet": "data-loading", "read_sql": "data-loading",
    "read_gbq": "data-loading", "load_dataset": "data-loading", "fetch_openml": "data-loading",
    "read_table": "data-loading", "make_csv_dataset": "data-loading",
    "image_dataset_from_directory": "data-loading", "ImageFolder": "data-loading",
    "Pusher": "model-packaging",
    "dump": "model-saved", "save_model": "model-saved", "save_pretrained": "model-saved",
    "load_model": "model-load", "from_pretrained": "model-load", "InferenceSession": "model-load",
    "load_learner": "model-load",
    "invoke_endpoint": "model-load",  # predictions from a deployed model endpoint (SageMaker)
    "manual_seed": "seeds-set", "set_seed": "seeds-set", "set_random_seed": "seeds-set",
    "seed_everything": "seeds-set",
    "set_stage": "registry-alias",  # ZenML model stages (staging, production)
    "suggest_baseline": "data-validation",  # SageMaker Model Monitor baseline constraints
    "run_checkpoint": "data-validation",  # Great Expectations checkpoint run
    "RunGreatExpectationsValidation": "data-validation",  # Prefect's GE task
}
#: Calls recognised by their dotted name (the end of it): suffix -> signal.
_DOTTED_CALLS = {
    "torch.save": "model-saved", "mlflow.autolog": "experiment-tracking",
    "wandb.init": "experiment-tracking", "mlflow.set_experiment": "experiment-tracking",
    "wandb.log": "run-metrics", "Model.upload": "model-registry",
    "Run.get_context": "experiment-tracking",  # Azure ML run of the current job
    "models.create_or_update": "model-registry", "dsl.Condition": "model-gate",
    "saved_model.save": "model-packaging",
    # a model read back for predictions (json.load or yaml.load read no model)
    "joblib.load": "model-load", "pickle.load": "model-load", "torch.load": "model-load",
    "onnx.load": "model-load", "dill.load": "model-load", "cloudpickle.load": "model-load",
    "saved_model.load": "model-load",
}
#: Calls that promote a model (a gate that decides with them is a quality gate).
_STOP_CALLS = frozenset({"cancel", "fail"})  #: run.parent.cancel(): the pipeline run stops
_PROMOTE_CALLS = frozenset({"set_stage", "transition_model_version_stage",
                            "set_registered_model_alias", "promote", "promote_model"})
#: Class bases (or names) of an integration a library offers: a tracker used inside such a class
#: is the library's feature for its users, not the project tracking its own experiments.
_INTEGRATION_CLASS = re.compile(r"(?:Callback|Logger|Hook|Integration|Tracker|Writer|Plugin)$")
_TRACKING = frozenset({"experiment-tracking", "run-metrics", "run-params", "model-registry"})
_SAVE_OWNERS = ("joblib", "pickle", "dill", "cloudpickle", "torch")
_TEST_WORDS = re.compile(r"reproduc|determinis|same_(?:model|result|prediction)", re.I)
#: Before a file is parsed at all (keeps the scan fast), it must import one of these top-level
#: modules or contain one of the keywords below. The keywords are computed from the tables the
#: parser matches with (plus the literal names of its few special rules, listed once here), so
#: a new call in a table is always a keyword too.
_IMPORT_TOPS = frozenset({m.split(".")[0] for m in _IMPORTS} | {"ray", "zenml"})
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_][\w]*)", re.M)
_HEALTH = frozenset({"/health", "/healthz", "/ready", "/readyz", "/livez", "/ping", "/live"})
_GATE_WORDS = re.compile(r"threshold|baseline|champion|production|prod_|current_(?:model|metric|"
                         r"score|version)|best_model|min_(?:accuracy|auc|f1|score)|"
                         r"(?:^|_)old(?:_|$)|latest|registered", re.I)
_SPECIAL_KEYWORDS = (
    "random_state", "seed", "default_rng", "log_model", "save_model", "autolog", "start_run",
    "target_path", "response_model", "models:/", "service", "deployment",  # bentoml/ray serve
    "threshold", "Threshold", "baseline", "champion", "production", "prod_", "current_",
    "best_model", "min_", "promot",  # gates: if <metric> < <threshold>: raise / promote
    "hydra.main", "FlowSpec", ".deploy(", "event, context",  # see _flow_signals
    "get_context", "model_name", "model_path", "create_new_version", "input_schema",  # Azure ML
    "enable_app_insights", "FeatureView",
    "TestSuite", "Preset", "RecList",  # Evidently test suites and presets, RecList
    ".fit(", "def predict", "get_online_features", "Transform(", "get_artifact", "load_artifact",
    "download=True", "push_to_hub", "__main__", "command", "create_experiment", "create_trial",
    "monitor", "Wandb", "MLFlowLogger", "MLflow", "CometLogger", "CometCallback", "Neptune",
    "Checkpoint", "SaveModelCallback", "metrics",
)


_SEED_FIELD = re.compile(r"(?:random_)?seed|random_state", re.I)


def _seed_fields(node: ast.ClassDef) -> list:
    """``[(name, value)]``: class fields that fix a seed (``random_state: int = 42``).

    A field of a configuration class (dataclass, pydantic model) is the value the project
    passes on, unlike a function's default argument, which a caller may replace."""
    out = []
    for stmt in node.body:
        target = stmt.target if isinstance(stmt, ast.AnnAssign) else \
            stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
        if isinstance(target, ast.Name) and _SEED_FIELD.fullmatch(target.id) \
                and stmt.value is not None and _int_const(stmt.value):
            out.append((target.id, stmt.value))
    return out


def _minimal_keywords(words) -> tuple:
    """The words without those that contain a shorter one (``log_param`` covers ``log_params``)."""
    words = sorted(set(words), key=len)
    out: list = []
    for w in words:
        if not any(k in w for k in out):
            out.append(w)
    return tuple(out)


_CALL_KEYWORDS = _minimal_keywords(
    [*_CALLS, *(k if len(k.rsplit(".", 1)[-1]) <= 5 else k.rsplit(".", 1)[-1]  # not "log"
                for k in _DOTTED_CALLS), *_PROMOTE_CALLS, *_HEALTH,
     *_SPECIAL_KEYWORDS])
_TEST_KEYWORDS = (".fit(", ".predict", ".train(", "eproduc", "eterminis", "same_", "integration",
                  "e2e", ".shape", ".dtype", ".columns", "len(", "assert")


def worth_parsing(text: str, test: bool = False) -> bool:
    """Could ``text`` show any signal? (A quick test; parsing decides.)"""
    has = text.__contains__  # any(map(...)) runs in C: no generator frame per keyword
    if any(map(has, _CALL_KEYWORDS)) or (test and any(map(has, _TEST_KEYWORDS))):
        return True
    return "import" in text and not _IMPORT_TOPS.isdisjoint(_IMPORT_LINE.findall(text))


def _dotted(node) -> str:
    """``a.b.c`` for a Name/Attribute chain (calls in between are skipped), else ''."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts))
        else:
            return ".".join(reversed(parts))


def _int_const(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int) \
        and not isinstance(node.value, bool)


def _strip_magics(source: str) -> str:
    """Notebook cell source without IPython magics and shell escapes (``%...``, ``!...``)."""
    if "%" not in source and "!" not in source:
        return source
    return "\n".join("" if line.lstrip()[:1] in ("%", "!") else line
                     for line in source.split("\n"))


_SIGNAL_CACHE: dict = {}
_SIGNAL_CACHE_MAX = 20_000  #: parsed sources remembered (copies of one file are parsed once)


def python_signals(source: str, test: bool = False, own=frozenset(),
                   prefilter: bool = False) -> list:
    """``[(signal, line, detail)]`` found by parsing Python source (never by its text).

    ``test``: the source is a test file (only some signals count there, and model, integration
    and reproducibility tests are recognised); ``own``: top-level names of the project's own
    packages (importing yourself is not using a library). Source that does not parse yields [].
    ``prefilter``: skip the parse when :func:`worth_parsing` says no signal can be there.
    Identical sources are looked at once per process (course repositories copy files a lot).
    """
    # the key holds no source text, so memory stays small (a 64-bit hash and the length)
    key = (hash(source), len(source), test, prefilter)
    found = _SIGNAL_CACHE.get(key)
    if found is None:
        found = _parse_signals(source, test) if not prefilter or worth_parsing(source, test) \
            else []
        if len(_SIGNAL_CACHE) >= _SIGNAL_CACHE_MAX:
            _SIGNAL_CACHE.clear()
        _SIGNAL_CACHE[key] = found
    out, seen = [], set()
    for sig, line, detail, top in found:
        # importing the project's own packages is not using a library: filtered per project
        if top is not None and top.startswith("!"):
            keep = top[1:] in own  # counts only when the import is the project's own module
        else:
            keep = top is None or top not in own
        if sig not in seen and keep:
            seen.add(sig)
            out.append((sig, line, detail))
    return out


def _integration_ranges(nodes: list) -> list:
    """Line ranges of classes that offer an integration (``class WandbLogger(Callback)``)."""
    out = []
    for node in nodes:
        if isinstance(node, ast.ClassDef) and (
                _INTEGRATION_CLASS.search(node.name)
                or any(_INTEGRATION_CLASS.search(_dotted(b)) for b in node.bases)):
            out.append((node.lineno, getattr(node, "end_lineno", node.lineno)))
    return out


def _import_lines(source: str) -> ast.Module:
    """The import statements of source that does not parse as a whole (a typo elsewhere,
    Python 2 prints): each line that starts an import at column 0 is parsed on its own."""
    body, quote = [], None
    for number, line in enumerate(source.split("\n"), 1):
        for q in re.findall(r'"""|\'\'\'', line):  # inside a triple-quoted string: text
            quote = None if quote == q else (quote or q)
        if quote is None and line.startswith(("import ", "from ")) and "(" not in line \
                and "\\" not in line:
            try:
                stmt = ast.parse(line).body
            except (SyntaxError, ValueError):
                continue
            if len(stmt) == 1 and isinstance(stmt[0], (ast.Import, ast.ImportFrom)):
                stmt[0].lineno = number
                body.append(stmt[0])
    return ast.Module(body=body, type_ignores=[])


def _parse_signals(source: str, test: bool) -> list:
    """``[(signal, line, detail, import_top)]``; ``import_top`` names the imported package.

    Source that does not parse still shows what it imports (see :func:`_import_lines`)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError):
        tree = _import_lines(source)
    except RecursionError:
        return []
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        return []
    out, seen, pending = [], set(), []
    ranges = _integration_ranges(nodes)
    optional = _optional_import_ranges(nodes)

    def inside(node) -> bool:
        line = getattr(node, "lineno", None)
        return line is not None and any(a <= line <= b for a, b in ranges)

    def add(signal, node, detail, top=None):
        if test and signal not in _TEST_OK and signal not in _TEST_ONLY:
            return
        if optional and signal in _TRACKING and isinstance(node, (ast.Import, ast.ImportFrom)) \
                and any(a <= node.lineno <= b for a, b in optional):
            return  # `if find_spec("wandb"): import wandb` only tidies up an optional logger
        if ranges and signal in _TRACKING:
            if inside(node):
                signal = "tracker-integration"
            elif top is not None and isinstance(node, (ast.Import, ast.ImportFrom)):
                pending.append((signal, node, detail, top))  # decided once the file is read
                return
        key = (signal, top)
        if key in seen:
            return
        seen.add(key)
        out.append((signal, getattr(node, "lineno", None), detail, top))

    zenml_names = set()
    tops, calls = _import_tops(nodes), []
    attrs: dict = {}  # module alias -> attributes used (import wandb; wandb.Image ...)
    for node in nodes:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            attrs.setdefault(node.value.id, set()).add(node.attr)
    feature_imports, defines_predict = [], False  # see _shared_features
    bare_from = {a.asname or a.name: n.module.split(".")[0] for n in tree.body
                 if isinstance(n, ast.ImportFrom) and n.module for a in n.names}
    run_names = {t.id for n in nodes if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                 and _dotted(n.value.func).endswith("get_context")
                 for t in n.targets if isinstance(t, ast.Name)}
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom):
                if node.module and _FEATURE_MODULE.search(node.module.rsplit(".", 1)[-1]):
                    feature_imports.append(node)
                if node.level or not node.module:
                    continue  # relative import: the project itself
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                if node.module.split(".")[0] == "zenml":
                    zenml_names.update(a.asname or a.name for a in node.names)
                    if any(a.name == "Model" for a in node.names):
                        add("model-registry", node, "ZenML Model (model control plane)", "zenml")
            else:
                names = [a.name for a in node.names]
                if any(a.name in _TRACKERS and _helpers_only(attrs.get(a.asname or a.name))
                       for a in node.names):
                    continue  # import wandb ... wandb.Image(x): a helper, no run is tracked
            for name in names:
                parts = name.split(".")
                extra = parts[2:3] if parts[:2] == ["zenml", "integrations"] else []
                if "data_validators" in parts or name.startswith("whylogs.core.constraints"):
                    # a data validator (ZenML's Evidently, whylogs, Great Expectations or
                    # Deepchecks integration; whylogs constraints) checks the data it profiles
                    add("data-validation", node, f"import {name}", parts[0])
                for cand in (name, parts[0], ".".join(parts[:2]), *extra):
                    if cand in _IMPORTS:
                        add(_IMPORTS[cand], node, f"import {name}", parts[0])
                        if cand in _MODEL_SERVERS:  # serves models by design
                            add("model-load", node, f"import {name} (a model server)", parts[0])
                        break
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            signal = _CALLS.get(last)
            if signal == "model-saved" and last == "dump" \
                    and not name.startswith(_SAVE_OWNERS):
                signal = None
            if signal in ("run-metrics", "run-params") and isinstance(node.func, ast.Name) \
                    and bare_from.get(last, "mlflow") not in _TRACKERS:
                signal = None  # tf_agents' log_metrics(...) prints; mlflow's log_metric records
            if last == "seed" and name.endswith("random.seed") and (node.args or node.keywords):
                signal = "seeds-set"  # np.random.seed(x), random.seed(x)
            if last == "default_rng" and (node.args or node.keywords):
                signal = "seeds-set"
            for suffix, sig in _DOTTED_CALLS.items():
                if name == suffix or name.endswith("." + suffix):
                    signal = sig
            if name.startswith("mlflow.") and last in ("log_model", "save_model") \
                    and name.count(".") >= 2:
                signal = "model-packaging"
                if any(k.arg == "registered_model_name" for k in node.keywords):
                    add("model-registry", node, "log_model(registered_model_name=...)")
            if last == "autolog" and name.startswith("mlflow"):
                add("run-params", node, name)
                signal = "run-metrics"
            if last in ("log", "log_list", "log_row", "log_table") \
                    and name.split(".", 1)[0] in run_names:
                signal = "run-metrics"  # run.log(...) / run.parent.log(...) on an Azure ML run
            if last == "register" and {k.arg for k in node.keywords} & {"model_name", "model_path"}:
                signal = "model-registry"  # Azure ML Model.register(model_name=..., ...)
            if any(k.arg == "create_new_version" and isinstance(k.value, ast.Constant)
                   and k.value.value is True for k in node.keywords):
                signal = "data-versioned"  # Azure ML Dataset.register(create_new_version=True)
            if last in ("create_experiment", "create_trial") and (node.args or node.keywords):
                signal = "experiment-tracking"  # MLflow or SageMaker experiments and trials
            if last == "push_to_hub" and isinstance(node.func, ast.Attribute):
                # the Hugging Face Hub keeps every push as a revision of a model or dataset repo
                owner = _dotted(node.func.value).rsplit(".", 1)[-1].lower()
                signal = "model-registry" if re.search(r"model|trainer|learner|pipe", owner) \
                    else "data-versioned" if re.search(r"data|^ds$", owner) else signal
            if last == "start_run":  # mlflow, Vertex AI experiments, ...
                signal = "experiment-tracking"
            if last == "link" and any(k.arg == "target_path" for k in node.keywords):
                signal = "model-registry"  # W&B model registry
                if any(k.arg == "aliases" for k in node.keywords):
                    add("registry-alias", node, "artifact.link(aliases=...)")
            if _failure_notice(last, node):
                add("failure-alerts", node, f"{last}(...) notifies when a run fails")
            if last in _CALL_RULES:  # test suites, feature reuse: a few names, checked here
                for sig, detail in _CALL_RULES[last](name, node):
                    add(sig, node, detail)
            for sig, detail in _orchestration_signals(name, node, tops) \
                    + _metrics_callback(name, node) + _metrics_file_written(name, node):
                add(sig, node, detail)
            if last == "Artifact" and name.startswith("wandb") and any(
                    k.arg == "type" and isinstance(k.value, ast.Constant)
                    and k.value.value == "model" for k in node.keywords):
                signal = "model-registry"  # W&B model artefacts: every logged version is kept
            calls.append(last)
            if signal:
                add(signal, node, f"{name}(...)")
            for kw in node.keywords:
                if kw.arg in ("random_state", "seed") and _int_const(kw.value):
                    add("seeds-set", node, f"{kw.arg}={kw.value.value}")
                elif kw.arg == "schema" and last.endswith("FeatureView") \
                        and isinstance(kw.value, ast.List) and any(
                            isinstance(e, ast.Call) and _dotted(e.func).endswith("Field")
                            for e in kw.value.elts):
                    add("data-schema", node, f"{last}(schema=[Field(...)])")
                elif kw.arg == "download" and isinstance(kw.value, ast.Constant) \
                        and kw.value.value is True:
                    add("data-loading", node, f"{last}(download=True)")  # torchvision datasets
                elif kw.arg == "response_model":
                    add("api-schema", node, "response_model=")
                elif kw.arg == "enable_app_insights" and isinstance(kw.value, ast.Constant) \
                        and kw.value.value is True:
                    add("metrics-export", node, "Application Insights enabled")
            if node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                value = node.args[0].value
                if value in _HEALTH:
                    add("health-check", node, f"route {value}")
                elif value.startswith("models:/") and "@" in value:
                    add("registry-alias", node, value[:80])
            if test and last in ("fit", "predict", "predict_proba", "train") \
                    and isinstance(node.func, ast.Attribute):
                add("model-tests", node, f".{last}(...) in a test")
            elif last in ("fit", "fit_generator") and isinstance(node.func, ast.Attribute) \
                    and node.args:
                add("model-fit", node, f"{name}(...)")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defines_predict = defines_predict or node.name.startswith("predict")
            if test and node.name.startswith("test") and _TEST_WORDS.search(node.name):
                add("repro-test", node, f"test {node.name}")
            if test and node.name.startswith("test") and _E2E_NAME.search(node.name):
                add("integration-tests", node, f"test {node.name}")
            if test and node.name.startswith("test"):
                bar = _metric_bar(node)
                if bar:
                    add("metric-test", node, f"test {node.name} asserts {bar}"[:80])
            if test and node.name.startswith("test") and _is_data_test(node):
                add("data-tests", node, f"test {node.name} checks shapes, types or columns")
            if not test:
                for signal, detail in _function_signals(node):
                    add(signal, node, detail)
            for dec in node.decorator_list:
                dname = _dotted(dec)
                if test and dname in ("pytest.mark.integration", "pytest.mark.e2e"):
                    add("integration-tests", dec, dname)
                elif dname.rsplit(".", 1)[-1] == "input_schema" and isinstance(dec, ast.Call) \
                        and not test:
                    # inference_schema: the request schema of an Azure ML scoring script
                    add("api-schema", dec, "input_schema decorator")
                    add("serving-app", dec, "scoring script with an input schema")
                elif dname.rsplit(".", 1)[-1] in ("asset_check", "multi_asset_check") \
                        and not test and tops & _ORCHESTRATORS:
                    add("pipeline-checks", dec, f"@{dname} checks the data in the pipeline")
                elif dname.rsplit(".", 1)[-1] == "schedule" and not test and tops & {"dagster"}:
                    add("pipeline-schedule", dec, f"@{dname} runs the pipeline on a schedule")
                elif dname == "zenml.pipeline" or dname == "pipeline" and "pipeline" in zenml_names:
                    # ZenML stores every step output of a pipeline run as a versioned artefact
                    add("data-versioned", dec, "ZenML pipeline (step outputs are versioned "
                                               "artefacts)", "zenml")
        elif isinstance(node, ast.If) and not test and _is_gate(node):
            add("model-gate", node, "a candidate compared with a threshold or the production "
                                    "model stops the run or decides its promotion")
        elif isinstance(node, ast.ClassDef):
            if not test:
                for field, value in _seed_fields(node):
                    add("seeds-set", value, f"{node.name}.{field} = {value.value}")
            for dec in node.decorator_list:
                if _dotted(dec) in ("bentoml.service", "serve.deployment"):
                    add("serving-app", dec, _dotted(dec))
            if not test and any(_dotted(b).rsplit(".", 1)[-1] == "RecList" for b in node.bases):
                add("evaluation", node, f"RecList behavioural tests {node.name}")
            if not test and any(_dotted(b).rsplit(".", 1)[-1] == "FlowSpec" for b in node.bases) \
                    and _flow_artefacts(node):
                add("flow-artefacts", node, f"Metaflow flow {node.name} keeps self.* artefacts "
                                            "of every run")
    if not test:
        for node, detail in _training_entry_points(tree):
            add("train-command", node, detail)
    _shared_features(feature_imports, defines_predict, {sig for sig, *_ in out}, add)
    step = None if test else _saved_with_preprocessing(calls, {sig for sig, *_ in out})
    if step:
        saved = next(line for sig, line, *_ in out if sig in ("model-saved", "model-packaging"))
        add("saved-preprocessing", ast.Pass(lineno=saved),
            f"the saved pipeline carries its {step}, so serving applies the training "
            f"transformation"[:80])
    found = {sig: line for sig, line, *_ in reversed(out)}
    if "drift-library" in found and ("pipeline" in found
                                     or _JOB_RUNNERS & tops):
        # a drift check in a flow, DAG, pipeline step, service or scheduled job runs by itself
        add("drift-job", ast.Pass(lineno=found["drift-library"]),
            "drift checks in a pipeline, scheduled job or service")
    tracking_outside = any(sig in _TRACKING for sig, *_ in out)
    for signal, node, detail, top in pending:  # a module-level tracker import
        sig = signal if tracking_outside else "tracker-integration"
        if (sig, top) not in seen:
            seen.add((sig, top))
            out.append((sig, node.lineno, detail, top))
    return out


#: Schedulers that run a job at intervals (a drift check they run is wired in).
_SCHEDULERS = frozenset({"schedule", "apscheduler", "rocketry", "crontab"})
#: Schedulers and web services run a check by themselves; a Streamlit or Gradio page shows it
#: to someone who opens it (by hand).
_JOB_RUNNERS = _SCHEDULERS | {"fastapi", "flask", "starlette", "aiohttp", "bentoml", "litserve"}
_CLI_RUNNERS = frozenset({"typer.run", "fire.Fire", "Fire"})
_TRAIN_NAME = re.compile(r"train(?!_test_split)(?:_\w+)?$")  #: train, train_model, not a split


def _training_entry_points(tree: ast.Module) -> list:
    """``[(node, detail)]``: a training function that is the script's command.

    ``if __name__ == "__main__": train(...)``, ``typer.run(train)``, ``fire.Fire(train_model)``
    and ``@app.command()``/``@click.command()`` on ``def train...`` make training one command.
    A ``train`` function that nothing runs is only a function.
    """
    out = []
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.dump(node.test):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call):
                    name = _dotted(sub.func)
                    if _TRAIN_NAME.match(name.rsplit(".", 1)[-1]) or name in _CLI_RUNNERS \
                            and any(isinstance(a, ast.Name) and _TRAIN_NAME.match(a.id)
                                    for a in sub.args):
                        out.append((sub, f"{name}(...) runs training as the script's command"))
                        return out
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and _TRAIN_NAME.match(node.name) and any(
                    _dotted(d).rsplit(".", 1)[-1] == "command" for d in node.decorator_list):
            out.append((node, f"command {node.name}"))
            return out
    return out


#: Own modules that hold feature code (``data``, ``features``, ``preprocessing`` ...).
_FEATURE_MODULE = re.compile(r"(?:^|_)(?:data|features?|preprocess\w*|transforms?|token\w*|"
                             r"featuri[sz]\w*)$", re.I)
_SERVING_SIGNALS = frozenset({"serving-app", "model-load"})
#: Names of fitted preprocessing artefacts (loaded from the artefact store for inference).
_FITTED_STEP = re.compile(r"preprocess|transform|scaler|encoder|vectori[sz]er|tokeni[sz]er|"
                          r"feature", re.I)


def _shared_features(imports: list, serving: bool, found: set, add) -> None:
    """Serving code that computes features with the project's own feature code.

    A file that serves or loads a model, or defines a ``predict`` function (``serving``), and
    imports the feature code of its project (``imports``: ``from data import DataModule``,
    ``from pkg.features import ...``, a relative import) computes features as training does. An
    import of a library with such a name (``from datasets import ...``) is not the project's
    code: the import counts only when it names a module of the project (checked per project by
    :func:`python_signals`).
    """
    if not imports or not (serving or found & _SERVING_SIGNALS) \
            or found & {"model-fit", "train-command"}:
        return  # a training script that also predicts shares nothing with a service
    for node in imports:
        top = None if node.level else "!" + node.module.split(".")[0]
        add("shared-features", node, f"serving code imports the feature code "
                                     f"{'.' * node.level}{node.module}", top)


def _reused_features(name: str, node: ast.Call) -> list:
    """Features served as training made them, by design: TFX Transform (its graph is part of the
    serving signature), Feast online features, the fitted preprocessing artefact of training
    fetched from the artefact store (``model.get_artifact("preprocess_pipeline")``)."""
    last = name.rsplit(".", 1)[-1]
    if last == "get_online_features":
        return [("shared-features", "Feast online features (the training definitions)")]
    if last == "Transform" and any(k.arg in ("preprocessing_fn", "module_file")
                                   for k in node.keywords):
        return [("shared-features", "TFX Transform (its graph serves the same features)")]
    if last in ("get_artifact", "load_artifact") and node.args \
            and isinstance(node.args[0], ast.Constant) \
            and _FITTED_STEP.search(str(node.args[0].value)):
        return [("shared-features", f"the fitted {node.args[0].value} artefact of training is "
                                    f"reused"[:80])]
    return []


def _import_tops(nodes: list) -> set:
    """Top-level names of the modules a parsed file imports."""
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
    return out


_E2E_NAME = re.compile(r"e2e|end_to_end|integration", re.I)  #: test_e2e_pipeline ...
_TEST_ONLY = frozenset({"model-tests", "repro-test", "integration-tests", "data-tests",
                        "metric-test"})
_STEP_DECORATORS = frozenset({"step", "task", "flow", "pipeline"})  # Metaflow, ZenML, Prefect...
_DATA_TEST_NAME = re.compile(r"data|schema|column|feature|loader|batch|split|input", re.I)
#: Functions that load or transform data (``load_audio``, ``preprocess``, ``build_features``).
_DATA_CODE = re.compile(r"^(?:load|read)_|preprocess|featur|transform|tokeni[sz]|spectrogram",
                        re.I)
_DATA_TEST_ATTRS = frozenset({"shape", "ndim", "dtype", "dtypes", "columns", "isna", "isnull",
                              "notna", "isnan", "notnull", "nunique", "between"})


#: Evidently presets and tests about a model's predictions (the others check the data).
_MODEL_QUALITY = re.compile(r"Classification|Regression|Ranking|Recsys|Prediction", re.I)


def _suite_signals(name: str, node: ast.Call) -> list:
    """An Evidently ``TestSuite(tests=[...])`` or ``Report(metrics=[...])`` built in code.

    Data presets and column tests in a test suite check the data (data validation); model-quality
    presets (classification, regression ...) in a suite or report evaluate the model. Importing
    Evidently, or a report of data metrics, checks nothing by itself.
    """
    last = name.rsplit(".", 1)[-1]
    items = [e for k in node.keywords if k.arg in ("tests", "metrics")
             and isinstance(k.value, (ast.List, ast.Tuple)) for e in k.value.elts]
    names = [_dotted(e.func).rsplit(".", 1)[-1] for e in items if isinstance(e, ast.Call)]
    out = []
    model = [n for n in names if _MODEL_QUALITY.search(n)]
    if model:
        out.append(("evaluation", f"Evidently {last} of model quality ({model[0]})"))
    data = [n for n in names if not _MODEL_QUALITY.search(n)]
    if last == "TestSuite" and data:
        out.append(("data-validation", f"Evidently test suite ({data[0]})"))
    return out


#: Call names (last part) with a rule of their own: name -> function(dotted name, call node).
_CALL_RULES = {"TestSuite": _suite_signals, "Report": _suite_signals,
               "get_online_features": _reused_features, "Transform": _reused_features,
               "get_artifact": _reused_features, "load_artifact": _reused_features}


#: Data checks an orchestrator runs with the pipeline: Dagster asset checks (also built by
#: ``build_*_checks`` helpers), Airflow's SQL check operators.
_PIPELINE_CHECK = re.compile(r"^(?:AssetCheckResult|AssetCheckSpec|build_\w+_checks"
                             r"|SQL\w*CheckOperator)$")
#: An orchestrator told to run on a schedule: Dagster schedules and cron automation, Flyte cron
#: launch plans, Kubeflow recurring runs (Airflow DAGs and Prefect deployments: see
#: :func:`_orchestration_signals`).
_SCHEDULE_CALLS = frozenset({"ScheduleDefinition", "build_schedule_from_partitioned_job",
                             "on_cron", "CronSchedule", "FixedRate", "create_recurring_run"})
_ORCHESTRATORS = frozenset({"dagster", "dagster_cloud", "airflow", "prefect", "flytekit", "kfp"})
#: Checkpoint callbacks (classes: ``ModelCheckpoint``, ``SaveModelCallback``), which write the
#: model during training; with ``monitor=`` they keep the versions ranked by a validation metric.
_CHECKPOINT = re.compile(r"[A-Z]\w*Checkpoint$|SaveModelCallback$")
#: Logger callbacks of trackers: handed to a trainer, they record every epoch's metrics.
_TRACKER_CALLBACKS = frozenset({"WandbCallback", "WandbLogger", "WandbMetricsLogger",
                                "MLFlowLogger", "MLflowCallback", "MLflowLogger", "CometLogger",
                                "NeptuneLogger", "CometCallback", "NeptuneCallback"})


#: Media and table types of trackers, used to show data (``wandb.Image(x)`` renders a digit).
_TRACKER_DATA_TYPES = frozenset({"Image", "Table", "Histogram", "Audio", "Video", "Html",
                                 "Object3D", "Molecule", "Plotly", "Graph"})


def _helpers_only(used) -> bool:
    """Are the attributes a file uses of a tracker module only its data types (``wandb.Image``,
    ``wandb.Table``)? Then the file starts, logs and tracks no run. (``mlflow.MlflowClient``
    is a client of the tracking server, not a data type.)"""
    return bool(used) and used <= _TRACKER_DATA_TYPES


_METRICS_FILE = re.compile(r"(?:^|[/_\\-])metrics?[\w-]*\.json$", re.I)


def _metrics_file_written(name: str, node: ast.Call) -> list:
    """``open(out / "metrics.json", "w")``, ``(out / "metrics.json").write_text(...)``: the run
    writes its metrics to a file (read back as a record of that run)."""
    last = name.rsplit(".", 1)[-1]
    if last == "open" and node.args:
        mode = node.args[1] if len(node.args) > 1 else next(
            (k.value for k in node.keywords if k.arg == "mode"), None)
        if not (isinstance(mode, ast.Constant) and str(mode.value)[:1] in ("w", "a")):
            return []
        target = node.args[0]
    elif last == "write_text" and isinstance(node.func, ast.Attribute):
        target = node.func.value
    else:
        return []
    for sub in ast.walk(target):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                and _METRICS_FILE.search(sub.value):
            return [("run-metrics", f"metrics written to {sub.value}"[:80])]
    return []


def _orchestration_signals(name: str, node: ast.Call, tops: set) -> list:
    """Data checks, freshness checks and schedules declared to an orchestrator (only in a file
    that imports one, so a helper of the same name elsewhere counts for nothing).

    A freshness check watches that the pipeline delivers on time (a health check of the
    pipeline); other asset checks check the data each time the asset is made; a schedule makes
    the orchestrator run the job (and its checks) by itself.
    """
    if not tops & _ORCHESTRATORS:
        return []
    last = name.rsplit(".", 1)[-1]
    keys = {k.arg for k in node.keywords}
    if "freshness" in last.lower() and ("check" in last.lower() or "Policy" in last):
        return [("freshness-checks", f"{last}(...) watches that the data arrive on time")]
    if _PIPELINE_CHECK.match(last):
        return [("pipeline-checks", f"{last}(...) checks the data in the pipeline")]
    if last in _SCHEDULE_CALLS:
        return [("pipeline-schedule", f"{last}(...) runs the pipeline on a schedule")]
    if last == "DAG" and any(k.arg in ("schedule", "schedule_interval") and not (
            isinstance(k.value, ast.Constant) and k.value.value in (None, "@once"))
            for k in node.keywords):
        return [("pipeline-schedule", "an Airflow DAG with a schedule")]
    if last in ("serve", "deploy", "to_deployment") and keys & {"cron", "interval", "rrule",
                                                                "schedule", "schedules"}:
        return [("pipeline-schedule", f"{last}(...) with a schedule")]
    return []


def _metrics_callback(name: str, node: ast.Call) -> list:
    """A tracker's logger callback (``WandbCallback()``, ``MLFlowLogger(...)``), or a checkpoint
    callback that keeps models by a validation metric (``ModelCheckpoint(monitor="val_loss")``):
    the metrics of every run are recorded with the model they belong to."""
    last = name.rsplit(".", 1)[-1]
    if last in _TRACKER_CALLBACKS:
        return [("run-metrics", f"{last}(...) records each epoch's metrics")]
    if not _CHECKPOINT.match(last):
        return []
    out = [("model-saved", f"{last}(...) writes model checkpoints")]
    if any(k.arg == "monitor" and not (isinstance(k.value, ast.Constant) and not k.value.value)
           for k in node.keywords):
        out.append(("run-metrics", f"{last}(monitor=...) keeps models by a validation metric"
                    [:80]))
    return out


#: Fitted preprocessing steps of scikit-learn (a scaler, imputer, encoder, column transformer).
_PREPROCESSOR = re.compile(r"(?:Scaler|Imputer|Encoder|ColumnTransformer|Discretizer|"
                           r"PowerTransformer|QuantileTransformer)$")
_SK_PIPELINES = frozenset({"Pipeline", "make_pipeline"})


def _saved_with_preprocessing(calls: list, found: set) -> str | None:
    """The preprocessing class a file fits inside a scikit-learn pipeline that it saves whole
    (``joblib.dump(pipe, ...)``, ``mlflow.sklearn.log_model``): whoever loads the model applies
    the training transformation. ``calls``: the last parts of the names the file calls."""
    if not found & {"model-saved", "model-packaging"} or not _SK_PIPELINES & set(calls):
        return None
    return next((c for c in calls if _PREPROCESSOR.search(c)), None)


PLACEHOLDER_MAX = 2048  #: bytes: a longer test file is never a placeholder (parsed once only)


def placeholder_tests(source: str, limit: int | None = None) -> bool:
    """Does every test in ``source`` check only constants (``assert 1 == 1``, ``assert True``,
    ``pass``)? Such a file tests nothing of the project. Sources longer than ``limit`` are
    taken as real tests without parsing."""
    if limit is not None and len(source) > limit:
        return False
    return _only_constant_checks(source)


# Keyed on the (short) source itself: copies of one test file are parsed once per process;
# a few hundred distinct ones bound the memory (at most 2 KiB each).
@lru_cache(maxsize=256)
def _only_constant_checks(source: str) -> bool:
    """See :func:`placeholder_tests`."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    tests = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and n.name.startswith("test")]
    if not tests:
        return False
    for fn in tests:
        for stmt in fn.body:
            if isinstance(stmt, ast.Pass) or isinstance(stmt, ast.Expr) \
                    and isinstance(stmt.value, ast.Constant):
                continue  # pass, a docstring
            if isinstance(stmt, ast.Assert) and all(
                    isinstance(n, (ast.Constant, ast.Compare, ast.cmpop, ast.BoolOp, ast.boolop,
                                   ast.UnaryOp, ast.unaryop, ast.Load))
                    for n in ast.walk(stmt.test)):
                continue  # assert 1 == 1, assert True
            return False
    return True


def _optional_import_ranges(nodes: list) -> list:
    """Line ranges where an import is optional: ``if find_spec(...)``/``if _WANDB_AVAILABLE``
    bodies and ``try: import x / except ImportError`` blocks."""
    out = []
    for node in nodes:
        if isinstance(node, ast.If):
            names = {_dotted(n.func).rsplit(".", 1)[-1] for n in ast.walk(node.test)
                     if isinstance(n, ast.Call)} | {n.id for n in ast.walk(node.test)
                                                    if isinstance(n, ast.Name)}
            if any(n == "find_spec" or n.lower().endswith("_available") for n in names):
                out.append((node.lineno, getattr(node, "end_lineno", node.lineno)))
        elif isinstance(node, ast.Try) and any(
                _dotted(h.type).rsplit(".", 1)[-1] in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers if h.type is not None):
            out.append((node.lineno, node.body[-1].end_lineno or node.lineno))
    return out


def _metric_bar(func) -> str:
    """``assert valid_acc > 0.75`` in a test: the model must clear a fixed bar (a quality gate
    when CI runs the test). Returns the metric's name, or ''."""
    for sub in ast.walk(func):
        if not isinstance(sub, ast.Assert) or not isinstance(sub.test, ast.Compare) \
                or len(sub.test.ops) != 1 \
                or not isinstance(sub.test.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
            continue  # `score == 0.99` checks a known (often mocked) output, it sets no bar
        left, right = sub.test.left, sub.test.comparators[0]
        for metric, bar in ((left, right), (right, left)):
            # a bar a model can miss: not "> 0.0" (it ran) and not "abs(a - b) < 0.001" (the same
            # result twice, a reproducibility check)
            if isinstance(bar, ast.Constant) and isinstance(bar.value, float) \
                    and 0.01 < bar.value <= 1.0 and not isinstance(metric, ast.Constant) \
                    and not any(isinstance(n, ast.BinOp) or isinstance(n, ast.Call)
                                and _dotted(n.func) == "abs" for n in ast.walk(metric)):
                # in the order the expression is written, so the evidence is the same each run
                words = [n.id if isinstance(n, ast.Name) else
                         n.attr if isinstance(n, ast.Attribute) else n.value
                         for n in ast.walk(metric) if isinstance(n, (ast.Name, ast.Attribute))
                         or isinstance(n, ast.Constant) and isinstance(n.value, str)]
                hit = next((w for w in words if _METRIC_WORDS.search(str(w))), "")
                if hit:
                    return f"{hit} against {bar.value}"
    return ""


def _is_data_test(node) -> bool:
    """A test named for data, or calling the project's loading or feature code, whose
    assertions look at shapes, dtypes, columns or lengths."""
    if not _DATA_TEST_NAME.search(node.name) and not any(
            isinstance(sub, ast.Call) and _DATA_CODE.search(_dotted(sub.func).rsplit(".", 1)[-1])
            and "model" not in _dotted(sub.func).lower() for sub in ast.walk(node)):
        return False
    # the measured value may be computed before the assertion (n = df.shape[1]; assert n == 10)
    measured = {t.id for sub in ast.walk(node) if isinstance(sub, ast.Assign) and _measures(sub.value)
                for t in sub.targets if isinstance(t, ast.Name)}
    return any(isinstance(sub, ast.Assert) and (_measures(sub.test) or any(
        isinstance(part, ast.Name) and part.id in measured for part in ast.walk(sub.test)))
        for sub in ast.walk(node))


def _measures(expr) -> bool:
    """Does ``expr`` look at a shape, dtype, columns, missing values or a length?"""
    for part in ast.walk(expr):
        if isinstance(part, ast.Attribute) and part.attr in _DATA_TEST_ATTRS:
            return True
        if isinstance(part, ast.Call) and _dotted(part.func) == "len":
            return True
    return False


def _function_signals(node) -> list:
    """Signals a function shows by its decorators and signature (``[(signal, detail)]``)."""
    out = []
    decorators = [_dotted(d) for d in node.decorator_list]
    if "hydra.main" in decorators:
        out.append(("run-params", "@hydra.main: Hydra writes each run's configuration"))
    if any(d.rsplit(".", 1)[-1] in _STEP_DECORATORS for d in decorators):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                    and sub.func.attr == "deploy" and (sub.args or sub.keywords):
                out.append(("pipeline-deploy", f"{_dotted(sub.func)}(...) in pipeline step "
                                               f"{node.name}"))
                break
    for dec in node.decorator_list:
        # Flyte @task(cache=True, cache_version=...): each run's task outputs are stored and
        # reused by version, like the artefacts of a Metaflow step
        if isinstance(dec, ast.Call) and _dotted(dec.func).rsplit(".", 1)[-1] == "task" and any(
                k.arg == "cache" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in dec.keywords):
            out.append(("flow-artefacts", f"cached task {node.name} (outputs kept per version)"))
            break
    body_model = _request_model(node)
    if body_model:
        out.append(("request-schema", f"route {node.name} takes a {body_model} request body"))
    args = [a.arg for a in node.args.args]
    if args == ["event", "context"] and node.col_offset == 0:
        out.append(("serving-app", f"serverless function handler {node.name}(event, context)"))
    return out


_WRITE_ROUTES = frozenset({"post", "put", "patch"})
#: Route parameters that carry the raw request or a framework object, not a declared schema.
_FRAMEWORK_TYPES = frozenset({"Request", "Response", "UploadFile", "BackgroundTasks",
                              "WebSocket", "HTTPConnection", "Session", "Any"})


def _request_model(node) -> str:
    """The class a POST/PUT route declares as its request body (``def predict(req:
    PredictRequest)`` under ``@app.post(...)``): FastAPI validates each request against it.
    Returns the class name, or ''."""
    if not any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
               and d.func.attr in _WRITE_ROUTES for d in node.decorator_list):
        return ""
    for arg in node.args.args + node.args.kwonlyargs:
        ann = arg.annotation
        if isinstance(ann, ast.Name) and ann.id[:1].isupper() and ann.id not in _FRAMEWORK_TYPES:
            return ann.id
    return ""


def _flow_artefacts(node: ast.ClassDef) -> bool:
    """A Metaflow step (``@step`` method) that stores ``self.x = ...`` (a versioned artefact)."""
    for item in node.body:
        if isinstance(item, ast.FunctionDef) \
                and any(_dotted(d).rsplit(".", 1)[-1] == "step" for d in item.decorator_list):
            for sub in ast.walk(item):
                if isinstance(sub, ast.Assign) and any(
                        isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                        and t.value.id == "self" for t in sub.targets):
                    return True
    return False


def has_test_functions(source: str) -> bool:
    """Does ``source`` define tests (``def test*``, ``class Test*``, a TestCase)?"""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.name.startswith("test"):
            return True
        if isinstance(node, ast.ClassDef) and (node.name.startswith("Test") or any(
                _dotted(b).endswith("TestCase") for b in node.bases)):
            return True
    return False


_METRIC_WORDS = re.compile(r"auc|accuracy|f1|score|loss|rmse|mae|mse|r2|precision|recall|"
                           r"metric", re.I)


_NOTIFIERS = frozenset({"Email", "Slack", "PagerDuty"})  #: Flyte launch-plan notifications
_ON_FAILURE = frozenset({"on_failure_callback", "email_on_failure", "sla_miss_callback"})


def _failure_notice(last: str, node: ast.Call) -> bool:
    """A pipeline told to notify people when a run fails: Flyte ``Email/Slack/PagerDuty(phases=
    [...FAILED...])``, Airflow ``on_failure_callback=`` or ``email_on_failure=True`` (as a
    keyword or in ``default_args=dict(...)``/``{...}``)."""
    if last in _NOTIFIERS and any(
            k.arg == "phases" and "FAILED" in {getattr(n, "attr", "") for n in ast.walk(k.value)}
            for k in node.keywords):
        return True
    for k in node.keywords:
        if k.arg in _ON_FAILURE and not (isinstance(k.value, ast.Constant)
                                         and k.value.value in (False, None)):
            return True
        if isinstance(k.value, ast.Dict) and any(
                isinstance(key, ast.Constant) and key.value in _ON_FAILURE
                and not (isinstance(v, ast.Constant) and v.value in (False, None))
                for key, v in zip(k.value.keys, k.value.values)):
            return True
    return False


def _returns_bool(body: list) -> bool:
    """Does this branch end by returning a constant True or False?"""
    return bool(body) and isinstance(body[-1], ast.Return) \
        and isinstance(body[-1].value, ast.Constant) and isinstance(body[-1].value.value, bool)


def _is_gate(node: ast.If) -> bool:
    """``if <metric> < <threshold or production model>: raise/exit/promote`` (a gating script).

    A branch that raises, exits, promotes the model (``set_stage``, a registry alias ...) or
    records the promotion decision (``should_promote = False``) decides with the comparison.
    """
    if not any(isinstance(n, ast.Compare) for n in ast.walk(node.test)):
        return False
    names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)} \
        | {n.attr for n in ast.walk(node.test) if isinstance(n, ast.Attribute)} \
        | {n.value for n in ast.walk(node.test)
           if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    if not any(_GATE_WORDS.search(str(n)) for n in names) \
            or not any(_METRIC_WORDS.search(str(n)) for n in names):
        return False  # `if threshold < 0: raise ValueError` checks an argument, not a model
    if _returns_bool(node.body) and _returns_bool(node.orelse):
        return True  # `if new_f1 >= old_f1: return True else: return False`: the decision
    for stmt in node.body + node.orelse:
        if isinstance(stmt, ast.Raise):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                and _dotted(stmt.value.func) in ("sys.exit", "exit", "SystemExit"):
            return True
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Call) \
                    and _dotted(sub.func).rsplit(".", 1)[-1] in _PROMOTE_CALLS | _STOP_CALLS:
                return True
            if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Constant) \
                    and isinstance(sub.value.value, bool) and any(
                        isinstance(t, ast.Name) and re.search(r"promot|deploy", t.id, re.I)
                        for t in sub.targets):
                return True  # should_promote = False
    return False


def notebook_code(text: str) -> list:
    """``[(cell_number, source)]`` of a notebook's code cells (outputs never count).

    Raises ValueError when the text is not a notebook (JSON with a ``cells`` list).
    """
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not a notebook ({exc.__class__.__name__})") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a notebook (no 'cells' list)")
    out = []
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if isinstance(src, str) and src.strip():
            out.append((i, _strip_magics(src)))
    return out


# ------------------------------------------------------------------------------ CI commands

_SEGMENT = re.compile(r"&&|\|\||[;|&]")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_RUNNERS = frozenset({"uv", "poetry", "pipenv", "pdm", "hatch", "pixi", "rye", "conda", "mamba",
                      "micromamba"})
_LINTERS = frozenset({"ruff", "flake8", "pylint", "mypy", "black", "isort", "pre-commit",
                      "pyright", "pydocstyle", "bandit"})
_DEPLOYS = (  # (command, words that must follow somewhere) -> ci-deploy
    ("kubectl", ("apply", "rollout", "set", "create", "replace")), ("helm", ("upgrade", "install")),
    ("terraform", ("apply",)), ("tofu", ("apply",)), ("pulumi", ("up",)),
    ("gcloud", ("deploy", "deploy-model")), ("az", ("deploy", "create")),
    ("cdk", ("deploy",)), ("serverless", ("deploy",)), ("sls", ("deploy",)), ("sam", ("deploy",)),
    ("fly", ("deploy",)), ("flyctl", ("deploy",)), ("eb", ("deploy",)), ("heroku", ("release",)),
    ("mlflow", ("deployments",)), ("anyscale", ("rollout", "deploy")),
    ("databricks", ("deploy",)), ("twine", ("upload",)), ("flit", ("publish",)),
    ("aws", ("update-function-code", "update-function-configuration", "update-service", "deploy",
             "create-endpoint",
             "update-endpoint", "create-stack", "update-stack")),
    ("bentoml", ("deploy",)), ("modal", ("deploy",)), ("copilot", ("deploy",)),
    ("cf", ("push",)),  # Cloud Foundry
    ("kustomize", ("apply",)), ("skaffold", ("run", "deploy")), ("argocd", ("sync",)),
    # orchestrators: registering or deploying workflows puts them on the running cluster
    ("pyflyte", ("register", "deploy")), ("flytectl", ("register",)),
    ("railway", ("up",)), ("vercel", ("deploy", "--prod")), ("netlify", ("deploy",)),
    ("kamal", ("deploy",)),
    ("prefect", ("deploy",)), ("dagster-cloud", ("deploy",)),
)
_DEPLOY_MAP = dict(_DEPLOYS)
#: GitHub Actions (``uses:``) and other CI building blocks -> signal.
_ACTIONS = (
    ("codecov/", "ci-coverage"), ("coverallsapp/", "ci-coverage"),
    ("pre-commit/action", "ci-lint"), ("ruff-action", "ci-lint"), ("psf/black", "ci-lint"),
    ("docker/build-push-action", "ci-image"), ("kaniko", "ci-image"),
    ("pypa/gh-action-pypi-publish", "ci-deploy"), ("webapps-deploy", "ci-deploy"),
    ("amazon-ecs-deploy", "ci-deploy"), ("deploy-cloudrun", "ci-deploy"),
    ("k8s-deploy", "ci-deploy"), ("peaceiris/actions-gh-pages", None),
    ("github-pages-deploy", None),  # documentation pages, not the model or service
    ("heroku-deploy", "ci-deploy"), ("deploy-appengine", "ci-deploy"),
    ("azure/functions-action", "ci-deploy"), ("cloudformation-github-deploy", "ci-deploy"),
    ("FlyteRegisterAction", "ci-deploy"),  # registers workflows on a Flyte cluster
)
#: A command run on a server over SSH that (re)starts the service there is a deployment.
#: Commands that start the service on the machine they run on (a container or a compose stack).
_STARTS_SERVICE = re.compile(r"\bdocker\s+run\b|\bdocker[ -]compose\b[^\n]*\bup\b")
_REMOTE_START = re.compile(_STARTS_SERVICE.pattern +
                           r"|\bsystemctl\s+(?:re)?start\b|\bpm2\s+(?:re)?start\b"
                           r"|\bkubectl\s+apply\b|\bhelm\s+upgrade\b")
#: Task runners whose task a CI step names: command -> hop kind (the task is read and followed).
_TASK_RUNNERS = {"mise": "mise", "task": "taskfile", "poe": "poe"}


def _words(segment: str) -> list:
    """The words of one shell command without env assignments, sudo and runner prefixes."""
    words = segment.replace("'", " ").replace('"', " ").split()
    while words and (_ASSIGN.match(words[0]) or words[0] in ("sudo", "time", "env", "exec",
                                                             "-e", "then", "do", "{", "(")):
        words = words[1:]
    if len(words) > 1 and words[0] in _RUNNERS and words[1] in ("run", "exec"):
        words = words[2:]
        while words and words[0].startswith("-"):  # conda run -n env, uv run --frozen
            words = words[2:] if words[0] in ("-n", "--name", "-p", "--prefix", "-e",
                                              "--env", "--with") else words[1:]
    if len(words) > 2 and re.fullmatch(r"python[\d.]*|py", words[0]) and words[1] == "-m":
        words = words[2:]
    return words


#: A ``git push`` to one of these platforms deploys the pushed commit (the platform builds and
#: releases it): the remote is named after the platform or is its Git URL.
_PUSH_PLATFORMS = re.compile(r"heroku|dokku|scalingo|clever-?cloud|azurewebsites|"
                             r"huggingface\.co/spaces", re.I)


#: A script named for deployment, or an argument that selects it (``--mode deploy-model``).
_DEPLOY_WORD = re.compile(r"deploy(?:[-_]?\w+)?(?:\.py)?$")


#: Tools that apply infrastructure definitions (networks, registries, clusters, databases).
_INFRA_TOOLS = frozenset({"terraform", "tofu", "pulumi"})


def _infra_only(cmd: str, rest: list) -> bool:
    """``terraform apply``, ``pulumi up``, ``az deployment ... create``: the step creates or
    changes infrastructure; it builds and releases no code or model by itself (the service
    that runs on it is deployed by another step, or by hand)."""
    return cmd in _INFRA_TOOLS or cmd == "az" and rest[:1] == ["deployment"]


def _git_push_deploy(cmd: str, rest: list) -> bool:
    """``git push heroku main``, ``git push dokku@host:app``: a push-to-deploy platform.

    A push to ``origin`` (branches, tags) publishes code, it deploys nothing.
    """
    if cmd != "git" or rest[:1] != ["push"]:
        return False
    target = next((w for w in rest[1:] if not w.startswith("-")), "")
    return bool(_PUSH_PLATFORMS.search(target))


def command_signals(line: str) -> list:
    """``[(signal, detail)]`` for one shell line a CI job runs, plus hops ``("hop", kind, arg)``.

    Only the command word counts: ``pip install pytest`` installs, it does not run the tests,
    and a comment is no command.
    """
    line = line.strip()
    if not line or line.startswith("#"):
        return []
    out = []
    if re.match(r"^(?:sudo\s+)?ssh\b", line) and _REMOTE_START.search(line):
        return [("ci-deploy", f"on a server over SSH: {line}"[:80])]
    for segment in _SEGMENT.split(line.split(" #", 1)[0]):
        words = _words(segment)
        if not words:
            continue
        cmd = words[0].rsplit("/", 1)[-1].lower()
        rest = [w.lower() for w in words[1:]]
        detail = " ".join(words)[:80]
        if cmd in ("pytest", "py.test", "tox", "nox", "unittest", "ward", "behave") \
                or (cmd == "hatch" and rest[:1] == ["test"]) \
                or (cmd == "coverage" and rest[:1] == ["run"]) or (cmd == "npm" and "test" in rest):
            out.append(("ci-tests", detail))
        if any(w.startswith("--cov") for w in rest) or cmd in ("codecov", "coveralls") \
                or (cmd == "coverage" and rest[:1] in (["run"], ["report"], ["xml"])):
            out.append(("ci-coverage", detail))
        if cmd in _LINTERS and not (cmd == "pre-commit" and rest[:1] == ["install"]):
            out.append(("ci-lint", detail))
        if (cmd in ("docker", "podman", "buildah") and set(rest[:2]) & {"build", "buildx", "push",
                                                                        "bud"}) \
                or (cmd == "gcloud" and "builds" in rest and "submit" in rest) \
                or cmd in ("kaniko", "executor") or (cmd == "docker-compose" and "build" in rest):
            out.append(("ci-image", detail))
        need = _DEPLOY_MAP.get(cmd)
        if need and set(rest) & set(need) and _infra_only(cmd, rest):
            out.append(("ci-infra", detail))
        elif need and set(rest) & set(need) or cmd in ("poetry", "uv", "hatch") \
                and rest[:1] == ["publish"] or _git_push_deploy(cmd, rest) \
                or cmd == "heroku" and rest[:1] in (["container:release"], ["container:push"]):
            out.append(("ci-deploy", detail))
        elif re.fullmatch(r"python[\d.]*", cmd) and rest and rest[0].endswith(".py") and (
                _DEPLOY_WORD.match(rest[0].rsplit("/", 1)[-1])
                or any(_DEPLOY_WORD.fullmatch(w.lstrip("-")) for w in rest[1:])):
            out.append(("ci-deploy", detail))  # python build/utils.py --mode deploy-model
        if cmd == "dvc" and rest[:1] in (["repro"], ["exp"]) or re.fullmatch(
                r"python[\d.]*", cmd) and rest and re.search(r"(?:^|/)train\w*\.py$", rest[0]) \
                or re.search(r"(?:^|\.)train\w*$", cmd) \
                or cmd in ("mlflow", "kedro") and rest[:1] == ["run"]:
            out.append(("ci-train", detail))  # python -m pkg.train, mlflow run ., kedro run
        if cmd in ("great_expectations", "gx") and "checkpoint" in rest and "run" in rest \
                or cmd == "soda" and rest[:1] == ["scan"] or cmd == "dbt" and rest[:1] in (
                    ["test"], ["build"]):
            out.append(("ci-data-validation", detail))
        # a hop into another command's definition
        if cmd in ("make", "just", "invoke", "inv") and rest:
            targets = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
            out += [("hop", cmd, t) for t in targets[:3]]
        elif cmd in ("tox", "nox"):
            out.append(("hop", cmd, ""))
        elif cmd in _TASK_RUNNERS and rest:  # mise run test, task test, poe test
            targets = [w for w in words[1:] if not w.startswith("-")]
            if cmd == "mise" and targets[:1] in (["run"], ["r"]):
                targets = targets[1:]
            out += [("hop", _TASK_RUNNERS[cmd], t) for t in targets[:1]]
        elif cmd in ("bash", "sh", "zsh", "source", ".") and rest and rest[0].endswith(".sh"):
            out.append(("hop", "script", words[1]))
        elif cmd.endswith(".sh"):
            out.append(("hop", "script", words[0]))
        elif re.fullmatch(r"python[\d.]*", cmd) and rest and rest[0].endswith(".py") \
                and not out:
            out.append(("hop", "pyscript", words[1]))
        elif cmd in _JOB_SUBMITTERS and not out:  # anyscale jobs submit job.yaml, sky launch ...
            specs = [w for w in words[1:] if w.lower().endswith((".yaml", ".yml"))
                     and not w.startswith("-")]
            out += [("hop", "jobspec", specs[0])] if specs else []
        raw = segment.split()
        if len(raw) > 2 and raw[0] in ("pixi", "hatch", "pdm", "uv", "poetry") \
                and raw[1] == "run" and not out:
            out.append(("hop", "task", words[0]))
    return out


_SCRIPT_KEYS = frozenset({"run", "script", "scripts", "before_script", "after_script", "command",
                          "commands", "args", "bash", "pwsh", "powershell", "inlinescript",
                          "cmd", "sh", "entrypoint"})
#: Commands that submit a job described by a YAML file of the repository (followed as a hop).
_JOB_SUBMITTERS = frozenset({"anyscale", "sky", "ray", "gcloud", "az", "aws", "kubectl",
                             "argo", "sagemaker"})
MAX_HOPS = 2  #: CI -> make target -> script, CI -> job spec -> script; never further
_USES_KEYS = frozenset({"uses", "task", "image", "orb", "plugin", "name_of_action"})
_WD_KEYS = ("working-directory", "workingdirectory", "working_directory", "dir", "workdir")


def _cli_action(uses) -> str | None:
    """The tool an action wraps when it is named ``<tool>-cli`` (``.../dagster-cloud-cli@v1``):
    its ``with: command:`` is a command line of that tool."""
    if not isinstance(uses, str):
        return None
    name = uses.split("@", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith("-cli") and len(name) > 4 else None


def ci_commands(data, wd: str = "") -> list:
    """``[("run", text, wd) | ("uses", text, wd)]`` from a parsed CI file of any common system.

    Walks the YAML tree: strings under script-like keys (``run``, ``script``, ``command``,
    ``args``, ...) are commands; ``uses``/``task``/``image`` values are building blocks; names,
    descriptions and comments are never commands. ``working-directory`` applies to its step.
    """
    out = []
    stack = [(data, wd, False)]
    while stack:
        node, wd, in_script = stack.pop()
        if isinstance(node, dict):
            here = wd
            for key in _WD_KEYS:
                val = node.get(key)
                if isinstance(val, str):
                    here = val
            defaults = node.get("defaults")
            if isinstance(defaults, dict) and isinstance(defaults.get("run"), dict):
                val = defaults["run"].get("working-directory")
                here = val if isinstance(val, str) else here
            env = node.get("environment")
            if isinstance(env, (str, dict)) and ("runs-on" in node or "script" in node
                                                 or "stage" in node or "steps" in node):
                out.append(("environment", str(env.get("name", "")) if isinstance(env, dict)
                            else env, here))
            args, command = node.get("args"), node.get("command")
            if isinstance(args, list) and all(isinstance(a, (str, int, float)) for a in args) \
                    or isinstance(command, list) and all(isinstance(a, str) for a in command):
                # Cloud Build, Argo, Tekton, Kubernetes: entrypoint/command + args is one command
                head = node.get("entrypoint") or (" ".join(command) if isinstance(command, list)
                                                  else command)
                if not head and isinstance(node.get("name"), str) and "/" in node["name"]:
                    head = node["name"].rsplit("/", 1)[-1].split(":")[0]  # builder image
                words = [str(head or "")] + [str(a) for a in (args if isinstance(args, list)
                                                              else [])]
                out.append(("run", " ".join(w for w in words if w), here))
                node = {k: v for k, v in node.items() if k not in ("args", "command",
                                                                   "entrypoint")}
            uses, given = node.get("uses"), node.get("with")
            tool = _cli_action(uses)
            if tool and isinstance(given, dict) and isinstance(given.get("command"), str):
                out.append(("run", f"{tool} {given['command']}", here))
            if isinstance(uses, str) and "ssh" in uses.lower() and isinstance(given, dict):
                # an SSH action runs its script on a server (appleboy/ssh-action and the like)
                out.extend(("remote", v, here) for sk, v in given.items()
                           if str(sk).lower() in ("script", "command", "commands")
                           and isinstance(v, str))
            for key, val in node.items():
                k = str(key).lower()
                if k in _USES_KEYS and isinstance(val, str):
                    out.append(("uses", val, here))
                elif k in _SCRIPT_KEYS:
                    stack.append((val, here, True))
                elif k == "inputs" and isinstance(val, dict):  # Azure task: AzureCLI, Bash...
                    stack.extend((v, here, True) for sk, v in val.items()
                                 if str(sk).lower() in ("inlinescript", "script"))
                elif k not in ("name", "displayname", "description", "if", "on", "env",
                               "variables", "with", "inputs", "defaults"):
                    stack.append((val, here, False))
        elif isinstance(node, list):
            stack.extend((v, wd, in_script) for v in reversed(node))
        elif isinstance(node, str) and in_script:
            out.append(("run", node, wd))
    return out


def server_runs(data) -> list:
    """``[(job, command)]``: GitHub Actions jobs on a self-hosted runner (a server of the team)
    that start the service there (``docker run``, ``docker compose up``): a deployment. The
    same command on a hosted runner only starts a throw-away container for a test."""
    jobs = data.get("jobs") if isinstance(data, dict) else None
    out = []
    for name, job in (jobs.items() if isinstance(jobs, dict) else []):
        if not isinstance(job, dict) or "self-hosted" not in str(job.get("runs-on", "")):
            continue
        for kind, command, _wd in ci_commands({"steps": job.get("steps")}):
            for raw in str(command).split("\n") if kind == "run" else []:
                if not raw.strip().startswith("#") and _STARTS_SERVICE.search(raw):
                    out.append((str(name), raw.strip()))
                    break
    return out


_DEPLOY_STAGE = re.compile(r"deploy|release|promot|staging|prod", re.I)


def deploy_promotion(data) -> tuple | None:
    """``(earlier, later)`` deploy stages or jobs of a parsed CI file where the later one runs
    only after the earlier one (Azure ``dependsOn``, GitHub ``needs``, GitLab ``needs``): a
    change is promoted from one environment to the next. None when there is no such pair."""
    if not isinstance(data, dict):
        return None
    units = {}
    if isinstance(data.get("stages"), list):  # Azure Pipelines
        units = {str(st.get("stage")): st.get("dependsOn") for st in data["stages"]
                 if isinstance(st, dict) and st.get("stage")}
    if isinstance(data.get("jobs"), dict):  # GitHub Actions
        units.update({str(k): v.get("needs") for k, v in data["jobs"].items()
                      if isinstance(v, dict)})
    units.update({str(k): v.get("needs") for k, v in data.items()  # GitLab CI jobs
                  if isinstance(v, dict) and "stage" in v and "script" in v})
    for name, needs in units.items():
        needs = [needs] if isinstance(needs, str) else needs if isinstance(needs, list) else []
        for before in needs:
            if isinstance(before, str) and _DEPLOY_STAGE.search(name) \
                    and _DEPLOY_STAGE.search(before):
                return before, name
    return None


def bundle_jobs(data) -> list:
    """``[(job, number of tasks, notifies on failure)]`` of a Databricks asset bundle
    (``resources: jobs:``): a workflow of tasks that the platform runs, on a schedule or by
    trigger, once deployed; ``email_notifications``/``webhook_notifications`` with
    ``on_failure`` tell people when a run fails."""
    res = data.get("resources") if isinstance(data, dict) else None
    jobs = res.get("jobs") if isinstance(res, dict) else None
    return [(str(name), len(job["tasks"]), any(
        isinstance(job.get(k), dict) and job[k].get("on_failure")
        for k in ("email_notifications", "webhook_notifications")))
        for name, job in (jobs or {}).items()
            if isinstance(job, dict) and isinstance(job.get("tasks"), list) and job["tasks"]] \
        if isinstance(jobs, dict) else []


def release_image_push(data) -> str | None:
    """The step of a GitHub Actions workflow run on a release or a tag push that pushes an image
    to a registry (a release published as an image, like a package uploaded to PyPI)."""
    if not isinstance(data, dict):
        return None
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as True
    push = on.get("push") if isinstance(on, dict) else None
    release = (isinstance(on, dict) and "release" in on) or on == "release" \
        or (isinstance(on, list) and "release" in on) \
        or (isinstance(push, dict) and "tags" in push)
    if not release:
        return None
    for kind, value, _wd in ci_commands(data):
        if kind == "run" and re.search(r"\b(?:docker|podman)\s+(?:image\s+)?push\b", str(value)):
            return str(value).strip().split("\n")[0]
    jobs = data.get("jobs")
    for job in jobs.values() if isinstance(jobs, dict) else []:
        for step in job.get("steps") or [] if isinstance(job, dict) else []:
            given = step.get("with") if isinstance(step, dict) else None
            if "build-push-action" in str(step.get("uses", "") if isinstance(step, dict) else "") \
                    and isinstance(given, dict) and given.get("push") in (True, "true"):
                return str(step["uses"])
    return None


def started_by_hand(data) -> bool:
    """Is a GitHub Actions workflow run only when someone starts it (``workflow_dispatch``)?"""
    on = data.get("on", data.get(True)) if isinstance(data, dict) else None
    names = [on] if isinstance(on, str) else list(on) if isinstance(on, (list, dict)) else []
    return names == ["workflow_dispatch"]


#: A reusable workflow of another repository named for deployment (``create-deployment.yml``).
_REUSABLE_DEPLOY = re.compile(r"/\.github/workflows/[\w.-]*(?:deploy|create-endpoint|release)"
                              r"[\w.-]*\.ya?ml@", re.I)


def platform_deploys(data, render: bool = True) -> list:
    """``[(signal, service, detail)]`` of a hosting platform's blueprint that deploys on every
    push: Render (``render.yaml`` services; ``autoDeploy`` is on unless set false) and the
    DigitalOcean App Platform (``deploy_on_push: true``). The platform builds and releases each
    pushed commit, as a CI deploy step would; a ``healthCheckPath`` is the service's health
    check. ``render``: the file is a Render blueprint (``render.yaml``)."""
    services = data.get("services") if isinstance(data, dict) else None
    out = []
    for svc in services if isinstance(services, list) else []:
        if not isinstance(svc, dict):
            continue
        name = str(svc.get("name", ""))[:40]
        source = svc.get("github") or svc.get("gitlab") or {}
        if render and "type" in svc and svc.get("autoDeploy", True) not in (False, "false") \
                and svc.get("autoDeployTrigger", "commit") != "off" \
                or isinstance(source, dict) and source.get("deploy_on_push") is True:
            out.append(("ci-deploy", name, f"the platform deploys service {name} on every push"))
        path, check = svc.get("healthCheckPath"), svc.get("health_check")
        if not path and isinstance(check, dict):
            path = check.get("http_path")
        if isinstance(path, str) and path:
            out.append(("health-check", name, f"health check {path} of service {name}"[:80]))
    return out


def jenkins_commands(text: str) -> list:
    """Shell commands of a Jenkinsfile (``sh '...'``, ``sh \"\"\"...\"\"\"``, ``bat``)."""
    found = re.findall(r"""\b(?:sh|bat)\s*\(?\s*(?:'''(.*?)'''|\"\"\"(.*?)\"\"\"|'([^'\n]*)'|"([^"\n]*)")""",
                       text, re.S)
    return [("run", next(g for g in groups if g), "") for groups in found if any(groups)]


_TASK_FILES = {"mise": ("mise.toml", ".mise.toml", "mise/config.toml", ".config/mise.toml"),
               "taskfile": ("Taskfile.yml", "Taskfile.yaml", "taskfile.yml", "taskfile.yaml",
                            "pyproject.toml"),  # go-task, or taskipy's [tool.taskipy.tasks]
               "poe": ("pyproject.toml", "poe_tasks.toml")}


def _task_lines(value) -> list:
    """Command lines of one task value: a string, a list of them, or a table with a command."""
    if isinstance(value, str):
        return value.split("\n")
    if isinstance(value, list):
        return [line for v in value for line in _task_lines(v)]
    if isinstance(value, dict):
        for key in ("run", "cmd", "cmds", "shell", "script", "sequence"):
            if key in value:
                return _task_lines(value[key])
    return []


def task_commands(kind: str, text: str, name: str, toml: bool = True) -> list:
    """The command lines of task ``name`` in a mise.toml, Taskfile.yml or Poe the Poet table,
    with those of the tasks it depends on (one level: ``depends``/``deps``)."""
    try:
        data = tomllib.loads(text) if toml else _load_yaml(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    tasks = data.get("tasks") if isinstance(data, dict) else None
    tool = data.get("tool") if isinstance(data, dict) else None
    if isinstance(tool, dict):  # pyproject.toml: Poe the Poet or taskipy
        tasks = ((tool.get("poe") if kind == "poe" else tool.get("taskipy")) or {}).get("tasks")
    if not isinstance(tasks, dict) or name not in tasks:
        return []
    task = tasks[name]
    lines = _task_lines(task)
    deps = task.get("depends") or task.get("deps") or [] if isinstance(task, dict) else []
    for dep in deps if isinstance(deps, list) else [deps]:
        dep = dep.get("task") if isinstance(dep, dict) else dep
        if isinstance(dep, str) and dep in tasks and dep != name:
            lines += _task_lines(tasks[dep])
    return [line for line in lines if isinstance(line, str)]


def invoke_commands(source: str, name: str) -> list:
    """The commands an Invoke task runs: string arguments of ``c.run("...")`` in the function
    ``name`` of a tasks.py (``inv test-unit`` names ``test_unit``). Parsed, never run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name.replace("-", "_"):
            return [sub.args[0].value for sub in ast.walk(node)
                    if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr == "run" and sub.args
                    and isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str)]
    return []


def make_recipe(text: str, target: str) -> list:
    """The recipe lines of ``target`` in a Makefile or justfile (comments dropped)."""
    lines, inside = [], False
    for raw in text.splitlines():
        if not inside:
            m = re.match(r"^([^:#=\s][^:#=]*):(?!=)", raw)  # "targets: prerequisites"
            if m and target in m.group(1).split():
                inside = True
            continue
        if raw.startswith(("\t", "    ")) or not raw.strip():
            line = raw.strip().lstrip("@-").strip()
            if line and not line.startswith("#"):
                lines.append(line)
            continue
        break
    return lines


# ------------------------------------------------------------------------------ other files

_AZURE_TOP = frozenset({"trigger", "pr", "stages", "jobs", "steps"})
_AZURE_STEP_KEYS = frozenset({"task", "script", "bash", "pwsh", "powershell"})


def yaml_kind(data) -> str | None:
    """``"conda"`` or ``"azure-pipelines"`` for a parsed YAML file recognised by its content.

    A conda environment has a top-level ``dependencies`` list beside ``channels`` or ``name``
    (whatever the file is called); an Azure Pipelines file (often kept in ``.pipelines/``) has
    top-level ``trigger``/``stages``/``jobs``/``steps`` and steps that run a ``task:`` or
    ``script:``.
    """
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("dependencies"), list) and ("channels" in data or "name" in data) \
            and not _AZURE_TOP & set(data):
        return "conda"
    if not _AZURE_TOP & set(data) or "apiVersion" in data or "kind" in data:
        return None
    stack, steps = [data.get(k) for k in ("stages", "jobs", "steps")], 0
    while stack and steps < 5_000:
        node, steps = stack.pop(), steps + 1
        if isinstance(node, dict):
            if _AZURE_STEP_KEYS & set(node):
                return "azure-pipelines"
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


_CONDA_PIN = re.compile(r"^(?:[\w.-]+::)?[A-Za-z0-9][\w.-]*(?:\[[^\]]*\])?\s*==?\s*\d[\w.+!*-]*"
                        r"(?:\s*=\s*[\w.*]+)?\s*$")


def conda_pins(data) -> tuple[int, int]:
    """``(packages, pinned)`` of a parsed conda environment (its pip section included);
    ``pip`` itself is not counted, ``numpy=1.18.*`` and ``azureml-sdk==1.27.*`` are pinned."""
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, list):
        return 0, 0
    entries = [d for d in deps if isinstance(d, str)]
    for d in deps:
        if isinstance(d, dict) and isinstance(d.get("pip"), list):
            entries += [p for p in d["pip"] if isinstance(p, str)]
    entries = [e.strip() for e in entries if e.strip() and e.strip() != "pip"]
    return len(entries), sum(bool(_CONDA_PIN.match(e)) for e in entries)


def dbt_tested_columns(data) -> int:
    """How many columns of a parsed dbt properties file (``models:``/``sources:`` with
    ``columns:``) declare tests (``not_null``, ``unique``, ``accepted_values`` ...)."""
    if not isinstance(data, dict):
        return 0
    tables = []
    for key in ("models", "seeds", "snapshots"):
        if isinstance(data.get(key), list):
            tables += data[key]
    for source in data.get("sources") or []:
        if isinstance(source, dict) and isinstance(source.get("tables"), list):
            tables += source["tables"]
    n = 0
    for table in tables:
        columns = table.get("columns") if isinstance(table, dict) else None
        for col in columns if isinstance(columns, list) else []:
            if isinstance(col, dict) and (col.get("tests") or col.get("data_tests")):
                n += 1
    return n


def _rules(triples: list) -> tuple:
    return tuple((sig, tuple(kws), re.compile(rx, re.M)) for sig, kws, rx in triples)


#: Text patterns for configuration files (searched with comments removed).
YAML_K8S = _rules([
    ("kubernetes", ("kind:",),
     r"^kind:[ \t]*(?:Deployment|Service|StatefulSet|DaemonSet|Job|CronJob|Pod|Ingress"
     r"|HorizontalPodAutoscaler|InferenceService|SeldonDeployment|Rollout)\b"),
    ("canary-release", ("canary", "Canary", "shadow", "mirror", "kind:", "traffic"),
     r"^[ \t]*canaryTrafficPercent[ \t]*:|^kind:[ \t]*(?:Rollout|Canary)\b"
     r"|^[ \t]*-?[ \t]*(?:canary|shadow|mirror)[ \t]*:|^[ \t]*-?[ \t]*traffic_?[sS]plit[ \t]*:"),
    ("alert-rules", ("alert",), r"^[ \t]*-?[ \t]*alert[ \t]*:[ \t]*\S"),
    ("metrics-export", ("appInsightsEnabled",), r"^[ \t]*appInsightsEnabled[ \t]*:[ \t]*(?i:true)\b"),
    ("drift-monitor", ("AWS::SageMaker::",),
     r"^[ \t]*Type:[ \t]*[\"']?AWS::SageMaker::(?:MonitoringSchedule|DataQualityJobDefinition"
     r"|ModelQualityJobDefinition)\b"),
    ("pipeline", ("kind:", "pipelineSpec", "apiVersion"),
     r"^kind:[ \t]*(?:Workflow|CronWorkflow|WorkflowTemplate|Pipeline|PipelineRun|Task)\b"
     r"|^[ \t]*pipelineSpec[ \t]*:"),
])
#: Monitoring declared as Terraform resources: metrics collected for the service (Application
#: Insights, dashboards) and alert rules on them.
TERRAFORM = _rules([
    ("metrics-export", ("application_insights", "_dashboard"),
     r'^[ \t]*resource[ \t]+"(?:azurerm_application_insights|aws_cloudwatch_dashboard'
     r'|google_monitoring_dashboard)"'),
    ("alert-rules", ("alarm", "alert"),
     r'^[ \t]*resource[ \t]+"(?:aws_cloudwatch_metric_alarm|azurerm_monitor_metric_alert'
     r'|azurerm_monitor_scheduled_query_rules_alert\w*|google_monitoring_alert_policy)"'),
])
DOCKER = _rules([("health-check", ("HEALTHCHECK", "healthcheck"), r"(?i:^[ \t]*HEALTHCHECK\b)")])
MAKE = _rules([("train-command", ("train", "dvc"),
                r"^(?:re)?train[\w-]*[ \t]*:|^[ \t]+.*\bdvc\s+repro\b")])
PYPROJECT = _rules([
    ("pytest-config", ("[tool.pytest",), r"^\[tool\.pytest\.ini_options\]"),
    ("coverage-config", ("coverage", "--cov"), r"^\[tool\.coverage\b|--cov\b"),
    ("linter-config", ("[tool.",), r"^\[tool\.(?:ruff|black|isort|mypy|pylint|flake8)\b"),
    ("dependencies-listed", ("dependencies",),
     r"^dependencies[ \t]*=|^\[tool\.poetry\.dependencies\]|^\[dependencies\]"),
])
SETUPCFG = _rules([
    ("pytest-config", ("[tool:pytest]",), r"^\[tool:pytest\]"),
    ("coverage-config", ("coverage", "--cov"), r"^\[coverage:|--cov\b"),
    ("linter-config", ("flake8", "mypy", "isort", "pylint"), r"^\[(?:flake8|mypy|isort|pylint)"),
    ("dependencies-listed", ("install_requires",), r"^install_requires\b"),
])
TOX = _rules([("pytest-config", ("[pytest]",), r"^\[pytest\]"),
              ("linter-config", ("[flake8]",), r"^\[flake8\]"),
              ("coverage-config", ("--cov",), r"--cov\b")])
GITATTRIBUTES = _rules([
    ("git-lfs", ("lfs",), r"\bfilter=lfs\b"),
    # LFS for datasets (not only images or model weights): data folders and table/array files
    ("lfs-data", ("lfs",), r"^\S*(?:(?:^|/)data(?:sets?)?/|\.(?:csv|tsv|parquet|feather|"
                          r"arrow|jsonl?|tfrecords?|npz|npy|h5|hdf5|xlsx?)\b)\S*[ \t][^\n]*"
                          r"\bfilter=lfs\b"),
])
GITCONFIG = _rules([("git-remote", ("[remote",), r'^\s*\[remote\s+"[^"]*"\]')])
DVCCONFIG = _rules([("dvc-remote", ("remote",), r"""^\s*\[\s*['"]?remote\s[^\]\n]*\]""")])
GITIGNORE = _rules([("data-ignored", ("data", ".csv", ".parquet", ".pkl", ".h5", "models"),
                     r"^/?(?:data|datasets?|models?)(?:/\S*)?$"
                     r"|^\*\.(?:csv|parquet|pkl|h5|feather)$")])
_PATTERNS_BY_NAME = {"pyproject.toml": PYPROJECT, "setup.cfg": SETUPCFG, "tox.ini": TOX,
                     ".gitattributes": GITATTRIBUTES, ".gitignore": GITIGNORE,
                     "pixi.toml": PYPROJECT}
_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?\s*===?\s*[A-Za-z0-9][\w.+!-]*"
                  r"\s*(?:;.*)?$")

#: Files MLflow writes beside ``MLmodel`` when it saves a model.
_MODEL_ENV_FILES = frozenset({"conda.yaml", "requirements.txt", "python_env.yaml"})
_CONDA = [("conda-environment", "conda environment"), ("dependencies-listed", "conda environment")]
#: Files recognised by their exact (lower-case) name alone: name -> [(signal, detail)].
_BY_NAME = {
    "poetry.lock": [("lockfile", "Poetry lock file")], "uv.lock": [("lockfile", "uv lock file")],
    "pipfile.lock": [("lockfile", "Pipenv lock file")], "pdm.lock": [("lockfile", "PDM lock file")],
    "pixi.lock": [("lockfile", "pixi lock file")],
    "conda-lock.yml": [("lockfile", "conda-lock file")],
    "conda-lock.yaml": [("lockfile", "conda-lock file")],
    "pipfile": [("dependencies-listed", "Pipfile")],
    "setup.py": [("dependencies-listed", "setup.py (parsed, never run)")],
    "environment.yml": _CONDA, "environment.yaml": _CONDA, "conda.yaml": _CONDA,
    "conda.yml": _CONDA,
    "devcontainer.json": [("dockerfile", "dev container definition")],
    "cluster_env.yaml": [("dockerfile", "cluster environment definition")],
    "cluster_env.yml": [("dockerfile", "cluster environment definition")],
    "runtime_env.yaml": [("dockerfile", "cluster runtime environment definition")],
    "dvc.lock": [("dvc-lock", "DVC lock file"), ("dvc-data", "outputs hashed in dvc.lock")],
    "metrics.json": [("run-metrics", "metrics file")],
    "mlproject": [("train-command", "MLflow project entry points"),
                  ("dependencies-listed", "MLflow project")],
    "mlmodel": [("model-packaging", "MLflow model")],
    "bentofile.yaml": [("model-packaging", "BentoML build file"),
                       ("serving-app", "BentoML build file")],
    "feature_store.yaml": [("feature-store", "Feast feature store")],
    "chart.yaml": [("kubernetes", "Helm chart")],
    "pulumi.yaml": [("iac", "Pulumi project")], "cdk.json": [("iac", "AWS CDK app")],
    "alertmanager.yml": [("alert-rules", "Alertmanager configuration")],
    "train.py": [("train-command", "training script")],
    "train_model.py": [("train-command", "training script")],
    "locustfile.py": [("load-tests", "Locust load test")],
    "conftest.py": [("pytest-config", "pytest conftest (parsed, never run)")],
    "pytest.ini": [("pytest-config", "pytest.ini")],
    ".coveragerc": [("coverage-config", ".coveragerc")],
    "codecov.yml": [("coverage-config", "Codecov configuration")],
    ".codecov.yml": [("coverage-config", "Codecov configuration")],
    "ruff.toml": [("linter-config", "ruff")], ".ruff.toml": [("linter-config", "ruff")],
    ".flake8": [("linter-config", "flake8")], ".pylintrc": [("linter-config", "pylint")],
    "pylintrc": [("linter-config", "pylint")], "mypy.ini": [("linter-config", "mypy")],
    ".mypy.ini": [("linter-config", "mypy")], ".isort.cfg": [("linter-config", "isort")],
    ".pre-commit-config.yaml": [("pre-commit", "pre-commit hooks")],
    ".pre-commit-config.yml": [("pre-commit", "pre-commit hooks")],
    # other Git hook managers run the same checks before each commit
    "lefthook.yml": [("pre-commit", "lefthook Git hooks")],
    "lefthook.yaml": [("pre-commit", "lefthook Git hooks")],
    ".lefthook.yml": [("pre-commit", "lefthook Git hooks")],
    ".lefthook.yaml": [("pre-commit", "lefthook Git hooks")],
    "renovate.json": [("dependency-updates", "Renovate")],
    ".renovaterc": [("dependency-updates", "Renovate")],
    ".renovaterc.json": [("dependency-updates", "Renovate")],
    "mkdocs.yml": [("docs", "MkDocs site")],
    ".readthedocs.yaml": [("docs", "Read the Docs configuration")],
    ".readthedocs.yml": [("docs", "Read the Docs configuration")],
    "_toc.yml": [("docs", "Jupyter Book table of contents")],
    "schema.pbtxt": [("data-schema", "TFX/TFDV schema")],
    "dockerfile": [("dockerfile", None)], "containerfile": [("dockerfile", None)],
}
#: CI files by name (anywhere) -> system; GitHub Actions and GitLab CI only run at the root.
_CI_NAMES = {"azure-pipelines.yml": "Azure Pipelines", "azure-pipelines.yaml": "Azure Pipelines",
             "bitbucket-pipelines.yml": "Bitbucket Pipelines", ".travis.yml": "Travis CI",
             "cloudbuild.yaml": "Google Cloud Build", "cloudbuild.yml": "Google Cloud Build",
             "buildspec.yml": "AWS CodeBuild", "buildspec.yaml": "AWS CodeBuild",
             ".drone.yml": "Drone CI", "jenkinsfile": "Jenkins"}
_ROOT_CI = {".gitlab-ci.yml": "GitLab CI", ".gitlab-ci.yaml": "GitLab CI"}
#: Blueprints of hosting platforms that build and deploy each push (see platform_deploys).
_PLATFORM_FILES = frozenset({"render.yaml", "render.yml", "app.yaml", "app.yml"})
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
#: Python file stems (prefixes) that show a step of the ML workflow by name.
_STEM_SIGNALS = (
    (("prepare", "preprocess", "process_data", "process.", "make_dataset", "etl", "featuriz",
      "build_features", "data_prep", "clean_data", "ingest"), "data-prep"),
    (("evaluate", "evaluation", "eval_"), "evaluation"),
    (("deploy",), "deploy-script"),
)


def _strip_comments(text: str) -> str:
    """Text without ``#`` comment lines (YAML, TOML, INI, Makefiles, Dockerfiles)."""
    if "#" not in text:
        return text
    return "\n".join("" if line.lstrip().startswith("#") else line for line in text.split("\n"))


# ------------------------------------------------------------------------------ the result

def _rank(ev: dict) -> tuple:
    """Most relevant first: shallow paths before deep ones, then by name and line."""
    path = ev.get("path", "")
    return (path.count("/"), path, ev.get("line") or 0)


@dataclass
class ScanResult:
    """What :func:`scan` found.

    ``hits[signal][project] = {"count": n, "evidence": [...]}``; ``project`` is the folder of a
    project root relative to the scanned folder, or ``""`` for the repository-wide layer.
    """

    root: str
    hits: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    projects: list = field(default_factory=list)
    excluded: list = field(default_factory=list)  #: submodules and nested repositories skipped
    library: str | None = None  #: the package the root folder publishes, if it is one
    #: what shows the repository is a project template (cookiecutter.json, ...), if it is one
    template: str | None = None
    #: the root README when a project template generated it (``based on the ... template``)
    skeleton: str | None = None
    #: top-level folders (``""`` for root files) where a training signal was seen
    training_places: set = field(default_factory=set)

    def trains_models(self) -> bool:
        """Is there any sign that a model is trained, tracked, packaged or served here?

        In a library, examples, notebooks, docs, tests and benchmarks show how to use it; they
        are not a model of the library's own.
        """
        if self.library is None:
            return any(s in self.hits for s in TRAINING_SIGNALS)
        return bool(self.training_places - DEMO_FOLDERS)

    def has_model(self) -> bool:
        """Does anything here train, save, load, evaluate, track or package a model? (A web
        app or a data pipeline alone has no model.)"""
        return any(s in self.hits for s in MODEL_SIGNALS)

    def found(self, signal: str, project: str | None = None) -> bool:
        """Seen anywhere (``project=None``), or in ``project`` or the repository-wide layer."""
        per = self.hits.get(signal)
        if not per:
            return False
        return project is None or project in per or SHARED in per

    def evidence(self, signal: str, project: str | None = None) -> list:
        """The most relevant places of a signal (at most :data:`MAX_EVIDENCE`)."""
        per = self.hits.get(signal, {})
        keys = list(per) if project is None else [k for k in (project, SHARED) if k in per]
        items = [dict(ev) for k in dict.fromkeys(keys) for ev in per[k]["evidence"]]
        return sorted(items, key=_rank)[:MAX_EVIDENCE]

    def count(self, signal: str) -> int:
        """How many times the signal was seen (files, or tags for ``git-tag``)."""
        return sum(v["count"] for v in self.hits.get(signal, {}).values())


#: Signals that show models are trained or used here (a library without them has no model).
TRAINING_SIGNALS = ("experiment-tracking", "train-command", "dvc-pipeline", "pipeline",
                    "model-registry", "model-packaging", "run-metrics", "run-params",
                    "serving-app", "ci-train")
#: Signals that show a repository has a model at all (a web app or data pipeline alone does not).
MODEL_SIGNALS = ("model-fit", "model-saved", "model-load", "evaluation", "model-tests",
                 "model-packaging", "model-registry", "experiment-tracking", "train-command",
                 "run-metrics", "ci-train", "dvc-model", "pipeline-deploy", "model-gate")
#: Top-level folders of a library that demonstrate or test it (not a model of its own).
DEMO_FOLDERS = frozenset({"examples", "example", "notebooks", "docs", "doc", "tutorials",
                          "tutorial", "benchmarks", "benchmark", "demo", "demos", "tests",
                          "test", "scripts"})
#: In a library without a model, these do not show data of its own (README: the library;
#: data loading and preparation: its examples).
_LIBRARY_DATA_NOISE = frozenset({"readme", "data-loading", "data-prep", "data-tests"})
_TEMPLATE_FILES = frozenset({"cookiecutter.json", "copier.yml", "copier.yaml"})
_TEMPLATE_WORD = re.compile(r"(?:^|[^a-z])template(?:$|[^a-z])")
#: A README that a project template wrote (its layout, not the project's model or data).
_SKELETON_README = re.compile(r"\bbased on the\b[^\n]{0,200}?\btemplate\b|\bgenerated (?:with|by|"
                              r"from)\b[^\n]{0,80}?\b(?:cookiecutter|copier)\b", re.I)


_TREE_LINE = re.compile(r"[├│└]|<-")  #: a line of a drawn folder tree
#: A README that a template wrote keeps at most this many lines of prose beside its folder tree
#: (a project that documents its model and data above the template's footer has more).
SKELETON_LINES = 5


def readme_title(text: str) -> str:
    """The first heading of a Markdown README, whatever its level (``# ...``, ``## ...``, or a
    line underlined with ``===``)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^#{1,6}[ \t]+(.+)", line)
        if m:
            return m.group(1).strip()
        if line.strip() and i + 1 < len(lines) and re.fullmatch(r"=+\s*", lines[i + 1]):
            return line.strip()
    return ""


def _safe_name(text: str) -> str:
    """A path that may hold undecodable bytes, as printable text."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _is_dir(path: str) -> bool:
    """A real folder (not a link to one)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _holds_python(path: str) -> bool:
    """Is ``path`` a regular Python package (it has ``__init__.py``)?

    A folder without one (``great_expectations/`` configuration, an ``airflow/`` folder of DAG
    files) cannot shadow an installed library of that name: Python imports a namespace folder
    only when no regular package of the name exists anywhere on the path.
    """
    return _is_file(os.path.join(path, "__init__.py"))


def _exists(path: str) -> bool:
    try:
        os.lstat(path)
        return True
    except OSError:
        return False


try:
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _YamlLoader = yaml.SafeLoader


class _TagLoader(_YamlLoader):
    """The safe loader that also reads CloudFormation short forms (``!Ref``, ``!Sub`` ...)."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_TagLoader.add_multi_constructor("!", _any_tag)


def _load_yaml(text: str, tags: bool = False):
    try:
        return yaml.load(text, Loader=_TagLoader if tags else _YamlLoader)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None


#: A Kedro catalog entry that holds a model: its name ends like one, or it lies in a models folder
#: (``model_input_table`` is data).
_MODEL_NAME = re.compile(r"(?:model|regressor|classifier|estimator)s?$|(?:^|/)(?:\d+_)?models/",
                         re.I)
_MODEL_EXTS = (".onnx", ".pt", ".pth", ".ckpt", ".safetensors", ".joblib", ".mlmodel", ".keras")


_PICKLE_EXTS = ("pkl", "pickle", "h5")  #: a model only when its name or folder says so
_MODEL_FILE_EXTS = frozenset({e.lstrip(".") for e in _MODEL_EXTS} | set(_PICKLE_EXTS))
_FIXTURE_DIRS = frozenset({"tests", "test", "testing", "fixtures", "testdata", "test_data"})


def _committed_model(relpath: str, ext: str) -> bool:
    """A model file kept in the repository (``sample_model/lin_reg_model.joblib``), not a test
    fixture: the model-file extensions count anywhere else, pickles only when named as a model."""
    low = relpath.lower()
    if _FIXTURE_DIRS & set(low.split("/")[:-1]):
        return False
    if low.endswith(_MODEL_EXTS):
        return True
    return ext in _PICKLE_EXTS and _is_model_path(low)


def _is_model_path(path: str) -> bool:
    """A path that names a model file or a models/ folder (``models/model.onnx``)."""
    low = path.lower().replace("\\", "/").rstrip("/")
    stem = low.rsplit("/", 1)[-1].split(".", 1)[0]
    return low.endswith(_MODEL_EXTS) or "models" in low.split("/") \
        or bool(_MODEL_NAME.search(stem))


_SEED_KEY = re.compile(r"(?:random_)?seed|random_state|rng_seed", re.I)
_SHIFTING = re.compile(r"canary|linear|blue_?green", re.I)


def _cfn_signals(kind: str, props: dict) -> list:
    """``[(signal, detail)]`` of one CloudFormation resource (type and properties, parsed)."""
    out = []
    if kind == "AWS::CodePipeline::Pipeline":
        stages = props.get("Stages") if isinstance(props.get("Stages"), list) else []
        deploys, approval = 0, False
        for stage in stages:
            actions = stage.get("Actions") if isinstance(stage, dict) else None
            cats = [str((a.get("ActionTypeId") or {}).get("Category", "")) for a in actions
                    if isinstance(a, dict) and isinstance(a.get("ActionTypeId"), dict)] \
                if isinstance(actions, list) else []
            deploys += "Deploy" in cats
            approval = approval or ("Approval" in cats and deploys > 0)
        out.append(("ci", "AWS CodePipeline"))
        if deploys:
            out.append(("ci-deploy", f"CodePipeline: {deploys} deploy stage(s)"))
        if deploys > 1 and approval:
            out.append(("ci-environments", "CodePipeline: manual approval between deploy stages"))
    elif kind == "AWS::CodeBuild::Project":
        out.append(("ci", "AWS CodeBuild project"))
    elif kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        pref = props.get("DeploymentPreference")
        if isinstance(pref, dict) and _SHIFTING.search(str(pref.get("Type", ""))):
            out.append(("canary-release", f"traffic shifting {pref['Type']}"))
            if isinstance(pref.get("Hooks"), dict) and pref["Hooks"].get("PreTraffic"):
                out.append(("model-gate", "a pre-traffic hook validates before traffic shifts"))
    elif kind == "AWS::CodeDeploy::DeploymentGroup":
        if _SHIFTING.search(str(props.get("DeploymentConfigName", ""))):
            out.append(("canary-release", f"CodeDeploy {props['DeploymentConfigName']}"))
    elif kind == "AWS::CodeDeploy::DeploymentConfig":
        routing = props.get("TrafficRoutingConfig")
        if isinstance(routing, dict) and _SHIFTING.search(str(routing.get("Type", ""))):
            out.append(("canary-release", f"CodeDeploy {routing['Type']}"))
    elif kind == "AWS::CloudWatch::Alarm":
        out.append(("alert-rules", "CloudWatch alarm"))
        if props.get("MetricName") or props.get("Metrics"):
            out.append(("metrics-export", f"CloudWatch metric {props.get('MetricName', '')}"))
    elif kind == "AWS::SageMaker::Endpoint":
        out.append(("serving-app", "SageMaker endpoint"))
        out.append(("model-load", "SageMaker endpoint serves a model"))
        policy = (props.get("DeploymentConfig") or {}).get("BlueGreenUpdatePolicy") \
            if isinstance(props.get("DeploymentConfig"), dict) else None
        routing = policy.get("TrafficRoutingConfiguration") if isinstance(policy, dict) else None
        if isinstance(routing, dict) and re.search(r"canary|linear", str(routing.get("Type")),
                                                   re.I):
            out.append(("canary-release", f"SageMaker {routing['Type']} traffic routing"))
    elif kind == "AWS::SageMaker::Model":
        out.append(("model-packaging", "SageMaker model"))
    elif kind == "AWS::SageMaker::ModelPackageGroup":
        out.append(("model-registry", "SageMaker model package group"))
    elif kind in ("AWS::SageMaker::MonitoringSchedule", "AWS::SageMaker::DataQualityJobDefinition"):
        out.append(("data-validation", "SageMaker Model Monitor checks live data against "
                                       "baseline constraints"))
    return out


class _Own:
    """``name in own``: is ``name`` a package of the project itself (a folder at its root)?"""

    def __init__(self, scanner, project: str, relpath: str):
        self.scanner, self.project, self.relpath = scanner, project, relpath

    def __contains__(self, name: str) -> bool:
        return self._ancestor_package(name) or self.scanner.own_package(self.project, name) \
            or (self.project != SHARED and self.scanner.own_package(SHARED, name))

    def _ancestor_package(self, name: str) -> bool:
        """A package folder on the file's own path (``churn/models/train.py`` importing
        ``churn``). A plain folder of scripts named like a library (``airflow/`` holding DAG
        files that import Airflow) is not a package of the project."""
        parts = self.relpath.split("/")[:-1]
        return any(part == name and _is_file(os.path.join(self.scanner.root, *parts[:i + 1],
                                                          "__init__.py"))
                   for i, part in enumerate(parts))


class _Scanner:
    def __init__(self, root: str, progress: Callable[[int], None] | None, every: int,
                 read_limit: int):
        self.root = root
        self.root_real = os.path.realpath(root)
        self.progress = progress
        self.every = max(1, int(every))
        self.read_limit = int(read_limit)
        self.result = ScanResult(root=root)
        self.manual_ci = False  #: reading a workflow that only runs when started by hand
        self.stats = {"files": 0, "folders": 0, "files_read": 0, "bytes_read": 0,
                      "truncated": 0, "skipped_folders": 0, "links_not_followed": 0,
                      "special_files": 0, "problems_not_listed": 0, "submodules": 0}
        self.result.stats = self.stats
        self._own: dict = {}
        self._project_of: dict = {}
        self._model_dirs: dict = {}

    # ---------------------------------------------------------------- recording

    def hit(self, signal: str, path: str, line: int | None = None, detail: str | None = None,
            count: int = 1, project: str = SHARED) -> None:
        if signal == "ci-deploy" and self.manual_ci:
            signal = "ci-deploy-manual"  # the deploy runs when someone starts the workflow
        if signal in TRAINING_SIGNALS:
            top = path.split("/", 1)[0] if "/" in path else ""
            if top not in self.result.training_places:
                self.result.training_places.add(top)
        per = self.result.hits.setdefault(signal, {})
        entry = per.get(project)
        if entry is None:
            entry = per[project] = {"count": 0, "evidence": []}
        entry["count"] += count
        ev = {"signal": signal, "path": path}
        if line is not None:
            ev["line"] = line
        if detail:
            ev["detail"] = detail
        kept = entry["evidence"]
        if len(kept) < MAX_EVIDENCE:
            kept.append(ev)
            kept.sort(key=_rank)
        elif _rank(ev) < _rank(kept[-1]):  # keep the most relevant places, not the first seen
            kept[-1] = ev
            kept.sort(key=_rank)

    def problem(self, path: str, text: str) -> None:
        if len(self.result.problems) < MAX_PROBLEMS:
            self.result.problems.append({"path": path, "problem": text})
        else:
            self.stats["problems_not_listed"] += 1

    def own_package(self, project: str, name: str) -> bool:
        key = (project, name)
        if key not in self._own:
            base = os.path.join(self.root, project) if project else self.root
            self._own[key] = _holds_python(os.path.join(base, name)) \
                or _holds_python(os.path.join(base, "src", name)) or _is_file(
                    os.path.join(base, name + ".py"))
        return self._own[key]

    def project_of(self, reldir: str) -> str:
        """The nearest project root at or above ``reldir`` (``""``: the shared layer)."""
        reldir = os.path.normpath(reldir).replace(os.sep, "/").strip("/")
        if reldir in (".", "") or reldir.startswith(".."):
            return SHARED
        if reldir not in self._project_of:
            self._project_of[reldir] = reldir if self._is_project(
                os.path.join(self.root, reldir)) else self.project_of(os.path.dirname(reldir))
        return self._project_of[reldir]

    @staticmethod
    def _is_project(absdir: str) -> bool:
        """A folder with its own project marker; a saved MLflow model (``MLmodel`` beside the
        ``conda.yaml`` and ``requirements.txt`` MLflow wrote for it) is an artefact, not a
        project."""
        return not _is_file(os.path.join(absdir, "MLmodel")) \
            and any(_is_file(os.path.join(absdir, m)) for m in PROJECT_MARKERS)

    def model_folder(self, reldir: str) -> bool:
        """Is ``reldir`` a saved MLflow model? Its environment files describe the model's
        environment as MLflow recorded it, not how the project pins its dependencies."""
        if reldir not in self._model_dirs:
            self._model_dirs[reldir] = _is_file(os.path.join(self.root, reldir, "MLmodel"))
        return self._model_dirs[reldir]

    # ---------------------------------------------------------------- reading

    def read(self, abspath: str, relpath: str, limit: int | None = None) -> str | None:
        """At most ``limit`` bytes of a regular file as text; None (and a problem) if not."""
        limit = self.read_limit if limit is None else limit
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
            want = min(info.st_size, limit)  # no extra read to find the end
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

    def read_rel(self, relpath: str) -> str | None:
        """A file named by the repository (a CI hop); never outside the root, never a link."""
        rel = os.path.normpath(relpath.replace("\\", "/")).replace(os.sep, "/")
        if rel.startswith(("../", "/")) or rel == ".." or "\x00" in rel:
            return None
        abspath = os.path.join(self.root, rel)
        if not _is_file(abspath) or not _inside(os.path.realpath(abspath), self.root_real):
            return None
        return self.read(abspath, rel)

    def search(self, abspath: str, relpath: str, rules: tuple, project: str,
               text: str | None = None) -> str | None:
        """Record the first match of each rule in the file's text without comment lines."""
        text = self.read(abspath, relpath) if text is None else text
        if text is None:
            return None
        body = None
        for signal, keywords, regex in rules:
            if not any(k in text for k in keywords):
                continue
            body = _strip_comments(text) if body is None else body
            m = regex.search(body)
            if m is not None:
                line = body.count("\n", 0, m.start()) + 1
                detail = " ".join(m.group(0).split())[:80].strip('"')
                self.hit(signal, relpath, line, detail, project=project)
        return text

    # ---------------------------------------------------------------- the walk

    def run(self) -> ScanResult:
        start = time.perf_counter()
        root_project = SHARED
        self.result.projects.append(root_project)
        stack = [("", self.root, root_project)]
        while stack:
            reldir, absdir, project = stack.pop()
            if reldir:
                if any(_exists(os.path.join(absdir, m)) for m in VENV_MARKERS):
                    self.stats["skipped_folders"] += 1
                    continue
                if _exists(os.path.join(absdir, ".git")):
                    self.stats["submodules"] += 1  # its CI never runs for this repository
                    if len(self.result.excluded) < 20:
                        self.result.excluded.append(reldir)
                    continue
                if self._is_project(absdir):
                    project = reldir
                    self._project_of[reldir] = reldir
                    if len(self.result.projects) < 10_000:
                        self.result.projects.append(reldir)
            self.stats["folders"] += 1
            try:
                it = os.scandir(absdir)
            except OSError as exc:
                self.problem(reldir or ".", f"cannot list folder: {exc.strerror or exc}")
                continue
            with it:  # one entry at a time: a folder's listing is never held
                for e in it:
                    self._entry(e, reldir, project, stack)
        self._integrations()
        self.stats["seconds"] = round(time.perf_counter() - start, 3)
        if self.progress is not None:
            self.progress(self.stats["files"])
        return self.result

    def _integrations(self) -> None:
        """A tracker inside a callback/logger class is an integration a library offers; in an
        application the same class is how the project tracks its runs."""
        per = self.result.hits.get("tracker-integration")
        if not per or self.result.library is not None:
            return
        for project, entry in per.items():
            for ev in entry["evidence"]:
                self.hit("experiment-tracking", ev["path"], ev.get("line"),
                         f"{ev.get('detail', '')} in a callback class".strip(), project=project)

    def _entry(self, e, reldir: str, project: str, stack: list) -> None:
        name = e.name
        if not name.isascii():
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                where = _safe_name(f"{reldir}/{name}" if reldir else name)
                self.problem(where, "name is not valid UTF-8; skipped")
                return
        relpath = f"{reldir}/{name}" if reldir else name
        try:
            if e.is_symlink():
                self._link(e, name, reldir, relpath, project)
            elif e.is_dir(follow_symlinks=False):
                if self._enter(e, name, reldir, relpath, project):
                    stack.append((relpath, e.path, project))
            elif e.is_file(follow_symlinks=False):
                self._count_file()
                self._file(name, reldir, relpath, e.path, project)
            else:
                self.stats["special_files"] += 1  # FIFO, socket, device: never opened
        except OSError as exc:
            self.problem(relpath, f"cannot inspect: {exc.strerror or exc}")

    def _count_file(self) -> None:
        n = self.stats["files"] = self.stats["files"] + 1
        if self.progress is not None and n % self.every == 0:
            self.progress(n)

    def _link(self, e, name: str, reldir: str, relpath: str, project: str) -> None:
        target = os.path.realpath(e.path)
        if not _inside(target, self.root_real) or name.lower() == ".git":
            self.stats["links_not_followed"] += 1  # points out of the folder: never read
            return
        try:
            info = os.stat(target)
        except OSError:
            self.stats["links_not_followed"] += 1  # dangling link or link loop
            return
        if stat.S_ISREG(info.st_mode):
            self._count_file()
            self._file(name, reldir, relpath, target, project)
        else:
            self.stats["links_not_followed"] += 1  # links to folders are never followed

    def _enter(self, e, name: str, reldir: str, relpath: str, project: str) -> bool:
        """Handle a folder by name; return True when the walk should go into it."""
        lname = name.lower()
        if lname == ".git":
            if not reldir:
                self._git(e.path, is_file=False)
            return False
        if lname == ".dvc":
            self._dvc(e.path, relpath, project)
            return False
        if lname == "mlruns":
            self.hit("experiment-tracking", relpath, detail="local MLflow runs folder",
                     project=project)
            return False
        if lname in SKIP_DIRS or lname.endswith(".egg-info"):
            self.stats["skipped_folders"] += 1
            return False
        if "{{" in name and not reldir and self.result.template is None:
            self.result.template = f"template folder {name}"
        if lname in ("docs", "doc") and reldir == project:
            self.hit("docs", relpath, detail="documentation folder", project=project)
        elif ("integration" in lname or lname in ("e2e", "end_to_end")) \
                and ("test" in reldir.lower() or "test" in lname):
            self.hit("integration-tests", relpath, detail="integration test folder",
                     project=project)
        return True

    def _file(self, name: str, reldir: str, relpath: str, abspath: str, project: str) -> None:
        lname = name.lower()
        dot = lname.rfind(".")
        ext = lname[dot + 1:] if dot > 0 else ""
        stem = lname[:dot] if dot > 0 else lname
        if lname == ".git":
            if not reldir:
                self._git(abspath, is_file=True)
            return
        if ext == "py":
            self._python(lname, stem, reldir, relpath, abspath, project)
            return
        if ext == "ipynb":
            self._notebook(relpath, abspath, project)
            return
        if ext == "feature":  # Gherkin scenarios run by behave (steps live beside them)
            self.hit("tests", relpath, detail="behave feature file", project=project)
            self.hit("integration-tests", relpath, detail="behave scenario (end to end)",
                     project=project)
            return
        if not reldir and lname in _ROOT_CI:
            self._ci(relpath, abspath, _ROOT_CI[lname], project)
            return
        if lname in _CI_NAMES:
            self._ci(relpath, abspath, _CI_NAMES[lname], project)
            return
        if lname == "dvc.yaml":
            self._dvc_yaml(relpath, abspath, project)
            return
        if lname in _MODEL_ENV_FILES and self.model_folder(reldir):
            return  # written by mlflow.<flavour>.log_model for the model (see _is_project)
        if lname in ("params.yaml", "params.yml"):
            self.hit("run-params", relpath, detail="parameters file", project=project)
            self._seeds_in_params(self.read(abspath, relpath), relpath, project)
            return
        by_name = _BY_NAME.get(lname)
        if by_name is _CONDA:
            self._conda(relpath, abspath, project)
            return
        if by_name:
            for signal, detail in by_name:
                if signal == "dockerfile" and lname != "devcontainer.json":
                    self._dockerfile(abspath, relpath, project)
                else:
                    self.hit(signal, relpath, detail=detail, project=project)
            return
        if ext in ("yml", "yaml"):
            self._yaml(lname, reldir, relpath, abspath, project)
            return
        if ext == "dvc":
            self._dvc_file(abspath, relpath, project)
            return
        if ext == "tf":
            self.hit("iac", relpath, detail="Terraform", project=project)
            self.search(abspath, relpath, TERRAFORM, project)
            return
        if ext == "dockerfile" or lname.startswith(("dockerfile.", "containerfile.")):
            self._dockerfile(abspath, relpath, project)
            return
        if lname in ("makefile", "gnumakefile", "justfile"):
            self.search(abspath, relpath, MAKE, project)
            return
        if ext == "txt" and (lname.startswith("requirements")
                             or reldir.lower().rsplit("/", 1)[-1] == "requirements"):
            self._requirements(abspath, relpath, project)
            return
        if ext in _MODEL_FILE_EXTS and _committed_model(relpath, ext):
            self.hit("model-saved", relpath, detail="a model file kept in the repository",
                     project=project)
            return
        rules = _PATTERNS_BY_NAME.get(lname)
        if rules is not None:
            text = self.search(abspath, relpath, rules, project)
            if text and not reldir and lname in ("pyproject.toml", "setup.cfg"):
                self._library(text)
            return
        if lname == "codeowners":
            if reldir.lower() in ("", ".github", "docs", ".gitlab"):
                self.hit("codeowners", relpath, project=project)
            return
        parent = reldir.lower()
        if parent.endswith(("pull_request_template", ".gitlab/merge_request_templates")):
            self.hit("pr-template", relpath, project=project)
            return
        if parent.endswith(("issue_template", ".gitlab/issue_templates")):
            self.hit("issue-template", relpath, project=project)
            return
        if lname.startswith(_DOC_PREFIX_TUPLE):
            for prefix, signal in _DOC_PREFIXES.items():
                if lname.startswith(prefix):
                    self.hit(signal, relpath, project=project)
                    break
            return
        if not reldir and lname in _TEMPLATE_FILES:
            self.result.template = name
        if stem == "readme" and reldir == project:
            text = self.read(abspath, relpath) or ""
            if not reldir and self.result.template is None:
                if _TEMPLATE_WORD.search(readme_title(text).lower()):
                    self.result.template = "README title"
            body = [ln for ln in text.split("\n") if ln.strip()
                    and not ln.lstrip().startswith(("#", "[![", "![", "===", "---", "<"))]
            if not reldir and self.result.template is None and _SKELETON_README.search(text) \
                    and len([ln for ln in body if not _TREE_LINE.search(ln)]) <= SKELETON_LINES:
                self.result.skeleton = relpath  # the template's layout and a line or two
            if body:  # a title alone does not explain how to run anything
                self.hit("readme", relpath, detail=f"{len(body)} line(s) of text",
                         project=project)
            return
        if stem in _CHANGELOG_NAMES and ext in _TEXT_EXTS and parent in ("", "docs"):
            self.hit("changelog", relpath, project=project)

    def _python(self, lname, stem, reldir, relpath, abspath, project) -> None:
        test = lname.startswith("test_") or stem.endswith(("_test", "_tests")) \
            or (lname.startswith("test") and "test" in reldir.lower())
        text = None
        if test and "test" not in reldir.lower():
            # a demo script named test_*.py beside the code, with no test in it, is not a test
            text = self.read(abspath, relpath)
            test = bool(text) and has_test_functions(text)
        if lname == "conftest.py":  # test support: parsed as test code, but not a test file
            self.hit("pytest-config", relpath, detail="pytest conftest (parsed, never run)",
                     project=project)
            test = True
        elif test and placeholder_tests(
                text := (self.read(abspath, relpath) if text is None else text) or "",
                PLACEHOLDER_MAX):
            return  # assert 1 == 1 tests nothing of the project
        elif test:
            self.hit("tests", relpath, project=project)
            if "integration" in lname or "e2e" in lname or "end_to_end" in lname:
                self.hit("integration-tests", relpath, detail="integration test file",
                         project=project)
        else:
            for signal, detail in _BY_NAME.get(lname, ()):
                self.hit(signal, relpath, detail=detail, project=project)
            for prefixes, signal in _STEM_SIGNALS:
                if (stem + ".").startswith(prefixes):  # "process." matches process.py only
                    self.hit(signal, relpath, detail="by file name", project=project)
        if text is None:
            text = self.read(abspath, relpath)
        if not text:
            return
        for signal, line, detail in python_signals(text, test, _Own(self, project, relpath),
                                                   prefilter=True):
            self.hit(signal, relpath, line, detail, project=project)

    def _notebook(self, relpath: str, abspath: str, project: str) -> None:
        text = self.read(abspath, relpath, limit=NOTEBOOK_READ_LIMIT)
        # cheap test on the raw JSON (source lines are quoted, so imports are not at line starts)
        if not text or not ("import" in text or any(map(text.__contains__, _CALL_KEYWORDS))):
            return
        try:
            cells = notebook_code(text)
        except ValueError as exc:
            self.problem(relpath, str(exc))
            return
        own, seen = _Own(self, project, relpath), set()
        for number, source in cells:
            for signal, _line, detail in python_signals(source, False, own, prefilter=True):
                if signal not in seen:  # the first code cell that shows it
                    seen.add(signal)
                    self.hit(signal, relpath, detail=f"code cell {number}: {detail}",
                             project=project)

    # ---------------------------------------------------------------- CI

    def _ci(self, relpath: str, abspath: str, system: str, project: str,
            text: str | None = None) -> None:
        self.hit("ci", relpath, detail=system, project=project)
        text = self.read(abspath, relpath) if text is None else text
        if text is None:
            return
        self.manual_ci = system == "GitHub Actions" and started_by_hand(_load_yaml(text))
        try:
            self._ci_commands(relpath, system, project, text)
        finally:
            self.manual_ci = False

    def _ci_commands(self, relpath: str, system: str, project: str, text: str) -> None:
        """The signals of the commands a CI file runs (see :meth:`_ci`)."""
        seen_deploys: set = set()
        if system == "Jenkins":
            commands = jenkins_commands(text)
        else:
            data = _load_yaml(text)
            if data is None:
                self.problem(relpath, "CI file is not valid YAML; not read")
                return
            commands = ci_commands(data)
            for job, command in server_runs(data):
                if ("ci-deploy", project) not in seen_deploys:
                    seen_deploys.add(("ci-deploy", project))
                    self.hit("ci-deploy", relpath, _line_of(text.split("\n"), command),
                             f"job {job} starts the service on its server: {command}"[:80],
                             project=project)
            pushed = release_image_push(data)
            if pushed:
                self.hit("ci-publish", relpath, _line_of(text.split("\n"), pushed),
                         f"a release pushes the image: {pushed}"[:80], project=project)
            chain = deploy_promotion(data)
            if chain:
                self.hit("ci-environments", relpath, _line_of(text.split("\n"), chain[1]),
                         f"deploy stage {chain[1]} runs only after {chain[0]} succeeded"[:80],
                         project=project)
        seen: set = set()
        lines = text.split("\n")
        for kind, value, wd in commands:
            target = self.project_of(wd) if wd else project
            if kind == "environment":
                if ("ci-environments", target) not in seen:
                    seen.add(("ci-environments", target))
                    self.hit("ci-environments", relpath, _line_of(lines, value),
                             f"deployment environment {value}"[:80], project=target)
                continue
            if kind == "remote":
                match = _REMOTE_START.search(value)
                if match and ("ci-deploy", target) not in seen:
                    seen.add(("ci-deploy", target))
                    self.hit("ci-deploy", relpath, _line_of(lines, match.group(0)),
                             f"on a server over SSH: {match.group(0)}", project=target)
                continue
            if kind == "uses" and _REUSABLE_DEPLOY.search(value) \
                    and ("ci-deploy", target) not in seen:
                seen.add(("ci-deploy", target))
                self.hit("ci-deploy", relpath, _line_of(lines, value),
                         f"reusable workflow {value}"[:80], project=target)
            if kind == "uses":
                for part, signal in _ACTIONS:
                    if signal and part in value and (signal, target) not in seen:
                        seen.add((signal, target))
                        self.hit(signal, relpath, _line_of(lines, value), value[:80],
                                 project=target)
                continue
            cwd = wd
            for raw in str(value).split("\n"):
                m = re.match(r"^\s*cd\s+([^\s;&|]+)\s*(?:&&\s*(.*))?$", raw)
                if m:
                    cwd = os.path.normpath(os.path.join(cwd, m.group(1))).replace(os.sep, "/")
                    target = self.project_of(cwd)
                    raw = m.group(2) or ""
                for item in command_signals(raw):
                    if item[0] == "hop":
                        self._hop(item[1], item[2], cwd, relpath, lines, raw, target, seen)
                    elif (item[0], target) not in seen:
                        seen.add((item[0], target))
                        self.hit(item[0], relpath, _line_of(lines, raw), item[1], project=target)

    def _hop(self, kind, arg, wd, relpath, lines, raw, project, seen, depth=1,
             via_before="") -> None:
        """Follow a hop from a CI command into a target, task, job spec or script; record its
        signals. A hop inside the hop is followed too, up to :data:`MAX_HOPS` in all."""
        base = (wd or "").strip("/")
        join = (lambda name: f"{base}/{name}" if base and base != "." else name)
        body: list = []
        via = f"{kind} {arg}".strip()
        if kind in ("make", "just"):
            names = ("Makefile", "makefile", "GNUmakefile") if kind == "make" \
                else ("justfile", "Justfile", ".justfile")
            for n in names:
                text = self.read_rel(join(n))
                if text is not None:
                    body = make_recipe(text, arg)
                    via = f"{n} target {arg}"
                    break
        elif kind in ("invoke", "inv"):
            body = invoke_commands(self.read_rel(join("tasks.py")) or "", arg)
            via = f"tasks.py task {arg}"
        elif kind == "tox":
            text = self.read_rel(join("tox.ini")) or ""
            body = [ln.strip() for ln in text.split("\n")
                    if ln.startswith((" ", "\t", "commands")) and not ln.strip().startswith("#")]
            body = [b.split("=", 1)[1] if b.startswith("commands") else b for b in body]
            via = "tox.ini"
        elif kind == "nox":
            text = self.read_rel(join("noxfile.py")) or ""
            body = re.findall(r"session\.run\(\s*[\"']([\w.-]+)[\"']", text)
            via = "noxfile.py"
        elif kind == "script":
            text = self.read_rel(join(arg.lstrip("./") if arg.startswith("./") else arg))
            body = (text or "").split("\n")
            via = arg
        elif kind == "jobspec":  # a job spec (Anyscale, Ray, SkyPilot ...): its commands
            data = _load_yaml(self.read_rel(join(arg)) or "")
            body = [v for k, v, _wd in ci_commands(data) if k == "run"] \
                if isinstance(data, (dict, list)) else []
            body = [line for text in body for line in str(text).split("\n")]
            via = arg
        elif kind in ("mise", "taskfile", "poe"):
            for n in _TASK_FILES[kind]:
                text = self.read_rel(join(n))
                if text is not None:
                    body = task_commands(kind, text, arg, n.endswith(".toml"))
                    via = f"{n} task {arg}"
                    break
        elif kind == "task":
            for n in ("pixi.toml", "pyproject.toml"):
                text = self.read_rel(join(n)) or ""
                m = re.search(r"^[ \t]*[\"']?" + re.escape(arg) + r"[\"']?[ \t]*=[ \t]*(.+)$",
                              text, re.M)
                if m:
                    body = [re.sub(r"^\{?\s*(?:cmd\s*=\s*)?[\"'\[]+|[\"'\]}]+\s*$", "",
                                   m.group(1).strip())]
                    via = f"{n} task {arg}"
                    break
        via = f"{via_before} -> {via}" if via_before else via
        for line in body[:500]:
            for item in command_signals(line):
                if item[0] == "hop":
                    if depth < MAX_HOPS:
                        self._hop(item[1], item[2], wd, relpath, lines, raw, project, seen,
                                  depth + 1, via)
                elif (item[0], project) not in seen:
                    seen.add((item[0], project))
                    self.hit(item[0], relpath, _line_of(lines, raw),
                             f"via {via}: {item[1]}"[:120], project=project)

    # ---------------------------------------------------------------- other files

    def _yaml(self, lname, reldir, relpath, abspath, project) -> None:
        parent = reldir.lower()
        if parent == ".github/workflows":
            self._ci(relpath, abspath, "GitHub Actions", project)
        elif parent == ".circleci" and lname.startswith("config."):
            self._ci(relpath, abspath, "CircleCI", project)
        elif parent.endswith(".github/workflows"):
            return  # a nested project's workflows never run on GitHub
        elif lname in ("dependabot.yml", "dependabot.yaml"):
            self.hit("dependency-updates", relpath, detail="Dependabot", project=project)
        elif lname.startswith(("docker-compose", "compose.")):
            self.hit("compose", relpath, project=project)
        elif lname.endswith((".conda-lock.yml", ".conda-lock.yaml")):
            self.hit("lockfile", relpath, detail="conda-lock file", project=project)
        elif lname.startswith(("openapi.", "swagger.")):
            self.hit("api-schema", relpath, project=project)
        elif lname in _PLATFORM_FILES:
            text = self.read(abspath, relpath) or ""
            for signal, service, detail in platform_deploys(_load_yaml(text),
                                                            lname.startswith("render.")):
                self.hit(signal, relpath, _line_of(text.split("\n"), service), detail,
                         project=project)
        elif parent.endswith(("issue_template", ".gitlab/issue_templates")):
            self.hit("issue-template", relpath, project=project)
        elif "conf" in parent.split("/") and lname.startswith(("catalog", "parameters")):
            self._kedro(lname, relpath, abspath, project)
        else:
            text = self.search(abspath, relpath, YAML_K8S, project)
            if text and "tests:" in text and "columns:" in text:
                tested = dbt_tested_columns(_load_yaml(text))
                if tested:
                    self.hit("data-schema", relpath, _line_of(text.split("\n"), "tests:"),
                             f"dbt schema tests on {tested} column(s)", project=project)
            if text and "AWS::" in text and "Resources" in text:
                self._cloudformation(text, relpath, project)
            if text and "tasks:" in text and re.search(r"^resources[ \t]*:", text, re.M):
                for job, tasks, alerts in bundle_jobs(_load_yaml(text)):
                    line = _line_of(text.split("\n"), f"{job}:")
                    self.hit("pipeline", relpath, line,
                             f"Databricks job {job} ({tasks} tasks)"[:80], project=project)
                    if alerts:
                        self.hit("failure-alerts", relpath, line,
                                 f"Databricks job {job} notifies on failure"[:80],
                                 project=project)
            if text and "steps:" in text and ("cloud-builders" in text or "entrypoint:" in text) \
                    and re.search(r"^steps:", text, re.M):
                self._ci(relpath, abspath, "Google Cloud Build", project, text)
            elif text and re.search(r"^(?:dependencies|trigger|stages|jobs|steps)[ \t]*:", text,
                                    re.M):
                self._yaml_by_content(text, relpath, abspath, project)

    def _yaml_by_content(self, text: str, relpath: str, abspath: str, project: str) -> None:
        """A YAML file whose name says nothing: a conda environment or an Azure Pipelines file."""
        kind = yaml_kind(_load_yaml(text))
        if kind == "conda":
            self._conda(relpath, abspath, project, text)
        elif kind == "azure-pipelines":
            self._ci(relpath, abspath, "Azure Pipelines", project, text)

    def _conda(self, relpath: str, abspath: str, project: str, text: str | None = None) -> None:
        """A conda environment file; pinned when all its packages but one tool carry a version."""
        for signal, detail in _CONDA:
            self.hit(signal, relpath, detail=detail, project=project)
        text = self.read(abspath, relpath) if text is None else text
        total, pinned = conda_pins(_load_yaml(text) if text else None)
        if total >= 3 and pinned >= total - 1:
            self.hit("pinned-requirements", relpath,
                     detail=f"conda environment: {pinned} of {total} packages pinned",
                     project=project)

    def _kedro(self, lname: str, relpath: str, abspath: str, project: str) -> None:
        """A Kedro configuration file: parameters, or the data catalog (datasets and models)."""
        text = self.read(abspath, relpath)
        data = _load_yaml(text) if text else None
        if not isinstance(data, dict) or not data:
            return
        if lname.startswith("parameters"):
            self.hit("run-params", relpath, detail="Kedro parameters file", project=project)
            self._seeds_in_params(text, relpath, project)
            return
        lines = text.split("\n")
        for name, entry in data.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
                continue
            kind = entry["type"].lower()
            where = str(entry.get("filepath") or entry.get("path") or "")
            line = _line_of(lines, f"{name}:")
            versioned = entry.get("versioned") is True
            if "metrics" in kind:
                signal = "run-metrics"
            elif "model" in kind or _MODEL_NAME.search(str(name)) or _MODEL_NAME.search(where):
                signal = "model-saved"
            elif re.search(r"plot|matplotlib|html|reporting", f"{kind} {where}", re.I):
                continue  # a report, not data
            else:
                signal = "data-versioned" if versioned else "data-loading"
                if versioned:
                    self.hit("data-loading", relpath, line, f"Kedro catalog: {name}"[:80],
                             project=project)
            self.hit(signal, relpath, line,
                     f"Kedro catalog: {name}{' (versioned)' if versioned else ''}"[:80],
                     project=project)

    def _seeds_in_params(self, text: str | None, relpath: str, project: str) -> None:
        """A parameters file (DVC params.yaml, Kedro parameters) that fixes a seed: the code
        reads it (``random_state=params.seed``), which the parser cannot see as a number."""
        data = _load_yaml(text) if text else None
        stack, steps = [data], 0
        while stack and steps < 10_000:
            node, steps = stack.pop(), steps + 1
            if isinstance(node, dict):
                for key, val in node.items():
                    if _SEED_KEY.fullmatch(str(key)) and isinstance(val, int) \
                            and not isinstance(val, bool):
                        lines = (text or "").split("\n")
                        self.hit("seeds-set", relpath, _line_of(lines, f"{key}:"),
                                 f"{key}: {val} in a parameters file", project=project)
                        return
                    stack.append(val)
            elif isinstance(node, list):
                stack.extend(node)

    def _cloudformation(self, text: str, relpath: str, project: str) -> None:
        """A CloudFormation/SAM template: CodePipeline, traffic shifting, alarms, SageMaker."""
        data = _load_yaml(text, tags=True)
        resources = data.get("Resources") if isinstance(data, dict) else None
        if not isinstance(resources, dict):
            return
        lines = text.split("\n")
        found = False
        for name, res in resources.items():
            if not isinstance(res, dict) or not isinstance(res.get("Type"), str):
                continue
            kind, props = res["Type"], res.get("Properties")
            props = props if isinstance(props, dict) else {}
            if not kind.startswith(("AWS::", "Custom::")):
                continue
            found = True
            line = _line_of(lines, f"{name}:")
            for signal, detail in _cfn_signals(kind, props):
                self.hit(signal, relpath, line, f"{name}: {detail}"[:80], project=project)
        if found:
            self.hit("iac", relpath, detail="CloudFormation template", project=project)

    def _library(self, text: str) -> None:
        """Note the root's package name when the root folder holds that package (a library)."""
        m = re.search(r"^name\s*=\s*[\"']?([A-Za-z0-9_.-]+)", text, re.M)
        if m:
            name = re.sub(r"[-.]+", "_", m.group(1)).lower()
            if self.own_package(SHARED, name):
                self.result.library = name

    def _dvc_yaml(self, relpath, abspath, project) -> None:
        text = self.read(abspath, relpath)
        data = _load_yaml(text) if text else None
        if not isinstance(data, dict):
            return
        stages = data.get("stages")
        if isinstance(stages, dict) and stages:
            self.hit("dvc-pipeline", relpath, detail=f"{len(stages)} DVC stage(s)",
                     project=project)
            specs = [s for s in stages.values() if isinstance(s, dict)]
            if any(s.get("params") for s in specs) or data.get("params"):
                self.hit("run-params", relpath, detail="DVC params", project=project)
            if any(s.get("metrics") for s in specs) or data.get("metrics"):
                self.hit("run-metrics", relpath, detail="DVC metrics", project=project)
                self.hit("experiment-tracking", relpath, detail="DVC experiments (metrics)",
                         project=project)
            cmds = [c for s in specs for c in (s.get("cmd") if isinstance(s.get("cmd"), list)
                                               else [s.get("cmd")]) if isinstance(c, str)]
            if any(re.search(r"\btrain", c) for c in cmds):
                self.hit("train-command", relpath, detail="dvc repro (a train stage)",
                         project=project)
        elif data.get("metrics"):
            self.hit("run-metrics", relpath, detail="DVCLive metrics", project=project)
        if isinstance(data.get("artifacts"), dict) and data["artifacts"]:
            self.hit("model-registry", relpath, detail="DVC model registry artifacts",
                     project=project)

    def _dvc_file(self, abspath: str, relpath: str, project: str) -> None:
        """A ``*.dvc`` file: a model it tracks is model versioning, anything else data."""
        text = self.read(abspath, relpath)
        data = _load_yaml(text) if text else None
        outs = data.get("outs") if isinstance(data, dict) else None
        paths = [o.get("path") for o in outs if isinstance(o, dict)] \
            if isinstance(outs, list) else []
        models = [p for p in paths if isinstance(p, str) and _is_model_path(p)]
        if models and len(models) == len(paths):
            self.hit("dvc-model", relpath, detail=f"model tracked by DVC: {models[0][:80]}",
                     project=project)
        else:
            self.hit("dvc-data", relpath, detail="data tracked by DVC", project=project)

    def _dockerfile(self, abspath: str, relpath: str, project: str) -> None:
        text = self.search(abspath, relpath, DOCKER, project)
        base = None
        if text:
            m = re.search(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)", text, re.M | re.I)
            base = f"FROM {m.group(1)}" if m else None
        self.hit("dockerfile", relpath, detail=base, project=project)

    def _requirements(self, abspath: str, relpath: str, project: str) -> None:
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
                     detail=f"{total} requirement(s), {pinned} pinned with ==", project=project)
        if total and pinned == total or total >= 10 and pinned >= PINNED_SHARE * total:
            self.hit("pinned-requirements", relpath,
                     detail=f"{'all ' if pinned == total else ''}{pinned} of {total} "
                            f"requirement(s) pinned with ==", project=project)

    def _git_dir_from_file(self, path: str) -> str | None:
        """The Git folder a ``.git`` file points to, when it is a real Git folder."""
        text = self.read(path, ".git") or ""
        m = re.match(r"gitdir:\s*(.+?)\s*$", text.split("\n", 1)[0])
        if not m:
            return None
        target = os.path.join(self.root, m.group(1))
        if not _is_dir(target) or not _is_file(os.path.join(target, "HEAD")):
            return None
        common = os.path.join(target, "commondir")
        if _is_file(common):
            rel = (self.read(common, ".git (commondir)") or "").strip()
            candidate = os.path.join(target, rel)
            if rel and _is_dir(candidate) and _is_file(os.path.join(candidate, "HEAD")):
                return candidate
        return target

    def _git(self, gitpath: str, is_file: bool) -> None:
        if is_file:
            self.hit("git", ".git", detail="a .git file (worktree or submodule checkout)")
            gitpath = self._git_dir_from_file(gitpath)
            if gitpath is None:
                return
        else:
            self.hit("git", ".git", detail="Git repository")
        tags: set[str] = set()
        loose = None
        refs, tag_dir = os.path.join(gitpath, "refs"), os.path.join(gitpath, "refs", "tags")
        # never through a link: .git/refs/tags -> / must not walk the file system
        stack = [(tag_dir, "")] if _is_dir(refs) and _is_dir(tag_dir) else []
        while stack and len(tags) < 100_000:  # loose tags: small text files, names only
            folder, prefix = stack.pop()
            try:
                with os.scandir(folder) as it:
                    for e in it:
                        if e.is_dir(follow_symlinks=False):
                            stack.append((e.path, f"{prefix}{e.name}/"))
                        elif e.is_file(follow_symlinks=False):
                            tags.add(prefix + e.name)
                            loose = min(loose or prefix + e.name, prefix + e.name)
                        if len(tags) >= 100_000:
                            break
            except OSError:
                continue
        first_path = f".git/refs/tags/{loose}" if loose else None
        packed_path = os.path.join(gitpath, "packed-refs")
        if _is_file(packed_path):
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
            model_tags = sorted(t for t in tags if "@" in t or "#" in t)
            if model_tags:
                self.hit("model-registry", first_path, count=len(model_tags),
                         detail=f"model registry tags (GTO/DVC): {model_tags[0]}")
            stage_tags = sorted(t for t in tags if "#" in t)
            if stage_tags:  # GTO: name#stage#n assigns a stage, like a registry alias
                self.hit("registry-alias", first_path, count=len(stage_tags),
                         detail=f"stage tags (GTO/DVC): {stage_tags[0]}")
        config = os.path.join(gitpath, "config")
        if _is_file(config):
            self.search(config, ".git/config", GITCONFIG, SHARED)

    def _dvc(self, dvcpath: str, relpath: str, project: str) -> None:
        self.hit("dvc", relpath, detail="DVC project folder", project=project)
        config = os.path.join(dvcpath, "config")
        if _is_file(config):
            self.search(config, f"{relpath}/config", DVCCONFIG, project)


def _line_of(lines: list, text: str) -> int | None:
    """The first line of ``lines`` that contains the first line of ``text`` (for evidence)."""
    first = str(text).strip().split("\n", 1)[0].strip()
    if not first:
        return None
    for i, line in enumerate(lines, 1):
        if first in line:
            return i
    return None


def scan(path: str | Path, progress: Callable[[int], None] | None = None, every: int = 2000,
         read_limit: int = READ_LIMIT) -> ScanResult:
    """Walk the folder ``path`` read-only and return the signals found (see the module docstring).

    ``progress(n_files)`` is called every ``every`` files and once at the end. A missing path or
    a path that is not a folder raises ``ValueError`` naming it.
    """
    text = os.fspath(path)
    if not os.path.exists(text):
        raise ValueError(f"{_printable(text)}: no such folder")
    if not os.path.isdir(text):
        raise ValueError(f"{_printable(text)}: is a file, not a folder; give the project folder")
    return _Scanner(text, progress, every, read_limit).run()


# ------------------------------------------------------------------------------ the mapping

#: Every signal the scanner can record (the signals file must describe exactly these).
SIGNALS = frozenset(
    set(_IMPORTS.values()) | set(_CALLS.values())
    | {s for rules in (YAML_K8S, TERRAFORM, DOCKER, MAKE, PYPROJECT, SETUPCFG, TOX, GITATTRIBUTES,
                       GITCONFIG, DVCCONFIG, GITIGNORE) for s, _, _ in rules}
    | {s for pairs in _BY_NAME.values() for s, _ in pairs}
    | set(_DOC_PREFIXES.values()) | {s for _, s in _STEM_SIGNALS}
    | {s for _, s in _ACTIONS if s}
    | {"git", "git-tag", "dvc", "dvc-data", "dvc-pipeline", "iac", "ci", "compose", "lockfile",
       "api-schema", "dependency-updates", "issue-template", "pr-template", "codeowners",
       "readme", "changelog", "tests", "integration-tests", "docs", "pinned-requirements",
       "dependencies-listed", "experiment-tracking", "dockerfile", "health-check", "run-params",
       "run-metrics", "model-tests", "repro-test", "registry-alias", "api-schema", "ci-tests",
       "ci-coverage", "ci-lint", "ci-image", "ci-deploy", "ci-train", "model-packaging",
       "ci-environments", "drift-monitor", "data-loading", "tracker-integration",
       "data-versioned", "data-tests", "flow-artefacts", "pipeline-deploy", "dvc-model",
       "drift-job", "model-fit", "shared-features", "metric-test", "ci-publish",
       "failure-alerts", "request-schema", "ci-data-validation", "pipeline-checks",
       "pipeline-schedule", "freshness-checks", "saved-preprocessing", "ci-infra",
       "ci-deploy-manual"}
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
        for key in ("level_1", "level_2", "level_3"):
            _check_rule(spec.get(key), signals, f"{path}: field 'cells.{cid}.{key}'")
        for name in spec.get("evidence") or []:
            if name not in signals:
                raise ValueError(f"{path}: field 'cells.{cid}.evidence' names unknown signal "
                                 f"{name!r}")
    _check_held_out(data.get("held_out_rounds"), path)
    return data


_HELD_OUT_COUNTS = ("round", "repositories", "cells")
_HELD_OUT_SHARES = ("agreement", "precision", "recall")
#: a second reviewer's agreement with the first, and the scan's agreement with the second
_HELD_OUT_OPTIONAL = ("second_reviewer", "agreement_with_second")


def _check_held_out(rounds, path: str) -> None:
    """The optional ``held_out_rounds``: whole-number counts and percentages, rounds in order."""
    if rounds is None:
        return
    if not isinstance(rounds, list) or not rounds:
        raise ValueError(f"{path}: field 'held_out_rounds' must be a non-empty list")
    last = 0
    for i, entry in enumerate(rounds):
        where = f"{path}: field 'held_out_rounds[{i}]'"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a mapping")
        for key in _HELD_OUT_COUNTS:
            if type(entry.get(key)) is not int or entry[key] < 1:
                raise ValueError(f"{where}.{key} must be a whole number of at least 1")
        for key in (*_HELD_OUT_SHARES, *_HELD_OUT_OPTIONAL):
            value = entry.get(key)
            if key in _HELD_OUT_OPTIONAL and value is None:
                continue
            if type(value) not in (int, float) or not 0 <= value <= 100:
                raise ValueError(f"{where}.{key} must be a percentage from 0 to 100")
        if entry["round"] <= last:
            raise ValueError(f"{where}.round must follow round {last}")
        last = entry["round"]


def held_out_figures(rubric_id: str = "mle-maturity") -> dict | None:
    """The latest calibration round's figures on unseen repositories (``held_out_rounds`` of the
    signals file), or None when the file records none."""
    rounds = load_signal_map(rubric_id).get("held_out_rounds")
    return dict(rounds[-1]) if rounds else None


def trust_text(rubric_id: str = "mle-maturity") -> str:
    """One sentence on how often the suggestions matched a reviewer on unseen repositories."""
    f = held_out_figures(rubric_id)
    if f is None:
        return "Check every cell: the suggestions have not been compared with a reviewer's."
    second = (f" (two reviewers matched each other on {f['second_reviewer']:.0f}%)"
              if f.get("second_reviewer") is not None else "")
    return (f"On {f['repositories']} public repositories it was never tuned on, the suggested "
            f"level matched a reviewer's on {f['agreement']:.0f}% of cells{second}, and found "
            f"{f['recall']:.0f}% of the cells a reviewer put at level 2 or 3: check every cell.")


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
    """Every signal a cell's mapping names (levels 1, 2 and 3)."""
    out = []
    for key in ("level_1", "level_2", "level_3"):
        for name in rule_signals(spec.get(key)):
            if name not in out:
                out.append(name)
    return out


def _looks_for(names: list, signals: dict | None) -> str:
    if not signals:
        return ""
    parts = [f"{n}: {signals[n]['looks_for']}" for n in names if n in signals]
    return f" (looked for {'; '.join(parts)})" if parts else ""


def suggest_cell(spec: dict, found: Callable[[str], bool], outside_text: str = OUTSIDE,
                 signals: dict | None = None):
    """``(level, note, used)`` for one cell: the level, why, and the signals that made it.

    Level 0 ("not in place") when the cell's level-1 rule finds nothing; level 3 counts only
    when level 2 does. The note names what was found and, for the next level, what was looked
    for and not found.
    """
    level, parts, used = 0, [], []
    for target in (1, 2, 3):  # maturity builds up: a level counts only on top of the one below
        rule = spec.get(f"level_{target}")
        if rule is None and target == 1:
            level = 1
            continue
        if isinstance(rule, dict):
            label = f"Level {target} and above" if target < 3 else "Level 3"
            parts.append(f"{label}: {outside_text} ({rule['outside']}).")
            break
        ok, _missing = evaluate_rule(rule, found)
        if not ok:  # name every signal of the rule that was not seen, and what it looks for
            miss = []  # every term that failed, in every alternative
            for alt in rule:
                for term in alt:
                    if not any(found(n) for n in _names(term)):
                        miss += [n for n in _names(term) if n not in miss]
            parts.append(f"Level {target} needs {rule_text(rule)}; not found: "
                         f"{', '.join(miss)}{_looks_for(miss, signals)}.")
            break
        level = target
        got = found_in_rule(rule, found)
        used = [n for n in got if n not in used] + used  # the highest level's evidence first
        parts.append(f"Level {target}: found {', '.join(got)}.")
    if spec.get("note"):
        parts.append(spec["note"].strip())
    return level, " ".join(parts), used


def _best_project(spec, result, outside_text, signals, found=None):
    """The project whose evidence gives the highest level (the shared layer on a tie)."""
    best = None
    found = found or result.found
    for project in result.projects:
        level, note, used = suggest_cell(spec, lambda s, p=project: found(s, p),
                                         outside_text, signals)
        if best is None or level > best[0]:
            best = (level, note, used, project)
    return best


_TEMPLATE_CELLS = frozenset({"ways-of-working.model", "ways-of-working.data"})


def suggest(result: ScanResult, rubric: Rubric | str = "mle-maturity", created=None) -> dict:
    """Turn a :class:`ScanResult` into an assessment: levels, evidence, notes, all prefilled.

    Each cell is judged per project (a rule's signals must come from one project or the
    repository-wide layer); the best project gives the level, and the note names it when the
    repository holds several. Evidence lists only the signals that made the level.
    """
    rubric = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    mapping = load_signal_map(rubric.id)
    outside_text = mapping.get("outside_text", OUTSIDE)
    from mlecourse.scorecard.assessment import new_assessment

    answers, notes, evidence = {}, {}, {}
    several = len(result.projects) > 1
    no_model = result.library is not None and not result.trains_models()
    modelled = result.library is not None or result.has_model()
    for cid in rubric.cells:
        spec = mapping["cells"][cid]
        ignored = why = None
        if result.template and cid in _TEMPLATE_CELLS:
            # a template's README explains the template, not a model or dataset of its own
            ignored, why = {"readme"}, (f"The repository is a project template "
                                        f"({result.template}): its README documents the "
                                        f"template, not a model or data of its own.")
        elif result.skeleton and cid in _TEMPLATE_CELLS:
            ignored, why = {"readme"}, (f"{result.skeleton} was generated from a project "
                                        f"template: it documents the template's layout, not "
                                        f"a model or data of its own.")
        elif no_model and rubric.cells[cid].item == "data":
            ignored, why = _LIBRARY_DATA_NOISE, (
                f"The folder is the library {result.library!r} without a model of its own: "
                f"its README and the data its examples load do not count here.")
        if ignored is not None:
            level, note, used, project = _best_project(
                spec, result, outside_text, mapping["signals"],
                lambda s, p: s not in ignored and result.found(s, p))
            answers[cid] = level
            notes[cid] = f"Suggested by a scan of the repository: level {level}. {note} {why}"
            items = [ev for name in used for ev in result.evidence(name, project)]
            if items:
                evidence[cid] = items
            continue
        if no_model and rubric.cells[cid].item == "model":
            answers[cid] = 0
            notes[cid] = (f"Suggested by a scan of the repository: level 0. The folder is the "
                          f"library {result.library!r} and nothing in it trains, tracks, "
                          f"packages or serves a model (looked for "
                          f"{', '.join(TRAINING_SIGNALS)}), so it has no model of its own.")
            continue
        level, note, used, project = _best_project(spec, result, outside_text,
                                                   mapping["signals"])
        if level and not modelled and rubric.cells[cid].item == "model":
            answers[cid] = 0
            notes[cid] = (f"Suggested by a scan of the repository: level 0. Nothing here "
                          f"trains, saves, loads, evaluates, tracks or packages a model (looked "
                          f"for {', '.join(MODEL_SIGNALS)}), so its README, apps and settings "
                          f"document no model.")
            continue
        where = ""
        if several and level > 0:
            where = (f" (project {project}/)" if project else
                     " (from the repository root)")
        answers[cid] = level
        notes[cid] = f"Suggested by a scan of the repository: level {level}{where}. {note}"
        items = [ev for name in used for ev in result.evidence(name, project)]
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
            "Level 1 when": rule_text(spec["level_1"]) if spec.get("level_1") else "always",
            "Level 2 when (and level 1)": rule_text(spec["level_2"]),
            "Level 3 when (and level 2)": rule_text(spec["level_3"]),
        })
    return rows


# ------------------------------------------------------------------------------ reports

def _printable(text) -> str:
    """Text with control and format characters escaped (``\x1b`` -> ``\\x1b``, newline -> ``\\n``).

    File names and file contents reach the terminal; an escape sequence in a name must not
    recolour it or set its title.
    """
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def md_text(text) -> str:
    """Markdown-safe text: control characters escaped, Markdown and HTML specials backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", _printable(text))


def md_code(text) -> str:
    """A code span that shows ``text`` literally (paths): fence longer than any backtick run."""
    text = _printable(text).replace("|", "\\|")  # a | would end the table cell even in code
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _where(ev: dict) -> str:
    return ev.get("path", "") + (f":{ev['line']}" if ev.get("line") else "")


def _evidence_summary(items: list, limit: int = 3) -> str:
    by_signal: dict[str, dict] = {}
    for ev in items:
        by_signal.setdefault(ev["signal"], ev)
    parts = [f"{signal} ({_printable(_where(ev))})"
             for signal, ev in list(by_signal.items())[:limit]]
    if len(by_signal) > limit:
        parts.append(f"+{len(by_signal) - limit} more")
    return ", ".join(parts)


def _outside_cells(rubric_id: str) -> set:
    mapping = load_signal_map(rubric_id)
    return {cid for cid, spec in mapping["cells"].items() if isinstance(spec["level_2"], dict)}


def _reason(note: str) -> str:
    """The part of a note after "Suggested by a scan ... level N." (the reason itself)."""
    return note.split(". ", 1)[1] if note.startswith("Suggested by a scan") and ". " in note \
        else note


def format_text(assessment: dict, result: ScanResult | None = None) -> str:
    """A readable table (principle x aspect, level, evidence) with the reason under each cell."""
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
        lines += [f"Evidence from {_printable(result.root)} ({s['files']:,} files, "
                  f"{s['files_read']:,} read, {s['seconds']:.2f} s)"]
        if len(result.projects) > 1:
            shown = ", ".join(_printable(p or ".") for p in result.projects[:8])
            more = f", +{len(result.projects) - 8} more" if len(result.projects) > 8 else ""
            lines.append(f"Projects judged separately ({len(result.projects)}): {shown}{more}")
        lines.append("")
    lines.append(f"{'Principle':<{pw}}  {'Aspect':<{aw}}  Level  Evidence")
    for cid, cell in rubric.cells.items():
        level = assessment["answers"][cid]
        mark = "*" if cid in outside else " "
        ev = _evidence_summary(assessment["evidence"].get(cid, [])) or "-"
        lines.append(f"{names[cell.group]:<{pw}}  {items[cell.item]:<{aw}}  {level}{mark:<4}  {ev}")
        lines.append(" " * (pw + aw + 4) + "why: "
                     + _printable(_reason(assessment["notes"].get(cid, ""))))
    res = score(rubric, assessment["answers"])
    lines += ["", f"* {OUTSIDE} (above the level shown).",
              f"Suggested overall: {res.display['overall']}, weakest principle "
              f"{res.display['weakest']} (every answer is a suggestion; change what is wrong).",
              *textwrap.wrap(trust_text(rubric.id), 100)]
    if result is not None:
        lines += [_printable(x) for x in _problem_lines(result)]
    return "\n".join(lines)


def _problem_lines(result: ScanResult) -> list:
    s = result.stats
    lines = []
    skipped = [f"{s['skipped_folders']} folder(s) skipped (virtual environments, caches, "
               f"node_modules)" if s["skipped_folders"] else "",
               f"{s['submodules']} submodule(s) or nested repositories excluded "
               f"({', '.join(result.excluded[:5])})" if s.get("submodules") else "",
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


def format_markdown(assessment: dict, result: ScanResult | None = None) -> str:
    """A Markdown report for a pull-request comment or a README (table plus the reasons).

    Paths are code spans; every other piece of text from the folder is escaped, so a file name
    cannot add headings, links, images or HTML.
    """
    from mlecourse.scorecard.scoring import score

    rubric = load_rubric(assessment["rubric"]["id"])
    outside = _outside_cells(rubric.id)
    names = {g.id: g.name for g in rubric.groups}
    items = {it.id: it.name for it in rubric.items}
    res = score(rubric, assessment["answers"])
    title = Path(result.root).resolve().name if result is not None else "the repository"
    lines = [f"### {md_text(rubric.title)}: evidence from {md_code(title)}", "",
             f"Suggested overall **{md_text(res.display['overall'])}**, weakest principle "
             f"**{md_text(res.display['weakest'])}**. These are suggestions "
             f"from a read-only scan; cells marked \\* need your own answer above the level "
             f"shown ({md_text(OUTSIDE)}). {md_text(trust_text(rubric.id))}", "",
             "| Principle | Aspect | Level | Evidence |", "|---|---|:-:|---|"]
    for cid, cell in rubric.cells.items():
        by_signal: dict[str, list] = {}
        for e in assessment["evidence"].get(cid, []):
            by_signal.setdefault(e["signal"], []).append(e)
        shown = []
        for signal, places in by_signal.items():  # the most relevant place of each signal
            more = f" (+{len(places) - 1})" if len(places) > 1 else ""
            shown.append(f"{md_code(signal)} {md_code(_where(places[0]))}{more}")
        mark = " \\*" if cid in outside else ""
        lines.append(f"| {md_text(names[cell.group])} | {md_text(items[cell.item])} | "
                     f"{assessment['answers'][cid]}{mark} | {'<br>'.join(shown) or '–'} |")
    lines += ["", "<details><summary>Why these levels</summary>", ""]
    for cid, cell in rubric.cells.items():
        lines.append(f"- **{md_text(names[cell.group])}, {md_text(items[cell.item])}**: "
                     f"{md_text(assessment['notes'].get(cid, ''))}")
    lines += ["", "</details>"]
    if result is not None:
        extra = _problem_lines(result)
        if extra:
            lines += [""] + [md_text(x) if not x.startswith("  ") else f"- {md_text(x.strip())}"
                             for x in extra]
    return "\n".join(lines)
