"""Reference solution of the assignment `initialization`: schemes, and how signals propagate."""

import numpy as np


def fans(shape):
    """(fan_in, fan_out) of a weight used as x @ W; a kernel (*kernel, in, out) counts each
    kernel position as a connection. ValueError for fewer than 2 dimensions."""
    if len(shape) < 2:
        raise ValueError(f"fans need at least 2 dimensions, got shape {tuple(shape)}")
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps the variance of a layer's output for this nonlinearity; param is
    leaky ReLU's slope (an int or float; 0.01 when None, and 0 is a slope of 0)."""
    gains = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0,
             "relu": np.sqrt(2.0), "selu": 0.75}
    if nonlinearity in gains:
        return float(gains[nonlinearity])
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return float(np.sqrt(2.0 / (1 + slope ** 2)))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def uniform_init(shape, a, rng):
    """U(-a, a): a float64 array of this shape, drawn from rng alone."""
    return rng.uniform(-a, a, shape)


def normal_init(shape, std, rng):
    """N(0, std^2): a float64 array of this shape, drawn from rng alone."""
    return rng.normal(0.0, std, shape)


def xavier_uniform(shape, rng, gain=1.0):
    """Glorot uniform: variance gain^2 * 2 / (fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return uniform_init(shape, np.sqrt(3.0) * std, rng)


def xavier_normal(shape, rng, gain=1.0):
    """Glorot normal: variance gain^2 * 2 / (fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    return normal_init(shape, gain * np.sqrt(2.0 / (fan_in + fan_out)), rng)


def _he_std(shape, mode, nonlinearity, a):
    """The standard deviation gain / sqrt(fan) shared by both He schemes (a helper)."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fans(shape)[0 if mode == "fan_in" else 1]
    return calculate_gain(nonlinearity, a) / np.sqrt(fan)


def he_uniform(shape, rng, mode="fan_in", nonlinearity="relu", a=0.0):
    """He (Kaiming) uniform: variance gain^2 / fan."""
    return uniform_init(shape, np.sqrt(3.0) * _he_std(shape, mode, nonlinearity, a), rng)


def he_normal(shape, rng, mode="fan_in", nonlinearity="relu", a=0.0):
    """He (Kaiming) normal: variance gain^2 / fan."""
    return normal_init(shape, _he_std(shape, mode, nonlinearity, a), rng)


def orthogonal_init(shape, rng, gain=1.0):
    """gain times the orthogonal factor U V^T of the SVD of a Gaussian matrix, viewed as 2-D
    (prod(shape[:-1]), shape[-1]): orthonormal columns, or rows when it is wide. U V^T is
    distributed uniformly over such matrices, so no sign is favoured."""
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    A = rng.standard_normal((rows, cols))
    u, _, vt = np.linalg.svd(A, full_matrices=False)
    return gain * (u @ vt).reshape(shape)


def identity_init(shape, gain=1.0):
    """gain on the diagonal, zeros elsewhere (float64); any 2-D shape, square or not;
    ValueError for any other."""
    if len(shape) != 2:
        raise ValueError(f"identity_init needs a 2-D shape, got {tuple(shape)}")
    return gain * np.eye(*shape)


def signal_propagation(init, depth, width, nonlinearity, rng, n_samples=1000):
    """Push N(0, 1) inputs through `depth` layers h = phi(h @ W) and an N(0, 1) gradient back.

    Draws, in this order: the inputs rng.standard_normal((n_samples, width)), each layer's
    weights init((width, width), rng) from the first layer up, and the upstream gradient
    rng.standard_normal((n_samples, width)). Returns the standard deviations (np.std over all
    n_samples x width entries) of each layer's output and of the gradient with respect to it.
    The weights init returns are left unchanged. Saturated units (|z| of hundreds or more)
    give finite values, never an overflow divided by an overflow (np.tanh, 1 / (1 + exp(-z))
    and s * (1 - s) are safe); only an exploding network may overflow to inf.
    """
    phi, dphi = {
        "linear": (lambda z: z, lambda z: np.ones_like(z)),
        "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
        "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        # sigmoid(z) = exp(-log(1 + exp(-z))) and sigmoid'(z) = sigmoid(z) sigmoid(-z):
        # logaddexp never overflows, so saturated units give 0 or 1 and a zero derivative.
        "sigmoid": (lambda z: np.exp(-np.logaddexp(0.0, -z)),
                    lambda z: np.exp(-np.logaddexp(0.0, -z) - np.logaddexp(0.0, z))),
    }[nonlinearity]
    h = rng.standard_normal((n_samples, width))
    weights = [init((width, width), rng) for _ in range(depth)]
    pre_activations, activation_std = [], []
    with np.errstate(all="ignore"):
        for W in weights:
            z = h @ W
            h = phi(z)
            pre_activations.append(z)
            activation_std.append(h.std())
        grad = rng.standard_normal((n_samples, width))
        gradient_std = [0.0] * depth
        for layer in range(depth - 1, -1, -1):
            gradient_std[layer] = grad.std()
            grad = (grad * dphi(pre_activations[layer])) @ weights[layer].T
    return {"activation_std": np.array(activation_std), "gradient_std": np.array(gradient_std)}


def linear_rnn_gradient_norms(W, T):
    """Spectral norms of dh_t/dh_0 = W^t (up to a transpose) for h_t = h_{t-1} @ W, t = 1..T.

    W is a square array (integer entries accepted) and is left unchanged; returns shape (T,).
    """
    norms, power = [], np.eye(W.shape[0])
    for _ in range(T):
        power = power @ W
        norms.append(np.linalg.norm(power, 2))
    return np.array(norms)
