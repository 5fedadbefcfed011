"""Checks for the testing exercise: a schema that catches a broken batch and a behavioural test
that catches a faulty model.

:func:`exercise_data` gives the learner the material (a clean batch, a batch whose income feed
switched to euros, a good model and a faulty model); :func:`check_schema` and
:func:`check_behavioural_test` explain what a learner's answer missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlecourse.example.model import train
from mlecourse.exercises.common import (
    call, call_expecting, fail, fresh, learner_test_failed, same_function,
)
from mlecourse.example.simulate import CATEGORICAL_FEATURES, TARGET, Scenario, simulate_loans

__all__ = [
    "ExerciseData",
    "exercise_data",
    "null_batch",
    "unknown_category_batch",
    "reversed_income_model",
    "check_schema",
    "check_behavioural_test",
    "batch_dependent_model",
    "check_batch_test",
]

_SEED = 7
_ROWS = 3_000


@dataclass(frozen=True)
class ExerciseData:
    """The exercise's material: ``clean`` and ``broken`` batches (same applicants; in ``broken``
    part of the income column arrives in euros), a ``good`` model and a ``faulty`` one."""

    clean: pd.DataFrame
    broken: pd.DataFrame
    good: Pipeline
    faulty: Pipeline


def _without_income_model(df: pd.DataFrame, seed: int = 0) -> Pipeline:
    """The faulty candidate: a refactoring dropped ``income`` from the feature list."""
    numeric = ["loan_amount", "term_months", "credit_history_years"]
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
        ]
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000, random_state=seed))])
    return model.fit(df[numeric + list(CATEGORICAL_FEATURES)], df[TARGET])


@lru_cache(maxsize=1)
def _material():
    history = simulate_loans(months=4, rows_per_month=_ROWS, seed=_SEED)
    train_part = history[history["month"] < "2024-04-01"].reset_index(drop=True)
    clean = history[history["month"] >= "2024-04-01"].reset_index(drop=True)
    broken_all = simulate_loans(
        months=4, rows_per_month=_ROWS, seed=_SEED, scenario=Scenario(quality_break=(3, 0.25))
    )
    broken = broken_all[broken_all["month"] >= "2024-04-01"].reset_index(drop=True)
    return clean, broken, train(train_part), _without_income_model(train_part)


def exercise_data() -> ExerciseData:
    """Fresh copies of the exercise's batches and the two (fitted) models.

    Deep copies on every call: a learner's code that changes a model (say, zeroes its
    coefficients) or a batch cannot affect any later check.
    """
    clean, broken, good, faulty = _material()
    return ExerciseData(clean.copy(), broken.copy(), fresh(good), fresh(faulty))


def null_batch(every: int = 40) -> pd.DataFrame:
    """The clean batch with missing loan amounts (a join that lost rows upstream)."""
    df = exercise_data().clean
    df.loc[df.index[::every], "loan_amount"] = np.nan
    return df


def unknown_category_batch(region: str = "north-east", every: int = 50) -> pd.DataFrame:
    """The clean batch with a region the lender does not serve."""
    df = exercise_data().clean
    df.loc[df.index[::every], "region"] = region
    return df


def broken_batch(share: float = 1.0) -> pd.DataFrame:
    """The broken batch; with ``share`` < 1 only that share of its euro incomes is kept."""
    data = exercise_data()
    if share >= 1.0:
        return data.broken
    df = data.clean.copy()
    euros = data.broken["income"] > data.clean["income"] * 100
    keep = euros & (np.arange(len(df)) % round(1 / share) == 0)
    df.loc[keep, "income"] = data.broken.loc[keep, "income"]
    return df


class _ReversedIncome:
    """A faulty model whose risk *rises* with income (income enters as its reciprocal)."""

    def __init__(self, model):
        self.model = model

    def predict_proba(self, df):
        df = df.copy()
        df["income"] = 1600.0 / np.maximum(df["income"].astype(float), 1.0)
        return self.model.predict_proba(df)


def reversed_income_model():
    """A faulty model: higher income -> higher predicted risk."""
    return _ReversedIncome(exercise_data().good)


class _BatchScaled:
    """A faulty model that rescales a column by the batch's own mean before predicting (the
    scaler was refitted at prediction time): an applicant's risk depends on who else is in
    the batch."""

    def __init__(self, model, column: str, level: float):
        self.model, self.column, self.level = model, column, level

    def predict_proba(self, df):
        df = df.copy()
        values = df[self.column].astype(float)
        df[self.column] = values / values.mean() * self.level
        return self.model.predict_proba(df)


def batch_dependent_model(column: str = "income"):
    """A faulty candidate whose scores for an applicant change with the rest of the batch."""
    data = exercise_data()
    return _BatchScaled(data.good, column, float(data.clean[column].mean()))


# --- part 1: the schema -------------------------------------------------------------------------

def schema_cases(variant: int = 0):
    """(description, batch, should the schema accept it?) for ``check_schema``."""
    data = exercise_data()
    if variant == 0:
        return [
            ("the clean batch", data.clean, True),
            ("the broken batch", data.broken, False),
            ("a batch with missing loan amounts", null_batch(), False),
            ("a batch with the region 'north-east'", unknown_category_batch(), False),
        ]
    return [
        ("the clean batch", data.clean, True),
        ("a batch with 5 % of incomes in euros", broken_batch(0.05), False),
        ("a batch with a few missing loan amounts", null_batch(every=97), False),
        ("a batch with the region 'central'", unknown_category_batch("central", every=83),
         False),
    ]


_HINTS = {
    "broken": ("Look at its income column: some values are in euros, not thousands of euros. Add "
               "a range check on income (no applicant earns a million euros a year)."),
    "euros": ("Look at its income column: some values are in euros, not thousands of euros. Add "
              "a range check on income (no applicant earns a million euros a year)."),
    "loan amounts": "Make loan_amount a column that may not be missing (nullable=False).",
    "region": ("Allow only the regions the lender serves: north, south, east and west "
               "(pa.Check.isin)."),
}


def _hint(name: str) -> str:
    return next((hint for key, hint in _HINTS.items() if key in name), "")


def check_schema(make_schema, variant: int = 0) -> None:
    """Explain what is wrong with a learner's ``make_schema`` (a function returning a pandera
    ``DataFrameSchema``), or return quietly. The schema must accept the clean batch and reject
    the broken one, one with missing loan amounts and one with an unknown region."""
    __tracebackhide__ = True
    import pandera.pandas as pa
    from pandera.errors import SchemaError, SchemaErrors

    from mlecourse.principles.checks import loan_schema, validate_batch

    same_function(make_schema, loan_schema, "loan_schema")
    for name, batch, accept in schema_cases(variant):
        schema = call(make_schema, what="make_schema()")
        if not isinstance(schema, pa.DataFrameSchema):
            fail("make_schema should return a pandera DataFrameSchema (pa.DataFrameSchema({...})), "
                 f"but it returned {type(schema).__name__}.")
        rejected = call_expecting(schema.validate, fresh(batch), lazy=True,
                                  error=(SchemaError, SchemaErrors),
                                  what=f"your schema's validate on {name}")
        if accept and rejected is not None:
            report = validate_batch(fresh(batch), schema)
            fail(f"Your schema rejects {name}, so it would block every delivery. What it "
                 "complained about:\n" + report.failures.to_string(index=False)
                 + "\nLoosen the check(s) above: a schema must accept good data.")
        if not accept and rejected is None:
            fail(f"Your schema accepted {name}. {_hint(name)}")
    print("Well done: your schema accepts the clean batch and rejects every broken one.")


# --- part 2 and the challenge: behavioural tests ----------------------------------------------

def _outcome(test, model, batch, on: str, what: str):
    """None if the learner's test passed on ``model``; else the teaching text of its failure."""
    __tracebackhide__ = True
    failure = call_expecting(test, fresh(model), fresh(batch), error=AssertionError,
                             what=f"{what} on {on}")
    return None if failure is None else learner_test_failed(failure, on)


def _check_test(test, what, good_hint, faulty_cases, package_functions, variant=0) -> None:
    __tracebackhide__ = True
    from mlecourse.principles import checks

    for function in package_functions:
        same_function(test, getattr(checks, function), function)
    data = exercise_data()
    batch = data.clean
    if variant:  # hidden cases: the same conditions on a sample the learner has not seen
        batch = batch.sample(n=600, random_state=variant).reset_index(drop=True)
    failure = _outcome(test, data.good, batch, "the good model", what)
    if failure is not None:
        fail(f"{failure.rstrip('.')}. {good_hint}")
    for on, model, hint in faulty_cases:
        if _outcome(test, model, batch, on, what) is None:
            fail(f"Your test passed on {on}. {hint}")


def income_cases(variant: int = 0):
    """(description, faulty model, hint) for ``check_behavioural_test``."""
    data = exercise_data()
    cases = [
        ("the faulty model (it ignores income)", data.faulty,
         "Its predictions do not move at all when income changes. Require that raising income "
         "LOWERS the predicted risk by a minimum amount, not merely that it does not raise it."),
        ("a model whose risk rises with income", reversed_income_model(),
         "Compare the predictions for the same applicants before and after raising their income, "
         "and require the risk to fall."),
    ]
    return cases


def check_behavioural_test(income_test, variant: int = 0) -> None:
    """Explain what is wrong with a learner's behavioural test ``income_test(model, batch)``
    (which must raise ``AssertionError`` when the model misbehaves), or return quietly.

    The test must pass on the good model and fail on the faulty one and on a model whose risk
    rises with income.
    """
    __tracebackhide__ = True
    _check_test(
        income_test, "income_test(model, batch)",
        "The good model does lower the risk when income rises for (nearly) every applicant; "
        "check the direction of your comparison and that you compare predictions for the same "
        "applicants.",
        income_cases(variant), ("directional_test", "behavioural_tests"), variant)
    print("Well done: your test passes on the good model and catches both faulty ones.")


def batch_cases():
    """(description, faulty model, hint) for ``check_batch_test``."""
    hint = ("Its score for an applicant changes with the rest of the batch: score applicants in "
            "a different company (alone, or in half of the batch) and compare with their scores "
            "in the whole batch. Shuffling the same rows keeps the batch's mean, so it cannot "
            "reveal this fault.")
    return [
        ("the suspect model (income rescaled by the batch mean)", batch_dependent_model("income"),
         hint),
        ("a model that rescales loan amounts by the batch mean",
         batch_dependent_model("loan_amount"), hint),
    ]


def check_batch_test(batch_test, variant: int = 0) -> None:
    """Check the challenge ``batch_test(model, batch)``: it passes on the good model and fails on
    models whose score for an applicant depends on the rest of the batch."""
    __tracebackhide__ = True
    _check_test(
        batch_test, "batch_test(model, batch)",
        "The good model scores every applicant on their own data; allow for rounding (compare "
        "with a tolerance, e.g. np.allclose) and compare the same applicants.",
        batch_cases(), ("invariance_test", "behavioural_tests"), variant)
    print("Well done: your test catches a model whose scores depend on the rest of the batch.")
