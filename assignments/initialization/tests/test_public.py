"""Public checks: shapes and cases worked out by hand. Students run these in their notebook."""

import numpy as np
import pytest

from grader.numerics import assert_close

pytestmark = pytest.mark.visibility("public")


@pytest.mark.question("q1")
def test_fans_and_gains_by_hand(submission):
    assert submission.call("fans", (3, 5)) == (3, 5), "fans((3, 5)) should be (3, 5)"
    assert submission.call("fans", (2, 2, 3, 4)) == (12, 16), (
        "fans((2, 2, 3, 4)) should be (12, 16)")
    assert_close(submission.call("calculate_gain", "relu"), np.sqrt(2), "calculate_gain('relu')")


@pytest.mark.question("q2")
def test_classical_schemes_shapes(submission):
    samples = submission.call("uniform_init", (20, 30), 0.5, np.random.default_rng(0))
    assert getattr(samples, "shape", None) == (20, 30), "uniform_init((20, 30), ...) shape"
    assert np.all(np.abs(samples) <= 0.5), "uniform_init((20, 30), 0.5, rng) leaves [-0.5, 0.5]"
    normal = submission.call("normal_init", (20, 30), 0.1, np.random.default_rng(0))
    assert getattr(normal, "shape", None) == (20, 30), "normal_init((20, 30), ...) shape"


@pytest.mark.question("q3")
def test_fan_schemes_shapes(submission):
    for name in ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal"):
        samples = submission.call(name, (4, 6), np.random.default_rng(0))
        assert getattr(samples, "shape", None) == (4, 6), f"{name}((4, 6), rng) shape"


@pytest.mark.question("q4")
def test_orthogonal_and_identity_by_hand(submission):
    Q = submission.call("orthogonal_init", (5, 3), np.random.default_rng(0))
    assert_close(Q.T @ Q, np.eye(3), "orthogonal_init((5, 3), rng): Q^T Q")
    assert_close(submission.call("identity_init", (2, 3)), np.eye(2, 3), "identity_init((2, 3))")


def _identity_init(shape, rng):
    return np.eye(*shape)


@pytest.mark.question("q5")
def test_propagation_through_identity_layers(submission):
    result = submission.call("signal_propagation", _identity_init, 3, 8, "linear",
                             np.random.default_rng(0), 50)
    activation, gradient = result["activation_std"], result["gradient_std"]
    assert getattr(activation, "shape", None) == (3,), "activation_std should have shape (depth,)"
    for name, values in (("activation_std", activation), ("gradient_std", gradient)):
        values = np.asarray(values, dtype=float)
        assert values.shape == (3,) and np.all(np.isfinite(values)) and np.all(values > 0), (
            f"{name} through identity layers should be 3 positive numbers, got {values}")
    assert_close(activation, np.full(3, activation[0]), "activation_std through identity layers")
    assert_close(gradient, np.full(3, gradient[0]), "gradient_std through identity layers")


@pytest.mark.question("q6")
def test_rnn_norms_by_hand(submission):
    assert_close(submission.call("linear_rnn_gradient_norms", 0.5 * np.eye(3), 3),
                 np.array([0.5, 0.25, 0.125]), "linear_rnn_gradient_norms(0.5 I, 3)")
