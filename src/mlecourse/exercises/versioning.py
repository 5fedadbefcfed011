"""Set-up and checks for the versioning-lineage exercise: which data trained the champion?

:func:`build_exercise_registry` builds, in a temporary directory, two data snapshots and a real
MLflow model registry (SQLite) holding several versions of one model; the ``champion`` alias
points at a version that is neither the latest version nor trained on the latest snapshot, so
guessing gives the wrong answer. The ``check_*`` functions explain what a wrong answer is.

Every check hands learner code a throwaway copy of the registry and the snapshots
(:func:`throwaway_registry`), made from a pristine backup taken when the registry was built: a
learner function that moves, deletes or adds aliases or versions changes nothing that a later
check, or the notebook, relies on.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlecourse.exercises.common import as_int, as_list, as_text, call, call_expecting, fail
from mlecourse.principles.versioning import (
    TAG_DATA_FINGERPRINT,
    TAG_GIT_COMMIT,
    TAG_GIT_TAG,
    Manifest,
    configure_mlflow_offline,
    git,
    init_repo,
    no_distribution_index,
    sklearn_pip_requirements,
    write_snapshot,
)

MODEL_NAME = "loan-default"
CHAMPION = "champion"
CHALLENGER = "challenger"
OLD_SNAPSHOT = "loans-2024-06"
NEW_SNAPSHOT = "loans-2024-12"

# (snapshot, C) per registered version, in registration order: version 1, 2, 3.
_PLAN = ((OLD_SNAPSHOT, 1.0), (OLD_SNAPSHOT, 0.3), (NEW_SNAPSHOT, 1.0))
_CHAMPION_VERSION = "2"
_CHALLENGER_VERSION = "3"

_TRAIN_PY = '''"""Train the loan-default model on a data snapshot."""
from mlecourse.example.model import make_model
from mlecourse.example.simulate import FEATURES, TARGET


def train(df, C=1.0, seed=0):
    model = make_model(seed=seed)
    model.set_params(clf__C=C)
    return model.fit(df[FEATURES], df[TARGET])
'''

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ExerciseRegistry:
    """What :func:`build_exercise_registry` made: where things are and (for checks) the truth."""

    directory: str
    tracking_uri: str
    model_name: str
    snapshot_dir: str
    manifests: dict = field(default_factory=dict)        # snapshot name -> Manifest
    version_snapshot: dict = field(default_factory=dict)  # version (str) -> snapshot name
    version_run: dict = field(default_factory=dict)       # version (str) -> run id
    champion_version: str = _CHAMPION_VERSION
    challenger_version: str = _CHALLENGER_VERSION
    pristine_db: str = ""  # a backup of the registry as built, for the checks' copies

    def client(self):
        """An ``MlflowClient`` on this registry."""
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


def build_exercise_registry(directory, seed: int = 0,
                            rows_per_month: int = 500) -> ExerciseRegistry:
    """Build two snapshots and a SQLite MLflow registry with three versions in ``directory``.

    Snapshots (Parquet + JSON manifest in ``<directory>/snapshots``): ``loans-2024-06``
    (January to June 2024) and ``loans-2024-12`` (January to December 2024). Versions of
    ``loan-default``: 1 and 2 trained on the June snapshot (C = 1.0 and 0.3), 3 on the December
    one; alias ``champion`` -> version 2, ``challenger`` -> version 3. Each run is tagged with
    the code commit and the data fingerprint (not the snapshot name). MLflow is left pointing at
    this registry (see :func:`mlecourse.principles.versioning.configure_mlflow_offline`). A
    backup of the registry as built (``pristine.db``) feeds the checks' scratch copies.
    """
    from mlecourse.example.simulate import FEATURES, simulate_loans

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    offline = configure_mlflow_offline(directory / "mlflow", experiment="loan-default")
    import mlflow  # after the offline configuration: telemetry is decided at import
    from mlflow.models import infer_signature

    repo = init_repo(directory / "code")
    (repo / "train.py").write_text(_TRAIN_PY, encoding="utf-8")
    git(repo, "add", "train.py")
    git(repo, "commit", "--quiet", "-m", "Training code for the loan-default model")
    git(repo, "tag", "v1.0")
    commit = git(repo, "rev-parse", "HEAD")
    namespace: dict = {}
    exec(compile(_TRAIN_PY, str(repo / "train.py"), "exec"), namespace)
    train = namespace["train"]

    data = simulate_loans(months=12, rows_per_month=rows_per_month, seed=seed)
    snapshot_dir = directory / "snapshots"
    frames = {OLD_SNAPSHOT: data[data["month"] < "2024-07-01"].reset_index(drop=True),
              NEW_SNAPSHOT: data}
    manifests = {name: write_snapshot(df, snapshot_dir, name) for name, df in frames.items()}

    client = mlflow.MlflowClient()
    client.create_registered_model(MODEL_NAME)
    version_snapshot, version_run = {}, {}
    for snapshot, c in _PLAN:
        df = frames[snapshot]
        model = train(df, C=c, seed=seed)
        with mlflow.start_run(run_name=f"{snapshot}-C{c}") as run, no_distribution_index():
            mlflow.log_params({"C": c, "seed": seed})
            # Only the fingerprint: a name can be reused, the content hash cannot.
            mlflow.set_tags({TAG_GIT_COMMIT: commit, TAG_GIT_TAG: "v1.0",
                             TAG_DATA_FINGERPRINT: manifests[snapshot].fingerprint})
            sample = df[FEATURES].head(5)
            # cloudpickle, not MLflow's default skops: the exercise never loads these models,
            # and skops' import alone would double the set-up time.
            info = mlflow.sklearn.log_model(
                model, name="model", pip_requirements=sklearn_pip_requirements(),
                serialization_format="cloudpickle",
                signature=infer_signature(sample, model.predict_proba(sample)[:, 1]))
        mv = client.create_model_version(MODEL_NAME, source=info.model_uri,
                                         run_id=run.info.run_id, model_id=info.model_id)
        version_snapshot[str(mv.version)] = snapshot
        version_run[str(mv.version)] = run.info.run_id
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, _CHAMPION_VERSION)
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, _CHALLENGER_VERSION)
    pristine = directory / "pristine.db"
    _backup(Path(offline.tracking_uri.removeprefix("sqlite:///")), pristine)
    return ExerciseRegistry(directory=str(directory), tracking_uri=offline.tracking_uri,
                            model_name=MODEL_NAME, snapshot_dir=str(snapshot_dir),
                            manifests=manifests, version_snapshot=version_snapshot,
                            version_run=version_run, pristine_db=str(pristine))


def _backup(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (SQLite's backup API, not a file copy)."""
    with contextlib.closing(sqlite3.connect(source)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


#: One scratch copy per exercise registry, reset from the pristine backup before every use:
#: opening a new MLflow client on a new database costs far more than restoring its content.
_SCRATCH: dict = {}


def _scratch(setup: ExerciseRegistry):
    from mlflow import MlflowClient

    if setup.pristine_db not in _SCRATCH:
        # Deleted when the interpreter exits (TemporaryDirectory's finalizer).
        tmp = tempfile.TemporaryDirectory(prefix="mle-lineage-check-",
                                          ignore_cleanup_errors=True)
        db = Path(tmp.name) / "mlflow.db"
        _backup(Path(setup.pristine_db), db)
        uri = f"sqlite:///{db.as_posix()}"
        _SCRATCH[setup.pristine_db] = (tmp, db, MlflowClient(tracking_uri=uri, registry_uri=uri))
    return _SCRATCH[setup.pristine_db]


@contextlib.contextmanager
def throwaway_registry(setup: ExerciseRegistry, champion: str | None = None,
                       extra_version_from: str | None = None):
    """Yield ``(client, snapshot_dir)`` on a scratch copy of the registry and snapshots as built.

    ``champion`` moves the champion alias to that version in the copy; ``extra_version_from``
    registers one more version from that version's run (same data, same model). Learner code
    may do anything to the copy: it is reset from the pristine backup before every use.
    """
    tmp, db, client = _scratch(setup)
    _backup(Path(setup.pristine_db), db)
    snapshots = Path(tmp.name) / "snapshots"
    shutil.rmtree(snapshots, ignore_errors=True)
    shutil.copytree(setup.snapshot_dir, snapshots)
    if champion is not None:
        client.set_registered_model_alias(setup.model_name, CHAMPION, champion)
    if extra_version_from is not None:
        source = client.get_model_version(setup.model_name, extra_version_from)
        client.create_model_version(setup.model_name, source=source.source,
                                    run_id=source.run_id)
    yield client, str(snapshots)


# --- checks -----------------------------------------------------------------------------------

def _explain_fingerprint(answer, setup: ExerciseRegistry, expected_version: str, what: str) -> None:
    """Explain why ``answer`` is not the fingerprint of version ``expected_version``'s data."""
    __tracebackhide__ = True
    expected_snapshot = setup.version_snapshot[expected_version]
    expected = setup.manifests[expected_snapshot].fingerprint
    if isinstance(answer, Manifest):
        fail(f"{what} returned a whole Manifest; return its fingerprint (the string in "
             "manifest.fingerprint).")
    if isinstance(answer, bool):
        fail(f"{what} should return a string (a 64-character hex fingerprint), but it returned "
             "a bool.")
    if isinstance(answer, int) or (isinstance(answer, str) and answer.strip().isdigit()):
        fail(f"{what} returned {answer!r}, which looks like a model version number. A version "
             "number names the model, not its data: follow the version to its run and read the "
             "data fingerprint tag.")
    if not isinstance(answer, str):
        fail(f"{what} should return a string (a 64-character hex fingerprint), but it returned "
             f"{type(answer).__name__}.")
    answer = as_text(answer, f"{what}'s result")  # a plain str: its == cannot lie
    if answer == expected:
        return
    if answer in setup.version_run.values():
        fail(f"{what} returned a run id ({answer}). The run is the right place to look, but "
             "return the data fingerprint stored in its tags.")
    if answer in setup.manifests:
        fail(f"{what} returned the snapshot name {answer!r}; return the fingerprint of the data "
             "instead (the run's data fingerprint tag).")
    for name, manifest in setup.manifests.items():
        if answer == manifest.fingerprint:
            versions = sorted(v for v, s in setup.version_snapshot.items() if s == name)
            newest = max(setup.manifests, key=lambda n: setup.manifests[n].time_max or "")
            hints = []
            if name == newest:
                hints.append("it is the newest snapshot")
            latest = max(setup.version_snapshot, key=int)
            if latest in versions:
                hints.append(f"it trained version {latest}, the latest version")
            why = f" ({'; '.join(hints)})" if hints else ""
            fail(f"{what} returned the fingerprint of snapshot {name!r}{why}, but the "
                 f"'{CHAMPION}' alias points to version {expected_version}, which was trained on "
                 f"{expected_snapshot!r}. Resolve the alias, then read that version's run tags.")
    if answer.lower() == expected:
        fail(f"{what} returned the right fingerprint in upper case; return it exactly as "
             "recorded (lower-case hex).")
    if len(answer) < 64 and expected.startswith(answer):
        fail(f"{what} returned only the first {len(answer)} characters of the fingerprint; "
             "return all 64.")
    fail(f"{what} returned {answer[:20]!r}..., which is not the fingerprint of either snapshot. "
         "Do not recompute it: read the fingerprint recorded on the champion's run (the "
         f"{TAG_DATA_FINGERPRINT!r} tag).")


_STALE = ("Look the alias up each time, through the `client` argument (not the notebook's "
          "`client`, nor mlflow's global functions, which talk to the original registry), "
          "instead of hard-coding a version or a value.")


def _alias_cases(setup: ExerciseRegistry, moves):
    """(version the champion alias points to, or None for as built) for each check run."""
    return [None, setup.challenger_version, *moves]


def check_champion_fingerprint(champion_fingerprint, setup: ExerciseRegistry, moves=()) -> None:
    """Check ``champion_fingerprint(client, model_name)`` on copies of the registry, with the
    champion alias as built and moved to other versions; explain a wrong answer."""
    __tracebackhide__ = True
    what = "champion_fingerprint(client, model_name)"
    for moved in _alias_cases(setup, moves):
        with throwaway_registry(setup, champion=moved) as (client, _):
            answer = call(champion_fingerprint, client, setup.model_name, what=what)
        version = moved or setup.champion_version
        if moved is not None:
            what_now = f"With '{CHAMPION}' moved to version {moved}, {what}"
            stale = setup.manifests[setup.version_snapshot[setup.champion_version]].fingerprint
            if (isinstance(answer, str) and as_text(answer) == stale
                    and setup.version_snapshot[moved] != setup.version_snapshot[
                        setup.champion_version]):
                fail(f"{what_now} still returned the old answer. {_STALE}")
            _explain_fingerprint(answer, setup, version, what_now)
        else:
            _explain_fingerprint(answer, setup, version, what)
    print("Well done: you followed the champion alias to its run and its data fingerprint.")


def _explain_snapshot(answer, setup: ExerciseRegistry, expected: str, what: str) -> None:
    __tracebackhide__ = True
    if isinstance(answer, Path) or (isinstance(answer, str) and (
            "/" in answer or "\\" in answer or answer.endswith((".json", ".parquet")))):
        fail(f"{what} returned a path ({answer}); return the snapshot's name, for example "
             f"{sorted(setup.manifests)[0]!r}.")
    if isinstance(answer, Manifest):
        fail(f"{what} returned a Manifest; return its name (manifest.name).")
    answer = as_text(answer, f"{what}'s result")
    if _HEX64.match(answer):
        fail(f"{what} returned a fingerprint; find the snapshot whose manifest has that "
             "fingerprint and return the snapshot's name.")
    if answer == expected:
        return
    if answer in setup.manifests:
        newest = max(setup.manifests, key=lambda n: setup.manifests[n].time_max or "")
        extra = (" It is the newest snapshot, but newest is not champion."
                 if answer == newest else "")
        fail(f"{what} returned {answer!r}.{extra} Match the champion run's data fingerprint "
             "against the 'fingerprint' in each snapshot's manifest, not the names or dates.")
    fail(f"{what} returned {answer!r}, which is not one of the snapshots: "
         f"{', '.join(sorted(setup.manifests))}.")


def check_champion_snapshot(champion_snapshot, setup: ExerciseRegistry, moves=()) -> None:
    """Check ``champion_snapshot(client, model_name, snapshot_dir)`` on copies of the registry
    and the snapshots, with the champion alias as built and moved; explain a wrong answer."""
    __tracebackhide__ = True
    what = "champion_snapshot(client, model_name, snapshot_dir)"
    for moved in _alias_cases(setup, moves):
        with throwaway_registry(setup, champion=moved) as (client, snapshot_dir):
            answer = call(champion_snapshot, client, setup.model_name, snapshot_dir, what=what)
        expected = setup.version_snapshot[moved or setup.champion_version]
        if moved is not None:
            stale = setup.version_snapshot[setup.champion_version]
            if isinstance(answer, str) and as_text(answer) == stale != expected:
                fail(f"With '{CHAMPION}' moved to version {moved}, {what} still returned "
                     f"{stale!r}. {_STALE}")
            _explain_snapshot(answer, setup, expected,
                              f"With '{CHAMPION}' moved to version {moved}, {what}")
        else:
            _explain_snapshot(answer, setup, expected, what)
    expected = setup.version_snapshot[setup.champion_version]
    print(f"Well done: the champion (version {setup.champion_version}) was trained on "
          f"{expected!r}.")


# --- the challenge: which versions would lose their data? --------------------------------------

def lineage_cases(setup: ExerciseRegistry, extra_from: str = "1"):
    """(snapshot name, extra version registered from this version's run or None)."""
    return [(OLD_SNAPSHOT, None), (NEW_SNAPSHOT, None), (setup.version_snapshot[extra_from],
                                                         extra_from)]


def check_versions_trained_on(versions_trained_on, setup: ExerciseRegistry,
                              extra_from: str = "1") -> None:
    """Check ``versions_trained_on(client, model_name, snapshot_dir, snapshot)``: the sorted
    version numbers (ints) of every version trained on that snapshot; ValueError for a name
    that is not a snapshot."""
    __tracebackhide__ = True
    for snapshot, extra in lineage_cases(setup, extra_from):
        with throwaway_registry(setup, extra_version_from=extra) as (client, snapshot_dir):
            what = f"versions_trained_on(client, model_name, snapshot_dir, {snapshot!r})"
            if extra is not None:
                what += (f" after version {len(setup.version_snapshot) + 1} was registered from "
                         f"version {extra}'s run")
            answer = call(versions_trained_on, client, setup.model_name, snapshot_dir, snapshot,
                          what=what)
        if isinstance(answer, (set, frozenset)):
            answer = sorted(answer)  # order is ours to impose; the content is what counts
        got = as_list(answer, f"{what}'s result")
        got = [as_int(int(v) if isinstance(v, str) and v.isdigit() else v,
                      f"a version number in {what}'s result") for v in got]
        want = sorted(int(v) for v, s in setup.version_snapshot.items() if s == snapshot)
        if extra is not None:
            want.append(len(setup.version_snapshot) + 1)
        if got == want:
            continue
        if sorted(got) == want:
            fail(f"{what} returned {got}; sort the version numbers in ascending order.")
        if extra is not None and got == want[:-1]:
            fail(f"{what} returned {got}, without the new version. Search the registry each "
                 "time instead of hard-coding the versions.")
        champion = int(setup.champion_version)
        if got == [champion]:
            fail(f"{what} returned only the champion; every version trained on {snapshot!r} "
                 "loses its data if the snapshot is deleted, whatever its alias.")
        fail(f"{what} returned {got}, but versions {want} were trained on {snapshot!r}. For each "
             "version, follow its run to the data fingerprint tag and compare it with the "
             "snapshot's manifest.")
    with throwaway_registry(setup) as (client, snapshot_dir):
        caught = call_expecting(versions_trained_on, client, setup.model_name, snapshot_dir,
                                "loans-1999-01", error=ValueError,
                                what="versions_trained_on(..., 'loans-1999-01')")
    if caught is None:
        fail("versions_trained_on(..., 'loans-1999-01') returned normally, but there is no such "
             "snapshot: raise a ValueError that names it (an empty list would tell the data team "
             "that deleting it is safe).")
    print("Well done: you know which versions would lose their data.")
