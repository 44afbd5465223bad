"""Grading one submission: load it, run its cells in a worker, run the hidden suite here."""

from __future__ import annotations

import functools
import gc
import json
import re
import resource
import sys
from pathlib import Path

from grader.core.loading import SubmissionUnreadable, load_submission
from grader.core.results import SubmissionResult, render_summary
from grader.core.settings import (
    Assignment,
    AssignmentError,
    allowed_text,
    course_secret,
    importable_names,
    load_assignment,
    module_owners,
)
from grader.sandbox import NotGraded, SandboxedSubmission, SandboxRefused, WorkerError, Zygote


class _Unavailable:
    """The ``submission`` fixture of a submission that never ran: every request fails."""

    def __init__(self, reason: str):
        self.reason = reason

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise NotGraded(self.reason)
        return fail


TRUSTED_MEMORY_MB = 4096  # address space of a process grading one submission


def cap_trusted_memory() -> None:
    """Bound this trusted process's address space: whatever one submission sends back, it
    cannot make its grading process starve the others (a MemoryError is that one
    submission's, and the batch goes on)."""
    limit = TRUSTED_MEMORY_MB << 20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def start_sandbox() -> Zygote:
    """The sandbox's fork server. Start it before any secret, test or reference is read, and
    before anything of the trusted side is imported: a worker inherits what its fork server
    holds, and ``grader.core.numerics`` (finite differences) is an answer to a question."""
    return Zygote()


def grade_submission(assignment: Assignment, path: Path, zygote: Zygote | None = None,
                     only_public: bool = False, secret: bytes | None = None,
                     suite=None) -> SubmissionResult:
    """Grade ``path`` against ``assignment``; failures of the submission are data, not raises.

    The hidden inputs are drawn from ``secret`` (default: the course secret) and the
    submission's content hash; publishing's gates grade examples under many secrets.
    ``suite``: the assignment's hidden suite already collected in this process
    (``serve_suite``), else it is collected here."""
    own_zygote = zygote is None
    zygote = zygote or start_sandbox()
    try:
        return _grade(assignment, Path(path), zygote, only_public,
                      course_secret() if secret is None else secret, suite)
    finally:
        if own_zygote:
            zygote.close()


def fault_exit(error: Exception) -> int | None:
    """What ``dlgrade`` says and returns when grading cannot start: 2 for a broken assignment
    (an instructor's error), 3 for a machine below the sandbox level; None for anything else.
    The command and the grading server both answer through this."""
    if isinstance(error, AssignmentError):
        print(f"dlgrade: error: {error}", file=sys.stderr)
        return 2
    if isinstance(error, SandboxRefused):
        print(f"dlgrade: {error}", file=sys.stderr)
        return 3
    return None


def grade_and_render(assignment: str, path: Path, as_json: bool, zygote: Zygote) -> str:
    """What ``dlgrade run`` prints: one submission's result as JSON or as a summary."""
    loaded = load_assignment(assignment)
    require_allowed_modules(loaded)
    result = grade_submission(loaded, Path(path), zygote)
    return json.dumps(result.to_dict(), indent=2) if as_json else render_summary(result)


def require_allowed_modules(assignment: Assignment) -> None:
    """Refuse to grade where a module the assignment allows is not installed: a submission
    using it would lose points here, not where its checks passed."""
    missing = [name for name in assignment.imports if not _importable(name)]
    if missing:
        raise AssignmentError(
            f"{assignment.name} allows {', '.join(missing)}, which this Python does not have: "
            f"submissions that use {'it' if len(missing) == 1 else 'them'} would lose points "
            f"here; install {'it' if len(missing) == 1 else 'them'} (pip install "
            f"{' '.join(missing)}, or \"dlgrade[grade]\" for numpy, scipy and matplotlib)")


@functools.cache
def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def preload(sandbox_started: bool) -> None:
    """Import what grading uses, once, in a process that then forks per submission.

    ``grader.core.numerics`` (finite differences: an answer to gradcheck) only where the
    process's sandbox fork server is already running: workers inherit what it holds."""
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import yaml  # noqa: F401

    try:
        import scipy.stats  # noqa: F401  (suites that test distributions)
    except ImportError:  # a core install (a student's) has none: dlgrade[grade] brings it
        pass

    from grader.core import plugin  # noqa: F401

    if sandbox_started:
        from grader.core import numerics  # noqa: F401

    plugin.suite_modules(Path(plugin.__file__).parent)  # resolves every module's file, once
    module_owners()
    gc.freeze()  # forks share the preloaded heap: the collector need never touch it


def serve_suite(assignment: Assignment, serve) -> None:
    """Collect ``assignment``'s hidden suite once, in this process, and call ``serve(suite)``
    inside the pytest session that holds it: ``grade_submission(..., suite=suite)`` in a fork
    of this process runs the collected tests. ``serve(None)`` when the suite cannot be
    collected cleanly: each submission's own run then reports why, as it always has."""
    from grader.core.plugin import GradingPlugin, serve_collected

    plugin = GradingPlugin(None, assignment.reference, b"", False, tuple(assignment.questions))
    serve_collected(assignment.tests, plugin, serve)


def _run_tests(assignment: Assignment, submission, seed: bytes, only_public: bool, suite):
    """The hidden suite's results for ``submission`` (the sandboxed proxy)."""
    if suite is not None and not only_public:
        return suite.run(submission, seed)
    from grader.core.plugin import GradingPlugin, run_suite

    plugin = GradingPlugin(submission, assignment.reference, seed, only_public,
                           tuple(assignment.questions))
    return run_suite(assignment.tests, plugin)


def _grade(assignment: Assignment, path: Path, zygote: Zygote, only_public: bool,
           secret: bytes, suite=None):
    try:
        loaded = load_submission(path)
    except SubmissionUnreadable as error:
        return ungraded(assignment, path, "error", f"{path.name}: {error}", only_public,
                        suite=suite)
    submission = SandboxedSubmission(zygote, list(loaded.cells), assignment.limits,
                                     assignment.hidden_paths(), assignment.policy,
                                     tuple(importable_names(assignment.imports)))
    try:
        try:
            submission.begin()
            # Importing pytest takes longer than most submissions' cells: let them overlap.
            from grader.core import plugin  # noqa: F401

            reports = submission.start()
        except WorkerError as error:
            if submission.time_up:
                return ungraded(assignment, path, "timeout", _budget_message(assignment),
                                only_public, submission.sandbox, suite)
            return ungraded(assignment, path, "error",
                            f"the submission could not be run: {error}", only_public,
                            submission.sandbox, suite)
        seed = secret + b"\0" + loaded.sha256.encode()
        tests = _run_tests(assignment, submission, seed, only_public, suite)
    finally:
        submission.close()
    message = _cell_summary(reports, len(loaded.cells), assignment.imports)
    if submission.time_up:
        message = _budget_message(assignment) + (f"\n{message}" if message else "")
    return SubmissionResult.from_tests(assignment.name, path.name,
                                       "timeout" if submission.time_up else "graded",
                                       tests, message, tuple(assignment.questions),
                                       submission.sandbox)


def _budget_message(assignment) -> str:
    return (f"the submission used its whole time budget of "
            f"{assignment.limits.submission_timeout:g} s; checks not run score 0")


def ungraded(assignment, path, status, message, only_public, sandbox=None,
             suite=None) -> SubmissionResult:
    """A result with every test failed for ``message``, so each question keeps its maximum."""
    tests = _run_tests(assignment, _Unavailable(message), b"", only_public, suite)
    return SubmissionResult.from_tests(assignment.name, path.name, status, tests, message,
                                       tuple(assignment.questions), sandbox)


MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def _cell_summary(reports, cell_count: int, imports: tuple[str, ...] = ()) -> str | None:
    if cell_count == 0:
        return "the submission has no code cells"
    problems = [f"code cell {r.index + 1}: {r.error}{_import_hint(r.error, imports)}"
                for r in reports if r.error]
    if not problems:
        return None
    return "\n".join(["some cells did not run cleanly (later cells still ran):", *problems])


def _import_hint(error: str, imports: tuple[str, ...]) -> str:
    """Why an import failed at grading, when the assignment does not allow the module."""
    missing = MISSING_MODULE.search(error)
    if not missing or missing.group(1).split(".")[0] in importable_names(imports):
        return ""
    return f" (this assignment allows {allowed_text(imports)} only)"
