"""Hidden tests of q4 (derivative), q5 (jvp) and q6 (jacobian).

The maps the student's functions receive are built in the student's process from their
inputs alone (scenarios.derivative_of_wave, scenarios.through_tanh_map); what they should
give is computed here, from the same inputs. How often the student calls a map shows in the
answer itself: a call beyond the one (or n) forward passes evaluates another map, so an
answer built from it is wrong, and the count is out of reach of student code.
"""

import numpy as np
import pytest
import scenarios

from grader.numerics import assert_close, random_inputs


def tanh_map(W, b, x, factor=1.0):
    """tanh(factor W x + b) and its Jacobian: what the maps of through_tanh_map compute."""
    y = np.tanh(factor * (W @ x) + b)
    return y, (1 - y ** 2)[:, None] * (factor * W)


def close(got, expected) -> bool:
    try:
        assert_close(got, expected, "")
    except AssertionError:
        return False
    return True


@pytest.mark.question("q4")
@pytest.mark.points(2)
def test_derivative_in_one_pass(submission, rng):
    a, x = float(rng.uniform(0.5, 2)), float(random_inputs(rng, ()) * 2)
    shift = float(rng.uniform(1, 2))  # what a second call of g adds to its derivative
    got = submission.run(scenarios.derivative_of_wave, a, shift, 1, x)
    exact = a * np.cos(a * x) + 3 * x * x
    what = f"derivative(g, {x:.4g}) for g(t) = sin({a:.3g} t) + t^3"
    assert not (close(got, exact + shift) and not close(got, exact)), (
        f"{what} called g more than once: its answer comes from a later call (the test's g "
        f"changes after the first), and one forward pass calls g once")
    assert_close(got, exact, what)


@pytest.mark.question("q4")
def test_derivative_of_a_constant_function(submission):
    got = submission.run(lambda ns: ns["derivative"](lambda t: 3.0, 2.0))
    assert_close(got, 0.0, "derivative(lambda t: 3.0, 2.0), a function that returns a plain "
                 "number")


def _polynomial(t):
    return t * t * t - 2 * t + 1


@pytest.mark.question("q4")
def test_derivative_of_a_polynomial(submission, rng):
    x = float(random_inputs(rng, ()) * 2)
    got = submission.run(lambda ns, x: ns["derivative"](_polynomial, x), x)
    assert_close(got, 3 * x * x - 2, f"derivative(t -> t^3 - 2t + 1, {x:.4g})")


def tanh_inputs(rng, inputs, outputs):
    """W, b of a map from `inputs` to `outputs`, and the factor of its calls past the budget."""
    W, b = rng.standard_normal((outputs, inputs)), rng.standard_normal(outputs)
    return W, b, float(rng.uniform(1.5, 2.5))


@pytest.mark.question("q5")
@pytest.mark.points(2)
@pytest.mark.parametrize("inputs, outputs", [(3, 5), (4, 2)])
def test_jvp_of_a_non_square_map(submission, rng, inputs, outputs):
    W, b, later = tanh_inputs(rng, inputs, outputs)
    x, v = random_inputs(rng, (inputs,)), rng.standard_normal(inputs)
    fx, jv = submission.run(scenarios.through_tanh_map, "jvp", W, b, False, 1, later,
                            list(x), list(v))
    value, J = tanh_map(W, b, x)
    later_value, later_J = tanh_map(W, b, x, later)
    what = f"jvp(f, x, v) for f from {inputs} inputs to {outputs} outputs"
    for got, right, wrong, name in [(fx, value, later_value, "f(x)"),
                                    (jv, J @ v, later_J @ v, "J(x) v")]:
        assert not (close(got, wrong) and not close(got, right)), (
            f"{what} called f more than once: its {name} comes from a later call (the test's "
            f"f changes after the first), and one forward pass calls f once")
    assert_close(fx, value, f"{what}: f(x), the first array")
    assert_close(jv, J @ v, f"{what}: J(x) v, the second array")


@pytest.mark.question("q5")
def test_jvp_of_a_single_output(submission, rng):
    W, b, later = tanh_inputs(rng, 3, 1)
    x, v = random_inputs(rng, (3,)), rng.standard_normal(3)
    fx, jv = submission.run(scenarios.through_tanh_map, "jvp", W, b, True, None, later,
                            list(x), list(v))
    value, J = tanh_map(W, b, x)
    what = "jvp(f, x, v) where f returns one Dual (not a list)"
    assert_close(fx, value, f"{what}: f(x), an array of shape (1,)")
    assert_close(jv, J @ v, f"{what}: J(x) v, an array of shape (1,)")


@pytest.mark.question("q6")
@pytest.mark.points(2)
@pytest.mark.parametrize("inputs, outputs", [(3, 5), (4, 2)])
def test_jacobian_of_a_non_square_map(submission, rng, inputs, outputs):
    W, b, later = tanh_inputs(rng, inputs, outputs)
    x = random_inputs(rng, (inputs,))
    got = submission.run(scenarios.through_tanh_map, "jacobian", W, b, False, inputs, later,
                         list(x))
    _, J = tanh_map(W, b, x)
    _, later_J = tanh_map(W, b, x, later)
    if isinstance(got, np.ndarray) and got.shape == J.shape:
        extra = [j for j in range(inputs)
                 if close(got[:, j], later_J[:, j]) and not close(got[:, j], J[:, j])]
        assert not extra, (
            f"jacobian(f, x) called f more than {inputs} times: column"
            f"{'s' if len(extra) > 1 else ''} {', '.join(map(str, extra))} came from calls "
            f"after the first {inputs} (the test's f changes then); with {inputs} inputs it "
            f"needs exactly {inputs} forward passes, one per input direction")
    assert_close(got, J, f"jacobian(f, x) for f from {inputs} inputs to {outputs} outputs "
                 f"(expected shape ({outputs}, {inputs}): row i is output i)")


@pytest.mark.question("q6")
def test_jacobian_of_a_single_output(submission, rng):
    W, b, later = tanh_inputs(rng, 3, 1)
    x = random_inputs(rng, (3,))
    got = submission.run(scenarios.through_tanh_map, "jacobian", W, b, True, None, later,
                         list(x))
    assert isinstance(got, np.ndarray) and got.shape == (1, 3), (
        f"jacobian(f, x) for f returning one Dual from 3 inputs should have shape (1, 3), got "
        f"{getattr(got, 'shape', type(got).__name__)}")
    assert_close(got, tanh_map(W, b, x)[1], "jacobian(f, x) for f returning one Dual from 3 "
                 "inputs")
