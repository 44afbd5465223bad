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
    b = a * (1 + rng.uniform(-0.1, 0.1, (3, 4)))
    a[0, 0] = b[0, 0] = 0.0
    a[1, 2], b[1, 2] = 1e-10, -1e-10  # below the 1e-8 floor
    assert_close(submission.call("relative_error", a, b), reference.relative_error(a, b),
                 "relative_error(a, b) for arrays of shape (3, 4) with zeros and tiny values")


@pytest.mark.points(2)
def test_worst_element_counts(submission, reference, rng):
    a = random_inputs(rng, (5, 2))
    b = a.copy()
    b[3, 1] *= 1.5
    got = submission.call("relative_error", a, b)
    assert_close(got, reference.relative_error(a, b),
                 "relative_error(a, b) where one element of 10 differs by 50% (the maximum over "
                 "elements, not the mean)")


def test_scalars(submission, reference, rng):
    a, b = float(rng.uniform(1, 2)), float(rng.uniform(-2, -1))
    assert_close(submission.call("relative_error", a, b), reference.relative_error(a, b),
                 f"relative_error({a:.4g}, {b:.4g})")
