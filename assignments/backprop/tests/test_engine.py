"""Hidden tests of q1 (operations of the scalar engine) and q2 (backward on whole graphs)."""

import numpy as np
import pytest
import scenarios

from grader.numerics import FINITE_DIFFERENCE, assert_close, numerical_gradient, random_inputs


def as_floats(values, what: str) -> np.ndarray:
    """The gradients as a float array, or an AssertionError naming what came back instead."""
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float, np.number))]
    assert not bad, f"{what}: every grad should be a number, got {bad[0]!r}"
    return np.array(values, dtype=float)


def check_program(submission, reference, inputs, program, rule=""):
    what = scenarios.describe_program(inputs, program)
    data, grads = submission.run(scenarios.forward_backward, inputs, program)
    expected_data, expected_grads = scenarios.forward_backward(vars(reference), inputs, program)
    assert_close(data, expected_data, f"the data of {what}")
    grads = as_floats(grads, f"the gradients of {what}")
    assert_close(grads, np.array(expected_grads), f"the gradients of {what} after backward(), "
                 f"one per input{rule}")
    numerical = numerical_gradient(
        lambda x: scenarios.output_data(vars(reference), list(x), program), np.array(inputs))
    assert_close(grads, numerical, f"the gradients of {what} against finite differences",
                 FINITE_DIFFERENCE)


def inputs(rng, count=2, positive=False):
    values = random_inputs(rng, (count,))
    return [float(abs(v)) if positive else float(v) for v in values]


RULES = {"add": "sum rule", "sub": "difference rule", "mul": "product rule",
         "truediv": "quotient rule"}


@pytest.mark.question("q1")
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
def test_operation_of_two_values(submission, reference, rng, op):
    check_program(submission, reference, inputs(rng), [(op, 0, 1)], f" ({RULES[op]})")


@pytest.mark.question("q1")
@pytest.mark.points(2)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
def test_constants_of_every_type_on_either_side(submission, reference, rng, op):
    for kind in scenarios.CONSTANTS:
        constant = (kind, float(rng.integers(2, 6)))
        for program in ([(op, 0, constant)], [(op, constant, 0)]):
            check_program(submission, reference, inputs(rng, 1), program,
                          f" (a constant of type {kind})")


@pytest.mark.question("q1")
def test_negation_and_powers(submission, reference, rng):
    check_program(submission, reference, inputs(rng, 1), [("neg", 0)])
    for exponent in [("int", 3), ("int", -1), ("float", 2.0)]:
        check_program(submission, reference, inputs(rng, 1), [("pow", 0, exponent)],
                      " (power rule: (x^c)' = c x^(c-1))")
    check_program(submission, reference, inputs(rng, 1, positive=True),
                  [("pow", 0, ("float", 0.5))], " (power rule with a fractional exponent)")


@pytest.mark.question("q1")
@pytest.mark.parametrize("method", scenarios.METHODS)
def test_method(submission, reference, rng, method):
    positive = method == "log"
    for _ in range(2):
        check_program(submission, reference, inputs(rng, 1, positive=positive), [(method, 0)],
                      f" (the derivative of {method})")


@pytest.mark.question("q1")
def test_relu_has_gradient_zero_at_zero(submission):
    data, grads = submission.run(scenarios.forward_backward, [0.0], [("relu", 0)])
    assert data == 0.0 and grads == [0.0], (
        f"Value(0.0).relu() then backward(): expected data 0 and gradient 0 (relu's derivative "
        f"at 0 is 0), got data {data!r} and gradient {grads!r}")


DIAMOND = [("mul", 0, 1), ("add", 0, 1), ("mul", 2, 3), ("tanh", 4)]
REUSE = [("mul", 0, 0), ("add", 0, 0), ("mul", 2, 3), ("sub", 4, 0)]


@pytest.mark.question("q2")
@pytest.mark.points(2)
def test_a_value_used_twice_accumulates(submission, reference, rng):
    check_program(submission, reference, inputs(rng, 1), [("mul", 0, 0)],
                  ": x * x uses x twice, so both uses must add up (+=, not =)")


@pytest.mark.question("q2")
@pytest.mark.points(2)
@pytest.mark.parametrize("program", [DIAMOND, REUSE], ids=["diamond", "reuse"])
def test_graphs_that_reuse_nodes(submission, reference, rng, program):
    check_program(submission, reference, inputs(rng), program,
                  ": every path from the output to an input adds to its gradient")


@pytest.mark.question("q2")
def test_a_deeper_expression(submission, reference, rng):
    program = [("mul", 0, 1), ("add", 3, 2), ("sigmoid", 4), ("mul", 5, 0), ("exp", 6),
               ("sub", 7, 1), ("truediv", 8, ("float", 3.0)), ("tanh", 9), ("pow", 10, ("int", 2))]
    check_program(submission, reference, inputs(rng, 3), program)


@pytest.mark.question("q2")
@pytest.mark.points(2)
def test_a_chain_of_ten_thousand_nodes(submission, reference, rng):
    x = float(random_inputs(rng, ()))
    data, grad = submission.run(scenarios.chain, x, 10_000, _timeout=30)
    expected_data, expected_grad = scenarios.chain(vars(reference), x, 10_000)
    assert_close(data, expected_data, "the data at the end of a chain of 10,000 nodes")
    assert_close(grad, expected_grad, "the gradient of a chain of 10,000 nodes with respect to "
                 "its start (backward must not recurse once per node: Python stops at 1,000)")
