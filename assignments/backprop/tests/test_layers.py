"""Hidden tests of q3 (linear layer), q4 (activations) and q5 (softmax cross-entropy).

The forward-then-backward composition runs in the student's process: caches never leave it.
"""

import numpy as np
import pytest
import scenarios

from grader.numerics import (
    FINITE_DIFFERENCE,
    assert_close,
    numerical_gradient,
    numerical_vjp,
    random_inputs,
    random_upstream,
)

N, D_IN, D_OUT = 4, 3, 5


def as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def check_layer(submission, reference, name, inputs, dout, labels):
    out, grads, after = submission.run(scenarios.layer, name, inputs, dout)
    expected_out, expected_grads, _ = scenarios.layer(vars(reference), name, inputs, dout)
    shapes = " and ".join(f"{label} {np.shape(x)}" for label, x in zip(labels, inputs,
                                                                          strict=True))
    assert_close(out, expected_out, f"{name}_forward with {shapes}: out")
    grads, expected_grads = as_tuple(grads), as_tuple(expected_grads)
    wanted = ", ".join("d" + label for label in labels)
    assert len(grads) == len(expected_grads), (
        f"{name}_backward should return {wanted}; got {len(grads)} value(s)")
    forward = getattr(reference, f"{name}_forward")
    for i, label in enumerate(labels):
        assert_close(grads[i], expected_grads[i],
                     f"{name}_backward: d{label} (with a random upstream gradient)")

        def moved(z, i=i):
            args = list(inputs)
            args[i] = z
            return forward(*args)[0]

        assert_close(grads[i], numerical_vjp(moved, inputs[i], dout),
                     f"{name}_backward: d{label} against finite differences", FINITE_DIFFERENCE)
    for label, before, now in zip(labels, inputs, after, strict=True):
        assert isinstance(now, np.ndarray) and np.array_equal(before, now), (
            f"{name}_forward or {name}_backward modified its input {label}: work on new arrays")


@pytest.mark.question("q3")
@pytest.mark.points(3)
@pytest.mark.parametrize("n, d_in, d_out", [(N, D_IN, D_OUT), (6, 5, 2)])
def test_linear_layer(submission, reference, rng, n, d_in, d_out):
    x, W, b = random_inputs(rng, (n, d_in)), random_inputs(rng, (d_in, d_out)), \
        random_inputs(rng, (d_out,))
    check_layer(submission, reference, "linear", [x, W, b], random_upstream(rng, (n, d_out)),
                ["x", "W", "b"])


@pytest.mark.question("q4")
@pytest.mark.points(2)
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation(submission, reference, rng, name):
    x = random_inputs(rng, (N, D_OUT)) * 3
    check_layer(submission, reference, name, [x], random_upstream(rng, (N, D_OUT)), ["x"])


@pytest.mark.question("q4")
def test_relu_backward_is_zero_at_zero(submission, rng):
    x = np.array([[0.0, 1.5, -2.0], [0.0, -0.5, 3.0]])
    dout = random_upstream(rng, x.shape)
    _, dx, _ = submission.run(scenarios.layer, "relu", [x], dout)
    assert_close(dx, dout * (x > 0), "relu_backward where the input has zeros (the derivative "
                 "of relu at 0 is 0)")


def softmax_case(rng, scale=1.0):
    logits = random_inputs(rng, (N, D_OUT)) * scale
    return logits, rng.integers(0, D_OUT, N)


@pytest.mark.question("q5")
@pytest.mark.points(2)
def test_softmax_cross_entropy(submission, reference, rng):
    logits, y = softmax_case(rng, 3.0)
    loss, dlogits = submission.call("softmax_cross_entropy", logits, y)
    expected_loss, expected_dlogits = reference.softmax_cross_entropy(logits, y)
    assert_close(loss, expected_loss, f"softmax_cross_entropy loss for logits {logits.shape} "
                 "(the mean over the batch)")
    assert_close(dlogits, expected_dlogits, "softmax_cross_entropy dlogits")
    numerical = numerical_gradient(lambda z: reference.softmax_cross_entropy(z, y)[0], logits)
    assert_close(dlogits, numerical, "dlogits against finite differences of the loss",
                 FINITE_DIFFERENCE)


@pytest.mark.question("q5")
@pytest.mark.points(2)
def test_softmax_of_huge_logits_stays_finite(submission, reference, rng):
    logits, y = softmax_case(rng, 1e4)
    loss, dlogits = submission.call("softmax_cross_entropy", logits, y)
    expected_loss, expected_dlogits = reference.softmax_cross_entropy(logits, y)
    assert_close(loss, expected_loss, "softmax_cross_entropy loss for logits as large as 1e4 "
                 "(subtract each row's maximum before exp)")
    assert_close(dlogits, expected_dlogits, "softmax_cross_entropy dlogits for logits as large "
                 "as 1e4")
