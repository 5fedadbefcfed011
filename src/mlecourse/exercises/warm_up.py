"""Checks for the warm-up exercise (how exercises work)."""

from __future__ import annotations

from numbers import Real


def check_default_rate(default_rate) -> None:
    """Explain what is wrong with a learner's ``default_rate`` function, or return quietly."""
    result = default_rate([1, 0, 0, 1])
    if not isinstance(result, Real) or isinstance(result, bool):
        raise AssertionError(
            f"default_rate should return a number, but it returned {type(result).__name__}."
        )
    if result == 2:
        raise AssertionError(
            "default_rate([1, 0, 0, 1]) returned 2: that is the number of defaults. "
            "Divide by the number of applications to get a share."
        )
    if abs(result - 0.5) > 1e-12:
        raise AssertionError(f"default_rate([1, 0, 0, 1]) should be 0.5, but it returned {result}.")
    try:
        default_rate([])
    except ValueError:
        pass
    except ZeroDivisionError:
        raise AssertionError(
            "default_rate([]) raised ZeroDivisionError. An empty batch is bad input: "
            "raise a ValueError that says the batch is empty."
        ) from None
    else:
        raise AssertionError("default_rate([]) should raise a ValueError: there is nothing to average.")
    print("Well done: default_rate is correct.")
