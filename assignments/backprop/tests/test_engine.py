"""Hidden tests of q1 (operations of the scalar engine) and q2 (backward on whole graphs).

Each question is graded on its own. The operations (q1) are checked without the student's
backward(): the test walks the graph they build through `_prev` and calls each node's
`_backward()` alone (scenarios.probe), then chains those local gradients here. backward() (q2)
is checked on graphs of the test's own nodes, whose `_backward` the test writes
(scenarios.LocalGradients), without the student's operations.
"""

import numpy as np
import pytest
import scenarios

from grader.numerics import (
    FINITE_DIFFERENCE,
    REFERENCE,
    assert_close,
    numerical_gradient,
    random_inputs,
)
from grader.sandbox import StudentError

UPSTREAM = 1.5  # the grad a node has when the test calls its _backward alone (never 1)
PRESET = 0.25  # the grads its inputs already have on the second call (they must add to it)


def as_floats(values, what: str) -> np.ndarray:
    """The values as a float array, or an AssertionError naming what came back instead."""
    bad = [v for v in values if not isinstance(v, float)]
    assert not bad, f"{what}: every grad should be a number, got {bad[0]}"
    return np.array(values, dtype=float)


def run_student(submission, what: str, function, *args, **kwargs):
    """submission.run, with an exception of the student's code reported with `what`."""
    try:
        return submission.run(function, *args, **kwargs)
    except StudentError as error:
        if getattr(error, "in_test", False):  # e.g. a method the test calls is missing
            where = f"\n  called from your code {error.where[-1]}" if error.where else ""
            raise AssertionError(f"{what}: the test's own code raised {error} on what your "
                                 f"code gave it{where}") from None
        where = f"\n  {error.where[-1]}" if error.where else ""
        raise AssertionError(f"{what}: your code raised {error}{where}") from None


def reverse_topological(nodes: list[dict]) -> list[int]:
    """The nodes of a probed graph, each before its inputs (the output, index 0, first)."""
    order, seen, stack = [], set(), [(0, False)]
    while stack:
        index, expanded = stack.pop()
        if expanded:
            order.append(index)
        elif index not in seen:
            seen.add(index)
            stack.append((index, True))
            stack.extend((child, False) for child in nodes[index]["children"])
    return order[::-1]


def input_grads(graph: dict, count: int, names: list[str], what: str) -> np.ndarray:
    """The gradient of the output with respect to each input, chained here from the local
    gradients each `_backward()` gave alone; first, that each of them accumulates."""
    if "fallback" in graph:  # no _prev/_backward on the output: the student's own backward()
        return as_floats(graph["fallback"], f"the gradients of {what} after backward()")
    assert not graph.get("too_large"), (
        f"{what}: the graph behind this one expression has over {scenarios.GRAPH_LIMIT} nodes")
    nodes = graph["nodes"]
    label = {index: names[k] for k, index in enumerate(graph["program"]) if index >= 0}
    locals_ = {}
    for k, node in enumerate(nodes):
        if "alone" not in node:
            continue
        who = label.get(k, f"a node created inside {what.split(' with ')[0]}")
        alone = as_floats(node["alone"], f"{what}: the grads that the _backward of {who} gives")
        again = as_floats(node["preset"], f"{what}: the grads that the _backward of {who} gives")
        wanted = PRESET + alone
        off = ~np.isclose(again, wanted, rtol=REFERENCE.rtol, atol=REFERENCE.atol(wanted))
        if np.any(off):
            i = int(np.argmax(off))
            raise AssertionError(
                f"{what}: the _backward of {who} overwrites its inputs' grads instead of adding "
                f"to them: run with an input's grad already at {PRESET:g}, it left {again[i]:.8g} "
                f"where {PRESET:g} + {alone[i]:.8g} = {wanted[i]:.8g} belongs. Use +=, never =, "
                f"in _backward: a Value used in several places gets a gradient from each")
        locals_[k] = alone / UPSTREAM
    total = np.zeros(len(nodes))
    total[0] = 1.0
    for k in reverse_topological(nodes):
        for child, local in zip(nodes[k]["children"], locals_.get(k, ()), strict=False):
            total[child] += total[k] * local
    return np.array([total[i] if i >= 0 else 0.0 for i in graph["program"][:count]])


def check_program(submission, reference, inputs, program, rule="", finite_differences=True):
    """The data of a program and the gradient of its output with respect to each input, from
    the student's operations alone, against the reference (and finite differences); and no
    operation may change its operands."""
    what = scenarios.describe_program(inputs, program)
    graph = run_student(submission, f"{what}{rule}", scenarios.probe, inputs, program,
                        UPSTREAM, PRESET)
    names = scenarios.node_names(inputs, program)
    for step, ref, was, now in graph["changes"]:
        raise AssertionError(
            f"{names[len(inputs) + step]} with {what.split(' with ')[1]} changed its operand "
            f"{names[ref]}: its (data, grad) went from {tuple(was)} to {tuple(now)}. An "
            f"operation must return a new Value and leave its operands as they are")
    expected_data, expected_grads = scenarios.forward_backward(vars(reference), inputs, program)
    assert isinstance(graph["data"], float), f"the data of {what}: got {graph['data']}"
    assert_close(graph["data"], expected_data, f"the data of {what}{rule}")
    grads = input_grads(graph, len(inputs), names, what)
    assert_close(grads, np.array(expected_grads, dtype=float),
                 f"the gradients of {what}, one per input{rule}")
    if finite_differences:
        numerical = numerical_gradient(
            lambda x: scenarios.output_data(vars(reference), list(x), program),
            np.array(inputs, dtype=float))
        assert_close(grads, numerical, f"the gradients of {what} against finite differences",
                     FINITE_DIFFERENCE)


def inputs(rng, count=2, positive=False):
    values = random_inputs(rng, (count,))
    return [float(abs(v)) if positive else float(v) for v in values]


def integers(rng, count=2, positive=False):
    """Python ints, never 0: Value(3) is what students write."""
    values = rng.integers(1, 5, count) * (1 if positive else rng.choice([-1, 1], count))
    return [int(v) for v in values]


RULES = {"add": "sum rule", "sub": "difference rule", "mul": "product rule",
         "truediv": "quotient rule"}


@pytest.mark.question("q1")
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
def test_operation_of_two_values(submission, reference, rng, op):
    for values, kind in ((inputs(rng), ""), (integers(rng), ", Value of an int")):
        check_program(submission, reference, values, [(op, 0, 1)], f" ({RULES[op]}{kind})")
    check_program(submission, reference, inputs(rng, 1), [(op, 0, 0)],
                  f" ({RULES[op]}: the same Value on both sides gets both gradients)")


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
    check_program(submission, reference, integers(rng, 1), [("neg", 0)], " (Value of an int)")
    for exponent in [("int", 3), ("int", -1), ("float", 2.0)]:
        for values in (inputs(rng, 1), integers(rng, 1)):
            check_program(submission, reference, values, [("pow", 0, exponent)],
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
    check_program(submission, reference, integers(rng, 1, positive=positive), [(method, 0)],
                  f" (the derivative of {method}, Value of an int)")


EXTREMES = {
    "tanh": ([1000.0, -1000.0, 400.0, -400.0, 20.0],
             "tanh() saturates to ±1 with gradient 0 for any finite data, without overflow: "
             "math.exp(2 * 400) raises OverflowError, and np.exp gives inf / inf = nan"),
    "sigmoid": ([-1000.0, 1000.0, -750.0, 750.0, -40.0, 40.0],
                "sigmoid() is 0 or 1 with gradient 0 for any large |data|, without overflow: "
                "math.exp(1000) raises OverflowError; only evaluate exp of numbers <= 0, "
                "e.g. with np.logaddexp"),
    "exp": ([700.0, -700.0], "exp() holds for |data| up to 700"),
    "log": ([1e-300, 1e300], "log() holds for any data > 0, 1e-300 and 1e300 included: "
                             "no epsilon added"),
}


@pytest.mark.question("q1")
@pytest.mark.parametrize("method", list(EXTREMES))
def test_method_at_extremes(submission, reference, method):
    values, promise = EXTREMES[method]
    for x in values:
        check_program(submission, reference, [x], [(method, 0)], f" (the docstring: {promise})",
                      finite_differences=False)


@pytest.mark.question("q1")
def test_relu_has_gradient_zero_at_zero(submission, reference):
    for x in (0.0, 0):
        check_program(submission, reference, [x], [("relu", 0)],
                      " (relu's derivative at 0 is 0)", finite_differences=False)


# ---------------------------------------------------------------- q2: backward() alone

# The test's graphs: (leaves, nodes), each node the list of its inputs (earlier indices, leaves
# first), and per node (leaves included) a key: nodes with equal keys get equal data. Each
# common way to get the order wrong fails on at least one of them whatever order `_prev`
# keeps (a tuple, or a set): DFS without a visited set (diamond), pre-order instead of
# post-order (diamond), breadth-first order (different lengths), visited by data (equal data),
# no reversal or no grad = 1 on the output (all).
GRAPHS = {
    "x * x (one node, its input twice)": (1, [[0, 0]], None),
    "a chain of four nodes": (1, [[0], [1], [2], [3]], None),
    "a node used twice by the same node inside a graph": (2, [[0, 1], [2, 2], [3]], None),
    "a diamond (two nodes use one node, and the output uses both)":
        (2, [[0, 1], [2], [2], [3, 4]], None),
    "a node used by the output directly and along two longer paths":
        (1, [[0], [1], [2], [1], [4], [1, 3, 5]], None),
    "distinct nodes with equal data": (2, [[0, 1], [1, 0], [2, 3]], [0, 0, 1, 1, 2]),
    "an output whose inputs repeat": (3, [[0, 1], [1, 2], [3, 0, 4, 1, 3]], None),
}


def graph_case(rng, leaves, children, keys):
    """Data for each node and a positive local gradient per edge (positive, so that a missing
    or repeated path always changes a grad), and the expected grad of every node."""
    count = leaves + len(children)
    keys = keys or list(range(count))
    values = {key: float(v) for key, v in zip(dict.fromkeys(keys),
                                              random_inputs(rng, (count,)), strict=False)}
    data = [values[key] for key in keys]
    nodes = [(data[leaves + k], [(int(i), float(rng.uniform(0.5, 2.0))) for i in inputs_])
             for k, inputs_ in enumerate(children)]
    expected = np.zeros(count)
    expected[-1] = 1.0
    for k in range(len(children) - 1, -1, -1):
        for i, local in nodes[k][1]:
            expected[i] += local * expected[leaves + k]
    return data[:leaves], nodes, expected


def backward_problem(result: dict, what: str) -> str | None:
    """Why the student's backward() gave no grads on the test's graph, or None."""
    if "building" in result:
        problem = result["building"]
        return (f"{what}: the test could not build its graph with your Value: "
                f"{problem['error']}{at(problem)}. The checks build nodes with Value(data, "
                f"_children) and set their _backward: keep that constructor and these names")
    if "raised" in result:
        problem = result["raised"]
        if problem["in_test"]:
            return (f"{what}: Value.backward() called the _backward() of one of the test's "
                    f"nodes, which then failed: {problem['error']} (called from your line "
                    f"{problem['where'] or '?'}). backward() must set the output's grad to 1.0 "
                    f"and call each node's _backward() with no argument; every grad starts at "
                    f"0.0")
        return f"Value.backward() on {what} raised {problem['error']}{at(problem)}"
    return None


def at(problem: dict) -> str:
    return f"\n  at {problem['where']}" if problem["where"] else ""


ORDER_HINT = ("each node's _backward() must run exactly once, after every node that uses it: "
              "visit each node once (a set of visited nodes, not of data values), put a node "
              "in the order only after all of its inputs (post-order), and go through that "
              "order backwards")


def wrong_grads(grads: np.ndarray, expected: np.ndarray, leaves: int) -> str | None:
    """A short account of the grads backward() got wrong on one graph, or None."""
    try:
        assert_close(grads, expected, "grads")
    except AssertionError:
        pass
    else:
        return None
    if not np.any(grads):
        return ("no grad changed: does backward() set the output's grad to 1.0 and call the "
                "_backward() of every node it depends on?")
    if grads[-1] != 1.0:
        return f"the output's own grad should be 1.0, got {grads[-1]:.6g}"
    off = ~np.isclose(grads, expected, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(expected).max()))
    k = int(np.argmax(off))
    node = f"leaf x{k}" if k < leaves else f"node {k}"
    return (f"{int(off.sum())} of {len(grads)} grads are off, e.g. that of {node}: got "
            f"{grads[k]:.8g}, expected {expected[k]:.8g}")


@pytest.mark.question("q2")
@pytest.mark.points(4)
def test_backward_on_graphs(submission, rng):
    problems, order = [], False
    for name, (leaves, children, keys) in GRAPHS.items():
        data, nodes, expected = graph_case(rng, leaves, children, keys)
        what = f"the test's graph '{name}'"
        result = submission.run(scenarios.backward_of_graph, data, nodes)
        problem = backward_problem(result, what)
        if problem is None:
            grads = as_floats(result["grads"], f"Value.backward() on {what}")
            wrong = wrong_grads(grads, expected, leaves)
            order = order or (wrong is not None and "are off" in wrong)
            problem = wrong and f"{name}: {wrong}"
        if problem:
            problems.append(problem)
    assert not problems, (
        f"Value.backward() is wrong on {len(problems)} of the {len(GRAPHS)} graphs that the "
        f"test built from nodes of its own (Value(data, _children) with a _backward it wrote, "
        f"so only your backward() is graded here):\n- " + "\n- ".join(problems)
        + (f"\n  hint: {ORDER_HINT}" if order else ""))


@pytest.mark.question("q2")
@pytest.mark.points(2)
def test_a_chain_of_ten_thousand_nodes(submission, rng):
    x = float(random_inputs(rng, ()))
    locals_ = [float(v) for v in 1.0 + rng.uniform(-1e-4, 1e-4, 2)]
    result = submission.run(scenarios.backward_of_chain, x, 10_000, locals_, _timeout=30)
    what = "a chain of 10,000 of the test's nodes"
    problem = backward_problem(result, what)
    assert problem is None, problem + (
        " (backward must not recurse once per node: Python stops at about 1,000 nested calls; "
        "build the order with a loop and a stack)" if "Recursion" in problem else "")
    expected = 1.0
    for i in range(10_000 - 1, -1, -1):
        expected = locals_[i % 2] * expected
    grads = as_floats(result["grads"], f"Value.backward() on {what}")
    assert_close(grads, np.array([expected, 1.0]), f"Value.backward() on {what}: the grads of "
                 f"its start and of its end")
