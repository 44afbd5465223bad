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
from checks import all_passed, case, require, same, shown

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
    require(submission, "derivative")
    a, x = float(rng.uniform(0.5, 2)), float(random_inputs(rng, ()) * 2)
    shift = float(rng.uniform(1, 2))  # what a second call of g adds to its derivative
    got = submission.run(scenarios.derivative_of_wave, a, shift, 1, x)
    exact = a * np.cos(a * x) + 3 * x * x
    what = f"derivative(g, {x:.4g}) for g(t) = sin({a:.3g} t) + t^3"
    assert not (close(got, exact + shift) and not close(got, exact)), (
        f"{what} called g more than once: its answer comes from a later call (the test's g "
        f"changes after the first), and one forward pass calls g once")
    assert_close(got, exact, what)


def _three(t):
    return 3


def _three_point_five(t):
    return np.float64(3.5)


@pytest.mark.question("q4")
def test_derivative_of_a_constant_function(submission):
    require(submission, "derivative")
    failures = []
    for f, text in [(lambda t: 3.0, "lambda t: 3.0"), (_three, "lambda t: 3"),
                    (_three_point_five, "lambda t: np.float64(3.5)")]:
        what = f"derivative({text}, 2.0), a function that returns a plain number"
        with case(failures, what):
            assert_close(submission.call("derivative", f, 2.0), 0.0, what)
    all_passed(failures, "derivative(f, x) of an f that returns a plain number (int or float) "
               "must be 0")


@pytest.mark.question("q4")
def test_derivative_at_integer_points(submission, rng):
    require(submission, "derivative")
    a = float(rng.uniform(0.5, 2))
    failures = []
    for x, text in [(2, "2"), (np.int64(-1), "np.int64(-1)"), (0, "0")]:
        what = f"derivative(g, {text}) for g(t) = sin({a:.3g} t) + t^3, at an int x"
        with case(failures, what):
            got = submission.run(scenarios.derivative_of_wave, a, 0.0, None, x)
            assert_close(got, a * np.cos(a * x) + 3 * x * x, what)
    all_passed(failures, "derivative(f, x) must accept an int x, as the float of the same value")


def tanh_inputs(rng, inputs, outputs):
    """W, b of a map from `inputs` to `outputs`, and the factor of its calls past the budget."""
    W, b = rng.standard_normal((outputs, inputs)), rng.standard_normal(outputs)
    return W, b, float(rng.uniform(1.5, 2.5))


@pytest.mark.question("q5")
@pytest.mark.points(2)
@pytest.mark.parametrize("inputs, outputs", [(3, 5), (4, 2)])
def test_jvp_of_a_non_square_map(submission, rng, inputs, outputs):
    require(submission, "jvp")
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
    require(submission, "jvp")
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
    require(submission, "jacobian")
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
    require(submission, "jacobian")
    W, b, later = tanh_inputs(rng, 3, 1)
    x = random_inputs(rng, (3,))
    got = submission.run(scenarios.through_tanh_map, "jacobian", W, b, True, None, later,
                         list(x))
    assert isinstance(got, np.ndarray) and got.shape == (1, 3), (
        f"jacobian(f, x) for f returning one Dual from 3 inputs should have shape (1, 3), got "
        f"{getattr(got, 'shape', type(got).__name__)}")
    assert_close(got, tanh_map(W, b, x)[1], "jacobian(f, x) for f returning one Dual from 3 "
                 "inputs")


def show_input(value) -> str:
    """A list or array argument as the student would write it, floats to 4 digits."""
    items = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v)
                      for v in (value.tolist() if isinstance(value, np.ndarray) else value))
    return f"np.array([{items}])" if isinstance(value, np.ndarray) else f"[{items}]"


def unchanged_inputs(sent, after, names, call):
    """A message for each argument of `call` that is not as it was sent."""
    failures = []
    for value, now, name in zip(sent, after, names, strict=True):
        if isinstance(value, np.ndarray):
            kept = isinstance(now, np.ndarray) and np.array_equal(now, value)
            now_text = show_input(now) if isinstance(now, np.ndarray) else repr(now)[:200]
        else:
            kept = len(now) == len(value) and all(
                same(item, ("real", v)) for item, v in zip(now, value, strict=True))
            now_text = "[" + ", ".join(shown(item) for item in now) + "]"
        if not kept:
            failures.append(f"{call} changed its argument {name}: it was {show_input(value)} and "
                            f"is {now_text} afterwards (build new Duals and leave {name} as it "
                            f"is: the caller may use it again)")
    return failures


def integer_points(rng, inputs):
    """x and v of ints, as arrays and as lists."""
    v = rng.integers(-2, 3, inputs)
    v[0] = 1  # never all zero
    return [(np.arange(inputs), v), ([int(i) - 1 for i in range(inputs)], [int(e) for e in v])]


@pytest.mark.question("q5")
def test_jvp_at_integer_points(submission, rng):
    require(submission, "jvp")
    W, b, later = tanh_inputs(rng, 3, 2)
    failures = []
    for x, v in integer_points(rng, 3):
        what = f"jvp(f, {show_input(x)}, {show_input(v)}) for f from 3 inputs to 2 outputs"
        with case(failures, what):
            fx, jv = submission.run(scenarios.through_tanh_map, "jvp", W, b, False, None, later,
                                    x, v)
            value, J = tanh_map(W, b, np.asarray(x, dtype=float))
            assert_close(fx, value, f"{what}: f(x), the first array")
            assert_close(jv, J @ np.asarray(v, dtype=float), f"{what}: J(x) v, the second array")
    all_passed(failures, "jvp(f, x, v) must accept x and v of ints, as lists or arrays")


@pytest.mark.question("q5")
def test_jvp_leaves_x_and_v_unchanged(submission, rng):
    require(submission, "jvp")
    W, b, _ = tanh_inputs(rng, 3, 2)
    x, v = random_inputs(rng, (3,)), rng.standard_normal(3)
    failures = []
    for kind, sent in [("lists", (list(map(float, x)), list(map(float, v)))),
                       ("arrays", (x.copy(), v.copy()))]:
        call = f"jvp(f, x, v) for x and v {kind}"
        with case(failures, call):
            _, after = submission.run(scenarios.inputs_after, "jvp", W, b, False, *sent)
            failures += unchanged_inputs(sent, after, ["x", "v"], call)
    all_passed(failures, "jvp(f, x, v) must leave x and v unchanged")


@pytest.mark.question("q6")
def test_jacobian_at_integer_points(submission, rng):
    require(submission, "jacobian")
    W, b, later = tanh_inputs(rng, 3, 2)
    failures = []
    for x, _ in integer_points(rng, 3):
        what = f"jacobian(f, {show_input(x)}) for f from 3 inputs to 2 outputs"
        with case(failures, what):
            got = submission.run(scenarios.through_tanh_map, "jacobian", W, b, False, None,
                                 later, x)
            assert_close(got, tanh_map(W, b, np.asarray(x, dtype=float))[1],
                         f"{what} (expected shape (2, 3))")
    all_passed(failures, "jacobian(f, x) must accept x of ints, as a list or an array")


@pytest.mark.question("q6")
def test_jacobian_leaves_x_unchanged(submission, rng):
    require(submission, "jacobian")
    W, b, _ = tanh_inputs(rng, 3, 2)
    x = random_inputs(rng, (3,))
    failures = []
    for sent in [list(map(float, x)), x.copy()]:
        call = f"jacobian(f, x) for x {'an array' if isinstance(sent, np.ndarray) else 'a list'}"
        with case(failures, call):
            _, after = submission.run(scenarios.inputs_after, "jacobian", W, b, False, sent)
            failures += unchanged_inputs([sent], after, ["x"], call)
    all_passed(failures, "jacobian(f, x) must leave x unchanged")
