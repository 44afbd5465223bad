"""Public checks on the student's side: run inside the student's own kernel by the notebook's
``grader.check("qN")``, with the same plugin and messages as grading.

Nothing here is trusted or scored: a student who tampers with it only fools themselves. Values
still go through the wire format, so a check sees exactly what grading would see.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader.sandbox import MissingName, SandboxedSubmission, StudentError, wire


class LocalSubmission:
    """The ``submission`` fixture over the student's own namespace."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def call(self, name: str, *args, _timeout=None, **kwargs):
        return self._plain(self._function(name)(*args, **kwargs))

    def call_with_inputs(self, name: str, *args, _timeout=None, **kwargs):
        value = self._function(name)(*args, **kwargs)
        return self._plain(value), self._plain(list(args))

    def run(self, function, *args, _timeout=None, **kwargs):
        return self._plain(_StudentCall(function)(self.namespace, *args, **kwargs))

    def names(self) -> dict:
        return {name: ("class" if isinstance(v, type) else "function" if callable(v) else "value")
                for name, v in self.namespace.items() if not name.startswith("_")}

    has = SandboxedSubmission.has

    def take_output(self) -> str:
        return ""

    def _function(self, name: str):
        function = self.namespace.get(name)
        if not callable(function):
            raise MissingName(name)
        return _StudentCall(function)

    @staticmethod
    def _plain(value):
        return wire.decode(wire.encode(value))


class _StudentCall:
    """Calls student code and reports its exceptions the way the sandbox does."""

    def __init__(self, function):
        self.function = function

    def __call__(self, *args, **kwargs):
        try:
            return self.function(*args, **kwargs)
        except Exception as error:
            from grader.sandbox.worker import describe_exception

            raise StudentError(describe_exception(error)) from None


def run_public_checks(question: str, namespace: dict, source: str) -> list:
    """Run the public checks of ``question`` (the suite's public file, given as ``source``)
    against ``namespace``; return the results."""
    from grader.core.plugin import GradingPlugin, run_suite

    with tempfile.TemporaryDirectory(prefix="dlgrade-checks-") as folder:
        tests = Path(folder)
        (tests / "test_public.py").write_text(source)
        plugin = GradingPlugin(LocalSubmission(namespace), None, b"public checks",
                               only_public=True, only_question=question)
        return run_suite(tests, plugin)


def check(question: str, namespace: dict, source: str) -> None:
    """For an Otter test case: raise AssertionError listing every failed check of ``question``."""
    text = failure_text(question, run_public_checks(question, namespace, source))
    if text:
        raise AssertionError(text)


def failure_text(question: str, results: list) -> str | None:
    """What a student reads about ``question``'s failed public checks (None: all passed);
    the notebook and ``dlgrade check`` say the same."""
    failed = [r for r in results if r.outcome != "passed"]
    if not failed:
        return None
    lines = [f"{len(failed)} of {len(results)} public checks of {question} failed:"]
    for result in failed:
        lines += [f"- {result.name.split('::')[-1]}:", *("    " + line for line in
                                                         result.message.splitlines())]
    return "\n".join(lines)
