"""Confinement of a worker process: namespaces, a minimal read-only root, rlimits, an
unprivileged user.

Runs in the child between fork and the first line of student code. Linux only. Where the OS
refuses a layer (no user namespaces for a non-root grader), the worker still starts and
``Confinement.degraded`` says which layers are missing.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
SANDBOX_UID = 65534  # nobody
SYSTEM_FOLDERS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
TOP_LEVEL_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
PIVOT_ROOT_SYSCALL = {"x86_64": 155, "aarch64": 41}
MS_REMOUNT, MNT_DETACH = 32, 2

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker; ``assignment.yml`` may set each under ``limits:``."""

    call_timeout: float = 10.0        # wall-clock seconds for one call into student code
    cell_timeout: float = 30.0        # wall-clock seconds for one notebook cell
    submission_timeout: float = 300.0  # wall-clock seconds for the whole submission
    cpu_seconds: int = 120            # CPU seconds of one worker process
    memory_mb: int = 2048             # address space of one worker process
    processes: int = 64               # processes of the sandbox user
    file_size_mb: int = 64            # largest file the worker may write
    open_files: int = 64
    output_kb: int = 64               # captured stdout/stderr kept per worker
    reply_mb: int = 64                # largest reply the trusted side accepts


@dataclass
class Confinement:
    """What the worker got: each layer that could not be applied is named in ``degraded``."""

    degraded: list[str] = field(default_factory=list)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None):
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


def enter_namespaces(confinement: Confinement) -> None:
    """Give the next child its own pid, mount, network, IPC and hostname namespaces."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if os.geteuid() == 0:
        unshare(flags)
        return
    uid, gid = os.geteuid(), os.getegid()
    try:
        unshare(flags | CLONE_NEWUSER)
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    except OSError as error:
        confinement.degraded.append(f"namespaces unavailable ({error.strerror})")


def visible_paths() -> list[str]:
    """What a worker may see: the system's folders and this Python installation, read-only."""
    import site

    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    python.update(p for p in sys.path if p.startswith(tuple(python)))
    return sorted(p for p in {*SYSTEM_FOLDERS, *python} if os.path.isdir(p))


def confine_filesystem(hidden: list[Path], confinement: Confinement) -> Path:
    """Pivot into a new root that holds only ``visible_paths()`` (read-only), private /proc,
    /tmp and /dev; then cover ``hidden`` should any of it lie inside what is visible. Return
    the fresh working folder."""
    try:
        mount("none", "/", None, MS_REC | MS_PRIVATE)
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=700")
        root = "/tmp/root"
        os.mkdir(root)
        mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
        _populate_root(root)
        _pivot_into(root)
        for path in hidden:
            _hide(path)
    except OSError as error:
        confinement.degraded.append(f"filesystem not confined ({error.strerror})")
        import tempfile
        return Path(tempfile.mkdtemp(prefix="dlgrade-work-"))
    workdir = Path("/tmp/work")
    workdir.mkdir(mode=0o700)
    return workdir


def _populate_root(root: str) -> None:
    for name in TOP_LEVEL_LINKS:
        if os.path.islink("/" + name):
            os.symlink(os.readlink("/" + name), f"{root}/{name}")
    for path in visible_paths():
        if os.path.islink(path) or os.path.lexists(root + path):
            continue
        os.makedirs(root + path, mode=0o755)
        mount(path, root + path, None, MS_BIND | MS_REC)
        mount("none", root + path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for folder in ("proc", "dev", "tmp", "var/tmp", "dev/shm"):
        os.makedirs(f"{root}/{folder}", mode=0o755, exist_ok=True)
    mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for folder in ("tmp", "var/tmp", "dev/shm"):
        mount("tmpfs", f"{root}/{folder}", "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=1777")
    for device in DEVICES:
        open(f"{root}/dev/{device}", "w").close()
        mount(f"/dev/{device}", f"{root}/dev/{device}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")


def _pivot_into(root: str) -> None:
    """Make ``root`` the root and detach the old one, so there is nothing left to escape to."""
    os.mkdir(f"{root}/.old")
    number = PIVOT_ROOT_SYSCALL.get(platform.machine())
    if number is None or _libc.syscall(number, root.encode(), f"{root}/.old".encode()) != 0:
        raise OSError(ctypes.get_errno(), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount /.old")
    os.rmdir("/.old")


def _hide(path: Path) -> None:
    """Cover ``path`` with an empty read-only tmpfs (a folder) or /dev/null (a file)."""
    if path.is_dir():
        mount("tmpfs", str(path), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
    elif path.exists():
        mount("/dev/null", str(path), None, MS_BIND)


def set_rlimits(limits: Limits) -> None:
    mb = 1024 * 1024
    for kind, value in [(resource.RLIMIT_AS, limits.memory_mb * mb),
                        (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
                        (resource.RLIMIT_NOFILE, limits.open_files),
                        (resource.RLIMIT_CORE, 0)]:
        resource.setrlimit(kind, (value, value))
    if os.geteuid() == 0 or os.getuid() == SANDBOX_UID:
        # Counted per real user: only meaningful once we run as the sandbox user.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def drop_privileges(workdir: Path, confinement: Confinement) -> None:
    """Become the unprivileged sandbox user (when root) with no way back."""
    if os.geteuid() == 0 and os.getuid() == 0 and _is_real_root():
        os.chown(workdir, SANDBOX_UID, SANDBOX_UID)
        os.setgroups([])
        os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
        os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    elif not confinement.degraded:
        # Root only inside our own user namespace: nest one more so that the hiding mounts
        # are locked (they cannot be unmounted from the child namespace).
        try:
            unshare(CLONE_NEWUSER | CLONE_NEWNS)
        except OSError as error:
            confinement.degraded.append(f"mounts not locked ({error.strerror})")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _is_real_root() -> bool:
    """True when uid 0 is the machine's root, not root of a user namespace of ours."""
    try:
        first = Path("/proc/self/uid_map").read_text().split()
    except OSError:
        return True
    return first[:3] == ["0", "0", "4294967295"]


def scrub_secret_environment(prefix: bytes = b"DLGRADE_SECRET") -> None:
    """Overwrite, in place, the bytes of environment values whose names start with ``prefix``.

    The fork server is forked from the grader after Python built ``os.environ``; without this,
    the secret's bytes would sit in every worker's heap.
    """
    data = getattr(os.environ, "_data", {})
    offset = _bytes_data_offset()
    for key, value in list(data.items()):
        if isinstance(key, bytes) and key.startswith(prefix) and isinstance(value, bytes):
            ctypes.memset(id(value) + offset, ord("x"), len(value))
            del os.environ[key.decode()]


def _bytes_data_offset() -> int:
    """Where a bytes object's characters start, relative to its address (CPython)."""
    probe = b"dlgrade-probe"
    base = id(probe)
    for offset in range(16, 64):
        if ctypes.string_at(base + offset, len(probe)) == probe:
            return offset
    raise RuntimeError("unexpected bytes layout")


def wipe_inherited_memory() -> None:
    """Zero the environment and argv blocks the process started with (/proc/self/environ).

    The worker is forked from the grader, so these pages could hold a course secret or the
    paths of hidden files even after ``os.environ`` is cleared.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        # Fields 48-51 of proc(5) (arg_start, arg_end, env_start, env_end), counted from 3.
        arg_start, arg_end, env_start, env_end = (int(v) for v in fields[45:49])
    except (OSError, ValueError, IndexError):
        return
    for start, end in ((arg_start, arg_end), (env_start, env_end)):
        if 0 < start < end:
            ctypes.memset(start, 0, end - start)
