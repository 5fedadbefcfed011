"""The helpers every exercise check shares (mlecourse.exercises.common)."""

import time

import numpy as np
import pytest

from mlecourse.exercises import common
from mlecourse.exercises.common import CheckFailed


class Liar(float):
    def __eq__(self, other):
        return True


def test_call_time_limits_a_hang():
    start = time.perf_counter()
    with pytest.raises(CheckFailed, match="did not finish within 0.2 s"):
        common.call(lambda: time.sleep(5), what="slow()", seconds=0.2)
    assert time.perf_counter() - start < 3


def test_call_explains_a_stub_and_a_crash():
    def stub():
        raise NotImplementedError()
    with pytest.raises(CheckFailed, match="not written yet"):
        common.call(stub, what="stub()")
    with pytest.raises(CheckFailed, match=r"crash\(\) raised ZeroDivisionError"):
        common.call(lambda: 1 / 0, what="crash()")


def test_a_learner_except_exception_cannot_swallow_the_time_limit():
    def stubborn():
        while True:
            try:
                time.sleep(1)
            except Exception:
                pass
    with pytest.raises(CheckFailed, match="did not finish"):
        common.call(stubborn, seconds=0.2)


@pytest.mark.parametrize("value, message", [
    (float("nan"), "NaN"), (float("inf"), "infinite"), (True, "boolean"), ("0.5", "str"),
])
def test_as_number_refuses(value, message):
    with pytest.raises(CheckFailed, match=message):
        common.as_number(value)


def test_plain_values_defeat_a_lying_eq():
    value = common.as_number(Liar(0.25))
    assert type(value) is float and value != 0.5
    assert common.as_number(np.float32(0.5)) == 0.5
    assert common.as_int(np.int64(3)) == 3 and type(common.as_int(np.int64(3))) is int
    assert common.as_list(np.array([1, 2]), item=common.as_int) == [1, 2]
    with pytest.raises(CheckFailed):
        common.as_int(2.0)


def test_learner_assert_without_message_is_named():
    assert "has no message" in common.learner_test_failed(AssertionError(), "the good model")
    assert common.learner_test_failed(AssertionError("AUC too low"), "x").endswith("AUC too low")


def package_psi(a, b):
    return 0.0


def test_the_package_answer_is_refused():
    def wrapper(a, b):
        return package_psi(a, b)

    def own(a, b):
        return 1.0
    with pytest.raises(CheckFailed, match="package's own"):
        common.same_function(package_psi, package_psi, "psi")
    with pytest.raises(CheckFailed, match="package's own"):
        common.same_function(wrapper, package_psi, "psi")
    common.same_function(own, package_psi, "psi")


def test_fresh_copies_are_independent():
    data = {"a": [1, 2]}
    copy = common.fresh(data)
    copy["a"].append(3)
    assert data == {"a": [1, 2]}
