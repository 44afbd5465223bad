"""From an assignment's source to notebooks: the handout's narrative, skeletons cut from the
reference solution, and check cells.

``assignments/NAME/handout.md`` is Markdown in which a fenced ```python block becomes a code
cell given to students, ``<!-- skeleton: f g -->`` becomes a code cell with the signatures and
docstrings of the reference's functions ``f`` and ``g`` (bodies left to the student), and
``<!-- check: q1 -->`` becomes the cell that runs question q1's public checks,
``<!-- answer: q7 -->`` the answer cells of a question people grade (``manual:`` in
assignment.yml): a Markdown cell for the text, and a code cell for a figure. Every other
line is narrative. A function or method whose ``def`` line ends with ``# given`` is handed to
students whole (a ``__repr__``, a plotting helper). Each function, paragraph and check
therefore exists once.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.core.settings import AssignmentError

DIRECTIVE = re.compile(r"^<!--\s*(skeleton|check|answer):\s*(.*?)\s*-->\s*$")
# The answer cells of a question people grade (``<!-- answer: q7 -->``): a Markdown cell for
# the text, and for a figure a code cell that draws it; each tagged in its metadata.
ANSWER_TEXT = ("**{qid}: your answer** ({points:g} points, graded by people). Replace this "
               "paragraph with your answer.")
ANSWER_FIGURE = ("# {qid}: the code that draws your figure. Run it, so that the figure is "
                 "saved in the notebook you submit.\n")
FENCE_OPEN, FENCE_CLOSE = re.compile(r"^```python\s*$"), re.compile(r"^```\s*$")
INIT_CELL = """\
# Run this cell first. It installs dlgrade, which runs the public checks, when this Python
# does not have it (in Colab: once per session), then loads the checks this notebook carries.
try:
    import dlgrade
except ModuleNotFoundError:
    %pip install --quiet "{install}"
    import dlgrade  # if this fails, pip could not install dlgrade: its message is above

grader = dlgrade.Notebook("{name}", "{digest}")"""
CHECK_ALL_CELL = "grader.check_all()"
STUB = "# YOUR CODE HERE\nraise NotImplementedError"
GIVEN = "# given"


class HandoutError(AssignmentError):
    """The handout or the reference solution cannot be turned into a notebook."""


@dataclass(frozen=True)
class Block:
    kind: str  # markdown, code, skeleton or check
    text: str  # the text; for skeleton, function names; for check, the question id


def parse_handout(text: str) -> list[Block]:
    """Split a handout into narrative, given code and directives, in order."""
    blocks: list[Block] = []
    markdown: list[str] = []
    code: list[str] | None = None

    def flush_markdown():
        content = "\n".join(markdown).strip()
        if content:
            blocks.append(Block("markdown", content))
        markdown.clear()

    for number, line in enumerate(text.splitlines(), 1):
        if code is not None:
            if FENCE_CLOSE.match(line):
                blocks.append(Block("code", "\n".join(code).strip("\n")))
                code = None
            else:
                code.append(line)
        elif FENCE_OPEN.match(line):
            flush_markdown()
            code = []
        elif match := DIRECTIVE.match(line):
            flush_markdown()
            kind, argument = match.groups()
            if not argument:
                raise HandoutError(f"line {number}: `{kind}:` needs an argument")
            blocks.append(Block(kind, argument))
        else:
            markdown.append(line)
    if code is not None:
        raise HandoutError("a ```python block is not closed")
    flush_markdown()
    return blocks


def function_sources(reference: str) -> dict[str, ast.FunctionDef | ast.ClassDef]:
    """The reference's top-level functions and classes, by name."""
    return {node.name: node for node in ast.parse(reference).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def has_docstring(node) -> bool:
    first = node.body[0]
    return (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str))


def skeleton(reference: str, names: list[str]) -> str:
    """The named functions and classes with signatures and docstrings kept, and every function
    or method body replaced by a stub."""
    lines, definitions = reference.splitlines(), function_sources(reference)
    missing = [name for name in names if name not in definitions]
    if missing:
        raise HandoutError(f"the reference solution has no function or class {missing[0]!r}")
    return "\n\n\n".join(_stubbed(definitions[name], lines) for name in names) + "\n"


def _first_line(node) -> int:
    """Where a definition starts: its first decorator, or its def/class line."""
    return node.decorator_list[0].lineno if node.decorator_list else node.lineno


def is_given(node, lines: list[str]) -> bool:
    """A definition whose ``def`` line ends with ``# given`` goes to students whole."""
    return lines[node.lineno - 1].rstrip().endswith(GIVEN)


def _stubbed(node, lines: list[str]) -> str:
    first = _first_line(node)
    if is_given(node, lines):
        return "\n".join(lines[first - 1:node.end_lineno]).replace("  " + GIVEN, "")
    header_end = node.body[0].end_lineno if has_docstring(node) else node.body[0].lineno - 1
    header = "\n".join(lines[first - 1:header_end])
    indent = " " * node.body[0].col_offset
    if isinstance(node, ast.FunctionDef):
        return header + "\n" + "\n".join(indent + line for line in STUB.splitlines())
    members = node.body[1:] if has_docstring(node) else node.body
    parts = [_stubbed(member, lines) if isinstance(member, ast.FunctionDef)
             else "\n".join(lines[member.lineno - 1:member.end_lineno]) for member in members]
    return "\n\n".join([header, *parts])


def solution(reference: str, names: list[str]) -> str:
    """The named functions and classes exactly as the reference writes them."""
    lines, definitions = reference.splitlines(), function_sources(reference)
    parts = []
    for name in names:
        node = definitions[name]
        parts.append("\n".join(lines[_first_line(node) - 1:node.end_lineno]))
    return "\n\n\n".join(parts) + "\n"


def notebook_cells(blocks: list[Block], reference: str, init: str, solved: bool = False,
                   manual: dict | None = None) -> list:
    """The cells of the student notebook (or, ``solved``, of the reference notebook), with
    ``init`` (``INIT_CELL`` filled in) as the first code cell; ``manual`` holds the questions
    people grade (settings.ManualQuestion by id)."""
    manual = manual or {}
    answered = [block.text for block in blocks if block.kind == "answer"]
    for qid in answered:
        if qid not in manual:
            raise HandoutError(f"<!-- answer: {qid} -->: {qid} is not a question of manual: "
                               f"in assignment.yml ({', '.join(manual) or 'there are none'})")
        if answered.count(qid) > 1:
            raise HandoutError(f"<!-- answer: {qid} --> appears {answered.count(qid)} times")
    for qid in manual:
        if qid not in answered:
            raise HandoutError(f"manual question {qid} has no <!-- answer: {qid} --> in the "
                               f"handout: students would have nowhere to answer it")
    cells = []
    for index, block in enumerate(blocks):
        if block.kind == "markdown":
            cells.append(new_markdown_cell(block.text))
        elif block.kind == "code":
            cells.append(new_code_cell(block.text))
        elif block.kind == "skeleton":
            names = block.text.split()
            cells.append(new_code_cell((solution if solved else skeleton)(reference, names)))
        elif block.kind == "answer":
            question = manual[block.text]
            if question.figure:
                cells.append(new_code_cell(ANSWER_FIGURE.format(qid=block.text), metadata={
                    "dlgrade": {"answer": block.text, "kind": "figure"}}))
            cells.append(new_markdown_cell(
                ANSWER_TEXT.format(qid=block.text, points=question.points),
                metadata={"dlgrade": {"answer": block.text, "kind": "text"}}))
        else:
            cells.append(new_code_cell(f'grader.check("{block.text}")'))
        if index == 0:
            cells.append(new_code_cell(init))
    cells.append(new_code_cell(CHECK_ALL_CELL))
    return cells


def build_notebook(cells: list, name: str, about: dict | None = None) -> nbformat.NotebookNode:
    """A notebook with stable cell ids and metadata, so that building twice gives equal bytes.
    ``about`` joins ``metadata.dlgrade`` (what ``dlgrade check --submit`` reads)."""
    for index, cell in enumerate(cells):
        cell["id"] = f"{name}-{index:03d}"[-64:]
    notebook = new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "dlgrade": {"assignment": name, **(about or {})},
    }
    return notebook


def required_names(blocks: list[Block]) -> list[str]:
    """The functions and classes students write: those of the skeleton cells."""
    return [name for block in blocks if block.kind == "skeleton" for name in block.text.split()]


def checked_questions(blocks: list[Block]) -> list[str]:
    return [block.text for block in blocks if block.kind == "check"]


def question_functions(blocks: list[Block]) -> dict[str, list[str]]:
    """Per checked question, the functions written since the previous check: what its check
    needs defined above it."""
    functions, pending = {}, []
    for block in blocks:
        if block.kind == "skeleton":
            pending += block.text.split()
        elif block.kind == "check":
            functions[block.text], pending = pending, []
    return functions
