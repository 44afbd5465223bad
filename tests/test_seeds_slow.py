"""Slow: correct solutions pass the randomized hidden suites for many grading seeds.

Run with `python -m pytest -m slow tests/test_seeds_slow.py`. Each grading seed is a different
course secret, so every random input and every statistical sample of the hidden suite changes.
"""

from pathlib import Path

import pytest

from grader.core.grading import grade_submission
from grader.core.settings import load_assignment
from grader.sandbox import Zygote

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def zygote():
    server = Zygote()
    yield server
    server.close()


@pytest.mark.slow
@pytest.mark.parametrize("name, seeds", [("initialization", 500), ("backprop", 200),
                                         ("forward_mode", 200), ("gradcheck", 200)])
def test_reference_gets_full_marks_for_every_seed(zygote, monkeypatch, name, seeds):
    assignment = load_assignment(str(ROOT / "assignments" / name))
    submission = ROOT / "solutions" / f"{name}.py"  # the reference itself, as a .py submission
    failures = []
    for seed in range(seeds):
        monkeypatch.setenv("DLGRADE_SECRET", f"seed-sweep-{seed}")
        result = grade_submission(assignment, submission, zygote)
        if result.score != result.max_score:
            failures.append((seed, [(t.name, t.message) for t in result.tests
                                    if t.outcome != "passed"]))
    assert not failures, failures
