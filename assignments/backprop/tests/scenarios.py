"""Computations run twice, with the same code: in the student's process (shipped there by
`submission.run`) and here on the reference. They return plain data, never a Value or a cache.
"""

import operator

import numpy as np

CONSTANTS = {"int": int, "float": float, "float64": np.float64, "float32": np.float32}
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "truediv": operator.truediv}
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/"}
METHODS = ("tanh", "relu", "exp", "log", "sigmoid")


def evaluate(namespace, inputs, program):
    """Build the graph: leaves Value(x) for each input, then one node per instruction.

    An instruction is (op, operand, ...); an operand is a node index or a constant
    (type name, number). Ops: add, sub, mul, truediv, pow (constant exponent), neg, and the
    methods tanh, relu, exp, log, sigmoid.
    """
    value = namespace["Value"]
    nodes = [value(x) for x in inputs]

    def operand(ref):
        return nodes[ref] if isinstance(ref, int) else CONSTANTS[ref[0]](ref[1])

    with np.errstate(all="ignore"):
        for op, *refs in program:
            args = [operand(ref) for ref in refs]
            if op in METHODS:
                nodes.append(getattr(args[0], op)())
            elif op == "neg":
                nodes.append(-args[0])
            elif op == "pow":
                nodes.append(args[0] ** args[1])
            else:
                nodes.append(BINARY[op](*args))
    return nodes


def forward_backward(namespace, inputs, program):
    """The output's data and, after output.backward(), the gradient of every input."""
    nodes = evaluate(namespace, inputs, program)
    nodes[-1].backward()
    return nodes[-1].data, [node.grad for node in nodes[:len(inputs)]]


def output_data(namespace, inputs, program):
    return evaluate(namespace, inputs, program)[-1].data


def chain(namespace, x, length):
    """A chain of `length` alternating nodes z * 1.0001 and z + 0.001; d(out)/dx after backward."""
    leaf = namespace["Value"](x)
    z = leaf
    for i in range(length):
        z = z * 1.0001 if i % 2 else z + 0.001
    z.backward()
    return z.data, leaf.grad


def layer(namespace, name, inputs, dout):
    """name_forward(*inputs) then name_backward(dout, cache); the inputs are returned as they
    are afterwards, to see whether the layer modified them."""
    out, cache = namespace[f"{name}_forward"](*inputs)
    grads = namespace[f"{name}_backward"](dout, cache)
    return out, grads, list(inputs)


def global_state_untouched(namespace, name, *args):
    """Call name(*args) twice on equal generators; report determinism and numpy's global state."""
    before = np.random.get_state()[1].copy()
    first = namespace[name](*args)
    second = namespace[name](*[np.random.default_rng(7) if isinstance(a, np.random.Generator)
                               else a for a in args])
    after = np.random.get_state()[1]
    return first, second, bool(np.array_equal(before, after))


def describe_program(inputs, program) -> str:
    """A readable formula for a program, for failure messages."""
    names = [f"x{i}" for i in range(len(inputs))]

    def show(ref):
        return names[ref] if isinstance(ref, int) else f"{ref[0]}({ref[1]:g})"

    for op, *refs in program:
        args = [show(ref) for ref in refs]
        if op in METHODS:
            names.append(f"{args[0]}.{op}()")
        elif op == "neg":
            names.append(f"(-{args[0]})")
        elif op == "pow":
            names.append(f"({args[0]} ** {args[1]})")
        else:
            names.append(f"({args[0]} {SYMBOLS[op]} {args[1]})")
    values = ", ".join(f"x{i} = {x:.4g}" for i, x in enumerate(inputs))
    return f"{names[-1]} with {values}"
