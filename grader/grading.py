"""Grading one submission: load it, run its cells in a worker, run the hidden suite here."""

from __future__ import annotations

import sys
from pathlib import Path

from grader.loading import SubmissionUnreadable, load_submission
from grader.results import SubmissionResult
from grader.sandbox import NotGraded, SandboxedSubmission, WorkerError, Zygote
from grader.settings import Assignment, course_secret


class _Unavailable:
    """The ``submission`` fixture of a submission that never ran: every request fails."""

    def __init__(self, reason: str):
        self.reason = reason

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise NotGraded(self.reason)
        return fail


def grade_submission(assignment: Assignment, path: Path, zygote: Zygote | None = None,
                     only_public: bool = False) -> SubmissionResult:
    """Grade ``path`` against ``assignment``; failures of the submission are data, not raises."""
    own_zygote = zygote is None
    zygote = zygote or Zygote()
    try:
        return _grade(assignment, Path(path), zygote, only_public)
    finally:
        if own_zygote:
            zygote.close()


def _grade(assignment: Assignment, path: Path, zygote: Zygote, only_public: bool):
    try:
        loaded = load_submission(path)
    except SubmissionUnreadable as error:
        return _ungraded(assignment, path, "error", f"{path.name}: {error}", only_public)
    submission = SandboxedSubmission(zygote, list(loaded.cells), assignment.limits,
                                     assignment.hidden_paths())
    try:
        try:
            submission.begin()
            # Importing pytest takes longer than most submissions' cells: let them overlap.
            from grader.plugin import GradingPlugin, run_suite

            reports = submission.start()
        except WorkerError as error:
            if submission.time_up:
                return _ungraded(assignment, path, "timeout", _budget_message(assignment),
                                 only_public)
            return _ungraded(assignment, path, "error",
                             f"the submission could not be run: {error}", only_public)
        if submission.degraded:
            print(f"dlgrade: warning: sandbox degraded: {'; '.join(submission.degraded)}",
                  file=sys.stderr)
        seed = course_secret() + b"\0" + loaded.sha256.encode()
        plugin = GradingPlugin(submission, assignment.reference, seed, only_public,
                               tuple(assignment.questions))
        tests = run_suite(assignment.tests, plugin)
    finally:
        submission.close()
    message = _cell_summary(reports, len(loaded.cells))
    if submission.time_up:
        message = _budget_message(assignment) + (f"\n{message}" if message else "")
    return SubmissionResult.from_tests(assignment.name, path.name,
                                       "timeout" if submission.time_up else "graded",
                                       tests, message, tuple(assignment.questions))


def _budget_message(assignment) -> str:
    return (f"the submission used its whole time budget of "
            f"{assignment.limits.submission_timeout:g} s; checks not run score 0")


def _ungraded(assignment, path, status, message, only_public) -> SubmissionResult:
    """A result with every test failed for ``message``, so each question keeps its maximum."""
    from grader.plugin import GradingPlugin, run_suite

    plugin = GradingPlugin(_Unavailable(message), assignment.reference, b"", only_public,
                           tuple(assignment.questions))
    tests = run_suite(assignment.tests, plugin)
    return SubmissionResult.from_tests(assignment.name, path.name, status, tests, message,
                                       tuple(assignment.questions))


def _cell_summary(reports, cell_count: int) -> str | None:
    if cell_count == 0:
        return "the submission has no code cells"
    problems = [f"code cell {r.index + 1}: {r.error}" for r in reports if r.error]
    if not problems:
        return None
    return "\n".join(["some cells did not run cleanly (later cells still ran):", *problems])
