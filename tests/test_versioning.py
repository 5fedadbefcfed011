"""Versioning: fingerprints, manifests, snapshots, Git and a real (SQLite) MLflow registry.

These tests back the claims of notebooks/versioning.ipynb and the versioning-lineage exercise.
Everything is written under pytest's tmp_path.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pandas as pd
import pytest

from mlecourse.example.simulate import FEATURES, TARGET, simulate_loans
from mlecourse.principles.versioning import (
    TAG_DATA_FINGERPRINT,
    TAG_GIT_COMMIT,
    Manifest,
    compare_manifests,
    fingerprint,
    git,
    init_repo,
    is_silent_change,
    make_manifest,
    mlflow_offline,
    no_distribution_index,
    read_snapshot,
    sklearn_pip_requirements,
    write_snapshot,
)


@pytest.fixture(scope="module")
def loans():
    return simulate_loans(months=6, rows_per_month=500, seed=0)


def small():
    return pd.DataFrame({
        "month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
        "income": [41.5, 38.0, 52.25],
        "term_months": np.array([12, 36, 60], dtype="int64"),
        "region": ["north", "east", "west"],
    })


# --- fingerprint ------------------------------------------------------------------------------

def test_fingerprint_is_sha256_hex_and_deterministic(loans):
    fp = fingerprint(loans)
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert fingerprint(loans.copy()) == fp
    assert fingerprint(simulate_loans(months=6, rows_per_month=500, seed=0)) == fp


def test_fingerprint_of_a_fixed_frame_is_stable_across_platforms_and_runs():
    # A pinned value: the canonical encoding must not depend on the machine. If a pandas upgrade
    # changes its value hashing, this test says so (and old manifests would need re-hashing).
    assert fingerprint(small()) == EXPECTED_SMALL


EXPECTED_SMALL = "0603273388a41340b363a98469c05194725de15530b4be55389d5e89dab89417"


@pytest.mark.parametrize("column, new_value", [
    ("income", 41.6), ("term_months", 24), ("region", "south"),
    ("month", pd.Timestamp("2024-03-01")),
])
def test_fingerprint_changes_when_a_single_value_changes(column, new_value):
    df = small()
    changed = df.copy()
    changed.loc[0, column] = new_value
    assert changed[column].dtype == df[column].dtype
    assert fingerprint(changed) != fingerprint(df)
    assert fingerprint(changed, order_sensitive=False) != fingerprint(df, order_sensitive=False)


def test_fingerprint_sees_a_change_deep_in_a_large_frame(loans):
    changed = loans.copy()
    changed.loc[len(loans) - 1, "loan_amount"] += 0.1
    assert fingerprint(changed) != fingerprint(loans)


def test_fingerprint_is_row_order_sensitive_by_default(loans):
    shuffled = loans.sample(frac=1.0, random_state=0).reset_index(drop=True)
    assert fingerprint(shuffled) != fingerprint(loans)


def test_canonical_fingerprint_ignores_row_and_column_order(loans):
    permuted = loans.sample(frac=1.0, random_state=0)[list(reversed(loans.columns))]
    assert fingerprint(permuted, order_sensitive=False) == fingerprint(loans, order_sensitive=False)
    assert fingerprint(permuted) != fingerprint(loans)


def test_canonical_fingerprint_still_counts_duplicate_rows():
    df = small()
    aab = df.iloc[[0, 0, 1]].reset_index(drop=True)
    abb = df.iloc[[0, 1, 1]].reset_index(drop=True)
    assert fingerprint(aab, order_sensitive=False) != fingerprint(abb, order_sensitive=False)


def test_the_two_modes_give_different_fingerprints():
    assert fingerprint(small()) != fingerprint(small(), order_sensitive=False)


def test_fingerprint_ignores_the_index_but_not_names_or_dtypes():
    df = small()
    assert fingerprint(df.set_axis([10, 20, 30])) == fingerprint(df)
    assert fingerprint(df.rename(columns={"income": "salary"})) != fingerprint(df)
    assert fingerprint(df.astype({"term_months": "float64"})) != fingerprint(df)
    assert fingerprint(df.astype({"region": "category"})) != fingerprint(df)


@pytest.mark.parametrize("bad", [small()["income"], [1, 2, 3], {"a": [1]}, None, np.ones((2, 2))])
def test_fingerprint_of_a_non_dataframe_is_a_type_error(bad):
    with pytest.raises(TypeError, match="DataFrame"):
        fingerprint(bad)


def test_fingerprint_of_an_empty_dataframe_is_a_value_error():
    with pytest.raises(ValueError, match="no rows"):
        fingerprint(small().iloc[0:0])
    with pytest.raises(ValueError, match="no columns"):
        fingerprint(pd.DataFrame(index=[0, 1]))


def test_fingerprint_names_duplicated_and_unhashable_columns():
    df = small()
    dup = pd.concat([df, df[["region"]]], axis=1)
    with pytest.raises(ValueError, match="'region'"):
        fingerprint(dup)
    df["tags"] = [[1], [2], [3]]
    with pytest.raises(TypeError, match="'tags'"):
        fingerprint(df)


# --- manifests --------------------------------------------------------------------------------

def test_manifest_describes_the_snapshot(loans):
    m = make_manifest(loans, "loans-2024-06")
    assert m.name == "loans-2024-06"
    assert m.fingerprint == fingerprint(loans)
    assert m.rows == len(loans)
    assert m.schema == {c: str(t) for c, t in loans.dtypes.items()}
    assert (m.time_min, m.time_max) == ("2024-01-01T00:00:00", "2024-06-01T00:00:00")


def test_manifest_json_round_trip(loans):
    m = make_manifest(loans, "loans")
    text = m.to_json()
    assert json.loads(text)["format"] == "mlecourse-manifest"
    assert Manifest.from_json(text) == m
    assert Manifest.from_dict(m.to_dict()) == m
    assert Manifest.from_json(text).to_json() == text


def test_manifest_without_time_column():
    m = make_manifest(small().drop(columns="month"), "x", time_column=None)
    assert m.time_min is None and Manifest.from_json(m.to_json()) == m


@pytest.mark.parametrize("kwargs, message", [
    ({"time_column": "date"}, "'date'"),
    ({"time_column": "region"}, "'region'.*datetime"),
    ({"name": ""}, "name"),
])
def test_make_manifest_rejects_bad_arguments(kwargs, message):
    args = {"name": "x", **kwargs}
    with pytest.raises(ValueError, match=message):
        make_manifest(small(), **args)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(extra=1), "unknown manifest field.*extra"),
    (lambda d: d.pop("fingerprint"), "lacks field.*fingerprint"),
    (lambda d: d.update(format="other"), "'format'"),
    (lambda d: d.update(rows="3"), "'rows'"),
])
def test_manifest_from_dict_names_the_bad_field(change, message):
    data = make_manifest(small(), "x").to_dict()
    change(data)
    with pytest.raises(ValueError, match=message):
        Manifest.from_dict(data)


def test_manifest_from_json_rejects_invalid_json():
    with pytest.raises(ValueError, match="not valid JSON"):
        Manifest.from_json("{not json")


def test_a_silent_upstream_change_is_caught(loans):
    upstream = loans.copy()
    upstream.loc[[10, 20, 30], "income"] = (upstream.loc[[10, 20, 30], "income"] * 0.9).round(1)
    before, after = make_manifest(loans, "loans"), make_manifest(upstream, "loans")
    assert compare_manifests(before, after) == {"fingerprint": (before.fingerprint,
                                                                after.fingerprint)}
    assert is_silent_change(before, after)
    assert not is_silent_change(before, make_manifest(loans.copy(), "loans"))


def test_a_visible_change_is_not_silent_and_schema_changes_are_per_column(loans):
    before = make_manifest(loans, "loans")
    longer = make_manifest(pd.concat([loans, loans.tail(1)], ignore_index=True), "loans")
    assert not is_silent_change(before, longer) and "rows" in compare_manifests(before, longer)
    retyped = make_manifest(loans.astype({"term_months": "float64"}), "loans")
    diff = compare_manifests(before, retyped)
    assert diff["schema.term_months"] == ("int64", "float64")
    assert not is_silent_change(before, retyped)


def test_compare_manifests_needs_manifests(loans):
    with pytest.raises(TypeError, match="Manifest"):
        compare_manifests(make_manifest(loans, "a"), {"name": "a"})


def test_is_silent_change_refuses_fingerprints_of_different_kinds(loans):
    with pytest.raises(ValueError, match="different fingerprint settings"):
        is_silent_change(make_manifest(loans, "a"),
                         make_manifest(loans, "a", order_sensitive=False))


# --- snapshots on disk ------------------------------------------------------------------------

def test_snapshot_round_trip_keeps_data_and_fingerprint(loans, tmp_path):
    manifest = write_snapshot(loans, tmp_path, "loans")
    data, read_back = read_snapshot(tmp_path, "loans")
    pd.testing.assert_frame_equal(data, loans)
    assert read_back == manifest and fingerprint(data) == manifest.fingerprint


def test_read_snapshot_refuses_data_changed_after_the_snapshot(loans, tmp_path):
    write_snapshot(loans, tmp_path, "loans")
    changed = loans.copy()
    changed.loc[0, "region"] = "south" if loans.loc[0, "region"] != "south" else "north"
    changed.to_parquet(tmp_path / "loans.parquet", index=False)
    with pytest.raises(ValueError, match=r"loans\.parquet.*changed"):
        read_snapshot(tmp_path, "loans")
    data, _ = read_snapshot(tmp_path, "loans", verify=False)
    assert data.loc[0, "region"] == changed.loc[0, "region"]


def test_read_snapshot_names_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.parquet"):
        read_snapshot(tmp_path, "nope")


# --- git --------------------------------------------------------------------------------------

def test_git_commit_tag_and_read_back(tmp_path):
    repo = init_repo(tmp_path / "repo")
    assert git(repo, "config", "--local", "user.email") == "learner@example.org"
    (repo / "train.py").write_text("print('train')\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "--quiet", "-m", "training code")
    git(repo, "tag", "-a", "v1.0", "-m", "release")
    head = git(repo, "rev-parse", "HEAD")
    assert re.fullmatch(r"[0-9a-f]{40}", head)
    assert git(repo, "rev-parse", "v1.0^{commit}") == head
    assert git(repo, "rev-parse", "v1.0") != head  # an annotated tag is an object of its own
    assert git(repo, "show", f"{head}:train.py") == "print('train')"


def test_git_reports_failures_with_gits_message(tmp_path):
    repo = init_repo(tmp_path / "repo")
    with pytest.raises(RuntimeError, match="rev-parse.*(unknown revision|ambiguous)"):
        git(repo, "rev-parse", "v9.9")
    with pytest.raises(ValueError, match="not a directory"):
        git(tmp_path / "missing", "status")


# --- MLflow: a real registry on SQLite in a temporary directory -------------------------------

def _train(df, C=1.0, seed=0, balanced=False):
    from mlecourse.example.model import make_model

    model = make_model(seed=seed)
    model.set_params(clf__C=C, clf__class_weight="balanced" if balanced else None)
    return model.fit(df[FEATURES], df[TARGET])


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """Two registered versions of one model, with the champion alias moved from 1 to 2."""
    directory = tmp_path_factory.mktemp("mlflow")
    data = simulate_loans(months=9, rows_per_month=400, seed=0)
    snapshots = {"h1": data[data["month"] < "2024-07-01"].reset_index(drop=True),
                 "q3": data.reset_index(drop=True)}
    holdout = simulate_loans(months=12, rows_per_month=200, seed=1).tail(600)
    env_before = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "DO_NOT_TRACK")}
    with mlflow_offline(directory) as offline:
        import mlflow
        from mlflow import MlflowClient

        client = MlflowClient()
        client.create_registered_model("loan-default")
        versions, models, manifests = [], [], {}
        for name, C, balanced in (("h1", 1.0, False), ("q3", 0.5, True)):
            manifests[name] = write_snapshot(snapshots[name], directory / "snapshots", name)
            model = _train(snapshots[name], C=C, balanced=balanced)
            with mlflow.start_run() as run:
                mlflow.log_params({"C": C, "seed": 0, "balanced": balanced})
                mlflow.set_tags({TAG_GIT_COMMIT: "0" * 40,
                                 TAG_DATA_FINGERPRINT: manifests[name].fingerprint})
                info = mlflow.sklearn.log_model(model, name="model",
                                                pip_requirements=sklearn_pip_requirements())
            versions.append(client.create_model_version(
                "loan-default", source=info.model_uri, run_id=run.info.run_id,
                model_id=info.model_id))
            models.append(model)
        client.set_registered_model_alias("loan-default", "champion", versions[0].version)
        first = client.get_model_version_by_alias("loan-default", "champion").version
        client.set_registered_model_alias("loan-default", "champion", versions[1].version)
        champion = mlflow.sklearn.load_model("models:/loan-default@champion")
        lineage_run = client.get_run(
            client.get_model_version_by_alias("loan-default", "champion").run_id)
        result = {
            "offline": offline, "versions": versions, "models": models, "first": first,
            "champion": champion, "run": lineage_run, "manifests": manifests,
            "snapshot_dir": directory / "snapshots", "holdout": holdout,
            "env_inside": os.environ.get("MLFLOW_TRACKING_URI"),
            "tracking_inside": mlflow.get_tracking_uri(),
        }
    result["env_after"] = {k: os.environ.get(k) for k in env_before}
    result["env_before"] = env_before
    result["directory"] = directory
    return result


def test_mlflow_offline_uses_a_sqlite_file_in_the_directory(registry):
    directory = registry["directory"]
    assert registry["tracking_inside"] == f"sqlite:///{(directory / 'mlflow.db').as_posix()}"
    assert registry["env_inside"] == registry["tracking_inside"]
    assert (directory / "mlflow.db").is_file()
    assert any((directory / "artifacts").iterdir()), "models are stored under the directory"


TELEMETRY_PROBE = """
import sys
from mlecourse.principles.versioning import configure_mlflow_offline
configure_mlflow_offline(sys.argv[1])
from mlflow.telemetry import utils
from mlflow.telemetry.client import get_telemetry_client
print(utils._is_ci_env_or_testing(), utils.is_telemetry_disabled(), get_telemetry_client() is None)
"""


def test_mlflow_offline_switches_telemetry_off_outside_pytest_too(tmp_path):
    # Under pytest MLflow disables telemetry by itself (it sees PYTEST_CURRENT_TEST), so probe
    # a clean interpreter without the CI/test markers: our settings alone must switch it off.
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTEST_CURRENT_TEST", "CI", "GITHUB_ACTIONS", "MLFLOW_DISABLE_TELEMETRY",
                        "DO_NOT_TRACK"}}
    out = subprocess.run([sys.executable, "-c", TELEMETRY_PROBE, str(tmp_path)], env=env,
                         capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.split() == ["False", "True", "True"]


def test_no_distribution_index_skips_the_index_but_not_the_version_check(monkeypatch):
    from mlflow.utils import requirements_utils as ru

    monkeypatch.setattr(ru, "_MODULES_TO_PACKAGES", None)   # as in a fresh process
    with no_distribution_index():
        assert ru._MODULES_TO_PACKAGES == {}                 # the index was not built
        assert ru._check_requirement_satisfied(sklearn_pip_requirements()[0]) is None
        mismatch = ru._check_requirement_satisfied("numpy==0.0.1")
        assert mismatch is not None and mismatch.installed_version == np.__version__
    assert ru._MODULES_TO_PACKAGES is None                   # later inference builds it


def test_mlflow_offline_restores_the_environment(registry):
    assert registry["env_after"] == registry["env_before"]


def test_registry_has_two_versions_and_the_alias_moved(registry):
    v1, v2 = registry["versions"]
    assert (int(v1.version), int(v2.version)) == (1, 2)
    assert registry["first"] == v1.version
    assert registry["run"].info.run_id == v2.run_id


def test_model_loaded_by_alias_is_the_champion_version(registry):
    x = registry["holdout"][FEATURES]
    loaded = registry["champion"].predict_proba(x)
    assert np.array_equal(loaded, registry["models"][1].predict_proba(x))
    assert not np.array_equal(loaded, registry["models"][0].predict_proba(x))


def test_lineage_rebuild_gives_identical_predictions(registry):
    run = registry["run"]
    fp = run.data.tags[TAG_DATA_FINGERPRINT]
    (name,) = [n for n, m in registry["manifests"].items() if m.fingerprint == fp]
    data, _ = read_snapshot(registry["snapshot_dir"], name)
    params = run.data.params
    rebuilt = _train(data, C=float(params["C"]), seed=int(params["seed"]),
                     balanced=params["balanced"] == "True")
    x = registry["holdout"][FEATURES]
    assert name == "q3"
    assert np.array_equal(rebuilt.predict_proba(x), registry["champion"].predict_proba(x))


def test_lineage_rebuild_on_the_wrong_snapshot_differs(registry):
    data, _ = read_snapshot(registry["snapshot_dir"], "h1")
    rebuilt = _train(data, C=0.5, balanced=True)
    x = registry["holdout"][FEATURES]
    assert not np.array_equal(rebuilt.predict_proba(x), registry["champion"].predict_proba(x))


def test_mlflow_dataset_digest_misses_a_late_change_that_the_fingerprint_sees():
    # The notebook's contrast: MLflow's dataset digest hashes only the first rows.
    import mlflow.data
    from mlflow.data.digest_utils import MAX_ROWS

    df = simulate_loans(months=6, rows_per_month=2_000, seed=0)
    assert len(df) > MAX_ROWS
    late = df.copy()
    late.loc[len(df) - 1, "income"] += 0.1
    assert mlflow.data.from_pandas(late).digest == mlflow.data.from_pandas(df).digest
    assert fingerprint(late) != fingerprint(df)


# --- the exercise -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exercise(tmp_path_factory):
    from mlecourse.exercises.versioning import build_exercise_registry

    return build_exercise_registry(tmp_path_factory.mktemp("exercise"))


def _champion_fingerprint(client, model_name):
    mv = client.get_model_version_by_alias(model_name, "champion")
    return client.get_run(mv.run_id).data.tags[TAG_DATA_FINGERPRINT]


def _champion_snapshot(client, model_name, snapshot_dir):
    from pathlib import Path

    fp = _champion_fingerprint(client, model_name)
    for path in Path(snapshot_dir).glob("*.manifest.json"):
        manifest = Manifest.from_json(path.read_text())
        if manifest.fingerprint == fp:
            return manifest.name
    return None


def test_exercise_champion_is_neither_latest_version_nor_latest_snapshot(exercise):
    client = exercise.client()
    champion = client.get_model_version_by_alias(exercise.model_name, "champion").version
    latest = max(int(v.version) for v in client.search_model_versions(
        f"name='{exercise.model_name}'"))
    assert int(champion) != latest
    assert exercise.version_snapshot[str(champion)] == "loans-2024-06"
    assert _champion_snapshot(client, exercise.model_name, exercise.snapshot_dir) == "loans-2024-06"


def test_exercise_checks_accept_the_solution(exercise, capsys):
    from mlecourse.exercises.versioning import (check_champion_fingerprint,
                                                      check_champion_snapshot)

    check_champion_fingerprint(_champion_fingerprint, exercise)
    check_champion_snapshot(_champion_snapshot, exercise)
    assert capsys.readouterr().out.count("Well done") == 2
    # The check moved the alias for a moment: it must be back.
    client = exercise.client()
    assert str(client.get_model_version_by_alias(exercise.model_name, "champion").version) == \
        exercise.champion_version


@pytest.mark.parametrize("answer, message", [
    (lambda s, c, n: s.manifests["loans-2024-12"].fingerprint, "newest snapshot.*version 2"),
    (lambda s, c, n: 2, "version number"),
    (lambda s, c, n: "2", "version number"),
    (lambda s, c, n: None, "should return a string.*NoneType"),
    (lambda s, c, n: s.manifests["loans-2024-06"], "whole Manifest"),
    (lambda s, c, n: _champion_fingerprint(c, n)[:12], "first 12 characters"),
    (lambda s, c, n: c.get_model_version_by_alias(n, "champion").run_id, "run id"),
    (lambda s, c, n: "loans-2024-06", "snapshot name"),
    (lambda s, c, n: "f" * 64, "not the fingerprint of either snapshot"),
    (lambda s, c, n: s.manifests["loans-2024-06"].fingerprint, "still returned the old answer"),
])
def test_exercise_fingerprint_check_explains_wrong_answers(exercise, answer, message):
    from mlecourse.exercises.versioning import check_champion_fingerprint

    with pytest.raises(AssertionError, match=message):
        check_champion_fingerprint(lambda c, n: answer(exercise, c, n), exercise)


@pytest.mark.parametrize("answer, message", [
    (lambda s: "loans-2024-12", "newest is not champion"),
    (lambda s: s.manifests["loans-2024-06"].fingerprint, "returned a fingerprint"),
    (lambda s: s.snapshot_dir + "/loans-2024-06.parquet", "returned a path"),
    (lambda s: 2, "should be text.*int"),
    (lambda s: "loans-2025-01", "not one of the snapshots"),
])
def test_exercise_snapshot_check_explains_wrong_answers(exercise, answer, message):
    from mlecourse.exercises.versioning import check_champion_snapshot

    with pytest.raises(AssertionError, match=message):
        check_champion_snapshot(lambda c, n, d: answer(exercise), exercise)


class _LyingStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


def test_exercise_checks_refuse_a_lying_eq(exercise):
    from mlecourse.exercises.versioning import check_champion_fingerprint, check_champion_snapshot

    with pytest.raises(AssertionError, match="not the fingerprint of either snapshot"):
        check_champion_fingerprint(lambda c, n: _LyingStr("x"), exercise)
    with pytest.raises(AssertionError, match="not one of the snapshots"):
        check_champion_snapshot(lambda c, n, d: _LyingStr("x"), exercise)


def test_exercise_learner_code_cannot_change_the_registry(exercise, capsys):
    """A learner function that moves or deletes aliases works on a throwaway copy."""
    from mlecourse.exercises.versioning import check_champion_fingerprint

    def mover(client, name):
        client.set_registered_model_alias(name, "champion", "3")
        return _champion_fingerprint(client, name)

    def deleter(client, name):
        answer = _champion_fingerprint(client, name)
        client.delete_registered_model_alias(name, "champion")
        client.delete_model_version(name, "1")
        return answer

    with pytest.raises(AssertionError, match="alias points to version 2"):
        check_champion_fingerprint(mover, exercise)
    check_champion_fingerprint(deleter, exercise)
    client = exercise.client()
    assert str(client.get_model_version_by_alias(exercise.model_name, "champion").version) == "2"
    assert len(client.search_model_versions(f"name='{exercise.model_name}'")) == 3
    check_champion_fingerprint(_champion_fingerprint, exercise)
    # The check's scratch copy is reset too: version 1 is back for the next check.
    from mlecourse.exercises.versioning import check_versions_trained_on

    check_versions_trained_on(_versions_trained_on, exercise)
    assert capsys.readouterr().out.count("Well done") == 3


def test_exercise_check_uses_a_pristine_copy_even_after_the_notebook_moved_the_alias(exercise):
    from mlecourse.exercises.versioning import check_champion_fingerprint

    client = exercise.client()
    client.set_registered_model_alias(exercise.model_name, "champion", "3")
    try:
        check_champion_fingerprint(_champion_fingerprint, exercise)
    finally:
        client.set_registered_model_alias(exercise.model_name, "champion", "2")


def _versions_trained_on(client, model_name, snapshot_dir, snapshot):
    from pathlib import Path

    path = Path(snapshot_dir) / f"{snapshot}.manifest.json"
    if not path.exists():
        raise ValueError(f"no snapshot {snapshot!r}")
    wanted = Manifest.from_json(path.read_text()).fingerprint
    return sorted(int(v.version) for v in client.search_model_versions(f"name='{model_name}'")
                  if client.get_run(v.run_id).data.tags.get(TAG_DATA_FINGERPRINT) == wanted)


def test_exercise_challenge_accepts_the_solution(exercise, capsys):
    from mlecourse.exercises.versioning import check_versions_trained_on

    check_versions_trained_on(_versions_trained_on, exercise)
    check_versions_trained_on(_versions_trained_on, exercise, extra_from="3")
    assert capsys.readouterr().out.count("Well done") == 2


def _empty_for_unknown(c, n, d, s):
    from pathlib import Path

    return _versions_trained_on(c, n, d, s) if (Path(d) / f"{s}.manifest.json").exists() else []


@pytest.mark.parametrize("answer, message", [
    (lambda c, n, d, s: [1, 2] if s == "loans-2024-06" else [3], "without the new version"),
    (lambda c, n, d, s: [int(c.get_model_version_by_alias(n, "champion").version)],
     "only the champion"),
    (lambda c, n, d, s: _versions_trained_on(c, n, d, s)[::-1], "ascending order"),
    (_empty_for_unknown, "no such snapshot"),
    (lambda c, n, d, s: "1, 2", "should be a list"),
])
def test_exercise_challenge_explains_wrong_answers(exercise, answer, message):
    from mlecourse.exercises.versioning import check_versions_trained_on

    with pytest.raises(AssertionError, match=message):
        check_versions_trained_on(answer, exercise)
