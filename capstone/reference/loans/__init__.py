"""The loan-default model: one package that training, scoring and serving share."""
