"""Reference solution of the assignment `gradcheck`: finite differences and gradient checking."""

import numpy as np


def forward_difference(f, x, h):
    """Forward difference (f(x + h) - f(x)) / h of a scalar function f at a scalar x."""
    return (f(x + h) - f(x)) / h


def centered_difference(f, x, h):
    """Centered difference (f(x + h) - f(x - h)) / (2h) of a scalar function f at a scalar x."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-6):
    """Centered differences of a scalar function f of an array x, one per element of x.

    Perturbs x along each one-hot direction d_i: (f(x + h d_i) - f(x - h d_i)) / (2h), so f
    sees x with exactly one element moved at a time. x may have any shape; an integer array is
    accepted (the differences are computed in float64). Returns a float64 array shaped like x;
    x holds exactly its original values afterwards.
    """
    x = np.asarray(x, dtype=float)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def numerical_jacobian(f, x, h=1e-6):
    """The Jacobian of an array-valued f at x by centered differences.

    Returns shape (f(x).size, x.size): row i holds the derivatives of output i, with outputs
    and inputs flattened in numpy's order. f sees x with exactly one element moved at a time;
    an integer x is accepted (computed in float64); x holds its original values afterwards.
    """
    x = np.array(x, dtype=float)
    columns = []
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = h
        step = step.reshape(x.shape)
        upper = np.ravel(f(x + step))
        lower = np.ravel(f(x - step))
        columns.append((upper - lower) / (2 * h))
    return np.stack(columns, axis=1)


def relative_error(a, b):
    """max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8) over arrays or scalars; 0 when both are 0.

    Leaves a and b unchanged.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


def gradcheck(f, grad_f, x, h=1e-6, atol=1e-6, rtol=1e-4):
    """True iff g = grad_f(x) matches the numerical gradient n: |g - n| <= atol + rtol |n|.

    Returns a bool: True exactly when g has the shape of x and every element passes (so False
    when any element of g or n is nan). x holds its original values afterwards.
    """
    g = np.asarray(grad_f(x), dtype=float)
    n = numerical_gradient(f, np.array(x, dtype=float), h)
    if g.shape != n.shape:
        return False
    return bool(np.all(np.abs(g - n) <= atol + rtol * np.abs(n)))


def convergence_order(f, df, x, hs, method):
    """Least-squares slope of log|error| against log h over the steps hs.

    method is "forward" or "centered"; the slope is about 1 and 2 respectively for smooth f.
    hs (a list or an array, in any order) is left unchanged.
    """
    differences = {"forward": forward_difference, "centered": centered_difference}
    if method not in differences:
        raise ValueError(f"method must be 'forward' or 'centered', got {method!r}")
    errors = [abs(differences[method](f, x, h) - df(x)) for h in hs]
    slope, _ = np.polyfit(np.log(hs), np.log(errors), 1)
    return float(slope)
