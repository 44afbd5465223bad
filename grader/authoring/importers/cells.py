"""Cells of either format, read into parts: solved functions become skeletons and reference
code, other code is given to students, Markdown gives titles."""

from __future__ import annotations

import ast
import re

from grader.authoring.importers.checks import bound_names
from grader.authoring.importers.parts import ImportFailure, Parts, Skipped

SOLUTION_LINE = re.compile(r"\s*#\s*SOLUTION(\s+NO\s+PROMPT)?\s*$")
IGNORE_LINE = re.compile(r"\s*#\s*IGNORE\s*$")
SEED_LINE = re.compile(r"\s*#\s*SEED\s*$")
MARKER = re.compile(r"^\s*(?:\"\"\"|''')?\s*;?\s*#+\s*((?:BEGIN|END)\s+[A-Z][A-Z ]*?)\s*$")


def cell_text(source) -> str:
    """A cell's source or an output's text, which notebooks store as a string or lines."""
    return "".join(source) if isinstance(source, list) else str(source)


def parse_code(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as error:
        raise ImportFailure(f"{where}, line {error.lineno}: not Python ({error.msg})") from None


def question_title(texts: list[str], fallback: str) -> str:
    """The first line with words of a question's Markdown, without its formatting."""
    for text in texts:
        for line in text.splitlines():
            line = re.sub(r"[*_#`]", "", line).strip()
            if re.search(r"\w", line):
                return line[:80]
    return fallback


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
    tree = parse_code(source, where)
    lines = source.splitlines()
    outside = sorted(n for n in solution if not _in_definition(tree, n) and lines[n - 1].strip())
    if outside:
        bound = bound_names(tree)
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
