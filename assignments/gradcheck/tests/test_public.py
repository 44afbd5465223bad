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
    grad = submission.call("numerical_gradient", sum_of_squares, np.arange(3))
    assert_close(grad, np.array([0.0, 2.0, 4.0]), "numerical_gradient(sum(x**2), np.arange(3)) "
                 "for an integer x (work on a float copy: an integer array stores x[i] + h "
                 "as int(x[i] + h))", FINITE_DIFFERENCE)


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


def double_as_a_row(x):
    return 2 * np.reshape(x, (1, -1))


@pytest.mark.question("q5")
def test_gradcheck_basics(submission):
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    cases = [(double, x, True, "x -> 2x, x", "that gradient is right"),
             (triple, x, False, "x -> 3x, x", "that gradient is wrong"),
             (double_as_a_row, x[0], False, "x -> 2x reshaped to (1, 3), x of shape (3,)",
              "the values are right but the shape is not")]
    for grad_f, point, expected, call, why in cases:
        verdict = submission.call("gradcheck", sum_of_squares, grad_f, point)
        assert isinstance(verdict, (bool, np.bool_)) and verdict == expected, (
            f"gradcheck(sum(x**2), {call}) should return {expected} ({why}), got {verdict!r}")


@pytest.mark.question("q6")
def test_orders_of_exp(submission):
    hs = [1e-1, 5e-2, 2e-2, 1e-2]
    for method, difference, order in [("forward", "forward_difference", 1),
                                      ("centered", "centered_difference", 2)]:
        got = submission.call("convergence_order", np.exp, np.exp, 0.5, hs, method)
        assert isinstance(got, float), (
            f"convergence_order(exp, exp, 0.5, hs, {method!r}) should return a float, "
            f"got {got!r}")
        if abs(got - order) < 0.1:
            continue
        # q6 grades the fit: the slope of your own difference's errors passes here too (q1's
        # checks say whether that difference is right).
        values = [submission.call(difference, np.exp, 0.5, h) for h in hs]
        slope = np.polyfit(np.log(hs), np.log(np.abs(np.array(values) - np.exp(0.5))), 1)[0]
        assert abs(got - slope) <= 1e-6 * abs(slope), (
            f"the {method} difference's order on exp should be about {order}, got {got!r}")
