"""Hidden tests of q4 (derivative), q5 (jvp) and q6 (jacobian)."""

import numpy as np
import pytest
import scenarios

from grader.numerics import assert_close, random_inputs


@pytest.mark.question("q4")
@pytest.mark.points(2)
def test_derivative_in_one_pass(submission, rng):
    g, x = scenarios.Scalar(float(rng.uniform(0.5, 2))), float(random_inputs(rng, ()) * 2)
    got, calls = submission.run(scenarios.counted, "derivative", g, x)
    assert_close(got, g.derivative(x), f"derivative(g, {x:.4g}) for g(t) = sin({g.a:.3g} t) + t^3")
    assert calls == 1, f"derivative(f, x) called f {calls} times: one forward pass calls it once"


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


def manual(rng, inputs, outputs, single=False):
    return scenarios.Manual(rng.standard_normal((outputs, inputs)), rng.standard_normal(outputs),
                            single)


@pytest.mark.question("q5")
@pytest.mark.points(2)
@pytest.mark.parametrize("inputs, outputs", [(3, 5), (4, 2)])
def test_jvp_of_a_non_square_map(submission, rng, inputs, outputs):
    f, x = manual(rng, inputs, outputs), random_inputs(rng, (inputs,))
    v = rng.standard_normal(inputs)
    (fx, jv), calls = submission.run(scenarios.counted, "jvp", f, list(x), list(v))
    what = f"jvp(f, x, v) for f from {inputs} inputs to {outputs} outputs"
    assert_close(fx, f.value(x), f"{what}: f(x), the first array")
    assert_close(jv, f.jacobian(x) @ v, f"{what}: J(x) v, the second array")
    assert calls == 1, f"{what} called f {calls} times: one forward pass calls it once"


@pytest.mark.question("q5")
def test_jvp_of_a_single_output(submission, rng):
    f, x, v = manual(rng, 3, 1, single=True), random_inputs(rng, (3,)), rng.standard_normal(3)
    (fx, jv), _ = submission.run(scenarios.counted, "jvp", f, list(x), list(v))
    what = "jvp(f, x, v) where f returns one Dual (not a list)"
    assert_close(fx, f.value(x), f"{what}: f(x), an array of shape (1,)")
    assert_close(jv, f.jacobian(x) @ v, f"{what}: J(x) v, an array of shape (1,)")


@pytest.mark.question("q6")
@pytest.mark.points(2)
@pytest.mark.parametrize("inputs, outputs", [(3, 5), (4, 2)])
def test_jacobian_of_a_non_square_map(submission, rng, inputs, outputs):
    f, x = manual(rng, inputs, outputs), random_inputs(rng, (inputs,))
    got, calls = submission.run(scenarios.counted, "jacobian", f, list(x))
    assert_close(got, f.jacobian(x), f"jacobian(f, x) for f from {inputs} inputs to {outputs} "
                 f"outputs (expected shape ({outputs}, {inputs}): row i is output i)")
    assert calls == inputs, (f"jacobian(f, x) called f {calls} times; with {inputs} inputs it "
                             f"needs exactly {inputs} forward passes, one per input direction")


@pytest.mark.question("q6")
def test_jacobian_of_a_single_output(submission, rng):
    f, x = manual(rng, 3, 1, single=True), random_inputs(rng, (3,))
    got, _ = submission.run(scenarios.counted, "jacobian", f, list(x))
    assert isinstance(got, np.ndarray) and got.shape == (1, 3), (
        f"jacobian(f, x) for f returning one Dual from 3 inputs should have shape (1, 3), got "
        f"{getattr(got, 'shape', type(got).__name__)}")
    assert_close(got, f.jacobian(x), "jacobian(f, x) for f returning one Dual from 3 inputs")
