"""Trusted-side comparisons of a described result, with the rule and input in each message."""

import numpy as np

from grader.numerics import FINITE_DIFFERENCE, assert_close, numerical_gradient


def show(spec):
    kind, value, deriv = spec
    return f"Dual({value:.4g}, {deriv:.4g})" if kind == "dual" else f"{kind}({value:.4g})"


def expect_dual(got, expected, what, rule):
    """`got` must be a Dual with the reference's value and derivative."""
    assert got[0] == "dual", (
        f"{what} should give a Dual, got {'a real number' if got[0] == 'real' else got[1]}")
    assert_close(got[1], expected[1], f"{what}: the value")
    assert_close(got[2], expected[2], f"{what}: the derivative (the {rule})")


def expect_real(got, expected, what):
    assert got[0] == "real", (f"{what} should give a real number, not "
                              f"{'a Dual' if got[0] == 'dual' else got[1]}")
    assert_close(got[1], expected[1], what)


def finite_difference(value_of, specs):
    """d/dt of value_of(specs moved by t along their derivatives), at t = 0."""
    def moved(t):
        return [(kind, value + t[0] * deriv, 0.0) if kind == "dual" else (kind, value, None)
                for kind, value, deriv in specs]

    return numerical_gradient(lambda t: value_of(moved(t)), np.zeros(1))[0]


def expect_finite_difference(got, value_of, specs, what):
    """The student's derivative against centered differences of the reference's values."""
    if got[0] == "dual" and np.isfinite(got[2]):
        assert_close(got[2], finite_difference(value_of, specs),
                     f"{what}: the derivative against finite differences", FINITE_DIFFERENCE)
