"""Versioning helpers: dataset fingerprints, snapshot manifests, offline Git and MLflow plumbing.

What the course reuses lives here; the tools a team would really use do the rest (Git versions the
code, MLflow tracks runs and keeps the model registry)::

    from mlecourse.principles.versioning import fingerprint, make_manifest, compare_manifests
    fp = fingerprint(df)                       # 64 hex digits, changes when any value changes
    manifest = make_manifest(df, name="loans-2024")
    Manifest.from_json(manifest.to_json()) == manifest

Fingerprint
-----------
:func:`fingerprint` is a SHA-256 over a canonical encoding of the frame:

* a header with every column's name and dtype (renaming a column or changing ``int64`` to
  ``float64`` changes the fingerprint, even when the values print the same);
* for every column, one 64-bit hash per value from :func:`pandas.util.hash_pandas_object` with
  its fixed default key, written as little-endian ``uint64`` bytes. These per-value hashes depend
  on the values, not on the machine's byte order or on how pandas stores the column in memory,
  so the same data give the same fingerprint on every platform. (MLflow's dataset digest uses
  the same pandas routine, but on the first rows only. A future pandas could change the
  routine; the tests pin the fingerprint of a fixed frame, so such a change would be noticed.)

The index is **not** part of the data (``reset_index()`` first if it carries meaning).

Row order: with ``order_sensitive=True`` (the default) the rows are hashed in order, so
shuffling the rows changes the fingerprint: a snapshot is an exact, ordered file. With
``order_sensitive=False`` the fingerprint is canonical: columns are taken in name order and the
rows are put in an order given by their hashes, so any row or column permutation of the same
table gives the same fingerprint (duplicate rows still count).

Git and MLflow, offline
-----------------------
:func:`git` runs ``git -C repo ...`` with the user's global and system configuration switched off
(no signing hooks, no surprises), :func:`init_repo` makes a throwaway repository with a local
author, and :func:`mlflow_offline` points MLflow at a SQLite file in a temporary directory, with
artifacts stored next to it and telemetry switched off. Nothing here talks to the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "COMMIT_DATE",
    "FINGERPRINT_ALGORITHM",
    "MANIFEST_FORMAT",
    "TAG_GIT_COMMIT",
    "TAG_GIT_TAG",
    "TAG_DATA_FINGERPRINT",
    "TAG_DATA_SNAPSHOT",
    "fingerprint",
    "Manifest",
    "make_manifest",
    "compare_manifests",
    "is_silent_change",
    "write_snapshot",
    "read_snapshot",
    "git",
    "init_repo",
    "OfflineMLflow",
    "configure_mlflow_offline",
    "mlflow_offline",
    "offline_env",
    "quiet_mlflow",
    "no_distribution_index",
    "sklearn_pip_requirements",
]

FINGERPRINT_ALGORITHM = "sha256"
MANIFEST_FORMAT = "mlecourse-manifest"
MANIFEST_FORMAT_VERSION = 1

# Tag keys the course writes on MLflow runs (and reads back to rebuild a model).
TAG_GIT_COMMIT = "git_commit"
TAG_GIT_TAG = "git_tag"
TAG_DATA_FINGERPRINT = "data_fingerprint"
TAG_DATA_SNAPSHOT = "data_snapshot"


# --- fingerprint ------------------------------------------------------------------------------

def _check_frame(df, what: str = "fingerprint") -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise ValueError(f"{what}: the DataFrame has no columns; there is no data to version")
    if df.shape[0] == 0:
        raise ValueError(f"{what}: the DataFrame has no rows (columns: "
                         f"{', '.join(map(str, df.columns))}); there is no data to version")
    duplicated = df.columns[df.columns.duplicated()].unique()
    if len(duplicated):
        raise ValueError(f"{what}: duplicated column name(s) {', '.join(map(repr, duplicated))}; "
                         "a schema needs unique column names")


def _column_hashes(series: pd.Series) -> np.ndarray:
    """One little-endian uint64 per value; raises TypeError naming the column if unhashable."""
    try:
        hashed = pd.util.hash_pandas_object(series, index=False).to_numpy()
    except TypeError as exc:
        raise TypeError(f"fingerprint: column {series.name!r} holds values that cannot be hashed "
                        f"({exc}); use numbers, strings, booleans or timestamps") from None
    return hashed.astype("<u8", copy=False)


def _row_mix(n: int) -> np.ndarray:
    """``n`` odd 64-bit multipliers from a fixed seed (PCG64: the same on every platform)."""
    draws = np.random.default_rng(20240101).integers(0, 2**63, size=n, dtype=np.uint64)
    return (draws * np.uint64(2) + np.uint64(1)).astype("<u8")


def fingerprint(df: pd.DataFrame, *, order_sensitive: bool = True) -> str:
    """Return the SHA-256 content fingerprint (64 hex digits) of a DataFrame.

    It includes column names and dtypes, and changes when any single value changes. The index
    is ignored. ``order_sensitive=True`` (default): shuffling rows or reordering columns changes
    the fingerprint. ``order_sensitive=False``: canonical, any permutation of rows or columns
    gives the same fingerprint. See the module docstring for the encoding.

    Raises ``TypeError`` for anything but a DataFrame (or a column of unhashable values) and
    ``ValueError`` for an empty one or duplicated column names.
    """
    _check_frame(df)
    columns = list(df.columns)
    if not order_sensitive:
        columns = sorted(columns, key=str)
    header = json.dumps(
        {"order_sensitive": bool(order_sensitive), "rows": int(len(df)),
         "columns": [[str(c), str(df[c].dtype)] for c in columns]},
        separators=(",", ":"), sort_keys=True,
    )
    h = hashlib.sha256(header.encode("utf-8"))
    matrix = np.empty((len(df), len(columns)), dtype="<u8")
    for j, col in enumerate(columns):
        matrix[:, j] = _column_hashes(df[col])
    if not order_sensitive:
        # Put the rows in a canonical order (a multiset of rows): sort by a 64-bit key mixed
        # from the row's value hashes; equal keys mean equal rows (barring a 2**-64 collision).
        with np.errstate(over="ignore"):
            key = (matrix * _row_mix(matrix.shape[1])).sum(axis=1, dtype="<u8")
        matrix = matrix[np.argsort(key, kind="stable")]
    h.update(np.ascontiguousarray(matrix).tobytes())
    return h.hexdigest()


# --- manifest ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Manifest:
    """What a data snapshot claims to be: name, fingerprint, rows, schema and time range.

    ``schema`` maps each column to its dtype (as text). ``time_min``/``time_max`` are ISO dates
    of the time column (``None`` when there is none). ``to_json``/``from_json`` round-trip
    exactly.
    """

    name: str
    fingerprint: str
    rows: int
    schema: dict = field(default_factory=dict)
    time_column: str | None = None
    time_min: str | None = None
    time_max: str | None = None
    order_sensitive: bool = True
    algorithm: str = FINGERPRINT_ALGORITHM

    def to_dict(self) -> dict:
        """A plain, JSON-ready dict (with the format name and version)."""
        return {"format": MANIFEST_FORMAT, "format_version": MANIFEST_FORMAT_VERSION,
                **asdict(self)}

    def to_json(self) -> str:
        """Stable JSON text (sorted keys, two-space indent, trailing newline)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping) -> "Manifest":
        """Rebuild a manifest; raises ValueError naming a missing or unknown field."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a manifest must be a mapping, got {type(data).__name__}")
        data = dict(data)
        fmt = data.pop("format", MANIFEST_FORMAT)
        version = data.pop("format_version", MANIFEST_FORMAT_VERSION)
        if fmt != MANIFEST_FORMAT:
            raise ValueError(f"manifest field 'format' is {fmt!r}, expected {MANIFEST_FORMAT!r}")
        if version != MANIFEST_FORMAT_VERSION:
            raise ValueError(f"manifest field 'format_version' is {version!r}, "
                             f"expected {MANIFEST_FORMAT_VERSION}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown manifest field(s): {', '.join(unknown)}")
        missing = [f for f in ("name", "fingerprint", "rows") if f not in data]
        if missing:
            raise ValueError(f"manifest lacks field(s): {', '.join(missing)}")
        if not isinstance(data["rows"], int) or isinstance(data["rows"], bool):
            raise ValueError(f"manifest field 'rows' must be an integer, got {data['rows']!r}")
        data["schema"] = dict(data.get("schema") or {})
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """Parse :meth:`to_json` output."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"manifest is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def make_manifest(df: pd.DataFrame, name: str, *, time_column: str | None = "month",
                  order_sensitive: bool = True) -> Manifest:
    """Describe ``df`` as a snapshot called ``name``.

    ``time_column`` (default ``"month"``, the running example's) gives the time range; pass
    ``None`` for data without one. Raises ValueError when the named time column is missing or
    is not datetime-like, and the errors of :func:`fingerprint`.
    """
    _check_frame(df, "make_manifest")
    if not isinstance(name, str) or not name:
        raise ValueError(f"make_manifest: name must be a non-empty string, got {name!r}")
    time_min = time_max = None
    if time_column is not None:
        if time_column not in df.columns:
            raise ValueError(f"make_manifest: time column {time_column!r} is not in the data "
                             "(pass time_column=None for data without one)")
        times = df[time_column]
        if not pd.api.types.is_datetime64_any_dtype(times):
            raise ValueError(f"make_manifest: time column {time_column!r} has dtype "
                             f"{times.dtype}, expected datetime64")
        if times.notna().any():
            time_min = times.min().isoformat()
            time_max = times.max().isoformat()
    return Manifest(
        name=name,
        fingerprint=fingerprint(df, order_sensitive=order_sensitive),
        rows=int(len(df)),
        schema={str(c): str(t) for c, t in df.dtypes.items()},
        time_column=time_column,
        time_min=time_min,
        time_max=time_max,
        order_sensitive=order_sensitive,
    )


def compare_manifests(old: Manifest, new: Manifest) -> dict:
    """Return ``{field: (old value, new value)}`` for every field that differs (empty: same).

    ``schema`` differences are reported per column as ``"schema.<column>"`` (``None`` for a
    column that is missing on one side).
    """
    for label, m in (("old", old), ("new", new)):
        if not isinstance(m, Manifest):
            raise TypeError(f"compare_manifests: {label} must be a Manifest, "
                            f"got {type(m).__name__}")
    diff = {}
    for name in Manifest.__dataclass_fields__:
        if name == "schema":
            continue
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            diff[name] = (a, b)
    for col in list(old.schema) + [c for c in new.schema if c not in old.schema]:
        a, b = old.schema.get(col), new.schema.get(col)
        if a != b:
            diff[f"schema.{col}"] = (a, b)
    return diff


def is_silent_change(old: Manifest, new: Manifest) -> bool:
    """True when the content changed although everything a quick look checks did not.

    That is: same name, rows, schema and time range, but a different fingerprint. (The
    fingerprints must be of the same kind, ``order_sensitive`` and algorithm alike.)
    """
    diff = compare_manifests(old, new)
    if "order_sensitive" in diff or "algorithm" in diff:
        settings = {k: diff[k] for k in ("order_sensitive", "algorithm") if k in diff}
        raise ValueError("is_silent_change: the manifests use different fingerprint settings "
                         f"({settings}); compare fingerprints of the same kind")
    return set(diff) == {"fingerprint"}


# --- snapshots on disk ------------------------------------------------------------------------

def write_snapshot(df: pd.DataFrame, directory, name: str, *,
                   time_column: str | None = "month") -> Manifest:
    """Write ``<name>.parquet`` and ``<name>.manifest.json`` into ``directory``; return its manifest.

    The data file is Parquet (dtypes survive the round trip); the manifest is the JSON of
    :func:`make_manifest`. Existing files of the same name are replaced.
    """
    manifest = make_manifest(df, name, time_column=time_column)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    df.to_parquet(directory / f"{name}.parquet", index=False)
    (directory / f"{name}.manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def read_snapshot(directory, name: str, *, verify: bool = True) -> tuple[pd.DataFrame, Manifest]:
    """Read a snapshot written by :func:`write_snapshot`; return ``(data, manifest)``.

    With ``verify=True`` the data's fingerprint is recomputed and a ``ValueError`` names the
    file when it no longer matches its manifest (someone changed the data in place).
    """
    directory = Path(directory)
    data_path = directory / f"{name}.parquet"
    manifest_path = directory / f"{name}.manifest.json"
    for path in (data_path, manifest_path):
        if not path.exists():
            raise ValueError(f"read_snapshot: {path} does not exist")
    manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"))
    df = pd.read_parquet(data_path)
    if verify:
        actual = fingerprint(df, order_sensitive=manifest.order_sensitive)
        if actual != manifest.fingerprint:
            raise ValueError(f"read_snapshot: {data_path} has fingerprint {actual[:12]}..., but "
                             f"its manifest says {manifest.fingerprint[:12]}...: the data changed "
                             "after the snapshot was taken")
    return df, manifest


# --- Git --------------------------------------------------------------------------------------

#: Author and committer date of every commit and tag made through :func:`git`. A commit's hash
#: covers its dates, so with the clock's time two runs would print different hashes; a fixed
#: date makes the same commits give the same hashes on every run and machine.
COMMIT_DATE = "2026-01-15T09:00:00+00:00"


def _git_env() -> dict:
    env = dict(os.environ)
    # Ignore the user's and the system's configuration: a throwaway repository must behave the
    # same on every machine (no commit signing, no hooks path, no default branch surprises).
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
                "GIT_AUTHOR_DATE": COMMIT_DATE, "GIT_COMMITTER_DATE": COMMIT_DATE})
    return env


def git(repo, *args: str) -> str:
    """Run ``git -C repo *args`` and return its stripped standard output.

    Raises ``RuntimeError`` with git's own message when the command fails and
    ``ValueError`` when ``repo`` is not a directory.
    """
    repo = Path(repo)
    if not repo.is_dir():
        raise ValueError(f"git: {repo} is not a directory")
    cmd = ["git", "-C", str(repo), *map(str, args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_git_env(), check=False)
    except FileNotFoundError:
        raise RuntimeError("git: the git program is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise RuntimeError(f"`git {' '.join(map(str, args))}` failed in {repo} "
                           f"(exit {proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout.strip()


def init_repo(path, *, user_name: str = "Course Learner",
              user_email: str = "learner@example.org") -> Path:
    """Create an empty Git repository at ``path`` (branch ``main``) with a local author.

    The name and e-mail are set in the repository's own config, never globally.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "user.name", user_name)
    git(path, "config", "user.email", user_email)
    git(path, "config", "commit.gpgsign", "false")
    git(path, "config", "tag.gpgsign", "false")
    return path


# --- MLflow, offline --------------------------------------------------------------------------

def offline_env(tracking_uri: str) -> dict:
    """The environment variables that keep MLflow local and quiet.

    ``MLFLOW_DISABLE_TELEMETRY`` and ``DO_NOT_TRACK`` switch off MLflow's usage telemetry (read
    when ``mlflow`` is imported); the two URIs point tracking and the model registry at the
    same local database.
    """
    return {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_REGISTRY_URI": tracking_uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }


_NOISY_LOGGERS = ("mlflow", "alembic", "sqlalchemy", "skops")


def quiet_mlflow() -> None:
    """Silence MLflow's informational logging and its advisory warnings (not errors).

    Call it after ``import mlflow`` (which sets up its own loggers); ``MLFLOW_LOGGING_LEVEL``
    is set too, for MLflow code that reconfigures logging later.
    """
    os.environ["MLFLOW_LOGGING_LEVEL"] = "ERROR"
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"mlflow")
    warnings.filterwarnings("ignore", message=r".*(Hint: Inferred schema|pkg_resources).*")


_FAST_SQLITE_FILES: set = set()


def _fast_sqlite(db_path: Path) -> None:
    """Skip SQLite's disk syncs for the throwaway database at ``db_path`` (and only that one).

    Creating MLflow's schema runs a long series of migrations, each committed and synced to
    disk; on a busy disk that takes many seconds. A database in a temporary directory does not
    need to survive a power cut, so its connections use ``synchronous=OFF`` and an in-memory
    journal. Other databases are not touched.
    """
    import sqlite3

    import sqlalchemy

    if not _FAST_SQLITE_FILES:
        def _on_connect(dbapi_connection, _record):
            if not isinstance(dbapi_connection, sqlite3.Connection):
                return
            with contextlib.suppress(sqlite3.Error):
                row = dbapi_connection.execute("PRAGMA database_list").fetchone()
                if row is not None and row[2] in _FAST_SQLITE_FILES:
                    dbapi_connection.execute("PRAGMA synchronous=OFF")
                    dbapi_connection.execute("PRAGMA journal_mode=MEMORY")

        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", _on_connect)
    _FAST_SQLITE_FILES.add(str(db_path))


def _empty_store_template() -> Path:
    """An empty MLflow SQLite store with every migration applied, made once per MLflow version.

    Creating MLflow's schema runs dozens of Alembic migrations (seconds, more on a busy disk).
    The result is the same every time, so it is made once in the system's temporary folder and
    each new registry starts as a copy of it (milliseconds). Written under a temporary name and
    renamed, so processes that start at the same time never see half a file.
    """
    import tempfile
    from importlib.metadata import version

    template = Path(tempfile.gettempdir()) / f"mlecourse-mlflow-{version('mlflow')}-empty.db"
    if template.exists():
        return template
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    with tempfile.TemporaryDirectory() as work:
        db = Path(work) / "mlflow.db"
        _fast_sqlite(db)
        store = SqlAlchemyStore(f"sqlite:///{db.as_posix()}", Path(work).as_uri())
        store.engine.dispose()
        partial = template.with_name(f"{template.name}.{os.getpid()}.tmp")
        shutil.copyfile(db, partial)
        os.replace(partial, template)
    return template


@dataclass(frozen=True)
class OfflineMLflow:
    """Where :func:`mlflow_offline` put things: the database URI and the artifact folder."""

    directory: str
    tracking_uri: str
    artifact_location: str
    experiment_id: str
    experiment_name: str


def _disable_telemetry_now() -> None:
    # Telemetry is decided when mlflow is imported; if it was imported before our environment
    # variables were set, ask it to decide again (best effort; private API).
    try:
        from mlflow.telemetry.client import set_telemetry_client
    except ImportError:  # pragma: no cover - older or newer MLflow
        return
    with contextlib.suppress(Exception):
        set_telemetry_client()


def configure_mlflow_offline(directory, experiment: str = "loan-default") -> OfflineMLflow:
    """Point MLflow at ``sqlite:///<directory>/mlflow.db`` and make ``experiment`` active.

    Tracking and the model registry share that SQLite file (a real database, no server);
    artifacts (logged models) go to ``<directory>/artifacts``; telemetry is off; MLflow's
    chatter is silenced; the database skips disk syncs (it is temporary). The experiment is
    created with its artifact location inside ``directory`` (or reused). The settings stay in
    force; use :func:`mlflow_offline` to have them undone at the end of a ``with`` block.
    """
    directory = Path(directory).resolve()
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"mlflow_offline: {directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    tracking_uri = f"sqlite:///{(directory / 'mlflow.db').as_posix()}"
    artifact_dir = directory / "artifacts"
    artifact_dir.mkdir(exist_ok=True)
    os.environ.update(offline_env(tracking_uri))
    _fast_sqlite(directory / "mlflow.db")
    import mlflow

    if not (directory / "mlflow.db").exists():
        try:  # start from a ready-migrated empty store (see _empty_store_template)
            shutil.copyfile(_empty_store_template(), directory / "mlflow.db")
        except Exception:  # noqa: BLE001 - an internal API moved: MLflow migrates from scratch
            (directory / "mlflow.db").unlink(missing_ok=True)

    quiet_mlflow()  # after the import: importing mlflow configures its own loggers
    _disable_telemetry_now()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found is None:
        experiment_id = mlflow.create_experiment(experiment,
                                                 artifact_location=artifact_dir.as_uri())
    else:
        experiment_id = found.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return OfflineMLflow(directory=str(directory), tracking_uri=tracking_uri,
                         artifact_location=artifact_dir.as_uri(),
                         experiment_id=str(experiment_id), experiment_name=experiment)


def _explicit_uris():
    """MLflow's explicitly set tracking and registry URIs (``None``: not set), best effort."""
    try:
        from mlflow.tracking._model_registry import utils as registry_utils
        from mlflow.tracking._tracking_service import utils as tracking_utils
    except ImportError:  # pragma: no cover - a future MLflow moved them
        return None
    return tracking_utils._tracking_uri, registry_utils._registry_uri


def _restore_uris(saved) -> None:
    import mlflow

    if saved is None:  # pragma: no cover
        return
    from mlflow.tracking._model_registry import utils as registry_utils

    mlflow.set_tracking_uri(saved[0])  # None unsets it
    registry_utils._registry_uri = saved[1]


@contextlib.contextmanager
def mlflow_offline(directory, experiment: str = "loan-default") -> Iterator[OfflineMLflow]:
    """:func:`configure_mlflow_offline` for a ``with`` block, undone on exit.

    On exit any active run is ended, MLflow's tracking and registry URIs are put back as they
    were (unset if they were unset, so MLflow does not fall back to a path in the working
    directory that *we* chose) and so are the environment variables.
    """
    saved_env = {k: os.environ.get(k) for k in [*offline_env(""), "MLFLOW_LOGGING_LEVEL"]}
    # Telemetry is decided when mlflow is first imported: switch it off before that.
    os.environ.update({k: v for k, v in offline_env("").items() if not k.endswith("_URI")})
    import mlflow

    saved_uris = _explicit_uris()
    try:
        yield configure_mlflow_offline(directory, experiment)
    finally:
        with contextlib.suppress(Exception):
            if mlflow.active_run() is not None:
                mlflow.end_run()
        _restore_uris(saved_uris)
        for k, v in saved_env.items():  # last: setting the URIs above touches these too
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def no_distribution_index() -> Iterator[None]:
    """For a ``with`` block that logs models with explicit ``pip_requirements``: MLflow still
    checks each requirement against the installed version (by package metadata), but does not
    first index which module every installed distribution provides (about 1 s of CPU per
    process, and used only to infer requirements or to find a version without metadata).

    Best effort (a private MLflow cache): if MLflow moved it, nothing changes. The index is
    put back as it was at the end of the block, so later inference is unaffected.
    """
    try:
        from mlflow.utils import requirements_utils as ru
    except ImportError:  # pragma: no cover - a future MLflow
        yield
        return
    if getattr(ru, "_MODULES_TO_PACKAGES", False) is not None:  # built already, or moved
        yield
        return
    ru._MODULES_TO_PACKAGES = {}
    try:
        yield
    finally:
        ru._MODULES_TO_PACKAGES = None


def sklearn_pip_requirements() -> list[str]:
    """Pinned requirements to log with a scikit-learn model (no slow environment inference).

    MLflow would otherwise infer requirements by importing the model in a subprocess; naming
    them is faster and states the environment explicitly.
    """
    from importlib.metadata import version

    return [f"scikit-learn=={version('scikit-learn')}", f"pandas=={version('pandas')}",
            f"numpy=={version('numpy')}"]
