"""Grading processes for a batch, on this machine or on a Dask cluster's workers.

A job is a fresh interpreter that forks its sandbox's fork server before it reads anything,
imports what grading needs once, then grades each submission in a fork of itself: memory stays
flat however many it grades, and no grading can see another's state. Requests and replies are
JSON lines on two pipes; a reply is a *record*: the result (DESIGN.md's JSON), the time it took,
per-test durations, the source's suspicious constructs and the course secret's fingerprint.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import redirect_stderr
from dataclasses import replace
from pathlib import Path, PurePosixPath

GRACE_SECONDS = 60


class JobDied(Exception):
    """A grading process ended without replying."""


def deadline_for(assignment) -> float:
    """How long the trusted side may take on one submission before it is called stuck."""
    return assignment.limits.submission_timeout * 2 + GRACE_SECONDS


def bundle_digest(bundle: dict) -> str:
    """The assignment bundle's content hash: its name on Dask workers, part of the cache key."""
    digest = hashlib.sha256()
    for name, data in sorted(bundle["files"].items()):
        digest.update(f"\0{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def secret_fingerprint() -> str:
    from grader.core.settings import course_secret

    return hashlib.sha256(b"dlgrade-secret\0" + course_secret()).hexdigest()[:16]


class Job:
    """The grader's handle on one grading process."""

    def __init__(self):
        requests_end, self._requests = os.pipe()
        self._replies, replies_end = os.pipe()
        self._errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "grader.batch.jobs", str(requests_end), str(replies_end)],
            pass_fds=(requests_end, replies_end), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._errors)
        os.close(requests_end)
        os.close(replies_end)
        self._reader = os.fdopen(self._replies, "rb")
        self._writer = os.fdopen(self._requests, "wb")

    def grade(self, assignment: str, path: Path, name: str, deadline: float) -> dict:
        request = {"assignment": assignment, "path": str(path), "name": name,
                   "deadline": deadline}
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


# ---------------------------------------------------------------- inside a job

def serve(requests_fd: int, replies_fd: int) -> None:
    """A job's loop: one request per line, until the grader closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch decides what Ctrl-C means
    from grader.core.grading import start_sandbox

    zygote = start_sandbox()  # first: before any secret, test or reference is read
    from grader.core.grading import preload

    preload(sandbox_started=True)
    requests, replies = os.fdopen(requests_fd, "rb"), os.fdopen(replies_fd, "wb")
    request = _next(requests)
    while request is not None:
        request = _serve_assignment(request, requests, replies, zygote)
    zygote.close()


def _next(requests) -> dict | None:
    line = requests.readline()
    return json.loads(line) if line else None


def _serve_assignment(first: dict, requests, replies, zygote) -> dict | None:
    """Grade ``first`` and the requests that follow it for the same assignment, with its
    hidden suite collected once, here, before the forks; return the first request for
    another assignment (None once the grader closes the pipe)."""
    from grader.core.grading import serve_suite
    from grader.core.settings import load_assignment

    current, failed = [first], []

    def serve(suite) -> None:
        prepared = None if suite is None else (assignment, suite)
        try:
            while current[0] is not None and current[0]["assignment"] == first["assignment"]:
                reply = _in_fork(current[0], zygote, prepared)
                replies.write(json.dumps(reply).encode() + b"\n")
                replies.flush()
                current[0] = _next(requests)
        except BaseException as error:  # noqa: BLE001  (raised below, outside pytest)
            failed.append(error)

    try:
        assignment = load_assignment(first["assignment"])
    except Exception:  # noqa: BLE001  (each fork's own load says what is wrong)
        serve(None)
    else:
        gc.freeze()  # the collected suite, shared by every fork
        serve_suite(assignment, serve)
    if failed:
        raise failed[0]
    return current[0]


def _in_fork(request: dict, zygote, prepared=None) -> dict:
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

            kind = "fatal" if isinstance(error, (AssignmentError, SandboxRefused)) else "crash"
            data = json.dumps({kind: f"{type(error).__name__}: {error}"}).encode()
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


def record(request: dict, zygote, prepared=None) -> dict:
    """Grade one submission here; the record the batch keeps of it. ``prepared``: the
    assignment and its hidden suite, loaded and collected by the process this one forked
    from (``serve_suite``)."""
    from grader.batch.flags import suspicious
    from grader.batch.similarity import fingerprints, join_cells
    from grader.core.grading import grade_submission
    from grader.core.loading import SubmissionUnreadable, load_submission
    from grader.core.settings import load_assignment

    assignment, suite = prepared or (load_assignment(request["assignment"]), None)
    path = Path(request["path"])
    started = time.perf_counter()
    warnings = io.StringIO()
    with redirect_stderr(warnings):
        result = grade_submission(assignment, path, zygote, suite=suite)
    seconds = time.perf_counter() - started
    result = replace(result, submission=request["name"])
    try:
        cells = list(load_submission(path).cells)
    except SubmissionUnreadable:
        cells = None
    return {"result": result.to_dict(), "seconds": round(seconds, 4),
            "durations": {t.name: round(t.duration, 5) for t in result.tests},
            "flags": suspicious(cells or []), "warnings": warnings.getvalue().splitlines(),
            "secret": secret_fingerprint(),
            # The report's similarity section compares these, without reading the file again.
            "fingerprints": None if cells is None else
            fingerprints(join_cells(cells).text).to_json()}


# ---------------------------------------------------------------- on a Dask worker

_idle: list[Job] = []
_lock = threading.Lock()


def grade_on_worker(bundle: dict, bundle_id: str, name: str, content: bytes,
                    deadline: float) -> dict:
    """A Dask task: grade one submission shipped by value against a shipped assignment."""
    root = Path(tempfile.gettempdir()) / f"dlgrade-bundles-{os.getuid()}" / bundle_id
    with _lock:
        if not root.is_dir():
            _unpack(bundle["files"], root)
        job = _idle.pop() if _idle else None
    job = job or Job()
    with tempfile.TemporaryDirectory(prefix="dlgrade-submission-") as folder:
        path = Path(folder) / (PurePosixPath(name).name or "submission")
        path.write_bytes(content)
        try:
            reply = job.grade(str(root / bundle["folder"]), path, name, deadline)
        except JobDied as error:
            return {"crash": str(error)}
    with _lock:
        _idle.append(job)
    return reply


def _unpack(files: dict[str, bytes], root: Path) -> None:
    """Write a shipped assignment once per machine (another process may race us: fine)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=root.parent))
    for relative, data in files.items():
        target = staging.joinpath(*PurePosixPath(relative).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    try:
        os.rename(staging, root)
    except OSError:  # already there, unpacked by a neighbour
        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
