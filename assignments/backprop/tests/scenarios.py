"""Code the hidden tests ship into the student's process (`submission.run`) and, where a test
compares, also run here on the reference. It returns plain data (numbers, strings, lists,
arrays), never a Value or a cache, and carries no answer: it builds graphs, calls the student's
functions and reports what they did. The local gradients of the test's own nodes and the
stand-ins given to `train` come from the test, not from any solution.
"""

import operator
import traceback

import numpy as np

CONSTANTS = {"int": int, "float": float, "float64": np.float64, "float32": np.float32}
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "truediv": operator.truediv}
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/"}
METHODS = ("tanh", "relu", "exp", "log", "sigmoid")
GRAPH_LIMIT = 5000  # nodes a small expression may hide behind its operations


# ---------------------------------------------------------------- plain data

def number(value):
    """A float, or a few words on what the value is instead (the test reports them)."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        value = value.reshape(())[()]
    if isinstance(value, (bool, np.bool_)):
        return f"a bool ({value})"
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return float(value)
        except OverflowError:
            return "an int too large for a float"
    return f"an object of type {type(value).__name__}"


def failure(error) -> dict:
    """What an exception says, whether it was raised in this file (the test's own code) or in
    the submission, and the submission's line it came through."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = failure.__code__.co_filename
    cells = [frame for frame in frames if frame.filename.startswith("<code cell ")]
    where = ""
    if cells:
        frame = cells[-1]
        where = f"{frame.filename[1:-1]}, line {frame.lineno}: {(frame.line or '').strip()}"
    return {"error": f"{type(error).__name__}: {error}"[:400],
            "in_test": bool(frames) and frames[-1].filename == ours,
            "where": where[:300]}


def is_node(value) -> bool:
    return hasattr(value, "data") and hasattr(value, "grad")


def inputs_of(node) -> list:
    """The nodes among a node's `_prev` (constants stored there are not nodes)."""
    try:
        return [child for child in tuple(getattr(node, "_prev", ()) or ()) if is_node(child)]
    except TypeError:
        return []


# ---------------------------------------------------------------- q1: the operations

def evaluate(namespace, inputs, program):
    """Build the graph: leaves Value(x) for each input, then one node per instruction.

    An instruction is (op, operand, ...); an operand is a node index or a constant
    (type name, number). Ops: add, sub, mul, truediv, pow (constant exponent), neg, and the
    methods tanh, relu, exp, log, sigmoid. Also returns, for each instruction that changed the
    data or the grad of one of its operands, [instruction, operand, (data, grad) before,
    (data, grad) after].
    """
    value = namespace["Value"]
    nodes = [value(x) for x in inputs]
    changes = []

    def operand(ref):
        return nodes[ref] if isinstance(ref, int) else CONSTANTS[ref[0]](ref[1])

    with np.errstate(all="ignore"):
        for step, (op, *refs) in enumerate(program):
            args = [operand(ref) for ref in refs]
            operands = [(ref, nodes[ref]) for ref in dict.fromkeys(refs) if isinstance(ref, int)]
            before = [(number(node.data), number(node.grad)) for _, node in operands]
            if op in METHODS:
                nodes.append(getattr(args[0], op)())
            elif op == "neg":
                nodes.append(-args[0])
            elif op == "pow":
                nodes.append(args[0] ** args[1])
            else:
                nodes.append(BINARY[op](*args))
            for (ref, node), was in zip(operands, before, strict=True):
                now = (number(node.data), number(node.grad))
                if now != was:
                    changes.append([step, ref, list(was), list(now)])
    return nodes, changes


def pass_back(found, node, children, upstream, preset):
    """Call node._backward() alone: every grad 0, the children's `preset`, the node's
    `upstream`; return the children's grads afterwards."""
    for other in found:
        other.grad = 0.0
    for child in children:
        child.grad = preset
    node.grad = upstream
    node._backward()
    return [number(child.grad) for child in children]


def probe(namespace, inputs, program, upstream, preset):
    """The graph of a program, as plain data, without the student's backward().

    Returns the output's data; every node reachable from the output through `_prev` (in the
    order a walk meets them, the output first), each with the indices of its inputs and what
    its `_backward()` alone adds to their grads (from 0, and from `preset`) when its own grad is
    `upstream`; the index of each program node among them; the operand changes of `evaluate`.
    Nodes without `_prev` or `_backward` fall back to the student's own backward().
    """
    nodes, changes = evaluate(namespace, inputs, program)
    root = nodes[-1]
    if not (hasattr(root, "_prev") and callable(getattr(root, "_backward", None))):
        root.backward()
        return {"data": number(root.data), "changes": changes,
                "fallback": [number(node.grad) for node in nodes[:len(inputs)]]}
    found, index = [root], {id(root): 0}
    for node in found:  # grows while it is walked: a breadth-first walk
        for child in inputs_of(node):
            if id(child) not in index:
                if len(found) >= GRAPH_LIMIT:
                    return {"data": number(root.data), "changes": changes, "too_large": True}
                index[id(child)] = len(found)
                found.append(child)
    described = []
    with np.errstate(all="ignore"):
        for node in found:
            children = list(dict.fromkeys(id(child) for child in inputs_of(node)))
            entry = {"children": [index[key] for key in children], "data": number(node.data)}
            if children and callable(getattr(node, "_backward", None)):
                members = [found[index[key]] for key in children]
                entry["alone"] = pass_back(found, node, members, upstream, 0.0)
                entry["preset"] = pass_back(found, node, members, upstream, preset)
            described.append(entry)
    return {"data": number(root.data), "changes": changes, "nodes": described,
            "program": [index.get(id(node), -1) for node in nodes]}


def forward_backward(namespace, inputs, program):
    """The output's data and, after output.backward(), the gradient of every input."""
    nodes, _ = evaluate(namespace, inputs, program)
    nodes[-1].backward()
    return nodes[-1].data, [node.grad for node in nodes[:len(inputs)]]


def output_data(namespace, inputs, program):
    return evaluate(namespace, inputs, program)[0][-1].data


# ---------------------------------------------------------------- q2: backward() alone

class LocalGradients:
    """The `_backward` of a node the test builds: adds local * out.grad to each input's grad,
    with local gradients the test chose, so that backward() is graded without the student's
    operations."""

    def __init__(self, out, edges):
        self.out = out
        self.edges = edges

    def __call__(self):
        upstream = self.out.grad
        if isinstance(upstream, np.ndarray) and upstream.ndim == 0:
            upstream = upstream[()]
        if isinstance(upstream, bool) or not isinstance(upstream, (int, float, np.number)):
            raise TypeError(f"its grad was {upstream!r:.60} when backward() called its "
                            f"_backward(), where a number was expected")
        for child, local in self.edges:
            child.grad += local * upstream


def build(value, leaves, nodes):
    """Leaves Value(x), then for each (data, [(input index, local gradient), ...]) a node
    Value(data, inputs) whose _backward is the test's LocalGradients."""
    built = [value(x) for x in leaves]
    for data, edges in nodes:
        node = value(data, tuple(built[i] for i, _ in edges))
        node._backward = LocalGradients(node, [(built[i], local) for i, local in edges])
        built.append(node)
    return built


def backward_of_graph(namespace, leaves, nodes):
    """Build the test's graph, call backward() on its last node once; every node's grad."""
    try:
        built = build(namespace["Value"], leaves, nodes)
    except Exception as error:  # reported as data: whose code raised decides the message
        return {"building": failure(error)}
    try:
        built[-1].backward()
    except Exception as error:
        return {"raised": failure(error)}
    return {"grads": [number(node.grad) for node in built]}


def backward_of_chain(namespace, x, length, locals_):
    """A chain of `length` test nodes after a leaf x (node i has local gradient
    locals_[i % len(locals_)]); backward() on its end; the grads of the leaf and of the end."""
    try:
        value = namespace["Value"]
        leaf = value(x)
        node = leaf
        for i in range(length):
            out = value(x + (i + 1) * 1e-3, (node,))
            out._backward = LocalGradients(out, [(node, locals_[i % len(locals_)])])
            node = out
    except Exception as error:
        return {"building": failure(error)}
    try:
        node.backward()
    except Exception as error:
        return {"raised": failure(error)}
    return {"grads": [number(leaf.grad), number(node.grad)]}


# ---------------------------------------------------------------- layers

def copy_of(value):
    return np.array(value) if isinstance(value, np.ndarray) else value


def layer(namespace, name, inputs, dout):
    """name_forward(*inputs), then name_backward twice on the same cache (each time with its
    own copy of dout). Returns the output (as it was right after forward), both results of
    backward, the inputs as they are afterwards and the first dout as it is afterwards."""
    out, cache = namespace[f"{name}_forward"](*inputs)
    out = copy_of(out)
    first, second = np.array(dout), np.array(dout)
    grads = namespace[f"{name}_backward"](first, cache)
    grads = tuple(copy_of(g) for g in grads) if isinstance(grads, tuple) else copy_of(grads)
    again = namespace[f"{name}_backward"](second, cache)
    return out, grads, again, list(inputs), first


def forward(namespace, name, inputs):
    """name_forward(*inputs): its output, and the inputs as they are afterwards."""
    out, _ = namespace[f"{name}_forward"](*inputs)
    return copy_of(out), list(inputs)


# ---------------------------------------------------------------- q6 and q7

def global_state_untouched(namespace, name, *args):
    """Call name(*args) twice on equal generators; report determinism and numpy's global state."""
    before = np.random.get_state()[1].copy()
    first = namespace[name](*args)
    second = namespace[name](*[np.random.default_rng(7) if isinstance(a, np.random.Generator)
                               else a for a in args])
    after = np.random.get_state()[1]
    return first, second, bool(np.array_equal(before, after))


def stand_ins(lr, columns):
    """An init_mlp and an mlp_loss for checking train alone. init_mlp gives zeros; mlp_loss
    gives as `gradients` a record of the step it is asked for, which sgd_step then writes into
    the parameters: b1[0] counts the steps, W2[i, s] the visits of row i at step s (rows are
    numbered in X[:, 0]), W1[0, 0] the rows whose label is not theirs (X[:, 1] holds it)."""

    def init_mlp(sizes, rng=None):
        return {"W1": np.zeros((sizes[0], sizes[1])), "b1": np.zeros(sizes[1]),
                "W2": np.zeros((sizes[1], sizes[2])), "b2": np.zeros(sizes[2])}

    def record(params, X, y):
        grads = {key: np.zeros(np.shape(value)) for key, value in params.items()}
        if set(grads) != {"W1", "b1", "W2", "b2"} or np.shape(grads["W2"])[1:] != (columns,):
            return grads  # not the parameters init_mlp gave: nothing to record
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        step = int(np.rint(-float(np.asarray(params["b1"]).ravel()[0]) / lr))
        rows = np.rint(X[:, 0]).astype(int)
        rows = rows[(rows >= 0) & (rows < grads["W2"].shape[0])]
        if 0 <= step < columns:
            np.add.at(grads["W2"][:, step], rows, 1.0)
        grads["b1"][0] = 1.0
        grads["W1"][0, 0] = float(np.sum(np.rint(X[:, 1]) != y))
        return grads

    def mlp_loss(params, X_batch, y_batch):
        try:
            return 0.0, record(params, X_batch, y_batch)
        except Exception:  # whatever train passes, the stand-in never raises into its code
            return 0.0, {}

    return init_mlp, mlp_loss


def train_with_stand_ins(namespace, X, y, sizes, lr, epochs, batch_size, seed):
    """train(...) twice on generators seeded alike, with the stand-ins in place of init_mlp and
    mlp_loss (put back afterwards). Returns both results, X and y as they are afterwards, and
    whether numpy's global random state stayed as it was."""
    init_mlp, mlp_loss = stand_ins(lr, sizes[2])
    saved = {name: namespace.get(name) for name in ("init_mlp", "mlp_loss")}
    before = np.random.get_state()[1].copy()
    namespace["init_mlp"], namespace["mlp_loss"] = init_mlp, mlp_loss
    try:
        runs = [namespace["train"](X, y, sizes, lr, epochs, batch_size,
                                   np.random.default_rng(seed)) for _ in range(2)]
    finally:
        namespace.update(saved)
    untouched = bool(np.array_equal(before, np.random.get_state()[1]))
    return runs[0], runs[1], X, y, untouched


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
    values = ", ".join(f"x{i} = {x!r}" if isinstance(x, int) else f"x{i} = {x:.4g}"
                       for i, x in enumerate(inputs))
    return f"{names[-1]} with {values}"


def node_names(inputs, program) -> list[str]:
    """The formula of every program node (inputs first)."""
    names = [f"x{i}" for i in range(len(inputs))]
    for i in range(len(program)):
        names.append(describe_program(inputs, program[:i + 1]).split(" with ")[0])
    return names
