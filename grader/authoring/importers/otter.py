"""Otter Assign (v1 format) master notebooks, read into parts."""

from __future__ import annotations

import ast
import re

import yaml

from grader.authoring.importers.cells import (
    IGNORE_LINE,
    add_given_cell,
    add_solution_cell,
    cell_text,
    parse_code,
    question_title,
    split_solution,
)
from grader.authoring.importers.parts import Check, ImportFailure, Parts, Skipped

RAW_MARKER = re.compile(r"^\s*#\s*(ASSIGNMENT CONFIG|(?:BEGIN|END)\s+\w+)\s*$", re.IGNORECASE)
OTTER_RAW = {"ASSIGNMENT CONFIG", "BEGIN QUESTION", "END QUESTION", "BEGIN SOLUTION",
             "END SOLUTION", "BEGIN TESTS", "END TESTS", "BEGIN PROMPT", "END PROMPT"}
TEST_CONFIG = re.compile(r'^\s*(?:"""|\'\'\')\s*#\s*BEGIN TEST CONFIG\s*\n(.*?)\n\s*(?:"""|\'\'\')'
                         r"\s*#\s*END TEST CONFIG\s*\n?", re.DOTALL)
QUESTION_KEYS = {"name", "points", "manual", "check_cell", "export", "all_or_nothing",
                 "private_points", "public_points"}
TEST_KEYS = {"name", "points", "hidden", "success_message", "failure_message"}

OTTER_REGIONS = {"BEGIN SOLUTION", "BEGIN SOLUTION NO PROMPT", "END SOLUTION", "BEGIN PROMPT",
                 "END PROMPT", "BEGIN IGNORE", "END IGNORE"}

# Otter settings that are read but not applied here, with what happens instead; each one a
# notebook sets is listed in the report.
UNAPPLIED_QUESTION_KEYS = {
    "all_or_nothing": "each test earns its own points",
    "check_cell": "a check follows every question graded by tests",
    "export": "there is no PDF export",
    "public_points": "a question's points are shared by its tests, public and hidden alike",
    "private_points": "a question's points are shared by its tests, public and hidden alike",
}
UNAPPLIED_TEST_KEYS = {"success_message": "a passing check shows no message"}


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
        _list_unapplied(parts, config, UNAPPLIED_QUESTION_KEYS, where, f"question {config['name']}")
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
        parts.manual[qid] = {"title": question_title(question["text"], qid), "points": points,
                             "figure": bool(question.get("figure"))}
        parts.blocks += question["text"] + [f"<!-- answer: {qid} -->"]
        if question.get("answers"):
            parts.skipped.append(Skipped(where, f"the model answer of {qid} (graded by people)",
                                         "kept out of the handout; for the rubric: "
                                         + " / ".join(a.strip() for a in question["answers"])))
        return
    checks = [_otter_check(parts, qid, source, want, at) for at, source, want in pending]
    if not checks:
        parts.skipped.append(Skipped(where, f"question {qid}", "it has no tests"))
        return
    for check, points in zip(checks, _split_points(question, checks), strict=True):
        check.pop("where")
        parts.checks.append(Check(**{**check, "points": points}))
    parts.questions[qid] = question_title(question["text"], qid)
    parts.blocks.append(f"<!-- check: {qid} -->")


def _outputs(cell: dict) -> str:
    """What a cell printed and showed, as a doctest expects it."""
    text = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text.append(cell_text(output.get("text", "")))
        elif output.get("output_type") == "execute_result":
            text.append(cell_text(output.get("data", {}).get("text/plain", "")) + "\n")
    return "".join(text)


def _otter_check(parts: Parts, qid: str, source: str, want: str, where: str) -> dict:
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
    tree = parse_code(body, where)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)
                 and n.name.startswith("test")]
    name = str(config.get("name") or where.replace(" ", ""))
    _list_unapplied(parts, config, UNAPPLIED_TEST_KEYS, where, f"test {name} of question {qid}")
    return {"question": qid, "name": name,
            "source": body, "kind": "functions" if functions else "doctest",
            "hidden": bool(config.get("hidden", hidden)), "want": want,
            "failure": str(config.get("failure_message") or ""),
            "points": config.get("points"), "where": where}


def _list_unapplied(parts: Parts, config: dict, unapplied: dict[str, str], where: str,
                    owner: str) -> None:
    for key, instead in unapplied.items():
        if key in config:
            parts.skipped.append(Skipped(where, f"{key} of {owner}", f"not applied: {instead}"))


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
