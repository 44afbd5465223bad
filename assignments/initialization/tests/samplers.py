"""What the tests send to the student's process: calls that also report numpy's global random
state, and initializers for the propagation experiment that do not depend on the student's."""

import numpy as np


def sample_twice(namespace, name, shape, seed, **kwargs):
    """name(shape, rng, **kwargs) for two generators of the same seed; whether numpy's global
    random state stayed untouched (a scheme must draw from rng only)."""
    before = np.random.get_state()[1].copy()
    first = namespace[name](shape, rng=np.random.default_rng(seed), **kwargs)
    second = namespace[name](shape, rng=np.random.default_rng(seed), **kwargs)
    return first, second, bool(np.array_equal(before, np.random.get_state()[1]))


def raises(namespace, name, *args, **kwargs):
    """The name of the exception name(*args, **kwargs) raises, or None."""
    try:
        namespace[name](*args, **kwargs)
    except Exception as error:  # the type is what the test checks
        return type(error).__name__
    return None


class Gaussian:
    """init(shape, rng) = N(0, (scale / sqrt(fan_in))^2), drawn from rng."""

    def __init__(self, scale, per_fan=True):
        self.scale, self.per_fan = scale, per_fan

    def __call__(self, shape, rng):
        std = self.scale / np.sqrt(shape[0]) if self.per_fan else self.scale
        return rng.normal(0.0, std, shape)


class Fixed:
    """init(shape, rng) that hands out given weights in order (and still draws nothing)."""

    def __init__(self, weights):
        self.weights, self.used = list(weights), 0

    def __call__(self, shape, rng):
        W = self.weights[self.used]
        self.used += 1
        return W
