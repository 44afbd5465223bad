"""What the tests ship to the student's process (by `submission.run`), and nothing else.

Operations on dual numbers run twice: there on the student's `Dual` and here on the
reference's, with the same code; every function returns plain data describing what came
back, never a Dual itself. The maps handed to the student's derivative, jvp and jacobian are
built there from their inputs alone (coefficients, a call budget): their values, derivatives
and Jacobians are computed by the tests, on the trusted side, and never travel. While the
student's jacobian runs, their jvp is seen through a shim (`_one_pass_per_jvp`) that counts
one pass per call and hands it copies of x and v, so that q6 is charged only for jacobian's
own faults. Student code can read and write everything here; the publish gate checks that
nothing here carries an answer.
"""

import copy
import operator

import numpy as np

CONSTANTS = {"int": int, "float": float, "float64": np.float64, "float32": np.float32}
# A Dual's value and derivative reach its constructor as np.float64, unless a test of the
# constructor itself gives them as Python floats or ints, or numpy ints.
DUALS = {"dual": np.float64, "dual of floats": float, "dual of ints": int,
         "dual of int64": np.int64}
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "**": operator.pow}
AUGMENTED = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
             "/=": operator.itruediv, "**=": operator.ipow}
COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
RULES = {"+": "sum rule: (a + b)' = a' + b'", "-": "difference rule: (a - b)' = a' - b'",
         "*": "product rule: (a b)' = a' b + a b'",
         "/": "quotient rule: (a / b)' = (a' b - a b') / b^2",
         "**": "power rule", "neg": "(-a)' = -a'"}


def build(namespace, spec):
    """A Dual ("dual" | "dual of ints" | ..., value, deriv) or a constant ("int" | "float" |
    ..., value, None)."""
    kind, value, deriv = spec
    if kind not in DUALS:
        return CONSTANTS[kind](value)
    if "Dual" not in namespace:
        raise NameError("name 'Dual' is not defined")
    dual = namespace["Dual"](DUALS[kind](value), DUALS[kind](deriv))
    if kind == "dual":
        try:  # as the handout's Dual holds them, whatever the constructor did (q1 tests that)
            dual.value, dual.deriv = np.float64(value), np.float64(deriv)
        except AttributeError:  # an immutable Dual: its constructor's values stand
            pass
    return dual


def describe(namespace, result):
    """("dual", value, deriv), ("real", value) or ("other", type name)."""
    dual = namespace.get("Dual")
    if isinstance(dual, type) and isinstance(result, dual):
        return ("dual", result.value, result.deriv)
    if isinstance(result, (int, float, np.floating, np.integer)) and not isinstance(result, bool):
        return ("real", result)
    return ("other", type(result).__name__)


def binary(namespace, symbol, left, right):
    with np.errstate(all="ignore"):
        return describe(namespace, BINARY[symbol](build(namespace, left), build(namespace, right)))


def unary(namespace, name, operand):
    with np.errstate(all="ignore"):
        return describe(namespace, operation(namespace, name)(build(namespace, operand)))


def operation(namespace, name):
    """The operator ("+", "+=", "neg", ...) or the student's function ("sin", ...) called name."""
    if name == "neg":
        return operator.neg
    return BINARY.get(name) or AUGMENTED.get(name) or namespace[name]


def operands_after(namespace, name, *specs):
    """What `name` gives on the operands built from specs, and the operands as they are before
    and after the call: an operation that writes into an operand shows there. For "+=" and
    the like, the first operand is what another name of the variable still refers to."""
    operands = [build(namespace, spec) for spec in specs]
    before = [describe(namespace, x) for x in operands]
    with np.errstate(all="ignore"):
        result = operation(namespace, name)(*operands)
    return describe(namespace, result), before, [describe(namespace, x) for x in operands]


def compare(namespace, symbol, left, right):
    result = COMPARE[symbol](build(namespace, left), build(namespace, right))
    return result if isinstance(result, (bool, np.bool_)) else ("other", type(result).__name__)


def _wave_calls(a, shift, budget):
    """The generator behind the scalar map of `derivative_of_wave`.

    Each `send(d)` is one call of g: within the budget g(t) = sin(a t) + t^3, after it
    g(t) = sin(a t) + t^3 + shift t, so that an answer built from a call beyond the budget is
    wrong. The call count is this generator's own local: student code can read it but
    neither reset nor rewind it, and no call count or answer is ever returned. The budget
    leaves the arguments at once, so that no fresh copy can be started from them.
    """
    calls, limit, result = 0, budget, None
    del budget
    while True:
        d = yield result
        calls += 1
        if not hasattr(d, "deriv"):
            raise TypeError(f"g was called on a {type(d).__name__}, not on a Dual: derivative "
                            f"calls g on Dual(x, 1.0)")
        extra = 0.0 if limit is None or calls <= limit else shift
        t, dt = float(d.value), float(d.deriv)
        result = type(d)(np.sin(a * t) + t ** 3 + extra * t,
                         (a * np.cos(a * t) + 3 * t * t + extra) * dt)


def _tanh_calls(W, b, single, budget, scale):
    """The generator behind the array map of `through_tanh_map`.

    Each `send(duals)` is one call of f, which builds its Dual outputs with the constructor
    alone (so that jvp and jacobian are tested apart from the student's arithmetic): within
    the budget f(x) = tanh(W x + b), after it tanh(scale W x + b), so that values or
    derivatives taken from a call beyond the budget are wrong. The count lives in this
    generator's frame, out of reach of resets; nothing of it is returned; the budget leaves
    the arguments at once, so that no fresh copy can be started from them.
    """
    calls, limit, outputs = 0, budget, None
    del budget
    while True:
        duals = yield outputs
        calls += 1
        if not all(hasattr(d, "deriv") for d in duals):
            raise TypeError("f was called on something other than a list of Duals, one per "
                            "input (Dual(x_i, v_i))")
        factor = 1.0 if limit is None or calls <= limit else scale
        make = type(duals[0])
        x = np.array([float(d.value) for d in duals])
        dx = np.array([float(d.deriv) for d in duals])
        y = np.tanh(factor * (W @ x) + b)
        dy = (1 - y ** 2) * (factor * (W @ dx))
        outputs = [make(float(v), float(d)) for v, d in zip(y, dy, strict=True)]
        if single:
            outputs = outputs[0]


def derivative_of_wave(namespace, a, shift, budget, x):
    """The student's derivative(g, x) for g(t) = sin(a t) + t^3 (see `_wave_calls`)."""
    calls = _wave_calls(a, shift, budget)
    calls.send(None)
    return namespace["derivative"](calls.send, x)


def _first_then(counted, free):
    """The generator behind one pass of `_one_pass_per_jvp`: its first call goes to `counted`,
    every later one to `free`."""
    duals = yield None
    outputs = counted(duals)
    while True:
        duals = yield outputs
        outputs = free(duals)


def _copied(value):
    try:
        return copy.copy(value)
    except (TypeError, copy.Error):
        return value


def _one_pass_per_jvp(jvp, counted, free):
    """The student's jvp as their jacobian sees it in the tests of q6, so that jacobian is
    charged only for its own faults: a call of jvp on the test's map costs one call of the
    budget, whatever jvp does inside (its further calls of f evaluate the same map outside
    the budget, `free`), and jvp gets its own copies of x and v. Extra passes of jvp and
    writes into its inputs are graded in q5."""
    def one_pass(f, x, v):
        x, v = _copied(x), _copied(v)
        if f != counted:
            return jvp(f, x, v)
        route = _first_then(counted, free)
        route.send(None)
        return jvp(route.send, x, v)

    return one_pass


def _jacobian(namespace, calls, free, x):
    """The student's jacobian(calls, x), their jvp seen through `_one_pass_per_jvp`."""
    jvp = namespace.get("jvp")
    if not callable(jvp):
        return namespace["jacobian"](calls, x)
    namespace["jvp"] = _one_pass_per_jvp(jvp, calls, free)
    try:
        return namespace["jacobian"](calls, x)
    finally:
        namespace["jvp"] = jvp


def through_tanh_map(namespace, name, W, b, single, budget, scale, *args):
    """The student's name(f, *args) (jvp or jacobian) for f(x) = tanh(W x + b), a list of
    Duals (or one Dual if `single`); calls after the first `budget` evaluate another map (see
    `_tanh_calls`; budget None: any number of calls)."""
    calls = _tanh_calls(W, b, single, budget, scale)
    calls.send(None)
    if name != "jacobian":
        return namespace[name](calls.send, *args)
    free = _tanh_calls(W, b, single, None, scale)
    free.send(None)
    return _jacobian(namespace, calls.send, free.send, *args)


def plain(namespace, value):
    """A list or tuple as a list of its items described, a numeric array as a copy."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.copy()
    if isinstance(value, (list, tuple)):
        return [describe(namespace, item) for item in value]
    return describe(namespace, value)


def inputs_after(namespace, name, W, b, single, *args):
    """The student's name(f, *args) for the map of `through_tanh_map` (any number of calls),
    and the arguments after *args as they are after the call."""
    calls = _tanh_calls(W, b, single, None, 1.0)
    calls.send(None)
    if name == "jacobian":
        result = _jacobian(namespace, calls.send, calls.send, *args)
    else:
        result = namespace[name](calls.send, *args)
    return result, [plain(namespace, argument) for argument in args]
