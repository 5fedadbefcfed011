"""The course's shared model: a small scikit-learn pipeline for the loan simulator.

Every notebook trains the same model so the course tells one story::

    from mlecourse.example.model import train
    model = train(df[df.month < "2024-07-01"])
    scores = model.predict_proba(df[FEATURES])[:, 1]

The pipeline scales the numeric features, one-hot encodes the categorical ones (categories not
seen in training are ignored, not an error) and fits a logistic regression. It is fast (well
under a second on 100,000 rows) and, because the true default rule is not linear in these
inputs, it is only an approximation: that is what lets drift hurt it.
"""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from mlecourse.example.simulate import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, TARGET

__all__ = ["make_model", "train"]


def make_model(seed: int = 0) -> Pipeline:
    """An unfitted pipeline: StandardScaler + OneHotEncoder -> LogisticRegression."""
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), list(NUMERIC_FEATURES)),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
        ]
    )
    clf = LogisticRegression(max_iter=1000, random_state=seed)
    return Pipeline([("pre", pre), ("clf", clf)])


def train(df: pd.DataFrame, seed: int = 0) -> Pipeline:
    """Fit :func:`make_model` on ``df[FEATURES] -> df[TARGET]``.

    Raises ``ValueError`` naming a missing column, or when ``df`` is empty or holds a single
    class only.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"train expects a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in [*FEATURES, TARGET] if c not in df.columns]
    if missing:
        raise ValueError(f"training data lacks column(s): {', '.join(missing)}")
    if len(df) == 0:
        raise ValueError("training data is empty")
    if df[TARGET].nunique() < 2:
        raise ValueError(f"training data holds only one class in column '{TARGET}'")
    model = make_model(seed)
    # The problem is small: extra BLAS/OpenMP threads only add overhead (and contend with other
    # work on a shared machine), so fit single-threaded. Same result, about twice as fast.
    with threadpool_limits(limits=1):
        model.fit(df[FEATURES], df[TARGET])
    return model
