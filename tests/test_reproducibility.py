"""mlecourse.principles.reproducibility: environment, lock, randomness, configuration, DVC.

These tests back the claims of notebooks/reproducibility.ipynb.
"""

from __future__ import annotations

import re
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest

from conftest import ROOT
from mlecourse.example.simulate import FEATURES, simulate_loans
from mlecourse.principles.reproducibility import (
    DOCKERFILE,
    LINEAGE_KEYS,
    TrainingConfig,
    allowed_versions,
    compare_lineage,
    compare_with_lock,
    config_hash,
    dockerfile_problems,
    dvc_output_hashes,
    dvc_repro,
    environment_fingerprint,
    environment_snapshot,
    installed_packages,
    installed_version,
    lineage_record,
    lock_entries,
    metadata_name_version,
    normalise_name,
    read_lock,
    run_function_in_subprocess,
    run_pipeline,
    set_order_in_subprocess,
    set_params,
    train_twice,
    write_dvc_project,
)
from mlecourse.principles.versioning import git

LOCK = ROOT / "requirements.txt"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def write(tmp_path, text, name="requirements.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the environment --------------------------------------------------------------------------

def test_names_are_normalised_as_pip_compares_them():
    assert normalise_name("Scikit_Learn") == normalise_name("scikit.learn") == "scikit-learn"
    with pytest.raises(ValueError, match="non-empty"):
        normalise_name(" ")


def test_installed_packages_match_importlib_metadata():
    packages = installed_packages()
    assert packages["scikit-learn"] == installed_version("scikit-learn")
    assert packages["numpy"] == __import__("numpy").__version__


def test_metadata_header_is_read_as_the_email_parser_reads_it():
    from email import message_from_string

    text = ("Metadata-Version: 2.1\nname: Demo_Pkg\nSummary: a summary folded\n"
            "  over two lines\nVersion: 1.2.3\nVersion: 9.9\n\n"
            "Name: not-a-field\nVersion: 0.0 (in the long description)\n")
    parsed = message_from_string(text)
    assert metadata_name_version(text) == (parsed["Name"], parsed["Version"]) == ("Demo_Pkg", "1.2.3")
    assert metadata_name_version("Summary: no name\n") == (None, None)
    assert metadata_name_version("") == (None, None)


def test_unknown_package_is_named():
    with pytest.raises(ValueError, match="'no-such-package-xyz' is not installed"):
        installed_version("no-such-package-xyz")
    with pytest.raises(ValueError, match="no-such-package-xyz"):
        environment_fingerprint(["numpy", "no-such-package-xyz"])
    with pytest.raises(TypeError, match="list of names"):
        environment_snapshot("numpy")


def test_environment_fingerprint_changes_with_any_version_only():
    snap = environment_snapshot()
    assert snap["python"] == ".".join(map(str, sys.version_info[:3]))
    fp = environment_fingerprint(snapshot=snap)
    assert HEX64.match(fp) and fp == environment_fingerprint()
    moved = {**snap, "packages": {**snap["packages"], "scikit-learn": "99.0"}}
    assert environment_fingerprint(snapshot=moved) != fp
    other_python = {**snap, "python": "3.10.0"}
    assert environment_fingerprint(snapshot=other_python) != fp
    with pytest.raises(ValueError, match="packages"):
        environment_fingerprint(snapshot={"python": "3.11"})


# --- the lock ---------------------------------------------------------------------------------

def test_the_running_environment_is_the_locked_one():
    # The notebook's comparison: nothing locked is missing or at another version here.
    problems = [m for m in compare_with_lock(LOCK, ignore=["mlecourse"])
                if m.problem != "not in the lock"]
    assert problems == []


def test_compare_with_lock_reports_each_kind_of_difference(tmp_path):
    lock = write(tmp_path, "numpy==2.0.0\n    # via pandas\npandas==2.2.0\nscipy==1.14.0\n")
    installed = {"numpy": "2.0.0", "Pandas": "2.1.0", "mlecourse": "0.1", "extra_tool": "1.0"}
    found = {m.package: (m.locked, m.installed, m.problem)
             for m in compare_with_lock(lock, installed, ignore=["mlecourse"])}
    assert found == {"pandas": ("2.2.0", "2.1.0", "different version"),
                     "scipy": ("1.14.0", None, "not installed"),
                     "extra-tool": (None, "1.0", "not in the lock")}
    assert compare_with_lock(lock, {"numpy": "2.0.0", "pandas": "2.2.0", "scipy": "1.14.0"}) == []


@pytest.mark.parametrize("text, message", [
    ("numpy==2.0.0\nscikit-learn>=1.0\n", r"line 2: 'scikit-learn>=1.0' is not pinned"),
    ("numpy==2.0.0\nnumpy is great\n", r"line 2: cannot read 'numpy is great'"),
    ("-r other.txt\n", r"line 1: option lines such as '-r'"),
    ("# only comments\n\n", "pins no packages"),
    ("numpy==2.*\n", "is not pinned"),
])
def test_malformed_lock_is_refused_naming_file_and_line(tmp_path, text, message):
    lock = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as err:
        read_lock(lock)
    assert str(lock) in str(err.value)


def test_missing_lock_or_directory_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"nothing\.txt does not exist"):
        compare_with_lock(tmp_path / "nothing.txt")
    with pytest.raises(ValueError, match="is not a file"):
        read_lock(tmp_path)


def test_two_pins_for_one_environment_are_refused(tmp_path):
    lock = write(tmp_path, "numpy==1.0\nnumpy==2.0 ; python_version >= '3'\n")
    with pytest.raises(ValueError, match="numpy is pinned twice.*lines 1 and 2"):
        read_lock(lock)


def test_universal_lock_pins_numpy_per_python_version():
    numpy_pins = [e for e in lock_entries(LOCK) if e.name == "numpy"]
    assert len(numpy_pins) >= 2 and all(e.marker for e in numpy_pins)
    chosen = {v: read_lock(LOCK, {"python_full_version": v, "python_version": v[:4]})["numpy"]
              for v in ("3.10.14", "3.11.9", "3.12.4")}
    assert len(set(chosen.values())) == len(chosen)
    assert read_lock(LOCK)["numpy"] == installed_version("numpy")


def test_loose_requirement_accepts_later_releases_the_lock_only_one():
    releases = ["0.24.2", "1.0", "1.2.2", "1.6.1", "1.9.1"]
    assert allowed_versions("scikit-learn>=1.0", releases) == ["1.0", "1.2.2", "1.6.1", "1.9.1"]
    assert allowed_versions("scikit-learn==1.6.1", releases) == ["1.6.1"]
    with pytest.raises(ValueError, match="cannot read 'scikit learn >= 1'"):
        allowed_versions("scikit learn >= 1", releases)
    with pytest.raises(ValueError, match="'one' is not a version"):
        allowed_versions("numpy>=1", ["one"])


# --- configuration ----------------------------------------------------------------------------

def test_config_round_trips_through_yaml_and_refuses_bad_fields():
    config = TrainingConfig(n_estimators=50, features=("region", "income"))
    assert TrainingConfig.from_yaml(config.to_yaml()) == config
    with pytest.raises(ValueError, match="unknown configuration field.*n_estimator\\b"):
        TrainingConfig.from_yaml("n_estimator: 50")
    with pytest.raises(TypeError, match="model_seed must be an int or None, got '0'"):
        TrainingConfig.from_yaml("model_seed: '0'")
    with pytest.raises(TypeError, match="features must be a list or tuple"):
        TrainingConfig.from_yaml("features: income")
    with pytest.raises(ValueError, match="not valid YAML"):
        TrainingConfig.from_yaml("a: [b")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"months": True}, TypeError, "months must be an int"),
    ({"test_size": 1.0}, ValueError, "test_size must be between"),
    ({"model": "svm"}, ValueError, "model must be one of logistic, forest"),
    ({"features": {"income", "region"}}, TypeError, "not a set"),
    ({"features": ("income", "income")}, ValueError, "at most once"),
    ({"features": ("salary",)}, ValueError, "salary"),
    ({"sort_rows": 1}, TypeError, "sort_rows must be True or False"),
])
def test_config_checks_each_field(kwargs, error, message):
    with pytest.raises(error, match=message):
        TrainingConfig(**kwargs)


def test_config_hash_changes_with_every_field_and_nothing_else():
    base = TrainingConfig()
    assert HEX64.match(config_hash(base)) and config_hash(base) == config_hash(TrainingConfig())
    changed = {"months": 7, "rows_per_month": 400, "data_seed": 1, "sort_rows": False,
               "test_size": 0.3, "split_seed": None, "model": "logistic", "C": 0.5,
               "n_estimators": 60, "max_depth": 4, "model_seed": 1,
               "features": tuple(reversed(FEATURES))}
    assert set(changed) == {f.name for f in fields(TrainingConfig)}
    hashes = {config_hash(replace(base, **{k: v})) for k, v in changed.items()}
    assert len(hashes) == len(changed) and config_hash(base) not in hashes
    with pytest.raises(TypeError, match="expects a TrainingConfig"):
        config_hash(base.to_dict())


# --- randomness and order ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def config():
    return TrainingConfig()


def test_seeded_pipeline_trains_identically_twice(config):
    twice = train_twice(config)
    assert twice.identical and twice.max_difference == 0.0 and twice.n_different == 0
    assert twice.same_training_rows and twice.same_test_rows
    assert twice.n_predictions == config.rows_per_month


@pytest.mark.parametrize("change, same_rows", [
    ({"model_seed": None}, True),          # same rows, other trees
    ({"split_seed": None}, False),         # other rows held out
    ({"sort_rows": False}, False),         # seeded split, but rows in source order
])
def test_each_unseeded_source_makes_runs_differ(config, change, same_rows):
    twice = train_twice(replace(config, **change))
    assert twice.max_difference > 0.01 and not twice.identical
    assert twice.same_training_rows is same_rows


def test_hash_seed_changes_set_order_only_across_processes():
    a = set_order_in_subprocess(FEATURES, hash_seed=1)
    b = set_order_in_subprocess(FEATURES, hash_seed=2)
    assert sorted(a) == sorted(b) == sorted(FEATURES) and a != b
    assert set_order_in_subprocess(FEATURES, hash_seed=1) == a
    with pytest.raises(ValueError, match="hash_seed"):
        set_order_in_subprocess(FEATURES, hash_seed=-1)


def test_column_order_changes_the_forest_and_the_last_digits_of_the_regression(config):
    a = tuple(set_order_in_subprocess(FEATURES, hash_seed=1))
    b = tuple(set_order_in_subprocess(FEATURES, hash_seed=2))
    forest = train_twice(replace(config, features=a), second=replace(config, features=b))
    assert forest.max_difference > 0.01
    logistic = replace(config, model="logistic")
    regression = train_twice(replace(logistic, features=a), second=replace(logistic, features=b))
    assert 0 < regression.max_difference < 1e-9


def test_run_pipeline_predicts_test_rows_and_the_evaluation_month(config):
    run = run_pipeline(config)
    assert len(run.predictions) == round(config.months * config.rows_per_month
                                         * config.test_size)
    assert run.predictions.index.is_monotonic_increasing
    assert set(run.train_ids).isdisjoint(run.test_ids)
    assert 0.7 < run.auc < 1.0
    with pytest.raises(ValueError, match="lacks column.*defaulted"):
        run_pipeline(config, simulate_loans(months=2, rows_per_month=50).drop(columns="defaulted"))
    with pytest.raises(ValueError, match="at least two months"):
        run_pipeline(config, simulate_loans(months=1, rows_per_month=50))


def test_a_function_runs_in_a_fresh_process_with_the_given_hash_seed():
    source = "def order():\n    return list({'income', 'region', 'loan_amount', 'term_months'})\n"
    a = run_function_in_subprocess(source, "order", hash_seed=1)
    assert a == run_function_in_subprocess(source, "order", hash_seed=1)
    others = [run_function_in_subprocess(source, "order", hash_seed=s) for s in (2, 3, 4)]
    assert any(o != a for o in others)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run_function_in_subprocess("def f():\n    return 1 / 0\n", "f", hash_seed=0)
    with pytest.raises(RuntimeError, match="within 1 s"):
        run_function_in_subprocess("import time\ndef f():\n    time.sleep(30)\n", "f", 0,
                                   timeout=1)


# --- lineage ----------------------------------------------------------------------------------

def test_one_hyperparameter_changes_only_the_config_hash_in_the_lineage():
    data = simulate_loans(months=2, rows_per_month=50)
    config = TrainingConfig()
    record = lineage_record(code_commit=COMMIT, data=data, config=config)
    assert tuple(record) == LINEAGE_KEYS
    assert record["environment_fingerprint"] == environment_fingerprint()
    other = lineage_record(code_commit=COMMIT, data=data, config=replace(config, n_estimators=60))
    assert compare_lineage(record, other) == ["config_hash"]
    with pytest.raises(ValueError, match="full 40-digit Git commit"):
        lineage_record(code_commit=COMMIT[:7], data=data, config=config)
    with pytest.raises(ValueError, match="lacks config_hash"):
        compare_lineage(record, {k: v for k, v in record.items() if k != "config_hash"})


# --- DVC --------------------------------------------------------------------------------------

def test_dvc_reruns_only_what_changed_and_reproduces_the_outputs(tmp_path):
    repo = write_dvc_project(tmp_path / "pipeline")
    assert git(repo, "status", "--porcelain") == ""
    config = (repo / ".dvc" / "config").read_text()
    assert "analytics = false" in config and "remote" not in config

    first = dvc_repro(repo)
    assert first.stages == {"prepare": "ran", "train": "ran"}
    hashes = dvc_output_hashes(repo)
    assert set(hashes) == {"loans.csv", "predictions.csv", "metrics.json"}
    assert dvc_repro(repo).stages == {"prepare": "unchanged", "train": "unchanged"}

    set_params(repo, "train", n_estimators=60)
    changed = dvc_repro(repo)
    assert changed.ran == ["train"] and changed.stages["prepare"] == "unchanged"
    after = dvc_output_hashes(repo)
    assert after["loans.csv"] == hashes["loans.csv"]
    assert after["predictions.csv"] != hashes["predictions.csv"]

    set_params(repo, "train", n_estimators=TrainingConfig().n_estimators)
    back = dvc_repro(repo)
    assert back.stages["train"] == "restored" and dvc_output_hashes(repo) == hashes
    # The run cache is safe because the stages are deterministic: executed again from
    # scratch, every stage produces the bytes the first run recorded.
    again = dvc_repro(repo, force=True, run_cache=False)
    assert again.ran == ["prepare", "train"] and dvc_output_hashes(repo) == hashes
    # DVC's per-repository index stays inside the throwaway folder.
    assert (repo / ".dvc" / "site-cache").is_dir()


def test_dvc_helpers_refuse_bad_input(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="is not empty"):
        write_dvc_project(tmp_path / "busy")
    with pytest.raises(ValueError, match="has no dvc.yaml"):
        dvc_repro(tmp_path)
    with pytest.raises(ValueError, match="run dvc_repro first"):
        dvc_output_hashes(tmp_path)
    (tmp_path / "params.yaml").write_text("prepare: {months: 2}\ntrain: {C: 1.0}\n")
    with pytest.raises(ValueError, match="no stage 'evaluate'"):
        set_params(tmp_path, "evaluate", C=2.0)
    with pytest.raises(ValueError, match="C must be between"):
        set_params(tmp_path, "train", C=-1.0)
    assert "C: 1.0" in (tmp_path / "params.yaml").read_text()  # nothing lost


# --- containers -------------------------------------------------------------------------------

def test_the_course_dockerfile_freezes_the_environment():
    assert dockerfile_problems(DOCKERFILE) == []
    assert "--no-deps -r requirements.txt" in DOCKERFILE


@pytest.mark.parametrize("text, expected", [
    ("FROM python:3.11\nRUN pip install pandas scikit-learn\n", 3),
    ("FROM python:3.11@sha256:abc\nRUN pip install -r requirements.txt\nUSER root\n", 1),
    ("FROM python:3.11@sha256:abc\nRUN pip install -r requirements.txt\nUSER app\n", 0),
    ("# FROM python@sha256:abc\nRUN true\n", 3),
])
def test_dockerfile_problems_counts_each_missing_pin(text, expected):
    assert len(dockerfile_problems(text)) == expected


def test_reproducibility_notebook_is_in_the_book_after_testing():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert toc.index("notebooks/testing") < toc.index("notebooks/reproducibility")
    assert "notebooks/reproducibility.ipynb" in (ROOT / "book" / "principles.md").read_text()


# --- the exercise -----------------------------------------------------------------------------

_NOTEBOOK_IMPORTS = '''\
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from mlecourse.example.simulate import NUMERIC_FEATURES, simulate_loans
from mlecourse.principles.reproducibility import (
    TrainingConfig, config_hash, environment_fingerprint, lineage_record, run_pipeline)
from mlecourse.principles.versioning import fingerprint, git
'''


def as_notebook_function(source: str, name: str, **extra):
    """Define ``name`` as a notebook cell would: in ``__main__``, with its source findable."""
    import linecache

    filename = f"<cell-{name}-{abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__", **extra}
    exec(compile(_NOTEBOOK_IMPORTS, "<imports>", "exec"), namespace)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def _solution_cell(grade_id: str) -> str:
    import nbformat

    nb = nbformat.read(ROOT / "solutions" / "reproducibility.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell.source


from mlecourse.exercises.common import CheckFailed  # noqa: E402
from mlecourse.exercises.reproducibility import (  # noqa: E402
    PLANTED,
    check_lineage_record,
    check_refuses_uncommitted,
    check_reproducible,
    module_source,
)


def planted(*fixes: tuple[str, str]):
    source = PLANTED
    for old, new in fixes:
        assert old in source
        source = source.replace(old, new)
    return as_notebook_function(source, "train_and_predict")


SPLIT = ("test_size=0.25)", "test_size=0.25, random_state=0)")
MODEL = ("max_depth=6)", "max_depth=6, random_state=0)")
ORDER = ("list(set(NUMERIC_FEATURES))", "sorted(NUMERIC_FEATURES)")


def test_exercise_solution_passes_the_reproducibility_check(capsys):
    from sklearn.metrics import roc_auc_score

    solution = as_notebook_function(_solution_cell("train-and-predict"), "train_and_predict")
    check_reproducible(solution)
    assert "identical predictions" in capsys.readouterr().out
    # The exercise text: 3,000 applications, 750 held out, the model reaches about 0.8.
    p = solution()
    data = simulate_loans(months=6, rows_per_month=500, seed=0).set_index("application_id")
    assert len(data) == 3000 and len(p) == 750
    assert 0.75 <= roc_auc_score(data.loc[p.index, "defaulted"], p) <= 0.85


@pytest.mark.parametrize("fixes, message", [
    ((), "held out different applications.*random_state"),
    ((SPLIT,), "same hash seed.*without a seed.*RandomForestClassifier"),
    ((SPLIT, MODEL), "change with the hash seed.*set.*sorted"),
])
def test_each_planted_source_is_named_by_the_check(fixes, message):
    with pytest.raises(CheckFailed, match=message):
        check_reproducible(planted(*fixes))


def test_the_function_source_travels_with_its_imports_and_constants():
    text = module_source(planted())
    assert "import pandas as pd" in text and "NUMERIC_FEATURES = [" in text
    assert "from sklearn.ensemble._forest import RandomForestClassifier" in text
    frame = simulate_loans(months=2, rows_per_month=20)
    uses_frame = as_notebook_function(
        "def train_and_predict():\n    return data['income']\n", "train_and_predict", data=frame)
    with pytest.raises(CheckFailed, match="uses `data` \\(a DataFrame\\) from your notebook"):
        check_reproducible(uses_frame)


def test_package_pipeline_and_stubs_are_refused_with_a_reason():
    uses_package = as_notebook_function(
        "def train_and_predict():\n    return run_pipeline().predictions\n", "train_and_predict")
    with pytest.raises(CheckFailed, match="course package's own training pipeline"):
        check_reproducible(uses_package)
    stub = as_notebook_function("def train_and_predict():\n    raise NotImplementedError()\n",
                                "train_and_predict")
    with pytest.raises(CheckFailed, match="not written yet"):
        check_reproducible(stub)


def test_useless_or_mis_shaped_predictions_fail():
    constant = planted(SPLIT, MODEL, ORDER, ("p_default = model", "p_default = 0 * model"))
    with pytest.raises(CheckFailed, match="ROC AUC of 0.50"):
        check_reproducible(constant)
    series = 'return pd.Series(p_default, index=test["application_id"])'
    array = planted(SPLIT, MODEL, ORDER, (series, "return p_default"))
    with pytest.raises(CheckFailed, match="returned a ndarray.*pandas Series"):
        check_reproducible(array)


LINEAGE = _solution_cell("lineage-record-of")


def test_lineage_solution_and_challenge_solution_pass(tmp_path, capsys):
    record_of = as_notebook_function(LINEAGE, "lineage_record_of")
    check_lineage_record(record_of, tmp_path / "a")
    strict = as_notebook_function(_solution_cell("strict-lineage-record-of"),
                                  "strict_lineage_record_of", lineage_record_of=record_of)
    check_refuses_uncommitted(strict, tmp_path / "b")
    out = capsys.readouterr().out
    assert "both records" in out and "every record is true" in out


@pytest.mark.parametrize("old, new, message", [
    ('git(repo, "rev-parse", "HEAD")', 'git(repo, "rev-parse", "--short", "HEAD")',
     "abbreviated commit id"),
    ('git(repo, "rev-parse", "HEAD")', '"v1"', "tag name 'v1'"),
    ('fingerprint(data)', 'fingerprint(data, order_sensitive=False)', "order-insensitive"),
    ('config_hash(config)', 'config_hash(TrainingConfig())', "default configuration"),
    ('environment_fingerprint()', 'environment_fingerprint(["numpy"])',
     "fingerprint the running environment"),
    ('        "config_hash": config_hash(config),\n', '', "lacks config_hash"),
    ('"code_commit": git', '"commit": git', "lacks code_commit"),
])
def test_wrong_lineage_records_are_explained(tmp_path, old, new, message):
    assert old in LINEAGE
    wrong = as_notebook_function(LINEAGE.replace(old, new), "lineage_record_of")
    with pytest.raises(CheckFailed, match=message):
        check_lineage_record(wrong, tmp_path)


def test_lineage_checks_refuse_the_package_function_and_a_hard_coded_record(tmp_path):
    from mlecourse.exercises.reproducibility import lineage_cases

    with pytest.raises(CheckFailed, match="course package's own lineage record"):
        check_lineage_record(as_notebook_function(
            "def lineage_record_of(repo, data, config):\n"
            "    return lineage_record(code_commit=git(repo, 'rev-parse', 'HEAD'), data=data,"
            " config=config)\n", "lineage_record_of"), tmp_path / "a")
    first = lineage_cases(tmp_path / "truth")[0].expected
    hard_coded = as_notebook_function("def lineage_record_of(repo, data, config):\n"
                                      "    return dict(FIRST)\n", "lineage_record_of",
                                      FIRST=first)
    # Git dates are fixed (reproducible hashes), so the hard-coded commit is a real, older one.
    with pytest.raises(CheckFailed, match="code_commit is .*(not the HEAD commit|first commit)"):
        check_lineage_record(hard_coded, tmp_path / "b")


@pytest.mark.parametrize("body, message", [
    ("    return lineage_record_of(repo, data, config)\n",
     "modified train.py.*returned a record"),
    ("    if git(repo, 'diff', '--name-only'):\n"
     "        raise ValueError('uncommitted')\n"
     "    return lineage_record_of(repo, data, config)\n",
     "new, uncommitted file.*returned a record"),
    ("    if git(repo, 'status', '--porcelain'):\n"
     "        raise RuntimeError('dirty')\n"
     "    return lineage_record_of(repo, data, config)\n",
     "raised RuntimeError.*raise ValueError"),
])
def test_challenge_wrong_answers_are_explained(tmp_path, body, message):
    record_of = as_notebook_function(LINEAGE, "lineage_record_of")
    wrong = as_notebook_function("def strict_lineage_record_of(repo, data, config):\n" + body,
                                 "strict_lineage_record_of", lineage_record_of=record_of)
    with pytest.raises(CheckFailed, match=message):
        check_refuses_uncommitted(wrong, tmp_path)


def test_the_exercise_notebook_shows_the_planted_function_the_tests_use():
    import nbformat

    nb = nbformat.read(ROOT / "solutions" / "reproducibility.ipynb", as_version=4)
    assert any(c.cell_type == "code" and c.source.startswith(PLANTED) for c in nb.cells)
