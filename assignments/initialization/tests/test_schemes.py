"""Hidden tests of q1 (fans, gains), q2 (classical schemes), q3 (Glorot and He) and q4
(orthogonal, identity). Random schemes are tested by their statistics (DESIGN's policy: at least
1e5 samples, bounds, moments, a Kolmogorov-Smirnov test), by determinism and by leaving numpy's
global random state alone."""

import numpy as np
import pytest
import samplers
from scipy import stats

from grader.numerics import assert_bounds, assert_close, assert_distribution, assert_moments

SHAPES = [(128, 1024), (3, 3, 128, 128)]  # a matrix and a convolution kernel, >= 1e5 samples each


def draw(submission, rng, name, shape, **kwargs):
    """Samples, after checking determinism and the global state."""
    first, second, untouched = submission.run(samplers.sample_twice, name, shape,
                                              int(rng.integers(2**32)), **kwargs)
    label = f"{name}({shape}{''.join(f', {k}={v!r}' for k, v in kwargs.items())})"
    assert isinstance(first, np.ndarray) and first.shape == shape, (
        f"{label} should return an array of shape {shape}, got "
        f"{getattr(first, 'shape', type(first).__name__)}")
    assert untouched, f"{label} changed numpy's global random state: draw from rng only"
    assert np.array_equal(first, second), (
        f"{label} gave different values for two generators with the same seed: draw from rng "
        "only")
    return first, label


def check_uniform(samples, bound, label):
    assert_bounds(samples, -bound, bound, label)
    assert_moments(samples, 0.0, bound / np.sqrt(3), label)
    assert_distribution(samples, stats.uniform(-bound, 2 * bound).cdf, label,
                        f"U(-{bound:.4g}, {bound:.4g})")


def check_normal(samples, std, label):
    assert_moments(samples, 0.0, std, label)
    assert_distribution(samples, stats.norm(0.0, std).cdf, label, f"N(0, {std:.4g}^2)")


@pytest.mark.question("q1")
@pytest.mark.points(2)
def test_fans(submission, reference):
    for shape in [(3, 5), (7, 2), (3, 3, 16, 32), (5, 2, 8), (2, 3, 4, 5, 6)]:
        got = submission.call("fans", shape)
        assert isinstance(got, tuple) and len(got) == 2, (
            f"fans({shape}) should return a tuple (fan_in, fan_out), got {got!r}")
        assert got == reference.fans(shape), (
            f"fans({shape}) returned {got}; for x @ W the rows of W are the inputs, and a kernel "
            "(*kernel, in, out) multiplies both fans by the kernel size")
    for shape in [(5,), ()]:
        raised = submission.run(samplers.raises, "fans", shape)
        assert raised == "ValueError", (
            f"fans({shape}) should raise ValueError (fewer than 2 dimensions), got "
            f"{raised or 'no exception'}")


@pytest.mark.question("q1")
@pytest.mark.points(2)
def test_gains(submission, reference):
    cases = [("linear", None), ("identity", None), ("sigmoid", None), ("tanh", None),
             ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]
    for nonlinearity, param in cases:
        got = submission.call("calculate_gain", nonlinearity, param)
        assert_close(got, reference.calculate_gain(nonlinearity, param),
                     f"calculate_gain({nonlinearity!r}, {param!r})")
    raised = submission.run(samplers.raises, "calculate_gain", "swish")
    assert raised == "ValueError", (
        f"calculate_gain('swish') should raise ValueError, got {raised or 'no exception'}")


@pytest.mark.question("q2")
@pytest.mark.points(2)
@pytest.mark.parametrize("shape", SHAPES, ids=["matrix", "kernel"])
def test_uniform_init(submission, rng, shape):
    bound = float(rng.uniform(0.05, 2.0))
    samples, label = draw(submission, rng, "uniform_init", shape, a=bound)
    check_uniform(samples, bound, label)


@pytest.mark.question("q2")
@pytest.mark.points(2)
@pytest.mark.parametrize("shape", SHAPES, ids=["matrix", "kernel"])
def test_normal_init(submission, rng, shape):
    std = float(rng.uniform(0.05, 2.0))
    samples, label = draw(submission, rng, "normal_init", shape, std=std)
    check_normal(samples, std, label)


@pytest.mark.question("q3")
@pytest.mark.points(2)
@pytest.mark.parametrize("shape", SHAPES, ids=["matrix", "kernel"])
def test_xavier(submission, reference, rng, shape):
    gain = float(rng.uniform(0.5, 2.0))
    fan_in, fan_out = reference.fans(shape)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    samples, label = draw(submission, rng, "xavier_uniform", shape, gain=gain)
    check_uniform(samples, np.sqrt(3) * std, label)
    samples, label = draw(submission, rng, "xavier_normal", shape, gain=gain)
    check_normal(samples, std, label)


@pytest.mark.question("q3")
@pytest.mark.points(2)
@pytest.mark.parametrize("mode, nonlinearity, a", [("fan_in", "relu", 0.0),
                                                    ("fan_out", "relu", 0.0),
                                                    ("fan_in", "tanh", 0.0),
                                                    ("fan_out", "leaky_relu", 0.3)])
def test_he(submission, reference, rng, mode, nonlinearity, a):
    shape = SHAPES[0]
    fan = reference.fans(shape)[0 if mode == "fan_in" else 1]
    std = reference.calculate_gain(nonlinearity, a) / np.sqrt(fan)
    kwargs = {"mode": mode, "nonlinearity": nonlinearity, "a": a}
    samples, label = draw(submission, rng, "he_uniform", shape, **kwargs)
    check_uniform(samples, np.sqrt(3) * std, label)
    samples, label = draw(submission, rng, "he_normal", shape, **kwargs)
    check_normal(samples, std, label)


@pytest.mark.question("q4")
@pytest.mark.points(2)
@pytest.mark.parametrize("shape", [(512, 64), (64, 512), (3, 3, 16, 32)],
                         ids=["tall", "wide", "kernel"])
def test_orthogonal(submission, rng, shape):
    gain = float(rng.uniform(0.5, 2.0))
    Q, label = draw(submission, rng, "orthogonal_init", shape, gain=gain)
    M = Q.reshape(-1, shape[-1])
    tall = M.shape[0] >= M.shape[1]
    gram = M.T @ M if tall else M @ M.T
    assert_close(gram, gain ** 2 * np.eye(len(gram)),
                 f"{label} viewed as {M.shape}: its {'columns' if tall else 'rows'} should be "
                 "orthonormal times gain, so this Gram matrix is gain^2 I")
    positive = float(np.mean(M > 0))
    bound = 6 * 0.5 / np.sqrt(M.size)
    assert abs(positive - 0.5) <= bound, (
        f"{label}: {positive:.1%} of the entries are positive; a uniformly distributed orthogonal "
        "matrix favours no sign")


@pytest.mark.question("q4")
def test_identity(submission):
    for shape, gain in [((4, 4), 1.0), ((3, 5), 0.5), ((6, 2), 2.0)]:
        got = submission.call("identity_init", shape, gain)
        assert_close(got, gain * np.eye(*shape), f"identity_init({shape}, gain={gain})")
    raised = submission.run(samplers.raises, "identity_init", (2, 3, 4))
    assert raised == "ValueError", (
        f"identity_init((2, 3, 4)) should raise ValueError (2-D only), got "
        f"{raised or 'no exception'}")
