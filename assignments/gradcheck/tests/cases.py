"""The functions the tests hand to the student's code: plain functions built from random
coefficients, shipped to the student's process with their closures.

A closure holds coefficients (inputs) and nothing else: student code can read them there, as
it reads any argument. Derivatives, gradients and Jacobians are computed on the trusted side
from the same coefficients (exact.py), and never travel; the publish gate checks that nothing
shipped carries an answer.
"""

import numpy as np


def cubic(c):
    """t -> c0 + c1 t + c2 t^2 + c3 t^3: its centered difference errs by exactly c3 h^2."""

    def cubic_polynomial(t):
        return c[0] + t * (c[1] + t * (c[2] + t * c[3]))

    return cubic_polynomial


def wave(a, b):
    """t -> sin(a t) + exp(b t)."""

    def sine_and_exponential(t):
        return np.sin(a * t) + np.exp(b * t)

    return sine_and_exponential


def landscape(A, B):
    """A scalar function of an array: x -> sum(sin(A * x)) + sum(B * x * x), A and B shaped
    like x."""

    def sines_and_squares(x):
        return float(np.sum(np.sin(A * x)) + np.sum(B * x * x))

    return sines_and_squares


def layer(W, b):
    """An array-valued map: x -> tanh(W @ x.ravel() + b), from x.size inputs to len(b)
    outputs."""

    def tanh_layer(x):
        return np.tanh(W @ np.ravel(x) + b)

    return tanh_layer


def given(value):
    """A derivative or gradient as convergence_order and gradcheck receive it: the function
    that returns `value`, what the test gives at the one point x it is called at (a copy, so
    that changing it changes nothing)."""

    def at_the_test_point(x):
        return np.array(value, dtype=float) if np.ndim(value) else float(value)

    return at_the_test_point


def cubic_coefficients(rng):
    return rng.uniform(-2, 2, 4)


def wave_coefficients(rng):
    return float(rng.uniform(0.5, 2)), float(rng.uniform(-1, 1))


def scalar_point(rng):
    return float(rng.uniform(0.1, 2.0) * rng.choice([-1, 1]))


def landscape_coefficients(rng, shape):
    return rng.uniform(0.5, 2.0, shape), rng.uniform(-1.0, 1.0, shape)


def layer_coefficients(rng, inputs, outputs):
    return rng.standard_normal((outputs, inputs)), rng.standard_normal(outputs)
