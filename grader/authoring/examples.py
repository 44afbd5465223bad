"""The examples gate: the reference, the blank notebook and every example submission, graded
under many draws of the hidden inputs, must each get what they declare on every draw.

An example declares in its notebook metadata ``dlgrade.expect``: ``"full marks"`` (a correct
but different solution) or ``"loses q2"`` / ``"loses q1 q6"`` (a known bug, and every question
it must lose points on). A draw is one course secret: the hidden inputs come from the secret
and the submission's content hash, so a draw is what a resubmission with a changed comment
gets. Three verdicts per candidate:
- correct: full marks on every draw (the reference, and each ``full marks`` example);
- stable: the same points on every test on every draw (a known bug never depends on luck);
- localized: points lost on exactly the declared questions on every draw.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

GATE_DRAWS = 20  # draws per candidate when publishing: the gate run by `publish --check`
GATE_PROCESS = "grader.authoring.examples"  # what the gates' grading processes run
FULL_MARKS = "full marks"
ZERO = "zero"


@dataclass(frozen=True)
class Expectation:
    """What a candidate must score: full marks, zero, or points lost on given questions."""

    kind: str  # FULL_MARKS, ZERO or "loses"
    questions: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, questions) -> Expectation:
        """``"full marks"`` or ``"loses QID [QID ...]"`` (commas allowed) with the suite's ids."""
        if text == FULL_MARKS:
            return cls(FULL_MARKS)
        words = text.replace(",", " ").split()
        lost = tuple(words[1:])
        if words[:1] != ["loses"] or not lost or not set(lost) <= set(questions):
            raise ValueError(f"metadata dlgrade.expect must be 'full marks' or 'loses QID "
                             f"[QID ...]' with questions of the suite ({', '.join(questions)}), "
                             f"got {text!r}")
        return cls("loses", tuple(sorted(set(lost), key=list(questions).index)))

    def __str__(self) -> str:
        return self.kind if self.kind != "loses" else f"loses {' '.join(self.questions)}"


EXPECT_COMMENT = re.compile(r"#\s*expect:\s*(.+?)\s*")


def declared(path: Path) -> str:
    """What an example declares it scores ("" when it does not say): a notebook's
    ``dlgrade.expect`` metadata, or a ``.py`` file's ``# expect: loses q2`` comment among its
    first lines (before any code)."""
    if path.suffix == ".py":
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return ""
        for line in lines:
            if line.strip() and not line.lstrip().startswith("#"):
                return ""
            if found := EXPECT_COMMENT.fullmatch(line.strip()):
                return found.group(1)
        return ""
    try:
        return str(json.loads(path.read_text())["metadata"]["dlgrade"]["expect"])
    except (ValueError, KeyError, TypeError):
        return ""


@dataclass(frozen=True)
class Draw:
    """One grading of one candidate under one secret, kept as plain data."""

    status: str
    message: str  # the result's first line of message: why it was not graded
    score: float
    max_score: float
    questions: dict[str, tuple[float, float]]  # question -> (score, max)
    tests: dict[str, tuple[str, float, str]]  # test -> (question, score, first message line)

    @property
    def lost(self) -> tuple[str, ...]:
        return tuple(q for q, (score, top) in self.questions.items() if score < top)


def draw_secrets(count: int, first: int = 0) -> list[bytes]:
    """Fixed secrets, so that a gate's verdict is the same on every machine."""
    return [f"dlgrade-gate-draw-{k}".encode() for k in range(first, first + count)]


# ---------------------------------------------------------------- grading draws

def record_draw(request: dict, zygote, prepared=None) -> dict:
    """In a grading process (``grader.core.processes``): one candidate graded under the
    request's secret, as plain data for a ``Draw``."""
    from grader.core.grading import grade_submission
    from grader.core.settings import load_assignment

    assignment, suite = prepared or (load_assignment(request["assignment"]), None)
    return grade_submission(assignment, Path(request["path"]), zygote,
                            secret=bytes.fromhex(request["secret"]), suite=suite).to_dict()


def _draw(reply: dict) -> Draw:
    """A grading process's reply as a Draw; an instructor's error or a machine that cannot
    confine raises, as grading in this process would."""
    from grader.core.settings import AssignmentError
    from grader.sandbox import SandboxRefused

    if "fatal" in reply:
        raise (SandboxRefused if reply.get("refused") else AssignmentError)(reply["error"])
    if "crash" in reply:
        return Draw("crash", reply["crash"], 0.0, 0.0, {}, {})
    return Draw(reply["status"], (reply["message"] or "").split("\n")[0], reply["score"],
                reply["max_score"],
                {q: (s["score"], s["max_score"]) for q, s in reply["questions"].items()},
                {t["name"]: (t["question"], t["score"],
                             (t["message"] or t["outcome"]).splitlines()[0]
                             if t["outcome"] != "passed" else "") for t in reply["tests"]})


def grade_draws(folder: Path, paths: list[Path], secrets: list[bytes],
                jobs: int | None = None) -> dict[Path, list[Draw]]:
    """Every path graded under every secret, on ``jobs`` fresh grading processes, each of
    which collects the suite once and grades each draw in a fork of itself."""
    from concurrent.futures import ThreadPoolExecutor

    from grader.core.processes import Pool, deadline_for
    from grader.core.settings import load_assignment

    jobs = jobs or os.cpu_count() or 1
    deadline = deadline_for(load_assignment(str(folder)))
    processes = Pool(GATE_PROCESS, jobs)

    def grade(path: Path, secret: bytes) -> Draw:
        return _draw(processes.grade(str(folder), path, path.name, deadline,
                                     secret=secret.hex()))

    threads = ThreadPoolExecutor(jobs)
    try:
        futures = {path: [threads.submit(grade, path, secret) for secret in secrets]
                   for path in paths}
        return {path: [future.result() for future in draws]
                for path, draws in futures.items()}
    finally:
        threads.shutdown(cancel_futures=True)  # an error stops the draws not yet begun
        processes.close()


# ---------------------------------------------------------------- verdicts

def judge(name: str, expectation: Expectation, draws: list[Draw]) -> tuple[bool, str]:
    """Whether ``draws`` meet ``expectation``, and a line (or a few) saying why."""
    count = len(draws)
    totals = Counter(d.score for d in draws)
    top = draws[0].max_score
    scores = ", ".join(f"{score:g} ({n} draw{'s' * (n > 1)})" for score, n in
                       sorted(totals.items())) if len(totals) > 1 else f"{draws[0].score:g}"
    summary = f"{name}: {scores} / {top:g} over {count} draws"
    problems = []
    statuses = Counter(d.status for d in draws)
    if statuses != Counter({"graded": count}) and expectation.kind != ZERO:
        problems.append("status " + ", ".join(f"{s} on {n} draws" for s, n in statuses.items())
                        + f": {next(d.message for d in draws if d.status != 'graded')}")
    if expectation.kind == FULL_MARKS:
        problems += [f"{test} fails on {n} of {count} draws: {message}"
                     for test, n, message in _failures(draws)]
        if top <= 0:
            problems.append("the suite has no points")
    elif expectation.kind == ZERO:
        problems += [f"scores {d.score:g}, not 0" for d in draws if d.score != 0][:1]
    else:
        problems += _unstable(draws) + _misplaced(expectation, draws)
        lost = ", ".join(f"{q}: {draws[0].questions[q][0]:g} / {draws[0].questions[q][1]:g}"
                         for q in expectation.questions if q in draws[0].questions)
        summary += f" ({lost})"
    if problems:
        return False, "\n".join([f"{summary}, expected {expectation}",
                                 *(f"    {p}" for p in problems[:8])])
    return True, f"{summary}, as expected ({expectation}) on every draw"


def _failures(draws: list[Draw]) -> list[tuple[str, int, str]]:
    """Each test that lost points on some draw, how often, and its first message."""
    seen: dict[str, list] = {}
    for draw in draws:
        for test, (_, _, message) in draw.tests.items():
            if message:
                seen.setdefault(test, [0, message])[0] += 1
    return [(test, n, message) for test, (n, message) in seen.items()]


def _unstable(draws: list[Draw]) -> list[str]:
    """Tests whose points differ between draws: the score would be a lottery."""
    problems = []
    for test in draws[0].tests:
        points = Counter(d.tests[test][1] for d in draws if test in d.tests)
        if len(points) > 1:
            failing = sum(1 for d in draws if d.tests.get(test, ("", 0, ""))[2])
            message = next(d.tests[test][2] for d in draws if d.tests.get(test, ("", 0, ""))[2])
            problems.append(f"{test} flips: it loses points on {failing} of {len(draws)} "
                            f"draws only ({message})")
    return problems


def _misplaced(expectation: Expectation, draws: list[Draw]) -> list[str]:
    """Questions lost that are not declared, and declared ones kept, on any draw."""
    problems = []
    undeclared = Counter(q for d in draws for q in d.lost if q not in expectation.questions)
    for question, n in undeclared.items():
        tests = sorted({t for d in draws for t, (q, _, m) in d.tests.items()
                        if q == question and m})
        problems.append(f"loses points on {question}, which it does not declare, on {n} of "
                        f"{len(draws)} draws: {', '.join(tests[:4])}")
    for question in expectation.questions:
        kept = sum(1 for d in draws if question not in d.lost)
        if kept:
            problems.append(f"keeps every point of {question} on {kept} of {len(draws)} draws")
    return problems


if __name__ == "__main__":  # a grading process of the gates (grade_draws)
    from grader.core.processes import main

    main(record_draw)
