"""The features are computed once, inside the model: training and scoring cannot disagree."""

import numpy as np

from loans.features import add_features, feature_step


def test_the_model_step_and_the_function_agree(batch):
    a = feature_step().fit_transform(batch)
    b = add_features(batch)
    np.testing.assert_allclose(a["debt_to_income"], b["debt_to_income"])


def test_zero_income_gives_a_finite_large_ratio(batch):
    row = batch.head(1).assign(income=0.0)
    dti = add_features(row)["debt_to_income"].iloc[0]
    assert np.isfinite(dti) and dti > 1
