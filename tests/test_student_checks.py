"""Public checks on the student's side: in-process runs, and the published notebook in a real
Jupyter kernel (nbclient with the ``python3`` kernel, as VS Code and JupyterLab run it), which
must say exactly what ``dlgrade check`` says, with the notebook alone in its folder."""

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, run_dlgrade
from published import command_verdicts, execute, kernel_verdicts, passed, same_text

from grader.authoring.publishing import solved_notebook
from grader.core.settings import load_assignment
from grader.student.kernel import check, run_public_checks

GRADCHECK = FIXTURES / "assignments" / "gradcheck"
PUBLIC = (GRADCHECK / "tests" / "test_public.py").read_text()
QUESTIONS = [f"q{i}" for i in range(1, 7)]


def reference_namespace() -> dict:
    namespace = {}
    exec((FIXTURES / "solutions" / "gradcheck.py").read_text(), namespace)
    return namespace


def test_checks_run_repeatedly_in_one_process():
    namespace = reference_namespace()
    for question in ["q1", "q2", "q1", "q6"]:
        results = run_public_checks(question, namespace, PUBLIC)
        assert [r.outcome for r in results] == ["passed"]
        assert all(r.question == question for r in results)


def test_a_failing_check_says_what_and_where():
    namespace = reference_namespace()
    namespace["relative_error"] = lambda a, b: abs(a - b) / (abs(a) + abs(b))
    with pytest.raises(AssertionError) as failure:
        check("q4", namespace, PUBLIC)
    message = str(failure.value)
    assert message.startswith("q4: its public check failed:")
    assert "your code raised ZeroDivisionError" in message


def test_wire_round_trip_keeps_values():
    namespace = {"f": lambda: np.float32(1.5)}
    from grader.student.kernel import LocalSubmission

    value = LocalSubmission(namespace).call("f")
    assert isinstance(value, np.float32) and value == 1.5


# ---------------------------------------------------------------- the notebook in a kernel

def alone(fixture_course: Path, folder: Path, notebook: bytes | None = None,
          edit=None) -> Path:
    """The published notebook (or ``notebook``) alone in a folder, as a Colab or VS Code user
    has it: no tests/ folder beside it. ``edit`` changes its JSON first."""
    data = notebook or (fixture_course / "student_template/gradcheck/gradcheck.ipynb").read_bytes()
    content = json.loads(data)
    if edit:
        edit(content)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "gradcheck.ipynb"
    path.write_text(json.dumps(content))
    return path


def solved() -> bytes:
    return solved_notebook(load_assignment(str(GRADCHECK)))


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"t{abs(hash(source))}",
            "metadata": {}, "outputs": [], "source": source}


def shown(cell) -> str:
    return "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") +
                     o.get("evalue", "") for o in cell.outputs)


def first_code(cells):
    return next(c for c in cells if c.cell_type == "code")


def in_both(path: Path) -> tuple[dict, dict, object]:
    """What each check cell showed in a kernel, and what `dlgrade check` printed, by question."""
    kernel = kernel_verdicts(execute(path))
    done = run_dlgrade("check", path)
    return kernel, command_verdicts(done.stdout, QUESTIONS), done


def test_the_notebook_alone_runs_every_check_as_the_command_does(fixture_course, tmp_path):
    path = alone(fixture_course, tmp_path / "blank")
    kernel, command, done = in_both(path)
    assert done.returncode == 1 and set(kernel) == set(QUESTIONS)
    for question in QUESTIONS:
        same_text(kernel[question], command[question])
        assert "is not written yet: it still raises NotImplementedError" in command[question]
        assert "Traceback" not in kernel[question] and "Error at line" not in kernel[question]
    assert command["q1"] == ("q1: its public check failed:\n- test_differences_of_a_square:\n"
                             "    `forward_difference` is not written yet: it still raises "
                             "NotImplementedError")
    path = alone(fixture_course, tmp_path / "solved", solved())
    kernel, command, done = in_both(path)
    assert done.returncode == 0, done.stdout
    assert all(passed(kernel[q]) and kernel[q] == command[q] for q in QUESTIONS), kernel
    assert kernel["q4"] == "q4: its public check passed"


def test_an_infinite_loop_stops_at_the_call_timeout_with_the_commands_words(fixture_course,
                                                                              tmp_path):
    def loop(notebook):
        notebook["metadata"]["dlgrade"]["limits"]["call_timeout"] = 2
        for cell in notebook["cells"]:
            if "def relative_error(" in "".join(cell["source"]):
                cell["source"] = "def relative_error(a, b):\n    while True:\n        pass\n"

    path = alone(fixture_course, tmp_path, solved(), loop)
    started = time.monotonic()
    kernel, command, _ = in_both(path)
    assert time.monotonic() - started < 120  # q4 and check_all each stop after 2 s
    assert kernel["q4"] == command["q4"] == (
        "q4: its public check failed:\n- test_relative_error_basics:\n    your code did not "
        "finish in time (an infinite loop, or far too slow?)")
    assert all(passed(kernel[q]) for q in QUESTIONS if q != "q4")


def test_checks_placed_before_their_definitions_are_reported_by_plain_check(fixture_course,
                                                                             tmp_path):
    def reorder(notebook):
        cells = notebook["cells"]
        jacobian = next(c for c in cells if "".join(c["source"]).startswith(
            "def numerical_jacobian"))
        cells.remove(jacobian)
        cells.append(jacobian)  # after grader.check("q3") and grader.check_all()

    path = alone(fixture_course, tmp_path, solved(), reorder)
    cells = execute(path)
    kernel = kernel_verdicts(cells)
    assert "`numerical_jacobian` is not defined" in kernel["q3"]  # what Run All shows
    done = run_dlgrade("check", path)
    assert done.returncode == 1
    assert "q3: its public check passed" in done.stdout  # every cell ran before the checks
    assert done.stdout.split("\n\n")[-1] == (
        "Run top to bottom, as Kernel > Restart and Run All and grading run it, the notebook "
        "would not give these results:\n"
        '- the cell starting "grader.check("q3")" runs grader.check("q3") before '
        '`numerical_jacobian` is defined (the cell starting "def numerical_jacobian(f, x, '
        'h=1e-6):"): the check fails there; move the definition above it\n'
        '- the cell starting "grader.check_all()" runs grader.check_all() before '
        '`numerical_jacobian` is defined (the cell starting "def numerical_jacobian(f, x, '
        'h=1e-6):"): the check fails there; move the definition above it\n')


def test_an_import_grading_does_not_allow_is_named_in_one_sentence(fixture_course, tmp_path):
    assert importlib.util.find_spec("torch") is None, "this test needs a Python without torch"

    def use_torch(notebook):
        notebook["cells"].insert(3, code_cell("import torch"))

    path = alone(fixture_course, tmp_path, solved(), use_torch)
    cells = execute(path)
    importing = next(c for c in cells if c.source == "import torch")
    assert shown(importing) == (
        "ModuleNotFoundError: torch is not installed here, and grading does not provide it "
        "either: this assignment allows the standard library, numpy, scipy and matplotlib; "
        "remove the import and what uses it.\n")
    note = ("Note: the notebook imports torch, which grading does not provide: this assignment "
            "allows the standard library, numpy, scipy and matplotlib; remove the import and "
            "what uses it, or that code fails when graded.")
    kernel = kernel_verdicts(cells)
    assert kernel["q1"] == "q1: its public check passed\n" + note
    done = run_dlgrade("check", path)
    assert note in done.stdout.splitlines()
    assert ("- the cell starting \"import torch\" raised ModuleNotFoundError: No module named "
            "'torch' (at line 1: import torch) (grading does not allow it: see the note above)"
            ) in done.stdout.splitlines()


def test_edited_checks_are_reported_never_run(fixture_course, tmp_path):
    def weaken(notebook):
        carried = notebook["metadata"]["dlgrade"]["public_checks"]
        carried["source"] = carried["source"].replace("assert_close(", "(lambda *a: None)(")

    path = alone(fixture_course, tmp_path, None, weaken)
    cells = execute(path)
    sentence = ("The public checks inside gradcheck.ipynb were changed after the notebook was "
                "published, so they are not run: download the notebook again and copy your "
                "code into it.")
    assert shown(first_code(cells)).strip() == sentence  # the first code cell says it at once
    assert all(text.strip() == sentence for text in kernel_verdicts(cells).values())
    done = run_dlgrade("check", path)
    assert done.returncode == 2
    assert done.stderr == ("dlgrade: error: the public checks inside gradcheck.ipynb were "
                           "changed after it was published, so they are not run: download the "
                           "notebook again and copy your code into it\n")


def test_a_notebook_without_its_checks_says_how_to_get_them(fixture_course, tmp_path):
    def strip(notebook):
        del notebook["metadata"]["dlgrade"]

    cells = execute(alone(fixture_course, tmp_path, None, strip))
    assert shown(first_code(cells)).strip() == (
        "The public checks of gradcheck were not found: they travel inside the notebook. Save "
        "it (File > Save), open it from the folder it is in, and run this cell again.")


def test_the_tests_folder_still_serves_an_older_copy(fixture_course, tmp_path):
    """A notebook whose metadata lost its checks still finds them in tests/ beside it (as
    handed out before notebooks carried them), checked against the same digest."""
    from published import student_copy

    path = student_copy(fixture_course, "gradcheck", tmp_path, solved())
    content = json.loads(path.read_text())
    del content["metadata"]["dlgrade"]["public_checks"]
    path.write_text(json.dumps(content))
    kernel = kernel_verdicts(execute(path))
    assert all(passed(kernel[q]) for q in QUESTIONS), kernel


def test_jupyter_servers_session_name_finds_a_notebook_in_another_folder(fixture_course,
                                                                         tmp_path, monkeypatch):
    """JupyterLab and Notebook 7 start the kernel with JPY_SESSION_NAME, the notebook's path;
    the kernel's working folder may be elsewhere (a course JupyterHub's home)."""
    from grader.student.notebook import Notebook, digest

    path = alone(fixture_course, tmp_path / "course" / "week3")
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    grader = Notebook("gradcheck", digest(PUBLIC))
    assert grader.problem is None and grader.checks.where == "gradcheck.ipynb"
    namespace = reference_namespace()
    verdict = grader._run(["q4"], namespace)
    assert repr(verdict) == "q4: its public check passed" and verdict.passed
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert Notebook("gradcheck", digest(PUBLIC)).problem.startswith(
        "The public checks of gradcheck were not found")


def test_vs_code_and_colab_say_which_notebook_runs(fixture_course, tmp_path, monkeypatch):
    """VS Code names the notebook in the kernel's namespace (``__vsc_ipynb_file__``); Colab's
    kernel asks the front end for the notebook itself (its files live in Drive, not beside
    the kernel). Both are found from a working folder holding no notebook."""
    import sys
    import types

    from grader.student import notebook as module

    path = alone(fixture_course, tmp_path / "project")
    elsewhere = tmp_path / "content"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr(module, "_user_namespace", lambda: {"__vsc_ipynb_file__": str(path)})
    assert module.Notebook("gradcheck", module.digest(PUBLIC)).checks.where == "gradcheck.ipynb"

    monkeypatch.setattr(module, "_user_namespace", lambda: {})
    asked = []

    def blocking_request(kind, request="", timeout_sec=None):
        asked.append(kind)
        return {"ipynb": json.loads(path.read_text())}

    colab = types.ModuleType("google.colab")
    colab._message = types.SimpleNamespace(blocking_request=blocking_request)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab._message", colab._message)
    grader = module.Notebook("gradcheck", module.digest(PUBLIC))
    assert asked == ["get_ipynb"] and grader.checks.where == "this notebook"


def test_a_cell_with_magics_is_named_as_written_in_both(fixture_course, tmp_path):
    def magic(notebook):
        for cell in notebook["cells"]:
            if "def relative_error(" in "".join(cell["source"]):
                cell["source"] = ("%matplotlib inline\ndef relative_error(a, b):\n"
                                  "    return abs(a - b) / (abs(a) + abs(b))\n")

    kernel, command, _ = in_both(alone(fixture_course, tmp_path, solved(), magic))
    same_text(kernel["q4"], command["q4"])
    assert command["q4"].endswith(
        "your code raised ZeroDivisionError: float division by zero\n"
        '      in relative_error (line 3 of the cell starting "%matplotlib inline"): return '
        "abs(a - b) / (abs(a) + abs(b))"), command["q4"]


WITHOUT_POSIX = """
import ctypes, signal, sys
for name in ("resource", "pwd", "grp", "fcntl", "termios"):
    sys.modules[name] = None  # what Windows lacks
del signal.setitimer  # and SIGALRM's timers


class NoProcessLibrary(ctypes.CDLL):
    def __init__(self, name, *args, **kwargs):
        if name is None:
            raise TypeError("Windows has no CDLL(None)")
        super().__init__(name, *args, **kwargs)


ctypes.CDLL = NoProcessLibrary
import dlgrade
from grader.student.kernel import run_public_checks

namespace = {}
exec(open(sys.argv[1]).read(), namespace)
def loop(a, b):
    while True:
        pass
namespace["relative_error"] = loop
source = open(sys.argv[2]).read()
for question in ("q1", "q4"):
    for result in run_public_checks(question, namespace, source, 1):
        print(question, result.outcome, result.message)
"""


def test_the_students_side_imports_and_times_out_without_posix(tmp_path):
    """VS Code on Windows: no resource, fcntl or pwd module, no libc through CDLL(None), no
    SIGALRM timers. ``import dlgrade`` works there and a looping call still stops."""
    script = tmp_path / "windows.py"
    script.write_text(WITHOUT_POSIX)
    done = subprocess.run([sys.executable, str(script), str(FIXTURES / "solutions/gradcheck.py"),
                           str(GRADCHECK / "tests" / "test_public.py")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("q1 passed \nq4 failed your code did not finish in time (an "
                           "infinite loop, or far too slow?)\n")
