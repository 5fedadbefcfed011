"""The one feature code. It is a step of the model itself, so training, batch scoring and the
service cannot compute features differently.

The starter computed the features twice (notebook and score.py) and the copies had drifted
apart: the notebook divided by the raw income, score.py by an income floored at 1. Both now
use the course's tested function.
"""

from sklearn.preprocessing import FunctionTransformer

from mlecourse.example.features import add_features
from mlecourse.example.simulate import FEATURES as INPUTS  # what an application holds

NUMERIC = ["income", "loan_amount", "term_months", "credit_history_years", "instalment",
           "debt_to_income"]
CATEGORICAL = ["employment_type", "region"]


def feature_step() -> FunctionTransformer:
    """The pipeline step that adds ``instalment`` and ``debt_to_income`` to a batch."""
    return FunctionTransformer(add_features, validate=False)


__all__ = ["INPUTS", "NUMERIC", "CATEGORICAL", "add_features", "feature_step"]
