"""``dlgrade check``: a student's public checks outside Jupyter, in the sandbox, with the
notebook's messages; with ``--submit``, everything graders will need of the file.

The public checks come from the ``tests/`` folder the notebook was handed out with (the Otter
check files embed them: read as data, never run), or, on the course's side, from
``assignments/NAME/tests/test_public.py``. Nothing here scores anything.
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox.isolation import Limits

OUTPUT_LIMIT = 1024 * 1024  # a cell output above this makes a notebook slow to upload and grade
NOT_A_PROMISE = ("Passing the public checks does not promise full marks: hidden tests check "
                 "more, on other inputs.")


class CheckError(Exception):
    """The checks cannot be found or run: said plainly, exit 2."""


@dataclass
class PublicChecks:
    assignment: str
    source: str
    questions: list[str]
    required: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)


@dataclass
class Run:
    """What running a notebook in the sandbox showed."""
    results: list
    cell_errors: list[tuple[int, str]]  # (1-based code cell, what went wrong)
    names: dict
    time_up: bool
    error: str | None = None
    cells: tuple[str, ...] = ()  # the code cells as run


def find_checks(path: Path) -> PublicChecks:
    about = _about(path)
    name = about.get("assignment") or path.stem
    limits = Limits(**{k: v for k, v in (about.get("limits") or {}).items()
                       if k in ("cell_timeout", "submission_timeout")})
    required = list(about.get("required") or [])
    files = sorted((path.parent / "tests").glob("q*.py"), key=_natural)
    sources = {_embedded_checks(f) for f in files} - {None}
    if len(sources) == 1:
        return PublicChecks(name, sources.pop(), about.get("questions") or
                            [f.stem for f in files], required, limits)
    course = Path("assignments") / name / "tests" / "test_public.py"
    if course.is_file():
        from grader.core.settings import load_assignment

        assignment = load_assignment(str(course.parent.parent))
        return PublicChecks(name, course.read_text(), list(assignment.questions), required,
                            limits)
    raise CheckError(f"no public checks found for {path.name}: keep the notebook in the folder "
                     f"it came in, next to its tests/ folder")


def _about(path: Path) -> dict:
    try:
        about = json.loads(path.read_text(encoding="utf-8"))["metadata"]["dlgrade"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return about if isinstance(about, dict) else {}


def _natural(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem)]


def _embedded_checks(path: Path) -> str | None:
    """The ``PUBLIC_CHECKS`` string of a check file, read as data."""
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and
                                                t.id == "PUBLIC_CHECKS" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


def run_notebook(path: Path, checks: PublicChecks, zygote) -> Run:
    """Run the notebook's cells in the sandbox, then its public checks."""
    from grader.core.loading import SubmissionUnreadable, load_submission
    from grader.sandbox import SandboxedSubmission, WorkerError

    try:
        loaded = load_submission(path)
    except SubmissionUnreadable as error:
        return Run([], [], {}, False, str(error))
    cells = loaded.cells
    submission = SandboxedSubmission(zygote, list(cells), checks.limits, [])
    with tempfile.TemporaryDirectory(prefix="dlgrade-check-") as folder:
        tests = Path(folder)
        (tests / "test_public.py").write_text(checks.source)
        try:
            submission.begin()
            from grader.core.plugin import GradingPlugin, run_suite

            try:
                reports = submission.start()
            except WorkerError as error:
                return Run([], [], {}, submission.time_up, f"the notebook could not run: {error}",
                           cells)
            errors = [(r.index + 1, r.error) for r in reports if r.error]
            names = submission.names()
            plugin = GradingPlugin(submission, None, b"public checks", True,
                                   tuple(checks.questions))
            results = run_suite(tests, plugin)
        finally:
            submission.close()
    return Run(results, errors, names, submission.time_up, None, cells)


def render_checks(path: Path, checks: PublicChecks, run: Run, question: str | None) -> str:
    from grader.student.kernel import failure_text

    if run.error:
        return f"{path.name}: {run.error}"
    questions = [question] if question else checks.questions
    lines, passing = [f"{path.name}: public checks of {checks.assignment}"], 0
    for qid in questions:
        results = [r for r in run.results if r.question == qid]
        text = failure_text(qid, results)
        if text is None:
            passing += 1
            lines.append(f"{qid}: all {len(results)} public checks passed")
        else:
            lines.append(text)
    lines += ["", f"{passing} of {len(questions)} questions pass their public checks. "
              + NOT_A_PROMISE]
    return "\n".join(lines)


def submit_problems(path: Path, checks: PublicChecks, run: Run) -> list[str]:
    """What would go wrong at grading, each with what to do about it."""
    problems = []
    if run.error:
        return [f"{run.error}: save the notebook again from Jupyter (File > Save) and check it "
                f"opens"]
    expected = f"{checks.assignment}.ipynb"
    if path.suffix == ".ipynb" and path.name != expected:
        problems.append(f"the file is named {path.name!r}, not {expected!r}: rename it to "
                        f"{expected} (File > Rename in Jupyter) before you submit")
    problems += _otter_file_names(path)
    for name in checks.required:
        if name not in run.names:
            problems.append(f"`{name}` is not defined: define it with exactly this name (its "
                            f"cell may have been renamed, deleted or not run)")
    problems += [f"`{name}` still raises NotImplementedError: write its body, or leave it "
                 f"knowing its question scores 0" for name in _stubs(run.cells, checks.required)]
    for cell, error in run.cell_errors:
        first = error.splitlines()[0]
        if "did not finish" in first:
            problems.append(f"code cell {cell} {first.split(': ', 1)[-1]}: it must finish "
                            f"within {checks.limits.cell_timeout:g} s; stop the loop or make "
                            f"it faster, then Restart and Run All")
        else:
            problems.append(f"code cell {cell} {first}: fix it so that Kernel > Restart and "
                            f"Run All runs every cell without an error")
    if run.time_up:
        problems.append(f"the notebook took longer than its whole time budget of "
                        f"{checks.limits.submission_timeout:g} s: make the slow cells faster")
    problems += _huge_outputs(path)
    return problems


def _otter_file_names(path: Path) -> list[str]:
    """Otter's init cell ``otter.Notebook("NAME.ipynb")`` breaks when the file is renamed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [f"the notebook calls otter.Notebook({name!r}) but is named {path.name!r}: change "
            f"that line to grader = otter.Notebook() (no file name), which works under any name"
            for name in set(re.findall(r"otter\.Notebook\(\s*\\?[\"']([^\"'\\]+)", text))
            if name != path.name]


def _stubs(cells: tuple[str, ...], required: list[str]) -> list[str]:
    last: dict[str, bool] = {}
    for source in cells:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in required:
                last[node.name] = _is_stub(node)
    return [name for name in required if last.get(name)]


def _is_stub(node) -> bool:
    bodies = [node] if isinstance(node, ast.FunctionDef) else \
        [n for n in node.body if isinstance(n, ast.FunctionDef)]
    for function in bodies:
        body = [s for s in function.body if not (isinstance(s, ast.Expr) and
                                                 isinstance(s.value, ast.Constant))]
        if len(body) == 1 and isinstance(body[0], ast.Raise) and \
                "NotImplementedError" in ast.unparse(body[0]):
            return True
    return False


def _huge_outputs(path: Path) -> list[str]:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    problems, code = [], 0
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        code += 1
        size = len(json.dumps(cell.get("outputs", [])))
        if size > OUTPUT_LIMIT:
            problems.append(f"code cell {code} holds {size / 2**20:.1f} MB of output: clear it "
                            f"(Edit > Clear Outputs) or print less, then save")
    return problems


def write_upload(path: Path, checks: PublicChecks) -> Path:
    """The zip to upload: the notebook under the name the course expects."""
    target = path.parent / f"{checks.assignment}-submission.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(path, f"{checks.assignment}{path.suffix}")
    return target
