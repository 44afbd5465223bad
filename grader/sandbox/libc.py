"""The C library, as the sandbox's layers call it (``unshare``, ``mount``, ``prctl``,
``syscall``). None where there is none to load this way (not POSIX: Windows has no
``CDLL(None)``): there is no sandbox there, but the student's side still imports."""

from __future__ import annotations

import ctypes

try:
    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
except (OSError, TypeError, AttributeError):
    libc = syscall = None
