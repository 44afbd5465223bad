"""Hidden tests of q3 (elementary functions)."""

import numpy as np
import pytest
import scenarios
from checks import expect_dual, expect_finite_difference, expect_real, show

from grader.numerics import random_inputs

pytestmark = pytest.mark.question("q3")
FUNCTIONS = {"sin": "cos(a) a'", "cos": "-sin(a) a'", "exp": "exp(a) a'", "log": "a' / a",
             "sqrt": "a' / (2 sqrt(a))", "tanh": "(1 - tanh(a)^2) a'",
             "sigmoid": "s(a) (1 - s(a)) a'", "relu": "a' where a > 0, else 0"}
POSITIVE = {"log", "sqrt"}


def point(rng, name):
    value = float(rng.uniform(0.2, 3.0)) if name in POSITIVE else float(random_inputs(rng, ()) * 2)
    return ("dual", value, float(random_inputs(rng, ())))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_of_a_dual(submission, reference, rng, name):
    for _ in range(3):
        operand = point(rng, name)
        got = submission.run(scenarios.unary, name, operand)
        expected = scenarios.unary(vars(reference), name, operand)
        what = f"{name}({show(operand)})"
        expect_dual(got, expected, what, f"chain rule: {name}(a)' = {FUNCTIONS[name]}")
        expect_finite_difference(
            got, lambda specs: scenarios.unary(vars(reference), name, specs[0])[1],
            [operand], what)


def test_functions_of_reals_return_reals(submission, reference, rng):
    for name in FUNCTIONS:
        kind = ["float", "int", "float64", "float32"][int(rng.integers(0, 4))]
        operand = (kind, 2.0 if kind == "int" else float(rng.uniform(0.2, 2.0)), None)
        got = submission.run(scenarios.unary, name, operand)
        expect_real(got, scenarios.unary(vars(reference), name, operand),
                    f"{name}({show(operand)}) of a real number")


def test_relu_has_derivative_zero_at_zero(submission):
    got = submission.run(scenarios.unary, "relu", ("dual", 0.0, 1.0))
    assert got[0] == "dual" and got[1:] == (0.0, 0.0), (
        f"relu(Dual(0.0, 1.0)) should be Dual(0.0, 0.0): relu's derivative at 0 is 0, got {got}")


def test_values_outside_the_domain_follow_numpy(submission, reference):
    for name, value in [("log", 0.0), ("log", -1.0), ("sqrt", -1.0)]:
        operand = ("dual", value, 1.0)
        got = submission.run(scenarios.unary, name, operand)
        expected = scenarios.unary(vars(reference), name, operand)
        assert got[0] == "dual" and (got[1] == expected[1] or
                                     (np.isnan(got[1]) and np.isnan(expected[1]))), (
            f"{name}({show(operand)}) should be a Dual with value {expected[1]}, as numpy gives "
            f"(use numpy's functions, not math's, which raise), got {got}")
