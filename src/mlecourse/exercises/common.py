"""What every exercise check shares: time limits, plain values, fresh copies, teaching messages.

The rules these helpers enforce (see the README, "Contributing", "Exercises"):

- learner code is always called through :func:`call`, which time-limits it and turns a
  missing implementation, a crash or a hang into one sentence that says what happened;
- results are converted to plain built-in values (:func:`as_number`, :func:`as_int`,
  :func:`as_text`, :func:`as_list`, ...) *before* they are compared, so an object whose ``==``
  always answers True cannot pass, and NaN or infinity is refused with a reason;
- a wrong answer raises :class:`CheckFailed` (an ``AssertionError``) whose message names the
  mistake. Checker functions set ``__tracebackhide__`` so IPython and pytest hide their frames:
  a learner sees the message, never the checker's source (which may hold the answer).
"""

from __future__ import annotations

import contextlib
import copy
import math
import signal
import threading
from numbers import Integral, Real
from typing import Any, Callable

#: Seconds a single call of learner code may take before the check gives up on it.
TIME_LIMIT = 30


class CheckFailed(AssertionError):
    """A wrong answer, explained. Raised by the check helpers of every exercise."""


def fail(message: str) -> None:
    """Raise :class:`CheckFailed` with ``message`` (its traceback hides the checker's frames)."""
    __tracebackhide__ = True
    raise CheckFailed(message)


class _TimeUp(BaseException):
    """Raised inside learner code by the alarm; a BaseException so ``except Exception`` in the
    learner's code cannot swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Interrupt the body after ``seconds`` (Unix main thread: SIGALRM; elsewhere: no limit)."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable or seconds is None:
        yield
        return

    def _alarm(signum, frame):
        raise _TimeUp()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(function: Callable, *args, what: str | None = None, seconds: float = TIME_LIMIT,
         **kwargs) -> Any:
    """Call learner code with a time limit; explain a stub, a crash or a hang in one sentence.

    ``what`` names the call in messages, e.g. ``"default_rate([1, 0, 0])"``.
    """
    __tracebackhide__ = True
    name = what or f"{getattr(function, '__name__', 'your function')}(...)"
    if not callable(function):
        fail(f"Expected a function for {name}, but got {type(function).__name__}.")
    try:
        with time_limit(seconds):
            return function(*args, **kwargs)
    except _TimeUp:
        fail(f"{name} did not finish within {seconds:g} s. Look for a loop that never ends "
             "or work repeated far more often than needed.")
    except NotImplementedError:
        fail(f"{name} is not written yet: replace `raise NotImplementedError(...)` in the "
             "solution cell with your code, run that cell, then run this check again.")
    except CheckFailed:
        raise
    except Exception as error:  # the learner's own error, reported as such
        fail(f"{name} raised {type(error).__name__}: {error}")


def learner_test_failed(error: AssertionError, on: str) -> str:
    """Describe a learner's own failing ``assert``, also when it has no message."""
    text = str(error).strip()
    if not text:
        return (f"Your test failed on {on}, with an `assert` that has no message. Add one "
                "(`assert condition, \"what went wrong\"`) so a failing test explains itself.")
    return f"Your test failed on {on}: {text}"


def _refuse_bool(value, name: str) -> None:
    __tracebackhide__ = True
    if isinstance(value, bool):
        fail(f"{name} should be a number, but it is the boolean {value}.")


def as_number(value, name: str = "the result") -> float:
    """A finite float from a real number (numpy scalars included); refuse anything else."""
    __tracebackhide__ = True
    _refuse_bool(value, name)
    if not isinstance(value, Real):
        fail(f"{name} should be a number, but it is a {type(value).__name__}.")
    number = float(value)
    if math.isnan(number):
        fail(f"{name} is NaN (not a number). Check for a division by zero or an empty input.")
    if math.isinf(number):
        fail(f"{name} is infinite. Check for a division by zero or a log of zero.")
    return number


def as_int(value, name: str = "the result") -> int:
    """A built-in int from an integral value (numpy integers included); refuse anything else."""
    __tracebackhide__ = True
    _refuse_bool(value, name)
    if not isinstance(value, Integral):
        fail(f"{name} should be a whole number, but it is a {type(value).__name__}.")
    return int(value)


def as_text(value, name: str = "the result") -> str:
    """A built-in str (subclasses are copied into a plain str); refuse anything else."""
    __tracebackhide__ = True
    if not isinstance(value, str):
        fail(f"{name} should be text (a str), but it is a {type(value).__name__}.")
    return str.__str__(value)


def as_bool(value, name: str = "the result") -> bool:
    """A built-in bool (numpy booleans included); refuse anything else."""
    __tracebackhide__ = True
    if type(value).__name__ not in ("bool", "bool_"):
        fail(f"{name} should be True or False, but it is a {type(value).__name__}.")
    return bool(value)


def as_list(value, name: str = "the result", item: Callable | None = None) -> list:
    """A built-in list from a list, tuple or 1-d array; ``item`` converts each element."""
    __tracebackhide__ = True
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        fail(f"{name} should be a list, but it is a {type(value).__name__}.")
    if item is None:
        return list(value)
    return [item(v, f"item {i} of {name}") for i, v in enumerate(value)]


def as_dict(value, name: str = "the result") -> dict:
    """A built-in dict copy of a mapping; refuse anything else."""
    __tracebackhide__ = True
    if not isinstance(value, dict):
        fail(f"{name} should be a dict, but it is a {type(value).__name__}.")
    return dict(value)


def fresh(value):
    """A deep copy, so learner code can never change data or models other checks rely on."""
    return copy.deepcopy(value)


def same_function(function: Callable, package_function: Callable, what: str) -> None:
    """Refuse the package's own implementation handed in as the learner's answer."""
    __tracebackhide__ = True
    inner = getattr(function, "__wrapped__", function)
    code = getattr(inner, "__code__", None)
    calls_it = code is not None and package_function.__name__ in code.co_names
    if inner is package_function or calls_it or code is getattr(package_function, "__code__", 0):
        fail(f"That is the course package's own {what}. The exercise asks you to write it "
             "yourself: the package's version is there for the notebooks, not for this answer.")
