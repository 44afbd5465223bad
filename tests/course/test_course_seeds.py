"""Slow: each assignment's reference gets full marks for hundreds of grading seeds.

Each grading seed is a different course secret, so every random input and every statistical
sample of the hidden suite changes. Run with ``python -m pytest -m slow`` (CI does); the
seeds come in chunks so that parallel workers share them.
"""

from __future__ import annotations

import pytest
from conftest import COURSE, course_assignments

from grader.core.grading import grade_submission
from grader.core.settings import load_assignment
from grader.sandbox import Zygote

pytestmark = [pytest.mark.course, pytest.mark.slow]
SEEDS, CHUNK = 200, 50


@pytest.fixture(scope="module")
def zygote():
    server = Zygote()
    yield server
    server.close()


@pytest.mark.parametrize("name", course_assignments())
@pytest.mark.parametrize("first", range(0, SEEDS, CHUNK), ids=lambda f: f"seeds{f}+")
def test_reference_gets_full_marks_for_every_seed(zygote, name, first):
    assignment = load_assignment(str(COURSE / "assignments" / name))
    submission = assignment.reference  # the reference itself, as a .py submission
    failures = []
    for seed in range(first, first + CHUNK):
        result = grade_submission(assignment, submission, zygote,
                                  secret=f"seed-sweep-{seed}".encode())
        if result.score != result.max_score:
            failures.append((seed, [(t.name, t.message) for t in result.tests
                                    if t.outcome != "passed"]))
    assert not failures, failures
