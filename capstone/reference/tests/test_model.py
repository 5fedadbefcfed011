"""Behavioural tests of the model, and a reproducibility test of training."""

import numpy as np
from sklearn.metrics import roc_auc_score

from loans import model as loan_model


def test_better_than_chance_on_later_months(model):
    from mlecourse.example.simulate import simulate_loans

    later = simulate_loans(months=1, rows_per_month=1000, seed=2, start="2024-08")
    assert roc_auc_score(later["defaulted"], loan_model.scores(model, later)) > 0.65


def test_directional_more_income_lowers_the_risk(model, batch):
    richer = batch.assign(income=batch["income"] * 2)
    assert np.mean(loan_model.scores(model, richer)) < np.mean(loan_model.scores(model, batch))


def test_invariance_the_application_id_does_not_matter(model, batch):
    shuffled = batch.assign(application_id=batch["application_id"][::-1].to_numpy())
    np.testing.assert_array_equal(loan_model.scores(model, batch),
                                  loan_model.scores(model, shuffled))


def test_training_is_reproducible_with_the_same_seed(batch):
    a = loan_model.fit(batch, C=0.3, seed=0)
    b = loan_model.fit(batch, C=0.3, seed=0)
    np.testing.assert_array_equal(a.predict_proba(batch[loan_model.INPUTS]),
                                  b.predict_proba(batch[loan_model.INPUTS]))
