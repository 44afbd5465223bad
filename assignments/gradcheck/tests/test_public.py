"""Public checks: shapes and basic behaviour, with values anyone can work out by hand.

Students run these in their notebook; grading runs them too. They must not use `reference`.
"""

import numpy as np
import pytest

from grader.numerics import FINITE_DIFFERENCE, assert_close

pytestmark = pytest.mark.visibility("public")


def square(t):
    return t * t


def sum_of_squares(x):
    return float(np.sum(x * x))


@pytest.mark.question("q1")
def test_differences_of_a_square(submission):
    assert_close(submission.call("forward_difference", square, 3.0, 1e-3), 6.001,
                 "forward_difference(t -> t*t, 3.0, 1e-3)")
    assert_close(submission.call("centered_difference", square, 3.0, 1e-3), 6.0,
                 "centered_difference(t -> t*t, 3.0, 1e-3)", FINITE_DIFFERENCE)


@pytest.mark.question("q2")
def test_gradient_of_a_sum_of_squares(submission):
    x = np.arange(6.0).reshape(2, 3) / 10
    grad, (_, after, *_) = submission.call_with_inputs("numerical_gradient", sum_of_squares, x)
    assert_close(grad, 2 * x, "numerical_gradient(sum(x**2), x) for x of shape (2, 3)",
                 FINITE_DIFFERENCE)
    assert np.array_equal(after, x), "numerical_gradient changed x: restore it, or use a copy"


def linear_map(x):
    return np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]) @ x


@pytest.mark.question("q3")
def test_jacobian_of_a_linear_map(submission):
    jacobian = submission.call("numerical_jacobian", linear_map, np.ones(3))
    assert_close(jacobian, np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
                 "numerical_jacobian(x -> A @ x) with A of shape (2, 3)", FINITE_DIFFERENCE)


@pytest.mark.question("q4")
def test_relative_error_basics(submission):
    assert_close(submission.call("relative_error", 1.0, 3.0), 0.5, "relative_error(1.0, 3.0)")
    assert_close(submission.call("relative_error", 0.0, 0.0), 0.0, "relative_error(0.0, 0.0)")


def double(x):
    return 2 * x


def triple(x):
    return 3 * x


@pytest.mark.question("q5")
def test_gradcheck_basics(submission):
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    verdict = submission.call("gradcheck", sum_of_squares, double, x)
    assert isinstance(verdict, (bool, np.bool_)) and verdict, (
        f"gradcheck(sum(x**2), x -> 2x, x) should return True (that gradient is right), "
        f"got {verdict!r}")
    assert not submission.call("gradcheck", sum_of_squares, triple, x), (
        "gradcheck(sum(x**2), x -> 3x, x) should return False: that gradient is wrong")


@pytest.mark.question("q6")
def test_orders_of_exp(submission):
    hs = [1e-1, 5e-2, 2e-2, 1e-2]
    forward = submission.call("convergence_order", np.exp, np.exp, 0.5, hs, "forward")
    centered = submission.call("convergence_order", np.exp, np.exp, 0.5, hs, "centered")
    assert isinstance(forward, float) and abs(forward - 1) < 0.1, (
        f"the forward difference's order on exp should be about 1, got {forward!r}")
    assert isinstance(centered, float) and abs(centered - 2) < 0.1, (
        f"the centered difference's order on exp should be about 2, got {centered!r}")
