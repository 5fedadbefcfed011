"""What a batch of applications must look like, checked before training and before scoring."""

import pandera.pandas as pa

APPLICATIONS = pa.DataFrameSchema(
    {
        "application_id": pa.Column(int, unique=True),
        "income": pa.Column(float, pa.Check.in_range(0, 1_000)),  # thousands of EUR a year
        "loan_amount": pa.Column(float, pa.Check.in_range(0.1, 500)),
        "term_months": pa.Column(int, pa.Check.isin([12, 24, 36, 48, 60])),
        "credit_history_years": pa.Column(float, pa.Check.in_range(0, 80)),
        "employment_type": pa.Column(str, pa.Check.isin(
            ["employed", "self-employed", "contract", "unemployed"])),
        "region": pa.Column(str, pa.Check.isin(["north", "east", "south", "west"])),
    },
    strict=False,
    coerce=True,
)
TRAINING = APPLICATIONS.add_columns({"defaulted": pa.Column(int, pa.Check.isin([0, 1]))})


def validate(df, training: bool = False):
    """Return ``df`` checked (and coerced); raises ``pandera.errors.SchemaErrors`` listing
    every failing column and check."""
    return (TRAINING if training else APPLICATIONS).validate(df, lazy=True)
