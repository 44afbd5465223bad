"""A kernel uid of its own for each concurrent worker, when the grader may change uids.

One uid per worker means that one submission's processes never count against another's
process quota (``RLIMIT_NPROC`` counts per real uid), that no worker can signal or read
another's processes or files, and that everything a submission started can be found and
killed by its uid. A uid is claimed by holding a lock file for as long as its supervisor
lives; a claim first kills whatever a previous holder left behind.
"""

from __future__ import annotations

import errno
import os
import signal
import tempfile

try:
    import fcntl
except ImportError:  # not a POSIX system: no sandbox there, but the student's side imports
    fcntl = None
from pathlib import Path

POOL = 4096  # concurrent workers on one machine, across every grader
FULL_RANGE_BASE = 2_000_000_000  # far above any real user's uid
NOBODY = 65534


def mapped_ranges() -> list[tuple[int, int]]:
    """The uids this process may become: ``(first, count)`` per line of its uid map."""
    try:
        lines = Path("/proc/self/uid_map").read_text().splitlines()
    except OSError:
        return [(0, 1 << 32)]
    return [(int(inside), int(count)) for inside, _, count in (line.split() for line in lines)]


def candidates() -> range:
    """Where to take worker uids from: high in the full range on a host, or the top of the
    largest range mapped into this user namespace (a rootless container)."""
    first, count = max(mapped_ranges(), key=lambda r: r[1])
    if count >= FULL_RANGE_BASE + POOL:
        return range(FULL_RANGE_BASE, FULL_RANGE_BASE + POOL)
    top = first + count - 1
    low = max(first + 1, top - POOL)
    return range(low, top) if top - low >= 8 else range(0)


def lock_folder() -> Path:
    """A folder only the grading user can write: under /run when possible."""
    for base in ("/run", tempfile.gettempdir()):
        path = Path(base) / f"dlgrade-uids-{os.getuid()}"
        try:
            path.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        info = path.stat()
        if info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return path
    raise OSError(errno.EACCES, "no private folder for uid locks")


def claim() -> tuple[int, int]:
    """A free uid and the lock file descriptor that holds it (kept open by the caller).

    Raises OSError when this process cannot change uids or no uid is free."""
    if os.geteuid() != 0:
        raise OSError(errno.EPERM, "the grader is not root: workers keep its uid")
    pool = candidates()
    if not pool:
        mapped = sum(count for _, count in mapped_ranges())
        raise OSError(errno.EINVAL, f"this user namespace maps {mapped} uid(s): map a range "
                                    f"for workers (/etc/subuid, podman --userns=auto)")
    folder = lock_folder()
    for uid in pool:
        fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            kill_all(uid)  # a previous holder may have been killed before it cleaned up
        except OSError:
            os.close(fd)
            raise
        return uid, fd
    raise OSError(errno.EAGAIN, f"all {len(pool)} worker uids are in use")


def kill_all(uid: int) -> None:
    """SIGKILL every process of ``uid``: a child that becomes ``uid`` signals -1, which
    reaches exactly the processes of that uid (and never the caller)."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(errno.EINVAL, f"uid {uid} cannot be used here")
