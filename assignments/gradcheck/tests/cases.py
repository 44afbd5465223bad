"""Smooth test functions with known derivatives, built from random coefficients.

Instances are shipped to the student's process (they are what the student's code evaluates),
so they hold plain numbers and arrays only.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Cubic:
    """c0 + c1 t + c2 t^2 + c3 t^3: its centered difference errs by exactly c3 h^2."""

    c: np.ndarray

    def __call__(self, t):
        return self.c[0] + t * (self.c[1] + t * (self.c[2] + t * self.c[3]))

    def derivative(self, t):
        return self.c[1] + t * (2 * self.c[2] + 3 * t * self.c[3])

    def __repr__(self):
        return "a random cubic polynomial"


@dataclass
class Wave:
    """sin(a t) + exp(b t)."""

    a: float
    b: float

    def __call__(self, t):
        return np.sin(self.a * t) + np.exp(self.b * t)

    def derivative(self, t):
        return self.a * np.cos(self.a * t) + self.b * np.exp(self.b * t)

    def __repr__(self):
        return f"sin({self.a:.3g} t) + exp({self.b:.3g} t)"


@dataclass
class Landscape:
    """A scalar function of an array: sum(sin(A * x)) + sum(B * x * x), A and B shaped like x."""

    A: np.ndarray
    B: np.ndarray

    def __call__(self, x):
        return float(np.sum(np.sin(self.A * x)) + np.sum(self.B * x * x))

    def gradient(self, x):
        return self.A * np.cos(self.A * x) + 2 * self.B * x


@dataclass
class Layer:
    """An array-valued map: tanh(W @ x.ravel() + b), from x.size inputs to len(b) outputs."""

    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return np.tanh(self.W @ np.ravel(x) + self.b)

    def jacobian(self, x):
        return (1 - self(x) ** 2)[:, None] * self.W


def cubic(rng):
    return Cubic(rng.uniform(-2, 2, 4))


def wave(rng):
    return Wave(float(rng.uniform(0.5, 2)), float(rng.uniform(-1, 1)))


def scalar_point(rng):
    return float(rng.uniform(0.1, 2.0) * rng.choice([-1, 1]))


def landscape(rng, shape):
    return Landscape(rng.uniform(0.5, 2.0, shape), rng.uniform(-1.0, 1.0, shape))


def layer(rng, inputs, outputs):
    return Layer(rng.standard_normal((outputs, inputs)), rng.standard_normal(outputs))
