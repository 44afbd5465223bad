"""Hidden tests of q2 (numerical gradient), q3 (numerical Jacobian) and q5 (gradient check).

The student's code receives plain functions over random coefficients (cases.py); exact
gradients and Jacobians come from the same coefficients, here (exact.py).
"""

import exact
import numpy as np
import pytest
from cases import given, landscape, landscape_coefficients, layer, layer_coefficients

from grader.numerics import FINITE_DIFFERENCE, assert_close, random_inputs

SHAPES = [(3, 4), (5,), (2, 3, 2)]


@pytest.mark.question("q2")
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gradient_matches_the_formula(submission, reference, rng, shape):
    f, x = landscape(*landscape_coefficients(rng, shape)), random_inputs(rng, shape)
    assert_close(submission.call("numerical_gradient", f, x), reference.numerical_gradient(f, x),
                 f"numerical_gradient(f, x) for x of shape {shape}")


@pytest.mark.question("q2")
def test_gradient_matches_the_derivative(submission, rng):
    (A, B), x = landscape_coefficients(rng, (4, 3)), random_inputs(rng, (4, 3))
    assert_close(submission.call("numerical_gradient", landscape(A, B), x, 1e-5),
                 exact.landscape_gradient(A, B, x),
                 "numerical_gradient(f, x, h=1e-5) against the exact gradient", FINITE_DIFFERENCE)


@pytest.mark.question("q2")
@pytest.mark.points(2)
def test_gradient_leaves_x_exactly_as_it_was(submission, rng):
    f, x = landscape(*landscape_coefficients(rng, (3, 4))), random_inputs(rng, (3, 4))
    _, (_, after, *_) = submission.call_with_inputs("numerical_gradient", f, x)
    assert isinstance(after, np.ndarray) and after.dtype == x.dtype and np.array_equal(after, x), (
        "after numerical_gradient returned, x did not hold exactly its original values: "
        "perturb a copy, or put back the value you saved (x[i] = old), not x[i] -= h")


@pytest.mark.question("q3")
@pytest.mark.points(2)
@pytest.mark.parametrize("inputs, outputs", [(3, 5), (4, 2)])
def test_jacobian_matches_the_formula(submission, reference, rng, inputs, outputs):
    f, x = layer(*layer_coefficients(rng, inputs, outputs)), random_inputs(rng, (inputs,))
    assert_close(submission.call("numerical_jacobian", f, x), reference.numerical_jacobian(f, x),
                 f"numerical_jacobian(f, x) for f from {inputs} inputs to {outputs} outputs "
                 f"(expected shape ({outputs}, {inputs}): one row per output)")


@pytest.mark.question("q3")
def test_jacobian_flattens_array_inputs(submission, rng):
    (W, b), x = layer_coefficients(rng, 6, 4), random_inputs(rng, (2, 3))
    f = layer(W, b)
    got = submission.call("numerical_jacobian", f, x)
    assert_close(got, exact.layer_jacobian(W, b, x), "numerical_jacobian(f, x) for x of shape "
                 "(2, 3) and 4 outputs, against the exact Jacobian (expected shape (4, 6))",
                 FINITE_DIFFERENCE)
    _, (_, after) = submission.call_with_inputs("numerical_jacobian", f, x)
    assert np.array_equal(after, x), "numerical_jacobian changed x"


def checked(rng, shape):
    """f, x and the exact gradient at x: gradcheck is given it (or a wrong multiple of it) as
    the function returning it at x, where gradcheck evaluates it; what gradcheck should answer
    is decided here."""
    (A, B), x = landscape_coefficients(rng, shape), random_inputs(rng, shape)
    return landscape(A, B), x, exact.landscape_gradient(A, B, x)


@pytest.mark.question("q5")
def test_gradcheck_accepts_a_correct_gradient(submission, rng):
    for shape in [(3, 4), (6,)]:
        f, x, gradient = checked(rng, shape)
        verdict = submission.call("gradcheck", f, given(gradient), x)
        assert isinstance(verdict, (bool, np.bool_)) and verdict, (
            f"gradcheck returned {verdict!r} for a correct gradient (x of shape {shape}): "
            "it should return True")


@pytest.mark.question("q5")
@pytest.mark.points(2)
@pytest.mark.parametrize("factor", [1.01, 0.99, -1.0])
def test_gradcheck_rejects_a_wrong_gradient(submission, rng, factor):
    f, x, gradient = checked(rng, (3, 4))
    verdict = submission.call("gradcheck", f, given(factor * gradient), x)
    assert isinstance(verdict, (bool, np.bool_)) and not verdict, (
        f"gradcheck returned {verdict!r} for a gradient wrong by a factor {factor:g}: it should "
        "return False (check |g - n| <= atol + rtol |n| element by element, with the given "
        "tolerances)")


@pytest.mark.question("q5")
def test_gradcheck_uses_the_given_tolerances(submission, rng):
    f, x, gradient = checked(rng, (2, 3))
    loose = submission.call("gradcheck", f, given(1.01 * gradient), x, 1e-6, 1.0, 0.0)
    strict = submission.call("gradcheck", f, given(gradient), x, 1e-6, 0.0, 1e-12)
    assert loose, "with atol=1.0 a gradient wrong by 1% passes: gradcheck ignored atol"
    assert not strict, "with rtol=1e-12 and atol=0 nothing numerical passes: gradcheck ignored rtol"
