"""Hidden tests of q1 (forward and centered differences) and q6 (order of convergence)."""

import numpy as np
import pytest
from cases import Wave, cubic, scalar_point, wave

from grader.numerics import FINITE_DIFFERENCE, assert_close

STEPS = (1e-1, 1e-2, 1e-3)


@pytest.mark.question("q1")
@pytest.mark.parametrize("method", ["forward_difference", "centered_difference"])
@pytest.mark.parametrize("make", [cubic, wave], ids=["cubic", "wave"])
def test_difference_matches_the_formula(submission, reference, rng, method, make):
    f, x = make(rng), scalar_point(rng)
    for h in STEPS:
        got = submission.call(method, f, x, h)
        assert_close(got, getattr(reference, method)(f, x, h), f"{method}(f, x={x:.4g}, h={h:g}) "
                     f"for f = {f!r}")


@pytest.mark.question("q1")
def test_centered_error_is_second_order(submission, rng):
    f, x = cubic(rng), scalar_point(rng)
    for h in STEPS:
        error = submission.call("centered_difference", f, x, h) - f.derivative(x)
        # For a cubic the centered difference errs by exactly c3 h^2; a forward one by O(h).
        assert_close(error, f.c[3] * h * h, f"the error of centered_difference at h={h:g} "
                     f"(it should shrink like h^2)", FINITE_DIFFERENCE)


@pytest.mark.question("q1")
def test_differences_approach_the_derivative(submission, rng):
    f, x = wave(rng), scalar_point(rng)
    assert_close(submission.call("centered_difference", f, x, 1e-5), f.derivative(x),
                 f"centered_difference(f, x={x:.4g}, h=1e-5) against the exact derivative",
                 FINITE_DIFFERENCE)
    assert_close(submission.call("forward_difference", f, x, 1e-8), f.derivative(x),
                 f"forward_difference(f, x={x:.4g}, h=1e-8) against the exact derivative",
                 FINITE_DIFFERENCE)


def _steps(rng):
    return sorted(rng.uniform(1e-3, 1e-1, 6), reverse=True)


@pytest.mark.question("q6")
@pytest.mark.points(2)
@pytest.mark.parametrize("method", ["forward", "centered"])
def test_order_matches_least_squares(submission, reference, rng, method):
    f, x, hs = wave(rng), scalar_point(rng), _steps(rng)
    got = submission.call("convergence_order", f, f.derivative, x, hs, method)
    expected = reference.convergence_order(f, f.derivative, x, hs, method)
    assert_close(got, expected, f"convergence_order(f, df, x={x:.4g}, hs, {method!r}) for "
                 f"f = {f!r} and {len(hs)} steps between {min(hs):.2g} and {max(hs):.2g}")


@pytest.mark.question("q6")
def test_orders_are_one_and_two(submission, rng):
    # exp(a t): every derivative is non-zero, so each method shows its leading error term.
    f, x, hs = Wave(0.0, float(rng.uniform(0.5, 2.0))), scalar_point(rng), [0.1, 0.05, 0.02, 0.01]
    forward = submission.call("convergence_order", f, f.derivative, x, hs, "forward")
    centered = submission.call("convergence_order", f, f.derivative, x, hs, "centered")
    assert isinstance(forward, (float, np.floating)) and abs(forward - 1) < 0.1, (
        f"forward differences of {f!r} converge with order about 1; got {forward!r}")
    assert isinstance(centered, (float, np.floating)) and abs(centered - 2) < 0.1, (
        f"centered differences of {f!r} converge with order about 2; got {centered!r}")
