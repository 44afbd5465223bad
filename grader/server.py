"""The grading server: numpy, pytest and the grader already imported, one fork per request, so
that ``dlgrade run`` pays neither Python's start-up nor those imports per submission.

``dlgrade run`` starts it on demand (``DLGRADE_SERVER=0`` turns it off) and talks to it over a
Unix socket in a folder only the user can open. It exits after ``IDLE_SECONDS`` without a
request, and a client whose grader source differs from the server's (an upgrade, an edit)
makes it exit and starts a fresh one.

Trust: the server process never reads a request. Each connection is handled by a forked child
that first forks its own sandbox fork server, and only then reads the request (which may carry
the course secret), so no worker can ever find a request in its memory.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IDLE_SECONDS = 120
START_SECONDS = 15
FORWARDED_ENV = ("DLGRADE_SECRET", "DLGRADE_SECRET_FILE")
PACKAGE = Path(__file__).resolve().parent


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


# ---------------------------------------------------------------- client side

def run_remotely(argv: list[str]) -> int | None:
    """Run the command in the server; None when no server can serve it (run it here then)."""
    try:
        address = str(folder() / "server.sock")
        request = json.dumps({"argv": argv, "cwd": os.getcwd(), "fingerprint": fingerprint(),
                              "env": {k: os.environ[k] for k in FORWARDED_ENV
                                      if k in os.environ}}).encode()
        for _ in range(2):
            reply = _exchange(address, request) or (_start(address) and
                                                   _exchange(address, request))
            if reply is None or not reply.get("stale"):
                break
            _wait_gone(address)
    except OSError:
        return None
    if not reply or "exit" not in reply:
        return None
    sys.stdout.write(reply.get("stdout", ""))
    sys.stderr.write(reply.get("stderr", ""))
    return int(reply["exit"])


def stop() -> None:
    """Ask a running server to exit (it takes any request from another grader as a signal)."""
    address = folder() / "server.sock"
    if address.exists():
        _exchange(str(address), json.dumps({"fingerprint": "stop"}).encode())
        _wait_gone(str(address))


def _exchange(address: str, request: bytes) -> dict | None:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(address)
            connection.sendall(request)
            connection.shutdown(socket.SHUT_WR)
            data = _read_all(connection)
    except (ConnectionRefusedError, FileNotFoundError):
        return None
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _start(address: str) -> bool:
    """Start a server in its own session with a clean environment; wait until it listens."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    server = subprocess.Popen([sys.executable, "-m", "grader.server", address], env=environment,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(address)
                return True
            except OSError:
                time.sleep(0.01)
    return False


def _wait_gone(address: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while os.path.exists(address) and time.monotonic() < deadline:
        time.sleep(0.01)


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- server side

def preload() -> None:
    """Import what every grading uses, once, before forking per request."""
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import scipy.stats  # noqa: F401
    import yaml  # noqa: F401

    import grader.cli  # noqa: F401
    import grader.grading  # noqa: F401
    import grader.numerics  # noqa: F401
    import grader.plugin  # noqa: F401

    gc.freeze()  # forks share the preloaded heap: the collector need never touch it


def serve(address: str) -> None:
    """Listen until idle; grade each request in a fresh fork."""
    preload()

    lock = open(Path(address).with_suffix(".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server is starting or running
    own = fingerprint()
    if os.path.exists(address):
        os.unlink(address)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    os.chmod(address, 0o600)
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
        if os.path.exists(address):
            os.unlink(address)


def _handle(connection: socket.socket, own_fingerprint: str) -> None:
    """In a fresh fork: fork the sandbox first, then read the request and run it."""
    from grader import cli
    from grader.sandbox import Zygote

    status = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        zygote = Zygote()
        request = json.loads(_read_all(connection))
        if request.get("fingerprint") != own_fingerprint:
            connection.sendall(json.dumps({"stale": True}).encode())
            os.kill(os.getppid(), signal.SIGTERM)
            return
        reply = cli.run_captured(request["argv"], request["cwd"], request["env"], zygote)
        connection.sendall(json.dumps(reply).encode())
    except BaseException:  # the client falls back to running the command itself
        status = 1
    finally:
        os._exit(status)


if __name__ == "__main__":
    serve(sys.argv[1])
