"""Checks for the reproducibility exercise: make a training function reproducible, record lineage.

Part 1 runs the learner's ``train_and_predict()`` in fresh Python processes with different
``PYTHONHASHSEED`` values. A function defined in a notebook cannot be pickled into another
process, so the check sends its *source*: :func:`module_source` reads the function's text with
:func:`inspect.getsource` (IPython keeps every cell's text, so this works for functions defined
in a notebook), and writes in front of it what the function uses from the notebook: the
modules and functions it imports (as imports) and simple constants (as literals). Anything else
from the notebook (a DataFrame, a model) is refused with a message: a fresh process would not
have it. The module is then run by
:func:`mlecourse.principles.reproducibility.run_functions_in_subprocesses`.

When two runs differ, the check names the source that still varies: the held-out rows (the
split), predictions that change with the hash seed only (iteration over a ``set``), or
predictions that change even under the same hash seed (an unseeded model).
"""

from __future__ import annotations

import builtins
import dis
import importlib
import inspect
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

from mlecourse.exercises.common import (
    CheckFailed,
    as_dict,
    as_int,
    as_number,
    as_text,
    call,
    fail,
    fresh,
    same_function,
)

#: The exercise's data: six months of 500 applications, seed 0; a quarter is held out.
MONTHS, ROWS_PER_MONTH, DATA_SEED, TEST_SHARE = 6, 500, 0, 0.25
MIN_AUC = 0.7
SECONDS = 90

#: The function the learner starts from: three planted sources of non-determinism.
PLANTED = '''\
def train_and_predict():
    """Train on six months of applications; return P(default) for the held-out quarter."""
    data = simulate_loans(months=6, rows_per_month=500, seed=0)
    features = list(set(NUMERIC_FEATURES))
    train, test = train_test_split(data, test_size=0.25)
    model = RandomForestClassifier(n_estimators=30, max_depth=6)
    model.fit(train[features], train["defaulted"])
    p_default = model.predict_proba(test[features])[:, 1]
    return pd.Series(p_default, index=test["application_id"])
'''

_SIMPLE = (int, float, str, bool, type(None))


# --- sending a notebook function to a fresh process -------------------------------------------

def _global_names(code: types.CodeType) -> list[str]:
    """Names the code (and the functions and comprehensions inside it) reads as globals."""
    names = []
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval not in names:
            names.append(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += [n for n in _global_names(const) if n not in names]
    return names


def _is_literal(value) -> bool:
    if isinstance(value, _SIMPLE):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(_is_literal(k) and _is_literal(v) for k, v in value.items())
    return False


def _importable(obj) -> str | None:
    """``from module import name`` for a function or class that can be imported again."""
    module, name = getattr(obj, "__module__", None), getattr(obj, "__name__", None)
    if not module or not name or module == "__main__" or module.startswith("__"):
        return None
    try:
        if getattr(importlib.import_module(module), name, None) is obj:
            return f"from {module} import {name}"
    except ImportError:
        return None
    return None


def _source_of(function) -> str:
    __tracebackhide__ = True
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        fail(f"The check cannot read the source of {function.__name__}. Define it with `def` "
             "in a notebook cell (not with lambda or exec), run that cell, then this check.")


def module_source(function) -> str:
    """A module's text that defines ``function`` and everything it uses from the notebook.

    Raises :class:`CheckFailed` naming a notebook variable a fresh process could not have.
    """
    __tracebackhide__ = True
    if not isinstance(function, types.FunctionType):
        fail(f"Expected a function defined with `def`, got {type(function).__name__}.")
    if function.__code__.co_freevars:
        fail(f"{function.__name__} uses variables of an enclosing function "
             f"({', '.join(function.__code__.co_freevars)}); define it at the top level of a "
             "cell.")
    header, bodies, done = [], [], set()

    def add(fn):
        done.add(fn.__name__)
        for name in _global_names(fn.__code__):
            if name in done or name not in fn.__globals__:
                continue  # a builtin, or a name the function defines itself
            value = fn.__globals__[name]
            done.add(name)
            if isinstance(value, types.ModuleType):
                alias = "" if value.__name__ == name else f" as {name}"
                header.append(f"import {value.__name__}{alias}")
            elif (line := _importable(value)) is not None:
                header.append(line + ("" if value.__name__ == name else f" as {name}"))
            elif isinstance(value, types.FunctionType) and value.__module__ == "__main__":
                add(value)  # a helper defined in the notebook: send its source too
            elif _is_literal(value):
                header.append(f"{name} = {value!r}")
            elif getattr(builtins, name, None) is not value:
                fail(f"{fn.__name__} uses `{name}` (a {type(value).__name__}) from your "
                     "notebook. The check runs your function in a fresh Python process, which "
                     f"has only imports and simple constants: create `{name}` inside the "
                     "function, or import it there.")
        bodies.append(_source_of(fn))

    add(function)
    return "\n".join([*dict.fromkeys(header), "", "", *reversed(bodies)])


# --- part 1: reproducible across processes ----------------------------------------------------

@dataclass(frozen=True)
class _Run:
    ids: list
    p: list


def _as_run(result, seed: int) -> _Run:
    __tracebackhide__ = True
    import pandas as pd

    what = f"train_and_predict() (run with PYTHONHASHSEED={seed})"
    if not isinstance(result, pd.Series):
        fail(f"{what} returned a {type(result).__name__}. Return a pandas Series of predicted "
             "probabilities indexed by application_id: "
             "pd.Series(p_default, index=test[\"application_id\"]).")
    ids = [as_int(i, f"an index value of what {what} returned") for i in result.index.tolist()]
    p = [as_number(v, f"a prediction of {what}") for v in result.tolist()]
    return _Run(ids=ids, p=p)


def _data():
    from mlecourse.example.simulate import simulate_loans

    return simulate_loans(months=MONTHS, rows_per_month=ROWS_PER_MONTH, seed=DATA_SEED)


def _check_useful(run: _Run, seed: int) -> None:
    """The predictions are for a quarter of the applications, probabilities, and useful."""
    __tracebackhide__ = True
    from sklearn.metrics import roc_auc_score

    data = _data()
    expected = round(len(data) * TEST_SHARE)
    labels = dict(zip(data["application_id"].tolist(), data["defaulted"].tolist()))
    if len(set(run.ids)) != len(run.ids):
        fail("Some application ids appear twice in the returned index: return one prediction "
             "per held-out application.")
    unknown = [i for i in run.ids if i not in labels]
    if unknown:
        fail(f"The index holds {len(unknown)} values that are not application ids of the data "
             f"(for example {unknown[0]}): index the Series by test[\"application_id\"], not by "
             "the row position.")
    if len(run.ids) != expected:
        fail(f"Your function returned {len(run.ids)} predictions; hold out a quarter of the "
             f"{len(data):,} applications ({expected:,}) as the original function does "
             "(test_size=0.25).")
    if any(not 0.0 <= p <= 1.0 for p in run.p):
        fail("Some predictions are not probabilities between 0 and 1: return "
             "predict_proba(...)[:, 1], the probability of default.")
    auc = float(roc_auc_score([labels[i] for i in run.ids], run.p))
    if auc < MIN_AUC:
        fail(f"Your predictions rank the held-out applications with a ROC AUC of {auc:.2f} "
             f"(PYTHONHASHSEED={seed}); the original model reaches about 0.8. Making a model "
             f"reproducible must not make it useless: keep training it (AUC >= {MIN_AUC}).")


def _differing_seeds(first: int) -> tuple[int, int]:
    """Two hash seeds under which the exercise's feature set is iterated in different orders."""
    from mlecourse.example.simulate import NUMERIC_FEATURES
    from mlecourse.principles.reproducibility import set_order_in_subprocess

    base = set_order_in_subprocess(NUMERIC_FEATURES, first)
    for other in range(first + 1, first + 50):
        if set_order_in_subprocess(NUMERIC_FEATURES, other) != base:
            return first, other
    raise RuntimeError("no hash seed changed the set order")  # pragma: no cover


def _runs(function, source: str, seeds) -> list:
    __tracebackhide__ = True
    from mlecourse.principles.reproducibility import run_functions_in_subprocesses

    try:
        return run_functions_in_subprocesses(source, function.__name__, seeds, timeout=SECONDS)
    except RuntimeError as err:
        text = str(err)
        if "NotImplementedError" in text:
            fail(f"{function.__name__}() is not written yet: replace `raise "
                 "NotImplementedError(...)` in the solution cell with your code, run that "
                 "cell, then run this check again.")
        fail(f"{text}. Run {function.__name__}() in a cell of its own to see the whole error.")


def check_reproducible(train_and_predict, first_seed: int = 1) -> None:
    """Run ``train_and_predict()`` in two fresh processes with different hash seeds.

    Passes when both return the same predictions for the same held-out applications, and
    those predictions are useful; otherwise names the source of randomness that still varies.
    """
    __tracebackhide__ = True
    from mlecourse.principles.reproducibility import run_pipeline, train_twice

    for package_function in (run_pipeline, train_twice):
        same_function(train_and_predict, package_function, f"training pipeline "
                      f"({package_function.__name__})")
    source = module_source(train_and_predict)
    a_seed, b_seed = _differing_seeds(first_seed)
    results = _runs(train_and_predict, source, (a_seed, b_seed))
    a, b = (_as_run(r, s) for r, s in zip(results, (a_seed, b_seed)))
    _check_useful(a, a_seed)
    if sorted(a.ids) != sorted(b.ids):
        fail("The two runs held out different applications: the train/test split still draws "
             "a new random split in every process. Give train_test_split a fixed random_state. "
             "(Fix this first; the check then looks at the model.)")
    pa, pb = dict(zip(a.ids, a.p)), dict(zip(b.ids, b.p))
    if pa == pb:
        print(f"Well done: two fresh processes (PYTHONHASHSEED={a_seed} and {b_seed}) gave "
              f"identical predictions for the same {len(a.ids):,} applications.")
        return
    (again,) = _runs(train_and_predict, source, (a_seed,))
    again = _as_run(again, a_seed)
    if dict(zip(again.ids, again.p)) == pa:
        fail(f"Same held-out rows, but the predictions change with the hash seed: with "
             f"PYTHONHASHSEED={a_seed} twice they are identical, with {b_seed} they differ. "
             "Something iterates over a set (or builds an order from one): list(set(...)) "
             "gives the feature columns in a different order in every process. Give the list "
             "a fixed order, for example sorted(...).")
    fail(f"Same held-out rows, but even two runs with the same hash seed ({a_seed}) predict "
         "differently: something draws random numbers without a seed, most likely the model. "
         "Give RandomForestClassifier a fixed random_state. (Fix this first; the check then "
         "looks for what else varies.)")


# --- part 2: the lineage record ---------------------------------------------------------------

@dataclass(frozen=True)
class LineageCase:
    """One run to describe: a repository, its data and its configuration (and the truth)."""

    repo: Path
    data: object
    config: object
    expected: dict


def _case(directory: Path, name: str, rows: int, seed: int, n_estimators: int,
          commits: int) -> LineageCase:
    from mlecourse.example.simulate import simulate_loans
    from mlecourse.principles.reproducibility import TrainingConfig, lineage_record
    from mlecourse.principles.versioning import git, init_repo

    repo = init_repo(directory / name)
    for i in range(commits):
        (repo / "train.py").write_text(f"# training code, version {i + 1}\n")
        git(repo, "add", "train.py")
        git(repo, "commit", "--quiet", "-m", f"Training code, version {i + 1}")
    git(repo, "tag", "v1")
    data = simulate_loans(months=2, rows_per_month=rows, seed=seed)
    config = TrainingConfig(n_estimators=n_estimators)
    expected = lineage_record(code_commit=git(repo, "rev-parse", "HEAD"), data=data,
                              config=config)
    return LineageCase(repo=repo, data=data, config=config, expected=expected)


def lineage_cases(directory) -> list[LineageCase]:
    """Two different runs in ``directory``: other commits, data and configurations."""
    directory = Path(directory)
    return [_case(directory, "run-a", rows=40, seed=1, n_estimators=30, commits=1),
            _case(directory, "run-b", rows=60, seed=2, n_estimators=50, commits=2)]


def _explain_field(key: str, got: str, case: LineageCase) -> None:
    __tracebackhide__ = True
    from mlecourse.principles.reproducibility import TrainingConfig, config_hash
    from mlecourse.principles.versioning import fingerprint, git

    want = case.expected[key]
    if got == want:
        return
    if key == "code_commit":
        if len(got) < 40 and want.startswith(got):
            fail(f"code_commit is an abbreviated commit id ({got}); record all 40 digits "
                 "(git rev-parse HEAD): short ids can become ambiguous.")
        if got == "v1":
            fail("code_commit is the tag name 'v1'. A tag can be moved; record the commit id "
                 "it points to (git rev-parse HEAD).")
        first = git(case.repo, "rev-list", "--max-parents=0", "HEAD")
        if got == first:
            fail("code_commit is the repository's first commit; record the commit the code "
                 "ran from, HEAD.")
        fail(f"code_commit is {got[:12]!r}..., not the HEAD commit of the repository you were "
             "given. Ask Git: git(repo, \"rev-parse\", \"HEAD\").")
    if key == "data_fingerprint":
        if got == fingerprint(case.data, order_sensitive=False):
            fail("data_fingerprint is the order-insensitive fingerprint; record the default "
                 "fingerprint(data), which the snapshots and the registry use.")
        fail("data_fingerprint is not fingerprint(data) of the data you were given: "
             "fingerprint the exact frame that trained the model.")
    if key == "config_hash":
        if got == config_hash(TrainingConfig()):
            fail("config_hash is the hash of the default configuration, not of the one you "
                 "were given: hash the `config` argument.")
        fail("config_hash is not config_hash(config) of the configuration you were given.")
    fail("environment_fingerprint is not environment_fingerprint() of this environment: "
         "fingerprint the running environment (every installed package), not a list of a few.")


def _record(function, case: LineageCase, what: str) -> dict:
    __tracebackhide__ = True
    from mlecourse.principles.reproducibility import LINEAGE_KEYS

    answer = as_dict(call(function, case.repo, fresh(case.data), case.config, what=what),
                     f"what {what} returned")
    missing = [k for k in LINEAGE_KEYS if k not in answer]
    extra = sorted(map(str, set(answer) - set(LINEAGE_KEYS)))
    if missing:
        fail(f"The record lacks {', '.join(missing)}. A lineage record needs all four: "
             f"{', '.join(LINEAGE_KEYS)}.")
    if extra:
        fail(f"The record has unexpected key(s) {', '.join(extra)}; use exactly "
             f"{', '.join(LINEAGE_KEYS)}.")
    return {k: as_text(answer[k], f"the record's {k}") for k in LINEAGE_KEYS}


def check_lineage_record(lineage_record_of, directory) -> None:
    """Check ``lineage_record_of(repo, data, config)`` on two different runs."""
    __tracebackhide__ = True
    from mlecourse.principles.reproducibility import lineage_record

    same_function(lineage_record_of, lineage_record, "lineage record (lineage_record)")
    cases = lineage_cases(directory)
    for label, case in zip(("first", "second"), cases):
        got = _record(lineage_record_of, case, f"lineage_record_of(repo, data, config) for the "
                      f"{label} run")
        for key in case.expected:
            _explain_field(key, got[key], case)
    print("Well done: both records name the exact commit, data, configuration and environment.")


def check_refuses_uncommitted(lineage_record_of, directory) -> None:
    """The challenge: no record for a repository with uncommitted changes (modified or new)."""
    __tracebackhide__ = True
    from mlecourse.principles.versioning import git

    (case,) = lineage_cases(directory)[:1]
    _record(lineage_record_of, case, "lineage_record_of on a clean repository")
    changes = [("a modified train.py", lambda r: (r / "train.py").write_text("# edited\n")),
               ("a new, uncommitted file", lambda r: (r / "features.py").write_text("x = 1\n"))]
    for label, make_change in changes:
        repo = case.repo
        make_change(repo)
        try:
            result = call(lineage_record_of, repo, fresh(case.data), case.config,
                          what="lineage_record_of(...)")
        except CheckFailed as err:
            git(repo, "checkout", "--quiet", "--", ".")  # put the repository back
            git(repo, "clean", "--quiet", "-fd")
            if "raised ValueError" in str(err):
                continue
            fail(f"{err} With {label} in the repository, raise ValueError (with a message "
                 "that names the uncommitted files), not another error.")
        fail(f"With {label} in the repository, your function returned a record "
             f"({type(result).__name__}) instead of raising ValueError. Its code_commit would "
             "claim code that did not run: check `git status --porcelain` first.")
    print("Well done: a run from uncommitted code gets no record, so every record is true.")
