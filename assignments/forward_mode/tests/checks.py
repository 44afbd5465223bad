"""Trusted-side comparisons of a described result, with the rule and input in each message."""

from contextlib import contextmanager

import numpy as np

from grader.numerics import FINITE_DIFFERENCE, assert_close, numerical_gradient
from grader.sandbox import ReplyError, StudentError

INTEGER_TYPES = {"dual of ints": "{}", "dual of int64": "np.int64({})"}


def show(spec):
    kind, value, deriv = spec
    if kind == "dual":
        return f"Dual({value:.4g}, {deriv:.4g})"
    if kind == "dual of floats":
        return f"Dual({float(value)!r}, {float(deriv)!r})"
    if kind in INTEGER_TYPES:
        return f"Dual({INTEGER_TYPES[kind].format(value)}, {INTEGER_TYPES[kind].format(deriv)})"
    return f"{kind}({value:.4g})"


def shown(described):
    """A described result (scenarios.describe) as the student would print it."""
    def number(value):
        try:
            return f"{float(value):.6g}"
        except (TypeError, ValueError):
            return repr(value)[:40]

    if described[0] == "dual":
        return f"Dual({number(described[1])}, {number(described[2])})"
    return number(described[1]) if described[0] == "real" else f"a {described[1]}"


def require(submission, *names):
    """Fail, naming it, when the submission does not define a function the test is about."""
    defined = submission.names()
    missing = [name for name in names if name not in defined]
    assert not missing, (
        f"`{missing[0]}` is not defined in your submission: define it with exactly this name, "
        f"and check that its cell runs")


@contextmanager
def case(failures, what):
    """Run one case of a test over several: its failure is kept, and the next case runs."""
    try:
        yield
    except AssertionError as error:
        failures.append(str(error).replace("\n", "\n    "))
    except StudentError as error:
        where = f" ({error.where[-1]})" if error.where else ""
        whose = "the test's code, on what your code gave it," if getattr(
            error, "in_test", False) else "your code"
        failures.append(f"{what}: {whose} raised {error}{where}")
    except ReplyError as error:
        failures.append(f"{what}: your code returned something the grader cannot read: {error}")


def all_passed(failures, what):
    """One failure message for every case that failed, not only the first."""
    if failures:
        shown_here = failures[:8]
        more = f"\n  ... and {len(failures) - 8} more" if len(failures) > 8 else ""
        raise AssertionError(f"{what}: {len(failures)} case{'s' if len(failures) > 1 else ''} "
                             f"failed:\n  " + "\n  ".join(shown_here) + more)


def same(old, new) -> bool:
    """Two described values (scenarios.describe) are the same, nan equal to nan."""
    if len(old) != len(new) or old[0] != new[0]:
        return False
    try:
        return all(np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                  equal_nan=True) for a, b in zip(old[1:], new[1:], strict=True))
    except (TypeError, ValueError):
        return list(old) == list(new)


def expect_unchanged(before, after, what, names=("the left operand", "the right operand")):
    """Operands described before and after an operation (scenarios.operands_after)."""
    changed = [f"{name}: {shown(old)} before, {shown(new)} after"
               for name, old, new in zip(names, before, after, strict=False)
               if old[0] == "dual" and not same(old, new)]
    assert not changed, f"{what} changed {'; '.join(changed)}"


def expect_dual(got, expected, what, rule):
    """`got` must be a Dual with the reference's value and derivative."""
    assert got[0] == "dual", (
        f"{what} should give a Dual, got {'a real number' if got[0] == 'real' else got[1]}")
    assert_close(got[1], expected[1], f"{what}: the value")
    assert_close(got[2], expected[2], f"{what}: the derivative (the {rule})")


def expect_real(got, expected, what, tolerance=None):
    assert got[0] == "real", (f"{what} should give a real number, not "
                              f"{'a Dual' if got[0] == 'dual' else got[1]}")
    assert_close(got[1], expected[1], what, tolerance)


def finite_difference(value_of, specs):
    """d/dt of value_of(specs moved by t along their derivatives), at t = 0."""
    def moved(t):
        return [(kind, value + t[0] * deriv, 0.0) if kind == "dual" else (kind, value, None)
                for kind, value, deriv in specs]

    return numerical_gradient(lambda t: value_of(moved(t)), np.zeros(1))[0]


def expect_finite_difference(got, value_of, specs, what):
    """The student's derivative against centered differences of the reference's values."""
    if got[0] == "dual" and np.isfinite(got[2]):
        assert_close(got[2], finite_difference(value_of, specs),
                     f"{what}: the derivative against finite differences", FINITE_DIFFERENCE)
