"""Hidden tests of q5 (signals through depth) and q6 (gradients through time)."""

import numpy as np
import pytest
import samplers

from grader.numerics import assert_close


def propagate(submission, init, depth, width, nonlinearity, seed, n_samples):
    result = submission.call("signal_propagation", init, depth, width, nonlinearity,
                             np.random.default_rng(seed), n_samples)
    label = (f"signal_propagation(init, depth={depth}, width={width}, {nonlinearity!r}, rng, "
             f"n_samples={n_samples})")
    assert isinstance(result, dict) and set(result) == {"activation_std", "gradient_std"}, (
        f"{label} should return a dict with keys 'activation_std' and 'gradient_std', got "
        f"{sorted(result) if isinstance(result, dict) else type(result).__name__}")
    return result, label


@pytest.mark.question("q5")
@pytest.mark.parametrize("nonlinearity", ["linear", "relu", "tanh", "sigmoid"])
def test_propagation_matches_reference_on_the_same_weights(submission, reference, rng,
                                                           nonlinearity):
    depth, width = 4, 16
    weights = [rng.normal(0, 1.2 / np.sqrt(width), (width, width)) for _ in range(depth)]
    seed = int(rng.integers(2**32))
    result, label = propagate(submission, samplers.Fixed(weights), depth, width, nonlinearity,
                              seed, 200)
    expected = reference.signal_propagation(samplers.Fixed(weights), depth, width, nonlinearity,
                                            np.random.default_rng(seed), 200)
    for key in ("activation_std", "gradient_std"):
        assert_close(result[key], expected[key], f"{label} on given weights: {key} (inputs "
                     "drawn first, then the weights, then the upstream gradient)")


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
def test_rnn_gradient_norms(submission, reference, rng):
    n, T = 6, 12
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    cases = {"the identity": np.eye(n), "an orthogonal matrix": Q,
             "0.9 times an orthogonal matrix": 0.9 * Q,
             "a random Gaussian matrix": rng.normal(0, 1.1 / np.sqrt(n), (n, n))}
    for name, W in cases.items():
        got = submission.call("linear_rnn_gradient_norms", W, T)
        assert_close(got, reference.linear_rnn_gradient_norms(W, T),
                     f"linear_rnn_gradient_norms(W, {T}) for W {name} (spectral norms of W^t, "
                     "t = 1..T)")
