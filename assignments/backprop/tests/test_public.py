"""Public checks: small cases worked out by hand. Students run these in their notebook."""

import numpy as np
import pytest

from grader.numerics import assert_close
from grader.sandbox import StudentError

pytestmark = pytest.mark.visibility("public")


def _engine(ns):
    Value = ns["Value"]
    x = Value(3.0)
    y = x * x + 2 * x
    return [float(y.data), float(Value(0.0).tanh().data) if hasattr(Value, "tanh") else None]


@pytest.mark.question("q1")
def test_engine_by_hand(submission):
    data, tanh = submission.run(_engine)
    assert_close(data, 15.0, "(x * x + 2 * x).data for x = Value(3.0)")
    assert tanh is not None, "Value has no method tanh"
    assert_close(tanh, 0.0, "Value(0.0).tanh().data")


class _ByHand:
    """A node's _backward written by hand: adds local * out.grad to each input's grad."""

    def __init__(self, out, edges):
        self.out = out
        self.edges = edges

    def __call__(self):
        for child, local in self.edges:
            child.grad += local * self.out.grad


def _backward_by_hand(ns):
    # y = x * x + 2 * x for x = 3, built from nodes whose _backward is written here, so that
    # this checks backward() alone: square = x * x (local gradients 3 and 3), y = square + 2x.
    Value = ns["Value"]
    x = Value(3.0)
    square = Value(9.0, (x, x))
    square._backward = _ByHand(square, [(x, 3.0), (x, 3.0)])
    y = Value(15.0, (square, x))
    y._backward = _ByHand(y, [(square, 1.0), (x, 2.0)])
    y.backward()
    return [float(y.grad), float(square.grad), float(x.grad)]


@pytest.mark.question("q2")
def test_backward_by_hand(submission):
    grads = submission.run(_backward_by_hand)
    assert_close(np.array(grads), np.array([1.0, 1.0, 8.0]),
                 "[y.grad, square.grad, x.grad] after y.backward(), for y = square + 2 * x and "
                 "square = x * x at x = 3, nodes built as Value(data, _children) with their "
                 "_backward written by the check")


def _linear(ns):
    out, cache = ns["linear_forward"](np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
    dx, dW, db = ns["linear_backward"](np.ones((2, 4)), cache)
    return out, dx, dW, db


@pytest.mark.question("q3")
def test_linear_by_hand(submission):
    out, dx, dW, db = submission.run(_linear)
    assert_close(out, np.full((2, 4), 3.0), "linear_forward(ones (2, 3), ones (3, 4), zeros 4)")
    assert_close(dx, np.full((2, 3), 4.0), "dx of linear_backward(ones (2, 4), cache)")
    assert_close(dW, np.full((3, 4), 2.0), "dW of linear_backward(ones (2, 4), cache)")
    assert_close(db, np.full(4, 2.0), "db of linear_backward(ones (2, 4), cache)")


def _activations(ns):
    x = np.array([[-1.0, 0.0, 2.0]])
    out, cache = ns["relu_forward"](x)
    return [out, ns["relu_backward"](np.ones((1, 3)), cache),
            ns["sigmoid_forward"](np.zeros((1, 2)))[0], ns["tanh_forward"](np.zeros((1, 2)))[0]]


@pytest.mark.question("q4")
def test_activations_by_hand(submission):
    relu, drelu, sigmoid, tanh = submission.run(_activations)
    assert_close(relu, np.array([[0.0, 0.0, 2.0]]), "relu_forward([[-1, 0, 2]])")
    assert_close(drelu, np.array([[0.0, 0.0, 1.0]]), "relu_backward(ones, cache of [[-1, 0, 2]])")
    assert_close(sigmoid, np.full((1, 2), 0.5), "sigmoid_forward(zeros)")
    assert_close(tanh, np.zeros((1, 2)), "tanh_forward(zeros)")


@pytest.mark.question("q5")
def test_softmax_cross_entropy_by_hand(submission):
    loss, dlogits = submission.call("softmax_cross_entropy", np.zeros((2, 3)), np.array([0, 2]))
    assert_close(loss, np.log(3.0), "softmax_cross_entropy(zeros (2, 3), [0, 2]): loss")
    expected = (np.full((2, 3), 1 / 3) - np.array([[1, 0, 0], [0, 0, 1]])) / 2
    assert_close(dlogits, expected, "softmax_cross_entropy(zeros (2, 3), [0, 2]): dlogits")


LAYERS = ("linear_forward", "linear_backward", "relu_forward", "relu_backward",
          "softmax_cross_entropy")


@pytest.mark.question("q6")
def test_mlp_shapes(submission):
    params = submission.call("init_mlp", [2, 4, 3], np.random.default_rng(0))
    shapes = {k: getattr(v, "shape", None) for k, v in params.items()}
    assert shapes == {"W1": (2, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}, (
        f"init_mlp([2, 4, 3], rng) shapes: {shapes}")
    try:
        _, grads = submission.call("mlp_loss", params, np.ones((5, 2)), np.zeros(5, dtype=int))
    except StudentError as error:
        if error.function in LAYERS:
            return  # a layer raised inside mlp_loss: that layer's own check says why
        raise
    assert isinstance(grads, dict) and set(grads) == set(params), (
        "mlp_loss should return one gradient per parameter, with the keys of params")


@pytest.mark.question("q7")
def test_sgd_step_by_hand(submission):
    params = {"W1": np.ones((2, 2)), "b1": np.zeros(2)}
    grads = {"W1": np.full((2, 2), 2.0), "b1": np.ones(2)}
    updated = submission.call("sgd_step", params, grads, 0.1)
    assert_close(updated["W1"], np.full((2, 2), 0.8), "sgd_step(...)['W1'] with lr 0.1")
    assert_close(updated["b1"], np.full(2, -0.1), "sgd_step(...)['b1'] with lr 0.1")
