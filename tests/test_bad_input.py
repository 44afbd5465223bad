"""Bad input: every file gets a result with a status and a message a student understands."""

import nbformat
import nbformat.v3
import pytest
from conftest import BACKWARD, FORWARD, TOY_MAX, grade_json, write_notebook


def _q(result, question):
    return result["questions"][question]["score"]


@pytest.mark.parametrize("content, expected", [
    (b'{"cells": [', "not valid JSON"),
    (b"", "the file is empty"),
    (b"   \n\n", "the file is empty"),
    (bytes(range(256)) * 40, "not a text file"),
    (b'{"a": 1}', "JSON but not a Jupyter notebook"),
    (b'{"nbformat": 5, "nbformat_minor": 0, "cells": []}', "newer than this grader reads"),
])
def test_unreadable_notebooks_get_an_error_status(tmp_path, content, expected):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(content)
    result = grade_json(path)
    assert result["status"] == "error" and result["score"] == 0
    assert result["max_score"] == TOY_MAX  # every question keeps its maximum in the gradebook
    assert expected in result["message"]
    assert all(t["outcome"] == "failed" and t["message"] == f"not graded: {result['message']}"
               for t in result["tests"])
    assert path.read_bytes() == content  # the input is never modified


@pytest.mark.parametrize("name", ["submission_metadata.yml", "answers.txt", "submission"])
def test_a_file_that_is_neither_a_notebook_nor_python_is_never_run(tmp_path, name):
    # Correct code, even: what is not a notebook or a .py file is an error, not code.
    path = tmp_path / name
    path.write_text(FORWARD + "\n" + BACKWARD)
    result = grade_json(path)
    assert result["status"] == "error" and result["score"] == 0
    kind = f"a {path.suffix} file" if path.suffix else "a file without an extension"
    assert result["message"] == (f"{name}: the file is {kind}: a submission is a notebook "
                                 f"(.ipynb) or a Python file (.py), and nothing else is run")
    python = path.with_name("submission.py")
    python.write_bytes(path.read_bytes())
    assert grade_json(python)["score"] == TOY_MAX  # the same code as a .py file is graded


def test_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.py"
    with open(path, "wb") as handle:
        handle.truncate(30 * 2**20)
    result = grade_json(path)
    assert result["status"] == "error" and "must be under 20 MB" in result["message"]


def test_nbformat_3_notebook_is_upgraded_and_graded(tmp_path):
    cells = [nbformat.v3.new_code_cell(input=FORWARD), nbformat.v3.new_code_cell(input=BACKWARD)]
    notebook = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=cells)])
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.v3.writes_json(notebook))
    result = grade_json(path)
    assert (result["status"], result["score"]) == ("graded", TOY_MAX)


def test_notebook_without_code_cells(tmp_path):
    result = grade_json(write_notebook(tmp_path / "prose.ipynb", []))
    assert (result["status"], result["score"]) == ("graded", 0.0)
    assert result["message"] == "the submission has no code cells"
    assert "`affine` is not defined in your submission" in result["tests"][0]["message"]


def test_syntax_error_in_one_cell_spares_the_others(tmp_path):
    broken = "def affine(x, W, b)\n    return x @ W + b\n"
    result = grade_json(write_notebook(tmp_path / "syntax.ipynb", [broken, BACKWARD]))
    assert result["status"] == "graded"
    assert _q(result, "q1") == 0 and _q(result, "q2") == 10
    assert "code cell 1: raised SyntaxError" in result["message"]
    assert "line 1" in result["message"]


def test_missing_function_says_which_name(tmp_path):
    renamed = FORWARD.replace("def affine(", "def affine_layer(")
    result = grade_json(write_notebook(tmp_path / "renamed.ipynb", [renamed, BACKWARD]))
    message = result["tests"][0]["message"]
    assert "`affine` is not defined in your submission" in message
    assert "define it with exactly this name" in message
    assert _q(result, "q2") == 10


@pytest.mark.parametrize("body, expected", [
    ("return (x @ W + b).T", "(it looks transposed)"),
    ("return (x @ W + b).ravel()", "same number of elements"),
    ("return (x @ W + b).astype(str)", "array of dtype <U"),
    ("return (x @ W + b).tolist()", "got a list"),
    ("return None", "got a NoneType"),
    ("return np.full((len(x), W.shape[1]), np.nan)", "nan or inf"),
    # A float32 result is held to the tolerance of the float64 reference it is compared with.
    ("return (x @ W + b).astype(np.float32) + 1e-2", "the float64 tolerance"),
])
def test_wrong_return_values_get_a_precise_message(tmp_path, body, expected):
    forward = f"import numpy as np\ndef affine(x, W, b):\n    {body}\n"
    result = grade_json(write_notebook(tmp_path / "wrong.ipynb", [forward, BACKWARD]))
    values = next(t for t in result["tests"] if t["name"] == "test_q1.py::test_affine_values")
    assert values["outcome"] == "failed" and expected in values["message"], values["message"]
    assert result["status"] == "graded" and _q(result, "q1") <= 1 and _q(result, "q2") == 10


def test_a_float32_result_is_held_to_the_float64_policy(tmp_path):
    """Rounding the right values to float32 is within the float64 tolerance for one call
    (a relative error below 2**-24, under rtol 1e-6), so every single-call check passes
    whatever the draw; fed back into a second call (the composition check), cancellation
    can take it out, and then the message names the float64 tolerance: the student's dtype
    never buys a looser check. (The inputs change with the notebook's cell ids: any draw.)"""
    forward = ("import numpy as np\ndef affine(x, W, b):\n"
               "    return (x @ W + b).astype(np.float32)\n")
    result = grade_json(write_notebook(tmp_path / "f32.ipynb", [forward, BACKWARD]))
    for test in result["tests"]:
        if test["name"].endswith("test_affine_composes") and test["outcome"] != "passed":
            assert "float64 tolerance" in test["message"]
        else:
            assert test["outcome"] == "passed", test
    assert result["score"] >= TOY_MAX - 1


def test_python_file_with_percent_cells(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(f"# %%\n{FORWARD}\n# %%\nraise RuntimeError('oops')\n# %%\n{BACKWARD}")
    result = grade_json(path)
    assert result["score"] == TOY_MAX
    assert "code cell 2: raised RuntimeError: oops" in result["message"]


def test_magics_and_shell_escapes_do_not_break_grading(tmp_path):
    cells = ["%matplotlib inline\n!pip install nothing\nfiles = !ls\n" + FORWARD,
             "%%time\n" + BACKWARD, "%%bash\nrm -rf /\n"]
    result = grade_json(write_notebook(tmp_path / "magics.ipynb", cells))
    assert (result["score"], result["message"]) == (TOY_MAX, None)


def test_an_import_the_assignment_does_not_allow_says_what_grading_has(tmp_path):
    result = grade_json(write_notebook(tmp_path / "torch.ipynb",
                                       ["import torch_not_here\n" + FORWARD, BACKWARD]))
    assert result["status"] == "graded" and _q(result, "q2") == 10
    assert ("code cell 1: raised ModuleNotFoundError: No module named 'torch_not_here' (at line "
            "1 of the cell starting \"import torch_not_here\": import torch_not_here) (this "
            "assignment allows the standard library, numpy, scipy and matplotlib only)"
            ) in result["message"]


@pytest.mark.parametrize("line", ["import yaml", "from cloudpickle import dumps",
                                  "import pytest as p"])
def test_an_installed_module_the_assignment_does_not_allow_is_refused_too(tmp_path, line):
    """yaml, cloudpickle and pytest are installed where grading runs (and loaded in the
    worker): a student's import of them fails as the checks said it would, in a cell and in a
    function alike; the standard library and the allowed modules import."""
    cells = ["import math, itertools\nfrom numpy import linalg\nimport scipy\n" + BACKWARD,
             line,
             f"import numpy as np\n\ndef affine(x, W, b):\n    {line}\n    return x @ W + b\n"]
    result = grade_json(write_notebook(tmp_path / "sub.ipynb", cells))
    assert (_q(result, "q1"), _q(result, "q2")) == (0, 10)
    module = line.split()[1]
    assert (f"code cell 2: raised ModuleNotFoundError: No module named '{module}'"
            ) in result["message"]
    assert "code cell 1" not in result["message"] and "code cell 3" not in result["message"]
    q1 = [t["message"] for t in result["tests"] if t["question"] == "q1"]
    assert q1 and all(f"your code raised ModuleNotFoundError: No module named '{module}'" in m
                      for m in q1), q1


def test_the_notebooks_first_cell_is_plumbing_never_run_at_grading(tmp_path):
    init = ("try:\n    import dlgrade\nexcept ModuleNotFoundError:\n"
            "    %pip install --quiet \"dlgrade==0.1.0\"\n    import dlgrade  # a comment\n\n"
            "grader = dlgrade.Notebook(\"toy\", \"0123456789abcdef\")")
    result = grade_json(write_notebook(tmp_path / "first.ipynb",
                                       [init, FORWARD, BACKWARD, 'grader.check("q1")']))
    assert (result["score"], result["message"]) == (TOY_MAX, None)


def test_what_an_allowed_distribution_installs_beside_its_name_imports(tmp_path):
    """matplotlib brings mpl_toolkits and pylab: allowing matplotlib allows them."""
    cells = ["import pylab\nfrom mpl_toolkits.mplot3d import Axes3D\n" + FORWARD, BACKWARD]
    result = grade_json(write_notebook(tmp_path / "plots.ipynb", cells))
    assert (result["score"], result["message"]) == (TOY_MAX, None)
