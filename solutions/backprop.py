"""Reference solution of the assignment `backprop`: reverse-mode AD, layers, and an MLP."""

import numpy as np


class Value:
    """A scalar in a computation graph: its data, its gradient, and how to pass gradients back.

    `Value(data, _children)` keeps `data` (an int or a float, used as the float it equals),
    `grad` (0.0 until backward), `_prev` (the input nodes `_children`) and `_backward`
    (a function of no argument that adds this node's share of `out.grad` to the grads of its
    inputs; for a leaf it does nothing). The checks build graphs of their own through these
    four names. An operation returns a new Value and leaves its operands as they are.
    """

    def __init__(self, data, _children=()):
        self.data = np.float64(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)

    def __repr__(self):  # given
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        out = Value(self.data ** exponent, (self,))

        def _backward():
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def _unary(self, data, local_grad):
        """A node computed from self alone, with d(out)/d(self) = local_grad."""
        out = Value(data, (self,))

        def _backward():
            self.grad += local_grad * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        """tanh(data) for any finite data: tanh(±1000) is ±1 with gradient 0, no overflow."""
        t = np.tanh(self.data)
        return self._unary(t, 1 - t * t)

    def relu(self):
        """max(data, 0), with derivative 0 at 0."""
        return self._unary(max(self.data, 0.0), float(self.data > 0))

    def exp(self):
        """e ** data, for |data| up to 700 (a float64 overflows a little above 709)."""
        e = np.exp(self.data)
        return self._unary(e, e)

    def log(self):
        """ln(data) for data > 0, as small as 1e-300 and as large as 1e300 (no epsilon added)."""
        return self._unary(np.log(self.data), 1 / self.data)

    def sigmoid(self):
        """1 / (1 + e ** -data) for any finite data: sigmoid(-1000) is 0 and sigmoid(1000) is 1,
        with gradient 0, no overflow."""
        s = np.exp(-np.logaddexp(0.0, -self.data))
        return self._unary(s, s * (1 - s))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        """Fill the gradient of every node self depends on, in reverse topological order.

        Sets self.grad to 1, then calls each node's `_backward()` once, after those of every
        node that uses it. Iterative, so that a graph of any depth fits within Python's
        recursion limit.
        """
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def linear_forward(x, W, b):
    """out = x @ W + b for a batch x of shape (N, D_in); the cache keeps what backward needs.

    No layer function changes its arguments (inputs, dout, cache): each returns new arrays.
    """
    return x @ W + b, (x, W)


def linear_backward(dout, cache):
    """Gradients (dx, dW, db) of the loss, from dout = d(loss)/d(out) of shape (N, D_out)."""
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    """max(x, 0) elementwise, as a new array; x may hold floats or integers."""
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """dout where the input was positive, 0 elsewhere (also at 0)."""
    return dout * (cache > 0)


def sigmoid_forward(x):
    """1 / (1 + exp(-x)) elementwise, for floats or integers; exact for any finite x, |x| of
    1000 and more included (no overflow, no nan)."""
    out = np.exp(-np.logaddexp(0, -x))
    return out, out


def sigmoid_backward(dout, cache):
    """dx = dout * sigmoid'(x)."""
    return dout * cache * (1 - cache)


def tanh_forward(x):
    """tanh(x) elementwise, for floats or integers; exact for any finite x (no overflow)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout * tanh'(x)."""
    return dout * (1 - cache ** 2)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels y, and its gradient.

    Finite for any finite logits (floats or integers), e.g. a row [1e4, 0, -1e4] whose label is
    the last class: log-probabilities come from log-sum-exp, never from the log of a
    probability. logits and y are left unchanged.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1
    return float(loss), dlogits / n


def init_mlp(sizes, rng):
    """He-normal weights N(0, 2 / fan_in) and zero biases for layer sizes [D, H1, ..., C]."""
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False), start=1):
        params[f"W{i}"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
        params[f"b{i}"] = np.zeros(fan_out)
    return params


def mlp_loss(params, X, y):
    """The loss of an MLP with ReLU hidden layers and a softmax output, and its gradients.

    Built from the layer functions above; params, X and y are left unchanged.
    """
    layers = len(params) // 2
    caches, h = [], X
    for i in range(1, layers + 1):
        h, linear_cache = linear_forward(h, params[f"W{i}"], params[f"b{i}"])
        relu_cache = None
        if i < layers:
            h, relu_cache = relu_forward(h)
        caches.append((linear_cache, relu_cache))
    loss, dh = softmax_cross_entropy(h, y)
    grads = {}
    for i in range(layers, 0, -1):
        linear_cache, relu_cache = caches[i - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{i}"], grads[f"b{i}"] = linear_backward(dh, linear_cache)
    return loss, grads


def sgd_step(params, grads, lr):
    """One step against the gradient: a new dict of new arrays (params and grads unchanged)."""
    return {name: value - lr * grads[name] for name, value in params.items()}


def predict(params, X):
    """The most likely class of each row of X."""
    layers = len(params) // 2
    h = X
    for i in range(1, layers + 1):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < layers:
            h = np.maximum(h, 0)
    return np.argmax(h, axis=1)


def train(X, y, sizes, lr, epochs, batch_size, rng):
    """Minibatch SGD from init_mlp(sizes, rng), with the gradients of mlp_loss and sgd_step.

    Each epoch visits every row of X once, in a new random order drawn from rng, in batches of
    batch_size rows (the last batch may be smaller). X and y are left unchanged.
    """
    params = init_mlp(sizes, rng)
    n = X.shape[0]
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, grads = mlp_loss(params, X[batch], y[batch])
            params = sgd_step(params, grads, lr)
    return params


def make_spiral(points_per_class, classes, rng):  # given
    """A spiral data set: `classes` arms of `points_per_class` noisy points in the plane."""
    X = np.zeros((points_per_class * classes, 2))
    y = np.zeros(points_per_class * classes, dtype=int)
    for k in range(classes):
        rows = slice(points_per_class * k, points_per_class * (k + 1))
        radius = np.linspace(0.0, 1.0, points_per_class)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), points_per_class)
        angle = angle + rng.normal(0.0, 0.2, points_per_class)
        X[rows] = np.c_[radius * np.sin(angle), radius * np.cos(angle)]
        y[rows] = k
    return X, y
