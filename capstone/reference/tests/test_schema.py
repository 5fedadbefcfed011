"""The schema accepts the export and refuses a broken feed, naming the column."""

import pandera.errors
import pytest

from loans.schema import validate


def test_a_good_batch_passes(batch):
    assert len(validate(batch, training=True)) == len(batch)


def test_incomes_in_euros_instead_of_thousands_are_refused(batch):
    broken = batch.assign(income=batch["income"] * 1000)
    with pytest.raises(pandera.errors.SchemaErrors, match="income"):
        validate(broken)


def test_an_unknown_region_is_refused(batch):
    with pytest.raises(pandera.errors.SchemaErrors, match="region"):
        validate(batch.assign(region="atlantis"))
