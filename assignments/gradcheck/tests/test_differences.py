"""Hidden tests of q1 (forward and centered differences) and q6 (order of convergence).

The student's code receives plain functions over random coefficients (cases.py); exact
derivatives come from the same coefficients, here (exact.py).
"""

import exact
import numpy as np
import pytest
from cases import (
    cubic,
    cubic_coefficients,
    given,
    parabola_coefficients,
    scalar_point,
    wave,
    wave_coefficients,
)

from grader.numerics import FINITE_DIFFERENCE, assert_close, describe
from grader.sandbox import MissingName, ReplyError, StudentError

STEPS = (1e-1, 1e-2, 1e-3)


def random_cubic(rng):
    return cubic(cubic_coefficients(rng)), "a random cubic polynomial"


def random_wave(rng):
    a, b = wave_coefficients(rng)
    return wave(a, b), exact.describe_wave(a, b)


@pytest.mark.question("q1")
@pytest.mark.parametrize("method", ["forward_difference", "centered_difference"])
@pytest.mark.parametrize("make", [random_cubic, random_wave], ids=["cubic", "wave"])
def test_difference_matches_the_formula(submission, reference, rng, method, make):
    (f, described), x = make(rng), scalar_point(rng)
    for h in STEPS:
        got = submission.call(method, f, x, h)
        assert_close(got, getattr(reference, method)(f, x, h), f"{method}(f, x={x:.4g}, h={h:g}) "
                     f"for f = {described}")


@pytest.mark.question("q1")
def test_centered_error_is_second_order(submission, rng):
    c, x = cubic_coefficients(rng), scalar_point(rng)
    f = cubic(c)
    for h in STEPS:
        error = submission.call("centered_difference", f, x, h) - exact.cubic_derivative(c, x)
        # For a cubic the centered difference errs by exactly c3 h^2; a forward one by O(h).
        assert_close(error, c[3] * h * h, f"the error of centered_difference at h={h:g} "
                     f"(it should shrink like h^2)", FINITE_DIFFERENCE)


@pytest.mark.question("q1")
def test_differences_approach_the_derivative(submission, rng):
    (a, b), x = wave_coefficients(rng), scalar_point(rng)
    f, derivative = wave(a, b), exact.wave_derivative(a, b, x)
    assert_close(submission.call("centered_difference", f, x, 1e-5), derivative,
                 f"centered_difference(f, x={x:.4g}, h=1e-5) against the exact derivative of "
                 f"f = {exact.describe_wave(a, b)}", FINITE_DIFFERENCE)
    # A parabola with its bottom near x: exact for a centered difference at any h, where a
    # one-sided one errs by c2 h, far above the tolerance.
    c = parabola_coefficients(rng, x)
    assert_close(submission.call("centered_difference", cubic(c), x, 1e-5),
                 exact.cubic_derivative(c, x), f"centered_difference(f, x={x:.4g}, h=1e-5) "
                 f"against the exact derivative of a parabola with its bottom near x",
                 FINITE_DIFFERENCE)
    assert_close(submission.call("forward_difference", f, x, 1e-8), derivative,
                 f"forward_difference(f, x={x:.4g}, h=1e-8) against the exact derivative of "
                 f"f = {exact.describe_wave(a, b)}", FINITE_DIFFERENCE)


def _steps(rng):
    return sorted(rng.uniform(1e-3, 1e-1, 6), reverse=True)


DIFFERENCES = {"forward": "forward_difference", "centered": "centered_difference"}


def own_order(submission, f, x, derivative, hs, method):
    """The least-squares slope of log|error| against log h, computed here from the student's
    own difference function (so that q6 is not charged for a bug of q1), or None when that
    function does not give numbers."""
    try:
        values = [submission.call(DIFFERENCES[method], f, x, h) for h in hs]
        errors = np.abs(np.array(values, dtype=float) - derivative)
        with np.errstate(all="ignore"):
            slope = np.polyfit(np.log(hs), np.log(errors), 1)[0]
    except (MissingName, ReplyError, StudentError, TypeError, ValueError):
        return None  # a missing, raising or non-numeric q1 function: no second candidate
    return float(slope) if np.isfinite(slope) else None


def assert_order(submission, got, expected, f, x, derivative, hs, method, what):
    """got is the order computed with the correct difference, or with the student's own."""
    try:
        assert_close(got, expected, what)
    except AssertionError as error:
        own = own_order(submission, f, x, derivative, hs, method)
        if own is None or abs(own - expected) <= 1e-6 * abs(expected):
            raise
        try:
            assert_close(got, own, what)
        except AssertionError:
            raise AssertionError(f"{error}\n  (nor is it {own:.8g}, the slope from your own "
                                 f"{DIFFERENCES[method]})") from None


@pytest.mark.question("q6")
@pytest.mark.points(2)
@pytest.mark.parametrize("method", ["forward", "centered"])
def test_order_matches_least_squares(submission, reference, rng, method):
    (a, b), x, hs = wave_coefficients(rng), scalar_point(rng), _steps(rng)
    # df is an input of convergence_order: it gets f'(x) at its one point x, not a formula.
    derivative = exact.wave_derivative(a, b, x)
    f, df = wave(a, b), given(derivative)
    got = submission.call("convergence_order", f, df, x, hs, method)
    expected = reference.convergence_order(f, df, x, hs, method)
    assert_order(submission, got, expected, f, x, derivative, hs, method,
                 f"convergence_order(f, df, x={x:.4g}, hs, {method!r}) for "
                 f"f = {exact.describe_wave(a, b)} and {len(hs)} steps between {min(hs):.2g} "
                 f"and {max(hs):.2g}")


@pytest.mark.question("q6")
def test_orders_are_one_and_two(submission, rng):
    # exp(b t): every derivative is non-zero, so each method shows its leading error term.
    b, x, hs = float(rng.uniform(0.5, 2.0)), scalar_point(rng), [0.1, 0.05, 0.02, 0.01]
    derivative = exact.wave_derivative(0.0, b, x)
    f, df = wave(0.0, b), given(derivative)
    described = exact.describe_wave(0.0, b)
    for method, order in [("forward", 1), ("centered", 2)]:
        got = submission.call("convergence_order", f, df, x, hs, method)
        assert isinstance(got, (float, np.floating)), (
            f"convergence_order(f, df, x, hs, {method!r}) returned {describe(got)}: it should "
            f"return a float")
        if abs(got - order) < 0.1:
            continue
        own = own_order(submission, f, x, derivative, hs, method)
        assert own is not None and abs(got - own) <= 1e-6 * abs(own), (
            f"{method} differences of {described} converge with order about {order}; "
            f"convergence_order(f, df, x={x:.4g}, hs, {method!r}) returned {got!r}")


@pytest.mark.question("q6")
def test_order_leaves_hs_alone(submission, rng):
    (a, b), x = wave_coefficients(rng), scalar_point(rng)
    f, df = wave(a, b), given(exact.wave_derivative(a, b, x))
    shuffled = [np.array(_steps(rng))[rng.permutation(6)],
                [float(h) for h in rng.permutation(_steps(rng))]]
    for hs in shuffled:
        kind = type(hs).__name__
        _, (*_, after, _) = submission.call_with_inputs("convergence_order", f, df, x, hs,
                                                        "centered")
        assert type(after) is type(hs) and np.array_equal(after, hs), (
            f"convergence_order(f, df, x, hs, 'centered') changed hs, a {kind} of 6 steps in no "
            f"particular order: after it returned, hs did not hold its original values in "
            f"their order (sort or convert a copy: sorted(hs), not hs.sort())")
