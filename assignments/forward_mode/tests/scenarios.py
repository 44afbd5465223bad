"""What the tests ship to the student's process (by `submission.run`), and nothing else.

Operations on dual numbers run twice: there on the student's `Dual` and here on the
reference's, with the same code; every function returns plain data describing what came
back, never a Dual itself. The maps handed to the student's derivative, jvp and jacobian are
built there from their inputs alone (coefficients, a call budget): their values, derivatives
and Jacobians are computed by the tests, on the trusted side, and never travel. Student code
can read and write everything here; the publish gate checks that nothing here carries an
answer.
"""

import operator

import numpy as np

CONSTANTS = {"int": int, "float": float, "float64": np.float64, "float32": np.float32}
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "**": operator.pow}
COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
RULES = {"+": "sum rule: (a + b)' = a' + b'", "-": "difference rule: (a - b)' = a' - b'",
         "*": "product rule: (a b)' = a' b + a b'",
         "/": "quotient rule: (a / b)' = (a' b - a b') / b^2",
         "**": "power rule", "neg": "(-a)' = -a'"}


def build(namespace, spec):
    """A Dual ("dual", value, deriv) or a constant ("int" | "float" | ..., value, None)."""
    kind, value, deriv = spec
    if kind == "dual":
        if "Dual" not in namespace:
            raise NameError("name 'Dual' is not defined")
        return namespace["Dual"](value, deriv)
    return CONSTANTS[kind](value)


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
    function = operator.neg if name == "neg" else namespace[name]
    with np.errstate(all="ignore"):
        return describe(namespace, function(build(namespace, operand)))


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


def through_tanh_map(namespace, name, W, b, single, budget, scale, *args):
    """The student's name(f, *args) (jvp or jacobian) for f(x) = tanh(W x + b), a list of
    Duals (or one Dual if `single`); calls after the first `budget` evaluate another map (see
    `_tanh_calls`; budget None: any number of calls)."""
    calls = _tanh_calls(W, b, single, budget, scale)
    calls.send(None)
    return namespace[name](calls.send, *args)
