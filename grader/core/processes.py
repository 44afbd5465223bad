"""Grading processes: a fresh interpreter that forks its sandbox's fork server before it reads
anything, imports what grading needs once, collects each assignment's hidden suite once, then
grades each submission in a fork of itself: memory stays flat however many it grades, and no
grading can see another's state.

Requests and replies are JSON lines on two pipes. What a reply holds is the caller's: a batch
keeps a record of each submission (``grader.batch.jobs``), publishing's gates a draw
(``grader.authoring.examples``); each runs ``serve`` with its own ``record`` as the process's
main module.
"""

from __future__ import annotations

import gc
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import time

GRACE_SECONDS = 60


class JobDied(Exception):
    """A grading process ended without replying."""


def deadline_for(assignment) -> float:
    """How long the trusted side may take on one submission before it is called stuck."""
    return assignment.limits.submission_timeout * 2 + GRACE_SECONDS


def cpu_for(index: int) -> int | None:
    """The core the ``index``-th grading process of a batch keeps to: this process's allowed
    cores in turn (a container may allow only some); None where they cannot be told."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    return allowed[index % len(allowed)] if allowed else None


class Job:
    """The grader's handle on one grading process, running ``module`` (whose main calls
    ``main`` with its own ``record``). ``cpu``: the core it keeps to, with its sandbox's fork
    server and workers, or None for any. A grading is a ping-pong between the trusted fork and
    its worker: on one core the two hand over without a migration, and beside other busy
    processes the scheduler moves those rather than splitting the pair (``bench_batch.py``:
    under contention a grading process kept 64% of its rate floating and 89% pinned)."""

    def __init__(self, module: str, cpu: int | None = None):
        self.cpu = cpu
        requests_end, self._requests = os.pipe()
        self._replies, replies_end = os.pipe()
        self._errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", module, str(requests_end), str(replies_end),
             *([] if cpu is None else [str(cpu)])],
            pass_fds=(requests_end, replies_end), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._errors)
        os.close(requests_end)
        os.close(replies_end)
        self._reader = os.fdopen(self._replies, "rb")
        self._writer = os.fdopen(self._requests, "wb")

    def grade(self, assignment: str, path, name: str, deadline: float, **extra) -> dict:
        """Grade ``path``; the reply of the process's ``record``."""
        request = {"assignment": assignment, "path": str(path), "name": name,
                   "deadline": deadline, **extra}
        try:
            self._writer.write(json.dumps(request).encode() + b"\n")
            self._writer.flush()
            line = self._reader.readline()
        except OSError:
            line = b""
        if not line:
            self.close()
            self._errors.seek(0)
            last = self._errors.read().decode(errors="replace").strip().splitlines()[-3:]
            raise JobDied(f"a grading process stopped (exit {self.process.returncode})"
                          + (": " + " | ".join(last) if last else ""))
        return json.loads(line)

    def close(self) -> None:
        for stream in (self._writer, self._reader):
            try:
                stream.close()
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class Pool:
    """``count`` grading processes running ``module``, each kept to a core in turn, shared by
    threads: ``grade`` takes an idle process; one that dies is replaced on its core, and its
    request gets ``{"crash": why}``, never a lost reply."""

    def __init__(self, module: str, count: int):
        self.module = module
        self._idle: queue.Queue[Job] = queue.Queue()
        self._all: list[Job] = []
        for index in range(count):
            self._add(cpu_for(index))

    def _add(self, cpu: int | None) -> None:
        job = Job(self.module, cpu)
        self._all.append(job)
        self._idle.put(job)

    def grade(self, assignment: str, path, name: str, deadline: float, **extra) -> dict:
        """``Job.grade`` on an idle process."""
        job = self._idle.get()
        try:
            reply = job.grade(assignment, path, name, deadline, **extra)
        except JobDied as error:
            self._add(job.cpu)  # a fresh one takes its place, on the same core
            return {"crash": str(error)}
        self._idle.put(job)
        return reply

    def close(self) -> None:
        for job in self._all:
            job.close()


# ---------------------------------------------------------------- inside a grading process

def main(record) -> None:
    """A grading process's main: ``serve`` on the pipes (and the core) ``Job`` gave it."""
    serve(int(sys.argv[1]), int(sys.argv[2]), record,
          int(sys.argv[3]) if len(sys.argv) > 3 else None)


def serve(requests_fd: int, replies_fd: int, record, cpu: int | None = None) -> None:
    """A grading process's loop: one request per line, until the grader closes the pipe; each
    reply is ``record(request, zygote, prepared)`` computed in a fork (``prepared``: the
    assignment and its collected suite, or None where the fork must load them itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch decides what Ctrl-C means
    if cpu is not None:
        try:
            os.sched_setaffinity(0, {cpu})  # before the fork server: it and its workers too
        except OSError:  # the core went away, or a policy forbids it: any core will do
            pass
    from grader.core.grading import start_sandbox

    zygote = start_sandbox()  # first: before any secret, test or reference is read
    from grader.core.grading import preload

    preload(sandbox_started=True)
    requests, replies = os.fdopen(requests_fd, "rb"), os.fdopen(replies_fd, "wb")
    request = _next(requests)
    while request is not None:
        request = _serve_assignment(request, requests, replies, zygote, record)
    zygote.close()


def _next(requests) -> dict | None:
    line = requests.readline()
    return json.loads(line) if line else None


def _serve_assignment(first: dict, requests, replies, zygote, record) -> dict | None:
    """Grade ``first`` and the requests that follow it for the same assignment, with its
    hidden suite collected once, here, before the forks; return the first request for
    another assignment (None once the grader closes the pipe)."""
    from grader.core.grading import serve_suite
    from grader.core.settings import load_assignment

    current, failed = [first], []

    def grade_each(suite) -> None:
        prepared = None if suite is None else (assignment, suite)
        gc.freeze()  # the collected suite, shared by every fork
        try:
            while current[0] is not None and current[0]["assignment"] == first["assignment"]:
                reply = _in_fork(current[0], zygote, record, prepared)
                replies.write(json.dumps(reply).encode() + b"\n")
                replies.flush()
                current[0] = _next(requests)
        except BaseException as error:  # noqa: BLE001  (raised below, outside pytest)
            failed.append(error)

    try:
        assignment = load_assignment(first["assignment"])
    except Exception:  # noqa: BLE001  (each fork's own load says what is wrong)
        grade_each(None)
    else:
        serve_suite(assignment, grade_each)
    if failed:
        raise failed[0]
    return current[0]


def _in_fork(request: dict, zygote, record, prepared) -> dict:
    from grader.core.grading import cap_trusted_memory
    from grader.sandbox import isolation

    readable, writable = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(readable)
        try:
            isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
            cap_trusted_memory()
            data = json.dumps(record(request, zygote, prepared)).encode()
        except BaseException as error:  # noqa: BLE001  (told to the grader, never lost)
            from grader.core.settings import AssignmentError
            from grader.sandbox import SandboxRefused

            if isinstance(error, (AssignmentError, SandboxRefused)):
                reply = {"fatal": f"{type(error).__name__}: {error}", "error": str(error),
                         "refused": isinstance(error, SandboxRefused)}
            else:
                reply = {"crash": f"{type(error).__name__}: {error}"}
            data = json.dumps(reply).encode()
        with os.fdopen(writable, "wb") as out:
            out.write(data)
        os._exit(0)
    os.close(writable)
    data = _read_within(readable, float(request["deadline"]))
    if data is None:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if data is None:
        return {"crash": f"grading did not finish within {request['deadline']:g} s"}
    if not data:
        return {"crash": f"the grading process died ({_describe(status)})"}
    return json.loads(data)


def _read_within(fd: int, seconds: float) -> bytes | None:
    chunks, deadline = [], time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
