"""Public checks: small cases worked out by hand. Students run these in their notebook."""

import numpy as np
import pytest

from grader.numerics import assert_close

pytestmark = pytest.mark.visibility("public")


def _pair(dual):
    return (dual.value, dual.deriv) if hasattr(dual, "deriv") else ("not a Dual", repr(dual))


def _arithmetic(ns):
    Dual = ns["Dual"]
    x = Dual(2.0, 1.0)
    return [_pair(x * Dual(3.0) + 1), _pair(5 - x), _pair(1 / x)]


@pytest.mark.question("q1")
def test_arithmetic_by_hand(submission):
    product, difference, inverse = submission.run(_arithmetic)
    assert_close(np.array(product), [7.0, 3.0], "Dual(2, 1) * Dual(3) + 1 as (value, deriv)")
    assert_close(np.array(difference), [3.0, -1.0], "5 - Dual(2, 1) as (value, deriv)")
    assert_close(np.array(inverse), [0.5, -0.25], "1 / Dual(2, 1) as (value, deriv)")


def _powers(ns):
    Dual = ns["Dual"]
    return [_pair(Dual(-2.0, 1.0) ** 3), _pair(2 ** Dual(1.0, 1.0))]


@pytest.mark.question("q2")
def test_powers_by_hand(submission):
    cube, exponential = submission.run(_powers)
    assert_close(np.array(cube), [-8.0, 12.0], "Dual(-2, 1) ** 3 as (value, deriv)")
    assert_close(np.array(exponential), [2.0, 2 * np.log(2)], "2 ** Dual(1, 1) as (value, deriv)")


def _functions(ns):
    Dual = ns["Dual"]
    return [_pair(ns["sin"](Dual(0.0, 1.0))), _pair(ns["exp"](Dual(0.0, 2.0))),
            _pair(ns["relu"](Dual(-1.0, 1.0))), type(ns["sin"](0.5)).__name__]


@pytest.mark.question("q3")
def test_functions_by_hand(submission):
    sine, exponential, relu, real = submission.run(_functions)
    assert_close(np.array(sine), [0.0, 1.0], "sin(Dual(0, 1)) as (value, deriv)")
    assert_close(np.array(exponential), [1.0, 2.0], "exp(Dual(0, 2)) as (value, deriv)")
    assert_close(np.array(relu), [0.0, 0.0], "relu(Dual(-1, 1)) as (value, deriv)")
    assert real in ("float", "float64"), f"sin(0.5) should return a real number, got a {real}"


def _square(t):
    """t * t, built from t's value and derivative alone, so that this check of derivative does
    not depend on your Dual arithmetic (question 1 checks that)."""
    if not hasattr(t, "deriv"):
        return t * t  # a plain number
    return type(t)(t.value * t.value, 2 * t.value * t.deriv)


@pytest.mark.question("q4")
def test_derivative_of_a_square(submission):
    got = submission.call("derivative", _square, 3.0)
    assert_close(got, 6.0, "derivative(t -> t * t, 3.0)")


def _two_outputs(xs):
    """[x0 x1, x0 + x1], built from the inputs' values and derivatives alone (no Dual
    arithmetic: question 1 checks that)."""
    (a, da), (b, db) = [(x.value, x.deriv) for x in xs]
    Dual = type(xs[0])
    return [Dual(a * b, da * b + a * db), Dual(a + b, da + db)]


@pytest.mark.question("q5")
def test_jvp_by_hand(submission):
    fx, jv = submission.call("jvp", _two_outputs, [2.0, 3.0], [1.0, 0.0])
    assert_close(fx, np.array([6.0, 5.0]), "jvp(xs -> [x0 x1, x0 + x1], [2, 3], [1, 0]): f(x)")
    assert_close(jv, np.array([3.0, 1.0]), "jvp(xs -> [x0 x1, x0 + x1], [2, 3], [1, 0]): J v")


def _three_outputs(xs):
    """[x0 x1, x0 + x1, 2 x1], built like _two_outputs."""
    (a, da), (b, db) = [(x.value, x.deriv) for x in xs]
    Dual = type(xs[0])
    return [Dual(a * b, da * b + a * db), Dual(a + b, da + db), Dual(2 * b, 2 * db)]


@pytest.mark.question("q6")
def test_jacobian_by_hand(submission):
    got = submission.call("jacobian", _three_outputs, [2.0, 3.0])
    assert_close(got, np.array([[3.0, 2.0], [1.0, 1.0], [0.0, 2.0]]),
                 "jacobian(xs -> [x0 x1, x0 + x1, 2 x1], [2, 3]), shape (3, 2)")
