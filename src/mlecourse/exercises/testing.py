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
from pandera.errors import SchemaError, SchemaErrors
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlecourse.example.model import train
from mlecourse.example.simulate import CATEGORICAL_FEATURES, TARGET, Scenario, simulate_loans

__all__ = [
    "ExerciseData",
    "exercise_data",
    "null_batch",
    "unknown_category_batch",
    "reversed_income_model",
    "check_schema",
    "check_behavioural_test",
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
    """Fresh copies of the exercise's batches and the two (fitted) models."""
    clean, broken, good, faulty = _material()
    return ExerciseData(clean.copy(), broken.copy(), good, faulty)


def null_batch() -> pd.DataFrame:
    """The clean batch with missing loan amounts (a join that lost rows upstream)."""
    df = exercise_data().clean
    df.loc[df.index[::40], "loan_amount"] = np.nan
    return df


def unknown_category_batch() -> pd.DataFrame:
    """The clean batch with a region the lender does not serve."""
    df = exercise_data().clean
    df.loc[df.index[::50], "region"] = "north-east"
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
    """A second faulty model for the hidden tests: higher income -> higher predicted risk."""
    return _ReversedIncome(exercise_data().good)


def _schema_rejects(schema, df) -> bool:
    try:
        schema.validate(df, lazy=True)
    except (SchemaErrors, SchemaError):
        return True
    return False


def check_schema(make_schema, batch=None, name="the broken batch") -> None:
    """Explain what is wrong with a learner's ``make_schema`` (a function returning a pandera
    ``DataFrameSchema``), or return quietly.

    Without ``batch``: the schema must accept the clean batch and reject the broken one.
    With ``batch``: it must (also) reject ``batch``, described as ``name`` in messages.
    """
    import pandera.pandas as pa

    from mlecourse.principles.checks import validate_batch

    schema = make_schema()
    if not isinstance(schema, pa.DataFrameSchema):
        raise AssertionError(
            "make_schema should return a pandera DataFrameSchema (pa.DataFrameSchema({...})), "
            f"but it returned {type(schema).__name__}."
        )
    data = exercise_data()
    report = validate_batch(data.clean, schema)
    if not report.ok:
        raise AssertionError(
            "Your schema rejects the clean batch, so it would block every delivery. "
            "What it complained about:\n"
            + report.failures.to_string(index=False)
            + "\nLoosen the check(s) above: a schema must accept good data."
        )
    if batch is None:
        if not _schema_rejects(schema, data.broken):
            high = data.broken["income"].max()
            raise AssertionError(
                "Your schema accepted the broken batch. Look at its income column: some "
                f"values are in euros, not thousands of euros (the largest is {high:,.0f}). "
                "Add a range check on income (no applicant earns a million euros a year), "
                "or a check that the mean income stays in a plausible band."
            )
        print("Well done: your schema accepts the clean batch and rejects the broken one.")
        return
    if not _schema_rejects(schema, batch):
        raise AssertionError(f"Your schema accepted {name}.")


def _run(test, model, batch):
    try:
        test(model, batch.copy())
    except AssertionError as exc:
        return exc
    return None


def check_behavioural_test(income_test, faulty=None, name="the faulty model") -> None:
    """Explain what is wrong with a learner's behavioural test ``income_test(model, batch)``
    (which must raise ``AssertionError`` when the model misbehaves), or return quietly.

    The test must pass on the good model and fail on the faulty one (or on ``faulty``).
    """
    data = exercise_data()
    try:
        failure = _run(income_test, data.good, data.clean)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - we explain any crash to the learner
        raise AssertionError(
            f"Your test crashed on the good model with {type(exc).__name__}: {exc}. "
            "A behavioural test should only raise AssertionError (via assert)."
        ) from exc
    if failure is not None:
        raise AssertionError(
            f"Your test failed on the good model ({failure}). The good model does lower the "
            "risk when income rises for (nearly) every applicant; check the direction of your "
            "comparison and that you compare predictions for the same applicants."
        )
    if faulty is None:
        if _run(income_test, data.faulty, data.clean) is None:
            raise AssertionError(
                "Your test passed on the faulty model. That model ignores income entirely: its "
                "predictions do not move at all when income changes. Require that raising "
                "income LOWERS the predicted risk (for example the mean risk must fall by a "
                "minimum amount), not merely that it does not raise it."
            )
        print("Well done: your test passes on the good model and catches the faulty one.")
        return
    if _run(income_test, faulty, data.clean) is None:
        raise AssertionError(f"Your test passed on {name}.")
