# Run this cell first: it sets up the public checks of each question.
import otter

grader = otter.Notebook()

import numpy as np

def forward_difference(f, x, h):
    """Forward difference (f(x + h) - f(x)) / h of a scalar function f at a scalar x."""
    return (f(x + h) - f(x)) / h


def centered_difference(f, x, h):
    """Centered difference (f(x + h) - f(x - h)) / (2h) of a scalar function f at a scalar x."""
    return (f(x + h) - f(x - h)) / (2 * h)


grader.check("q1")

def numerical_gradient(f, x, h=1e-6):
    """Centered differences of a scalar function f of an array x, one per element of x.

    Perturbs x along each one-hot direction d_i: (f(x + h d_i) - f(x - h d_i)) / (2h).
    Returns an array shaped like x; x holds exactly its original values afterwards.
    """
    x = np.asarray(x, dtype=float)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


grader.check("q2")

def numerical_jacobian(f, x, h=1e-6):
    """The Jacobian of an array-valued f at x by centered differences.

    Returns shape (f(x).size, x.size): row i holds the derivatives of output i.
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


grader.check("q3")

def relative_error(a, b):
    """max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8) over arrays or scalars; 0 when both are 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


grader.check("q4")

def gradcheck(f, grad_f, x, h=1e-6, atol=1e-6, rtol=1e-4):
    """True iff g = grad_f(x) matches the numerical gradient n: |g - n| <= atol + rtol |n|."""
    g = np.asarray(grad_f(x), dtype=float)
    n = numerical_gradient(f, np.array(x, dtype=float), h)
    return bool(np.all(np.abs(g - n) <= atol + rtol * np.abs(n)))


grader.check("q5")

def convergence_order(f, df, x, hs, method):
    """Least-squares slope of log|error| against log h over the steps hs.

    method is "forward" or "centered"; the slope is about 1 and 2 respectively for smooth f.
    """
    differences = {"forward": forward_difference, "centered": centered_difference}
    if method not in differences:
        raise ValueError(f"method must be 'forward' or 'centered', got {method!r}")
    errors = [abs(differences[method](f, x, h) - df(x)) for h in hs]
    slope, _ = np.polyfit(np.log(hs), np.log(errors), 1)
    return float(slope)


grader.check("q6")

def error_table(f, df, x):
    """Errors of both differences at x, for steps from 1e-1 down to 1e-13."""
    for h in 10.0 ** -np.arange(1, 14, 2):
        forward = abs(forward_difference(f, x, h) - df(x))
        centered = abs(centered_difference(f, x, h) - df(x))
        print(f"h = {h:.0e}   forward error {forward:.1e}   centered error {centered:.1e}")


try:
    error_table(np.exp, np.exp, 1.0)
except NotImplementedError:
    print("Implement question 1 first.")

grader.check_all()
