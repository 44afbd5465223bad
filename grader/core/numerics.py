"""The tolerance policy, finite differences and statistical checks, in one module.

Every hidden suite compares through this module, in the trusted process, so that tolerances
are the same everywhere and a failure message always says what was compared, where it differs
most, both values, the errors and the tolerance.

Policy (DESIGN.md, measured):
- analytic vs float64 reference: |a - r| <= atol + rtol*|r|, rtol 1e-6, atol 1e-9*max(1, max|r|)
- analytic vs centered finite difference (h = 1e-6*max(1, |x_i|)): rtol 1e-4,
  atol 1e-6*max(1, max|n|)
- float32, where a test declares it (a float32 reference, or ``FLOAT32`` passed): rtol 1e-3,
  atol 1e-5*max(1, max|r|); the student's dtype never chooses a tolerance
- statistical checks of random initializers: each false failure has probability < 1e-6
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader.sandbox.wire import Opaque


@dataclass(frozen=True)
class Tolerance:
    """``|actual - expected| <= atol_scale*max(1, max|expected|) + rtol*|expected|``, the
    maximum over the finite entries: an inf expected somewhere must not make every other
    entry's tolerance infinite."""

    rtol: float
    atol_scale: float
    name: str

    def atol(self, expected: np.ndarray) -> float:
        magnitudes = np.abs(expected)
        finite = magnitudes[np.isfinite(magnitudes)]
        peak = float(np.max(finite)) if finite.size else 0.0
        return self.atol_scale * max(1.0, peak)


REFERENCE = Tolerance(rtol=1e-6, atol_scale=1e-9, name="float64 tolerance")
FINITE_DIFFERENCE = Tolerance(rtol=1e-4, atol_scale=1e-6, name="finite-difference tolerance")
FLOAT32 = Tolerance(rtol=1e-3, atol_scale=1e-5, name="float32 tolerance")
FD_STEP = 1e-6
FALSE_FAILURE = 1e-7  # per statistical check: below the 1e-6 the policy promises


def tolerance_for(expected: np.ndarray) -> Tolerance:
    """The tolerance a comparison gets unless its test names one: that of the reference's
    precision. Never the dtype the student returned: a float32 result where float64 is
    asked is held to float64 (casting down must not buy a looser check)."""
    return FLOAT32 if expected.dtype in (np.float32, np.complex64) else REFERENCE


# ---------------------------------------------------------------- comparisons

def describe(value) -> str:
    if isinstance(value, Opaque):
        return f"an object of type {value.type_name} ({value.text})"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__} ({value!r})"[:200]


def as_numeric_array(value, what: str, expected: np.ndarray) -> np.ndarray:
    """``value`` as an ndarray of the expected shape, or an AssertionError saying why not."""
    if isinstance(value, (bool, np.bool_)) and expected.dtype.kind != "b":
        raise AssertionError(f"{what}: expected numbers, got {describe(value)}")
    if isinstance(value, (int, float, complex, np.generic)):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{what}: expected {_expected_kind(expected)}, got {describe(value)}")
    if value.dtype.kind not in "biufc":
        raise AssertionError(f"{what}: expected numbers, got an array of dtype {value.dtype}")
    if value.shape != expected.shape:
        hint = ""
        if value.shape == expected.shape[::-1] and value.ndim == 2:
            hint = " (it looks transposed)"
        elif value.size == expected.size:
            hint = " (same number of elements: a reshape or a missing axis?)"
        raise AssertionError(f"{what}: expected shape {expected.shape}, got shape "
                             f"{value.shape}{hint}")
    return value


def _expected_kind(expected: np.ndarray) -> str:
    return "a number" if expected.ndim == 0 else f"an array of shape {expected.shape}"


def assert_close(actual, expected, what: str, tolerance: Tolerance | None = None) -> None:
    """Check ``actual`` against the trusted ``expected`` elementwise under the policy."""
    expected = np.asarray(expected)
    actual = as_numeric_array(actual, what, expected)
    tolerance = tolerance or tolerance_for(expected)
    a = actual.astype(np.complex128 if actual.dtype.kind == "c" else np.float64)
    r = expected.astype(a.dtype if expected.dtype.kind != "c" else np.complex128)
    _check_finite(a, r, what)
    atol = tolerance.atol(r)
    with np.errstate(invalid="ignore"):
        excess = np.abs(a - r) - (atol + tolerance.rtol * np.abs(r))
        same = (a == r) | (np.isnan(a) & np.isnan(r))  # inf matches inf, nan matches nan
        excess = np.where(np.isfinite(r), excess, np.where(same, -1.0, np.inf))
    if a.size == 0 or np.max(excess) <= 0:
        return
    with np.errstate(all="ignore"):  # the worst element may be inf or nan
        raise AssertionError(_failure(a, r, excess, what, tolerance, atol))


def _failure(a, r, excess, what: str, tolerance: Tolerance, atol: float) -> str:
    index = np.unravel_index(int(np.argmax(excess)), a.shape)
    got, want = a[index], r[index]
    abs_error = abs(got - want)
    rel_error = abs_error / abs(want) if want != 0 else math.inf
    where = f" at index {list(map(int, index))}" if a.ndim else ""
    bad = int(np.sum(excess > 0))
    message = (f"{what}: values differ{where}: got {_fmt(got)}, expected {_fmt(want)} "
               f"(abs error {abs_error:.3g}, rel error {rel_error:.3g}; allowed abs {atol:.3g} "
               f"+ rel {tolerance.rtol:g}, the {tolerance.name}); "
               f"{bad} of {a.size} elements are off")
    hint = diagnose(a, r, tolerance)
    return message + (f"\n  hint: {hint}" if hint else "")


def _fmt(value) -> str:
    return f"{value:.8g}" if not isinstance(value, complex) else f"{value:.6g}"


def _check_finite(a: np.ndarray, r: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(a) & np.isfinite(r)
    if np.any(bad):
        index = np.unravel_index(int(np.argmax(bad)), a.shape)
        where = f" at index {list(map(int, index))}" if a.ndim else ""
        raise AssertionError(f"{what}: got {a[index]}{where} where a finite value was expected "
                             f"({int(bad.sum())} of {a.size} elements are nan or inf); look for "
                             f"an overflow, a division by zero or a log of 0")


def _close(a, r, tolerance: Tolerance) -> bool:
    return bool(np.all(np.abs(a - r) <= tolerance.atol(r) + tolerance.rtol * np.abs(r)))


def diagnose(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> str | None:
    """A hint for the common mistakes: transposed, wrong sign, off by a constant factor."""
    if actual.ndim == 2 and actual.shape[0] == actual.shape[1] and _close(actual.T, expected,
                                                                          tolerance):
        return "it looks transposed"
    if _close(-actual, expected, tolerance):
        return "it has the wrong sign everywhere"
    nonzero = np.abs(expected) > 1e-12
    if np.count_nonzero(nonzero) >= 2:
        ratios = actual[nonzero] / expected[nonzero]
        ratio = complex(np.median(ratios)).real
        if ratio not in (0.0, 1.0) and np.all(np.abs(ratios - ratio) <= 1e-6 * abs(ratio)):
            return (f"it is off by a constant factor of {ratio:.6g} everywhere (a missing or "
                    f"extra factor such as 2, or a sum where a mean belongs, or the reverse)")
    return None


def relative_error(a, b) -> float:
    """``max |a - b| / max(|a| + |b|, 1e-12)`` elementwise: 0 when both are 0, never nan."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


# ---------------------------------------------------------------- finite differences

def step_sizes(x: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    """The policy's per-element step: ``h * max(1, |x_i|)``."""
    return h * np.maximum(1.0, np.abs(x))


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = FD_STEP) -> np.ndarray:
    """Centered differences of scalar ``f`` along each one-hot direction; ``x`` is not touched."""
    x = np.array(x, dtype=np.float64)
    steps = step_sizes(x, h)
    grad = np.empty_like(x)
    probe = x.copy()
    for index in np.ndindex(x.shape):
        probe[index] = x[index] + steps[index]
        upper = float(f(probe))
        probe[index] = x[index] - steps[index]
        lower = float(f(probe))
        probe[index] = x[index]
        grad[index] = (upper - lower) / (2 * steps[index])
    return grad


def numerical_jacobian(f: Callable[[np.ndarray], np.ndarray], x, h: float = FD_STEP):
    """The (f(x).size, x.size) Jacobian by centered differences; row i is output i."""
    x = np.array(x, dtype=np.float64)
    steps = step_sizes(x, h).ravel()
    columns = []
    probe = x.copy().ravel()
    for j in range(x.size):
        probe[j] = x.flat[j] + steps[j]
        upper = np.asarray(f(probe.reshape(x.shape)), dtype=np.float64).ravel()
        probe[j] = x.flat[j] - steps[j]
        lower = np.asarray(f(probe.reshape(x.shape)), dtype=np.float64).ravel()
        probe[j] = x.flat[j]
        columns.append((upper - lower) / (2 * steps[j]))
    return np.stack(columns, axis=1)


def numerical_vjp(f: Callable[[np.ndarray], np.ndarray], x, upstream) -> np.ndarray:
    """``upstream`` pulled back through ``f`` at ``x``: the gradient of sum(upstream * f(x))."""
    upstream = np.asarray(upstream, dtype=np.float64)
    return numerical_gradient(lambda z: float(np.sum(upstream * np.asarray(f(z)))), x)


def assert_vjp(actual, f: Callable[[np.ndarray], np.ndarray], x, upstream, what: str) -> None:
    """Check a student's vector-Jacobian product against trusted finite differences."""
    assert_close(actual, numerical_vjp(f, x, upstream), what, FINITE_DIFFERENCE)


def random_upstream(rng: np.random.Generator, shape) -> np.ndarray:
    """A random upstream gradient (never all ones): N(0, 1) entries."""
    return rng.standard_normal(shape)


def random_inputs(rng: np.random.Generator, shape) -> np.ndarray:
    """Float64 values with |x| in [0.1, 1] and random sign, so a finite difference of a
    piecewise function (relu, abs) never crosses a kink."""
    return rng.uniform(0.1, 1.0, shape) * rng.choice([-1.0, 1.0], shape)


# ---------------------------------------------------------------- statistics

def _z(probability: float) -> float:
    """The two-sided normal quantile: P(|Z| > z) = probability."""
    from scipy.special import ndtri
    return float(-ndtri(probability / 2))


def _values(samples, what: str) -> np.ndarray:
    """The samples as float64, refused when there are none or some are not finite: every
    comparison with nan is false, so a nan would pass a bound, a mean and a distribution."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.size == 0:
        raise AssertionError(f"{what}: no values (shape {samples.shape})")
    bad = ~np.isfinite(samples)
    if np.any(bad):
        index = np.unravel_index(int(np.argmax(bad)), samples.shape)
        raise AssertionError(f"{what}: value {samples[index]} at index {list(map(int, index))} "
                             f"is not a finite number ({int(bad.sum())} of {samples.size} "
                             "values are nan or inf)")
    return samples


def assert_bounds(samples, low: float, high: float, what: str) -> None:
    samples = _values(samples, what)
    outside = (samples < low) | (samples > high)
    if np.any(outside):
        index = np.unravel_index(int(np.argmax(outside)), samples.shape)
        raise AssertionError(f"{what}: value {samples[index]:.6g} at index "
                             f"{list(map(int, index))} is outside [{low:.6g}, {high:.6g}] "
                             f"({int(outside.sum())} of {samples.size} values are)")


def assert_moments(samples, mean: float, std: float, what: str,
                   std_rtol: float = 0.02) -> None:
    """Sample mean within a bound that a correct sampler exceeds with probability < 1e-7, and
    sample standard deviation within ``std_rtol`` (2%) of ``std``."""
    samples = _values(samples, what).ravel()
    n = samples.size
    bound = _z(FALSE_FAILURE) * std / math.sqrt(n)
    got_mean, got_std = float(samples.mean()), float(samples.std())
    if abs(got_mean - mean) > bound:
        raise AssertionError(f"{what}: sample mean {got_mean:.4g} over {n} values, expected "
                             f"{mean:.4g} (allowed deviation {bound:.2g})")
    if abs(got_std - std) > std_rtol * std:
        ratio = got_std / std if std else math.inf
        hint = ""
        if std and abs(got_std - std * std) <= std_rtol * std * std and abs(std - 1) > 0.05:
            hint = " (it matches the variance: was a variance used as a standard deviation?)"
        elif std and abs(ratio ** 2 - round(ratio ** 2)) < 0.05 and round(ratio ** 2) >= 2:
            hint = f" (the variance is {ratio ** 2:.2f}x too large: a wrong fan or gain?)"
        raise AssertionError(f"{what}: sample standard deviation {got_std:.5g} over {n} values, "
                             f"expected {std:.5g} within {std_rtol:.0%} (ratio {ratio:.4g})"
                             f"{hint}")


def assert_distribution(samples, cdf: Callable, what: str, name: str) -> None:
    """A Kolmogorov-Smirnov test against ``cdf``, failing when p < 1e-7."""
    samples = _values(samples, what).ravel()
    statistic, pvalue = _kolmogorov_smirnov(samples, cdf)
    if pvalue < FALSE_FAILURE:
        raise AssertionError(f"{what}: the {samples.size} values do not follow {name} "
                             f"(Kolmogorov-Smirnov statistic {statistic:.4g}, "
                             f"p = {pvalue:.2g} < {FALSE_FAILURE:g})")


def _kolmogorov_smirnov(samples: np.ndarray, cdf: Callable) -> tuple[float, float]:
    """``scipy.stats.kstest(samples, cdf)``'s statistic and p-value (two-sided, exact), the
    same numbers: the samples sorted once where scipy sorts them four times."""
    from scipy import stats

    ordered = np.sort(samples)
    n = ordered.size
    values = cdf(ordered)
    above = float(np.max(np.arange(1.0, n + 1, dtype=np.float64) / n - values))
    below = float(np.max(values - np.arange(0.0, n, dtype=np.float64) / n))
    statistic = above if above > below else below
    return statistic, float(np.clip(stats.kstwo.sf(statistic, n), 0.0, 1.0))
