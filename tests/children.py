"""Run a check in a forked child, for tests that change the process they run in (a seccomp
filter, a Landlock ruleset): never in the pytest process itself."""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import time
import traceback

import pytest

CHILD_TIMEOUT = 60  # seconds


def fork_child(check, *args) -> tuple[int, dict]:
    """Run ``check(*args)`` in a forked child: its wait status and its reply."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            payload, code = {"result": check(*args)}, 0
        except BaseException:
            payload, code = {"error": traceback.format_exc()}, 1
        with os.fdopen(write_fd, "w") as pipe:
            pipe.write(json.dumps(payload))
        os._exit(code)
    os.close(write_fd)
    reply = _read_all(read_fd, pid)
    _, status = os.waitpid(pid, 0)
    return status, json.loads(reply) if reply else {}


def in_child(check, *args):
    """What ``check(*args)`` returned in a forked child, or its traceback as the failure."""
    status, reply = fork_child(check, *args)
    assert "error" not in reply, reply.get("error")
    assert os.waitstatus_to_exitcode(status) == 0, f"the child ended with status {status}"
    return reply["result"]


def _read_all(fd: int, pid: int) -> bytes:
    deadline, chunks = time.monotonic() + CHILD_TIMEOUT, []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := _read_before(pipe, deadline, pid):
            chunks.append(chunk)
    return b"".join(chunks)


def _read_before(pipe, deadline: float, pid: int) -> bytes:
    if not select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))[0]:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"the child did not finish in {CHILD_TIMEOUT} s")
    return os.read(pipe.fileno(), 65536)


def outcome(action, *args) -> str:
    """"ok", or the errno name the action failed with."""
    try:
        action(*args)
    except OSError as error:
        return errno.errorcode[error.errno]
    return "ok"
