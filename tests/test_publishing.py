"""Publishing, end to end: the real commands in a copy of a course, and every gate.

The course here is the kit's own (tests/fixtures: frozen copies of gradcheck and forward_mode)
or one made by ``dlgrade new``; the course's own assignments have checks of their own
(tests/course)."""

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import fixture_copy
from published import dlgrade_result, otter_score

pytestmark = pytest.mark.xdist_group("publishing")  # one published course for the module
PUBLISHED = ("gradcheck", "forward_mode")


def copy_course(target: Path) -> Path:
    """A clean checkout of the fixture course's sources (no generated files)."""
    return fixture_copy(target, *PUBLISHED)


def publish(course: Path, *args: str, draws: int = 1) -> subprocess.CompletedProcess:
    """``dlgrade publish``; the gates grade under few draws here (CI's ``publish --check``
    runs them under the default 20 on the course)."""
    return subprocess.run(["dlgrade", "publish", "--draws", str(draws), *args], cwd=course,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The fixture course, published from a clean copy by `dlgrade publish`."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    done = publish(course)
    assert done.returncode == 0, done.stdout + done.stderr
    return course


def test_publish_from_a_clean_checkout_writes_the_outputs(published):
    student = published / "student_template" / "gradcheck"
    assert (student / "gradcheck.ipynb").is_file()
    assert sorted(p.name for p in (student / "tests").iterdir()) == [
        f"q{i}.py" for i in range(1, 7)]
    archive = zipfile.ZipFile(published / "dist" / "gradcheck-autograder.zip")
    names = set(archive.namelist())
    assert {"run_autograder", "otter_config.json", "environment.yml",
            "files/dlgrade-course/solutions/gradcheck.py", "files/dlgrade-src/pyproject.toml",
            "files/dlgrade-src/grader/otter_bridge.py"} <= names
    # The grading image installs dlgrade from the copy inside the zip, and lets the workers'
    # own uids reach the Python installation under /root.
    assert "/autograder/source/files/dlgrade-src" in archive.read("environment.yml").decode()
    assert archive.read("setup.sh").decode().rstrip().endswith("chmod o+x /root")
    assert not any("/examples/" in name for name in names)
    config = json.loads(archive.read("otter_config.json"))
    assert config["plugins"] == [
        {"grader.platforms.otter.DlgradePlugin": {"assignment": "gradcheck"}}]


def test_forward_mode_notebook_gives_the_class_skeleton(published):
    notebook = json.loads(
        (published / "student_template/forward_mode/forward_mode.ipynb").read_text())
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    dual = next(s for s in code if s.startswith("class Dual:"))
    assert 'return f"Dual({self.value}, {self.deriv})"' in dual  # given: marked "# given"
    assert dual.count("raise NotImplementedError") == 17  # every other method is the student's
    assert "self.deriv * other.value" not in dual


def test_check_passes_then_fails_when_a_generated_file_is_stale(published):
    # One assignment (the one with fewer examples): the check is the same for each.
    assert publish(published, "--check", "forward_mode").returncode == 0
    notebook = published / "student_template" / "forward_mode" / "forward_mode.ipynb"
    original = notebook.read_bytes()
    notebook.write_bytes(original.replace(b"with dual numbers", b"with dual number"))
    try:
        done = publish(published, "--check", "forward_mode")
        assert done.returncode == 1
        assert "out of date: student_template/forward_mode/forward_mode.ipynb" in done.stdout
    finally:
        notebook.write_bytes(original)


def test_student_notebook_has_narrative_skeletons_and_checks(published):
    notebook = json.loads((published / "student_template/gradcheck/gradcheck.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"]]
    code = [s for s, c in zip(sources, notebook["cells"], strict=True) if c["cell_type"] == "code"]
    assert sources[0].startswith("# Finite differences and gradient checking")
    # No file name (robust to renaming), the checks' digest, dlgrade installed when missing.
    assert re.search(r'^grader = dlgrade\.Notebook\("gradcheck", "[0-9a-f]{16}"\)$', code[0],
                     re.M), code[0]
    assert '%pip install --quiet "dlgrade==' in code[0]
    assert [s for s in code if s.startswith("grader.check(")] == [
        f'grader.check("q{i}")' for i in range(1, 7)]
    skeleton = next(s for s in code if s.startswith("def numerical_gradient"))
    assert '"""Centered differences' in skeleton and "raise NotImplementedError" in skeleton
    assert "np.zeros" not in skeleton


def patched(course: Path, tmp_path: Path, base: Path) -> Path:
    """``base`` with a cell that makes numpy's comparisons always succeed."""
    notebook = json.loads(base.read_text())
    notebook["cells"].append({"cell_type": "code", "id": "patch", "metadata": {},
                              "execution_count": None, "outputs": [], "source":
                              "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                              "np.testing.assert_allclose = lambda *a, **k: None\n"
                              "np.array_equal = lambda *a, **k: True\n"})
    path = tmp_path / f"patched_{base.name}"
    path.write_text(json.dumps(notebook))
    return path


def test_patching_numpy_earns_nothing_through_either_grader(published, tmp_path):
    honest = published / "assignments/gradcheck/examples/bug_x_left_modified.ipynb"
    cheat = patched(published, tmp_path, honest)
    result = dlgrade_result(published, honest, "gradcheck")
    honest_score = result["score"]
    assert honest_score < result["max_score"]
    assert dlgrade_result(published, cheat, "gradcheck")["score"] <= honest_score
    assert otter_score(published, cheat, tmp_path, "gradcheck")[0] <= honest_score


def test_new_assignment_publishes_as_it_is(tmp_path):
    assert subprocess.run(["dlgrade", "new", "demo"], cwd=tmp_path,
                          capture_output=True, timeout=60).returncode == 0
    done = publish(tmp_path, "demo")
    assert done.returncode == 0, done.stdout
    assert "demo: published" in done.stdout
    assert (tmp_path / "dist" / "demo-autograder.zip").is_file()
    again = subprocess.run(["dlgrade", "new", "demo"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 2 and "not overwriting" in again.stderr


def _break(course: Path, relative: str, old: str, new: str) -> None:
    path = course / relative
    path.write_text(path.read_text().replace(old, new))


@pytest.mark.parametrize("damage, complaint", [
    (("assignments/gradcheck/examples/bug_order_against_h.ipynb", "loses q6", "loses q1"),
     "keeps every point of q1 on 1 of 1 draws"),
    (("assignments/gradcheck/examples/bug_order_against_h.ipynb", "loses q6", "loses q1"),
     "loses points on q6, which it does not declare, on 1 of 1 draws"),
    (("assignments/gradcheck/examples/ok_loops_and_copies.ipynb", "full marks", "all of it"),
     "metadata dlgrade.expect must be"),
    (("solutions/gradcheck.py", "return (f(x + h) - f(x)) / h", "return (f(x + h) - f(x)) / h / 2"),
     "over 1 draws, expected full marks"),
    (("assignments/gradcheck/handout.md", "import numpy as np\n```",
      "import numpy as np\nreturn float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), "
      "1e-8)))\n```"), "contains a line of the reference's relative_error"),
    (("assignments/gradcheck/tests/test_public.py", 'pytestmark = pytest.mark.visibility("public")',
      ""), "is in test_public.py, which students receive, but is hidden"),
])
def test_a_failing_gate_stops_publishing(tmp_path, damage, complaint):
    course = copy_course(tmp_path)
    _break(course, *damage)
    done = publish(course, "gradcheck", draws=1)
    assert done.returncode == 1
    assert "NOT published" in done.stdout and complaint in done.stdout, done.stdout
    assert not (course / "student_template").exists() and not (course / "dist").exists()


def _demo_course(tmp_path: Path) -> Path:
    assert subprocess.run(["dlgrade", "new", "demo"], cwd=tmp_path,
                          capture_output=True, timeout=60).returncode == 0
    return tmp_path


def _demo_example(course: Path, name: str, expect: str, code: str) -> None:
    notebook = json.loads((course / "assignments/demo/examples/bug_sum_not_mean.ipynb")
                          .read_text())
    notebook["metadata"]["dlgrade"]["expect"] = expect
    cell = next(c for c in notebook["cells"] if "def mse(" in "".join(c["source"]))
    cell["source"] = code
    (course / f"assignments/demo/examples/{name}.ipynb").write_text(json.dumps(notebook))


ABS_GRADIENT = ("import numpy as np\n\ndef mse(prediction, target):\n"
                "    return float(np.mean((prediction - target) ** 2))\n\n"
                "def mse_grad(prediction, target):\n"
                "    return 2 * np.abs(prediction - target) / prediction.size\n")


def test_a_bug_whose_points_depend_on_the_draw_stops_publishing(tmp_path):
    # A hidden test with one random pair catches |p - t| in the gradient only when p < t:
    # a resubmission with a changed comment could win the points back. The gate names it.
    course = _demo_course(tmp_path)
    with (course / "assignments/demo/tests/test_q1.py").open("a") as tests:
        tests.write('''

def test_mse_grad_of_one_pair(submission, reference, rng):
    prediction, target = random_inputs(rng, (1,)), random_inputs(rng, (1,))
    assert_close(submission.call("mse_grad", prediction, target),
                 reference.mse_grad(prediction, target), "mse_grad(prediction, target)")
''')
    _demo_example(course, "bug_abs_in_gradient", "loses q1", ABS_GRADIENT)
    done = publish(course, "demo", draws=20)
    assert done.returncode == 1
    assert "NOT published" in done.stdout
    line = next(line for line in done.stdout.splitlines() if "bug_abs_in_gradient" in line)
    assert line.startswith("FAIL") and "draws)" in line  # two totals, with their counts
    flips = next(line for line in done.stdout.splitlines() if " flips:" in line)
    assert "test_q1.py::test_mse_grad_of_one_pair flips: it loses points on" in flips
    assert "of 20 draws only" in flips
    assert not (course / "dist").exists()


def test_a_bug_that_loses_points_on_every_draw_publishes(tmp_path):
    course = _demo_course(tmp_path)
    _demo_example(course, "bug_abs_in_gradient", "loses q1", ABS_GRADIENT)
    done = publish(course, "demo", draws=20)
    assert done.returncode == 0, done.stdout
    assert ("ok    bug_abs_in_gradient.ipynb: 2 / 5 over 20 draws (q1: 2 / 5), as expected "
            "(loses q1) on every draw") in done.stdout


def test_an_assignment_without_a_handout_or_public_checks_is_named_not_a_traceback(tmp_path):
    course = fixture_copy(tmp_path / "course", "toy", examples=False)
    done = publish(course, "toy")
    handout = course / "assignments" / "toy" / "handout.md"
    assert (done.returncode, done.stderr) == (2, (
        f"dlgrade: error: {handout}: missing: publishing writes the student notebook from the "
        f"handout (the narrative and the notebook's cells); `dlgrade new NAME` shows one\n"))
    handout.write_text("# Toy\n\n<!-- skeleton: affine -->\n\n<!-- check: q1 -->\n")
    done = publish(course, "toy")
    public = course / "assignments" / "toy" / "tests" / "test_public.py"
    assert (done.returncode, done.stderr) == (2, (
        f"dlgrade: error: {public}: missing: publishing writes the student notebook from the "
        f"public checks (tests students run in their notebook); `dlgrade new NAME` shows "
        f"one\n"))


# ---------------------------------------------------------------- an instructor's mistakes

def test_a_syntax_error_in_the_reference_is_one_line_naming_file_and_line(tmp_path):
    course = _demo_course(tmp_path)
    reference = course / "solutions" / "demo.py"
    lines = reference.read_text().splitlines()
    reference.write_text("\n".join(lines + ["def broken(a, b:", "    return a"]) + "\n")
    done = publish(course, "demo")
    assert (done.returncode, done.stderr) == (2, (
        f"dlgrade: error: {reference}, line {len(lines) + 1}: '(' was never closed (the "
        f"reference solution must run: it grades every submission)\n"))


def test_tests_without_a_question_are_named_one_line_each(tmp_path):
    course = _demo_course(tmp_path)
    _break(course, "assignments/demo/tests/test_q1.py", 'pytestmark = pytest.mark.question("q1")',
           "pytestmark = []")
    done = publish(course, "demo")
    tests = course / "assignments" / "demo" / "tests"
    assert done.returncode == 2 and "INTERNALERROR" not in done.stderr
    assert done.stderr.splitlines() == [
        f"dlgrade: error: {tests}/test_q1.py::test_mse_matches_reference: needs "
        f"@pytest.mark.question('ID')",
        f"{tests}/test_q1.py::test_mse_grad_matches_finite_differences: needs "
        f"@pytest.mark.question('ID')"]


def test_a_question_without_tests_or_with_other_points_than_stated_stops_publishing(tmp_path):
    course = _demo_course(tmp_path)
    _break(course, "assignments/demo/assignment.yml",
           "  q1: the mean squared error and its gradient",
           "  q1: {title: the mean squared error and its gradient, points: 6}\n  q2: softmax")
    done = publish(course, "demo")
    assert done.returncode == 1 and "NOT published" in done.stdout
    assert "FAIL  q2 is a question of assignment.yml, but no test grades it " \
           "(@pytest.mark.question('q2')): it would vanish from the notebook and the " \
           "gradebook" in done.stdout
    assert "FAIL  q1 states 6 points in assignment.yml, but its tests are worth 5 (each " \
           "test's @pytest.mark.points, 1 when unmarked)" in done.stdout
    _break(course, "assignments/demo/assignment.yml", "points: 6}\n  q2: softmax", "points: 5}")
    done = publish(course, "demo")
    assert done.returncode == 0, done.stdout


def test_a_py_example_declares_its_expectation_in_a_comment_and_an_empty_one_is_flagged(
        tmp_path):
    course = _demo_course(tmp_path)
    examples = course / "assignments" / "demo" / "examples"
    (examples / "bug_abs.py").write_text(
        "# The gradient of |p - t|, not of (p - t)^2.\n# expect: loses q1\n\n# %%\n"
        + ABS_GRADIENT)
    (examples / "nothing.py").write_text("# expect: loses q1\n\n# %%\nx = 1\n")
    done = publish(course, "demo")
    assert done.returncode == 0, done.stdout
    assert "ok    bug_abs.py: 2 / 5 over 1 draws (q1: 2 / 5), as expected (loses q1)" \
           in done.stdout
    assert "WARN  nothing.py defines none of the assignment's functions (mse, mse_grad): " \
           "it loses every question, so its expectation proves little" in done.stdout
    assert "WARN  bug_abs.py" not in done.stdout
    (examples / "bug_abs.py").write_text("import numpy as np\n# expect: full marks\n"
                                         + ABS_GRADIENT)
    done = publish(course, "demo")  # below the code: not a declaration
    assert done.returncode == 1
    assert "FAIL  bug_abs.py: declare what it scores in a comment above its code, '# expect: " \
           "full marks' or '# expect: loses QID [QID ...]' with questions of the suite (q1), " \
           "got ''" in done.stdout
