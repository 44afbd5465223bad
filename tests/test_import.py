"""`dlgrade import`: Otter Assign and nbgrader notebooks become assignments that publish.

The fixtures in tests/fixtures/importers/ are the projects' own example notebooks, copied
verbatim with their licences: Otter's test/test_assign/files/exception-example.ipynb and
nbgrader's docs/source/user_guide/source/ps1/problem{1,2}.ipynb (from the nbgrader 0.9.3 wheel).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from grader.authoring.importers import ImportFailure, import_notebook
from grader.authoring.publishing import solved_notebook
from grader.core.settings import load_assignment

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
OTTER = FIXTURES / "otter" / "exception-example.ipynb"
NBGRADER = FIXTURES / "nbgrader" / "problem1.ipynb"

pytestmark = pytest.mark.xdist_group("import")


def dlgrade(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dlgrade", *args], cwd=course, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "DLGRADE_SERVER": "0"})


def grade(course: Path, name: str, notebook: Path) -> dict:
    done = dlgrade(course, "run", name, str(notebook), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_publishes_and_grades(course: Path, name: str) -> None:
    """Publishing passes its gates; the solution gets full marks and the blank notebook less."""
    published = dlgrade(course, "publish", name, "--draws", "2")
    assert published.returncode == 0, published.stdout + published.stderr
    solved = course / "solved.ipynb"
    solved.write_bytes(solved_notebook(load_assignment(str(course / "assignments" / name))))
    full = grade(course, name, solved)
    assert full["status"] == "graded" and full["score"] == full["max_score"] > 0, full
    blank = grade(course, name, course / "student_template" / name / f"{name}.ipynb")
    assert blank["score"] < blank["max_score"], blank


def not_converted(report) -> str:
    return "\n".join(str(item) for item in report.skipped)


def test_otter_example_publishes_and_lists_what_it_leaves_out(tmp_path):
    report = import_notebook("otter", OTTER, tmp_path)
    assert report.name == "exception_example" and report.questions == ("q3",)
    assert set(report.manual) == {"q2", "q4", "question6", "q7"}
    left_out = not_converted(report)
    assert "cell 6: solution code outside a function (line 1: x = 2)" in left_out
    assert "q1a-2: test of q1 (2 points): it uses x" in left_out
    assert "question question5: it has no tests" in left_out
    assert "Having equal side lengths" in left_out  # q4's model answer, kept from students
    assert "cell 3: export of question q1: not applied" in left_out
    assert "cell 9: success_message of test q1a-1 of question q1: not applied" in left_out
    config = (tmp_path / "assignments" / "exception_example" / "assignment.yml").read_text()
    assert "q4:\n    title: Question 4. What does equilateral mean?\n    points: 2" in config
    hidden = (tmp_path / "assignments" / "exception_example" / "tests" / "test_hidden.py")
    assert "assert square(1) == 1" in hidden.read_text()
    assert_publishes_and_grades(tmp_path, "exception_example")


def test_nbgrader_example_publishes(tmp_path):
    report = import_notebook("nbgrader", NBGRADER, tmp_path)
    assert report.questions == ("q1", "q2") and report.checks == 4
    assert set(report.manual) == {"sum_of_squares_equation", "sum_of_squares_application",
                                  "cell_938593c4a215c6cc"}
    assert "sum_of_squares_uses_squares: runs in the student's process" in not_converted(report)
    reference = (tmp_path / "solutions" / "problem1.py").read_text()
    assert "return [i ** 2 for i in range(1, n + 1)]" in reference
    assert "BEGIN SOLUTION" not in reference
    assert_publishes_and_grades(tmp_path, "problem1")


def otter_notebook(*cells: tuple[str, str, list]) -> dict:
    made = []
    for kind, source, outputs in cells:
        cell = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            cell |= {"outputs": outputs, "execution_count": None}
        made.append(cell)
    return {"cells": made, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def result(text: str) -> list:
    return [{"output_type": "execute_result", "data": {"text/plain": text}, "metadata": {},
             "execution_count": 1}]


def write(path: Path, notebook: dict) -> Path:
    path.write_text(json.dumps(notebook))
    return path


DOCTESTS = otter_notebook(
    ("raw", "# ASSIGNMENT CONFIG\nname: relu_hw", []),
    ("code", "import numpy as np", []),
    ("raw", "# BEGIN QUESTION\nname: q1\npoints: 4", []),
    ("markdown", "**Question 1.** Write `relu`.", []),
    ("raw", "# BEGIN SOLUTION", []),
    ("code", "def relu(x):\n    return np.maximum(x, 0)  # SOLUTION", []),
    ("raw", "# END SOLUTION", []),
    ("raw", "# BEGIN TESTS", []),
    ("code", "relu(np.array([-1.0, 2.0])).tolist()", result("[0.0, 2.0]")),
    ("code", "# HIDDEN\nprint(relu(-3.0))\nrelu(5.0) == 5.0", [
        {"output_type": "stream", "name": "stdout", "text": "0.0\n"}, *result("True")]),
    ("raw", "# END TESTS", []),
    ("raw", "# END QUESTION", []),
)


def test_otter_output_tests_compare_what_the_cell_showed(tmp_path):
    report = import_notebook("otter", write(tmp_path / "hw.ipynb", DOCTESTS), tmp_path)
    assert report.name == "relu_hw" and report.checks == 2 and not report.skipped
    assert_publishes_and_grades(tmp_path, "relu_hw")
    wrong = nbformat.read(tmp_path / "solved.ipynb", as_version=4)
    for cell in wrong.cells:
        cell.source = cell.source.replace("np.maximum(x, 0)", "np.maximum(x, 0) + 1")
    nbformat.write(wrong, tmp_path / "wrong.ipynb")
    graded = grade(tmp_path, "relu_hw", tmp_path / "wrong.ipynb")
    assert graded["score"] == 0, graded
    assert "expected '[0.0, 2.0]', got '[1.0, 3.0]'" in json.dumps(graded)


def test_otter_settings_that_are_not_applied_are_listed_naming_the_question(tmp_path):
    cells = list(DOCTESTS["cells"])
    cells[2] = {**cells[2], "source": "# BEGIN QUESTION\nname: q1\npoints: 4\n"
                "all_or_nothing: true\ncheck_cell: false\nexport: true\npublic_points: 1\n"
                "private_points: 3"}
    cells[8] = {**cells[8], "source": '""" # BEGIN TEST CONFIG\nsuccess_message: Well done!\n'
                '""" # END TEST CONFIG\n' + cells[8]["source"]}
    notebook = write(tmp_path / "hw.ipynb", DOCTESTS | {"cells": cells})
    report = import_notebook("otter", notebook, tmp_path)
    assert report.questions == ("q1",) and report.checks == 2
    assert not_converted(report).splitlines() == [
        "cell 3: all_or_nothing of question q1: not applied: each test earns its own points",
        "cell 3: check_cell of question q1: not applied: "
        "a check follows every question graded by tests",
        "cell 3: export of question q1: not applied: there is no PDF export",
        "cell 3: public_points of question q1: not applied: a question's points are shared "
        "by its tests, public and hidden alike",
        "cell 3: private_points of question q1: not applied: a question's points are shared "
        "by its tests, public and hidden alike",
        "cell 9: success_message of test cell9 of question q1: not applied: "
        "a passing check shows no message",
    ]
    assert "not converted (6):" in report.render()


def test_a_notebook_without_automatic_questions_is_refused_with_its_list(tmp_path):
    with pytest.raises(ImportFailure, match=r"no question could be converted"):
        import_notebook("nbgrader", FIXTURES / "nbgrader" / "problem2.ipynb", tmp_path)


@pytest.mark.parametrize("cell, line, message", [
    (("raw", "# BEGIN QUESTIN\nname: q1", []), "cell 3, line 1", "unknown marker"),
    (("raw", "# BEGIN QUESTION\nname: q1\npoints: [1", []), "cell 3, line 3", "malformed YAML"),
    (("code", "def f(x):\n    # BEGIN SOLUTON\n    return x", []), "cell 3, line 2",
     "unknown marker 'BEGIN SOLUTON'"),
    (("raw", "# END QUESTION", []), "cell 3, line 1", "outside a question"),
])
def test_bad_otter_markers_name_the_cell_and_line(tmp_path, cell, line, message):
    notebook = DOCTESTS | {"cells": DOCTESTS["cells"][:2] + [
        {"cell_type": cell[0], "metadata": {}, "source": cell[1], "outputs": []}]}
    with pytest.raises(ImportFailure, match=rf"{line}: .*{message}"):
        import_notebook("otter", write(tmp_path / "bad.ipynb", notebook), tmp_path)


def test_bad_nbgrader_cells_name_the_cell(tmp_path):
    notebook = json.loads(NBGRADER.read_text())
    notebook["cells"][2]["source"] = ["def squares(n):\n", "    ### BEGIN SOLUTIN\n",
                                      "    return n\n"]
    with pytest.raises(ImportFailure, match=r"cell 3, line 2: unknown marker 'BEGIN SOLUTIN'"):
        import_notebook("nbgrader", write(tmp_path / "bad.ipynb", notebook), tmp_path)
    notebook = json.loads(NBGRADER.read_text())
    notebook["cells"][5]["metadata"]["nbgrader"]["points"] = "one"
    with pytest.raises(ImportFailure, match=r"cell 6: metadata nbgrader.points must be a number"):
        import_notebook("nbgrader", write(tmp_path / "bad.ipynb", notebook), tmp_path)


def test_an_import_never_overwrites_without_force(tmp_path):
    import_notebook("nbgrader", NBGRADER, tmp_path)
    handout = tmp_path / "assignments" / "problem1" / "handout.md"
    handout.write_text("edited by hand")
    with pytest.raises(ImportFailure, match=r"not overwriting .*problem1.*--force"):
        import_notebook("nbgrader", NBGRADER, tmp_path)
    assert handout.read_text() == "edited by hand"
    import_notebook("nbgrader", NBGRADER, tmp_path, force=True)
    assert handout.read_text().startswith("# problem1")
