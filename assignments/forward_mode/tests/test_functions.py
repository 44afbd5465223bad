"""Hidden tests of q3 (elementary functions)."""

import numpy as np
import pytest
import scenarios
from checks import (
    all_passed,
    case,
    expect_dual,
    expect_finite_difference,
    expect_real,
    expect_unchanged,
    require,
    show,
)

from grader.numerics import FLOAT32, assert_close, random_inputs

pytestmark = pytest.mark.question("q3")
FUNCTIONS = {"sin": "cos(a) a'", "cos": "-sin(a) a'", "exp": "exp(a) a'", "log": "a' / a",
             "sqrt": "a' / (2 sqrt(a))", "tanh": "(1 - tanh(a)^2) a'",
             "sigmoid": "s(a) (1 - s(a)) a'", "relu": "a' where a > 0, else 0"}
POSITIVE = {"log", "sqrt"}
EXTREMES = [-1000.0, -400.0, 400.0, 1000.0]


def point(rng, name):
    value = float(rng.uniform(0.2, 3.0)) if name in POSITIVE else float(random_inputs(rng, ()) * 2)
    return ("dual", value, float(random_inputs(rng, ())))


def defined(submission, failures):
    """The functions of FUNCTIONS the submission defines; a failure for each missing one."""
    names = submission.names()
    for name in FUNCTIONS:
        if name not in names:
            failures.append(f"`{name}` is not defined in your submission: define it with "
                            f"exactly this name, and check that its cell runs")
    return [name for name in FUNCTIONS if name in names]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_of_a_dual(submission, reference, rng, name):
    require(submission, name)
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
    failures = []
    for name in defined(submission, failures):
        for kind in scenarios.CONSTANTS:
            operand = (kind, 2.0 if kind == "int" else float(rng.uniform(0.2, 2.0)), None)
            what = f"{name}({show(operand)}) of a real number"
            with case(failures, what):
                got = submission.run(scenarios.unary, name, operand)
                expect_real(got, scenarios.unary(vars(reference), name, operand), what,
                            FLOAT32 if kind == "float32" else None)
    all_passed(failures, "the functions of q3 given a real number (int, float, np.float64, "
               "np.float32) must return a real number")


@pytest.mark.points(2)
def test_functions_leave_their_argument_unchanged(submission):
    failures = []
    for name in defined(submission, failures):
        operands = [("dual", 0.7, -0.3)] + ([] if name in POSITIVE else [("dual", -0.6, 0.4)])
        for operand in operands:
            what = f"{name}(x) for x = {show(operand)}"
            with case(failures, what):
                _, before, after = submission.run(scenarios.operands_after, name, operand)
                expect_unchanged(before, after, what, ("x",))
    all_passed(failures, "each function of q3 must return a new Dual and leave its argument as "
               "it was (sin(x) * x must still see the old x)")


def test_relu_has_derivative_zero_at_zero(submission):
    require(submission, "relu")
    got = submission.run(scenarios.unary, "relu", ("dual", 0.0, 1.0))
    assert got[0] == "dual" and got[1:] == (0.0, 0.0), (
        f"relu(Dual(0.0, 1.0)) should be Dual(0.0, 0.0): relu's derivative at 0 is 0, got {got}")


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_bounded_functions_stay_finite_at_extremes(submission, reference, name):
    require(submission, name)
    failures = []
    for value in EXTREMES:
        for operand in [("dual", value, 0.5), ("float", value, None)]:
            what = f"{name}({show(operand)})"
            with case(failures, what):
                got = submission.run(scenarios.unary, name, operand)
                expected = scenarios.unary(vars(reference), name, operand)
                if operand[0] == "dual":
                    expect_dual(got, expected, what, f"chain rule: {name}(a)' = {FUNCTIONS[name]}")
                else:
                    expect_real(got, expected, what)
    all_passed(failures, f"{name} must stay finite for every finite input (its docstring), "
               f"its derivative too: exp of a large number is inf, and inf / inf is nan; take "
               f"exp only of numbers <= 0 (one formula for each sign), or use numpy's own")


def test_exp_overflows_to_inf_like_numpy(submission, reference):
    require(submission, "exp")
    failures = []
    for operand in [("dual", 1000.0, 1.0), ("dual", -1000.0, 1.0), ("float", 1000.0, None)]:
        what = f"exp({show(operand)})"
        with case(failures, what):
            got = submission.run(scenarios.unary, "exp", operand)
            expected = scenarios.unary(vars(reference), "exp", operand)
            assert got[0] == expected[0], f"{what} should give a {expected[0]}, got {got}"
            assert_close(np.array(got[1:], dtype=float), np.array(expected[1:], dtype=float),
                         f"{what} as (value, derivative), as numpy's exp gives (it overflows "
                         f"to inf where math.exp raises)")
    all_passed(failures, "exp must overflow to inf as numpy does, and never raise")


def test_values_outside_the_domain_follow_numpy(submission, reference):
    require(submission, "log", "sqrt")
    failures = []
    for name, value in [("log", 0.0), ("log", -1.0), ("sqrt", -1.0)]:
        operand = ("dual", value, 1.0)
        what = f"{name}({show(operand)})"
        with case(failures, what):
            got = submission.run(scenarios.unary, name, operand)
            expected = scenarios.unary(vars(reference), name, operand)
            assert got[0] == "dual" and (got[1] == expected[1] or
                                         (np.isnan(got[1]) and np.isnan(expected[1]))), (
                f"{what} should be a Dual with value {expected[1]}, as numpy gives (use "
                f"numpy's functions, not math's, which raise), got {got}")
    all_passed(failures, "log and sqrt outside their domain")
