"""Set-up and checks for the versioning-lineage exercise: which data trained the champion?

:func:`build_exercise_registry` builds, in a temporary directory, two data snapshots and a real
MLflow model registry (SQLite) holding several versions of one model; the ``champion`` alias
points at a version that is neither the latest version nor trained on the latest snapshot, so
guessing gives the wrong answer. The ``check_*`` functions explain what a wrong answer is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mlecourse.principles.versioning import (
    TAG_DATA_FINGERPRINT,
    TAG_GIT_COMMIT,
    TAG_GIT_TAG,
    Manifest,
    configure_mlflow_offline,
    git,
    init_repo,
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
    the code commit and the data fingerprint (not the snapshot name). MLflow is left pointing at this
    registry (see :func:`mlecourse.principles.versioning.configure_mlflow_offline`).
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
        with mlflow.start_run(run_name=f"{snapshot}-C{c}") as run:
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
    return ExerciseRegistry(directory=str(directory), tracking_uri=offline.tracking_uri,
                            model_name=MODEL_NAME, snapshot_dir=str(snapshot_dir),
                            manifests=manifests, version_snapshot=version_snapshot,
                            version_run=version_run)


# --- checks -----------------------------------------------------------------------------------

def _explain_fingerprint(answer, setup: ExerciseRegistry, expected_version: str, what: str) -> None:
    """Raise AssertionError explaining why ``answer`` is not version ``expected_version``'s data."""
    expected_snapshot = setup.version_snapshot[expected_version]
    expected = setup.manifests[expected_snapshot].fingerprint
    if isinstance(answer, Manifest):
        raise AssertionError(f"{what} returned a whole Manifest; return its fingerprint "
                             "(the string in manifest.fingerprint).")
    if isinstance(answer, bool):
        raise AssertionError(f"{what} should return a string (a 64-character hex fingerprint), "
                             "but it returned a bool.")
    if isinstance(answer, int) or (
            isinstance(answer, str) and answer.strip().isdigit()):
        raise AssertionError(
            f"{what} returned {answer!r}, which looks like a model version number. A version "
            "number names the model, not its data: follow the version to its run and read the "
            "data fingerprint tag.")
    if not isinstance(answer, str):
        raise AssertionError(f"{what} should return a string (a 64-character hex fingerprint), "
                             f"but it returned {type(answer).__name__}.")
    if answer == expected:
        return
    if answer in setup.version_run.values():
        raise AssertionError(f"{what} returned a run id ({answer}). The run is the right place "
                             "to look, but return the data fingerprint stored in its tags.")
    if answer in setup.manifests:
        raise AssertionError(f"{what} returned the snapshot name {answer!r}; return the "
                             "fingerprint of the data instead (the manifest's 'fingerprint').")
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
            raise AssertionError(
                f"{what} returned the fingerprint of snapshot {name!r}{why}, but the "
                f"'{CHAMPION}' alias points to version {expected_version}, which was trained on "
                f"{expected_snapshot!r}. Resolve the alias, then read that version's run tags.")
    if _HEX64.match(answer.lower()) and answer.lower() == expected:
        raise AssertionError(f"{what} returned the right fingerprint in upper case; "
                             "return it exactly as recorded (lower-case hex).")
    if len(answer) < 64 and expected.startswith(answer):
        raise AssertionError(f"{what} returned only the first {len(answer)} characters of the "
                             "fingerprint; return all 64.")
    raise AssertionError(
        f"{what} returned {answer[:20]!r}..., which is not the fingerprint of either snapshot. "
        "Do not recompute it: read the fingerprint recorded on the champion's run (the "
        f"{TAG_DATA_FINGERPRINT!r} tag).")


def check_champion_fingerprint(champion_fingerprint, setup: ExerciseRegistry) -> None:
    """Check ``champion_fingerprint(client, model_name)``; explain a wrong answer."""
    client = setup.client()
    what = "champion_fingerprint(client, model_name)"
    _explain_fingerprint(champion_fingerprint(client, setup.model_name), setup,
                         setup.champion_version, what)
    # Move the alias for a moment: a hard-coded answer would not follow it.
    other = setup.challenger_version
    client.set_registered_model_alias(setup.model_name, CHAMPION, other)
    try:
        answer = champion_fingerprint(client, setup.model_name)
    finally:
        client.set_registered_model_alias(setup.model_name, CHAMPION, setup.champion_version)
    if answer != setup.manifests[setup.version_snapshot[other]].fingerprint:
        raise AssertionError(
            f"After moving '{CHAMPION}' to version {other}, {what} still returned the old "
            "answer. Look the alias up each time instead of hard-coding a version or value.")
    print("Well done: you followed the champion alias to its run and its data fingerprint.")


def check_champion_snapshot(champion_snapshot, setup: ExerciseRegistry) -> None:
    """Check ``champion_snapshot(client, model_name, snapshot_dir)``; explain a wrong answer."""
    client = setup.client()
    what = "champion_snapshot(client, model_name, snapshot_dir)"
    answer = champion_snapshot(client, setup.model_name, setup.snapshot_dir)
    expected = setup.version_snapshot[setup.champion_version]
    if isinstance(answer, Path) or (isinstance(answer, str) and ("/" in answer or "\\" in answer
                                                                 or answer.endswith(".json")
                                                                 or answer.endswith(".parquet"))):
        raise AssertionError(f"{what} returned a path ({answer}); return the snapshot's name, "
                             f"for example {sorted(setup.manifests)[0]!r}.")
    if isinstance(answer, Manifest):
        raise AssertionError(f"{what} returned a Manifest; return its name (manifest.name).")
    if not isinstance(answer, str):
        raise AssertionError(f"{what} should return a snapshot name (a string), but it returned "
                             f"{type(answer).__name__}.")
    if _HEX64.match(answer):
        raise AssertionError(f"{what} returned a fingerprint; find the snapshot whose manifest "
                             "has that fingerprint and return the snapshot's name.")
    if answer == expected:
        print(f"Well done: the champion (version {setup.champion_version}) was trained on "
              f"{expected!r}.")
        return
    if answer in setup.manifests:
        newest = max(setup.manifests, key=lambda n: setup.manifests[n].time_max or "")
        extra = (" It is the newest snapshot, but newest is not champion."
                 if answer == newest else "")
        raise AssertionError(
            f"{what} returned {answer!r}.{extra} Match the champion run's data fingerprint "
            "against the 'fingerprint' in each snapshot's manifest, not the names or dates.")
    raise AssertionError(f"{what} returned {answer!r}, which is not one of the snapshots: "
                         f"{', '.join(sorted(setup.manifests))}.")
