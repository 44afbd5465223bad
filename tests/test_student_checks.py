"""Public checks on the student's side: in-process runs and a real Jupyter kernel."""

import numpy as np
import pytest
from conftest import FIXTURES
from published import execute, kernel_verdicts, student_copy

from grader.authoring.publishing import solved_notebook
from grader.core.settings import load_assignment
from grader.student.kernel import check, run_public_checks

GRADCHECK = FIXTURES / "assignments" / "gradcheck"
PUBLIC = (GRADCHECK / "tests" / "test_public.py").read_text()


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
    assert message.startswith("1 of 1 public checks of q4 failed:")
    assert "your code raised ZeroDivisionError" in message


def test_solved_notebook_passes_every_check_in_a_kernel(fixture_course, tmp_path):
    solved = solved_notebook(load_assignment(str(GRADCHECK)))
    outputs = kernel_verdicts(execute(student_copy(fixture_course, "gradcheck", tmp_path,
                                                   solved)))
    assert len(outputs) == 6
    for question, text in outputs.items():
        assert "All test cases passed!" in text, (question, text)


def test_blank_notebook_fails_every_check_readably_in_a_kernel(fixture_course, tmp_path):
    outputs = kernel_verdicts(execute(student_copy(fixture_course, "gradcheck", tmp_path)))
    assert len(outputs) == 6
    for text in outputs.values():
        assert "public checks of q" in text and "your code raised NotImplementedError" in text
        assert "HiddenSuiteError" not in text and "Traceback" not in text, text


def test_wire_round_trip_keeps_values():
    namespace = {"f": lambda: np.float32(1.5)}
    from grader.student.kernel import LocalSubmission

    value = LocalSubmission(namespace).call("f")
    assert isinstance(value, np.float32) and value == 1.5
