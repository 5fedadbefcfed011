"""Exercises: ``generate`` builds ``exercises/`` from ``solutions/``; one check module per exercise.

``python -m mlecourse.exercises solutions exercises`` (``make exercises``) regenerates them.
"""
