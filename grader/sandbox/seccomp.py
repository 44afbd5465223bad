"""Seccomp filters for workers: a small classic-BPF builder and the filters the grader installs.

The filters are hand-written BPF rather than libseccomp: there is then no system library or
Python binding to install on every grading host, and the filters are small and fixed (a few
dozen rules over the syscall number and one argument), which a page of code compiles exactly.

Each program checks the architecture first (a foreign one kills the process: its syscall
numbers mean other calls), then each rule in turn, and allows what no rule matched. Rules only
read the low 32 bits of an argument: every argument tested is a C int, or flags whose bits of
interest are the low 32 and that the kernel truncates to 32 bits (clone).

``python -m grader.sandbox.seccomp FILTER -- COMMAND ARGS...`` runs a command under a filter
(``docker_like``, ``no_user_namespace``, ``old_kernel`` or ``worker``); the tests use it to
simulate hosts.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys
from dataclasses import dataclass

from grader.sandbox import libc

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_DATA = 0x0000FFFF
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_MODE_FILTER = 2
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000

BPF_LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x05 | 0x10            # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x05 | 0x30            # BPF_JMP | BPF_JGE | BPF_K
BPF_JSET_K = 0x05 | 0x40           # BPF_JMP | BPF_JSET | BPF_K
BPF_RET_K = 0x06                   # BPF_RET | BPF_K
BPF_MAXINSNS = 4096

# struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
OFFSET_NR, OFFSET_ARCH, OFFSET_ARGS = 0, 4, 16

AF_UNIX = 1
CLONE_NEWTIME, CLONE_NEWNS, CLONE_NEWCGROUP = 0x00000080, 0x00020000, 0x02000000
CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER = 0x04000000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
# CLONE_NEWTIME shares its bit with clone()'s exit-signal byte, which no valid signal sets.
NAMESPACE_FLAGS = (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
                   | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

# name: (x86_64, aarch64), from arch/x86/entry/syscalls/syscall_64.tbl and the generic table
# (include/uapi/asm-generic/unistd.h, scripts/syscall.tbl) that arm64 uses.
SYSCALLS = {
    "socket": (41, 198), "socketpair": (53, 199), "clone": (56, 220), "kill": (62, 129),
    "ptrace": (101, 117), "rt_sigqueueinfo": (129, 138), "pivot_root": (155, 41),
    "chroot": (161, 51), "acct": (163, 89), "settimeofday": (164, 170), "mount": (165, 40),
    "umount2": (166, 39), "swapon": (167, 224), "swapoff": (168, 225), "reboot": (169, 142),
    "init_module": (175, 105), "delete_module": (176, 106), "quotactl": (179, 60),
    "tkill": (200, 130), "lookup_dcookie": (212, 18), "clock_settime": (227, 112),
    "tgkill": (234, 131), "kexec_load": (246, 104), "add_key": (248, 217),
    "request_key": (249, 218), "keyctl": (250, 219), "unshare": (272, 97),
    "perf_event_open": (298, 241), "fanotify_init": (300, 262),
    "name_to_handle_at": (303, 264), "open_by_handle_at": (304, 265), "setns": (308, 268),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "finit_module": (313, 273), "seccomp": (317, 277), "kexec_file_load": (320, 294),
    "bpf": (321, 280), "userfaultfd": (323, 282), "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426), "io_uring_register": (427, 427), "open_tree": (428, 428),
    "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431),
    "fsmount": (432, 432), "fspick": (433, 433), "clone3": (435, 435),
    "pidfd_getfd": (438, 438), "mount_setattr": (442, 442),
    "landlock_create_ruleset": (444, 444),
}
MACHINES = ("x86_64", "aarch64")  # the column of each in SYSCALLS


def errno_action(number: int) -> int:
    """SECCOMP_RET_ERRNO: the call fails with ``number`` without reaching the kernel."""
    return SECCOMP_RET_ERRNO | (number & SECCOMP_RET_DATA)


EPERM = errno_action(errno.EPERM)
ENOSYS = errno_action(errno.ENOSYS)

TESTS = ("any", "masked", "eq", "ne", "le_zero_int")


@dataclass(frozen=True)
class Rule:
    """``action`` for ``syscall`` when ``test`` holds for the low 32 bits of argument ``arg``
    (``"any"``: whatever the arguments)."""

    syscall: str
    action: int
    arg: int | None = None
    test: str = "any"
    value: int = 0

    def __post_init__(self):
        if self.test not in TESTS or (self.test == "any") != (self.arg is None):
            raise ValueError(f"bad rule {self}: give an argument exactly when testing one")
        if self.arg is not None and not 0 <= self.arg < 6:
            raise ValueError(f"bad rule {self}: system calls have arguments 0 to 5")


WORKER_DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "init_module",
    "finit_module", "delete_module", "kexec_load", "kexec_file_load", "chroot",
    "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "reboot", "acct",
    "settimeofday", "clock_settime", "quotactl", "lookup_dcookie", "fanotify_init",
    "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "pidfd_getfd",
)
# clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes libc fall back
# to clone, whose flags the filter can read.
CLONE_RULES = (Rule("clone", EPERM, 0, "masked", NAMESPACE_FLAGS), Rule("clone3", ENOSYS))
WORKER_RULES = (
    Rule("socket", EPERM, 0, "ne", AF_UNIX),
    Rule("socketpair", EPERM, 0, "ne", AF_UNIX),
    *(Rule(name, EPERM, 0, "le_zero_int")
      for name in ("kill", "rt_sigqueueinfo", "tgkill", "tkill")),
    *(Rule(name, EPERM) for name in WORKER_DENIED),
    *CLONE_RULES,
)
DOCKER_LIKE_RULES = (
    *(Rule(name, EPERM) for name in ("unshare", "setns", "mount", "umount2", "pivot_root")),
    *CLONE_RULES,
)
NO_USER_NAMESPACE_RULES = (
    Rule("unshare", EPERM, 0, "masked", CLONE_NEWUSER),
    Rule("clone", EPERM, 0, "masked", CLONE_NEWUSER),
    Rule("clone3", ENOSYS),
)


def worker_filter() -> bytes:
    """What every worker gets: no network sockets, no signals to process groups, no
    namespaces, mounts, tracing, kernel keyring, BPF, io_uring, modules or clock changes."""
    return compile_filter(WORKER_RULES)


def docker_like_filter() -> bytes:
    """Docker's default profile as seen by root: no namespaces, no mounts."""
    return compile_filter(DOCKER_LIKE_RULES)


def no_user_namespace_filter() -> bytes:
    """A host without user namespaces: CLONE_NEWUSER is refused, other namespaces are not."""
    return compile_filter(NO_USER_NAMESPACE_RULES)


def old_kernel_filter() -> bytes:
    """A host without user namespaces whose kernel predates Landlock (before 5.13)."""
    return compile_filter((*NO_USER_NAMESPACE_RULES, Rule("landlock_create_ruleset", ENOSYS)))


FILTERS = {"docker_like": docker_like_filter, "no_user_namespace": no_user_namespace_filter,
           "old_kernel": old_kernel_filter, "worker": worker_filter}


def compile_filter(rules, machine: str | None = None) -> bytes:
    """The BPF program (an array of struct sock_filter) for ``rules`` on ``machine`` (this
    one by default). The kernel caches the verdict of syscalls the program decides without
    reading arguments, so the one-block-per-rule scan costs nothing for those."""
    machine = _machine(machine)
    column = MACHINES.index(machine)
    program = [_stmt(BPF_LD_W_ABS, OFFSET_ARCH), _jump(BPF_JEQ_K, AUDIT_ARCH[machine], 1, 0),
               _stmt(BPF_RET_K, SECCOMP_RET_KILL_PROCESS)]
    if machine == "x86_64":
        # x32 calls share the x86_64 audit arch but are numbered from X32_SYSCALL_BIT.
        program += [_stmt(BPF_LD_W_ABS, OFFSET_NR), _jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1),
                    _stmt(BPF_RET_K, SECCOMP_RET_KILL_PROCESS)]
    for rule in rules:
        program += _block(rule, SYSCALLS[rule.syscall][column])
    program.append(_stmt(BPF_RET_K, SECCOMP_RET_ALLOW))
    if len(program) > BPF_MAXINSNS:
        raise ValueError(f"{len(program)} instructions: more than BPF_MAXINSNS")
    return b"".join(program)


def _block(rule: Rule, number: int) -> list[bytes]:
    body = [] if rule.arg is None else [_stmt(BPF_LD_W_ABS, OFFSET_ARGS + 8 * rule.arg)]
    body += _test(rule.test, rule.value)
    body.append(_stmt(BPF_RET_K, rule.action))
    return [_stmt(BPF_LD_W_ABS, OFFSET_NR), _jump(BPF_JEQ_K, number, 0, len(body)), *body]


def _test(test: str, value: int) -> list[bytes]:
    """Jumps on the argument's low word in A: when the test holds, land on the rule's action
    (the next instruction after these); otherwise skip it."""
    return {
        "any": [],
        "masked": [_jump(BPF_JSET_K, value, 0, 1)],
        "eq": [_jump(BPF_JEQ_K, value, 0, 1)],
        "ne": [_jump(BPF_JEQ_K, value, 1, 0)],
        # A == 0, or A negative as a 32-bit int
        "le_zero_int": [_jump(BPF_JEQ_K, 0, 1, 0), _jump(BPF_JGE_K, 0x80000000, 0, 1)],
    }[test]


def _stmt(code: int, k: int) -> bytes:
    return _jump(code, k, 0, 0)


def _jump(code: int, k: int, jt: int, jf: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)  # struct sock_filter


def _machine(machine: str | None) -> str:
    machine = machine or platform.machine()
    machine = {"arm64": "aarch64"}.get(machine, machine)
    if machine not in MACHINES or ctypes.sizeof(ctypes.c_void_p) != 8:
        raise OSError(errno.ENOSYS, f"seccomp filters are not built for {machine}")
    return machine


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_libc, _syscall = libc.libc, libc.syscall


def install(program: bytes, *, no_new_privs: bool = True) -> None:
    """Filter every later system call of this thread and its future children with
    ``program``. Without ``no_new_privs`` the caller needs CAP_SYS_ADMIN."""
    if no_new_privs:
        _prctl(PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")
    instructions = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(instructions))
    number = SYSCALLS["seccomp"][MACHINES.index(_machine(None))]
    if _syscall(ctypes.c_long(number), ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                ctypes.c_long(0), ctypes.byref(fprog)) == 0:
        return
    if ctypes.get_errno() != errno.ENOSYS:
        _raise("seccomp(SECCOMP_SET_MODE_FILTER)")
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, "prctl(PR_SET_SECCOMP)", ctypes.byref(fprog))


def _prctl(option: int, value: int, what: str, pointer=None) -> None:
    third = pointer if pointer is not None else ctypes.c_ulong(0)
    if _libc.prctl(option, ctypes.c_ulong(value), third, ctypes.c_ulong(0),
                   ctypes.c_ulong(0)) != 0:
        _raise(what)


def _raise(what: str):
    number = ctypes.get_errno()
    raise OSError(number, f"{what}: {os.strerror(number)}")


def main(argv: list[str] | None = None) -> int:
    """``FILTER -- COMMAND ARGS...``: install FILTER (without no_new_privs when allowed, as
    a container runtime would) and exec COMMAND."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[0] not in FILTERS or args[1] != "--":
        print(f"usage: python -m grader.sandbox.seccomp {{{','.join(FILTERS)}}} -- COMMAND "
              "[ARGS...]", file=sys.stderr)
        return 2
    program = FILTERS[args[0]]()
    try:
        install(program, no_new_privs=False)
    except PermissionError:
        install(program)
    try:
        os.execvp(args[2], args[2:])
    except OSError as error:
        print(f"{args[2]}: {error.strerror}", file=sys.stderr)
    return 127


if __name__ == "__main__":
    sys.exit(main())
