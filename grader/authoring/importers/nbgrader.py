"""nbgrader source notebooks, read into parts: each solution cell opens a question, graded
by the autograder test cells that follow it."""

from __future__ import annotations

import re

from grader.authoring.importers.cells import (
    MARKER,
    add_given_cell,
    add_solution_cell,
    parse_code,
    question_title,
    split_solution,
)
from grader.authoring.importers.parts import Check, ImportFailure, Parts, Skipped

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
    parse_code("\n".join(whole), where)
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
    parts.manual[qid] = {"title": question_title([prompt], qid), "points": points,
                         "figure": cell.get("cell_type") == "code"}
    parts.blocks.append(f"<!-- answer: {qid} -->")


def _narrative(text: str) -> str:
    """Markdown as narrative: a ```python fence in it would become a code cell."""
    return re.sub(r"^```python\s*$", "```py", text, flags=re.MULTILINE)
