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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.settings import DEFAULT_IMPORTS, importable_names
from grader.sandbox.isolation import Limits
from grader.student.notebook import (
    INIT_CALL,
    MAX_NOTEBOOK,
    ChecksAltered,
    embedded_checks,
    from_metadata,
    read_metadata,
)

OUTPUT_LIMIT = 1024 * 1024  # a cell output above this makes a notebook slow to upload and grade


class CheckError(Exception):
    """The checks cannot be found or run: said plainly, exit 2."""


@dataclass
class PublicChecks:
    assignment: str
    source: str
    questions: list[str]
    required: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    functions: dict[str, list[str]] = field(default_factory=dict)  # question -> functions
    imports: tuple[str, ...] = DEFAULT_IMPORTS
    manual: dict = field(default_factory=dict)  # question people grade -> {figure, points, ...}


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
    """In a course folder, the course's own public checks of the notebook's assignment (a TA
    checking a submission never runs checks the submission carries: they are code, and run
    in this process). Elsewhere, the student's side: the checks the notebook carries (its
    metadata, checked against the digest in its first cell), else those of the ``tests/``
    folder beside it."""
    about = read_metadata(path)
    name = str(about.get("assignment") or path.stem)
    limits = Limits(**{k: v for k, v in (about.get("limits") or {}).items()
                       if k in ("call_timeout", "cell_timeout", "submission_timeout")})
    required = [str(n) for n in about.get("required") or []]
    functions = dict(about.get("functions") or {})
    imports = tuple(DEFAULT_IMPORTS if about.get("imports") is None else about["imports"])
    course = Path("assignments") / name / "tests" / "test_public.py"
    if re.fullmatch(r"[\w-]+", name) and course.is_file():
        from grader.core.settings import load_assignment

        assignment = load_assignment(str(course.parent.parent))
        manual = {qid: {"title": q.title, "points": q.points, "figure": q.figure}
                  for qid, q in assignment.manual.items()}
        return PublicChecks(name, course.read_text(), list(assignment.questions), required,
                            assignment.limits, functions, assignment.imports, manual)
    try:
        carried = from_metadata(about, path.name, _init_digest(path))
    except ChecksAltered:
        raise CheckError(f"the public checks inside {path.name} were changed after it was "
                         f"published, so they are not run: download the notebook again and "
                         f"copy your code into it") from None
    manual = about.get("manual") if isinstance(about.get("manual"), dict) else {}
    if carried:
        return PublicChecks(name, carried.source, carried.questions, required, limits,
                            carried.functions, imports, manual)
    found = embedded_checks(path.parent / "tests")
    if found:
        return PublicChecks(name, found[0], about.get("questions") or found[1], required,
                            limits, functions, imports, manual)
    raise CheckError(f"no public checks found for {path.name}: it carries none (was it made "
                     f"from the published notebook?) and no tests/ folder is beside it")


def _init_digest(path: Path) -> str | None:
    """The digest the notebook's first cell gives its checks, if it still has that line."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK:
            return None
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else str(c["source"])
                   for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    found = next(filter(None, map(INIT_CALL.search, sources)), None)
    return found.group(2) if found else None


def run_notebook(path: Path, checks: PublicChecks, zygote) -> Run:
    """Run the notebook's cells in the sandbox, then its public checks there too, next to
    them (the checks may come from the notebook: they are code)."""
    from grader.core.loading import SubmissionUnreadable, load_submission
    from grader.sandbox import SandboxedSubmission, WorkerError
    from grader.student.kernel import checks_in_worker

    try:
        loaded = load_submission(path)
    except SubmissionUnreadable as error:
        return Run([], [], {}, False, str(error))
    cells = loaded.cells
    submission = SandboxedSubmission(zygote, list(cells), checks.limits, [],
                                     imports=tuple(importable_names(checks.imports)))
    try:
        submission.begin()
        try:
            reports = submission.start()
        except WorkerError as error:
            return Run([], [], {}, submission.time_up, f"the notebook could not run: {error}",
                       cells)
        errors = [(r.index + 1, r.error) for r in reports if r.error]
        names = submission.names()
        try:
            shown = submission.run(checks_in_worker, list(checks.questions), checks.source,
                                   checks.limits.call_timeout,
                                   _timeout=checks.limits.submission_timeout)
        except WorkerError as error:
            return Run([], errors, names, submission.time_up,
                       f"the public checks could not run: {error}", cells)
    finally:
        submission.close()
    results = _results(shown)
    if results is None:
        return Run([], errors, names, submission.time_up,
                   "the public checks could not run: their results were unreadable", cells)
    return Run(results, errors, names, submission.time_up, None, cells)


def _results(shown) -> list | None:
    """What the worker said the checks gave, as results (None: not results at all)."""
    from grader.core.results import TestResult

    if not isinstance(shown, list):
        return None
    results = []
    for entry in shown:
        if not isinstance(entry, dict) or not all(
                isinstance(entry.get(key), str) for key in ("name", "question", "message")) \
                or entry.get("outcome") not in ("passed", "failed", "skipped"):
            return None
        results.append(TestResult(entry["name"], entry["question"], 0.0, 0.0,
                                  entry["outcome"], entry["message"], "public"))
    return results


def render_checks(path: Path, checks: PublicChecks, run: Run, question: str | None,
                  run_all: bool = True) -> str:
    """What ``dlgrade check`` prints: per question what the notebook's ``grader.check`` shows,
    then (``run_all``) what would go wrong on Kernel > Restart and Run All."""
    from grader.student.kernel import import_problems, question_text, summary

    if run.error:
        return f"{path.name}: {run.error}"
    questions = [question] if question else checks.questions
    lines, passing = [f"{path.name}: public checks of {checks.assignment}"], 0
    for qid in questions:
        results = [r for r in run.results if r.question == qid]
        passing += bool(results) and all(r.outcome == "passed" for r in results)
        lines.append(question_text(qid, results))
    lines += ["", summary(passing, len(questions))]
    lines += [f"Note: {note}." for note in import_problems(run.cells, checks.imports)]
    stops = run_all_problems(checks, run) if run_all else []
    if stops:
        lines += ["", "Run top to bottom, as Kernel > Restart and Run All and grading run it, "
                      "the notebook would not give these results:",
                  *(f"- {stop}" for stop in stops)]
    return "\n".join(lines)


def run_all_problems(checks: PublicChecks, run: Run) -> list[str]:
    """What fails when the notebook runs top to bottom: cells that raise or overrun, and
    checks placed before the functions they check."""
    problems = [f"{_cell(run, cell)} {_within(run, cell, error)}{_missing(error, checks)}"
                for cell, error in run.cell_errors]
    return problems + [f"{order}: the check fails there; move the definition above it"
                       for order in order_problems(checks, run)]


def _missing(error: str, checks: PublicChecks) -> str:
    """Why a module is missing: not installed here (grading has it), or not allowed."""
    found = re.search(r"ModuleNotFoundError: No module named '(\w+)", error)
    if not found:
        return ""
    if found.group(1) in importable_names(tuple(checks.imports)):
        return f" (grading has it: pip install {found.group(1)})"
    return " (grading does not allow it: see the note above)"


def order_problems(checks: PublicChecks, run: Run) -> list[str]:
    """Checks that come before a function they check is defined."""
    defined: dict[str, int] = {}
    for index, source in enumerate(run.cells):
        for name in _top_level_names(source):
            defined.setdefault(name, index)
    problems = []
    for index, source in enumerate(run.cells):
        for call in CHECK_CALL.finditer(source):
            question = call.group(1)
            needed = checks.functions.get(question, []) if question else checks.required
            shown = f'grader.check("{question}")' if question else "grader.check_all()"
            problems += [f"{_cell(run, index + 1)} runs {shown} before `{name}` is defined "
                         f"({_cell(run, defined[name] + 1)})"
                         for name in needed if defined.get(name, -1) > index]
    return problems


CHECK_CALL = re.compile(r"""grader\.check(?:_all\(|\(\s*["'](\w+)["']\s*)""")


def _top_level_names(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def _within(run: Run, number: int, error: str) -> str:
    """A cell's error, its place given within the cell already named."""
    return error.splitlines()[0].replace(f" of {_cell(run, number)}", "")


def _cell(run: Run, number: int) -> str:
    """A code cell as a student finds it in Jupyter: by its first line."""
    from grader.sandbox.worker import first_line

    first = first_line(run.cells[number - 1].split("\n")) if number <= len(run.cells) else ""
    return f'the cell starting "{first}"' if first else f"code cell {number} (empty)"


def submit_problems(path: Path, checks: PublicChecks, run: Run) -> list[str]:
    """What would go wrong at grading, each with what to do about it."""
    from grader.core.plugin import not_written

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
    problems += [f"{not_written(name)}: write its body, or leave it knowing that what uses it "
                 f"loses its points" for name in _stubs(run.cells, checks.required)]
    for cell, error in run.cell_errors:
        first = error.splitlines()[0]
        if "did not finish" in first:
            problems.append(f"{_cell(run, cell)} {first.split(': ', 1)[-1]}: it must finish "
                            f"within {checks.limits.cell_timeout:g} s; stop the loop or make "
                            f"it faster, then Restart and Run All")
        else:
            problems.append(f"{_cell(run, cell)} {_within(run, cell, error)}: fix it so that "
                            f"Kernel > Restart and Run All runs every cell without an error")
    problems += [f"{order}: Run All would fail that check; move the definition above it"
                 for order in order_problems(checks, run)]
    if run.time_up:
        problems.append(f"the notebook took longer than its whole time budget of "
                        f"{checks.limits.submission_timeout:g} s: make the slow cells faster")
    problems += _huge_outputs(path)
    problems += answer_problems(path, checks.manual)
    return problems


def answer_problems(path: Path, manual: dict) -> list[str]:
    """The questions people grade whose answer is missing or empty."""
    from grader.core.answers import read_answers

    problems = []
    for qid, answer in read_answers(path, list(manual)).items():
        figure = bool((manual[qid] or {}).get("figure")) if isinstance(manual[qid], dict) \
            else False
        if not answer.found:
            problems.append(f"{qid}'s answer cell is gone (people grade {qid}): copy it back "
                            f"from the published notebook and answer there")
            continue
        for missing in answer.empty(figure):
            problems.append(
                f"{qid} has no written answer yet: replace the paragraph under \"{qid}: your "
                f"answer\" with yours" if missing == "text" else
                f"{qid} has no figure yet: run the cell that draws it, so the figure is saved "
                f"in the notebook, then save")
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
    """The required functions, and methods of required classes, whose last definition is
    still the skeleton's bare stub (``raise NotImplementedError``, no message of its own)."""
    last: dict[str, list[str]] = {}
    for source in cells:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in required:
                last[node.name] = [node.name] if _is_stub(node) else []
            elif isinstance(node, ast.ClassDef) and node.name in required:
                last[node.name] = [f"{node.name}.{method.name}" for method in node.body
                                   if isinstance(method, ast.FunctionDef) and _is_stub(method)]
    return [stub for name in required for stub in last.get(name, [])]


def _is_stub(function: ast.FunctionDef) -> bool:
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and
                                             isinstance(s.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Raise) and \
        ast.unparse(body[0]) in ("raise NotImplementedError", "raise NotImplementedError()")


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
