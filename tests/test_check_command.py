"""`dlgrade check --submit` on the student's side, before submitting: the mistakes that would
cost a student the grading, each named with its fix (the kit's own gradcheck copy; every
course assignment's checks in a real kernel are course checks, tests/course)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import FIXTURES, run_dlgrade
from published import student_copy

from grader.authoring.publishing import solved_notebook
from grader.core.settings import load_assignment

# ---------------------------------------------------------------- before submitting

@pytest.fixture
def solved_gradcheck(fixture_course, tmp_path) -> Path:
    solved = solved_notebook(load_assignment(str(FIXTURES / "assignments" / "gradcheck")))
    notebook = json.loads(solved)
    notebook["metadata"]["dlgrade"]["limits"]["cell_timeout"] = 3  # keep the loop test short
    return student_copy(fixture_course, "gradcheck", tmp_path, json.dumps(notebook).encode())


def _edit(path: Path, change) -> Path:
    notebook = json.loads(path.read_text())
    change(notebook["cells"])
    path.write_text(json.dumps(notebook))
    return path


def _code(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"x{len(source)}",
            "metadata": {}, "outputs": [], "source": source}


def submit(path: Path) -> list[str]:
    done = run_dlgrade("check", path, "--submit", "--zip")
    assert done.returncode == 1, done.stdout
    assert "not ready:" in done.stdout and "Traceback" not in done.stdout + done.stderr
    assert not (path.parent / "gradcheck-submission.zip").exists()
    return [line.strip()[len("- fix: "):] for line in done.stdout.splitlines()
            if line.strip().startswith("- fix: ")]


def test_submit_catches_a_renamed_file(solved_gradcheck):
    renamed = solved_gradcheck.rename(solved_gradcheck.with_name("gradcheck (1).ipynb"))
    _edit(renamed, lambda cells: cells.insert(1, _code(
        'import otter\ngrader = otter.Notebook("gradcheck.ipynb")')))
    assert submit(renamed) == [
        "the file is named 'gradcheck (1).ipynb', not 'gradcheck.ipynb': rename it to "
        "gradcheck.ipynb (File > Rename in Jupyter) before you submit",
        "the notebook calls otter.Notebook('gradcheck.ipynb') but is named 'gradcheck (1)"
        ".ipynb': change that line to grader = otter.Notebook() (no file name), which works "
        "under any name"]


def test_submit_catches_a_missing_function(solved_gradcheck):
    def rename(cells):
        for cell in cells:
            cell["source"] = "".join(cell["source"]).replace("def numerical_jacobian(",
                                                             "def numerical_jacobi(")
    assert submit(_edit(solved_gradcheck, rename)) == [
        "`numerical_jacobian` is not defined: define it with exactly this name (its cell may "
        "have been renamed, deleted or not run)"]


def test_submit_catches_an_error_cell_and_an_unwritten_function(solved_gradcheck):
    def break_it(cells):
        cells.append(_code("scores = {}\nscores['q1'] += 1"))
        for cell in cells:
            source = "".join(cell["source"])
            if "def relative_error(" in source:
                head = source.split('"""')
                cell["source"] = f'{head[0]}"""{head[1]}"""\n    raise NotImplementedError\n'
    problems = submit(_edit(solved_gradcheck, break_it))
    assert problems[0] == ("`relative_error` is not written yet: it still raises "
                           "NotImplementedError: write its body, or leave it knowing that what "
                           "uses it loses its points")
    # The cell named as Jupyter shows it (by its first line: Jupyter numbers no cell).
    assert problems[1] == ('the cell starting "scores = {}" raised KeyError: \'q1\' (at line 2: '
                           'scores[\'q1\'] += 1): fix it so that Kernel > Restart and Run All '
                           'runs every cell without an error'), problems[1]
    assert len(problems) == 2


def test_submit_catches_an_infinite_loop(solved_gradcheck):
    problems = submit(_edit(solved_gradcheck, lambda cells: cells.append(
        _code("while True:\n    pass"))))
    assert len(problems) == 1
    assert problems[0] == ('the cell starting "while True:" did not finish within 3 s (an '
                           'infinite loop?): it must finish within 3 s; stop the loop or make it '
                           'faster, then Restart and Run All')


def test_submit_catches_huge_outputs_and_unreadable_files(solved_gradcheck, tmp_path):
    def flood(cells):
        cells[2]["outputs"] = [{"name": "stdout", "output_type": "stream",
                                "text": "x" * (3 * 2**20)}]
    problems = submit(_edit(solved_gradcheck, flood))
    assert problems == ["code cell 2 holds 3.0 MB of output: clear it (Edit > Clear Outputs) "
                        "or print less, then save"]
    solved_gradcheck.write_text('{"cells": [')
    problems = submit(solved_gradcheck)
    assert len(problems) == 1 and "not valid JSON" in problems[0]
    assert "save the notebook again from Jupyter" in problems[0]


def test_a_notebook_stripped_of_its_checks_says_so(fixture_course, tmp_path):
    notebook = json.loads(
        (fixture_course / "student_template/gradcheck/gradcheck.ipynb").read_text())
    del notebook["metadata"]["dlgrade"]
    lonely = tmp_path / "lonely.ipynb"
    lonely.write_text(json.dumps(notebook))
    done = run_dlgrade("check", lonely)
    assert done.returncode == 2
    assert done.stderr == ("dlgrade: error: no public checks found for lonely.ipynb: it carries "
                           "none (was it made from the published notebook?) and no tests/ folder "
                           "is beside it\n")


def test_in_a_course_folder_a_submissions_own_checks_never_run(fixture_course, tmp_path):
    """A TA checking a submission in the course folder runs the course's public checks, not
    those the submission carries; and wherever they come from, checks run in the sandbox, so
    carried ones that would leave a mark on the grader's disk cannot. The digest in the first
    cell is made to match them."""
    from grader.student.notebook import digest

    marker = tmp_path / "ran-outside-the-sandbox"
    notebook = json.loads(
        (fixture_course / "student_template/gradcheck/gradcheck.ipynb").read_text())
    forged = (f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n"
              "import pytest\n\n" + "".join(
                  f"@pytest.mark.question('q{i}')\n@pytest.mark.visibility('public')\n"
                  f"def test_q{i}(submission):\n    pass\n\n" for i in range(1, 7)))
    notebook["metadata"]["dlgrade"]["public_checks"] = {"source": forged,
                                                        "sha256": digest(forged)}
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if "dlgrade.Notebook(" in source:
            cell["source"] = re.sub(r'"[0-9a-f]{16}"\)', f'"{digest(forged)}")', source)
    submission = tmp_path / "alice.ipynb"
    submission.write_text(json.dumps(notebook))
    in_course = run_dlgrade("check", submission, cwd=fixture_course)
    assert in_course.returncode == 1 and not marker.exists()
    assert "`forward_difference` is not written yet" in in_course.stdout
    # Elsewhere the carried checks are the notebook's own: they run in the sandbox with the
    # notebook's cells, where the grader's disk is out of reach.
    elsewhere = run_dlgrade("check", submission)
    assert elsewhere.returncode == 1 and not marker.exists()
    assert elsewhere.stdout.startswith("alice.ipynb: the public checks could not run: "
                                       "ChecksBroken: they do not load: test_public.py: ")
    assert f"No such file or directory: '{marker}'" in elsewhere.stdout
