"""What the model-decay notebook says about PSI, p-values and calibration, held by tests.

The notebook shows these on the running example; the tests run the same package functions on
the same seeded data, so a change that breaks a sentence of the notebook fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlecourse.example.model import train
from mlecourse.example.simulate import SCENARIOS, TARGET, simulate_loans
from mlecourse.principles import drift


@pytest.fixture(scope="module")
def by_size():
    reference = simulate_loans(1, 500_000, seed=1)["income"]
    current = simulate_loans(1, 500_000, seed=2)["income"] * 1.01
    return drift.psi_and_ks_by_size(reference, current, sizes=[100, 1_000, 10_000, 500_000])


def test_ks_test_flags_a_negligible_shift_once_the_sample_is_large(by_size):
    assert by_size.loc[500_000, "KS p-value"] < 1e-6
    assert by_size.loc[10_000, "KS p-value"] < 0.05
    assert by_size.loc[1_000, "KS p-value"] > 0.05


def test_psi_settles_near_zero_for_a_negligible_shift(by_size):
    assert by_size.loc[500_000, "PSI, 10 bins"] < 0.01
    assert by_size.loc[500_000, "PSI, 20 bins"] < 0.01


def test_psi_is_biased_upwards_in_small_samples_and_more_with_more_bins(by_size):
    psi10, psi20 = by_size["PSI, 10 bins"], by_size["PSI, 20 bins"]
    assert psi10.loc[100] > psi10.loc[10_000] > psi10.loc[500_000]
    assert (psi20 > psi10).all()
    # with 100 rows PSI reads a shift "worth a look" where there is none worth the name
    assert psi10.loc[100] > 0.1


def test_psi_and_ks_by_size_refuses_sizes_it_cannot_use():
    x = pd.Series(np.arange(50.0))
    with pytest.raises(ValueError, match="exceeds the smaller window"):
        drift.psi_and_ks_by_size(x, x, sizes=[51])
    with pytest.raises(ValueError, match="positive ints"):
        drift.psi_and_ks_by_size(x, x, sizes=[0])


def test_nested_samples_are_seeded():
    x = pd.Series(np.random.default_rng(0).normal(size=2_000))
    y = pd.Series(np.random.default_rng(1).normal(size=2_000))
    a = drift.psi_and_ks_by_size(x, y, sizes=[100, 1_000], seed=3)
    b = drift.psi_and_ks_by_size(x, y, sizes=[100, 1_000], seed=3)
    pd.testing.assert_frame_equal(a, b)


@pytest.fixture(scope="module")
def covariate_calibration():
    """The notebook's numbers: rows per month and seed as in notebooks/model-decay.ipynb."""
    base = simulate_loans(24, 5_000, 0, SCENARIOS["no drift"])
    cov = simulate_loans(24, 5_000, 0, SCENARIOS["covariate shift"])
    train_end = base["month"].min() + pd.DateOffset(months=6)
    model = train(base[base["month"] < train_end], seed=0)
    out = {}
    for period, df in {"training": cov[cov["month"] < train_end],
                       "second year": cov[cov["month"] >= pd.Timestamp("2025-01-01")]}.items():
        band = np.where(df["loan_amount"] > 0.8 * df["income"], "stretched", "rest")
        out[period] = (df[TARGET].mean(), drift.calibration_by_group(model, df, band))
    return out


def test_covariate_shift_miscalibration_comes_from_the_stretched_applicants(covariate_calibration):
    _, train_table = covariate_calibration["training"]
    observed, year2 = covariate_calibration["second year"]
    # the model under-predicts stretched applicants already in its own training months ...
    assert train_table.loc["stretched", "gap"] < -0.02
    # ... is calibrated for everyone else, before and after the shift ...
    assert abs(train_table.loc["rest", "gap"]) < 0.01
    assert abs(year2.loc["rest", "gap"]) < 0.01
    # ... and the shift brings many more stretched applicants
    assert year2.loc["stretched", "share"] > 3 * train_table.loc["stretched", "share"]
    predicted = (year2["share"] * year2["predicted"]).sum()
    assert predicted < observed - 0.02


def test_calibration_by_group_checks_its_input():
    df = simulate_loans(1, 200, seed=0)
    model = train(simulate_loans(2, 500, seed=1))
    table = drift.calibration_by_group(model, df, "region")
    assert set(table.index) == set(df["region"])
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["rows"].sum() == len(df)
    with pytest.raises(ValueError, match="groups has 3 labels for 200 rows"):
        drift.calibration_by_group(model, df, ["a", "b", "c"])
