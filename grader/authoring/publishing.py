"""Publishing an assignment: the student notebook and its checks, the autograder zip, and the
gates that must all pass before anything is written.

Outputs, relative to the course folder (the parent of ``assignments/``):
``student_template/NAME/NAME.ipynb``, ``student_template/NAME/tests/qN.py`` (committed),
``dist/NAME-autograder.zip`` and, when asked, ``dist/NAME-gradescope.zip`` (built, not
committed).
"""

from __future__ import annotations

import ast
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.authoring.examples import (
    FULL_MARKS,
    GATE_DRAWS,
    ZERO,
    Expectation,
    declared,
    draw_secrets,
    grade_draws,
    judge,
)
from grader.authoring.handout import (
    INIT_CELL,
    build_notebook,
    checked_questions,
    has_docstring,
    is_given,
    notebook_cells,
    parse_handout,
    question_functions,
    required_names,
)
from grader.core.settings import Assignment, AssignmentError
from grader.student.notebook import digest

HANDOUT = "handout.md"
PUBLIC_FILE = "test_public.py"
EXAMPLES = "examples"
MIN_SECRET_LINE = 16  # shorter lines (`return x`, `import numpy as np`) are not a leak


@dataclass
class Report:
    """What publishing found: each gate's verdict, and the problems that stop it."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def passed(self, text: str) -> None:
        self.lines.append(f"ok    {text}")

    def failed(self, text: str) -> None:
        self.lines.append(f"FAIL  {text}")
        self.problems.append(text)

    def warned(self, text: str) -> None:
        """A gate that passed, but likely not for the reason the instructor meant."""
        self.lines.append(f"WARN  {text}")

    def render(self) -> str:
        return "\n".join(self.lines)


def _source(path: Path) -> str:
    """A file publishing needs, or an instructor's error naming it."""
    try:
        return path.read_text()
    except FileNotFoundError:
        what = ("the handout (the narrative and the notebook's cells)" if path.name == HANDOUT
                else "the public checks (tests students run in their notebook)")
        raise AssignmentError(f"{path}: missing: publishing writes the student notebook from "
                              f"{what}; `dlgrade new NAME` shows one") from None
    except (OSError, UnicodeDecodeError) as error:
        raise AssignmentError(f"{path}: cannot be read ({error})") from None


def course_folder(assignment: Assignment) -> Path:
    parent = assignment.folder.parent
    return parent.parent if parent.name == "assignments" else parent


def student_files(assignment: Assignment) -> dict[str, bytes]:
    """The committed outputs: the student notebook and one check file per question."""
    from grader.platforms.otter import check_file

    blocks = parse_handout(_source(assignment.folder / HANDOUT))
    public = _source(assignment.tests / PUBLIC_FILE)
    base = f"student_template/{assignment.name}"
    files = {f"{base}/{assignment.name}.ipynb": _notebook(assignment, blocks, solved=False)}
    for question in checked_questions(blocks):
        files[f"{base}/tests/{question}.py"] = check_file(question, public).encode()
    return files


def solved_notebook(assignment: Assignment) -> bytes:
    """The student notebook with the reference's functions filled in (for the gates)."""
    return _notebook(assignment, parse_handout(_source(assignment.folder / HANDOUT)),
                     solved=True)


def _notebook(assignment: Assignment, blocks, solved: bool) -> bytes:
    public = _source(assignment.tests / PUBLIC_FILE)
    init = INIT_CELL.format(install=assignment.install, name=assignment.name,
                            digest=digest(public))
    cells = notebook_cells(blocks, assignment.reference.read_text(), init, solved=solved,
                           manual=assignment.manual)
    about = {"questions": checked_questions(blocks), "required": required_names(blocks),
             "functions": question_functions(blocks),
             "limits": {"call_timeout": assignment.limits.call_timeout,
                        "cell_timeout": assignment.limits.cell_timeout,
                        "submission_timeout": assignment.limits.submission_timeout},
             "imports": list(assignment.imports), "install": assignment.install,
             **({"manual": {qid: {"title": q.title, "points": q.points, "figure": q.figure}
                            for qid, q in assignment.manual.items()}}
                if assignment.manual else {}),
             # What grader.check runs with the notebook alone; the first cell holds its digest.
             "public_checks": {"sha256": digest(public), "source": public}}
    return nbformat.writes(build_notebook(cells, assignment.name, about)).encode() + b"\n"


def render(assignment: Assignment, gradescope: bool = False) -> dict[str, bytes]:
    """Every output of publishing, by path relative to the course folder; with
    ``gradescope``, also the native Gradescope autograder (grader.platforms.gradescope)."""
    from grader.platforms.otter import autograder_zip

    outputs = {**student_files(assignment),
               f"dist/{assignment.name}-autograder.zip": autograder_zip(assignment)}
    if gradescope:
        from grader.platforms.gradescope import gradescope_zip

        outputs[f"dist/{assignment.name}-gradescope.zip"] = gradescope_zip(assignment)
    return outputs


def out_of_date(assignment: Assignment) -> list[str]:
    """Committed outputs that differ from what publishing would write now."""
    root = course_folder(assignment)
    return [path for path, data in student_files(assignment).items()
            if not (root / path).is_file() or (root / path).read_bytes() != data]


def publish(assignment: Assignment, write: bool = True, draws: int = GATE_DRAWS,
            gradescope: bool = False) -> Report:
    """Render, run every gate, and write the outputs only if all of them pass (and ``write``);
    without ``write``, committed outputs that differ from the render fail too. ``gradescope``
    adds the native Gradescope zip to the outputs."""
    check_reference(assignment)
    report = Report()
    outputs = render(assignment, gradescope)
    if render(assignment, gradescope) == outputs:
        report.passed("publishing twice gives byte-identical outputs")
    else:
        report.failed("publishing twice gave different outputs")
    check_suite_layout(assignment, report)
    check_no_leaks(assignment, outputs, report)
    check_shipping(assignment, report)
    check_grades(assignment, outputs, report, draws)
    if not write:
        for path in out_of_date(assignment):
            report.failed(f"out of date: {path} (run: dlgrade publish {assignment.name}, "
                          f"then commit it)")
    elif not report.problems:
        root = course_folder(assignment)
        for path, data in outputs.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
    return report


# ---------------------------------------------------------------- gates

def check_reference(assignment: Assignment) -> None:
    """The reference solution compiles: a syntax error is one line naming its file and line."""
    path = assignment.reference
    try:
        compile(path.read_text(), str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        raise AssignmentError(f"{path}, line {error.lineno}: {error.msg} (the reference "
                              f"solution must run: it grades every submission)") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise AssignmentError(f"{path}: cannot be read ({error})") from None


def check_suite_layout(assignment: Assignment, report: Report) -> None:
    """Public checks live in test_public.py, are all public and never use the reference;
    every question of assignment.yml has a test, and the points it states are its tests'."""
    from grader.core.plugin import describe_suite, question_points

    problems = []
    points = question_points(assignment.tests)
    for question in assignment.questions:
        if question not in points:
            problems.append(f"{question} is a question of assignment.yml, but no test grades "
                            f"it (@pytest.mark.question({question!r})): it would vanish from "
                            f"the notebook and the gradebook")
    for question, stated in assignment.points.items():
        if question in points and abs(points[question] - stated) > 1e-9:
            problems.append(f"{question} states {stated:g} points in assignment.yml, but its "
                            f"tests are worth {points[question]:g} (each test's "
                            f"@pytest.mark.points, 1 when unmarked)")
    for nodeid, _, visibility, fixtures in describe_suite(assignment.tests):
        in_public_file = nodeid.split("::")[0] == PUBLIC_FILE
        if in_public_file and visibility != "public":
            problems.append(f"{nodeid} is in {PUBLIC_FILE}, which students receive, but is hidden")
        elif not in_public_file and visibility == "public":
            problems.append(f"{nodeid} is public but not in {PUBLIC_FILE}: students never see it")
        if in_public_file and "reference" in fixtures:
            problems.append(f"{nodeid} is a public check that uses the reference solution")
    for problem in problems:
        report.failed(problem)
    if not problems:
        report.passed(f"public checks are all in {PUBLIC_FILE}, public, and free of the reference")


def secret_lines(assignment: Assignment) -> dict[str, str]:
    """Lines that must never reach students: reference bodies and hidden test code."""
    reference = assignment.reference.read_text()
    lines = reference.splitlines()
    secrets = {}
    for node in ast.walk(ast.parse(reference)):
        if isinstance(node, ast.FunctionDef) and not is_given(node, lines):
            body = node.body[1:] if has_docstring(node) and len(node.body) > 1 else node.body
            for line in lines[body[0].lineno - 1:node.end_lineno]:
                secrets[line.strip()] = f"the reference's {node.name}"
    public = _source(assignment.tests / PUBLIC_FILE).splitlines()
    for path in sorted(assignment.tests.glob("*.py")):
        if path.name != PUBLIC_FILE:
            for line in path.read_text().splitlines():
                secrets.setdefault(line.strip(), f"the hidden test file {path.name}")
    allowed = {line.strip() for line in public}
    return {line: source for line, source in secrets.items()
            if len(line) >= MIN_SECRET_LINE and line not in allowed
            and not line.startswith(("import ", "from ", "#", '"""', "@pytest"))}


def check_no_leaks(assignment: Assignment, outputs: dict[str, bytes], report: Report) -> None:
    """Neither the student notebook nor the public checks contain a secret line."""
    secrets = secret_lines(assignment)
    shipped = {"the public checks": _source(assignment.tests / PUBLIC_FILE)}
    for path, data in outputs.items():
        if path.endswith(".ipynb"):
            cells = json.loads(data)["cells"]
            shipped[path] = "\n".join("".join(cell["source"]) for cell in cells)
    leaks = [f"{where} contains a line of {secrets[line.strip()]}: {line.strip()}"
             for where, text in shipped.items() for line in text.splitlines()
             if line.strip() in secrets]
    for leak in leaks:
        report.failed(leak)
    if not leaks:
        report.passed("the student notebook and public checks hold no solution or hidden test")


def check_shipping(assignment: Assignment, report: Report) -> None:
    """Nothing the suite ships into the student's worker carries an answer (shipping.py): run
    on the reference, every shipment holds inputs and plain functions of the tests only."""
    from grader.authoring.shipping import inspect_assignment

    found = inspect_assignment(assignment)
    if found.error:
        report.failed(f"nothing shipped carries an answer: the suite could not run on the "
                      f"reference to find out: {found.error}")
        return
    for problem in found.problems:
        report.failed(problem)
    if not found.problems:
        report.passed(found.summary())


def check_grades(assignment: Assignment, outputs: dict[str, bytes], report: Report,
                 draws: int = GATE_DRAWS) -> None:
    """The reference earns full marks, the blank notebook 0, each example what it declares:
    on every one of ``draws`` draws of the hidden inputs (examples.py)."""
    student = next(data for path, data in outputs.items() if path.endswith(".ipynb"))
    with tempfile.TemporaryDirectory(prefix="dlgrade-publish-") as folder:
        candidates = {_write(folder, "reference.ipynb", solved_notebook(assignment)):
                      Expectation(FULL_MARKS),
                      _write(folder, "blank.ipynb", student): Expectation(ZERO)}
        for path in example_paths(assignment):
            try:
                candidates[path] = Expectation.parse(declared(path), assignment.questions)
            except ValueError as error:
                report.failed(f"{path.name}: {error}" if path.suffix != ".py" else
                              f"{path.name}: declare what it scores in a comment above its "
                              f"code, '# expect: full marks' or '# expect: loses QID [QID "
                              f"...]' with questions of the suite "
                              f"({', '.join(assignment.questions)}), got "
                              f"{declared(path)!r}")
                continue
            if candidates[path].kind == "loses" and not defines_any(path, assignment):
                report.warned(f"{path.name} defines none of the assignment's functions "
                              f"({', '.join(required(assignment)[:6])}): it loses every "
                              f"question, so its expectation proves little")
        graded = grade_draws(assignment.folder, list(candidates),
                             draw_secrets(max(1, draws)))
    for path, expectation in candidates.items():
        ok, text = judge(path.name, expectation, graded[path])
        (report.passed if ok else report.failed)(text)


def example_paths(assignment: Assignment) -> list[Path]:
    """The examples: notebooks, and ``.py`` files of percent cells."""
    folder = assignment.folder / EXAMPLES
    return sorted([*folder.glob("*.ipynb"), *folder.glob("*.py")])


def required(assignment: Assignment) -> list[str]:
    return required_names(parse_handout(_source(assignment.folder / HANDOUT)))


def defines_any(path: Path, assignment: Assignment) -> bool:
    """Whether the example's code defines (or assigns) any of the assignment's functions."""
    import ast

    from grader.core.loading import SubmissionUnreadable, load_submission

    names = set(required(assignment))
    try:
        cells = load_submission(path).cells
    except SubmissionUnreadable:
        return False
    for cell in cells:
        try:
            tree = ast.parse(cell)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and node.name in names:
                return True
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) \
                    and node.id in names:
                return True
    return False


def _write(folder: str, name: str, data: bytes) -> Path:
    path = Path(folder) / name
    path.write_bytes(data)
    return path
