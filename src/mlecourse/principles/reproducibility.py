"""Reproducibility helpers: fingerprint the environment, check it against the lock, train twice.

The talk defines reproducibility as being able to recreate the current state of the *entire* ML
system: code, data, model, configuration and environment. The versioning module fingerprints
data and code; this one adds the rest::

    from mlecourse.principles.reproducibility import (
        TrainingConfig, compare_with_lock, config_hash, environment_fingerprint, train_twice)
    environment_fingerprint()                 # 64 hex digits: Python + every installed package
    compare_with_lock("requirements.txt")     # what differs from the course's lock
    train_twice(TrainingConfig()).identical   # Breck et al.'s "train twice and compare" test
    config_hash(TrainingConfig(C=0.5))        # changes with any field of the configuration

Environment
-----------
:func:`installed_packages` reads the running environment with :mod:`importlib.metadata` (names
normalised as in PEP 503, so ``scikit_learn`` and ``scikit-learn`` are one package).
:func:`read_lock` reads a pinned requirements file such as ``requirements.txt`` compiled by
``uv pip compile --universal``: a *universal* lock may pin a package several times, each pin
with an environment marker (``numpy==2.2.6 ; python_full_version < '3.11'``); the pins whose
markers hold for this interpreter are the ones that apply. Nothing here resolves or installs.

Randomness
----------
:func:`run_pipeline` trains the running example under a :class:`TrainingConfig`. Every source of
randomness is a field: ``split_seed`` (which rows are held out), ``model_seed`` (the random
forest's bootstrap and feature draws), ``sort_rows`` (the source returns rows in an arbitrary
order, as a database query without ``ORDER BY`` does; sorting by ``application_id`` fixes it)
and ``features`` (the column order the model sees). A seed of ``None`` means unseeded: a fresh
draw on every run. :func:`set_order_in_subprocess` shows the last kind, hash randomisation: the
iteration order of a ``set`` of strings depends on ``PYTHONHASHSEED``, so two processes can see
different orders.

Pipelines
---------
:func:`write_dvc_project` writes the running example's data preparation and training as a DVC
pipeline (``dvc.yaml`` with two stages) into a throwaway Git repository; :func:`dvc_repro` runs
``dvc repro`` on it (DVC's Python API, offline, analytics off) and says which stages ran.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from mlecourse.example.simulate import (
    FEATURES,
    TARGET,
    simulate_loans,
)

__all__ = [
    "normalise_name",
    "metadata_name_version",
    "installed_packages",
    "installed_version",
    "environment_snapshot",
    "environment_fingerprint",
    "LockEntry",
    "lock_entries",
    "read_lock",
    "LockMismatch",
    "compare_with_lock",
    "allowed_versions",
    "TrainingConfig",
    "config_hash",
    "RunResult",
    "run_pipeline",
    "TwiceResult",
    "prediction_difference",
    "train_twice",
    "set_order_in_subprocess",
    "run_functions_in_subprocesses",
    "run_function_in_subprocess",
    "LINEAGE_KEYS",
    "lineage_record",
    "compare_lineage",
    "write_dvc_project",
    "ReproResult",
    "dvc_repro",
    "set_params",
    "dvc_output_hashes",
    "DOCKERFILE",
    "dockerfile_problems",
]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


def _sha256_json(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the environment --------------------------------------------------------------------------

def normalise_name(name: str) -> str:
    """A distribution name as PEP 503 compares them: lower case, runs of ``-_.`` become ``-``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a package name must be a non-empty string, got {name!r}")
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def metadata_name_version(text: str) -> tuple[str | None, str | None]:
    """``(Name, Version)`` from the text of a distribution's ``METADATA`` (or ``PKG-INFO``) file.

    Only the header block goes to :mod:`email`'s parser (which ``importlib.metadata`` uses too):
    it ends at the first empty line, before the long description that makes up most of the
    file. ``None`` for a missing field.
    """
    from email.parser import HeaderParser

    header = re.split(r"\r?\n[ \t]*\r?\n", text, maxsplit=1)[0]
    fields = HeaderParser().parsestr(header)
    return fields.get("Name") or None, fields.get("Version") or None


def installed_packages() -> dict[str, str]:
    """``{normalised name: version}`` of every distribution the running interpreter can import.

    Found with :func:`importlib.metadata.distributions`; when a name is installed twice on the
    path, the first one found wins, as it does for ``import``.
    """
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        # dist.metadata parses the whole file with the email parser, and dist.version parses
        # it again: about 4x the time of parsing the header block once (0.4 s for 300 packages).
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
        name, version = metadata_name_version(text)
        if name:
            found.setdefault(normalise_name(name), version)
    return dict(sorted(found.items()))


def installed_version(name: str) -> str:
    """The installed version of package ``name``; ValueError naming it when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    normalise_name(name)
    try:
        return version(name)
    except PackageNotFoundError:
        raise ValueError(f"package {name!r} is not installed in this environment "
                         f"({sys.executable}); check the spelling or install it") from None


def environment_snapshot(packages: Iterable[str] | None = None) -> dict:
    """What an environment fingerprint covers: the interpreter, the platform and the packages.

    ``packages=None`` takes every installed distribution; a list restricts it to those names
    (ValueError for one that is not installed).
    """
    if packages is None:
        pinned = installed_packages()
    else:
        if isinstance(packages, str):
            raise TypeError("packages must be a list of names, not one string")
        pinned = {normalise_name(n): installed_version(n) for n in packages}
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "machine": os.uname().machine if hasattr(os, "uname") else "",
        "packages": dict(sorted(pinned.items())),
    }


def environment_fingerprint(packages: Iterable[str] | None = None, *,
                            snapshot: Mapping | None = None) -> str:
    """SHA-256 (64 hex digits) of :func:`environment_snapshot`: changes with any version.

    Pass ``snapshot`` to fingerprint a recorded environment instead of the running one.
    """
    if snapshot is None:
        snapshot = environment_snapshot(packages)
    elif not isinstance(snapshot, Mapping) or "packages" not in snapshot:
        raise ValueError("environment_fingerprint: snapshot must be a mapping with a "
                         "'packages' field, as environment_snapshot() returns")
    return _sha256_json(dict(snapshot))


# --- the lock ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LockEntry:
    """One pin of a lock file: ``name==version`` with its marker (``""``: always) and line."""

    name: str
    version: str
    marker: str
    line: int


def _lock_lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.exists():
        raise ValueError(f"lock file {path} does not exist")
    if not path.is_file():
        raise ValueError(f"lock file {path} is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"lock file {path} is not UTF-8 text") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            yield number, line


def lock_entries(lock_path) -> list[LockEntry]:
    """Every pin in a lock file, in file order (all environments of a universal lock).

    Raises ValueError naming the file (and line) when it is missing, holds an option line
    (``-r``, ``-e``, ``--hash``: not supported here), a line that is not a requirement, or a
    requirement that is not pinned to one version with ``==``.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    path = Path(lock_path)
    entries = []
    for number, line in _lock_lines(path):
        where = f"{path}, line {number}"
        if line.startswith("-"):
            raise ValueError(f"{where}: option lines such as {line.split()[0]!r} are not "
                             "supported; a lock lists one pinned package per line")
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            raise ValueError(f"{where}: cannot read {line!r} as a requirement ({exc})") from None
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
            raise ValueError(f"{where}: {line!r} is not pinned; a lock pins every package to "
                             "exactly one version with == (a loose range belongs in "
                             "requirements.in)")
        entries.append(LockEntry(normalise_name(req.name), specs[0].version,
                                 str(req.marker) if req.marker else "", number))
    if not entries:
        raise ValueError(f"lock file {path} pins no packages")
    return entries


def read_lock(lock_path, environment: Mapping | None = None) -> dict[str, str]:
    """``{name: version}`` of the pins that apply to ``environment`` (default: this interpreter).

    ``environment`` is a marker environment (``packaging.markers.default_environment()`` keys,
    e.g. ``{"python_full_version": "3.10.14", ...}``); missing keys take this interpreter's
    values. Raises the errors of :func:`lock_entries`, and ValueError naming both lines when two
    pins of one package apply at once.
    """
    from packaging.markers import Marker, default_environment

    env = default_environment()
    if environment is not None:
        env.update(environment)
    pins: dict[str, LockEntry] = {}
    for entry in lock_entries(lock_path):
        if entry.marker and not Marker(entry.marker).evaluate(env):
            continue
        if entry.name in pins:
            raise ValueError(f"{lock_path}: {entry.name} is pinned twice for this environment "
                             f"(lines {pins[entry.name].line} and {entry.line})")
        pins[entry.name] = entry
    return {name: pins[name].version for name in sorted(pins)}


@dataclass(frozen=True)
class LockMismatch:
    """One difference between the lock and the running environment.

    ``problem`` is ``"different version"``, ``"not installed"`` (locked, missing here) or
    ``"not in the lock"`` (installed here, not locked).
    """

    package: str
    locked: str | None
    installed: str | None
    problem: str


def compare_with_lock(lock_path, installed: Mapping[str, str] | None = None, *,
                      environment: Mapping | None = None,
                      ignore: Iterable[str] = ()) -> list[LockMismatch]:
    """Compare the lock's pins for this environment with what is installed; [] when they agree.

    ``installed`` defaults to :func:`installed_packages`; ``ignore`` names packages to leave
    out (for example the project's own package, which the lock does not pin). Sorted by
    package name.
    """
    locked = read_lock(lock_path, environment)
    have = installed_packages() if installed is None else {
        normalise_name(k): str(v) for k, v in dict(installed).items()}
    skip = {normalise_name(n) for n in ignore}
    found = []
    for name in sorted(set(locked) | set(have)):
        if name in skip:
            continue
        want, got = locked.get(name), have.get(name)
        if want is None:
            found.append(LockMismatch(name, None, got, "not in the lock"))
        elif got is None:
            found.append(LockMismatch(name, want, None, "not installed"))
        elif want != got:
            found.append(LockMismatch(name, want, got, "different version"))
    return found


def allowed_versions(requirement: str, versions: Iterable[str]) -> list[str]:
    """The ``versions`` a requirement such as ``"scikit-learn>=1.0"`` accepts, in the given order.

    Raises ValueError naming a requirement or version that cannot be read.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    try:
        spec = Requirement(requirement).specifier
    except InvalidRequirement as exc:
        raise ValueError(f"cannot read {requirement!r} as a requirement ({exc})") from None
    allowed = []
    for v in versions:
        try:
            Version(v)
        except InvalidVersion:
            raise ValueError(f"{v!r} is not a version number") from None
        if spec.contains(v, prereleases=True):
            allowed.append(v)
    return allowed


# --- configuration as code --------------------------------------------------------------------

_MODELS = ("logistic", "forest")


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run of the running example, typed and checked.

    Data: ``months`` x ``rows_per_month`` simulated applications from ``data_seed``; the source
    returns them in an arbitrary order, so ``sort_rows`` (sort by ``application_id``) decides
    whether the order is fixed. Split: ``test_size`` of the rows held out, drawn with
    ``split_seed``. Model: ``"logistic"`` (the course's pipeline, regularisation ``C``) or
    ``"forest"`` (``n_estimators`` trees of depth ``max_depth``, drawn with ``model_seed``),
    fed the columns in the order of ``features``. A seed of ``None`` means unseeded.
    """

    months: int = 6
    rows_per_month: int = 500
    data_seed: int = 0
    sort_rows: bool = True
    test_size: float = 0.25
    split_seed: int | None = 0
    model: str = "forest"
    C: float = 1.0
    n_estimators: int = 30
    max_depth: int = 6
    model_seed: int | None = 0
    features: tuple = tuple(FEATURES)

    def __post_init__(self):
        def whole(name, low, optional=False):
            value = getattr(self, name)
            if optional and value is None:
                return
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"TrainingConfig.{name} must be an int"
                                f"{' or None' if optional else ''}, got {value!r}")
            if value < low:
                raise ValueError(f"TrainingConfig.{name} must be >= {low}, got {value}")
            object.__setattr__(self, name, int(value))

        for name, low in (("months", 1), ("rows_per_month", 20), ("data_seed", 0),
                          ("n_estimators", 1), ("max_depth", 1)):
            whole(name, low)
        for name in ("split_seed", "model_seed"):
            whole(name, 0, optional=True)
        if not isinstance(self.sort_rows, bool):
            raise TypeError(f"TrainingConfig.sort_rows must be True or False, "
                            f"got {self.sort_rows!r}")
        for name, low, high in (("test_size", 0.0, 1.0), ("C", 0.0, float("inf"))):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                raise TypeError(f"TrainingConfig.{name} must be a number, got {value!r}")
            if not (low < float(value) < high):
                raise ValueError(f"TrainingConfig.{name} must be between {low} and {high} "
                                 f"(exclusive), got {value}")
            object.__setattr__(self, name, float(value))
        if self.model not in _MODELS:
            raise ValueError(f"TrainingConfig.model must be one of {', '.join(_MODELS)}, "
                             f"got {self.model!r}")
        feats = self.features
        if isinstance(feats, (str, set, frozenset)) or not isinstance(feats, (list, tuple)):
            raise TypeError("TrainingConfig.features must be a list or tuple of column names "
                            f"(an ordered collection, not a set), got {type(feats).__name__}")
        feats = tuple(feats)
        unknown = [f for f in feats if f not in FEATURES]
        if unknown or len(set(feats)) != len(feats) or not feats:
            raise ValueError(f"TrainingConfig.features must name each model input at most "
                             f"once, out of {', '.join(FEATURES)}; got {list(feats)}")
        object.__setattr__(self, "features", feats)

    @classmethod
    def from_dict(cls, data: Mapping) -> "TrainingConfig":
        """Build from a mapping; ValueError naming unknown fields (a typo must not pass)."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a training configuration must be a mapping, "
                            f"got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown configuration field(s): {', '.join(unknown)} "
                             f"(known: {', '.join(f.name for f in fields(cls))})")
        return cls(**dict(data))

    @classmethod
    def from_yaml(cls, text: str) -> "TrainingConfig":
        """Parse YAML text (a mapping of fields) into a checked configuration."""
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"the configuration is not valid YAML: {exc}") from None
        return cls.from_dict(data if data is not None else {})

    def to_dict(self) -> dict:
        """Plain, JSON-ready fields (``features`` as a list)."""
        data = asdict(self)
        data["features"] = list(self.features)
        return data

    def to_yaml(self) -> str:
        """YAML text that :meth:`from_yaml` reads back to an equal configuration."""
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def config_hash(config: TrainingConfig) -> str:
    """SHA-256 (64 hex digits) of the configuration's fields: changes when any field changes."""
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config_hash expects a TrainingConfig, got {type(config).__name__}")
    return _sha256_json(config.to_dict())


# --- the pipeline, and training twice ---------------------------------------------------------

def _source_rows(config: TrainingConfig, data: pd.DataFrame | None) -> pd.DataFrame:
    """The rows as the source returns them: in an arbitrary order, like an unordered query."""
    if data is None:
        # One month more than the training months: the last is the evaluation month.
        data = simulate_loans(months=config.months + 1, rows_per_month=config.rows_per_month,
                              seed=config.data_seed)
    elif not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in ["month", "application_id", *FEATURES, TARGET] if c not in data.columns]
    if missing:
        raise ValueError(f"data lacks column(s): {', '.join(missing)}")
    if data["month"].nunique() < 2:
        raise ValueError("data must span at least two months: the last one is the evaluation "
                         "month, the earlier ones are for training")
    order = np.random.default_rng().permutation(len(data))  # unseeded on purpose
    return data.iloc[order].reset_index(drop=True)


def build_model(config: TrainingConfig):
    """The course's pipeline (``make_model``) with the columns in ``config.features`` order and
    the classifier the configuration names."""
    from sklearn.ensemble import RandomForestClassifier

    from mlecourse.example.model import make_model

    model = make_model(seed=0 if config.model_seed is None else config.model_seed)
    pre = model.named_steps["pre"]
    wanted = list(config.features)
    # The same transformers as make_model, each given its columns in the configured order.
    model.set_params(pre__transformers=[
        (name, transformer, [c for c in wanted if c in columns])
        for name, transformer, columns in pre.transformers])
    if config.model == "forest":
        model.set_params(clf=RandomForestClassifier(
            n_estimators=config.n_estimators, max_depth=config.max_depth,
            random_state=config.model_seed, n_jobs=1))
    else:
        model.set_params(clf__C=config.C, clf__random_state=config.model_seed)
    return model


@dataclass(frozen=True)
class RunResult:
    """One training run: the model, the rows it trained and was tested on, its predictions.

    ``predictions`` are for the held-out test rows (so they change when the split does);
    ``eval_predictions`` are for the evaluation month, the same applications in every run, so
    two runs can always be compared one to one. Both are P(default) indexed by
    ``application_id``, sorted by it.
    """

    model: object
    train_ids: np.ndarray
    test_ids: np.ndarray
    predictions: pd.Series
    eval_predictions: pd.Series
    auc: float


def _predict(model, rows: pd.DataFrame, features: list) -> pd.Series:
    rows = rows.sort_values("application_id")
    return pd.Series(model.predict_proba(rows[features])[:, 1],
                     index=pd.Index(rows["application_id"].to_numpy(), name="application_id"),
                     name="p_default")


def run_pipeline(config: TrainingConfig | None = None,
                 data: pd.DataFrame | None = None) -> RunResult:
    """Train the running example as ``config`` says; predict the test rows and the next month.

    ``data`` defaults to the simulated applications the configuration describes plus one
    month; the last month of the data is the evaluation month, the others are split into
    training and test rows.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    config = TrainingConfig() if config is None else config
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"run_pipeline expects a TrainingConfig, got {type(config).__name__}")
    rows = _source_rows(config, data)
    if config.sort_rows:
        rows = rows.sort_values("application_id", kind="stable").reset_index(drop=True)
    last = rows["month"].max()
    pool, evaluation = rows[rows["month"] < last], rows[rows["month"] == last]
    train, test = train_test_split(pool, test_size=config.test_size,
                                   random_state=config.split_seed)
    features = list(config.features)
    model = build_model(config)
    with threadpool_limits(limits=1):
        model.fit(train[features], train[TARGET])
        predictions = _predict(model, test, features)
        eval_predictions = _predict(model, evaluation, features)
    auc = roc_auc_score(test.set_index("application_id").loc[predictions.index, TARGET],
                        predictions.to_numpy())
    return RunResult(model=model, train_ids=np.sort(train["application_id"].to_numpy()),
                     test_ids=predictions.index.to_numpy(), predictions=predictions,
                     eval_predictions=eval_predictions, auc=float(auc))


def prediction_difference(a: pd.Series, b: pd.Series) -> float:
    """Largest absolute difference between two runs' predictions for the same applications.

    ``inf`` when the runs predicted for different applications (their held-out rows differ:
    the predictions cannot be compared one to one).
    """
    for label, s in (("a", a), ("b", b)):
        if not isinstance(s, pd.Series):
            raise TypeError(f"prediction_difference: {label} must be a pandas Series indexed "
                            f"by application id, got {type(s).__name__}")
    if len(a) != len(b) or not a.index.sort_values().equals(b.index.sort_values()):
        return float("inf")
    return float(np.max(np.abs(a.sort_index().to_numpy() - b.sort_index().to_numpy()),
                        initial=0.0))


@dataclass(frozen=True)
class TwiceResult:
    """Breck et al.'s "train twice and compare": how far two runs of one configuration differ.

    ``max_difference`` is the largest difference between the two runs' predictions for the
    evaluation month (the same applications in both runs), ``n_different`` how many of those
    ``n_predictions`` differ at all; ``same_training_rows`` and ``same_test_rows`` say whether
    the split held out the same applications.
    """

    max_difference: float
    n_different: int
    n_predictions: int
    same_training_rows: bool
    same_test_rows: bool

    @property
    def identical(self) -> bool:
        return self.max_difference == 0.0


def train_twice(config: TrainingConfig | None = None, data: pd.DataFrame | None = None, *,
                second: TrainingConfig | None = None) -> TwiceResult:
    """Train twice (in this process) and compare; ``second`` (default: ``config``) for the rerun.

    Differences come from everything the configuration leaves unseeded. Hash randomisation
    cannot show here (one process has one hash seed): see :func:`set_order_in_subprocess`.
    """
    config = TrainingConfig() if config is None else config
    first = run_pipeline(config, data)
    again = run_pipeline(config if second is None else second, data)
    a, b = first.eval_predictions, again.eval_predictions
    return TwiceResult(max_difference=prediction_difference(a, b),
                       n_different=int((a.to_numpy() != b.to_numpy()).sum()),
                       n_predictions=int(len(a)),
                       same_training_rows=bool(np.array_equal(first.train_ids, again.train_ids)),
                       same_test_rows=bool(np.array_equal(first.test_ids, again.test_ids)))


# --- hash randomisation: fresh processes ------------------------------------------------------

def _child_env(hash_seed: int, extra_path: Iterable[str] = ()) -> dict:
    if isinstance(hash_seed, bool) or not isinstance(hash_seed, int) or not (
            0 <= hash_seed <= 4294967295):
        raise ValueError(f"hash_seed must be an int from 0 to 4294967295, got {hash_seed!r}")
    env = dict(os.environ)
    # The child must import *this* mlecourse (a worktree may shadow the installed one).
    package_root = str(Path(__file__).resolve().parents[2])
    paths = [*extra_path, package_root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update({"PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": os.pathsep.join(paths),
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def set_order_in_subprocess(items: Iterable[str], hash_seed: int) -> list[str]:
    """The order in which a fresh Python with ``PYTHONHASHSEED=hash_seed`` iterates ``set(items)``.

    Within one process the order is fixed; across processes it depends on the hash seed,
    which Python draws at random at start-up unless ``PYTHONHASHSEED`` is set.
    """
    items = list(items)
    if not all(isinstance(i, str) for i in items):
        raise TypeError("set_order_in_subprocess: items must be strings")
    code = "import json, sys; print(json.dumps(list(set(json.loads(sys.argv[1])))))"
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(items)], capture_output=True,
                          text=True, env=_child_env(hash_seed), timeout=60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the child Python failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout)


_RUNNER = """\
import importlib, pickle, sys
module = importlib.import_module(sys.argv[1])
result = getattr(module, sys.argv[2])()
with open(sys.argv[3], "wb") as out:
    pickle.dump(result, out)
"""


def run_functions_in_subprocesses(source: str, function_name: str, hash_seeds: Iterable[int],
                                  *, timeout: float = 60.0) -> list:
    """Run ``function_name()`` from module text ``source`` in fresh Pythons, one per hash seed.

    The source is written to a module in a temporary folder (removed afterwards) and imported
    by child interpreters, started together, each with its ``PYTHONHASHSEED``; the results come
    back pickled, in the order of ``hash_seeds``. Raises RuntimeError with a child's error (its
    last line) or when one exceeds ``timeout`` seconds.
    """
    import pickle

    if not isinstance(source, str) or not isinstance(function_name, str):
        raise TypeError("run_functions_in_subprocesses: source and function_name must be text")
    if not function_name.isidentifier():
        raise ValueError(f"{function_name!r} is not a Python function name")
    seeds = list(hash_seeds)
    with tempfile.TemporaryDirectory(prefix="mle-subprocess-") as tmp:
        module = "learner_run"
        (Path(tmp) / f"{module}.py").write_text(source, encoding="utf-8")
        outs = [Path(tmp) / f"result-{i}.pickle" for i in range(len(seeds))]
        procs = [subprocess.Popen([sys.executable, "-c", _RUNNER, module, function_name,
                                   str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, cwd=tmp, env=_child_env(seed, [tmp]))
                 for seed, out in zip(seeds, outs)]
        try:
            errors = [proc.communicate(timeout=timeout)[1] for proc in procs]
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{function_name}() did not finish within {timeout:g} s in a "
                               "fresh Python process") from None
        finally:
            for proc in procs:  # never leave a child (or its pipe) behind
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stderr.close()
        for proc, err in zip(procs, errors):
            if proc.returncode != 0:
                lines = [ln for ln in (err or "").strip().splitlines() if ln.strip()]
                raise RuntimeError(f"{function_name}() failed in a fresh Python process: "
                                   + (lines[-1] if lines else f"exit status {proc.returncode}"))
        results = []
        for out in outs:
            with open(out, "rb") as fh:
                results.append(pickle.load(fh))
        return results


def run_function_in_subprocess(source: str, function_name: str, hash_seed: int, *,
                               timeout: float = 60.0):
    """:func:`run_functions_in_subprocesses` for one hash seed; returns the one result."""
    return run_functions_in_subprocesses(source, function_name, [hash_seed], timeout=timeout)[0]


# --- lineage ----------------------------------------------------------------------------------

LINEAGE_KEYS = ("code_commit", "data_fingerprint", "config_hash", "environment_fingerprint")


def lineage_record(*, code_commit: str, data: pd.DataFrame, config: TrainingConfig,
                   environment: str | None = None) -> dict:
    """The four facts that let a run be recreated, as a plain dict (keys :data:`LINEAGE_KEYS`).

    ``code_commit`` is a full 40-digit Git commit id; ``data`` is fingerprinted with
    :func:`mlecourse.principles.versioning.fingerprint`; ``environment`` defaults to this
    environment's :func:`environment_fingerprint`.
    """
    from mlecourse.principles.versioning import fingerprint

    if not isinstance(code_commit, str) or not _HEX40.match(code_commit):
        raise ValueError(f"lineage_record: code_commit must be a full 40-digit Git commit id "
                         f"(git rev-parse HEAD), got {code_commit!r}")
    if environment is None:
        environment = environment_fingerprint()
    elif not isinstance(environment, str) or not _HEX64.match(environment):
        raise ValueError("lineage_record: environment must be a 64-digit environment "
                         f"fingerprint, got {environment!r}")
    return {"code_commit": code_commit, "data_fingerprint": fingerprint(data),
            "config_hash": config_hash(config), "environment_fingerprint": environment}


def compare_lineage(old: Mapping, new: Mapping) -> list[str]:
    """The lineage keys whose values differ between two records (``[]``: same run inputs)."""
    for label, rec in (("old", old), ("new", new)):
        if not isinstance(rec, Mapping):
            raise TypeError(f"compare_lineage: {label} must be a mapping, "
                            f"got {type(rec).__name__}")
        missing = [k for k in LINEAGE_KEYS if k not in rec]
        if missing:
            raise ValueError(f"compare_lineage: the {label} record lacks {', '.join(missing)}")
    return [k for k in LINEAGE_KEYS if old[k] != new[k]]


# --- a real pipeline tool: DVC ----------------------------------------------------------------

_PREPARE_PY = '''\
"""Stage `prepare`: the loan applications, in a fixed order, as CSV."""
import yaml
from mlecourse.example.simulate import simulate_loans

p = yaml.safe_load(open("params.yaml"))["prepare"]
# One month more than the training months: the last is the evaluation month.
data = simulate_loans(months=p["months"] + 1, rows_per_month=p["rows_per_month"],
                      seed=p["data_seed"])
data.sort_values("application_id").to_csv("loans.csv", index=False)
'''

_TRAIN_PY = '''\
"""Stage `train`: the course's pipeline under the configuration in params.yaml."""
import json
import pandas as pd
import yaml
from mlecourse.principles.reproducibility import TrainingConfig, run_pipeline

params = yaml.safe_load(open("params.yaml"))
config = TrainingConfig.from_dict({**params["prepare"], **params["train"]})
run = run_pipeline(config, pd.read_csv("loans.csv", parse_dates=["month"]))
run.eval_predictions.to_csv("predictions.csv")
with open("metrics.json", "w") as out:
    json.dump({"auc": round(run.auc, 6)}, out)
'''

_DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps: [prepare.py]
    params: [prepare]
    outs: [loans.csv]
  train:
    cmd: python train.py
    deps: [train.py, loans.csv]
    params: [train]
    outs: [predictions.csv]
    metrics:
      - metrics.json:
          cache: false
"""

_PREPARE_FIELDS = ("months", "rows_per_month", "data_seed")


def _params_yaml(config: TrainingConfig) -> str:
    import yaml

    data = config.to_dict()
    prepare = {k: data.pop(k) for k in _PREPARE_FIELDS}
    return yaml.safe_dump({"prepare": prepare, "train": data}, sort_keys=False)


@contextlib.contextmanager
def _dvc_environment(directory: Path):
    """Environment for DVC and its stages: offline, no analytics, this Python and package."""
    saved = {k: os.environ.get(k)
             for k in ("DVC_NO_ANALYTICS", "DVC_SITE_CACHE_DIR", "PATH", "PYTHONPATH")}
    cwd = os.getcwd()
    package_root = str(Path(__file__).resolve().parents[2])
    os.environ["DVC_NO_ANALYTICS"] = "1"
    # DVC keeps an index per repository in a machine-wide cache folder; keep it in ours.
    os.environ["DVC_SITE_CACHE_DIR"] = str((Path(directory) / ".dvc" / "site-cache").resolve())
    # `python` in dvc.yaml must be this interpreter, importing this package.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), saved["PATH"] or ""])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [package_root, *filter(None, (saved["PYTHONPATH"] or "").split(os.pathsep))])
    try:
        # DVC finds dvc.yaml relative to the working directory.
        os.chdir(directory)
        yield
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def write_dvc_project(directory, config: TrainingConfig | None = None) -> Path:
    """A throwaway Git repository at ``directory`` holding the pipeline, committed, DVC set up.

    Files: ``prepare.py`` and ``train.py`` (the stages), ``params.yaml`` (the configuration,
    split into the two stages' parameters) and ``dvc.yaml``. DVC's analytics and update check
    are off, its site cache lives inside ``directory`` (see :func:`_dvc_environment`), and
    there is no remote.
    """
    from mlecourse.principles.versioning import git, init_repo

    config = TrainingConfig() if config is None else config
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"write_dvc_project expects a TrainingConfig, "
                        f"got {type(config).__name__}")
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(f"write_dvc_project: {directory} is not empty; use a new folder")
    repo = init_repo(directory)
    import io

    with _dvc_environment(repo), _dvc_messages_to(io.StringIO()), \
            contextlib.redirect_stdout(io.StringIO()):
        from dvc.repo import Repo

        with Repo.init(str(repo)) as dvc:
            with dvc.config.edit() as conf:
                conf["core"]["analytics"] = "false"
                conf["core"]["check_update"] = "false"
    (repo / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n/site-cache\n")
    files = {"prepare.py": _PREPARE_PY, "train.py": _TRAIN_PY, "dvc.yaml": _DVC_YAML,
             "params.yaml": _params_yaml(config)}
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "Pipeline: prepare the data, train the model")
    return repo


@dataclass(frozen=True)
class ReproResult:
    """What one ``dvc repro`` did: each stage's fate, and DVC's own messages.

    ``stages`` maps a stage name to ``"ran"`` (its command was executed), ``"restored"`` (DVC
    had run it with exactly these inputs before and took the outputs from its run cache) or
    ``"unchanged"`` (nothing it depends on changed: skipped).
    """

    stages: dict
    log: str

    @property
    def ran(self) -> list[str]:
        return [name for name, fate in self.stages.items() if fate == "ran"]


_FATES = ((re.compile(r"Running stage '([^']+)'"), "ran"),
          (re.compile(r"Stage '([^']+)' is cached"), "restored"),
          (re.compile(r"Stage '([^']+)' didn't change"), "unchanged"))


@contextlib.contextmanager
def _dvc_messages_to(stream):
    """Send DVC's log messages to ``stream`` instead of the console; put its handlers back."""
    import logging

    logger = logging.getLogger("dvc")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def dvc_repro(directory, *, force: bool = False, run_cache: bool = True) -> ReproResult:
    """Run ``dvc repro`` in ``directory`` through DVC's Python API; say what each stage did.

    ``run_cache=False`` makes DVC execute a changed stage even when it has run with the same
    inputs before (instead of restoring those outputs). Raises RuntimeError with DVC's message
    when a stage fails.
    """
    import io

    directory = Path(directory)
    if not (directory / "dvc.yaml").is_file():
        raise ValueError(f"dvc_repro: {directory} has no dvc.yaml")
    captured = io.StringIO()
    with _dvc_environment(directory), _dvc_messages_to(captured), \
            contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        from dvc.exceptions import DvcException
        from dvc.repo import Repo

        try:
            with Repo(str(directory)) as dvc:
                dvc.reproduce(force=force, run_cache=run_cache)
        except DvcException as exc:
            cause = exc.__cause__ or exc
            raise RuntimeError(f"dvc repro failed in {directory}: {cause}") from None
    log = captured.getvalue()
    stages = {}
    for line in log.splitlines():
        for pattern, fate in _FATES:
            found = pattern.search(line)
            if found:
                stages.setdefault(found.group(1), fate)
    return ReproResult(stages=stages, log=log)


def set_params(directory, stage: str, **values) -> None:
    """Change parameters of ``stage`` in ``params.yaml`` (checked through TrainingConfig)."""
    import yaml

    path = Path(directory) / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    if stage not in params:
        raise ValueError(f"set_params: params.yaml has no stage {stage!r} "
                         f"(stages: {', '.join(params)})")
    params[stage].update(values)
    TrainingConfig.from_dict({**params["prepare"], **params["train"]})  # refuse bad values
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def dvc_output_hashes(directory) -> dict[str, str]:
    """``{output path: md5}`` as DVC recorded them in ``dvc.lock`` after the last run."""
    import yaml

    lock = Path(directory) / "dvc.lock"
    if not lock.is_file():
        raise ValueError(f"dvc_output_hashes: {lock} does not exist; run dvc_repro first")
    stages = yaml.safe_load(lock.read_text(encoding="utf-8"))["stages"]
    return {out["path"]: out["md5"] for stage in stages.values() for out in stage.get("outs", [])}


# --- containers, on paper ---------------------------------------------------------------------

DOCKERFILE = """\
# The course's environment, frozen. Shown, not built.
# Base image pinned by digest: a tag such as 3.11-slim is moved to new builds, a digest never.
FROM python:3.11-slim-bookworm@sha256:<digest of the image you tested>

# No .pyc files in the image; output unbuffered so logs appear at once.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

WORKDIR /course
# The lock first: this layer is rebuilt only when the lock changes.
COPY requirements.txt .
# --no-deps: the lock already lists every package; pip must not resolve anything new.
RUN pip install --no-cache-dir --no-deps -r requirements.txt

COPY pyproject.toml .
COPY src/ src/
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

# Run as an unprivileged user, not as root.
RUN useradd --create-home learner
USER learner
CMD ["python", "-m", "mlecourse", "--help"]
"""


def dockerfile_problems(text: str) -> list[str]:
    """What keeps a Dockerfile from freezing an environment: unpinned base image, no lock, root.

    Returns one sentence per problem (``[]``: none found). Checks the first ``FROM`` for a
    ``@sha256:`` digest, a ``pip install`` of ``requirements.txt`` (the lock) and a final
    ``USER`` other than root.
    """
    if not isinstance(text, str):
        raise TypeError(f"dockerfile_problems expects the Dockerfile's text, "
                        f"got {type(text).__name__}")
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    problems = []
    base = next((ln for ln in lines if ln.upper().startswith("FROM ")), None)
    if base is None:
        problems.append("no FROM line: the base image is not named")
    elif "@sha256:" not in base:
        problems.append(f"the base image is not pinned by digest ({base!r}): a tag can move")
    if not any(re.search(r"pip install .*-r\s+requirements\.txt", ln) for ln in lines):
        problems.append("the lock (requirements.txt) is not installed")
    users = [ln.split(None, 1)[1].strip() if len(ln.split()) > 1 else "" for ln in lines
             if ln.upper().startswith("USER ")]
    if not users or users[-1] in ("root", "0", "0:0"):
        problems.append("the container runs as root: add a user and switch to it with USER")
    return problems
