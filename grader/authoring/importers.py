"""``dlgrade import``: an Otter Assign master notebook or an nbgrader source notebook becomes
``assignments/NAME/`` and ``solutions/NAME.py``.

Each format is read into the same plain parts (narrative, given code, solved functions, checks,
questions people grade), which one writer turns into an assignment. What cannot be converted
is listed in the import report with the cell it comes from, never dropped silently.

Checks run on the trusted side: the check's code runs in the grader's process, calling the
student's functions in their worker and reading their values as data, so the expected values
never travel. A check that rebinds or deletes a student's name (nbgrader's "does f use g?"
idiom) can only run in the student's namespace: it is shipped there, and the report says so.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from grader.core.settings import AssignmentError

FORMATS = ("otter", "nbgrader")


class ImportFailure(AssignmentError):
    """The notebook cannot be imported: a bad marker (naming the cell and line), or a target
    that exists."""


@dataclass(frozen=True)
class Check:
    """One test of the notebook, as pytest will run it."""
    question: str
    name: str
    source: str
    kind: str  # doctest (output compared), functions (test_* called), asserts, in_namespace
    points: float
    hidden: bool
    want: str = ""
    failure: str = ""


@dataclass(frozen=True)
class Skipped:
    """Something of the notebook that the assignment does not have, and why."""
    where: str
    what: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}: {self.why}"


@dataclass
class Parts:
    """A notebook read into what an assignment is made of."""
    name: str
    title: str
    blocks: list[str] = field(default_factory=list)  # handout pieces, in order
    functions: list[str] = field(default_factory=list)  # solved definitions (reference)
    imports: list[str] = field(default_factory=list)  # import statements of the notebook
    questions: dict[str, str] = field(default_factory=dict)  # graded by tests: id -> title
    manual: dict[str, dict] = field(default_factory=dict)  # graded by people
    checks: list[Check] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    lost: set[str] = field(default_factory=set)  # names only unconverted code defines


@dataclass(frozen=True)
class ImportReport:
    name: str
    written: tuple[Path, ...]
    questions: tuple[str, ...]
    manual: tuple[str, ...]
    checks: int
    skipped: tuple[Skipped, ...]

    def render(self) -> str:
        lines = [f"imported {self.name}: {len(self.questions)} questions graded by tests "
                 f"({', '.join(self.questions)}), {self.checks} checks"
                 + (f"; graded by people: {', '.join(self.manual)}" if self.manual else "")]
        lines += [f"  wrote {path}" for path in self.written]
        if self.skipped:
            lines.append(f"not converted ({len(self.skipped)}):")
            lines += [f"  - {item}" for item in self.skipped]
        return "\n".join(lines)


# ---------------------------------------------------------------- entry point

def import_notebook(kind: str, notebook: Path, root: Path, name: str | None = None,
                    force: bool = False) -> ImportReport:
    """Read ``notebook`` (``kind`` otter or nbgrader) and write the assignment under ``root``."""
    if kind not in FORMATS:
        raise ImportFailure(f"unknown format {kind!r} (known: {', '.join(FORMATS)})")
    try:
        cells = json.loads(Path(notebook).read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ImportFailure(f"{notebook}: not a readable notebook ({error})") from None
    cells = [{**cell, "source": _text(cell.get("source", ""))} for cell in cells]
    parts = (read_otter if kind == "otter" else read_nbgrader)(cells, Path(notebook).stem)
    if name:
        parts.name = name
    if not parts.name.isidentifier():
        raise ImportFailure(f"assignment name {parts.name!r} must be a Python identifier: "
                            f"give one with --name")
    drop_unrunnable(parts)
    if not parts.questions:
        raise ImportFailure(f"{notebook}: no question could be converted into tests:\n"
                            + "\n".join(f"  - {item}" for item in parts.skipped))
    return write_assignment(parts, Path(root), force)


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


# ---------------------------------------------------------------- solution code

SOLUTION_LINE = re.compile(r"\s*#\s*SOLUTION(\s+NO\s+PROMPT)?\s*$")
IGNORE_LINE = re.compile(r"\s*#\s*IGNORE\s*$")
SEED_LINE = re.compile(r"\s*#\s*SEED\s*$")
MARKER = re.compile(r"^\s*(?:\"\"\"|''')?\s*;?\s*#+\s*((?:BEGIN|END)\s+[A-Z][A-Z ]*?)\s*$")
OTTER_REGIONS = {"BEGIN SOLUTION", "BEGIN SOLUTION NO PROMPT", "END SOLUTION", "BEGIN PROMPT",
                 "END PROMPT", "BEGIN IGNORE", "END IGNORE"}
NBGRADER_REGIONS = {"BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"}


def split_solution(source: str, where: str, known: set[str]) -> tuple[str, set[int]]:
    """The cell as the reference has it (markers, prompts and ignored lines gone), and the
    lines (1-based, in that text) that are solution code."""
    kept, solution, region = [], set(), None
    for number, line in enumerate(source.splitlines(), 1):
        marker = MARKER.match(line)
        if marker:
            word = " ".join(marker.group(1).split())
            if word not in known:
                raise ImportFailure(f"{where}, line {number}: unknown marker {word!r}")
            if word.startswith("BEGIN"):
                if region:
                    raise ImportFailure(f"{where}, line {number}: {word!r} inside {region!r}")
                region = word
            elif region is None or region.split()[1] != word.split()[1]:
                raise ImportFailure(f"{where}, line {number}: {word!r} without its BEGIN")
            else:
                region = None
            continue
        if region in ("BEGIN PROMPT", "BEGIN IGNORE") or IGNORE_LINE.search(line) \
                or SEED_LINE.search(line):
            continue
        stripped = SOLUTION_LINE.sub("", line)
        kept.append(stripped)
        if region or stripped != line:
            solution.add(len(kept))
    if region:
        raise ImportFailure(f"{where}: {region!r} is never closed")
    return "\n".join(kept), solution


def add_solution_cell(parts: Parts, source: str, solution: set[int], where: str) -> None:
    """Solved functions go to the reference and become skeletons; other statements are
    given to students as they are. Solution code outside a function cannot be expressed."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ImportFailure(f"{where}, line {error.lineno}: not Python ({error.msg})") from None
    lines = source.splitlines()
    outside = sorted(n for n in solution if not _in_definition(tree, n) and lines[n - 1].strip())
    if outside:
        bound = _bound_names(tree)
        parts.lost |= bound
        parts.skipped.append(Skipped(where, f"solution code outside a function (line "
                                     f"{outside[0]}: {lines[outside[0] - 1].strip()})",
                                     "students would write top-level code, which a handout "
                                     "cannot hand out without its answer; names it defines "
                                     f"({', '.join(sorted(bound)) or 'none'}) are lost"))
        return
    given: list[str] = []
    for node in tree.body:
        first = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) \
            else node.lineno
        text = "\n".join(lines[first - 1:node.end_lineno])
        solved = isinstance(node, (ast.FunctionDef, ast.ClassDef)) and any(
            first <= n <= node.end_lineno for n in solution)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            parts.imports.append(text)
        if solved:
            if given:
                parts.blocks.append(_fence(given))
                given = []
            parts.functions.append(text)
            parts.blocks.append(f"<!-- skeleton: {node.name} -->")
        else:
            given.append(text)
    if given:
        parts.blocks.append(_fence(given))


def add_given_cell(parts: Parts, source: str, where: str) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        parts.skipped.append(Skipped(where, "a code cell that is not Python (magics?)",
                                     "left out of the handout"))
        return
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            parts.imports.append(ast.get_source_segment(source, node))
    if source.strip():
        parts.blocks.append(_fence([source.strip("\n")]))


def _fence(pieces: list[str]) -> str:
    return "```python\n" + "\n\n".join(pieces) + "\n```"


def _in_definition(tree: ast.Module, line: int) -> bool:
    return any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.body[0].lineno <= line
               <= node.end_lineno for node in tree.body)


def _bound_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def free_names(source: str) -> set[str]:
    """Names a piece of code reads without binding them (builtins aside), and the parameters
    of its ``test_*`` functions (Otter passes them from the student's namespace)."""
    tree = ast.parse(source)
    bound = _bound_names(tree) | {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                                  if isinstance(n, (ast.Import, ast.ImportFrom))
                                  for a in n.names}
    found: set[str] = set()

    def visit(node, local: frozenset):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            a = node.args
            local = local | {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs
                             + [v for v in (a.vararg, a.kwarg) if v]}
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            found.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(tree, frozenset())
    return (found - bound - set(dir(builtins))) | (_test_parameters(tree) - bound)


def _test_parameters(tree: ast.Module) -> set[str]:
    return {a.arg for node in tree.body if isinstance(node, ast.FunctionDef)
            and node.name.startswith("test") for a in node.args.args}


def rebinds_student_names(source: str, names: set[str]) -> bool:
    """Whether a check deletes or assigns a name the student's code defines."""
    tree = ast.parse(source)
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))
               and n.id in names for n in ast.walk(tree)) or any(
        isinstance(n, ast.Global) for n in ast.walk(tree))


# ---------------------------------------------------------------- Otter Assign

RAW_MARKER = re.compile(r"^\s*#\s*(ASSIGNMENT CONFIG|(?:BEGIN|END)\s+\w+)\s*$", re.IGNORECASE)
OTTER_RAW = {"ASSIGNMENT CONFIG", "BEGIN QUESTION", "END QUESTION", "BEGIN SOLUTION",
             "END SOLUTION", "BEGIN TESTS", "END TESTS", "BEGIN PROMPT", "END PROMPT"}
TEST_CONFIG = re.compile(r'^\s*(?:"""|\'\'\')\s*#\s*BEGIN TEST CONFIG\s*\n(.*?)\n\s*(?:"""|\'\'\')'
                         r"\s*#\s*END TEST CONFIG\s*\n?", re.DOTALL)
QUESTION_KEYS = {"name", "points", "manual", "check_cell", "export", "all_or_nothing",
                 "private_points", "public_points"}
TEST_KEYS = {"name", "points", "hidden", "success_message", "failure_message"}


def _yaml(text: str, where: str, first_line: int) -> dict:
    try:
        value = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        raise ImportFailure(f"{where}, line {line}: malformed YAML "
                            f"({getattr(error, 'problem', None) or error})") from None
    if not isinstance(value, dict):
        raise ImportFailure(f"{where}, line {first_line}: expected key: value lines")
    return value


def read_otter(cells: list[dict], stem: str) -> Parts:
    """An Otter Assign (v1 format) master notebook, read into parts."""
    parts = Parts(name=re.sub(r"\W", "_", stem), title=stem)
    question, region, pending = None, None, []
    for index, cell in enumerate(cells, 1):
        where, source, kind = f"cell {index}", cell["source"], cell.get("cell_type")
        marker = RAW_MARKER.match(source.split("\n", 1)[0]) if kind == "raw" else None
        if kind == "raw" and not marker:
            parts.skipped.append(Skipped(where, "a raw cell", "raw cells are not handed out"))
            continue
        if marker:
            word = " ".join(marker.group(1).upper().split())
            if word not in OTTER_RAW:
                raise ImportFailure(f"{where}, line 1: unknown marker {marker.group(1)!r}")
            body = source.split("\n", 1)[1] if "\n" in source else ""
            question, region = _otter_marker(parts, word, body, where, question, region,
                                             pending)
            continue
        if question and question.get("manual"):
            _manual_cell(parts, question, cell, region, where)
        elif region == "tests":
            if kind == "code":
                pending.append((where, source, _outputs(cell)))
        elif region == "solution":
            if kind == "markdown" and "otter_include" not in cell.get("metadata", {}).get(
                    "tags", []):
                parts.skipped.append(Skipped(where, "a Markdown cell in a solution",
                                             "solutions are not handed out"))
            elif kind == "markdown":
                parts.blocks.append(source)
            else:
                text, solution = split_solution(source, where, OTTER_REGIONS)
                add_solution_cell(parts, text, solution, where)
        elif kind == "markdown":
            parts.blocks.append(source)
            if question:
                question["text"].append(source)
            if parts.title == stem and source.lstrip().startswith("#"):
                parts.title = source.lstrip("# ").split("\n")[0].strip()
        elif kind == "code":
            text, solution = split_solution(source, where, OTTER_REGIONS)
            (add_solution_cell(parts, text, solution, where) if solution
             else add_given_cell(parts, text, where))
    if question:
        raise ImportFailure(f"question {question['name']!r} is never closed by # END QUESTION")
    return parts


def _otter_marker(parts, word, body, where, question, region, pending):
    """Apply one raw marker cell; return the new (question, region)."""
    if word == "ASSIGNMENT CONFIG":
        config = _yaml(body, where, 2)
        if isinstance(config.get("name"), str):
            parts.name = re.sub(r"\W", "_", config["name"])
        unused = sorted(set(config) - {"name"})
        if unused:
            parts.skipped.append(Skipped(where, f"assignment config keys {', '.join(unused)}",
                                         "Otter settings with no meaning here"))
        return question, region
    if word == "BEGIN QUESTION":
        if question:
            raise ImportFailure(f"{where}, line 1: BEGIN QUESTION inside question "
                                f"{question['name']!r}")
        config = _yaml(body, where, 2)
        if not isinstance(config.get("name"), (str, int)):
            raise ImportFailure(f"{where}: BEGIN QUESTION needs name: (the question's id)")
        unknown = sorted(set(config) - QUESTION_KEYS)
        if unknown:
            raise ImportFailure(f"{where}, line 2: unknown question key {unknown[0]!r}")
        config["name"] = re.sub(r"\W", "_", str(config["name"]))
        config["where"], config["text"] = where, []
        return config, None
    if question is None:
        raise ImportFailure(f"{where}, line 1: {word} outside a question")
    if word == "END QUESTION":
        if region:
            raise ImportFailure(f"{where}, line 1: END QUESTION inside {region}")
        _close_otter_question(parts, question, pending)
        pending.clear()
        return None, None
    opening = {"BEGIN SOLUTION": "solution", "BEGIN TESTS": "tests", "BEGIN PROMPT": "prompt"}
    if word in opening:
        if region:
            raise ImportFailure(f"{where}, line 1: {word} inside {region}")
        return question, opening[word]
    if region != word.split()[1].lower():
        raise ImportFailure(f"{where}, line 1: {word} without BEGIN {word.split()[1]}")
    return question, None


def _manual_cell(parts, question, cell, region, where) -> None:
    if region in ("solution", "tests"):
        question.setdefault("answers", []).append(cell["source"])
        if cell.get("cell_type") == "code":
            question["figure"] = True
    elif cell["source"].strip():
        question["text"].append(cell["source"])


def _close_otter_question(parts: Parts, question: dict, pending: list) -> None:
    qid, where = question["name"], question["where"]
    if question.get("manual"):
        points = question.get("points", 1)
        parts.manual[qid] = {"title": _title(question["text"], qid), "points": points,
                             "figure": bool(question.get("figure"))}
        parts.blocks += question["text"] + [f"<!-- answer: {qid} -->"]
        if question.get("answers"):
            parts.skipped.append(Skipped(where, f"the model answer of {qid} (graded by people)",
                                         "kept out of the handout; for the rubric: "
                                         + " / ".join(a.strip() for a in question["answers"])))
        return
    checks = [_otter_check(qid, source, want, at) for at, source, want in pending]
    if not checks:
        parts.skipped.append(Skipped(where, f"question {qid}", "it has no tests"))
        return
    for check, points in zip(checks, _split_points(question, checks), strict=True):
        check.pop("where")
        parts.checks.append(Check(**{**check, "points": points}))
    parts.questions[qid] = _title(question["text"], qid)
    parts.blocks.append(f"<!-- check: {qid} -->")


def _outputs(cell: dict) -> str:
    """What a cell printed and showed, as a doctest expects it."""
    text = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text.append(_text(output.get("text", "")))
        elif output.get("output_type") == "execute_result":
            text.append(_text(output.get("data", {}).get("text/plain", "")) + "\n")
    return "".join(text)


def _otter_check(qid: str, source: str, want: str, where: str) -> dict:
    config, hidden = {}, False
    match = TEST_CONFIG.match(source)
    if match:
        config = _yaml(match.group(1), where, 2)
        unknown = sorted(set(config) - TEST_KEYS)
        if unknown:
            raise ImportFailure(f"{where}, line 2: unknown test config key {unknown[0]!r}")
        source = source[match.end():]
    lines = source.splitlines()
    if lines and re.match(r"^\s*#\s*HIDDEN\s*$", lines[0]):
        hidden, lines = True, lines[1:]
    body = "\n".join(line for line in lines if not IGNORE_LINE.search(line))
    tree = _parse(body, where)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)
                 and n.name.startswith("test")]
    return {"question": qid, "name": str(config.get("name") or where.replace(" ", "")),
            "source": body, "kind": "functions" if functions else "doctest",
            "hidden": bool(config.get("hidden", hidden)), "want": want,
            "failure": str(config.get("failure_message") or ""),
            "points": config.get("points"), "where": where}


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        raise ImportFailure(f"{where}, line {error.lineno}: not Python ({error.msg})") from None


def _split_points(question: dict, checks: list[dict]) -> list[float]:
    """Otter's rules: a test's own points; else the question's points (a list per test,
    ``each``, or a total shared by the tests without their own); else 1 per question."""
    given = question.get("points")
    if isinstance(given, list):
        return [float(p) for p in given] + [0.0] * (len(checks) - len(given))
    if isinstance(given, dict) and "each" in given:
        return [float(given["each"])] * len(checks)
    total = float(given) if isinstance(given, (int, float)) else 1.0
    own = [c["points"] for c in checks]
    left = total - sum(float(p) for p in own if p is not None) if given is not None or \
        all(p is None for p in own) else 0.0
    share = left / max(1, sum(p is None for p in own))
    return [float(p) if p is not None else share for p in own]


def _title(texts: list[str], fallback: str) -> str:
    for text in texts:
        for line in text.splitlines():
            line = re.sub(r"[*_#`]", "", line).strip()
            if re.search(r"\w", line):
                return line[:80]
    return fallback


# ---------------------------------------------------------------- nbgrader

NBGRADER_KEYS = {"grade", "solution", "locked", "task", "grade_id", "points", "schema_version",
                 "checksum", "cell_type"}


def _nbgrader_metadata(cell: dict, where: str) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    if not isinstance(meta, dict):
        raise ImportFailure(f"{where}: metadata nbgrader must be a mapping")
    unknown = sorted(set(meta) - NBGRADER_KEYS)
    if unknown:
        raise ImportFailure(f"{where}: unknown key nbgrader.{unknown[0]} in the cell's metadata")
    for key in ("grade", "solution", "locked", "task"):
        if not isinstance(meta.get(key, False), bool):
            raise ImportFailure(f"{where}: metadata nbgrader.{key} must be true or false")
    points = meta.get("points", 0)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise ImportFailure(f"{where}: metadata nbgrader.points must be a number, got {points!r}")
    return meta


def read_nbgrader(cells: list[dict], stem: str) -> Parts:
    """An nbgrader source notebook: each solution cell opens a question, graded by the
    autograder test cells that follow it."""
    parts = Parts(name=re.sub(r"\W", "_", stem), title=stem)
    qid, narrative = None, []
    for index, cell in enumerate(cells, 1):
        where, source, kind = f"cell {index}", cell["source"], cell.get("cell_type")
        meta = _nbgrader_metadata(cell, where)
        grade_id = re.sub(r"\W", "_", str(meta.get("grade_id") or f"cell{index}"))
        if meta.get("task") or (meta.get("grade") and meta.get("solution")):
            _nbgrader_manual(parts, meta, cell, grade_id, narrative, where)
        elif meta.get("solution") and kind == "code":
            text, solution = split_solution(source, where, {"BEGIN SOLUTION", "END SOLUTION"})
            if not solution:  # no markers: nbgrader replaces the whole cell
                solution = set(range(1, len(text.splitlines()) + 1))
            qid = _next_question(parts)
            parts.questions[qid] = grade_id
            add_solution_cell(parts, text, solution, where)
        elif meta.get("grade") and kind == "code":
            _nbgrader_test(parts, qid, source, meta, grade_id, where)
        elif meta.get("solution") or meta.get("grade"):
            parts.skipped.append(Skipped(where, f"{grade_id}: a {kind} cell marked "
                                         f"solution={meta.get('solution', False)}, "
                                         f"grade={meta.get('grade', False)}",
                                         "no autograded meaning"))
        elif kind == "markdown":
            parts.blocks.append(_narrative(source))
            narrative.append(source)
        elif kind == "code":
            if any(MARKER.match(line) for line in source.splitlines()):
                raise ImportFailure(f"{where}: solution or test markers in a cell that is not "
                                    f"marked as a solution or a test (nbgrader metadata)")
            add_given_cell(parts, source, where)
    return parts


def _next_question(parts: Parts) -> str:
    return f"q{len(parts.questions) + 1}"


def _place_check(parts: Parts, qid: str) -> None:
    """A question's check cell follows its last test cell."""
    directive = f"<!-- check: {qid} -->"
    parts.blocks = [block for block in parts.blocks if block != directive] + [directive]


def _nbgrader_test(parts, qid, source, meta, grade_id, where) -> None:
    if qid is None:
        parts.skipped.append(Skipped(where, f"test {grade_id}", "no solution cell before it"))
        return
    visible, whole, region = [], [], False
    for number, line in enumerate(source.splitlines(), 1):
        marker = MARKER.match(line)
        if marker:
            word = " ".join(marker.group(1).split())
            if word not in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
                raise ImportFailure(f"{where}, line {number}: unknown marker {word!r}")
            if (word.startswith("BEGIN")) == region:
                raise ImportFailure(f"{where}, line {number}: {word!r} out of order")
            region = word.startswith("BEGIN")
            continue
        whole.append(line)
        if not region:
            visible.append(line)
    if region:
        raise ImportFailure(f"{where}: BEGIN HIDDEN TESTS is never closed")
    _parse("\n".join(whole), where)
    _place_check(parts, qid)
    points = float(meta.get("points", 0))
    if len(visible) == len(whole):
        parts.checks.append(Check(qid, grade_id, "\n".join(whole), "asserts", points, False))
        return
    parts.checks.append(Check(qid, grade_id, "\n".join(whole), "asserts", points, True))
    if any(line.strip().startswith("assert") for line in visible):
        parts.checks.append(Check(qid, f"{grade_id}_visible", "\n".join(visible), "asserts",
                                  0.0, False))


def _nbgrader_manual(parts, meta, cell, grade_id, narrative, where) -> None:
    points = float(meta.get("points", 0))
    qid = grade_id if grade_id[0].isalpha() else f"q_{grade_id}"
    if points <= 0:
        parts.skipped.append(Skipped(where, f"{grade_id}, graded by people", "it has no points"))
        return
    if meta.get("task"):
        parts.blocks.append(_narrative(cell["source"]))
        prompt = cell["source"]
    else:
        prompt = narrative[-1] if narrative else grade_id
        parts.skipped.append(Skipped(where, f"the model answer of {qid} (graded by people)",
                                     "kept out of the handout; for the rubric: "
                                     + cell["source"].strip()))
    parts.manual[qid] = {"title": _title([prompt], qid), "points": points,
                         "figure": cell.get("cell_type") == "code"}
    parts.blocks.append(f"<!-- answer: {qid} -->")


def _narrative(text: str) -> str:
    """Markdown as narrative: a ```python fence in it would become a code cell."""
    return re.sub(r"^```python\s*$", "```py", text, flags=re.MULTILINE)


# ---------------------------------------------------------------- what can run

def drop_unrunnable(parts: Parts) -> None:
    """Leave out checks that need what was not converted or test nothing of the student's;
    checks that rebind the student's names run in the student's namespace."""
    defined = set()
    for text in parts.functions + [b[len("```python\n"):-4] for b in parts.blocks
                                   if b.startswith("```python\n")]:
        defined |= _bound_names(ast.parse(text))
    kept = []
    for check in parts.checks:
        names = free_names(check.source)
        why = None
        if names & parts.lost:
            why = (f"it uses {', '.join(sorted(names & parts.lost))}, which no converted "
                   f"code defines")
        elif not names & defined:
            why = "it reads nothing the student writes, so it would pass on an empty notebook"
        elif rebinds_student_names(check.source, defined):
            if check.kind == "doctest":
                why = "it rebinds the student's names and compares printed output"
            else:
                check = Check(**{**check.__dict__, "kind": "in_namespace"})
                parts.skipped.append(Skipped(check.name, "runs in the student's process",
                                             "it rebinds the student's names, so its code "
                                             "(and the values it expects) is shipped there"))
        if why:
            parts.skipped.append(Skipped(check.name, f"test of {check.question} "
                                         f"({check.points:g} points)", why))
        else:
            kept.append(check)
    parts.checks = kept
    for qid in list(parts.questions):
        if not any(c.question == qid and c.points > 0 for c in kept):
            del parts.questions[qid]
            parts.checks = [c for c in parts.checks if c.question != qid]
            parts.blocks = [b for b in parts.blocks if b != f"<!-- check: {qid} -->"]
            if not any(s.what == f"question {qid}" for s in parts.skipped):
                parts.skipped.append(Skipped(qid, f"question {qid}", "none of its tests "
                                             "could be converted"))


# ---------------------------------------------------------------- writing

RUNNER = '''\
# How an imported check runs (written by `dlgrade import`): the check's code runs here, calling
# the student's functions in their process and reading their values as data, so what it
# expects never reaches student code.
import ast
import builtins
import doctest
import io
from contextlib import redirect_stdout

import numpy
import pytest

SETUP = {setup!r}


def value_of(namespace, name):
    return namespace[name]


def run_in_namespace(namespace, source):
    saved = dict(namespace)
    try:
        exec(compile(source, "<check>", "exec"), namespace)
    except Exception as error:
        return f"{{type(error).__name__}}: {{error}}"
    finally:
        namespace.clear()
        namespace.update(saved)
    return None


def _proxy(submission, name):
    def call(*args, **kwargs):
        try:
            return submission.call(name, *args, **kwargs)
        except Exception as error:
            kind = getattr(builtins, getattr(error, "type", ""), None)
            if type(error).__name__ == "StudentError" and isinstance(kind, type) and \\
                    issubclass(kind, Exception):
                try:
                    mapped = kind(error.text)
                except Exception:
                    raise error from None
                raise mapped from error
            raise
    return call


def _names(tree):
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            loaded.add(node.arg)
    return loaded - set(dir(builtins))


def _namespace(submission, tree):
    namespace = {{"__builtins__": builtins}}
    kinds = submission.names()
    for name in sorted(_names(tree)):
        if name in SETUP:
            exec(SETUP[name], namespace)
        elif kinds.get(name) in ("function", "class"):
            namespace[name] = _proxy(submission, name)
        elif kinds.get(name) == "value":
            namespace[name] = submission.run(value_of, name)
    return namespace


def _failed_line(source, error):
    trace, line = error.__traceback__, None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<check>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return source.splitlines()[line - 1].strip() if line else ""


def _displayed(tree, namespace):
    # Saved outputs predate numpy 2's scalar reprs (np.True_, np.float64(1.0)): show the old.
    out = io.StringIO()
    legacy = {{"legacy": "1.25"}} if int(numpy.__version__.split(".")[0]) >= 2 else {{}}
    with redirect_stdout(out), numpy.printoptions(**legacy):
        for node in tree.body:
            if isinstance(node, ast.Expr):
                value = eval(compile(ast.Expression(node.value), "<check>", "eval"), namespace)
                if value is not None:
                    print(repr(value))
            else:
                exec(compile(ast.Module([node], []), "<check>", "exec"), namespace)
    return out.getvalue()


def check(submission, kind, source, want="", failure=""):
    """Run one check of the imported notebook; an AssertionError says what failed."""
    if kind == "in_namespace":
        outcome = submission.run(run_in_namespace, source)
        if outcome is not None:
            raise AssertionError(failure or f"this check failed: {{outcome}}")
        return
    tree = ast.parse(source)
    namespace = _namespace(submission, tree)
    try:
        if kind == "doctest":
            got = _displayed(tree, namespace)
            if not doctest.OutputChecker().check_output(want, got, doctest.NORMALIZE_WHITESPACE):
                raise AssertionError(f"expected {{want.strip()!r}}, got {{got.strip()!r}}")
            return
        exec(compile(tree, "<check>", "exec"), namespace)
        for node in tree.body if kind == "functions" else ():
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                namespace[node.name](*[namespace[a.arg] for a in node.args.args])
    except NameError as error:
        raise AssertionError(failure or f"{{error}}: define it in your notebook") from None
    except AssertionError as error:
        line = _failed_line(source, error)
        raise AssertionError(failure or str(error) or f"this check failed: {{line}}") from None
    except Exception as error:
        cause = error.__cause__
        if type(cause).__name__ == "StudentError":
            raise cause from None
        raise
'''


def write_assignment(parts: Parts, root: Path, force: bool) -> ImportReport:
    folder, reference = root / "assignments" / parts.name, root / "solutions" / f"{parts.name}.py"
    existing = [str(path) for path in (folder, reference) if path.exists()]
    if existing and not force:
        raise ImportFailure(f"not overwriting {', '.join(existing)} (use --force to replace)")
    if (folder / "tests").is_dir():
        for old in (folder / "tests").glob("*.py"):
            old.unlink()
    files = {
        folder / "assignment.yml": _assignment_yml(parts),
        folder / "handout.md": "\n\n".join([f"# {parts.title}", *parts.blocks]) + "\n",
        reference: _reference(parts),
        folder / "tests" / "test_public.py": _test_file(parts, hidden=False),
        folder / "tests" / "test_hidden.py": _test_file(parts, hidden=True),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return ImportReport(parts.name, tuple(files), tuple(parts.questions), tuple(parts.manual),
                        len(parts.checks), tuple(parts.skipped))


def _assignment_yml(parts: Parts) -> str:
    from grader.core.settings import DEFAULT_IMPORTS

    config = {"name": parts.name, "title": parts.title,
              "reference": f"../../solutions/{parts.name}.py", "questions": parts.questions}
    if parts.manual:
        config["manual"] = parts.manual
    modules = {_top_module(statement) for statement in parts.imports}
    extra = sorted(m for m in modules if m and m not in DEFAULT_IMPORTS
                   and m not in __import__("sys").stdlib_module_names)
    if extra:
        config["imports"] = [*DEFAULT_IMPORTS, *extra]
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _top_module(statement: str) -> str:
    node = ast.parse(statement).body[0]
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] if not node.level else ""
    return node.names[0].name.split(".")[0]


def _reference(parts: Parts) -> str:
    imports = list(dict.fromkeys(parts.imports))
    return "\n\n\n".join([f'"""Reference solution of `{parts.name}`, imported by dlgrade import."""'
                          + ("\n\n" + "\n".join(imports) if imports else ""),
                          *parts.functions]) + "\n"


def _setup(parts: Parts) -> dict[str, str]:
    """Each name the notebook's imports bind, with the statement binding it."""
    setup = {}
    for statement in dict.fromkeys(parts.imports):
        for alias in ast.parse(statement).body[0].names:
            setup[(alias.asname or alias.name).split(".")[0]] = statement
    return setup


def _test_file(parts: Parts, hidden: bool) -> str:
    head = ('"""Hidden tests imported from the notebook."""' if hidden else
            '"""Public checks imported from the notebook: students run them in their notebook."""'
            '\n')
    lines = [head, RUNNER.format(setup=_setup(parts))]
    if not hidden:
        lines.append('pytestmark = pytest.mark.visibility("public")\n')
    taken: set[str] = set()
    for check in parts.checks:
        if check.hidden != hidden:
            continue
        name = re.sub(r"\W+", "_", f"test_{check.question}_{check.name}").lower()
        while name in taken:
            name += "_"
        taken.add(name)
        lines.append(f'\n@pytest.mark.question("{check.question}")\n'
                     f"@pytest.mark.points({check.points:g})\n"
                     f"def {name}(submission):\n"
                     f"    check(submission, {check.kind!r}, {check.source!r},\n"
                     f"          want={check.want!r}, failure={check.failure!r})\n")
    return "\n".join(lines)
