"""The exact derivatives, gradients and Jacobians of the functions of cases.py, from their
coefficients: the trusted side's answers.

Never shipped: no function the tests send to the student's process refers to this module
(the publish gate checks it).
"""

import numpy as np


def cubic_derivative(c, t):
    return c[1] + t * (2 * c[2] + 3 * t * c[3])


def wave_derivative(a, b, t):
    return a * np.cos(a * t) + b * np.exp(b * t)


def landscape_gradient(A, B, x):
    return A * np.cos(A * x) + 2 * B * x


def layer_jacobian(W, b, x):
    y = np.tanh(W @ np.ravel(x) + b)
    return (1 - y ** 2)[:, None] * W


def bowl_gradient(C, m, x):
    return 2 * C * (x - m)


def exponentials_gradient(C, K, x):
    return C * K * np.exp(K * x)


def squares_map_jacobian(W, m, x):
    return W * (2 * (np.ravel(x) - m))[None, :]


def describe_wave(a, b):
    return f"sin({a:.3g} t) + exp({b:.3g} t)"
