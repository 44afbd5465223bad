"""The grading server: numpy, pytest and the grader already imported, one fork per request, so
that ``dlgrade run`` pays neither Python's start-up nor those imports per submission.

``dlgrade run`` starts it on demand (``DLGRADE_SERVER=0`` turns it off) and talks to it over a
Unix socket in a folder only the user can open. The socket's name carries the grader's
fingerprint (its interpreter and source files), so two installs of one user never share a
server, and an edited or upgraded grader starts a fresh one; a server exits after
``IDLE_SECONDS`` without a request.

It serves one thing: grading a submission (``dlgrade run``), with the client's folder and the
course secret. A request is bounded in size and time and names only what that needs.

Trust: the server process never reads a request. Each connection is handled by a forked child
that first forks its own sandbox fork server, and only then reads the request (which may carry
the course secret), so no worker can ever find a request in its memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

IDLE_SECONDS = 120
START_SECONDS = 15
REQUEST_SECONDS = 10  # a client sends its request at once: a slow one is refused
REQUEST_BYTES = 1 << 16
FORWARDED_ENV = ("DLGRADE_SECRET", "DLGRADE_SECRET_FILE", "DLGRADE_ALLOW_UNCONFINED")
PACKAGE = Path(__file__).resolve().parent


class BadRequest(Exception):
    """A request that is not a grading request of the expected shape and size."""


def folder() -> Path:
    """A private folder for the socket: $XDG_RUNTIME_DIR or the temp folder, per user."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / f"dlgrade-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{path} must belong to you alone (mode 700)")
    return path


def fingerprint() -> str:
    """Which grader this is: the interpreter and the size and time of every source file."""
    digest = hashlib.sha256(os.path.realpath(sys.executable).encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def address() -> str:
    """This grader's socket: its fingerprint in the name, so no other grader answers on it."""
    return str(folder() / f"server-{fingerprint()}.sock")


# ---------------------------------------------------------------- client side

def run_remotely(assignment: str, submission: str, as_json: bool) -> int | None:
    """Grade in the server and print what it printed; return the exit code, or None when no
    server can serve it (grade here then)."""
    own = fingerprint()
    request = json.dumps({
        "fingerprint": own, "assignment": assignment, "submission": submission,
        "json": as_json, "cwd": os.getcwd(),
        "env": {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}}).encode()
    try:
        where = address()
        reply = _exchange(where, request)
        if reply is None and _start(where):
            reply = _exchange(where, request)
    except (OSError, ValueError):
        return None
    if not isinstance(reply, dict) or not isinstance(reply.get("exit"), int):
        return None
    sys.stdout.write(str(reply.get("stdout", "")))
    sys.stderr.write(str(reply.get("stderr", "")))
    return reply["exit"]


def stop() -> None:
    """Ask this grader's running server, if any, to exit."""
    where = address()
    if os.path.exists(where):
        _exchange(where, json.dumps({"fingerprint": fingerprint(), "stop": True}).encode())
        deadline = time.monotonic() + START_SECONDS
        while os.path.exists(where) and time.monotonic() < deadline:
            time.sleep(0.01)


def _exchange(where: str, request: bytes) -> dict | None:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(where)
            connection.sendall(request)
            connection.shutdown(socket.SHUT_WR)
            data = _read_all(connection)
    except OSError:  # no server there, or it refused the request
        return None
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _start(where: str) -> bool:
    """Start a server in its own session with a clean environment; wait until it listens."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    server = subprocess.Popen([sys.executable, "-P", "-m", "grader.server", where], env=environment,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(where)
                return True
            except OSError:
                time.sleep(0.01)
    return False


def _read_all(connection: socket.socket, limit: int | None = None) -> bytes:
    chunks, size = [], 0
    while chunk := connection.recv(1 << 16):
        size += len(chunk)
        if limit is not None and size > limit:
            raise BadRequest(f"a request is at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- server side

def serve(where: str) -> None:
    """Listen until idle; grade each request in a fresh fork."""
    from grader.core.grading import preload

    preload(sandbox_started=False)  # each request forks its own, from this process
    lock = open(Path(where).with_suffix(".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server of this grader is starting or running
    own = fingerprint()
    if os.path.exists(where):
        os.unlink(where)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(where)
    os.chmod(where, 0o600)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while select.select([listener], [], [], IDLE_SECONDS)[0]:
            connection, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                _handle(connection, own)
            connection.close()
    finally:
        if os.path.exists(where):
            os.unlink(where)


def _handle(connection: socket.socket, own_fingerprint: str) -> None:
    """In a fresh fork: fork the sandbox first, then read the request and grade."""
    from grader.core.grading import cap_trusted_memory, start_sandbox

    status = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        zygote = start_sandbox()
        cap_trusted_memory()
        connection.settimeout(REQUEST_SECONDS)
        request = _read_request(connection)
        if request.get("fingerprint") != own_fingerprint:
            connection.sendall(json.dumps({"stale": True}).encode())
        elif request.get("stop") is True:
            os.kill(os.getppid(), signal.SIGTERM)
        else:
            connection.sendall(json.dumps(_grade(request, zygote)).encode())
        zygote.close()
    except BaseException:  # the client grades in its own process instead
        status = 1
    finally:
        os._exit(status)


def _read_request(connection: socket.socket) -> dict:
    """A grading request: these keys only, strings where strings belong, bounded."""
    request = json.loads(_read_all(connection, REQUEST_BYTES))
    if not isinstance(request, dict):
        raise BadRequest("a request is a JSON object")
    if "stop" in request:
        return request
    strings = ("fingerprint", "assignment", "submission", "cwd")
    if set(request) != {*strings, "json", "env"} \
            or not all(isinstance(request[k], str) for k in strings) \
            or not isinstance(request["json"], bool) or not isinstance(request["env"], dict) \
            or not set(request["env"]) <= set(FORWARDED_ENV) \
            or not all(isinstance(v, str) for v in request["env"].values()):
        raise BadRequest("not a grading request")
    return request


def _grade(request: dict, zygote) -> dict:
    """Grade as ``dlgrade run`` would in the client's folder, with the client's secret."""
    from grader.core.grading import fault_exit, grade_and_render
    from grader.core.settings import AssignmentError
    from grader.sandbox import SandboxRefused

    os.chdir(request["cwd"])
    for name in [k for k in os.environ if k.startswith("DLGRADE_")]:
        del os.environ[name]
    os.environ.update(request["env"])
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            print(grade_and_render(request["assignment"], request["submission"],
                                   request["json"], zygote))
            code = 0
        except (AssignmentError, SandboxRefused) as error:
            code = fault_exit(error)
    return {"exit": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


if __name__ == "__main__":
    serve(sys.argv[1])
