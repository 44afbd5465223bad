"""Public checks on the student's side: run inside the student's own kernel by the notebook's
``grader.check("qN")``, with the same plugin, limits and messages as ``dlgrade check``.

Nothing here is trusted or scored: a student who tampers with it only fools themselves. Values
still go through the wire format, so a check sees exactly what grading would see, and each
call into student code gets the assignment's ``call_timeout``, as in the sandbox.
"""

from __future__ import annotations

import ctypes
import linecache
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from grader.core.settings import allowed_text, importable_names
from grader.sandbox import MissingName, SandboxedSubmission, StudentError, WorkerTimeout, wire
from grader.sandbox.client import imports_in

NOT_A_PROMISE = ("Passing the public checks does not promise full marks: hidden tests check "
                 "more, on other inputs.")
# Imported by the notebook's own plumbing, never by the student's code.
PLUMBING = frozenset({"dlgrade", "otter"})


class LocalSubmission:
    """The ``submission`` fixture over the student's own namespace."""

    def __init__(self, namespace: dict, call_timeout: float | None = None):
        self.namespace = namespace
        self.call_timeout = call_timeout

    def call(self, name: str, *args, _timeout=None, **kwargs):
        return self._plain(self._function(name, _timeout)(*args, **kwargs))

    def call_with_inputs(self, name: str, *args, _timeout=None, **kwargs):
        value = self._function(name, _timeout)(*args, **kwargs)
        return self._plain(value), self._plain(list(args))

    def run(self, function, *args, _timeout=None, **kwargs):
        code = getattr(function, "__code__", None)
        shipped = frozenset({code.co_filename}) if code is not None else frozenset()
        call = _StudentCall(function, _timeout or self.call_timeout, shipped)
        return self._plain(call(self.namespace, *args, **kwargs))

    def names(self) -> dict:
        return {name: ("class" if isinstance(v, type) else "function" if callable(v) else "value")
                for name, v in self.namespace.items() if not name.startswith("_")}

    has = SandboxedSubmission.has

    def take_output(self) -> str:
        return ""

    def _function(self, name: str, timeout: float | None = None):
        function = self.namespace.get(name)
        if not callable(function):
            raise MissingName(name)
        return _StudentCall(function, timeout or self.call_timeout)

    @staticmethod
    def _plain(value):
        return wire.decode(wire.encode(value))


class _TimeUp(BaseException):
    """Raised into student code whose call overran (a BaseException: ``except Exception``
    in student code does not swallow it, and it is raised again until the call ends)."""


class _StudentCall:
    """Calls student code within its time limit and reports its exceptions as the sandbox
    does."""

    def __init__(self, function, timeout: float | None = None,
                 shipped: frozenset[str] = frozenset()):
        self.function, self.timeout, self.shipped = function, timeout, shipped

    def __call__(self, *args, **kwargs):
        try:
            with time_limit(self.timeout):
                return self.function(*args, **kwargs)
        except _TimeUp:
            raise WorkerTimeout() from None
        except Exception as error:
            from grader.sandbox.worker import describe_exception

            raise StudentError(describe_exception(error, self.shipped, is_cell_file,
                                                  raw_cell_lines)) from None


def is_cell_file(filename: str) -> bool:
    """A file of a notebook cell, as IPython compiles them (or the sandbox's name for one)."""
    if filename.startswith(("<ipython-input-", "<code cell ", "<timed exec>")):
        return True
    shell = _shell()
    compiler = getattr(shell, "compile", None)
    return filename in (getattr(compiler, "_filename_map", None) or {})


def raw_cell_lines(filename: str) -> list[str]:
    """A cell's lines as the student typed them (IPython compiles its rewriting of magics)."""
    shell = _shell()
    number = (getattr(getattr(shell, "compile", None), "_filename_map", None) or {}).get(filename)
    raw = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if isinstance(number, int) and raw is not None and 0 <= number < len(raw):
        return raw[number].splitlines(True)
    return linecache.getlines(filename)


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


@contextmanager
def time_limit(seconds: float | None):
    """Raise ``_TimeUp`` in this thread once ``seconds`` have passed, and again every 50 ms
    until the block ends: with SIGALRM in the main thread (it also interrupts a sleep), else
    with an asynchronous exception from a watchdog thread."""
    if not seconds:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        active = [True]

        def alarm(signum, frame):
            if active[0]:
                raise _TimeUp()

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
        try:
            yield
        finally:
            active[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        return
    target, done = threading.get_ident(), threading.Event()
    raise_in = ctypes.pythonapi.PyThreadState_SetAsyncExc

    def watch():
        if done.wait(seconds):
            return
        while not done.is_set():
            raise_in(ctypes.c_ulong(target), ctypes.py_object(_TimeUp))
            done.wait(0.05)

    watchdog = threading.Thread(target=watch, daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        done.set()
        watchdog.join()
        raise_in(ctypes.c_ulong(target), None)  # one raised as the block ended: withdrawn


def run_public_checks(question: str, namespace: dict, source: str,
                      call_timeout: float | None = None) -> list:
    """Run the public checks of ``question`` (the suite's public file, given as ``source``)
    against ``namespace``; return the results."""
    from grader.core.plugin import GradingPlugin, run_suite

    with tempfile.TemporaryDirectory(prefix="dlgrade-checks-") as folder:
        tests = Path(folder)
        (tests / "test_public.py").write_text(source)
        plugin = GradingPlugin(LocalSubmission(namespace, call_timeout), None, b"public checks",
                               only_public=True, only_question=question)
        return run_suite(tests, plugin)


def checks_in_worker(namespace: dict, questions: list, source: str,
                     call_timeout: float | None) -> list[dict]:
    """``dlgrade check``'s public checks, run inside the sandbox's worker next to the
    notebook's cells (shipped there by ``submission.run``): the checks a notebook carries are
    code, and never run outside the sandbox. Results as plain data for the wire."""
    from grader.core.plugin import GradingPlugin, HiddenSuiteError, run_suite

    with tempfile.TemporaryDirectory(prefix="dlgrade-checks-") as folder:
        tests = Path(folder)
        (tests / "test_public.py").write_text(source)
        plugin = GradingPlugin(LocalSubmission(namespace, call_timeout), None, b"public checks",
                               only_public=True, questions=tuple(questions))
        try:
            results = run_suite(tests, plugin)
        except HiddenSuiteError as error:
            said = str(error).replace(f"the hidden suite in {tests} is broken",
                                      "they do not load").replace(f"{tests}/", "")
            raise ChecksBroken(said if said.startswith("they do not load")
                               else f"they do not load: {said}") from None
        return [{"name": r.name, "question": r.question, "outcome": r.outcome,
                 "message": r.message} for r in results]


class ChecksBroken(Exception):
    """The public checks themselves fail to load or run."""


def check(question: str, namespace: dict, source: str) -> None:
    """For an Otter test case: raise AssertionError listing every failed check of ``question``."""
    text = failure_text(question, run_public_checks(question, namespace, source))
    if text:
        raise AssertionError(text)


def failure_text(question: str, results: list) -> str | None:
    """What a student reads about ``question``'s failed public checks (None: all passed)."""
    failed = [r for r in results if r.outcome != "passed"]
    return question_text(question, results) if failed else None


def question_text(question: str, results: list) -> str:
    """What a student reads about ``question``'s public checks: the notebook and
    ``dlgrade check`` say the same."""
    failed = [r for r in results if r.outcome != "passed"]
    count = len(results)
    if not results:
        return f"{question}: no public check ran"
    if not failed:
        return (f"{question}: its public check passed" if count == 1 else
                f"{question}: all {count} public checks passed")
    lines = [f"{question}: its public check failed:" if count == 1 else
             f"{question}: {len(failed)} of {count} public checks failed:"]
    for result in failed:
        lines += [f"- {result.name.split('::')[-1]}:", *("    " + line for line in
                                                         result.message.splitlines())]
    return "\n".join(lines)


def summary(passing: int, questions: int) -> str:
    return f"{passing} of {questions} questions pass their public checks. {NOT_A_PROMISE}"


def import_problems(sources, allowed) -> list[str]:
    """A sentence per module the cells import that grading does not allow."""
    found: dict[str, None] = {}
    permitted = importable_names(tuple(allowed))
    for name, _ in imports_in(sources):
        top = name.split(".")[0]
        if top not in permitted and top not in sys.stdlib_module_names and top not in PLUMBING:
            found[top] = None
    return [f"the notebook imports {name}, which grading does not provide: this assignment "
            f"allows {allowed_text(allowed)}; remove the import and what uses it, or that code "
            f"fails when graded" for name in found]


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def explain_missing_modules(allowed, install: str) -> None:
    """In IPython, a cell that imports a module this Python lacks says in one sentence
    whether grading would have it, instead of a traceback."""
    shell = _shell()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return

    def handler(self, etype, value, tb, tb_offset=None):
        top = (getattr(value, "name", None) or "").split(".")[0]
        if not top or top in sys.stdlib_module_names or _installed(top):
            # the package is here: a submodule's name is mistyped, Python's message says which
            return self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        if top in ("dlgrade", "grader"):
            sentence = (f"dlgrade is not installed in this Python: run the notebook's first "
                        f"cell, or %pip install \"{install}\" in a cell")
        elif top in importable_names(tuple(allowed)):
            sentence = (f"{top} is not installed in this Python (grading has it): run "
                        f"%pip install {top} in a cell, then run this cell again")
        else:
            sentence = (f"{top} is not installed here, and grading does not provide it either: "
                        f"this assignment allows {allowed_text(allowed)}; remove the import "
                        f"and what uses it")
        print(f"ModuleNotFoundError: {sentence}.", file=sys.stderr)

    shell.set_custom_exc((ModuleNotFoundError,), handler)
