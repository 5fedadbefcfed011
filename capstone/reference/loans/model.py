"""The model: features -> scaling and one-hot encoding -> logistic regression, seeded."""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loans.features import CATEGORICAL, INPUTS, NUMERIC, feature_step

__all__ = ["INPUTS", "make_model", "fit", "scores"]


def make_model(C: float = 1.0, seed: int = 0) -> Pipeline:
    """An unfitted pipeline that takes raw applications (``INPUTS``)."""
    pre = ColumnTransformer([("num", StandardScaler(), NUMERIC),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    clf = LogisticRegression(C=C, max_iter=1000, random_state=seed)
    return Pipeline([("features", feature_step()), ("pre", pre), ("clf", clf)])


def fit(df, C: float = 1.0, seed: int = 0) -> Pipeline:
    """Fit on a validated training batch."""
    return make_model(C, seed).fit(df[INPUTS], df["defaulted"])


def scores(model, df):
    """Default scores for a validated batch of applications."""
    return model.predict_proba(df[INPUTS])[:, 1]
