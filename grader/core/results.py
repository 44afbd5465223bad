"""Results are frozen data; this module also renders them (JSON and a readable summary).

Every string of a result passes ``grader.core.text.clean`` as the result is built, whoever
builds it (``from_tests``, the constructor, ``dataclasses.replace``): test messages quote
student exceptions, the result's message lists cells that raised, the submission is a file
name. Each field is capped, and so is the student text of a whole result, on this trusted
side, whatever the worker sent: nothing unencodable, no control character and no flood
reaches JSON, a terminal, a gradebook or a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.core.text import clean, clean_lines
from grader.sandbox import levels

STATUSES = ("graded", "error", "timeout")
TEST_MESSAGE_LIMIT = 4_000  # characters of one test's message
MESSAGE_LIMIT = 8_000  # the result's message: why it was not graded, cells that raised
LINE_LIMIT = 1_000  # one line of that message (one cell's error cannot hide the others')
NAME_LIMIT = 500  # the submission's file name, a test's name, a question id
TOTAL_LIMIT = 200_000  # all the text of one result
SHORT_LIMIT = 80  # what a test message keeps once the result's budget is spent


def _set(instance, name: str, value) -> None:
    object.__setattr__(instance, name, value)  # the dataclasses are frozen


@dataclass(frozen=True)
class TestResult:
    name: str
    question: str
    score: float
    max_score: float
    outcome: str  # passed, failed or skipped
    message: str
    visibility: str  # public or hidden
    duration: float = field(default=0.0, compare=False)  # seconds; not part of the JSON

    def __post_init__(self):
        for name in ("name", "question", "outcome", "visibility"):
            _set(self, name, clean(getattr(self, name), NAME_LIMIT))
        _set(self, "message", clean(self.message, TEST_MESSAGE_LIMIT))


@dataclass(frozen=True)
class QuestionScore:
    score: float
    max_score: float


@dataclass(frozen=True)
class SubmissionResult:
    assignment: str
    submission: str
    status: str
    tests: tuple[TestResult, ...] = ()
    message: str | None = None
    questions: dict[str, QuestionScore] = field(default_factory=dict)
    sandbox: dict | None = None  # the confinement the submission ran under (levels.describe)

    def __post_init__(self):
        for name in ("assignment", "submission", "status"):
            _set(self, name, clean(getattr(self, name), NAME_LIMIT))
        if self.message is not None:
            _set(self, "message", clean_lines(self.message, LINE_LIMIT, MESSAGE_LIMIT))
        left = TOTAL_LIMIT - len(self.submission) - len(self.message or "")
        tests = []
        for test in self.tests:
            if not isinstance(test, TestResult):
                raise TypeError(f"tests must be TestResult, got {type(test).__name__}")
            if len(test.message) > left:
                test = TestResult(test.name, test.question, test.score, test.max_score,
                                  test.outcome, clean(test.message, max(left, SHORT_LIMIT)),
                                  test.visibility, test.duration)
            left -= len(test.message)
            tests.append(test)
        _set(self, "tests", tuple(tests))

    @classmethod
    def from_tests(cls, assignment: str, submission: str, status: str,
                   tests: list[TestResult], message: str | None = None,
                   order: tuple[str, ...] = (), sandbox: dict | None = None
                   ) -> SubmissionResult:
        """Totals per question, in ``order`` (the handout's) and then as the tests come."""
        questions: dict[str, list[float]] = {q: [0.0, 0.0] for q in order}
        for test in tests:
            totals = questions.setdefault(test.question, [0.0, 0.0])
            totals[0] += test.score
            totals[1] += test.max_score
        return cls(assignment, submission, status, tuple(tests), message,
                   {q: QuestionScore(_round(s), _round(m)) for q, (s, m) in questions.items()
                    if m or q not in order}, sandbox)

    @property
    def score(self) -> float:
        return _round(sum(q.score for q in self.questions.values()))

    @property
    def max_score(self) -> float:
        return _round(sum(q.max_score for q in self.questions.values()))

    def to_dict(self) -> dict:
        """The JSON contract of DESIGN.md, plus ``message`` (null when there is nothing to say)
        and ``sandbox`` (level, layers, missing layers with their reasons)."""
        return {
            "assignment": self.assignment,
            "submission": self.submission,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "questions": {q: {"score": s.score, "max_score": s.max_score}
                          for q, s in self.questions.items()},
            "tests": [{"name": t.name, "question": t.question, "score": t.score,
                       "max_score": t.max_score, "outcome": t.outcome, "message": t.message,
                       "visibility": t.visibility} for t in self.tests],
            "message": self.message,
            "sandbox": self.sandbox,
        }


def _round(value: float) -> float:
    return round(value, 6) + 0.0


def render_summary(result: SubmissionResult) -> str:
    """A readable summary for a terminal."""
    lines = [f"{result.submission}: {result.status}, "
             f"{result.score:g} / {result.max_score:g} points"]
    if result.message:
        lines += ["", *("  " + line for line in result.message.splitlines())]
    if result.sandbox:
        lines += ["", sandbox_line(result.sandbox)]
    for question, score in result.questions.items():
        lines += ["", f"{question}: {score.score:g} / {score.max_score:g}"]
        for test in (t for t in result.tests if t.question == question):
            mark = {"passed": "PASS", "failed": "FAIL"}.get(test.outcome, "SKIP")
            lines.append(f"  {mark} {test.name} ({test.score:g}/{test.max_score:g})")
            if test.outcome != "passed" and test.message:
                lines += ["       " + line for line in test.message.splitlines()]
    return "\n".join(lines)


def sandbox_line(sandbox: dict) -> str:
    """One line on the confinement a result was graded under."""
    line = f"sandbox: {sandbox['level']} ({', '.join(sandbox['layers']) or 'no layer'})"
    if sandbox.get("missing"):
        line += f"; missing: {', '.join(sandbox['missing'])}"
    if sandbox.get("required") and not levels.meets(sandbox["level"], sandbox["required"]):
        line += f"; below the required '{sandbox['required']}', allowed by --allow-unconfined"
    return line
