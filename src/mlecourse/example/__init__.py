"""The running example: a lender's loan applications, their features and the shared model."""
