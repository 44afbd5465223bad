"""Hidden tests of q4 (relative error)."""

import numpy as np
import pytest

from grader.numerics import assert_close, random_inputs

pytestmark = pytest.mark.question("q4")


def test_both_zero_is_zero_not_nan(submission):
    for a, b in [(0.0, 0.0), (np.zeros(3), np.zeros(3)), (np.zeros((2, 2)), -np.zeros((2, 2)))]:
        got = submission.call("relative_error", a, b)
        assert_close(got, 0.0, f"relative_error of two zeros ({np.shape(a) or 'scalars'})")


def test_arrays_match_the_formula(submission, reference, rng):
    a = random_inputs(rng, (3, 4))
    b = a * (1 + rng.uniform(-0.01, 0.01, (3, 4)))
    a[0, 0] = b[0, 0] = 0.0
    # Below the 1e-8 floor: relative error (t + s) / 1e-8 in [0.02, 0.1], the largest of all,
    # where adding 1e-8 to the denominator instead of taking the maximum gives less.
    a[1, 2], b[1, 2] = 1e-10 * rng.uniform(1, 5), -1e-10 * rng.uniform(1, 5)
    assert_close(submission.call("relative_error", a, b), reference.relative_error(a, b),
                 "relative_error(a, b) for arrays of shape (3, 4) with zeros and tiny values "
                 "(the floor is max(|a| + |b|, 1e-8), not |a| + |b| + 1e-8)")


@pytest.mark.points(2)
def test_worst_element_counts(submission, reference, rng):
    a = random_inputs(rng, (5, 2))
    a[3, 1] = 0.05 * rng.choice([-1.0, 1.0])  # the smallest element: not the largest norm
    b = a.copy()
    b[3, 1] *= 1.5
    got = submission.call("relative_error", a, b)
    assert_close(got, reference.relative_error(a, b),
                 "relative_error(a, b) where one element of 10 differs by 50% (the maximum over "
                 "elements of the ratios, not a mean, nor a ratio of norms or of maxima)")


def test_scalars(submission, reference, rng):
    a, b = float(rng.uniform(1, 2)), float(rng.uniform(-2, -1))
    assert_close(submission.call("relative_error", a, b), reference.relative_error(a, b),
                 f"relative_error({a:.4g}, {b:.4g})")
    i, j = int(rng.integers(1, 10)), int(rng.integers(-10, 0))
    assert_close(submission.call("relative_error", i, j), reference.relative_error(i, j),
                 f"relative_error({i}, {j}) for two Python ints")


def test_relative_error_leaves_its_arguments_alone(submission, rng):
    a = random_inputs(rng, (3, 4))
    b = a * (1 + rng.uniform(-0.1, 0.1, (3, 4)))
    _, (after_a, after_b) = submission.call_with_inputs("relative_error", a, b)
    for name, after, before in [("a", after_a, a), ("b", after_b, b)]:
        assert isinstance(after, np.ndarray) and np.array_equal(after, before), (
            f"relative_error(a, b) changed {name}: after it returned, {name} did not hold its "
            f"original values (compute into new arrays: np.abs(a - b), not a -= b)")
