"""Hidden tests of q2 (numerical gradient) and q3 (numerical Jacobian).

The student's code receives plain functions over random coefficients (cases.py); exact
gradients and Jacobians come from the same coefficients, here (exact.py). Every value test
includes a function on which a forward difference is far off on every element (a bowl, a map
of squares), so that such a bug fails the same tests on every draw.
"""

import exact
import numpy as np
import pytest
from cases import (
    bowl,
    bowl_coefficients,
    landscape,
    landscape_coefficients,
    layer,
    layer_coefficients,
    one_element_at_a_time,
    outputs_shaped,
    squares_map,
    squares_map_coefficients,
)

from grader.numerics import FINITE_DIFFERENCE, as_numeric_array, assert_close, random_inputs
from grader.sandbox import StudentError

SHAPES = [(3, 4), (5,), (2, 3, 2)]


def integer_hint(submission, name, f, x, expected) -> str:
    """A hint when the function is right on x as floats: then only the integers break it."""
    try:
        assert_close(submission.call(name, f, x.astype(float)), expected, name)
    except (AssertionError, StudentError):
        return ""
    return (f"\n  hint: {name} is right for the same x as floats: in an integer array, "
            f"x[i] = old + h stores int(old + h), so the step is lost (or becomes a whole 1); "
            f"work on a float copy, np.array(x, dtype=float)")


def scalar_functions(rng, x):
    """(f, description, exact gradient at x) for the q2 tests: a landscape of sines and
    squares, and a bowl on which a forward difference always errs by h * C."""
    (A, B), (C, m) = landscape_coefficients(rng, np.shape(x)), bowl_coefficients(rng, x)
    return [(landscape(A, B), "f = sum(sin(A x)) + sum(B x^2)",
             exact.landscape_gradient(A, B, x)),
            (bowl(C, m), "f = sum(C (x - m)^2), a bowl with its bottom m near x",
             exact.bowl_gradient(C, m, x))]


@pytest.mark.question("q2")
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gradient_matches_the_formula(submission, reference, rng, shape):
    x = random_inputs(rng, shape)
    for f, described, _ in scalar_functions(rng, x):
        assert_close(submission.call("numerical_gradient", f, x),
                     reference.numerical_gradient(f, x),
                     f"numerical_gradient(f, x) for x of shape {shape} and {described}")


@pytest.mark.question("q2")
def test_gradient_matches_the_derivative(submission, rng):
    x = random_inputs(rng, (4, 3))
    for f, described, gradient in scalar_functions(rng, x):
        assert_close(submission.call("numerical_gradient", f, x, 1e-5), gradient,
                     f"numerical_gradient(f, x, h=1e-5) against the exact gradient of "
                     f"{described}", FINITE_DIFFERENCE)


@pytest.mark.question("q2")
def test_gradient_uses_the_given_step(submission, reference, rng):
    x = random_inputs(rng, (3, 4))
    for f, described, _ in scalar_functions(rng, x):
        assert_close(submission.call("numerical_gradient", f, x, 0.1),
                     reference.numerical_gradient(f, x, 0.1),
                     f"numerical_gradient(f, x, h=0.1) for {described} (with a step this "
                     f"large the centered difference differs from the derivative: use the h "
                     f"you are given)")


@pytest.mark.question("q2")
def test_gradient_of_integer_inputs(submission, reference, rng):
    x = rng.integers(-2, 3, (2, 3))
    for f, described, _ in scalar_functions(rng, x):
        name = "numerical_gradient"
        got, (_, after, *_) = submission.call_with_inputs(name, f, x)
        expected = reference.numerical_gradient(f, x.astype(float))
        try:
            assert_close(got, expected, f"numerical_gradient(f, x) for an integer x of shape "
                         f"(2, 3) (as np.arange gives) and {described}")
        except AssertionError as error:
            hint = integer_hint(submission, name, f, x, expected)
            raise AssertionError(f"{error}{hint}") from None
        assert isinstance(after, np.ndarray) and np.array_equal(after, x), (
            "numerical_gradient changed the integer x it was given: work on a float copy")


@pytest.mark.question("q2")
@pytest.mark.points(2)
def test_gradient_leaves_x_exactly_as_it_was(submission, rng):
    f, x = landscape(*landscape_coefficients(rng, (3, 4))), random_inputs(rng, (3, 4))
    _, (_, after, *_) = submission.call_with_inputs("numerical_gradient", f, x)
    assert isinstance(after, np.ndarray) and after.dtype == x.dtype and np.array_equal(after, x), (
        "after numerical_gradient returned, x did not hold exactly its original values: "
        "perturb a copy, or put back the value you saved (x[i] = old), not x[i] -= h")


@pytest.mark.question("q2")
def test_gradient_moves_one_element_at_a_time(submission, rng):
    x = random_inputs(rng, (3, 4))
    f = one_element_at_a_time(landscape(*landscape_coefficients(rng, (3, 4))), x.copy())
    what = "numerical_gradient(f, x) for x of shape (3, 4)"
    got = as_numeric_array(submission.call("numerical_gradient", f, x), what, x)
    assert np.all(np.isfinite(got)), (
        f"{what}: f was called with an x that differed from the original x in more than one "
        f"element (or in shape), and answered nan ({int(np.sum(~np.isfinite(got)))} of "
        f"{got.size} elements are nan): each evaluation must move exactly one element by h "
        f"from the original values; put each element back (x[i] = old) before moving the "
        f"next, in a copy as well")


def vector_maps(rng, x, outputs):
    """(f, description, exact Jacobian at x) for the q3 tests: a tanh layer, and a map of
    squares on which a forward difference always errs by h * W."""
    (W, b), (V, m) = layer_coefficients(rng, np.size(x), outputs), squares_map_coefficients(
        rng, x, outputs)
    return [(layer(W, b), "f = tanh(W @ x + b)", exact.layer_jacobian(W, b, x)),
            (squares_map(V, m), "f = W @ (x - m)^2 with m near x",
             exact.squares_map_jacobian(V, m, x))]


@pytest.mark.question("q3")
@pytest.mark.points(2)
@pytest.mark.parametrize("inputs, outputs", [(3, 5), (4, 2)])
def test_jacobian_matches_the_formula(submission, reference, rng, inputs, outputs):
    x = random_inputs(rng, (inputs,))
    for f, described, _ in vector_maps(rng, x, outputs):
        assert_close(submission.call("numerical_jacobian", f, x),
                     reference.numerical_jacobian(f, x),
                     f"numerical_jacobian(f, x) for {described} from {inputs} inputs to "
                     f"{outputs} outputs (expected shape ({outputs}, {inputs}): one row per "
                     f"output)")


@pytest.mark.question("q3")
def test_jacobian_flattens_array_inputs(submission, reference, rng):
    x = random_inputs(rng, (2, 3))
    for f, described, jacobian in vector_maps(rng, x, 4):
        got = submission.call("numerical_jacobian", f, x)
        what = (f"numerical_jacobian(f, x) for {described}, x of shape (2, 3) and 4 outputs "
                f"(expected shape (4, 6): inputs flattened in numpy's order)")
        assert_close(got, reference.numerical_jacobian(f, x), what)
        assert_close(got, jacobian, what + " against the exact Jacobian", FINITE_DIFFERENCE)


@pytest.mark.question("q3")
def test_jacobian_flattens_array_outputs(submission, reference, rng):
    x = random_inputs(rng, (4,))
    for f, described, _ in vector_maps(rng, x, 6):
        f = outputs_shaped(f, (2, 3))
        assert_close(submission.call("numerical_jacobian", f, x),
                     reference.numerical_jacobian(f, x),
                     f"numerical_jacobian(f, x) for {described} reshaped to an output of "
                     f"shape (2, 3), and x of shape (4,) (expected shape (6, 4): outputs "
                     f"flattened in numpy's order, one row each)")


@pytest.mark.question("q3")
def test_jacobian_of_integer_inputs(submission, reference, rng):
    x = rng.integers(-1, 2, 4)
    for f, described, _ in vector_maps(rng, x, 3):
        name = "numerical_jacobian"
        got = submission.call(name, f, x)
        expected = reference.numerical_jacobian(f, x.astype(float))
        try:
            assert_close(got, expected, f"numerical_jacobian(f, x) for an integer x of shape "
                         f"(4,) and {described} with 3 outputs")
        except AssertionError as error:
            hint = integer_hint(submission, name, f, x, expected)
            raise AssertionError(f"{error}{hint}") from None


@pytest.mark.question("q3")
def test_jacobian_leaves_x_alone(submission, rng):
    (W, b), x = layer_coefficients(rng, 6, 4), random_inputs(rng, (2, 3))
    f = one_element_at_a_time(layer(W, b), x.copy())
    what = "numerical_jacobian(f, x) for x of shape (2, 3) and 4 outputs"
    got, (_, after, *_) = submission.call_with_inputs("numerical_jacobian", f, x)
    assert isinstance(after, np.ndarray) and np.array_equal(after, x), (
        f"{what} changed x: after it returned, x did not hold its original values (perturb a "
        f"copy, or put back the value you saved)")
    got = as_numeric_array(got, what, np.zeros((4, 6)))
    assert np.all(np.isfinite(got)), (
        f"{what}: f was called with an x that differed from the original x in more than one "
        f"element (or in shape), and answered nan: each evaluation must move exactly one "
        f"element by h from the original values; put each element back before moving the "
        f"next, in a copy as well")
