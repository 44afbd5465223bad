"""The tolerance policy: accurate finite differences, no false failures, no false passes."""

import numpy as np
import pytest
from scipy import stats

from grader import numerics
from grader.numerics import (
    FINITE_DIFFERENCE,
    assert_bounds,
    assert_close,
    assert_distribution,
    assert_moments,
    assert_vjp,
    numerical_gradient,
    numerical_jacobian,
    random_inputs,
    random_upstream,
    relative_error,
)

SEEDS = range(200)
N, D, M = 4, 3, 5


def test_centered_gradient_of_smooth_function_meets_the_policy():
    rng = np.random.default_rng(0)
    x = random_inputs(rng, (N, D)) * 3
    before = x.copy()
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert_close(exact, numerical_gradient(lambda z: np.sum(np.sin(z) * z**2), x),
                 "gradient", FINITE_DIFFERENCE)
    assert relative_error(exact, numerical_gradient(lambda z: np.sum(np.sin(z) * z**2), x)) < 1e-8
    assert np.array_equal(x, before)


def test_jacobian_of_non_square_map():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((M, D))
    x = random_inputs(rng, (D,))
    jacobian = numerical_jacobian(lambda z: np.tanh(A @ z), x)
    exact = (1 - np.tanh(A @ x) ** 2)[:, None] * A
    assert jacobian.shape == (M, D)
    assert_close(exact, jacobian, "jacobian", FINITE_DIFFERENCE)


def _layers(rng):
    """(name, forward, input, upstream, correct vjp) for seven layer gradients."""
    x, W, b = random_inputs(rng, (N, D)), random_inputs(rng, (D, M)), random_inputs(rng, (M,))
    up = random_upstream(rng, (N, M))
    up_x = random_upstream(rng, (N, D))
    sig = 1 / (1 + np.exp(-x))
    labels = rng.integers(0, M, N)

    def softmax_ce(z):
        shifted = z - z.max(axis=1, keepdims=True)
        return -np.mean(shifted[np.arange(N), labels] - np.log(np.exp(shifted).sum(axis=1)))

    logits = random_inputs(rng, (N, M)) * 5
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(M)[labels]
    return [
        ("dx", lambda z: z @ W + b, x, up, up @ W.T),
        ("dW", lambda z: x @ z + b, W, up, x.T @ up),
        ("db", lambda z: x @ W + z, b, up, up.sum(0)),
        ("relu", lambda z: np.maximum(z, 0), x, up_x, up_x * (x > 0)),
        ("tanh", np.tanh, x, up_x, up_x * (1 - np.tanh(x) ** 2)),
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z)), x, up_x, up_x * sig * (1 - sig)),
        ("softmax-ce", lambda z: np.array(softmax_ce(z)), logits, np.array(1.0), (p - onehot) / N),
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_correct_gradients_never_fail_and_off_by_a_tenth_percent_always_fail(seed):
    for name, forward, x, upstream, vjp in _layers(np.random.default_rng(seed)):
        assert_vjp(vjp, forward, x, upstream, name)
        with pytest.raises(AssertionError, match=name):
            assert_vjp(vjp * 1.001, forward, x, upstream, name)


def test_failure_message_names_worst_element_values_and_tolerance():
    expected = np.arange(12.0).reshape(3, 4) + 1
    actual = expected.copy()
    actual[2, 1] += 0.5
    with pytest.raises(AssertionError) as failure:
        assert_close(actual, expected, "dW")
    message = str(failure.value)
    assert message.startswith("dW: values differ at index [2, 1]: got 10.5, expected 10 ")
    assert "abs error 0.5" in message and "rel 1e-06" in message and "1 of 12" in message


@pytest.mark.parametrize("mistake, hint", [
    (lambda r: r.T, "looks transposed"),
    (lambda r: -r, "wrong sign"),
    (lambda r: r / 4, "constant factor of 0.25"),
])
def test_hints_for_common_mistakes(mistake, hint):
    reference = np.random.default_rng(3).standard_normal((4, 4))
    with pytest.raises(AssertionError, match=hint):
        assert_close(mistake(reference), reference, "dx")


def test_non_finite_expectations_match_only_themselves():
    expected = np.array([np.inf, -np.inf, np.nan, 1.0])
    assert_close(expected.copy(), expected, "values")
    for wrong in ([np.inf, np.inf, np.nan, 1.0], [np.inf, -np.inf, 0.0, 1.0]):
        with pytest.raises(AssertionError, match="index \\[[12]\\]"):
            assert_close(np.array(wrong), expected, "values")


def test_relative_error_is_zero_for_two_zeros_and_never_nan():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(0.0, 1e-300) < 1e-280  # below the guard, values count as zero
    assert relative_error(np.array([1.0, 0.0]), np.array([2.0, 0.0])) == pytest.approx(1 / 3)


def test_a_float32_result_is_held_to_the_float64_reference_tolerance():
    """The student's dtype never loosens a check: casting down buys nothing."""
    reference = np.random.default_rng(4).standard_normal((N, M))
    assert_close(reference.astype(np.float32), reference, "out")  # rounding alone is fine
    off = (reference * (1 + 1e-4)).astype(np.float32)  # within float32's 1e-3, not 1e-6
    with pytest.raises(AssertionError, match="float64 tolerance"):
        assert_close(off, reference, "out")


def test_float32_tolerance_only_where_the_test_declares_it():
    reference = np.random.default_rng(5).standard_normal((N, M))
    off = (reference * (1 + 1e-4)).astype(np.float32)
    assert_close(off, reference, "out", numerics.FLOAT32)
    assert_close(off, reference.astype(np.float32), "out")  # a float32 reference declares it
    with pytest.raises(AssertionError, match="float32 tolerance"):
        assert_close((reference * 1.01).astype(np.float32), reference, "out", numerics.FLOAT32)


SHAPE = (64, 512)


@pytest.mark.parametrize("seed", SEEDS)
def test_correct_initializers_pass_statistics_for_every_seed(seed):
    rng = np.random.default_rng(seed)
    bound = np.sqrt(6 / sum(SHAPE))
    uniform = rng.uniform(-bound, bound, SHAPE)
    assert_bounds(uniform, -bound, bound, "uniform")
    assert_moments(uniform, 0.0, bound / np.sqrt(3), "uniform")
    assert_distribution(uniform, stats.uniform(-bound, 2 * bound).cdf, "uniform", "U(-a, a)")
    std = np.sqrt(2 / SHAPE[0])
    normal = rng.normal(0, std, SHAPE)
    assert_moments(normal, 0.0, std, "he_normal")
    assert_distribution(normal, stats.norm(0, std).cdf, "he_normal", "N(0, std^2)")


@pytest.mark.parametrize("seed", range(20))
def test_common_initializer_bugs_always_fail(seed):
    rng = np.random.default_rng(seed)
    std = 0.1
    with pytest.raises(AssertionError, match="variance used as a standard deviation"):
        assert_moments(rng.normal(0, std**2, SHAPE), 0.0, std, "normal_init")
    with pytest.raises(AssertionError, match="standard deviation"):  # fan from the wrong axis
        assert_moments(rng.normal(0, np.sqrt(2 / SHAPE[1]), SHAPE), 0.0, np.sqrt(2 / SHAPE[0]),
                       "he_normal")
    with pytest.raises(AssertionError, match="Kolmogorov-Smirnov"):  # uniform, right variance
        a = np.sqrt(3) * std
        assert_distribution(rng.uniform(-a, a, SHAPE), stats.norm(0, std).cdf, "n", "N(0, s^2)")
    with pytest.raises(AssertionError, match="outside"):
        assert_bounds(rng.normal(0, 1, SHAPE), -1, 1, "uniform_init")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_statistics_refuse_values_that_are_not_numbers(bad):
    """Every comparison with nan is false: a nan would pass a bound, a mean and a
    distribution, so weights of nan would score. Each check names the value and where."""
    std = np.sqrt(2 / SHAPE[0])
    weights = np.random.default_rng(3).normal(0, std, SHAPE)
    weights[5, 7] = bad
    for check in (lambda w: assert_bounds(w, -1, 1, "W1"),
                  lambda w: assert_moments(w, 0.0, std, "W1"),
                  lambda w: assert_distribution(w, stats.norm(0, std).cdf, "W1", "N(0, s^2)")):
        with pytest.raises(AssertionError, match=r"W1: value -?(nan|inf) at index \[5, 7\] is "
                                                 r"not a finite number \(1 of 32768 values"):
            check(weights)
        with pytest.raises(AssertionError, match="32768 of 32768 values are nan or inf"):
            check(np.full(SHAPE, bad))
    for check in (lambda w: assert_moments(w, 0.0, std, "W1"),
                  lambda w: assert_distribution(w, stats.norm(0, std).cdf, "W1", "N")):
        with pytest.raises(AssertionError, match=r"W1: no values \(shape \(0, 512\)\)"):
            check(np.zeros((0, 512)))


@pytest.mark.parametrize("seed", range(30))
def test_the_distribution_check_gives_scipys_numbers(seed):
    """The Kolmogorov-Smirnov statistic and p-value are scipy's own, to the last bit: for
    samples that follow the distribution, that are off by a little, and that have ties."""
    from grader.core.numerics import _kolmogorov_smirnov

    rng = np.random.default_rng(seed)
    cdf = stats.norm(0, 0.5).cdf
    for samples in (rng.normal(0, 0.5, SHAPE), rng.normal(0, 0.52, SHAPE),
                    np.round(rng.normal(0, 0.5, 1000), 2), rng.normal(0, 0.5, 3)):
        expected = stats.kstest(samples.ravel(), cdf)
        assert _kolmogorov_smirnov(samples.ravel(), cdf) == (float(expected.statistic),
                                                             float(expected.pvalue))


def test_an_inf_expected_somewhere_leaves_the_other_tolerances_finite():
    """An overflow the reference expects in one entry must not excuse every other entry: the
    absolute tolerance scales with the largest finite expected value."""
    assert_close(np.array([1.0, np.inf]), np.array([1.0, np.inf]), "out")
    with pytest.raises(AssertionError, match=r"values differ at index \[0\]: got 123, "
                                             r"expected 1 .*allowed abs 1e-09"):
        assert_close(np.array([123.0, np.inf]), np.array([1.0, np.inf]), "out")
    assert numerics.REFERENCE.atol(np.array([np.nan, -np.inf, 250.0])) == 1e-9 * 250.0


def test_statistical_false_failure_bound_is_below_one_in_a_million():
    assert numerics.FALSE_FAILURE < 1e-6
    assert numerics._z(numerics.FALSE_FAILURE) == pytest.approx(5.33, abs=0.01)
