"""Reference solution of the assignment `backprop`: reverse-mode AD, layers, and an MLP."""

import numpy as np


class Value:
    """A scalar in a computation graph: its data, its gradient, and how to pass gradients back."""

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
        t = np.tanh(self.data)
        return self._unary(t, 1 - t * t)

    def relu(self):
        return self._unary(max(self.data, 0.0), float(self.data > 0))

    def exp(self):
        e = np.exp(self.data)
        return self._unary(e, e)

    def log(self):
        return self._unary(np.log(self.data), 1 / self.data)

    def sigmoid(self):
        s = 1 / (1 + np.exp(-self.data))
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

        Iterative, so that a graph of any depth fits within Python's recursion limit.
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
    """out = x @ W + b for a batch x of shape (N, D_in); the cache keeps what backward needs."""
    return x @ W + b, (x, W)


def linear_backward(dout, cache):
    """Gradients (dx, dW, db) of the loss, from dout = d(loss)/d(out) of shape (N, D_out)."""
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    """max(x, 0) elementwise."""
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """dout where the input was positive, 0 elsewhere (also at 0)."""
    return dout * (cache > 0)


def sigmoid_forward(x):
    """1 / (1 + exp(-x)) elementwise, without overflow for large |x|."""
    out = np.exp(-np.logaddexp(0, -x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels y, and its gradient."""
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
    """The loss of an MLP with ReLU hidden layers and a softmax output, and its gradients."""
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
    """One step against the gradient: a new dict of parameters."""
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
    """Minibatch SGD from init_mlp(sizes, rng): each epoch visits the data in a random order."""
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
