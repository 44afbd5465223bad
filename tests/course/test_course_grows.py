"""A course grows: an assignment added with ``dlgrade new`` (and one taken away) changes
nothing in the kit's own tests, and is checked like every other assignment."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import COURSE, course_assignments

pytestmark = [pytest.mark.course, pytest.mark.slow]


def pytest_in(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=course, capture_output=True, text=True, timeout=timeout)


def collected(course: Path) -> tuple[set[str], set[str]]:
    """Every test the suite holds (slow ones too): the kit's, and the course checks."""
    done = pytest_in(course, "--collect-only", "-q", "-n", "0", "-m", "slow or not slow")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "error" not in done.stdout.lower().split("collected")[-1], done.stdout[-3000:]
    ids = {line for line in done.stdout.splitlines() if "::" in line}
    course = {i for i in ids if i.startswith("tests/course/")}
    return ids - course, course


def test_a_new_assignment_is_checked_like_the_others_and_the_kit_does_not_notice(tmp_path):
    course = tmp_path / "course"
    for folder in ("assignments", "solutions", "student_template", "tests"):
        shutil.copytree(COURSE / folder, course / folder, ignore=shutil.ignore_patterns(
            "__pycache__", ".pytest_cache"))
    shutil.copy(COURSE / "pyproject.toml", course)
    gone = course_assignments()[0]  # one assignment taken away, another added
    shutil.rmtree(course / "assignments" / gone)
    shutil.rmtree(course / "student_template" / gone)
    (course / "solutions" / f"{gone}.py").unlink()
    new = subprocess.run(["dlgrade", "new", "softmax"], cwd=course, capture_output=True,
                         text=True, timeout=60)
    assert new.returncode == 0, new.stderr
    done = subprocess.run(["dlgrade", "publish", "--draws", "1", "softmax"], cwd=course,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "softmax: published" in done.stdout, done.stdout

    kit_before, course_before = collected(COURSE)
    kit_after, course_after = collected(course)
    assert kit_after == kit_before  # the kit's tests: the same ones, whatever the course holds
    added = course_after - course_before
    assert added and all("softmax" in test for test in added)
    assert course_before - course_after == {t for t in course_before if f"[{gone}" in t
                                            or f"-{gone}" in t or f"{gone}]" in t}

    checks = pytest_in(course, "tests/course", "-m", "course and not slow", "-k", "softmax")
    assert checks.returncode == 0, checks.stdout[-5000:]
    passed = re.search(r"(\d+) passed", checks.stdout)
    quick = {t for t in added if "test_course_seeds" not in t}
    assert passed and int(passed.group(1)) == len(quick), checks.stdout[-2000:]
    assert not re.search(r"\d+ (failed|error)", checks.stdout), checks.stdout[-2000:]
