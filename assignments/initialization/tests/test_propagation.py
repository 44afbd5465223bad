"""Hidden tests of q5 (signals through depth) and q6 (gradients through time)."""

import numpy as np
import pytest
import samplers
from reporting import check_each

from grader.numerics import assert_close


def propagate(submission, init, depth, width, nonlinearity, seed, n_samples):
    result = submission.call("signal_propagation", init, depth, width, nonlinearity,
                             np.random.default_rng(seed), n_samples)
    label = (f"signal_propagation(init, depth={depth}, width={width}, {nonlinearity!r}, rng, "
             f"n_samples={n_samples})")
    check_result(result, label)
    return result, label


def check_result(result, label):
    assert isinstance(result, dict) and set(result) == {"activation_std", "gradient_std"}, (
        f"{label} should return a dict with keys 'activation_std' and 'gradient_std', got "
        f"{sorted(result) if isinstance(result, dict) else type(result).__name__}")


def propagate_on_weights(submission, reference, weights, nonlinearity, seed, n_samples, what):
    """signal_propagation on given weights against the reference's on the same weights and
    seed; the weights must come back unchanged."""
    depth, width = len(weights), weights[0].shape[0]
    result, after = submission.run(samplers.propagate_fixed, weights, depth, width, nonlinearity,
                                   seed, n_samples)
    label = (f"signal_propagation(init, depth={depth}, width={width}, {nonlinearity!r}, rng, "
             f"n_samples={n_samples}) on {what}")
    check_result(result, label)
    expected = reference.signal_propagation(samplers.Fixed(weights), depth, width, nonlinearity,
                                            np.random.default_rng(seed), n_samples)
    for key in ("activation_std", "gradient_std"):
        assert_close(result[key], expected[key], f"{label}: {key} (inputs drawn first, then "
                     "the weights, then the upstream gradient)")
    after = list(after) if isinstance(after, (list, tuple)) else []
    changed = [layer for layer, W in enumerate(weights)
               if not (layer < len(after) and isinstance(after[layer], np.ndarray)
                       and np.array_equal(W, after[layer]))]
    assert not changed, (f"{label} changed the weights init returned (layers {changed}): "
                         "compute new arrays instead of writing into the weights")


@pytest.mark.question("q5")
@pytest.mark.parametrize("nonlinearity", ["linear", "relu", "tanh", "sigmoid"])
def test_propagation_matches_reference_on_the_same_weights(submission, reference, rng,
                                                           nonlinearity):
    depth, width = 4, 16
    weights = [rng.normal(0, 1.2 / np.sqrt(width), (width, width)) for _ in range(depth)]
    propagate_on_weights(submission, reference, weights, nonlinearity,
                         int(rng.integers(2**32)), 200, "given weights N(0, 1.2^2/16)")


@pytest.mark.question("q5")
@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid"])
def test_saturated_units_stay_finite(submission, reference, rng, nonlinearity):
    # Weights N(0, 250^2) make pre-activations of about +-1000 in every layer: exp(1000)
    # overflows to inf, and inf / inf is nan.
    depth, width = 4, 16
    weights = [rng.normal(0, 250.0, (width, width)) for _ in range(depth)]
    propagate_on_weights(submission, reference, weights, nonlinearity,
                         int(rng.integers(2**32)), 200,
                         "weights N(0, 250^2), which saturate every unit (|z| ~ 1000, where "
                         "exp(|z|) overflows and inf / inf is nan: np.tanh, 1 / (1 + exp(-z)) "
                         "and s * (1 - s) are safe)")


@pytest.mark.question("q5")
@pytest.mark.points(2)
def test_he_keeps_relu_signals_steady(submission, rng):
    # Width 512: each layer moves the scale by about 1/sqrt(width), so 50 layers stay well
    # inside a factor 10 for every seed.
    result, label = propagate(submission, samplers.Gaussian(np.sqrt(2)), 50, 512, "relu",
                              int(rng.integers(2**32)), 64)
    for key in ("activation_std", "gradient_std"):
        values = result[key]
        ratio = float(values[-1] / values[0])
        assert 0.1 < ratio < 10, (
            f"{label} with He weights N(0, 2/fan_in): {key} changed by a factor {ratio:.3g} "
            "over 50 layers; He initialization keeps it within a small factor")


@pytest.mark.question("q5")
def test_small_weights_make_tanh_signals_vanish(submission, rng):
    result, label = propagate(submission, samplers.Gaussian(0.01, per_fan=False), 50, 128,
                              "tanh", int(rng.integers(2**32)), 50)
    assert result["activation_std"][-1] < 1e-10 and result["gradient_std"][0] < 1e-10, (
        f"{label} with weights N(0, 0.01^2): activations and gradients should vanish, got "
        f"{result['activation_std'][-1]:.3g} and {result['gradient_std'][0]:.3g}")


@pytest.mark.question("q5")
def test_unit_weights_make_relu_signals_explode(submission, rng):
    result, label = propagate(submission, samplers.Gaussian(1.0, per_fan=False), 50, 128,
                              "relu", int(rng.integers(2**32)), 50)
    assert result["activation_std"][-1] > 1e20 and result["gradient_std"][0] > 1e20, (
        f"{label} with weights N(0, 1): activations and gradients should explode, got "
        f"{result['activation_std'][-1]:.3g} and {result['gradient_std'][0]:.3g}")


@pytest.mark.question("q6")
@pytest.mark.points(2)
def test_rnn_gradient_norms(submission, reference, rng, credit):
    n, T = 6, 12
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    cases = {"the identity": np.eye(n), "an orthogonal matrix": Q,
             "0.9 times an orthogonal matrix": 0.9 * Q,
             "a random Gaussian matrix (not normal: its spectral radius is not its norm)":
                 rng.normal(0, 1.1 / np.sqrt(n), (n, n)),
             "the integer matrix I + (ones above the diagonal)":
                 np.eye(n, dtype=int) + np.eye(n, k=1, dtype=int)}

    def check_case(name, W):
        label = f"linear_rnn_gradient_norms(W, {T}) for W {name}"
        got, (W_after, _) = submission.call_with_inputs("linear_rnn_gradient_norms", W.copy(), T)
        assert_close(got, reference.linear_rnn_gradient_norms(W, T),
                     f"{label} (spectral norms of W^t, t = 1..T)")
        assert isinstance(W_after, np.ndarray) and np.array_equal(W_after, W), (
            f"{label} changed W (an in-place W @= ..., or W[...] = ...?): compute new arrays "
            "and leave the argument as it was")

    check_each(credit, [(name, lambda name=name, W=W: check_case(name, W))
                        for name, W in cases.items()])
