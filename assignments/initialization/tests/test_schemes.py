"""Hidden tests of q1 (fans, gains), q2 (classical schemes), q3 (Glorot and He) and q4
(orthogonal, identity).

Random schemes are tested by their statistics (DESIGN's policy: at least 1e5 samples, bounds,
moments, a Kolmogorov-Smirnov test), by determinism (same seed, same weights; another seed,
other weights) and by leaving numpy's global random state alone. Every verdict must be the same
on every draw: the scales and gains are fixed and far from 1 (a variance used as a standard
deviation, or a gain left out, shows for every draw), each check fails a correct sampler with
probability below 1e-7, and the bugs the checks are for (a wrong fan, gain, bound or
distribution) miss them by many standard errors.
"""

import numpy as np
import pytest
import samplers
from reporting import check_each
from scipy import stats

from grader.numerics import (
    FALSE_FAILURE,
    assert_close,
    assert_distribution,
    assert_moments,
)

# A matrix and a convolution kernel, >= 1e5 samples each, with fan_in != fan_out (a swapped
# fan shows) and a non-square kernel window (the kernel size 15 multiplies both fans).
SHAPES = {"matrix": (128, 1024), "kernel": (3, 5, 48, 160)}
SMALL = (6, 4)  # determinism is checked on this shape: a bug there shows on any shape
# The largest |value| of a uniform sample must be within this relative distance of its bound,
# on both sides. A correct sampler of >= 1e5 values comes closer than 2.5e-4 with probability
# 1 - 1e-11; a bound off by more than 1e-3 is outside on every draw. (A hard bound with no
# margin fails a bound 1e-5 too large on some draws only.)
BOUND_RTOL = 5e-4
TAIL = 3.0  # the tail check counts values beyond 3 sample standard deviations
TAIL_FALSE_FAILURE = 1e-8  # per side


def draw(submission, rng, name, shape, **kwargs):
    """The samples of name(shape, rng, **kwargs), after checking the type, shape and dtype,
    numpy's global random state, and (on a small shape) that the same seed gives the same
    values and another seed other values."""
    first_seed = int(rng.integers(2**32))
    seeds = [first_seed, (first_seed + 1 + int(rng.integers(2**31))) % 2**32]
    samples, small, untouched = submission.run(samplers.sample, name, shape, SMALL, seeds,
                                               **kwargs)
    label = f"{name}({shape}{''.join(f', {k}={v!r}' for k, v in kwargs.items())}, rng)"
    check_array(samples, shape, label)
    assert untouched, (f"{label} changed numpy's global random state (np.random.seed, "
                       "np.random.normal, ...): draw from the rng argument only")
    small_label = label.replace(str(shape), str(SMALL), 1)
    first, again, other = small
    check_array(first, SMALL, small_label)
    assert isinstance(again, np.ndarray) and np.array_equal(first, again), (
        f"{small_label} gave different values for two generators of the same seed: draw from "
        "the rng argument only (not np.random.default_rng() or the global state)")
    assert not (isinstance(other, np.ndarray) and np.array_equal(first, other)), (
        f"{small_label} gave the same values for two generators of different seeds: draw from "
        "the rng argument (not from a generator of your own with a fixed seed)")
    return samples, label


def check_array(value, shape, label):
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{label} should return a numpy array of shape {shape}, got "
                             f"{type(value).__name__}")
    if value.shape != shape:
        hint = (" (it looks transposed)" if value.shape == shape[::-1] else
                " (same number of values: a reshape?)" if value.size == np.prod(shape) else "")
        raise AssertionError(f"{label} should return shape {shape}, got {value.shape}{hint}")
    if value.dtype != np.float64:
        raise AssertionError(f"{label} should return float64 weights, got dtype {value.dtype} "
                             "(numpy's random draws are float64: an astype, or an integer "
                             "array filled in place?)")


def check_uniform(samples, bound, label):
    """U(-bound, bound): its range, moments and distribution."""
    low, high = float(samples.min()), float(samples.max())
    ratio = max(-low, high) / bound
    margin = BOUND_RTOL * bound
    assert ratio <= 1 + BOUND_RTOL and low <= -bound + margin and high >= bound - margin, (
        f"{label}: the values span [{low:.6g}, {high:.6g}], but U(-{bound:.6g}, {bound:.6g}) "
        f"reaches within {BOUND_RTOL:g} (relative) of both ends and never beyond; the largest "
        f"|value| is {ratio:.4g} times the bound (a wrong fan or gain, or a bound that is not "
        "sqrt(3) times the standard deviation?)")
    assert_moments(samples, 0.0, bound / np.sqrt(3), label)
    assert_distribution(samples, stats.uniform(-bound, 2 * bound).cdf, label,
                        f"U(-{bound:.4g}, {bound:.4g})")


def check_normal(samples, std, label):
    """N(0, std^2): its moments, tails and distribution."""
    assert_moments(samples, 0.0, std, label)
    assert_tails(samples, label)
    assert_distribution(samples, stats.norm(0.0, std).cdf, label, f"N(0, {std:.4g}^2)")


def assert_tails(samples, label):
    """As many values beyond 3 sample standard deviations as a Gaussian has (0.27%): a
    truncated normal (cut at 2 or 3 standard deviations) has none or few."""
    values = samples.ravel()
    n = values.size
    beyond = int(np.sum(np.abs(values) > TAIL * values.std()))
    p = 2 * stats.norm.sf(TAIL)
    # The binomial bounds are conservative: estimating the std from the same sample makes the
    # count vary less than a binomial's.
    low = stats.binom.ppf(TAIL_FALSE_FAILURE, n, p)
    high = stats.binom.isf(TAIL_FALSE_FAILURE, n, p)
    hint = ("too few: a truncated normal? Draw from N(0, std^2) itself" if beyond < low else
            "too many: tails heavier than a Gaussian's")
    assert low <= beyond <= high, (
        f"{label}: {beyond} of {n} values lie beyond {TAIL:g} standard deviations, a Gaussian "
        f"has {n * p:.0f} (between {low:.0f} and {high:.0f} on every draw): {hint}")


# ---------------------------------------------------------------- q1

@pytest.mark.question("q1")
@pytest.mark.points(2)
def test_fans(submission, reference, credit):
    def check_shape(shape):
        got = submission.call("fans", shape)
        expected = reference.fans(shape)
        assert isinstance(got, tuple) and len(got) == 2, (
            f"fans({shape}) should return a tuple (fan_in, fan_out), got {got!r}")
        hint = (" (fan_in and fan_out swapped: for x @ W the rows of W are the inputs)"
                if got == expected[::-1] else
                " (a kernel (*kernel, in, out) multiplies both fans by the kernel size "
                f"{int(np.prod(shape[:-2]))})" if len(shape) > 2 else "")
        assert got == expected, f"fans({shape}) returned {got}, expected {expected}{hint}"

    def check_raises(shape):
        raised = submission.run(samplers.raises, "fans", shape)
        assert raised == "ValueError", (f"fans({shape}) should raise ValueError (fewer than 2 "
                                        f"dimensions), got {raised or 'no exception'}")

    shapes = [(3, 5), (7, 2), (3, 3, 16, 32), (5, 2, 8), (2, 3, 4, 5, 6)]
    check_each(credit, [(f"fans({s})", lambda s=s: check_shape(s)) for s in shapes]
               + [(f"fans({s})", lambda s=s: check_raises(s)) for s in [(5,), ()]])


@pytest.mark.question("q1")
@pytest.mark.points(2)
def test_gains(submission, reference, credit):
    def check_gain(nonlinearity, param):
        label = f"calculate_gain({nonlinearity!r}, {param!r})"
        got = submission.call("calculate_gain", nonlinearity, param)
        assert_close(got, reference.calculate_gain(nonlinearity, param), label)

    def check_unknown():
        raised = submission.run(samplers.raises, "calculate_gain", "swish")
        assert raised == "ValueError", (
            f"calculate_gain('swish') should raise ValueError, got {raised or 'no exception'}")

    # leaky_relu with param 0 (an int) is slope 0, so the ReLU gain: not the default 0.01.
    cases = [("linear", None), ("identity", None), ("sigmoid", None), ("tanh", None),
             ("relu", None), ("selu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
             ("leaky_relu", 0)]
    check_each(credit, [(f"calculate_gain({n!r}, {p!r})", lambda n=n, p=p: check_gain(n, p))
                        for n, p in cases] + [("calculate_gain('swish')", check_unknown)])


# ---------------------------------------------------------------- q2

@pytest.mark.question("q2")
@pytest.mark.points(2)
@pytest.mark.parametrize("kind, bound", [("matrix", 0.35), ("kernel", 2.5)])
def test_uniform_init(submission, rng, kind, bound):
    samples, label = draw(submission, rng, "uniform_init", SHAPES[kind], a=bound)
    check_uniform(samples, bound, label)


@pytest.mark.question("q2")
@pytest.mark.points(2)
@pytest.mark.parametrize("kind, std", [("matrix", 0.3), ("kernel", 2.2)])
def test_normal_init(submission, rng, kind, std):
    samples, label = draw(submission, rng, "normal_init", SHAPES[kind], std=std)
    check_normal(samples, std, label)


# ---------------------------------------------------------------- q3

@pytest.mark.question("q3")
@pytest.mark.points(2)
@pytest.mark.parametrize("kind, gain", [("matrix", 0.6), ("kernel", 2.3)])
def test_xavier(submission, reference, rng, kind, gain):
    shape = SHAPES[kind]
    fan_in, fan_out = reference.fans(shape)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    samples, label = draw(submission, rng, "xavier_uniform", shape, gain=gain)
    check_uniform(samples, np.sqrt(3) * std, label)
    samples, label = draw(submission, rng, "xavier_normal", shape, gain=gain)
    check_normal(samples, std, label)


@pytest.mark.question("q3")
@pytest.mark.points(2)
@pytest.mark.parametrize("kind, mode, nonlinearity, a", [("matrix", "fan_in", "relu", 0.0),
                                                          ("matrix", "fan_out", "leaky_relu", 0.3),
                                                          ("kernel", "fan_out", "relu", 0.0),
                                                          ("kernel", "fan_in", "tanh", 0.0)])
def test_he(submission, reference, rng, kind, mode, nonlinearity, a):
    shape = SHAPES[kind]
    fan = reference.fans(shape)[0 if mode == "fan_in" else 1]
    std = reference.calculate_gain(nonlinearity, a) / np.sqrt(fan)
    kwargs = {"mode": mode, "nonlinearity": nonlinearity, "a": a}
    samples, label = draw(submission, rng, "he_uniform", shape, **kwargs)
    check_uniform(samples, np.sqrt(3) * std, label)
    samples, label = draw(submission, rng, "he_normal", shape, **kwargs)
    check_normal(samples, std, label)


# ---------------------------------------------------------------- q4

SIGN_DRAWS = 512  # diagonal entries over which the sign balance is counted


@pytest.mark.question("q4")
@pytest.mark.points(2)
@pytest.mark.parametrize("shape, gain", [((512, 64), 0.5), ((64, 512), 1.8), ((64, 64), 2.5),
                                         ((3, 3, 16, 32), 0.7)],
                         ids=["tall", "wide", "square", "kernel"])
def test_orthogonal(submission, rng, shape, gain):
    Q, label = draw(submission, rng, "orthogonal_init", shape, gain=gain)
    M = Q.reshape(-1, shape[-1])
    tall = M.shape[0] >= M.shape[1]
    gram = M.T @ M if tall else M @ M.T
    assert_close(gram, gain ** 2 * np.eye(len(gram)),
                 f"{label} viewed as {M.shape}: its {'columns' if tall else 'rows'} should be "
                 "orthonormal times gain, so this Gram matrix is gain^2 I")
    # Uniformly distributed, its rows and columns may each be negated without changing the
    # distribution: the signs of the diagonal entries are independent fair coins.
    draws = -(-SIGN_DRAWS // min(M.shape))
    seeds = [int(seed) for seed in rng.integers(2**32, size=draws)]
    diagonals = []
    for sample in submission.run(samplers.sample_many, "orthogonal_init", shape, seeds,
                                 gain=gain):
        check_array(sample, shape, label)
        diagonals.append(np.diagonal(sample.reshape(M.shape)))
    signs = np.concatenate(diagonals)
    positive = int(np.sum(signs > 0))
    p = stats.binomtest(positive, signs.size).pvalue
    assert p >= FALSE_FAILURE, (
        f"{label}: {positive} of the {signs.size} diagonal entries of the {M.shape} view over "
        f"{draws} seeds are positive; a uniformly distributed orthogonal matrix has each sign "
        f"with probability 1/2 (binomial p = {p:.2g}). QR's Q alone is not uniform: multiply "
        "its columns by the signs of the diagonal of R (or use U V^T of the SVD)")


@pytest.mark.question("q4")
def test_identity(submission, credit):
    def check_identity(shape, *gain):
        label = f"identity_init({shape}{''.join(f', gain={g}' for g in gain)})"
        got = submission.call("identity_init", shape, *gain)
        check_array(got, shape, label)
        assert_close(got, (gain[0] if gain else 1.0) * np.eye(*shape), label)

    def check_raises(shape):
        raised = submission.run(samplers.raises, "identity_init", shape)
        assert raised == "ValueError", (f"identity_init({shape}) should raise ValueError "
                                        f"(2-D only), got {raised or 'no exception'}")

    cases = [((4, 4), 1.0), ((3, 5), 0.5), ((6, 2), 2.0), ((2, 3),)]
    check_each(credit, [(f"identity_init{case}", lambda c=case: check_identity(*c))
                        for case in cases]
               + [(f"identity_init({s})", lambda s=s: check_raises(s)) for s in [(2, 3, 4), (5,)]])
