"""Check helpers for the exercise notebooks: each explains a wrong answer, not just rejects it."""
