"""Your course's checks: every assignment under assignments/, whatever the course holds.

Each assignment is discovered, never named, so adding, removing or renaming one only adds,
removes or renames its own cases. ``dlgrade publish --check`` runs the gates (reference full
marks, blank 0, every example as it declares, under 20 draws of the hidden inputs, nothing
shipped with an answer, committed files up to date); these checks add what the gates do not
see: the autograder zip through ``otter run`` against ``dlgrade run``, and the student's side
in a real Jupyter kernel and through ``dlgrade check``. Run them alone with
``python -m pytest -m course``.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import COURSE, course_assignments, run_dlgrade
from published import (
    command_verdicts,
    declared_loss,
    dlgrade_result,
    execute,
    kernel_verdicts,
    otter_score,
    passed,
    questions_of,
    same_text,
    solved,
    student_copy,
    with_answers,
)

from grader.authoring.publishing import out_of_date, solved_notebook
from grader.authoring.shipping import inspect_suite
from grader.core.settings import load_assignment

pytestmark = pytest.mark.course
ASSIGNMENTS = course_assignments()


def first_examples(name: str) -> list[Path]:
    """The first correct-but-different and the first known-bug example of an assignment."""
    examples = COURSE / "assignments" / name / "examples"
    return [found[0] for prefix in ("ok_", "bug_")
            if (found := sorted(examples.glob(f"{prefix}*.ipynb")))]


BRIDGED = [(name, example) for name in ASSIGNMENTS for example in first_examples(name)]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_committed_student_files_are_up_to_date(name):
    stale = out_of_date(load_assignment(str(COURSE / "assignments" / name)))
    assert stale == [], f"run: dlgrade publish {name}, then commit {stale}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_suite_ships_no_answer(name):
    assignment = load_assignment(str(COURSE / "assignments" / name))
    found = inspect_suite(assignment.tests, assignment.reference, tuple(assignment.questions))
    assert found.error is None, found.error
    assert found.problems == []
    assert found.shipments > 0 and found.tests > 0
    assert found.not_passed == []  # the whole suite ran, so every shipment was seen


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_and_blank_through_both_graders(published_course, tmp_path, name):
    reference = solved(published_course, tmp_path, name)
    blank = tmp_path / "blank.ipynb"
    shutil.copy(published_course / "student_template" / name / f"{name}.ipynb", blank)
    full = dlgrade_result(published_course, reference, name)
    assert full["score"] == full["max_score"] > 0
    assert otter_score(published_course, reference, tmp_path, name)[0] == full["max_score"]
    assert dlgrade_result(published_course, blank, name)["score"] == 0
    assert otter_score(published_course, blank, tmp_path, name)[0] == 0


@pytest.mark.parametrize("name, example", BRIDGED,
                         ids=[f"{name}-{example.stem}" for name, example in BRIDGED])
def test_examples_get_the_same_score_through_both_graders(published_course, tmp_path, name,
                                                          example):
    result = dlgrade_result(published_course, example, name)
    otter_total, otter_questions = otter_score(published_course, example, tmp_path, name)
    assert otter_total == pytest.approx(result["score"])
    assert otter_questions == {q: pytest.approx(s["score"]) for q, s in
                               result["questions"].items()}
    lost = {q for q, s in result["questions"].items() if s["score"] < s["max_score"]}
    assert lost == declared_loss(example)


# ---------------------------------------------------------------- the student's side

@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_blank_notebook_fails_every_check_readably(published_course, name, tmp_path):
    path = student_copy(published_course, name, tmp_path)
    kernel = kernel_verdicts(execute(path))
    done = run_dlgrade("check", path)
    assert done.returncode == 1
    command = command_verdicts(done.stdout, questions_of(published_course, name))
    assert set(kernel) == set(command)
    for question, text in command.items():
        assert re.match(rf"{question}: (its public check|\d+ of \d+ public checks) failed:",
                        text), text
        assert "is not written yet: it still raises NotImplementedError" in text
        assert "Traceback" not in kernel[question] and "grader/" not in kernel[question]
        same_text(kernel[question], text)
    assert "Traceback" not in done.stdout + done.stderr
    assert "does not promise full marks" in done.stdout


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_filled_notebook_passes_every_check(published_course, name, tmp_path):
    reference = solved_notebook(load_assignment(str(published_course / "assignments" / name)))
    path = student_copy(published_course, name, tmp_path, reference)
    kernel = kernel_verdicts(execute(path))
    assert kernel and all(passed(text) for text in kernel.values()), kernel
    with_answers(path)  # the questions people grade, answered as a student would
    done = run_dlgrade("check", path)
    assert done.returncode == 0, done.stdout
    command = command_verdicts(done.stdout, questions_of(published_course, name))
    assert all(passed(text) for text in command.values()), command
    ready = run_dlgrade("check", path, "--submit", "--zip")
    assert ready.returncode == 0, ready.stdout
    assert "ready: it reads, defines every function" in ready.stdout
    with zipfile.ZipFile(path.parent / f"{name}-submission.zip") as upload:
        assert upload.namelist() == [f"{name}.ipynb"]


def caught_by_public_checks(course: Path, name: str, folder: Path) -> tuple[Path, str]:
    """The first known-bug example that fails one question's public checks, and that
    question, which must be one it declares (a public check blames the right question too)."""
    for example in sorted((course / "assignments" / name / "examples").glob("bug_*.ipynb")):
        path = student_copy(course, name, folder / example.stem, example)
        done = run_dlgrade("check", path)
        command = command_verdicts(done.stdout, questions_of(course, name))
        failing = {q for q, t in command.items() if "failed:" in t}
        if failing:
            assert failing <= declared_loss(example), (example.name, failing)
            if len(failing) == 1:
                return path, failing.pop()
    pytest.fail(f"no known-bug example of {name} is caught by one question's public "
                f"checks alone")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_one_known_bug_fails_only_its_question_with_its_hint(published_course, name, tmp_path):
    path, question = caught_by_public_checks(published_course, name, tmp_path)
    kernel = kernel_verdicts(execute(path))
    failing = {q for q, text in kernel.items() if not passed(text)}
    assert failing == {question}, kernel
    done = run_dlgrade("check", path)
    assert done.returncode == 1
    command = command_verdicts(done.stdout, questions_of(published_course, name))
    assert {q for q, t in command.items() if "failed:" in t} == {question}
    same_text(kernel[question], command[question])
    alone = run_dlgrade("check", path, "-q", question)
    assert alone.returncode == 1 and command[question] in alone.stdout
    assert "0 of 1 questions pass" in alone.stdout
    assert not any(passed(line) for line in alone.stdout.splitlines())
