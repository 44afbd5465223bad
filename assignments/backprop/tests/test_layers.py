"""Hidden tests of q3 (linear layer), q4 (activations) and q5 (softmax cross-entropy).

The forward-then-backward composition runs in the student's process: caches never leave it.
No layer function may change its arguments: inputs, dout, or (through backward) its cache.
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


def check_unchanged(function: str, label: str, before, now, hint: str) -> None:
    same = (isinstance(now, np.ndarray) and np.shape(now) == np.shape(before)
            and np.array_equal(before, now))
    assert same, f"{function} modified its argument {label} in place: {hint}"


def check_layer(submission, reference, name, inputs, dout, labels, finite_differences=True,
                about=""):
    """Forward and backward of one layer against the reference (and finite differences), with
    the arguments of both left as they were, and backward giving the same twice."""
    out, grads, again, after, dout_after = submission.run(scenarios.layer, name, inputs, dout)
    expected_out, expected_grads, *_ = scenarios.layer(vars(reference), name, inputs, dout)
    for label, before, now in zip(labels, inputs, after, strict=True):
        check_unchanged(f"{name}_forward or {name}_backward", label, before, now,
                        "work on new arrays (e.g. np.maximum(x, 0), not x[x < 0] = 0)")
    check_unchanged(f"{name}_backward", "dout", dout, dout_after,
                    "the upstream gradient may be used again by the caller: return a new array")
    shapes = " and ".join(f"{label} {np.shape(x)}" for label, x in zip(labels, inputs,
                                                                          strict=True))
    assert_close(out, expected_out, f"{name}_forward with {shapes}{about}: out")
    grads, again, expected_grads = as_tuple(grads), as_tuple(again), as_tuple(expected_grads)
    wanted = ", ".join("d" + label for label in labels)
    assert len(grads) == len(expected_grads), (
        f"{name}_backward should return {wanted}; got {len(grads)} value(s)")
    forward = getattr(reference, f"{name}_forward")
    for i, label in enumerate(labels):
        assert_close(grads[i], expected_grads[i],
                     f"{name}_backward{about}: d{label} (with a random upstream gradient)")
        if finite_differences:

            def moved(z, i=i):
                args = list(inputs)
                args[i] = z
                return forward(*args)[0]

            assert_close(grads[i], numerical_vjp(moved, inputs[i], dout),
                         f"{name}_backward: d{label} against finite differences",
                         FINITE_DIFFERENCE)
    assert len(again) == len(grads), f"{name}_backward returned a different number of values " \
                                     "when called a second time with the same cache"
    for i, label in enumerate(labels):
        assert_close(again[i], grads[i],
                     f"{name}_backward called a second time with the same cache and an equal "
                     f"dout: d{label} (the first call changed its cache in place, or what the "
                     f"cache holds)")


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


EXTREME_X = np.array([[-1e4, -1000.0, -750.0, -40.0, 0.5, 40.0, 750.0, 1000.0, 1e4],
                      [1e4, 1000.0, 710.0, 40.0, -0.5, -40.0, -710.0, -1000.0, -1e4]])


@pytest.mark.question("q4")
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_at_extremes(submission, reference, rng, name):
    check_layer(submission, reference, name, [EXTREME_X], random_upstream(rng, EXTREME_X.shape),
                ["x"], finite_differences=False,
                about=" at x = ±40, ±710, ±750, ±1000, ±1e4 (the docstring promises exact "
                      "values for any finite x: np.exp(1000) is inf and inf / inf is nan; "
                      "only evaluate exp of numbers <= 0, e.g. with np.logaddexp)")


INTEGER_X = np.array([[-3, -1, 0, 2, 5], [4, 1, -2, 0, -5]])


@pytest.mark.question("q4")
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_of_an_integer_array(submission, reference, rng, name):
    check_layer(submission, reference, name, [INTEGER_X], random_upstream(rng, INTEGER_X.shape),
                ["x"], finite_differences=False,
                about=" for an integer array x (the docstring accepts integers: an array "
                      "made by np.zeros_like(x) or np.empty_like(x) is an integer array too, "
                      "and truncates what is stored in it)")


@pytest.mark.question("q4")
def test_relu_backward_is_zero_at_zero(submission, rng):
    x = np.array([[0.0, 1.5, -2.0], [0.0, -0.5, 3.0]])
    dout = random_upstream(rng, x.shape)
    _, dx, *_ = submission.run(scenarios.layer, "relu", [x], dout)
    assert_close(dx, dout * (x > 0), "relu_backward where the input has zeros (the derivative "
                 "of relu at 0 is 0)")


def check_softmax(submission, reference, logits, y, about, finite_differences=True):
    """softmax_cross_entropy against the reference, with logits and y left as they were."""
    value, after = submission.call_with_inputs("softmax_cross_entropy", logits, y)
    check_unchanged("softmax_cross_entropy", "logits", logits, after[0],
                    "shift a copy (shifted = logits - max), never logits -= max")
    check_unchanged("softmax_cross_entropy", "y", y, after[1], "leave the labels alone")
    assert isinstance(value, (tuple, list)) and len(value) == 2, (
        "softmax_cross_entropy should return (loss, dlogits)")
    loss, dlogits = value
    expected_loss, expected_dlogits = reference.softmax_cross_entropy(logits, y)
    assert_close(loss, expected_loss, f"softmax_cross_entropy loss {about} (the mean over the "
                 f"batch)")
    assert_close(dlogits, expected_dlogits, f"softmax_cross_entropy dlogits {about}")
    if finite_differences:
        numerical = numerical_gradient(lambda z: reference.softmax_cross_entropy(z, y)[0],
                                       logits)
        assert_close(dlogits, numerical, "softmax_cross_entropy dlogits against finite "
                     "differences of the loss", FINITE_DIFFERENCE)


@pytest.mark.question("q5")
@pytest.mark.points(2)
def test_softmax_cross_entropy(submission, reference, rng):
    logits = random_inputs(rng, (N, D_OUT)) * 3
    check_softmax(submission, reference, logits, rng.integers(0, D_OUT, N),
                  f"for logits {logits.shape}")
    check_softmax(submission, reference, rng.integers(-4, 5, (N, D_OUT)),
                  rng.integers(0, D_OUT, N), "for integer logits (the docstring accepts them)",
                  finite_differences=False)


# Rows whose true class lies far below the maximum: exp of its shifted logit underflows to 0,
# so -log(softmax) of it is inf; and a row whose logits are all far below 0: exp of each
# underflows to 0 unless the maximum is subtracted first.
EXTREME_LOGITS = np.array([[1e4, 0.0, -1e4, 5e3, -5e3],
                           [-1e4, -1e4 + 1, -1e4 + 2, -1e4 + 3, -1e4 + 4],
                           [3.0, -800.0, 1e4, 1e4, -2e3],
                           [-1e3, 2e3, -3e3, 4e3, 1e3]])
EXTREME_LABELS = np.array([2, 0, 1, 2])
LOG_SUM_EXP = ("compute the log-probabilities as shifted - log(sum(exp(shifted))) with "
               "shifted = logits - max, never as the log of a probability, which underflows to "
               "0 when a logit lies far below the maximum")


@pytest.mark.question("q5")
@pytest.mark.points(2)
def test_softmax_of_extreme_logits(submission, reference, rng):
    check_softmax(submission, reference, EXTREME_LOGITS, EXTREME_LABELS,
                  f"for logits as large as 1e4 with the true class far below the maximum "
                  f"(row 0: {EXTREME_LOGITS[0].tolist()}, label {EXTREME_LABELS[0]}; "
                  f"{LOG_SUM_EXP})", finite_differences=False)
    logits = random_inputs(rng, (N, D_OUT)) * 1e4
    check_softmax(submission, reference, logits, np.argmin(logits, axis=1),
                  f"for random logits of size up to 1e4 whose true class is the smallest "
                  f"({LOG_SUM_EXP})", finite_differences=False)
