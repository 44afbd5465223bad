"""Weights that are not numbers never pass a statistical check. Every comparison with nan is
false, so a bound, a sample mean and a Kolmogorov-Smirnov test written as "fail when beyond"
all let nan through: a weight initializer returning nan for the large shape the hidden test
draws, and honest weights for the small shape the determinism check draws, scored full marks
(as backprop's ``init_mlp`` did)."""

from __future__ import annotations

import pytest
from conftest import BACKWARD, FORWARD, TOY_MAX, fixture_copy, grade_json, write_notebook

SUITE = '''
import numpy as np
import pytest
from scipy import stats

from grader.numerics import assert_bounds, assert_distribution, assert_moments

pytestmark = pytest.mark.question("q3")
SHAPE = (256, 512)


@pytest.mark.points(2)
def test_uniform(submission, rng):
    weights = submission.call("glorot_uniform", SHAPE, np.random.default_rng(rng.integers(9)))
    bound = np.sqrt(6 / sum(SHAPE))
    assert_bounds(weights, -bound, bound, "glorot_uniform")
    assert_moments(weights, 0.0, bound / np.sqrt(3), "glorot_uniform")
    assert_distribution(weights, stats.uniform(-bound, 2 * bound).cdf, "glorot_uniform",
                        "U(-a, a)")


def test_same_seed_same_weights(submission):
    first = submission.call("glorot_uniform", (6, 4), np.random.default_rng(1))
    again = submission.call("glorot_uniform", (6, 4), np.random.default_rng(1))
    assert isinstance(first, np.ndarray) and np.array_equal(first, again), "not repeatable"
'''
HONEST = """
def glorot_uniform(shape, rng):
    bound = np.sqrt(6 / sum(shape))
    return rng.uniform(-bound, bound, shape)
"""
# Honest where a nan would show (the small shape), nan where the statistics look.
NAN = HONEST + """
_honest = glorot_uniform

def glorot_uniform(shape, rng):
    weights = _honest(shape, rng)
    return weights if weights.size < 1000 else weights * np.nan
"""
ONE_INF = HONEST.replace("return rng.uniform(-bound, bound, shape)",
                         "weights = rng.uniform(-bound, bound, shape)\n"
                         "    weights.flat[7] = np.inf\n    return weights")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = fixture_copy(tmp_path_factory.mktemp("course"), "toy", examples=False)
    toy = root / "assignments" / "toy"
    (toy / "tests" / "test_q3.py").write_text(SUITE)
    settings = (toy / "assignment.yml").read_text()
    (toy / "assignment.yml").write_text(settings.replace("  q2: affine backward\n",
                                                         "  q2: affine backward\n"
                                                         "  q3: initialization\n"))
    with open(root / "solutions" / "toy.py", "a") as reference:
        reference.write("\nimport numpy as np\n" + HONEST)
    return toy


@pytest.mark.parametrize("cell, message", [
    (NAN, "glorot_uniform: value nan at index [0, 0] is not a finite number (131072 of 131072 "
          "values are nan or inf)"),
    (ONE_INF, "glorot_uniform: value inf at index [0, 7] is not a finite number (1 of 131072 "
              "values are nan or inf)"),
])
def test_weights_that_are_not_numbers_earn_nothing(course, tmp_path, cell, message):
    honest = grade_json(write_notebook(tmp_path / "honest.ipynb", [FORWARD, BACKWARD, HONEST]),
                        course)
    assert honest["score"] == honest["max_score"] == TOY_MAX + 3
    forged = grade_json(write_notebook(tmp_path / "forged.ipynb", [FORWARD, BACKWARD, cell]),
                        course)
    lost = [(t["name"], t["score"], t["message"]) for t in forged["tests"]
            if t["score"] < t["max_score"]]
    assert lost == [("test_q3.py::test_uniform", 0.0, message)]
    assert forged["score"] == TOY_MAX + 1
