"""Hidden tests of q1 (Dual arithmetic) and q2 (powers and comparisons)."""

import numpy as np
import pytest
import scenarios
from checks import all_passed, case, expect_dual, expect_finite_difference, expect_unchanged, show
from scenarios import RULES

from grader.numerics import random_inputs

METHODS = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow", "<": "lt",
           "<=": "le", ">": "gt", ">=": "ge"}
REFLECTED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def dual(rng, positive=False):
    value = float(rng.uniform(0.5, 2.0)) if positive else float(random_inputs(rng, ()) * 2)
    return ("dual", value, float(random_inputs(rng, ())))


def method(symbol, left, right):
    """The method Python calls for `left symbol right`: Dual.__add__, Dual.__radd__, ..."""
    if left[0].startswith("dual"):
        return f"Dual.__{METHODS[symbol]}__"
    if symbol in REFLECTED:
        return f"Dual.__{METHODS[REFLECTED[symbol]]}__"
    return f"Dual.__r{METHODS[symbol]}__"


def binary_text(symbol, left, right):
    return f"{show(left)} {symbol} {show(right)} ({method(symbol, left, right)})"


def run_binary(submission, reference, symbol, left, right):
    got = submission.run(scenarios.binary, symbol, left, right)
    expected = scenarios.binary(vars(reference), symbol, left, right)
    return got, expected


def reference_value(reference, symbol):
    return lambda specs: scenarios.binary(vars(reference), symbol, *specs)[1]


@pytest.mark.question("q1")
def test_dual_holds_a_value_and_a_derivative(submission):
    got = submission.run(scenarios.unary, "neg", ("dual", 2.5, -1.5))
    assert got[0] == "dual" and got[1:] == (-2.5, 1.5), (
        f"-Dual(2.5, -1.5) (Dual.__neg__) should be Dual(-2.5, 1.5), got {got}")
    constant = submission.run(lambda ns: scenarios.describe(ns, ns["Dual"](3.0)))
    assert constant == ("dual", 3.0, 0.0), (
        f"Dual(3.0) should have value 3.0 and derivative 0.0 (the default), got {constant}")


@pytest.mark.question("q1")
@pytest.mark.parametrize("symbol", ["+", "-", "*", "/"])
def test_operation_of_two_duals(submission, reference, rng, symbol):
    for _ in range(3):
        left, right = dual(rng), dual(rng, positive=symbol == "/")
        got, expected = run_binary(submission, reference, symbol, left, right)
        what = binary_text(symbol, left, right)
        expect_dual(got, expected, what, RULES[symbol])
        expect_finite_difference(got, reference_value(reference, symbol), [left, right], what)


@pytest.mark.question("q1")
@pytest.mark.points(2)
@pytest.mark.parametrize("symbol", ["+", "-", "*", "/"])
def test_constants_of_every_type_on_either_side(submission, reference, rng, symbol):
    for kind in scenarios.CONSTANTS:
        constant = (kind, float(rng.integers(2, 6)), None)
        operand = dual(rng, positive=True)
        for left, right in [(operand, constant), (constant, operand)]:
            got, expected = run_binary(submission, reference, symbol, left, right)
            expect_dual(got, expected, f"{binary_text(symbol, left, right)}, a constant of "
                        f"type {kind} on the {'right' if right is constant else 'left'}",
                        RULES[symbol])


def operand_failures(submission, cases):
    """Run each (operation, *operands) case; a message for each that changed an operand."""
    failures = []
    for name, *specs in cases:
        names = ("the left operand", "the right operand")
        if name == "neg":
            what, names = f"-x for x = {show(specs[0])} (Dual.__neg__)", ("x",)
        elif name.endswith("="):
            what = (f"y = x; y {name} {show(specs[1])} for x = {show(specs[0])} (an "
                    f"__i{METHODS[name[:-1]]}__ that updates self)")
            names = ("x", "the right operand")
        else:
            what = binary_text(name, *specs)
        with case(failures, what):
            _, before, after = submission.run(scenarios.operands_after, name, *specs)
            expect_unchanged(before, after, what, names)
    return failures


@pytest.mark.question("q1")
@pytest.mark.parametrize("symbol", ["+", "-", "*", "/", "neg"])
def test_operations_leave_their_operands_unchanged(submission, symbol):
    x, y, c = ("dual", 1.5, -0.5), ("dual", 0.75, 0.25), ("float", 3.0, None)
    if symbol == "neg":
        cases = [("neg", x)]
    else:
        cases = [(symbol, x, y), (symbol, x, c), (symbol, c, x), (symbol + "=", x, y),
                 (symbol + "=", x, c)]
    all_passed(operand_failures(submission, cases),
               f"{'-x' if symbol == 'neg' else symbol} must return a new Dual and leave its "
               f"operands as they were (the caller uses them again)")


@pytest.mark.question("q1")
def test_integer_values_and_derivatives(submission, reference):
    cases = [("+", ("dual of ints", 2, 1), ("dual of ints", 5, -3)),
             ("-", ("dual of int64", 2, 1), ("int", 7, None)),
             ("*", ("dual of ints", 3, 2), ("dual of ints", -4, 1)),
             ("/", ("dual of ints", 7, 1), ("dual of ints", 2, 3)),
             ("/", ("dual of ints", 1, 1), ("dual of ints", 0, 1)),
             ("/", ("int", 1, None), ("dual of ints", 0, 2)),
             ("*", ("dual of int64", 3_000_000_000, 1), ("dual of int64", 4_000_000_000, 1))]
    failures = []
    for symbol, left, right in cases:
        what = binary_text(symbol, left, right)
        with case(failures, what):
            got, expected = run_binary(submission, reference, symbol, left, right)
            expect_dual(got, expected, what, RULES[symbol])
    all_passed(failures, "Dual(value, deriv) given ints must store them as np.float64 "
               "(np.float64(value)): Python ints raise ZeroDivisionError at 1/0, numpy ints "
               "overflow")


@pytest.mark.question("q1")
def test_division_by_zero_follows_numpy(submission, reference):
    for left, right in [(("dual of floats", 1.0, 1.0), ("dual of floats", 0.0, 1.0)),
                        (("float", 1.0, None), ("dual of floats", 0.0, 2.0))]:
        got, expected = run_binary(submission, reference, "/", left, right)
        assert got[0] == "dual" and np.isinf(got[1]) and got[1] == expected[1], (
            f"{binary_text('/', left, right)} should be a Dual with value {expected[1]} as "
            f"numpy gives for 1/0 (store value and deriv as np.float64), got {got}")


@pytest.mark.question("q2")
@pytest.mark.points(2)
@pytest.mark.parametrize("exponent", [("int", 3, None), ("float", 2.5, None),
                                      ("float", -1.5, None), ("float32", 2.0, None),
                                      ("float64", 0.5, None)])
def test_dual_to_a_real_power(submission, reference, rng, exponent):
    base = dual(rng, positive=True)
    got, expected = run_binary(submission, reference, "**", base, exponent)
    what = binary_text("**", base, exponent)
    expect_dual(got, expected, what, "power rule: (a^c)' = c a^(c-1) a'")
    expect_finite_difference(got, reference_value(reference, "**"), [base, exponent], what)


@pytest.mark.question("q2")
@pytest.mark.points(2)
def test_negative_base_with_an_integer_power(submission, reference, rng):
    for base, power in [(("dual", -2.0, 1.0), ("int", 3, None)),
                        (("dual", -float(rng.uniform(0.5, 2)), 1.0),
                         ("float", 2.0, None))]:
        got, expected = run_binary(submission, reference, "**", base, power)
        expect_dual(got, expected, binary_text("**", base, power),
                    "power rule with a real exponent: c a^(c-1) a', no logarithm of a negative "
                    "base")


@pytest.mark.question("q2")
def test_integer_powers(submission, reference):
    base = ("dual", 1.5, -0.5)
    failures = []
    for power in [("int", -2, None), ("int", 0, None), ("int", 1, None), ("int", 4, None)]:
        what = binary_text("**", base, power)
        with case(failures, what):
            got, expected = run_binary(submission, reference, "**", base, power)
            expect_dual(got, expected, what, "power rule: (a^c)' = c a^(c-1) a', for every "
                        "integer c, negative and 0 included")
    all_passed(failures, "Dual ** int")


@pytest.mark.question("q2")
def test_powers_leave_their_operands_unchanged(submission):
    x, y = ("dual", 1.5, -0.5), ("dual", 0.75, 0.25)
    cases = [("**", x, ("int", 3, None)), ("**", x, ("float", 2.5, None)),
             ("**", ("float", 2.0, None), x), ("**", x, y), ("**=", x, ("int", 2, None)),
             ("**=", x, y)]
    all_passed(operand_failures(submission, cases),
               "** must return a new Dual and leave its operands as they were (the caller uses "
               "them again)")


@pytest.mark.question("q2")
@pytest.mark.parametrize("base", [("int", 2, None), ("float", 0.5, None),
                                  ("float32", 1.5, None)])
def test_real_to_a_dual_power(submission, reference, rng, base):
    exponent = dual(rng)
    got, expected = run_binary(submission, reference, "**", base, exponent)
    what = binary_text("**", base, exponent)
    expect_dual(got, expected, what, "rule (c^a)' = c^a log(c) a'")
    expect_finite_difference(got, reference_value(reference, "**"), [base, exponent], what)


@pytest.mark.question("q2")
@pytest.mark.points(2)
def test_dual_to_a_dual_power(submission, reference, rng):
    for _ in range(3):
        base, exponent = dual(rng, positive=True), dual(rng)
        got, expected = run_binary(submission, reference, "**", base, exponent)
        what = binary_text("**", base, exponent)
        expect_dual(got, expected, what, "rule (a^b)' = a^b (b' log a + b a' / a)")
        expect_finite_difference(got, reference_value(reference, "**"), [base, exponent], what)


@pytest.mark.question("q2")
def test_comparisons_use_values(submission, rng):
    low, high = ("dual", 1.0, 5.0), ("dual", 2.0, -5.0)
    cases = [("<", low, high, True), ("<=", low, high, True), (">", low, high, False),
             (">=", low, high, False), ("<", ("float", 1.5, None), high, True),
             (">", low, ("int", 3, None), False), ("<=", high, ("float64", 2.0, None), True),
             (">=", ("float32", 0.5, None), low, False)]
    for symbol, left, right, truth in cases:
        got = submission.run(scenarios.compare, symbol, left, right)
        assert isinstance(got, (bool, np.bool_)) and bool(got) == truth, (
            f"{binary_text(symbol, left, right)} should be {truth} (comparisons use the "
            f"values), got {got!r}")
