"""Tests of the running example's feature code (mlecourse.example.features)."""

import math
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from mlecourse.example.features import add_features, debt_to_income, monthly_instalment
from mlecourse.example.simulate import TERMS, simulate_loans

# Hypothesis caches files under ./.hypothesis (even without a database): keep them out of the
# repository. The settings make every run deterministic and store no example database.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="mlecourse-hypothesis-"))
PROPERTY = settings(derandomize=True, database=None, max_examples=200, deadline=None)

principals = st.floats(min_value=0.1, max_value=1000.0)
rates = st.floats(min_value=0.0, max_value=0.3)
terms = st.sampled_from(TERMS)


def textbook_instalment(principal, annual_rate, term_months):
    """The first version the notebook shows: the annuity formula without the zero-rate case."""
    r = annual_rate / 12
    return principal * r / (1 - (1 + r) ** -term_months)


# --- unit tests -------------------------------------------------------------------------------


def test_instalment_known_value():
    # 10k EUR over 36 months at 6 % a year: 304.22 EUR a month (standard annuity tables)
    assert monthly_instalment(10.0, 0.06, 36) == pytest.approx(0.30422, abs=1e-5)


def test_instalment_zero_rate_is_equal_parts():
    assert monthly_instalment(12.0, 0.0, 12) == pytest.approx(1.0)


def test_instalment_tiny_rate_is_continuous_with_zero_rate():
    assert monthly_instalment(12.0, 1e-15, 12) == pytest.approx(1.0)
    assert monthly_instalment(12.0, 1e-6, 12) == pytest.approx(1.0, rel=1e-6)


def test_instalment_longer_term_lowers_payment():
    assert monthly_instalment(10.0, 0.06, 60) < monthly_instalment(10.0, 0.06, 12)


def test_instalment_vectorised_matches_scalar():
    principal = np.array([5.0, 10.0, 20.0])
    terms_ = np.array([12, 36, 60])
    got = monthly_instalment(principal, 0.05, terms_)
    assert isinstance(got, np.ndarray)
    want = [monthly_instalment(p, 0.05, n) for p, n in zip(principal, terms_)]
    np.testing.assert_allclose(got, want)


def test_instalment_accepts_pandas_series():
    got = monthly_instalment(pd.Series([12.0, 24.0]), 0.0, pd.Series([12, 12]))
    np.testing.assert_allclose(got, [1.0, 2.0])


@pytest.mark.parametrize(
    "args, word",
    [
        ((-1.0, 0.05, 12), "principal"),
        ((10.0, -0.05, 12), "annual_rate"),
        ((10.0, 0.05, 0), "term_months"),
        ((10.0, float("nan"), 12), "annual_rate"),
        (("ten", 0.05, 12), "principal"),
    ],
)
def test_instalment_bad_input_names_the_argument(args, word):
    with pytest.raises((ValueError, TypeError), match=word):
        monthly_instalment(*args)


def test_debt_to_income_basic_and_zero_income():
    assert debt_to_income(1.0, 48.0) == pytest.approx(0.25)
    assert debt_to_income(1.0, 0.0) == pytest.approx(12.0)  # floored at MIN_INCOME = 1
    assert math.isfinite(debt_to_income(1.0, 0.0))
    with pytest.raises(ValueError, match="min_income"):
        debt_to_income(1.0, 10.0, min_income=0)
    with pytest.raises(ValueError, match="income"):
        debt_to_income(1.0, -5.0)


def test_add_features_adds_columns_and_copies():
    df = simulate_loans(months=1, rows_per_month=500, seed=3)
    out = add_features(df)
    assert "instalment" not in df.columns
    assert {"instalment", "debt_to_income"} <= set(out.columns)
    assert np.isfinite(out["debt_to_income"]).all()
    assert (out["instalment"] * out["term_months"] >= out["loan_amount"] - 1e-9).all()


def test_add_features_names_missing_column():
    df = simulate_loans(months=1, rows_per_month=10, seed=3).drop(columns="term_months")
    with pytest.raises(ValueError, match="term_months"):
        add_features(df)
    with pytest.raises(TypeError, match="DataFrame"):
        add_features([1, 2, 3])


# --- property-based tests ---------------------------------------------------------------------


def total_repaid_property(instalment_fn, principal, annual_rate, term_months):
    """What every annuity must satisfy: a finite payment and at least the principal repaid."""
    payment = instalment_fn(principal, annual_rate, term_months)
    assert math.isfinite(payment), f"payment is {payment}"
    assert payment * term_months >= principal * (1 - 1e-9)
    assert payment <= principal * (1 + annual_rate / 12) + 1e-12


@PROPERTY
@given(principals, rates, terms)
def test_instalment_property_holds_for_package_version(principal, annual_rate, term_months):
    total_repaid_property(monthly_instalment, principal, annual_rate, term_months)


def test_property_finds_zero_rate_bug_in_textbook_version():
    """The notebook's claim: the property test finds the edge case the unit tests missed."""

    @PROPERTY
    @given(principals, rates, terms)
    def prop(principal, annual_rate, term_months):
        total_repaid_property(textbook_instalment, principal, annual_rate, term_months)

    # The textbook version passes the example unit tests ...
    assert textbook_instalment(10.0, 0.06, 36) == pytest.approx(0.30422, abs=1e-5)
    # ... but hypothesis finds (and shrinks to) the interest-free loan.
    with pytest.raises((AssertionError, ZeroDivisionError)) as info:
        prop()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "annual_rate=0.0" in notes


@PROPERTY
@given(st.floats(0.0, 100.0), st.floats(0.0, 1000.0))
def test_debt_to_income_is_finite_and_non_negative(instalment, income):
    ratio = debt_to_income(instalment, income)
    assert math.isfinite(ratio) and ratio >= 0
