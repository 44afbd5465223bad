"""What the tests send to the student's process: calls that also report numpy's global random
state or the arrays handed to the student's code, and initializers for the propagation
experiment that do not depend on the student's."""

import numpy as np


def sample(namespace, name, shape, small_shape, seeds, **kwargs):
    """name(shape, rng=Generator(seeds[0]), **kwargs), then name(small_shape, ...) for seeds[0],
    seeds[0] again and seeds[1]; whether numpy's global random state stayed untouched (a
    scheme must draw from rng only)."""
    before = np.random.get_state()
    samples = namespace[name](shape, rng=np.random.default_rng(seeds[0]), **kwargs)
    small = [namespace[name](small_shape, rng=np.random.default_rng(seed), **kwargs)
             for seed in (seeds[0], seeds[0], seeds[1])]
    after = np.random.get_state()
    untouched = (before[0] == after[0] and np.array_equal(before[1], after[1])
                 and tuple(before[2:]) == tuple(after[2:]))
    return samples, small, bool(untouched)


def sample_many(namespace, name, shape, seeds, **kwargs):
    """name(shape, rng=Generator(seed), **kwargs) for each seed."""
    return [namespace[name](shape, rng=np.random.default_rng(seed), **kwargs) for seed in seeds]


def raises(namespace, name, *args, **kwargs):
    """The name of the exception name(*args, **kwargs) raises, or None."""
    try:
        namespace[name](*args, **kwargs)
    except Exception as error:  # the type is what the test checks
        return type(error).__name__
    return None


def propagate_fixed(namespace, weights, depth, width, nonlinearity, seed, n_samples):
    """signal_propagation on given weights (handed out in order); the result, and the weights
    as they are afterwards (the function must not change them)."""
    result = namespace["signal_propagation"](Fixed(weights), depth, width, nonlinearity,
                                             np.random.default_rng(seed), n_samples)
    return result, weights


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
