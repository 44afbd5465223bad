"""The fork server: a clean process, forked before the grader reads any secret, test or
reference, that forks one confined worker per request.

Process tree per worker: zygote -> supervisor (keeps the grader's privileges, subreaper) ->
starter (enters the namespaces) -> worker (pid 1 of its own pid namespace, where the OS
allows one). SIGTERM to the supervisor, or the zygote's end, stops the worker and kills every
process it started: by its pid namespace, by its uid, and by walking the subreaper's children,
so nothing outlives its submission at any confinement level.
"""

from __future__ import annotations

import os
import pickle
import secrets
import shutil
import signal
import socket
import struct
import sys
import tempfile
from pathlib import Path

from grader.sandbox import isolation, landlock, seccomp, uids, wire, worker

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

    def spawn(self, limits: isolation.Limits, hidden: list,
              preload: tuple[str, ...] = ()) -> tuple[socket.socket, int]:
        """Start a worker; return the trusted end of its channel and its supervisor's pid.
        ``preload``: modules (of ``PRELOADABLE``) the submission imports, already imported
        in the process the worker is forked from."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = pickle.dumps((limits, [str(p) for p in hidden],
                                tuple(m for m in preload if m in PRELOADABLE)))
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


# Modules slow to import that a worker may find already imported, when its submission imports
# them: matplotlib's pyplot costs half a second per worker, more than most submissions' cells.
PRELOADABLE = ("matplotlib.pyplot",)


def _serve_forks(control: socket.socket) -> None:
    """The zygote's loop: one supervisor per request, until the grader goes away. A request
    with modules to preload is passed to a warm fork server that imported them (made on the
    first such request), whose supervisors and workers are forked as here."""
    try:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        isolation.scrub_secret_environment()
        isolation.ROOT_MOUNTPOINT.mkdir(mode=0o755, exist_ok=True)
        isolation.python_paths()  # as the grader: a worker's uid may not see them
        grader_uid = isolation._kernel_uid()
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped automatically
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        warm: dict[tuple[str, ...], socket.socket | None] = {}
        while True:
            message, fds, _, _ = socket.recv_fds(control, 4, 1)
            if not message or not fds:
                break
            (length,) = struct.unpack(">I", message)
            limits, hidden, preload = pickle.loads(_read_exactly(control, length))
            pid = _forward(warm, preload, limits, hidden, fds[0]) if preload else None
            if pid is None:
                pid = os.fork()
                if pid == 0:
                    control.close()
                    _supervise(fds[0], limits, hidden, grader_uid)
            os.close(fds[0])
            control.sendall(struct.pack(">q", pid))
    finally:
        os._exit(0)


def _forward(warm: dict, preload: tuple[str, ...], limits, hidden, channel_fd: int):
    """Have the warm fork server for ``preload`` start the worker; its supervisor's pid, or
    None where that server cannot be made or has gone (then this one starts it, cold)."""
    if preload not in warm:
        warm[preload] = _warm_server(preload)
    server = warm[preload]
    if server is None:
        return None
    request = pickle.dumps((limits, hidden, ()))
    try:
        socket.send_fds(server, [struct.pack(">I", len(request)) + request], [channel_fd])
        reply = _read_exactly(server, 8)
    except OSError:
        reply = None
    if reply is None:
        warm[preload] = None
        return None
    return struct.unpack(">q", reply)[0]


def _warm_server(preload: tuple[str, ...]) -> socket.socket | None:
    """A fork server forked from this one that imported ``preload`` as a worker would: in an
    empty working folder with an empty home and the worker's environment, so no settings
    file of the grader's (a matplotlibrc in the course folder or the home) is read."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:
        keep = theirs.fileno()  # nothing else of the zygote's: its grader's end, other servers
        os.closerange(3, keep)
        os.closerange(keep + 1, 1 << 16)
        status = 70
        try:
            isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
            _import_as_a_worker(preload)
            status = 0
        finally:
            if status:
                os._exit(status)
        _serve_forks(theirs)
    theirs.close()
    return ours


def _import_as_a_worker(preload: tuple[str, ...]) -> None:
    import importlib

    folder = Path(tempfile.mkdtemp(prefix="dlgrade-preload-"))
    before = dict(os.environ), os.getcwd()
    try:
        os.environ.clear()
        os.environ.update(SAFE_ENV, HOME=str(folder), TMPDIR=str(folder))
        os.chdir(folder)
        for name in preload:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001  (the worker's own import will say why)
                pass
    finally:
        os.environ.clear()
        os.environ.update(before[0])
        os.chdir(before[1])
        shutil.rmtree(folder, ignore_errors=True)


class _Stop(Exception):
    """The trusted side (SIGTERM) or the zygote's end (parent-death signal) stops a worker."""


def _stop(*_):
    raise _Stop


def _supervise(channel_fd: int, limits, hidden: list[str], grader_uid: int) -> None:
    """Claim the worker's uid, start it confined, wait; then kill everything it started.

    The supervisor keeps the grader's privileges: it is a subreaper, so every orphan of the
    worker's tree becomes its child, and as root it kills whatever runs under the worker's
    uid, wherever it ran off to."""
    confinement = isolation.Confinement()
    lock = workdir = None
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, _stop)
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGTERM)
        isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)
        os.setsid()
        confinement.lacks("cgroup", isolation.cgroup_missing())
        confinement.uid, lock = _claim_uid(confinement)
        # Made by the worker, only where it has no root of its own; removed here in any case.
        workdir = Path(tempfile.gettempdir()) / f"dlgrade-work-{secrets.token_hex(8)}"
        pid = os.fork()
        if pid == 0:
            _start_worker(channel_fd, limits, hidden, confinement, workdir, grader_uid)
        os.close(channel_fd)
        os.waitpid(pid, 0)
    except _Stop:
        pass
    except BaseException as error:
        _tell_failure(channel_fd, error)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_descendants(confinement.uid)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        os._exit(0)


def _claim_uid(confinement) -> tuple[int | None, int | None]:
    try:
        return uids.claim()
    except OSError as error:
        confinement.lacks("uid", error.strerror or str(error))
        return None, None


def _start_worker(channel_fd, limits, hidden, confinement, workdir, grader_uid) -> None:
    """Between the supervisor and the worker: enter the namespaces (the worker is the first
    process of its pid namespace), then wait for the worker."""
    status = 70
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        isolation.enter_namespaces(confinement)
        pid = os.fork()
        if pid == 0:
            _become_worker(channel_fd, limits, hidden, confinement, workdir, grader_uid)
        os.close(channel_fd)
        os.waitpid(pid, 0)
        status = 0
    finally:
        os._exit(status)


def _become_worker(channel_fd, limits, hidden, confinement, workdir, grader_uid) -> None:
    status = 70
    try:
        try:
            _confine(channel_fd, limits, hidden, confinement, workdir, grader_uid)
        except BaseException as error:  # told to the grader: a machine that cannot confine
            _tell_failure(channel_fd, error)
            raise
        channel = socket.socket(fileno=3)
        hello = {"id": "hello", "layers": confinement.layers, "missing": confinement.missing}
        channel.sendall(wire.frame(wire.encode(hello)))
        worker.serve(channel, limits)
        status = 0
    finally:
        os._exit(status)


def _tell_failure(channel_fd: int, error: BaseException) -> None:
    """Send the grader why confinement failed, on the channel wherever it is by now."""
    hello = wire.frame(wire.encode({"id": "hello", "failed": f"{type(error).__name__}: {error}"}))
    for fd in (channel_fd, 3):  # fd 3 once _reset_descriptors has moved it there
        try:
            os.write(fd, hello)
            return
        except OSError:
            continue


def _confine(channel_fd, limits, hidden, confinement, workdir, grader_uid) -> None:
    """Every layer, in order; the channel ends up as fd 3, and nothing else stays open."""
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    workdir = isolation.confine_filesystem([Path(p) for p in hidden], confinement, workdir,
                                           limits)
    isolation.set_rlimits(limits, confinement)
    isolation.drop_privileges(workdir, limits, confinement, grader_uid)
    isolation.check_python_readable()
    _reset_descriptors(channel_fd)
    isolation.wipe_inherited_memory()
    os.environ.clear()
    os.environ.update(SAFE_ENV, HOME=str(workdir), TMPDIR=_temp_folder(confinement, workdir))
    os.chdir(workdir)
    sys.argv = ["submission"]
    sys.path[:] = [p for p in sys.path if p and os.path.isabs(p)]
    _restrict(confinement, workdir)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails, not kills


def _temp_folder(confinement, workdir: Path) -> str:
    return "/tmp" if "filesystem" in confinement.layers else str(workdir)


def _restrict(confinement, workdir: Path) -> None:
    """Landlock, then the seccomp filter: the last layers, once nothing needs mounts or
    namespaces any more."""
    private_root = "filesystem" in confinement.layers  # holds only what a worker may see
    writable = [str(workdir), *(["/tmp", "/var/tmp", "/dev/shm"] if private_root else [])]
    readable = ["/"] if private_root else [*isolation.visible_paths(), "/proc/self",
                                           *(f"/dev/{device}" for device in isolation.DEVICES)]
    try:
        applied = landlock.restrict(readable, writable + ["/dev/null"])
        confinement.applied("landlock")
        if "signals" in applied:
            confinement.applied("landlock-scope")
        else:
            confinement.lacks("landlock-scope", f"Landlock ABI {landlock.abi()} (needs 6)")
    except OSError as error:
        confinement.lacks("landlock", error.strerror or str(error))
        confinement.lacks("landlock-scope", "no Landlock")
    try:
        seccomp.install(seccomp.worker_filter())
        confinement.applied("seccomp")
    except OSError as error:
        confinement.lacks("seccomp", error.strerror or str(error))


def _kill_descendants(uid: int | None) -> None:
    """Kill the worker's whole tree: every process of its uid (as root), then every
    descendant of this subreaper, until none is left."""
    if uid is not None and os.geteuid() == 0:
        try:
            uids.kill_all(uid)
        except OSError:
            pass
    for _ in range(1000):
        children = _children()
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:  # gone already, or (without CAP_KILL) another uid's
                pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break


def _children() -> list[int]:
    """This process's children, from /proc (orphans included: this is their subreaper)."""
    me = str(os.getpid())
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if fields[1].decode() == me:
                found.append(int(entry.name))
    return found


def _reset_descriptors(channel_fd: int) -> None:
    """Keep only the channel (as fd 3); stdin, stdout and stderr go to /dev/null."""
    os.dup2(channel_fd, 3)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(4, 1 << 16)
