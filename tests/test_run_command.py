"""End to end: the real ``dlgrade run`` on real notebooks of the fixture assignment."""

import json

import pytest
from conftest import EXAMPLES, TOY, TOY_MAX, fixture_copy, grade_json, run_dlgrade, write_notebook

CONTRACT_KEYS = {"assignment", "submission", "status", "score", "max_score", "questions", "tests"}
TEST_KEYS = {"name", "question", "score", "max_score", "outcome", "message", "visibility"}


def test_reference_gets_full_marks():
    result = grade_json(EXAMPLES / "reference.ipynb")
    assert CONTRACT_KEYS <= set(result)
    assert all(set(test) == TEST_KEYS for test in result["tests"])
    assert result["status"] == "graded"
    assert result["score"] == result["max_score"] == TOY_MAX
    assert result["questions"] == {"q1": {"score": 6.0, "max_score": 6.0},
                                   "q2": {"score": 10.0, "max_score": 10.0}}
    assert result["assignment"] == "toy" and result["submission"] == "reference.ipynb"


def test_correct_but_different_gets_full_marks():
    assert grade_json(EXAMPLES / "loops.ipynb")["score"] == TOY_MAX


def test_blank_skeleton_gets_zero_and_says_why():
    result = grade_json(EXAMPLES / "blank.ipynb")
    assert (result["status"], result["score"]) == ("graded", 0.0)
    assert all(t["outcome"] == "failed" for t in result["tests"])
    message = result["tests"][0]["message"]
    assert message == "`affine` is not written yet: it still raises NotImplementedError"


def test_one_wrong_question_loses_exactly_its_points():
    result = grade_json(EXAMPLES / "wrong_dx.ipynb")
    assert result["questions"]["q1"] == {"score": 6.0, "max_score": 6.0}
    assert result["questions"]["q2"] == {"score": 0.0, "max_score": 10.0}
    assert result["score"] == 6.0


def test_wrong_value_message_names_index_values_and_tolerance(tmp_path):
    cells = ["import numpy as np\ndef affine(x, W, b):\n    return x @ W + b\n",
             "def affine_backward(dout, x, W):\n"
             "    return dout @ W.T, x.T @ dout, dout.sum(axis=0) * 2\n"]
    result = grade_json(write_notebook(tmp_path / "double_db.ipynb", cells))
    db = next(t for t in result["tests"] if t["name"].endswith("[2-db]"))
    assert db["outcome"] == "failed" and db["score"] == 0
    assert db["message"].startswith("db: values differ at index [")
    assert "expected" in db["message"] and "allowed abs" in db["message"]
    assert "constant factor of 2" in db["message"]
    assert result["score"] == 6.0 + 1 + 2 + 2  # q1, shapes, dx, dW (db wrong: no input check)


def test_partial_credit_within_one_test(tmp_path):
    # Wrong only for a batch of one row: 3 of the 4 batch sizes pass.
    cells = ["import numpy as np\ndef affine(x, W, b):\n"
             "    return (x @ W + b) if len(x) > 1 else np.zeros((1, W.shape[1]))\n",
             "def affine_backward(dout, x, W):\n    return dout @ W.T, x.T @ dout, dout.sum(0)\n"]
    result = grade_json(write_notebook(tmp_path / "batch.ipynb", cells))
    test = next(t for t in result["tests"] if t["name"] == "test_q1.py::test_affine_any_batch_size")
    assert (test["outcome"], test["score"], test["max_score"]) == ("failed", 1.5, 2.0)
    assert "affine with a batch of 1" in test["message"]
    assert result["score"] == TOY_MAX - 0.5


def test_visibility_is_reported():
    result = grade_json(EXAMPLES / "reference.ipynb")
    visibility = {t["name"]: t["visibility"] for t in result["tests"]}
    assert visibility["test_q1.py::test_affine_shape"] == "public"
    assert visibility["test_q1.py::test_affine_values"] == "hidden"


def test_same_submission_same_score_and_messages(tmp_path):
    cells = ["import numpy as np\ndef affine(x, W, b):\n    return x @ W + b + 1e-3\n"]
    path = write_notebook(tmp_path / "off.ipynb", cells)
    first, second = grade_json(path), grade_json(path)
    assert first == second


def test_readable_summary_without_json():
    done = run_dlgrade("run", TOY, EXAMPLES / "wrong_dx.ipynb")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "wrong_dx.ipynb: graded, 6 / 16 points"
    assert "q2: 0 / 10" in lines
    assert any(line.strip().startswith("FAIL test_q2.py::test_backward_shapes") for line in lines)


def test_assignment_by_name_under_assignments_folder(monkeypatch):
    monkeypatch.chdir(TOY.parent.parent)
    result = grade_json(EXAMPLES / "reference.ipynb", assignment="toy")
    assert result["score"] == TOY_MAX


@pytest.mark.parametrize("config, complaint", [
    ("name: toy\nlimts: {}\n", "unknown key 'limts'"),
    ("name: toy\nlimits: {call_timeout: 3x}\n", "limits.call_timeout must be a positive number"),
    ("name: toy\nlimits: {cpu_seconds: 1.5}\n", "limits.cpu_seconds must be a positive whole"),
    ("- just\n- a list\n", "expected a mapping"),
    ("name: toy\nreference: nowhere.py\n", "the reference solution"),
])
def test_invalid_assignment_yml_names_file_and_key(tmp_path, config, complaint):
    folder = tmp_path / "assignments" / "toy"
    (folder / "tests").mkdir(parents=True)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "toy.py").write_text("")
    (folder / "assignment.yml").write_text(config)
    done = run_dlgrade("run", folder, EXAMPLES / "reference.ipynb", "--json")
    assert done.returncode == 2
    assert str(folder / "assignment.yml") in done.stderr and complaint in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("config, test_code, complaint", [
    ("name: toy\n", "def test_unmarked(submission):\n    pass\n",
     "test_one.py::test_unmarked: needs @pytest.mark.question('ID')"),
    ("name: toy\nquestions: {q1: first}\n",
     "import pytest\n@pytest.mark.question('q 1')\ndef test_typo():\n    pass\n",
     "test_one.py::test_typo: question 'q 1' is not one of those in assignment.yml (q1)"),
    ("name: toy\n", "import nowhere_to_be_found\n", "No module named 'nowhere_to_be_found'"),
])
def test_broken_hidden_suite_is_a_clear_instructor_error(tmp_path, config, test_code, complaint):
    folder = tmp_path / "assignments" / "toy"
    (folder / "tests").mkdir(parents=True)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "toy.py").write_text("")
    (folder / "assignment.yml").write_text(config)
    (folder / "tests" / "test_one.py").write_text(test_code)
    done = run_dlgrade("run", folder, EXAMPLES / "reference.ipynb")
    assert done.returncode == 2 and "Traceback" not in done.stderr.splitlines()[0]
    assert str(folder / "tests") in done.stderr and complaint in done.stderr
    # A batch's grading processes collect the suite once: a broken one says the same.
    batch = run_dlgrade("grade", folder, EXAMPLES / "reference.ipynb", "-o", tmp_path / "out")
    assert batch.returncode == 2 and "Traceback" not in batch.stderr.splitlines()[0]
    assert str(folder / "tests") in batch.stderr and complaint in batch.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_unknown_assignment_is_a_clear_error(tmp_path):
    done = run_dlgrade("run", tmp_path / "nope", EXAMPLES / "reference.ipynb")
    assert done.returncode == 2 and "no assignment" in done.stderr


def test_json_output_is_one_object():
    done = run_dlgrade("run", TOY, EXAMPLES / "reference.ipynb", "--json")
    assert isinstance(json.loads(done.stdout), dict)


def _toy_with_test(tmp_path, name: str, code: str):
    """A copy of the toy assignment with one more hidden test file."""
    assignment = fixture_copy(tmp_path, "toy") / "assignments" / "toy"
    (assignment / "tests" / name).write_text(code)
    return assignment


SHIPPED_MAP = '''
import pytest

pytestmark = pytest.mark.question("q1")


def _scaled(x):
    return x.scale * 2  # the test's own map: it needs the object it was promised


def _apply_twice(namespace):
    return namespace["apply_twice"](_scaled, 3.0)


def test_apply_twice(submission):
    assert submission.run(_apply_twice) == 12.0, "apply_twice(f, x) should apply f twice"
'''


def test_an_error_in_the_tests_own_code_is_not_put_on_the_students_line(tmp_path):
    # The student hands the test's map a float where the handout promised an object: the
    # AttributeError is raised in the test's code, called from the student's line.
    assignment = _toy_with_test(tmp_path, "test_map.py", SHIPPED_MAP)
    notebook = write_notebook(tmp_path / "sub.ipynb", [
        "def apply_twice(f, x):\n    return f(f(x))\n"])
    test = next(t for t in grade_json(notebook, assignment)["tests"]
                if t["name"] == "test_map.py::test_apply_twice")
    assert test["outcome"] == "failed"
    assert test["message"].startswith(
        "the test's own code raised AttributeError: 'float' object has no attribute 'scale' "
        "on what your code gave it")
    assert test["message"].endswith('called from your code in apply_twice (line 2 of the cell '
                                    'starting "def apply_twice(f, x):"): return f(f(x))')
    # An error of the student's own line is still theirs.
    notebook = write_notebook(tmp_path / "own.ipynb", [
        "def apply_twice(f, x):\n    raise ValueError('not yet')\n"])
    own = next(t for t in grade_json(notebook, assignment)["tests"]
               if t["name"] == "test_map.py::test_apply_twice")
    assert own["message"] == ("your code raised ValueError: not yet\n  in apply_twice (line 2 of "
                              "the cell starting \"def apply_twice(f, x):\"): raise "
                              "ValueError('not yet')")
