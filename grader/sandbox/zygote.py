"""The fork server: a clean process, forked before the grader reads any secret, test or
reference, that forks one confined worker per request.

Process tree per worker: zygote -> supervisor (root of nothing, waits) -> worker (pid 1 of
its own pid namespace). Killing the supervisor kills the worker (parent-death signal), and
the worker's death kills every process it started (end of its pid namespace).
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import struct
import sys

from grader.sandbox import isolation, wire, worker  # noqa: F401  (preloaded for workers)

SAFE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Zygote:
    """Trusted-side handle of the fork server."""

    def __init__(self):
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:
            self.control.close()
            keep = theirs.fileno()
            os.closerange(3, keep)
            os.closerange(keep + 1, 1 << 16)
            _serve_forks(theirs)
        theirs.close()

    def spawn(self, limits: isolation.Limits, hidden: list) -> tuple[socket.socket, int]:
        """Start a worker; return the trusted end of its channel and its supervisor's pid."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = pickle.dumps((limits, [str(p) for p in hidden]))
        socket.send_fds(self.control, [struct.pack(">I", len(request)) + request],
                        [theirs.fileno()])
        theirs.close()
        reply = _read_exactly(self.control, 8)
        if reply is None:
            raise RuntimeError("the sandbox fork server stopped")
        (supervisor,) = struct.unpack(">q", reply)
        return ours, supervisor

    def close(self) -> None:
        self.control.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _serve_forks(control: socket.socket) -> None:
    """The zygote's loop: one supervisor per request, until the grader goes away."""
    try:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        isolation.scrub_secret_environment()
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped automatically
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            message, fds, _, _ = socket.recv_fds(control, 4, 1)
            if not message or not fds:
                break
            (length,) = struct.unpack(">I", message)
            limits, hidden = pickle.loads(_read_exactly(control, length))
            pid = os.fork()
            if pid == 0:
                control.close()
                _supervise(fds[0], limits, hidden)
            os.close(fds[0])
            control.sendall(struct.pack(">q", pid))
    finally:
        os._exit(0)


def _supervise(channel_fd: int, limits, hidden: list[str]) -> None:
    """Enter fresh namespaces, fork the worker as their first process, wait for it."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()
        confinement = isolation.Confinement()
        isolation.enter_namespaces(confinement)
        pid = os.fork()
        if pid == 0:
            _become_worker(channel_fd, limits, hidden, confinement)
        os.close(channel_fd)
        os.waitpid(pid, 0)
    finally:
        os._exit(0)


def _become_worker(channel_fd, limits, hidden, confinement) -> None:
    from pathlib import Path

    status = 70
    try:
        workdir = isolation.confine_filesystem([Path(p) for p in hidden], confinement)
        isolation.set_rlimits(limits)
        isolation.drop_privileges(workdir, confinement)
        _reset_descriptors(channel_fd)
        isolation.wipe_inherited_memory()
        os.environ.clear()
        os.environ.update(SAFE_ENV, HOME=str(workdir), TMPDIR="/tmp")
        os.chdir(workdir)
        sys.argv = ["submission"]
        sys.path[:] = [p for p in sys.path if p and os.path.isabs(p)]
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails, not kills
        channel = socket.socket(fileno=3)
        channel.sendall(wire.frame(wire.encode({"id": "hello", "degraded": confinement.degraded})))
        worker.serve(channel, limits)
        status = 0
    finally:
        os._exit(status)


def _reset_descriptors(channel_fd: int) -> None:
    """Keep only the channel (as fd 3); stdin, stdout and stderr go to /dev/null."""
    os.dup2(channel_fd, 3)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(4, 1 << 16)
