"""Landlock for a worker: read-only and writable folders, no TCP, no signals or abstract sockets
reaching outside the sandbox.

Landlock is the kernel's unprivileged access control: it works where namespaces and mounts are
refused (no user namespaces, a container without CAP_SYS_ADMIN), so a worker keeps a
filesystem and network boundary even when the other layers degrade. It is driven here through
the raw system calls (glibc has no wrappers), with the structure layouts and constants of the
kernel's UAPI header ``include/uapi/linux/landlock.h``.

The restriction applies to the calling thread and everything it later starts: call
``restrict`` before starting threads.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat

from grader.sandbox import libc

# landlock_create_ruleset, landlock_add_rule, landlock_restrict_self
SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}

LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
LANDLOCK_RULE_PATH_BENEATH = 1

LANDLOCK_ACCESS_FS_EXECUTE = 1 << 0
LANDLOCK_ACCESS_FS_WRITE_FILE = 1 << 1
LANDLOCK_ACCESS_FS_READ_FILE = 1 << 2
LANDLOCK_ACCESS_FS_READ_DIR = 1 << 3
LANDLOCK_ACCESS_FS_REMOVE_DIR = 1 << 4
LANDLOCK_ACCESS_FS_REMOVE_FILE = 1 << 5
LANDLOCK_ACCESS_FS_MAKE_CHAR = 1 << 6
LANDLOCK_ACCESS_FS_MAKE_DIR = 1 << 7
LANDLOCK_ACCESS_FS_MAKE_REG = 1 << 8
LANDLOCK_ACCESS_FS_MAKE_SOCK = 1 << 9
LANDLOCK_ACCESS_FS_MAKE_FIFO = 1 << 10
LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1 << 11
LANDLOCK_ACCESS_FS_MAKE_SYM = 1 << 12
LANDLOCK_ACCESS_FS_REFER = 1 << 13       # ABI 2
LANDLOCK_ACCESS_FS_TRUNCATE = 1 << 14    # ABI 3
LANDLOCK_ACCESS_FS_IOCTL_DEV = 1 << 15   # ABI 5

LANDLOCK_ACCESS_NET_BIND_TCP = 1 << 0     # ABI 4
LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1  # ABI 4

LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
LANDLOCK_SCOPE_SIGNAL = 1 << 1                # ABI 6

PR_SET_NO_NEW_PRIVS = 38

ACCESS_FS_V1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
ACCESS_FS_SINCE = {2: LANDLOCK_ACCESS_FS_REFER, 3: LANDLOCK_ACCESS_FS_TRUNCATE,
                   5: LANDLOCK_ACCESS_FS_IOCTL_DEV}
# Landlock refuses directory rights in a rule whose path is not a directory.
ACCESS_FILE = (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE
               | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE
               | LANDLOCK_ACCESS_FS_IOCTL_DEV)
ACCESS_READ = (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR
               | LANDLOCK_ACCESS_FS_EXECUTE)

_libc, _syscall = libc.libc, libc.syscall


class RulesetAttr(ctypes.Structure):
    """struct landlock_ruleset_attr (the kernel reads only the fields the size passed covers)."""

    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    """struct landlock_path_beneath_attr, packed: 12 bytes."""

    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


assert ctypes.sizeof(RulesetAttr) == 24 and ctypes.sizeof(PathBeneathAttr) == 12


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing, disabled or filtered."""
    try:
        return _version()
    except OSError as error:
        if error.errno in (errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
            return 0
        raise


def restrict(read: list[str], write: list[str], *, scope: bool = True) -> list[str]:
    """Confine this thread and its future children: read (and execute) ``read``, do anything
    in ``write``, nothing elsewhere; no TCP bind or connect (ABI 4); with ``scope``, no signal
    or abstract unix socket reaching a process outside the sandbox (ABI 6).

    Paths that do not exist are skipped. Returns what was applied, e.g. ``["filesystem",
    "tcp", "signals", "abstract sockets"]``. Raises OSError when Landlock is unavailable or
    refuses the ruleset.
    """
    version = _version()
    attr, size = _ruleset_attr(version, scope)
    ruleset_fd = _call(0, "landlock_create_ruleset", ctypes.byref(attr), size, 0)
    try:
        for path in read:
            _allow(ruleset_fd, path, ACCESS_READ & attr.handled_access_fs)
        for path in write:
            _allow(ruleset_fd, path, attr.handled_access_fs)
        _prctl_no_new_privs()
        _call(2, "landlock_restrict_self", ruleset_fd, 0)
    finally:
        os.close(ruleset_fd)
    return _applied(attr)


def _version() -> int:
    return _call(0, "landlock_create_ruleset", None, 0, LANDLOCK_CREATE_RULESET_VERSION)


def _ruleset_attr(version: int, scope: bool) -> tuple[RulesetAttr, int]:
    """Handle every right this ABI knows; the size tells the kernel which fields we fill."""
    attr = RulesetAttr(handled_access_fs=ACCESS_FS_V1)
    for since, right in ACCESS_FS_SINCE.items():
        if version >= since:
            attr.handled_access_fs |= right
    if version < 4:
        return attr, 8
    # Handled with no rule allowing any port: every TCP bind and connect is refused.
    attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP
    if version < 6:
        return attr, 16
    if scope:
        attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL
    return attr, 24


def _allow(ruleset_fd: int, path: str, access: int) -> None:
    """Add a rule granting ``access`` beneath ``path``; a path that does not exist is skipped."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            access &= ACCESS_FILE
        rule = PathBeneathAttr(allowed_access=access, parent_fd=fd)
        _call(1, f"landlock_add_rule {path}", ruleset_fd, LANDLOCK_RULE_PATH_BENEATH,
              ctypes.byref(rule), 0)
    finally:
        os.close(fd)


def _prctl_no_new_privs() -> None:
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0),
                   ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(number)}")


def _applied(attr: RulesetAttr) -> list[str]:
    names = ["filesystem"]
    if attr.handled_access_net:
        names.append("tcp")
    if attr.scoped & LANDLOCK_SCOPE_SIGNAL:
        names.append("signals")
    if attr.scoped & LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET:
        names.append("abstract sockets")
    return names


def _call(which: int, what: str, *args) -> int:
    """Landlock system call ``which`` (0 create, 1 add rule, 2 restrict); OSError on failure."""
    numbers = SYSCALLS.get(platform.machine())
    if numbers is None or ctypes.sizeof(ctypes.c_void_p) != 8:
        raise OSError(errno.ENOSYS, f"{what}: Landlock not supported on {platform.machine()}")
    result = _syscall(ctypes.c_long(numbers[which]), *(_c(arg) for arg in args))
    if result < 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")
    return result


def _c(arg):
    """Pass integers as full-width longs: syscall(2) reads every argument as a long."""
    return ctypes.c_long(arg) if isinstance(arg, int) else arg
