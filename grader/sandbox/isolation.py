"""Confinement of a worker process, layer by layer: namespaces, a minimal read-only root,
rlimits, an unprivileged uid, Landlock and a seccomp filter.

Runs in the supervisor and the worker between fork and the first line of student code. Linux
only. Each layer is applied where the OS allows it; one that cannot be is named, with the
reason, in ``Confinement.missing``, and ``grader.sandbox.levels`` says what the layers that
were applied add up to.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import signal
import sys
import tempfile

try:
    import resource
except ImportError:  # not a POSIX system: no sandbox there, but the student's side imports
    resource = None
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import libc

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
PR_SET_CHILD_SUBREAPER = 36
NOBODY = 65534
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Of /etc, only what Python, numpy, matplotlib and the C library read: no shadow, no keys.
ETC_ENTRIES = ("alternatives", "ca-certificates", "ca-certificates.conf", "debian_version",
               "fonts", "gai.conf", "group", "host.conf", "hosts", "ld.so.cache", "ld.so.conf",
               "ld.so.conf.d", "ld.so.preload", "locale.alias", "localtime", "magic",
               "magic.mime", "matplotlibrc", "mime.types", "nsswitch.conf", "os-release",
               "passwd", "protocols", "services", "ssl/certs", "ssl/openssl.cnf", "timezone",
               f"python{sys.version_info.major}", "python{}.{}".format(*sys.version_info[:2]))
TOP_LEVEL_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
PIVOT_ROOT_SYSCALL = {"x86_64": 155, "aarch64": 41}
MS_REMOUNT, MNT_DETACH = 32, 2
ROOT_MOUNTPOINT = Path(tempfile.gettempdir()) / ".dlgrade-root"  # each worker mounts its own

_libc = libc.libc


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker; ``assignment.yml`` may set each under ``limits:``."""

    call_timeout: float = 10.0        # wall-clock seconds for one call into student code
    cell_timeout: float = 30.0        # wall-clock seconds for one notebook cell
    submission_timeout: float = 300.0  # wall-clock seconds for the whole submission
    cpu_seconds: int = 120            # CPU seconds of one worker process
    memory_mb: int = 2048             # memory of one worker: address space plus its temp files
    processes: int = 64               # processes of one worker
    file_size_mb: int = 64            # largest file the worker may write
    open_files: int = 64
    output_kb: int = 64               # captured stdout/stderr kept per worker
    reply_mb: int = 64                # largest reply the trusted side accepts

    @property
    def temp_files_mb(self) -> int:
        """The worker's /tmp, /var/tmp and /dev/shm together: an eighth of its memory."""
        return max(4, self.memory_mb // 8)


@dataclass
class Confinement:
    """The layers a worker got, and for each one it did not get, why."""

    layers: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    uid: int | None = None  # the worker's own uid, when the grader could give it one
    own_user_namespace: bool = False  # a user namespace made for this worker alone
    uid_taken: bool = False  # the worker runs as ``uid``

    def applied(self, layer: str) -> None:
        if layer not in self.layers:
            self.layers.append(layer)
        self.missing.pop(layer, None)

    def lacks(self, layer: str, why: str) -> None:
        if layer not in self.layers:
            self.missing.setdefault(layer, why)


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


def become(uid: int, confinement: Confinement | None = None) -> None:
    """Take ``uid`` as real, effective and saved uid and gid, with no groups: no way back."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if confinement is not None and uid == confinement.uid:
        confinement.uid_taken = True


# ---------------------------------------------------------------- namespaces

def enter_namespaces(confinement: Confinement) -> None:
    """Give the next child its own pid, mount, network, IPC and hostname namespaces.

    As root, directly; where that is refused (a container without CAP_SYS_ADMIN), and for any
    other user, inside a new user namespace: as root, after becoming the worker's own uid,
    so that even root of that namespace is an unprivileged uid outside it."""
    if os.geteuid() == 0:
        try:
            unshare(NAMESPACES)
            confinement.applied("namespaces")
            return
        except OSError as error:
            refused = error.strerror
        if confinement.uid is not None:
            become(confinement.uid, confinement)
            prctl(PR_SET_DUMPABLE, 1)  # a uid change clears it; writing our maps needs it
    else:
        refused = None
    uid, gid = os.geteuid(), os.getegid()
    try:
        unshare(NAMESPACES | CLONE_NEWUSER)
    except OSError as error:
        why = f"user namespaces: {error.strerror}"
        confinement.lacks("namespaces", f"{refused}; {why}" if refused else why)
        return
    # In the namespace now: without maps it would run as the overflow uid, so fail loudly.
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    confinement.applied("namespaces")
    confinement.own_user_namespace = True


# ---------------------------------------------------------------- the filesystem

def visible_paths() -> list[str]:
    """What a worker may read: the system's folders, the harmless part of /etc and this
    Python installation."""
    etc = (f"/etc/{name}" for name in ETC_ENTRIES)
    return sorted(p for p in {*SYSTEM_FOLDERS, *etc, *python_paths()} if os.path.exists(p))


@functools.cache
def python_paths() -> list[str]:
    """This Python installation: its prefixes, site-packages and the path entries inside.
    Computed once, as the grader (the fork server calls it before any worker exists): a
    worker's uid may not even see these folders."""
    import site

    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
    python.update(p for p in sys.path if p.startswith(tuple(python)))
    # The grader package itself (public code, no course file in it), wherever an editable
    # install keeps it: `dlgrade check` runs the public checks in the worker.
    python.add(str(Path(__file__).resolve().parent.parent))
    return sorted(p for p in python if os.path.isdir(p))


def check_python_readable() -> None:
    """The worker must be able to import what the submission imports: fail loudly, not with
    an ImportError charged to the student, where its uid cannot read the installation."""
    for path in python_paths():
        if not os.access(path, os.R_OK | os.X_OK):
            raise PermissionError(
                f"the worker's uid ({os.getuid()}) cannot read the Python installation at "
                f"{path}: install Python where every user can read it (/usr/local, /opt, a "
                f"virtual environment outside /root), or let the sandbox use namespaces")


def confine_filesystem(hidden: list[Path], confinement: Confinement, workdir: Path,
                       limits: Limits) -> Path:
    """Pivot into a new root that holds only ``visible_paths()`` (read-only), a private /proc,
    /tmp, /var/tmp and /dev/shm; cover ``hidden`` should any of it lie inside what is visible.
    Return the working folder: a fresh /tmp/work, or ``workdir``, made now, where there is no
    root of our own."""
    if "namespaces" not in confinement.layers:
        confinement.lacks("filesystem", "needs a mount namespace")
        workdir.mkdir(mode=0o700)
        return workdir
    try:
        mount("none", "/", None, MS_REC | MS_PRIVATE)
        root = str(ROOT_MOUNTPOINT)
        mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
        _populate_root(root, limits)
        _pivot_into(root)
        for path in hidden:
            _hide(path)
    except OSError as error:
        confinement.lacks("filesystem", error.strerror or str(error))
        workdir.mkdir(mode=0o700)
        return workdir
    confinement.applied("filesystem")
    private = Path("/tmp/work")
    private.mkdir(mode=0o700)
    return private


def _populate_root(root: str, limits: Limits) -> None:
    for name in TOP_LEVEL_LINKS:
        if os.path.islink("/" + name):
            os.symlink(os.readlink("/" + name), f"{root}/{name}")
    # The writable places first: a Python installation under /tmp is bound on top of them.
    os.makedirs(f"{root}/tmp", mode=0o755)
    mount("tmpfs", f"{root}/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={limits.temp_files_mb}m,mode=1777")
    for folder in ("var/tmp", "dev/shm"):  # the same tmpfs: one budget for temp files
        os.makedirs(f"{root}/tmp/.{folder.replace('/', '-')}", mode=0o1777)
        os.makedirs(f"{root}/{folder}", mode=0o755, exist_ok=True)
        mount(f"{root}/tmp/.{folder.replace('/', '-')}", f"{root}/{folder}", None, MS_BIND)
    for path in visible_paths():
        if os.path.islink(path) and "/" not in path.strip("/"):
            continue  # a top-level link, made above
        target = root + path
        if os.path.isdir(path):
            os.makedirs(target, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
            open(target, "a").close()
        mount(path, target, None, MS_BIND | MS_REC)
        mount("none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.makedirs(f"{root}/proc", mode=0o755, exist_ok=True)
    mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
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
        errno = ctypes.get_errno()
        raise OSError(errno, f"pivot_root: {os.strerror(errno)}")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount /.old")
    os.rmdir("/.old")


def _hide(path: Path) -> None:
    """Cover ``path`` with an empty read-only tmpfs (a folder) or /dev/null (a file)."""
    if path.is_dir():
        mount("tmpfs", str(path), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
    elif path.exists():
        mount("/dev/null", str(path), None, MS_BIND)


# ---------------------------------------------------------------- limits and the uid

def set_rlimits(limits: Limits, confinement: Confinement) -> None:
    mb = 1024 * 1024
    memory = limits.memory_mb - (limits.temp_files_mb if "filesystem" in confinement.layers
                                 else 0)
    for kind, value in [(resource.RLIMIT_AS, memory * mb),
                        (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
                        (resource.RLIMIT_NOFILE, limits.open_files),
                        (resource.RLIMIT_CORE, 0)]:
        resource.setrlimit(kind, (value, value))
    confinement.applied("rlimits")


def drop_privileges(workdir: Path, limits: Limits, confinement: Confinement,
                    grader_uid: int) -> None:
    """End as an unprivileged kernel uid with no capabilities and no way back: the worker's
    own uid where the grader could claim one, else ``nobody``; and a process quota of its own.
    """
    own_user_namespace = confinement.own_user_namespace
    if os.geteuid() == 0 and not own_user_namespace:
        uid = confinement.uid if confinement.uid is not None else NOBODY
        try:
            os.chown(workdir, uid, uid)
            become(uid, confinement)
        except OSError as error:  # uid 0 of a user namespace that maps no other uid
            confinement.lacks("uid", f"cannot become uid {uid} here ({error.strerror})")
    if os.geteuid() == 0 and "namespaces" in confinement.layers:
        # Root inside a user namespace: nest one more, so that the hiding mounts are locked
        # (they cannot be unmounted from the child namespace) and the process count starts
        # from nothing.
        try:
            unshare(CLONE_NEWUSER | CLONE_NEWNS)
            own_user_namespace = True
        except OSError as error:
            confinement.lacks("filesystem", f"mounts not locked ({error.strerror})")
    if confinement.uid_taken:
        confinement.applied("uid")
    elif os.geteuid() == NOBODY:
        confinement.lacks("uid", "no uid of its own was free: workers share nobody's")
    else:
        confinement.lacks("uid", f"the worker runs as the grader's own uid ({grader_uid}): "
                                 "grade as root to give each worker a uid of its own")
    # RLIMIT_NPROC counts per uid and user namespace: alone there, the quota is the worker's.
    alone = "uid" in confinement.layers or own_user_namespace
    processes = limits.processes + (0 if alone else _processes_of(os.getuid()))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _processes_of(uid: int) -> int:
    """How many processes (threads included) ``uid`` runs now: the quota a shared uid starts
    from."""
    count = 0
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count


def _uid_map() -> list[list[str]]:
    try:
        return [line.split() for line in Path("/proc/self/uid_map").read_text().splitlines()]
    except OSError:
        return [["0", "0", "4294967295"]]



def _kernel_uid() -> int:
    """This process's effective uid as the machine's initial namespace sees it."""
    euid = os.geteuid()
    for inside, outside, count in _uid_map():
        if int(inside) <= euid < int(inside) + int(count):
            return int(outside) + euid - int(inside)
    return NOBODY


def cgroup_missing() -> str:
    """Why the worker has no cgroup of its own (rlimits, its own uid and a sized tmpfs bound
    it instead)."""
    own = next((line[3:] for line in _read_lines("/proc/self/cgroup") if line.startswith("0::")),
               None)
    if own is None or not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "no cgroup v2 hierarchy at /sys/fs/cgroup (cgroup v1 or hybrid)"
    folder = Path("/sys/fs/cgroup") / own.lstrip("/")
    if not os.access(folder, os.W_OK):
        return f"the grader's cgroup {own} is not delegated to it"
    return "cgroup limits are not applied by this version"


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


# ---------------------------------------------------------------- what fork leaves behind

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
