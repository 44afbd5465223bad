"""The trusted side of the sandbox: a proxy to one submission running in a worker.

Every reply is decoded as plain data (``wire.decode``) within a size limit and a deadline. A
worker that hangs, dies or sends garbage is killed and, on the next request, replaced by a
fresh one that re-runs the submission's cells (skipping any cell that hung or crashed).
"""

from __future__ import annotations

import os
import secrets
import select
import signal
import struct
import sys
import time
import types
from dataclasses import dataclass

import cloudpickle

from grader.sandbox import levels, wire
from grader.sandbox.isolation import Limits

MAX_RESTARTS = 100  # the time budget is the real bound; this stops a loop of failed starts


def _remember_submodules() -> None:
    """Make cloudpickle's search for the submodules a shipped function uses remember its
    answers. For every function a test ships by value it scans all of ``sys.modules`` once
    per package the function's globals hold (numpy: some 3,000 names in a grading process),
    and a test ships a new closure on every call: a third of the time a request took. The
    answer depends only on the code, those packages and the loaded modules, so it is kept
    per code object and packages for as long as no module is loaded or unloaded."""
    module = getattr(cloudpickle, "cloudpickle", None)
    search = getattr(module, "_find_imported_submodules", None)
    if search is None or getattr(search, "remembers", False):
        return
    answers: dict = {}

    def remembered(code, top_level_dependencies):
        dependencies = list(top_level_dependencies)
        key = (code, len(sys.modules), tuple(id(value) for value in dependencies
                                             if isinstance(value, types.ModuleType)))
        if key not in answers:
            if len(answers) > 10_000:
                answers.clear()
            answers[key] = search(code, dependencies)
        return list(answers[key])

    remembered.remembers = True
    module._find_imported_submodules = remembered


_remember_submodules()


class WorkerError(Exception):
    """A request to the worker did not produce a usable answer."""


class StudentError(WorkerError):
    """Student code raised an exception."""

    def __init__(self, details: dict):
        self.type = str(details.get("type", "Exception"))
        self.text = str(details.get("message", ""))
        self.where = [str(w) for w in details.get("where", [])][:5]
        self.in_test = details.get("raised_in") == "test"  # wording only: never a verdict
        self.function = str(details.get("function") or "")[:100]  # wording only
        super().__init__(f"{self.type}: {self.text}" if self.text else self.type)


class MissingName(WorkerError):
    """The submission does not define the name (or it is not callable)."""


class WorkerTimeout(WorkerError):
    """The worker did not answer within the deadline and was killed."""

    def __init__(self, message: str = "no answer within the time limit"):
        super().__init__(message)


class TimeBudgetSpent(WorkerTimeout):
    """The submission used its whole wall-clock budget."""


class WorkerCrashed(WorkerError):
    """The worker process ended (exited, was killed by a limit, or closed its channel)."""

    def __init__(self, message: str = "its process ended before answering (an exit, a crash "
                                      "or a resource limit)"):
        super().__init__(message)


class ReplyError(WorkerError):
    """The worker's reply was too large or not well-formed plain data."""


class NotGraded(WorkerError):
    """The submission never ran (it could not be loaded or started): every request fails."""


class SandboxRefused(Exception):
    """This machine confines workers below the required level: nothing is graded (a fault of
    the machine, never of the submission)."""


@dataclass(frozen=True)
class Policy:
    """The confinement a grading requires, and whether grading below it was asked for."""

    required: str = levels.DEFAULT_REQUIRED
    allow_unconfined: bool = False

    def check(self, sandbox: dict) -> dict:
        """The result's ``sandbox`` entry; raises SandboxRefused below the requirement."""
        if not levels.meets(sandbox["level"], self.required) and not self.allow_unconfined:
            raise SandboxRefused(levels.refusal(sandbox, self.required))
        return {**sandbox, "required": self.required,
                "allowed_unconfined": self.allow_unconfined}


@dataclass(frozen=True)
class CellReport:
    """What happened to one cell: an error summary, or None when it ran cleanly."""

    index: int
    error: str | None


class _Process:
    """One worker process: framed requests out, decoded replies in."""

    def __init__(self, zygote, limits: Limits, hidden: list, preload: tuple[str, ...] = ()):
        self.limits = limits
        self.channel, self.supervisor = zygote.spawn(limits, hidden, preload)
        try:
            hello = self.receive("hello", time.monotonic() + 30)
        except WorkerError as error:
            raise SandboxRefused(f"the sandbox could not start a worker on this machine: "
                                 f"{error}") from None
        if "failed" in hello:
            self.kill()
            raise SandboxRefused(f"the sandbox could not start a worker on this machine: "
                                 f"{hello['failed']}")
        self.sandbox = levels.describe(hello)

    def send(self, operation: str, *args) -> str:
        request_id = secrets.token_hex(8)
        payload = cloudpickle.dumps((request_id, operation, args))
        try:
            self.channel.sendall(wire.frame(payload))
        except OSError:
            pass  # a dead worker: receive() reports it
        return request_id

    def receive(self, request_id: str, deadline: float) -> dict:
        header = self._read(8, deadline)
        (length,) = struct.unpack(">Q", header)
        if length > self.limits.reply_mb * 1024 * 1024:
            self.kill()
            raise ReplyError(f"the reply was {length / 2**20:.0f} MB, over the "
                             f"{self.limits.reply_mb} MB limit")
        try:
            reply = wire.decode(self._read(length, deadline))
        except wire.MalformedReply as error:
            self.kill()
            raise ReplyError(str(error)) from None
        if type(reply) is not dict or reply.get("id") != request_id:
            self.kill()
            raise ReplyError("the reply did not answer the request")
        return reply

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, remaining = [], size
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.channel], [], [], left)[0]:
                self.kill()
                raise WorkerTimeout()
            try:
                chunk = self.channel.recv(min(remaining, 1 << 22))
            except OSError:
                chunk = b""
            if not chunk:
                self.kill()
                raise WorkerCrashed()
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        """Stop the worker: its supervisor kills it and everything it started."""
        try:
            os.kill(self.supervisor, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.channel.close()


def imports_in(sources) -> list[tuple[str, tuple[str, ...]]]:
    """The absolute imports of the cells that parse: ``(module, ())`` for ``import module``,
    ``(module, (name, ...))`` for ``from module import name, ...``."""
    import ast

    found = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((node.module, tuple(alias.name for alias in node.names)))
    return found


def preloadable_imports(cells: list[str], allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    """The slow modules (``zygote.PRELOADABLE``) the cells import and may import: their
    worker is forked from a fork server that imported them already."""
    from grader.sandbox.zygote import PRELOADABLE

    candidates = [source for source in cells  # most cells: no need to parse
                  if any(name.rpartition(".")[2] in source for name in PRELOADABLE)]
    found = {f"{module}.{name}" if name else module
             for module, names in imports_in(candidates) for name in names or ("",)}
    return tuple(name for name in PRELOADABLE if name in found and (
        allowed is None or name.partition(".")[0] in allowed))


def probe(zygote) -> tuple[dict, float]:
    """Start one worker and stop it: the ``sandbox`` entry it reports (levels.describe) and
    the seconds its start took."""
    started = time.monotonic()
    process = _Process(zygote, Limits(), [])
    seconds = time.monotonic() - started
    process.kill()
    return process.sandbox, seconds


class SandboxedSubmission:
    """The ``submission`` fixture: call the student's functions, run shipped code, list names."""

    def __init__(self, zygote, cells: list[str], limits: Limits, hidden: list,
                 policy: Policy = Policy(), imports: tuple[str, ...] | None = None):
        self.zygote, self.cells, self.limits, self.hidden = zygote, cells, limits, hidden
        self.policy = policy
        self.imports = imports  # what the cells may import beyond the standard library
        self.preload = preloadable_imports(cells, imports)
        self.deadline = time.monotonic() + limits.submission_timeout
        self.cell_errors: dict[int, str] = {}
        self.skipped: set[int] = set()
        self.sandbox: dict | None = None  # the result's "sandbox" entry, once a worker ran
        self.restarts = -1
        self.time_up = False
        self.process: _Process | None = None
        self._pending: list[tuple[int, str]] = []

    # ------------------------------------------------------------ the fixture's interface

    def call(self, name: str, *args, _timeout: float | None = None, **kwargs):
        """Call the student's ``name(*args, **kwargs)``; return its result as plain data."""
        return self._request("call", (name, args, kwargs, False), _timeout, name)["value"]

    def call_with_inputs(self, name: str, *args, _timeout: float | None = None, **kwargs):
        """Like ``call``, and also return the positional arguments as they are afterwards."""
        reply = self._request("call", (name, args, kwargs, True), _timeout, name)
        return reply["value"], reply["args"]

    def run(self, function, *args, _timeout: float | None = None, **kwargs):
        """Run ``function(namespace, *args, **kwargs)`` in the worker; return plain data."""
        return self._request("run", (function, args, kwargs), _timeout, function.__name__)["value"]

    def names(self) -> dict:
        """The names the submission defines, each with its kind (function, class, value)."""
        return self._request("names", (), None, "names")["value"]

    def has(self, name: str, kind: str | None = None) -> bool:
        found = self.names().get(name)
        return found is not None and (kind is None or found == kind)

    def take_output(self) -> str:
        """What the submission printed since the last call (capped)."""
        value = self._request("output", (), None, "output")["value"]
        return value if type(value) is str else ""

    # ------------------------------------------------------------ mechanics

    def begin(self) -> None:
        """Start a worker and send it every cell without waiting: the cells run while the
        trusted side prepares the hidden suite."""
        if self.process is None:
            self._deadline(0)
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise WorkerCrashed("the submission's process failed too many times")
            self.process = _Process(self.zygote, self.limits, self.hidden, self.preload)
            try:
                self.sandbox = self.policy.check(self.process.sandbox)
            except SandboxRefused:
                self.close()
                raise
            self._pending = [(i, self.process.send("cell", i, source, self.imports))
                             for i, source in enumerate(self.cells) if i not in self.skipped]

    def start(self) -> list[CellReport]:
        """Run the cells (each with its own deadline); return one report per cell."""
        self._ensure_process()
        return [CellReport(i, self.cell_errors.get(i)) for i in range(len(self.cells))]

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def _request(self, operation: str, args: tuple, timeout: float | None, label: str) -> dict:
        process = self._ensure_process()
        deadline = self._deadline(timeout or self.limits.call_timeout)
        request_id = process.send(operation, *args)
        try:
            reply = process.receive(request_id, deadline)
        except WorkerError:
            self.process = None
            self._deadline(0)  # when the whole budget is gone, say so rather than blame the call
            raise
        if "raised" in reply:
            raise StudentError(reply["raised"] if type(reply["raised"]) is dict else {})
        if "missing" in reply or "not_callable" in reply:
            raise MissingName(label)
        if "value" not in reply:
            raise ReplyError("the reply has no value")
        return reply

    def _deadline(self, seconds: float) -> float:
        if time.monotonic() >= self.deadline:
            self.time_up = True
            raise TimeBudgetSpent()
        return min(time.monotonic() + seconds, self.deadline)

    def _ensure_process(self) -> _Process:
        while self.process is None or self._pending:
            self.begin()
            self._collect_cells(self.process)
        return self.process

    def _collect_cells(self, process: _Process) -> None:
        """Collect the replies of the cells sent; a cell that hangs or crashes is recorded,
        skipped, and the cells run again in a fresh worker."""
        pending, self._pending = self._pending, []
        for index, request_id in pending:
            try:
                reply = process.receive(request_id, self._deadline(self.limits.cell_timeout))
            except WorkerError as error:
                process.kill()
                self.cell_errors[index] = _cell_failure(error, self.limits)
                self.skipped.add(index)
                self.process = None
                return
            if "raised" in reply and type(reply["raised"]) is dict:
                self.cell_errors[index] = _describe(StudentError(reply["raised"]))


def _cell_failure(error: WorkerError, limits: Limits) -> str:
    if isinstance(error, TimeBudgetSpent):
        return ("not run: the submission used its whole time budget "
                f"({limits.submission_timeout:g} s)")
    if isinstance(error, WorkerTimeout):
        return f"did not finish within {limits.cell_timeout:g} s (an infinite loop?)"
    if isinstance(error, WorkerCrashed):
        return ("stopped the Python process (os._exit, a crash, or a resource limit: "
                f"{limits.memory_mb} MB memory, {limits.cpu_seconds} s CPU)")
    return f"produced an unreadable reply ({error})"


def _describe(error: StudentError) -> str:
    where = f" ({error.where[-1]})" if error.where else ""
    return f"raised {error}{where}"
