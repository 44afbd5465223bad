"""Hidden tests of q1 (forward and centered differences) and q6 (order of convergence).

The student's code receives plain functions over random coefficients (cases.py); exact
derivatives come from the same coefficients, here (exact.py).
"""

import exact
import numpy as np
import pytest
from cases import cubic, cubic_coefficients, given, scalar_point, wave, wave_coefficients

from grader.numerics import FINITE_DIFFERENCE, assert_close

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
                 f"centered_difference(f, x={x:.4g}, h=1e-5) against the exact derivative",
                 FINITE_DIFFERENCE)
    assert_close(submission.call("forward_difference", f, x, 1e-8), derivative,
                 f"forward_difference(f, x={x:.4g}, h=1e-8) against the exact derivative",
                 FINITE_DIFFERENCE)


def _steps(rng):
    return sorted(rng.uniform(1e-3, 1e-1, 6), reverse=True)


@pytest.mark.question("q6")
@pytest.mark.points(2)
@pytest.mark.parametrize("method", ["forward", "centered"])
def test_order_matches_least_squares(submission, reference, rng, method):
    (a, b), x, hs = wave_coefficients(rng), scalar_point(rng), _steps(rng)
    # df is an input of convergence_order: it gets f'(x) at its one point x, not a formula.
    f, df = wave(a, b), given(exact.wave_derivative(a, b, x))
    got = submission.call("convergence_order", f, df, x, hs, method)
    expected = reference.convergence_order(f, df, x, hs, method)
    assert_close(got, expected, f"convergence_order(f, df, x={x:.4g}, hs, {method!r}) for "
                 f"f = {exact.describe_wave(a, b)} and {len(hs)} steps between {min(hs):.2g} "
                 f"and {max(hs):.2g}")


@pytest.mark.question("q6")
def test_orders_are_one_and_two(submission, rng):
    # exp(b t): every derivative is non-zero, so each method shows its leading error term.
    b, x, hs = float(rng.uniform(0.5, 2.0)), scalar_point(rng), [0.1, 0.05, 0.02, 0.01]
    f, df = wave(0.0, b), given(exact.wave_derivative(0.0, b, x))
    described = exact.describe_wave(0.0, b)
    forward = submission.call("convergence_order", f, df, x, hs, "forward")
    centered = submission.call("convergence_order", f, df, x, hs, "centered")
    assert isinstance(forward, (float, np.floating)) and abs(forward - 1) < 0.1, (
        f"forward differences of {described} converge with order about 1; got {forward!r}")
    assert isinstance(centered, (float, np.floating)) and abs(centered - 2) < 0.1, (
        f"centered differences of {described} converge with order about 2; got {centered!r}")
