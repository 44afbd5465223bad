"""Hidden tests of q6 (MLP initialization and loss) and q7 (SGD, prediction, training)."""

import numpy as np
import pytest
import scenarios
from scipy import stats

from grader.numerics import (
    FINITE_DIFFERENCE,
    assert_close,
    assert_distribution,
    assert_moments,
    numerical_gradient,
    random_inputs,
)

SMALL = [4, 6, 5, 3]


def small_problem(reference, rng, sizes=SMALL, n=7):
    params = reference.init_mlp(sizes, rng)
    params = {k: v + (0 if k.startswith("W") else random_inputs(rng, v.shape) * 0.1)
              for k, v in params.items()}
    return params, random_inputs(rng, (n, sizes[0])), rng.integers(0, sizes[-1], n)


@pytest.mark.question("q6")
def test_init_mlp_layout(submission):
    params = submission.call("init_mlp", [3, 7, 4, 2], np.random.default_rng(0))
    expected = {"W1": (3, 7), "b1": (7,), "W2": (7, 4), "b2": (4,), "W3": (4, 2), "b3": (2,)}
    assert isinstance(params, dict) and set(params) == set(expected), (
        f"init_mlp([3, 7, 4, 2], rng) should return the keys {sorted(expected)}, got "
        f"{sorted(params) if isinstance(params, dict) else type(params).__name__}")
    for key, shape in expected.items():
        assert getattr(params[key], "shape", None) == shape, (
            f"init_mlp([3, 7, 4, 2], rng)[{key!r}] should have shape {shape}, got "
            f"{getattr(params[key], 'shape', type(params[key]).__name__)}")
        if key.startswith("b"):
            assert not np.any(params[key]), f"biases start at zero; {key} does not"


@pytest.mark.question("q6")
@pytest.mark.points(2)
def test_init_mlp_is_he_normal(submission, rng):
    params = submission.call("init_mlp", [512, 256, 10], np.random.default_rng(rng.integers(2**32)))
    std = np.sqrt(2.0 / 512)
    assert_moments(params["W1"], 0.0, std, "init_mlp([512, 256, 10])['W1'] (He normal, fan_in "
                   "512: N(0, 2 / 512))")
    assert_distribution(params["W1"], stats.norm(0.0, std).cdf, "init_mlp([512, 256, 10])['W1']",
                        "a normal distribution N(0, 2 / fan_in)")


@pytest.mark.question("q6")
def test_init_mlp_uses_only_the_given_generator(submission):
    first, second, untouched = submission.run(scenarios.global_state_untouched, "init_mlp",
                                              [5, 4, 3], np.random.default_rng(7))
    assert untouched, "init_mlp changed numpy's global random state: draw from rng only"
    for key in first:
        assert np.array_equal(first[key], second[key]), (
            f"init_mlp gave different {key} for two generators with the same seed: draw from "
            "the rng argument only")


@pytest.mark.question("q6")
@pytest.mark.points(3)
def test_mlp_loss_and_gradients(submission, reference, rng):
    params, X, y = small_problem(reference, rng)
    loss, grads = submission.call("mlp_loss", params, X, y)
    expected_loss, expected_grads = reference.mlp_loss(params, X, y)
    assert_close(loss, expected_loss, f"mlp_loss for sizes {SMALL} and a batch of {len(y)}")
    assert isinstance(grads, dict) and set(grads) == set(params), (
        f"mlp_loss should return grads with the keys of params {sorted(params)}, got "
        f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}")
    for key in sorted(params):
        assert_close(grads[key], expected_grads[key], f"mlp_loss grads[{key!r}]")

        def loss_of(value, key=key):
            return reference.mlp_loss({**params, key: value}, X, y)[0]

        assert_close(grads[key], numerical_gradient(loss_of, params[key]),
                     f"mlp_loss grads[{key!r}] against finite differences", FINITE_DIFFERENCE)


@pytest.mark.question("q7")
def test_sgd_step(submission, reference, rng):
    params, X, y = small_problem(reference, rng)
    _, grads = reference.mlp_loss(params, X, y)
    lr = float(rng.uniform(0.05, 0.5))
    updated = submission.call("sgd_step", params, grads, lr)
    expected = reference.sgd_step(params, grads, lr)
    assert isinstance(updated, dict) and set(updated) == set(expected), (
        "sgd_step should return a dict with the keys of params")
    for key in sorted(expected):
        assert_close(updated[key], expected[key], f"sgd_step(params, grads, lr={lr:.3g})[{key!r}] "
                     "(a step against the gradient: param - lr * grad)")


@pytest.mark.question("q7")
def test_predict(submission, reference, rng):
    params, X, _ = small_problem(reference, rng, n=12)
    labels = submission.call("predict", params, X)
    expected = reference.predict(params, X)
    assert isinstance(labels, np.ndarray) and labels.dtype.kind in "iu", (
        f"predict should return an integer array, got {getattr(labels, 'dtype', type(labels))}")
    assert_close(labels, expected, "predict(params, X): the class with the largest score")


@pytest.mark.question("q7")
@pytest.mark.points(3)
def test_training_on_the_spiral(submission, reference, rng):
    X, y = reference.make_spiral(100, 3, np.random.default_rng(rng.integers(2**32)))
    params = submission.call("train", X, y, [2, 64, 3], 0.5, 200, 32,
                             np.random.default_rng(rng.integers(2**32)), _timeout=60)
    assert isinstance(params, dict) and set(params) == {"W1", "b1", "W2", "b2"}, (
        "train should return the trained parameters as a dict like init_mlp's")
    accuracy = float(np.mean(reference.predict(params, X) == y))
    assert accuracy >= 0.9, (
        f"after train(X, y, [2, 64, 3], lr=0.5, epochs=200, batch_size=32, rng) on the spiral, "
        f"the training accuracy is {accuracy:.1%}; the reference reaches 96% or more")
