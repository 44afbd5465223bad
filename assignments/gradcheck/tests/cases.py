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


def bowl(C, m):
    """A quadratic bowl x -> sum(C * (x - m)^2) whose bottom m lies within 3e-3 of the test
    point: small gradients and a large curvature, so that a forward difference (error h * C)
    is far off on every element, where a centered one is exact."""

    def quadratic_bowl(x):
        return float(np.sum(C * (x - m) ** 2))

    return quadratic_bowl


def exponentials(C, K):
    """x -> sum(C * exp(K * x)): its gradient C K exp(K x) is bounded away from 0 (where C is
    not 0) and its curvature is K times the gradient, so that any numerical gradient, forward
    or centered, is accurate to 1e-6 of it: what gradcheck is given decides its answer."""

    def sum_of_exponentials(x):
        return float(np.sum(C * np.exp(K * x)))

    return sum_of_exponentials


def squares_map(W, m):
    """An array-valued map x -> W @ (x.ravel() - m)^2 with m within 3e-3 of the test point: a
    forward difference errs by h * W, far off on every entry, where a centered one is exact."""

    def squares_then_matrix(x):
        return W @ (np.ravel(x) - m) ** 2

    return squares_then_matrix


def outputs_shaped(f, shape):
    """The map f with its output reshaped to `shape` (a matrix-valued map)."""

    def reshaped_output(x):
        return np.reshape(f(x), shape)

    return reshaped_output


def one_element_at_a_time(f, x0):
    """f, except that it answers nan when called with an argument that differs from x0 in more
    than one element or in shape: a finite difference moves one element and puts it back.
    x0 must be a copy of the array the function under test receives, not that array."""

    def f_watching_its_argument(x):
        x = np.asarray(x)
        if x.shape != x0.shape or np.count_nonzero(x != x0) > 1:
            return np.nan * np.asarray(f(x0))
        return f(x)

    return f_watching_its_argument


def given(value):
    """A derivative or gradient as convergence_order and gradcheck receive it: the function
    that returns `value`, what the test gives at the one point x it is called at (a copy, so
    that changing it changes nothing)."""

    def at_the_test_point(x):
        return np.array(value, dtype=float) if np.ndim(value) else float(value)

    return at_the_test_point


def cubic_coefficients(rng):
    return rng.uniform(-2, 2, 4)


def parabola_coefficients(rng, x):
    """Coefficients of cubic() for c2 (t - m)^2 + c0, with its bottom m within 3e-3 of x."""
    c2 = rng.uniform(0.5, 2.0)
    m = x - rng.uniform(1e-3, 3e-3) * rng.choice([-1.0, 1.0])
    return np.array([c2 * m * m + rng.uniform(-1, 1), -2 * c2 * m, c2, 0.0])


def wave_coefficients(rng):
    return float(rng.uniform(0.5, 2)), float(rng.uniform(-1, 1))


def scalar_point(rng):
    return float(rng.uniform(0.1, 2.0) * rng.choice([-1, 1]))


def landscape_coefficients(rng, shape):
    return rng.uniform(0.5, 2.0, shape), rng.uniform(-1.0, 1.0, shape)


def layer_coefficients(rng, inputs, outputs):
    return rng.standard_normal((outputs, inputs)), rng.standard_normal(outputs)


def bowl_coefficients(rng, x):
    """C and the bottom m = x - d of a bowl, with |d| in [1e-3, 3e-3]."""
    d = rng.uniform(1e-3, 3e-3, np.shape(x)) * rng.choice([-1.0, 1.0], np.shape(x))
    return rng.uniform(0.5, 2.0, np.shape(x)), x - d


def exponential_coefficients(rng, shape):
    """C in [0.5, 2] and K with |K| in [0.5, 1.5], random signs."""
    C = rng.uniform(0.5, 2.0, shape)
    return C, rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def squares_map_coefficients(rng, x, outputs):
    """W with entries of magnitude in [0.5, 2] and random signs, and m within 3e-3 of x."""
    W = rng.uniform(0.5, 2.0, (outputs, np.size(x))) * rng.choice([-1.0, 1.0],
                                                                   (outputs, np.size(x)))
    d = rng.uniform(1e-3, 3e-3, np.size(x)) * rng.choice([-1.0, 1.0], np.size(x))
    return W, np.ravel(x) - d
