"""The pytest plugin that runs a hidden suite in the trusted process.

Markers: ``question(id)``, ``points(n)`` (per collected test, default 1) and
``visibility("public" | "hidden")`` (default hidden); module-level ``pytestmark`` works.
Fixtures: ``submission`` (the sandboxed proxy), ``reference`` (the solution module), ``rng``
(a numpy Generator seeded by course secret, submission hash and test id) and ``credit`` (set a
fraction for partial credit). A failing test's message is what the student reads: assertion
messages are shown as written, never pytest's introspection of the test's source.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from grader.core.results import TestResult
from grader.core.settings import AssignmentError
from grader.sandbox import (
    MissingName,
    NotGraded,
    ReplyError,
    StudentError,
    TimeBudgetSpent,
    WorkerCrashed,
    WorkerTimeout,
)

MARKERS = [
    "question(id): the question this test grades",
    "points(n): the points this test is worth (default 1)",
    "visibility(kind): 'public' (students see it in the notebook) or 'hidden' (default)",
]
VISIBILITIES = ("public", "hidden")
MESSAGE_LIMIT = 1500
UNUSED_PLUGINS = ("cacheprovider", "doctest", "junitxml", "pastebin", "stepwise", "legacypath",
                  "nose", "tmpdir", "debugging", "unittest", "setuponly", "setupplan",
                  "unraisableexception", "threadexception")  # these two gc.collect() 5 times


class HiddenSuiteError(AssignmentError):
    """The hidden suite itself is broken (collection failed, a marker is missing or wrong)."""


class Credit:
    """Partial credit: a test sets ``credit.fraction`` (0..1) before it passes or fails."""

    def __init__(self):
        self.fraction: float | None = None

    def award(self, earned: float, possible: float) -> None:
        self.fraction = max(0.0, min(1.0, earned / possible)) if possible else 0.0


class GradingPlugin:
    """Holds one run's state: the submission, the reference, the seed and the results."""

    def __init__(self, submission, reference_path: Path | None, seed_material: bytes,
                 only_public: bool = False, questions: tuple[str, ...] = (),
                 only_question: str | None = None):
        self._submission = submission
        self._questions = questions
        self._only_question = only_question
        self._only_public = only_public
        self._reference_path = reference_path
        self._seed_material = seed_material
        self._credits: dict[str, Credit] = {}
        self.results: list[TestResult] = []
        self.order: dict[str, int] = {}  # node id -> position in the suite
        self.problems: list[str] = []

    def start(self, submission, seed_material: bytes) -> None:
        """Grade another submission with the tests this plugin's session collected."""
        self._submission, self._seed_material = submission, seed_material
        self._credits, self.results = {}, []

    def ordered_results(self) -> list[TestResult]:
        """The results, in the suite's order."""
        return sorted(self.results, key=lambda result: self.order.get(result.name, 0))

    # ------------------------------------------------------------ configuration

    def pytest_configure(self, config):
        for line in MARKERS:
            config.addinivalue_line("markers", line)

    def pytest_collection_modifyitems(self, config, items):
        for item in items:
            try:
                question, _, _ = question_of(item), points_of(item), visibility_of(item)
            except HiddenSuiteError as error:
                self.problems.append(f"{item.nodeid}: {error}")
                continue
            if self._questions and question not in self._questions:
                self.problems.append(f"{item.nodeid}: question {question!r} is not one of those "
                                     f"in assignment.yml ({', '.join(self._questions)})")
        if self.problems:
            return
        kept = [item for item in items
                if (not self._only_public or visibility_of(item) == "public")
                and self._only_question in (None, question_of(item))]
        dropped = [item for item in items if item not in kept]
        # Results keep the suite's order; the public checks run first, so the worker has
        # seen no hidden input yet when a public check's message (which students read) is
        # made: nothing the submission logged of a hidden test can reach it.
        self.order = {item.nodeid: index for index, item in enumerate(kept)}
        items[:] = sorted(kept, key=lambda item: visibility_of(item) != "public")
        config.hook.pytest_deselected(items=dropped)
        for module in suite_modules(Path(str(config.rootpath))):
            # The suite's modules are not importable in the worker: ship their code by value.
            cloudpickle.register_pickle_by_value(module)

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.append(f"{report.nodeid or 'collection'}: {report.longreprtext}")

    # ------------------------------------------------------------ fixtures

    @pytest.fixture(scope="session")
    def submission(self):
        return self._submission

    @pytest.fixture(scope="session")
    def reference(self):
        if self._reference_path is None:
            raise HiddenSuiteError("public checks cannot use the reference solution")
        name = f"dlgrade_reference_{self._reference_path.stem}"
        spec = importlib.util.spec_from_file_location(name, self._reference_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    @pytest.fixture
    def rng(self, request):
        digest = hashlib.sha256(self._seed_material + request.node.nodeid.encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:16], "big"))

    @pytest.fixture
    def credit(self, request):
        return self._credits.setdefault(request.node.nodeid, Credit())

    # ------------------------------------------------------------ results

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(self._result(item, report, call))

    def _result(self, item, report, call) -> TestResult:
        points = points_of(item)
        credit = self._credits.get(item.nodeid)
        fraction = credit.fraction if credit and credit.fraction is not None else None
        if report.passed:
            outcome, message, fraction = "passed", "", 1.0 if fraction is None else fraction
        elif report.skipped:
            outcome, message, fraction = "skipped", _skip_reason(report), 0.0
        else:
            outcome, message = "failed", failure_message(call.excinfo)
            fraction = fraction or 0.0
        return TestResult(name=item.nodeid, question=question_of(item),
                          score=round(points * fraction, 6), max_score=float(points),
                          outcome=outcome, message=message, visibility=visibility_of(item),
                          duration=report.duration)


def suite_modules(folder: Path) -> list:
    """The modules loaded from the suite's folder (test files and their helpers)."""
    inside = os.path.join(_real(str(folder)), "")
    return [module for module in list(sys.modules.values())
            if _real(getattr(module, "__file__", None) or "").startswith(inside)]


@functools.cache
def _real(path: str) -> str:
    """A file's resolved path, once per process and path: a grading process holds thousands
    of modules (numpy, scipy, pytest), and a process forked from it inherits what is known."""
    return os.path.realpath(path) if path else ""


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) else "skipped"


def question_of(item) -> str:
    marker = item.get_closest_marker("question")
    if marker is None or len(marker.args) != 1 or not isinstance(marker.args[0], str):
        raise HiddenSuiteError("needs @pytest.mark.question('ID')")
    return marker.args[0]


def points_of(item) -> float:
    marker = item.get_closest_marker("points")
    if marker is None:
        return 1.0
    value = marker.args[0] if len(marker.args) == 1 else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise HiddenSuiteError(f"points must be one non-negative number, got {marker.args}")
    return float(value)


def visibility_of(item) -> str:
    marker = item.get_closest_marker("visibility")
    value = marker.args[0] if marker is not None and len(marker.args) == 1 else "hidden"
    if value not in VISIBILITIES:
        raise HiddenSuiteError(f"visibility must be 'public' or 'hidden', got {value!r}")
    return value


def not_written(function: str) -> str:
    """An unwritten function, said the same by checks, grading and ``--submit``."""
    return f"`{function}` is not written yet: it still raises NotImplementedError"


def failure_message(excinfo) -> str:
    """What the student reads about a failed test: never the test's source."""
    if excinfo is None:
        return "this check failed"
    error = excinfo.value
    if isinstance(error, NotGraded):
        message = f"not graded: {error}"
    elif isinstance(error, MissingName):
        message = (f"`{error}` is not defined in your submission (or is not a function): "
                   f"define it with exactly this name, and check that its cell runs")
    elif isinstance(error, StudentError) and error.in_test:
        where = f"\n  called from your code {error.where[-1]}" if error.where else ""
        message = (f"the test's own code raised {error} on what your code gave it (a value "
                   f"of an unexpected type or shape?){where}")
    elif isinstance(error, StudentError) and error.type == "NotImplementedError" and \
            error.function and not error.text:  # the skeleton's bare stub
        message = not_written(error.function)
    elif isinstance(error, StudentError):
        where = f"\n  {error.where[-1]}" if error.where else ""
        message = f"your code raised {error}{where}"
    elif isinstance(error, TimeBudgetSpent):
        message = "not run: the submission used its whole time budget"
    elif isinstance(error, WorkerTimeout):
        message = "your code did not finish in time (an infinite loop, or far too slow?)"
    elif isinstance(error, WorkerCrashed):
        message = ("your code stopped the Python process (os._exit, sys.exit in a thread, "
                   "or a memory/CPU limit)")
    elif isinstance(error, ReplyError):
        message = f"your code returned something the grader cannot read: {error}"
    elif isinstance(error, AssertionError):
        message = str(error) or "this check failed"
    else:
        message = f"the check could not complete: {type(error).__name__}: {error}"
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + " [...]"


def _pytest_args(tests: Path) -> list[str]:
    args = [str(tests), "--assert=plain", "--tb=no", "-q", "-o", "addopts=",
            "-o", "python_files=test_*.py *_test.py", f"--rootdir={tests}",
            f"--confcutdir={tests}", "-c", os.devnull, "-W", "ignore::pytest.PytestConfigWarning"]
    for name in UNUSED_PLUGINS:
        args += ["-p", f"no:{name}"]
    return args


class _Inventory:
    """Records what a suite holds, without running it."""

    def __init__(self):
        self.tests: list[tuple[str, str, str, tuple[str, ...]]] = []
        self.points: dict[str, float] = {}  # question -> its tests' points

    def pytest_collection_modifyitems(self, items):
        self.tests, self.points = [], {}
        for item in items:
            try:
                question = question_of(item)
                self.tests.append((item.nodeid, question, visibility_of(item),
                                   tuple(item.fixturenames)))
                self.points[question] = self.points.get(question, 0.0) + points_of(item)
            except HiddenSuiteError:
                continue  # GradingPlugin's problems name it


def describe_suite(tests: Path) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(node id, question, visibility, fixtures) of every test, from a collection-only run."""
    return _inventory(tests).tests


def question_points(tests: Path) -> dict[str, float]:
    """Each question's points: the sum of its tests' ``points`` markers (1 when unmarked)."""
    return _inventory(tests).points


def _inventory(tests: Path) -> _Inventory:
    inventory = _Inventory()
    _run_pytest([*_pytest_args(tests), "--collect-only"],
                [GradingPlugin(None, None, b""), inventory], tests)
    return inventory


def run_suite(tests: Path, plugin: GradingPlugin) -> list[TestResult]:
    """Run the suite in this process with ``plugin``; raise HiddenSuiteError if it is broken."""
    _run_pytest(_pytest_args(tests), [plugin], tests)
    return plugin.ordered_results()


class CollectedSuite:
    """A hidden suite collected once, inside the pytest session of a process that forks per
    submission: each fork runs the collected tests against its own submission, so neither
    pytest's start nor the suite's collection is paid per submission."""

    def __init__(self, session, plugin: GradingPlugin):
        self._session, self._plugin = session, plugin

    def run(self, submission, seed_material: bytes) -> list[TestResult]:
        """Run every test once against ``submission``: what ``run_suite`` would return."""
        self._plugin.start(submission, seed_material)
        items = self._session.items
        for index, item in enumerate(items):
            following = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
        return self._plugin.ordered_results()


def serve_collected(tests: Path, plugin: GradingPlugin, serve) -> None:
    """Collect the suite in ``tests`` once and call ``serve(suite)`` inside pytest's session,
    where forks run it (``CollectedSuite.run``); ``serve(None)`` once the session has ended
    when the suite could not be collected cleanly (each submission's own run then says why,
    as ``run_suite`` does)."""

    class Loop:
        served = False

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session):
            if not plugin.problems and not session.testsfailed:
                self.served = True
                serve(CollectedSuite(session, plugin))
            return True

    loop = Loop()
    _run_pytest(_pytest_args(tests), [plugin, loop], tests, check=False)
    if not loop.served:
        serve(None)


def _run_pytest(args: list[str], plugins: list, tests: Path, check: bool = True) -> None:
    plugin = plugins[0]
    log = io.StringIO()
    # Third-party plugins installed beside us must not change how a hidden suite runs.
    autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    path_before = list(sys.path)
    try:
        with redirect_stdout(log), redirect_stderr(log):
            code = pytest.main(args, plugins=plugins)
    finally:
        # Forget the suite's modules, so that the next run in this process (another
        # submission, another suite with a file of the same name) imports them afresh.
        for module in suite_modules(tests):
            sys.modules.pop(module.__name__, None)
        sys.path[:] = path_before
        if autoload is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = autoload
    if not check:
        return
    if plugin.problems:  # one line each, naming the test: the instructor's to fix
        raise HiddenSuiteError("\n".join(f"{tests}/{problem}" for problem in plugin.problems))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise HiddenSuiteError(f"the hidden suite in {tests} is broken (pytest exit "
                               f"{int(code)}):\n{log.getvalue()[-3000:]}")
