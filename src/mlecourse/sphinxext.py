"""Sphinx extension for the course site (the scorecard pages are added here)."""


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
