"""Shared test data: a small simulated batch and a model trained on it (seconds)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project's own modules

from loans import model as loan_model  # noqa: E402
from mlecourse.example.simulate import simulate_loans  # noqa: E402


@pytest.fixture(scope="session")
def batch():
    return simulate_loans(months=6, rows_per_month=300, seed=1)


@pytest.fixture(scope="session")
def model(batch):
    return loan_model.fit(batch, C=0.3, seed=0)
