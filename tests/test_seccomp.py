"""Seccomp filters: a worker keeps fork, threads, unix sockets and numpy, and loses network
sockets, signals to process groups, namespaces and the kernel's dangerous interfaces; the
Docker-like and no-user-namespace filters simulate those hosts for the sandbox's tests.

Every filter is installed in a forked child or a subprocess, never in the pytest process.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from children import CHILD_TIMEOUT, fork_child, in_child, outcome

from grader.sandbox import seccomp

MACHINE = {"arm64": "aarch64"}.get(platform.machine(), platform.machine())
pytestmark = pytest.mark.skipif(MACHINE not in seccomp.MACHINES,
                                reason=f"no seccomp filters for {MACHINE}")
LAUNCHER = [sys.executable, "-m", "grader.sandbox.seccomp"]
SIGCHLD = 17

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long












def syscall(name: str, *args: int) -> int:
    """The raw system call; OSError on failure."""
    number = seccomp.SYSCALLS[name][seccomp.MACHINES.index(MACHINE)]
    result = _syscall(ctypes.c_long(number), *(ctypes.c_long(arg) for arg in args))
    if result < 0:
        raise OSError(ctypes.get_errno(), name)
    return result


def clone(flags: int) -> None:
    """clone() as fork does it, with ``flags``; a child that gets through exits at once."""
    if syscall("clone", flags | SIGCHLD, 0, 0, 0, 0) == 0:
        os._exit(0)
    os.wait()


def unshare(flags: int) -> None:
    syscall("unshare", flags)


def install_as_root_would(program: bytes) -> None:
    """Like a container runtime: without no_new_privs when privileged enough."""
    try:
        seccomp.install(program, no_new_privs=False)
    except PermissionError:
        seccomp.install(program)


def open_socket(family: int, kind: int) -> None:
    socket.socket(family, kind).close()


def fork_exit_code() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def thread_ran() -> bool:
    ran = []
    thread = threading.Thread(target=ran.append, args=(True,))
    thread.start()
    thread.join()
    return ran == [True]


def test_worker_keeps_fork_threads_unix_sockets_and_signals_to_its_children():
    def check():
        seccomp.install(seccomp.worker_filter())
        left, right = socket.socketpair()
        left.sendall(b"ping")
        sleeper = os.fork()
        if sleeper == 0:
            time.sleep(CHILD_TIMEOUT)
            os._exit(0)
        killed = outcome(os.kill, sleeper, signal.SIGTERM)
        _, status = os.waitpid(sleeper, 0)
        return {"socketpair": right.recv(4).decode(),
                "unix socket": outcome(open_socket, socket.AF_UNIX, socket.SOCK_STREAM),
                "fork": fork_exit_code(), "thread": thread_ran(), "kill child": killed,
                "child died of": os.WTERMSIG(status),
                "signal self": outcome(os.kill, os.getpid(), 0)}

    assert in_child(check) == {"socketpair": "ping", "unix socket": "ok", "fork": 7,
                               "thread": True, "kill child": "ok",
                               "child died of": signal.SIGTERM, "signal self": "ok"}


def test_worker_cannot_open_network_sockets():
    families = {"AF_INET": (socket.AF_INET, socket.SOCK_STREAM),
                "AF_INET6": (socket.AF_INET6, socket.SOCK_STREAM),
                "AF_NETLINK": (socket.AF_NETLINK, socket.SOCK_RAW),
                "AF_PACKET": (socket.AF_PACKET, socket.SOCK_RAW)}

    def check():
        seccomp.install(seccomp.worker_filter())
        return {name: outcome(open_socket, *kind) for name, kind in families.items()}

    assert in_child(check) == dict.fromkeys(families, "EPERM")


def test_worker_cannot_signal_process_groups_or_everyone():
    def check():
        seccomp.install(seccomp.worker_filter())
        return {"kill(-1)": outcome(os.kill, -1, 0), "kill(0)": outcome(os.kill, 0, 0),
                "killpg": outcome(os.killpg, os.getpgid(0), 0),
                "tgkill(0)": outcome(syscall, "tgkill", 0, os.getpid(), 0),
                "tkill(-1)": outcome(syscall, "tkill", -1, 0),
                "rt_sigqueueinfo(0)": outcome(syscall, "rt_sigqueueinfo", 0, 0, 0)}

    refused = in_child(check)
    assert refused == dict.fromkeys(refused, "EPERM")


def test_worker_cannot_make_namespaces():
    def check():
        seccomp.install(seccomp.worker_filter())
        return {"unshare user": outcome(unshare, seccomp.CLONE_NEWUSER),
                "unshare mount": outcome(unshare, seccomp.CLONE_NEWNS),
                "clone user": outcome(clone, seccomp.CLONE_NEWUSER),
                "clone net": outcome(clone, seccomp.CLONE_NEWNET),
                "clone3": outcome(syscall, "clone3", 0, 0),
                "setns": outcome(syscall, "setns", -1, 0)}

    assert in_child(check) == {"unshare user": "EPERM", "unshare mount": "EPERM",
                               "clone user": "EPERM", "clone net": "EPERM",
                               "clone3": "ENOSYS", "setns": "EPERM"}


def test_worker_refuses_tracing_mounts_bpf_io_uring_and_the_rest():
    """Each refused call, with arguments the kernel would reject anyway should it get them."""
    def check():
        seccomp.install(seccomp.worker_filter())
        return {name: outcome(syscall, name, *((0, -1) if name == "kexec_load" else (-1,)))
                for name in seccomp.WORKER_DENIED}

    assert in_child(check) == dict.fromkeys(seccomp.WORKER_DENIED, "EPERM")


@pytest.mark.skipif(MACHINE != "x86_64", reason="x32 is an x86_64 ABI")
def test_an_x32_system_call_kills_the_worker():
    def check():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        seccomp.install(seccomp.worker_filter())
        _syscall(ctypes.c_long(seccomp.X32_SYSCALL_BIT | 39))  # x32 getpid
        return "survived"

    status, reply = fork_child(check)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS, reply


def test_numpy_runs_under_the_worker_filter():
    script = ("import threading, numpy\n"
              "thread = threading.Thread(target=print, args=('thread',)); thread.start()\n"
              "thread.join()\n"
              "print(numpy.linalg.inv(numpy.eye(2) * 4).tolist())\n")
    done = subprocess.run([*LAUNCHER, "worker", "--", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["thread", "[[0.25, 0.0], [0.0, 0.25]]"]


def test_docker_like_refuses_namespaces_and_mounts_but_not_fork_or_network():
    def check():
        install_as_root_would(seccomp.docker_like_filter())
        return {"unshare -r": outcome(unshare, seccomp.CLONE_NEWUSER | seccomp.CLONE_NEWNS),
                "unshare -m": outcome(unshare, seccomp.CLONE_NEWNS),
                "clone user": outcome(clone, seccomp.CLONE_NEWUSER),
                "mount": outcome(syscall, "mount", -1, -1, 0, 0, 0),
                "fork": fork_exit_code(), "thread": thread_ran(),
                "tcp socket": outcome(open_socket, socket.AF_INET, socket.SOCK_STREAM)}

    assert in_child(check) == {"unshare -r": "EPERM", "unshare -m": "EPERM",
                               "clone user": "EPERM", "mount": "EPERM", "fork": 7,
                               "thread": True, "tcp socket": "ok"}


def test_no_user_namespace_refuses_only_user_namespaces():
    def uts():
        return outcome(unshare, seccomp.CLONE_NEWUTS)

    def check():
        install_as_root_would(seccomp.no_user_namespace_filter())
        return {"unshare user": outcome(unshare, seccomp.CLONE_NEWUSER),
                "clone user": outcome(clone, seccomp.CLONE_NEWUSER),
                "clone3": outcome(syscall, "clone3", 0, 0), "fork": fork_exit_code(),
                "unshare uts": uts()}

    assert in_child(check) == {"unshare user": "EPERM", "clone user": "EPERM",
                               "clone3": "ENOSYS", "fork": 7, "unshare uts": in_child(uts)}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CAP_SYS_ADMIN)")
def test_root_may_install_without_no_new_privs():
    def check():
        seccomp.install(seccomp.docker_like_filter(), no_new_privs=False)
        with open("/proc/self/status") as file:
            status = dict(line.split(":\t", 1) for line in file.read().splitlines())
        return {key: status[key].strip() for key in ("NoNewPrivs", "Seccomp")}

    assert in_child(check) == {"NoNewPrivs": "0", "Seccomp": "2"}


@pytest.mark.skipif(shutil.which("unshare") is None, reason="no unshare command")
@pytest.mark.parametrize("name", ["docker_like", "no_user_namespace"])
def test_launcher_runs_commands_under_a_filter(name):
    refused = subprocess.run([*LAUNCHER, name, "--", "unshare", "-U", "true"],
                             capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    allowed = subprocess.run([*LAUNCHER, name, "--", "true"],
                             capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr


def test_launcher_rejects_an_unknown_filter():
    done = subprocess.run([*LAUNCHER, "nothing", "--", "true"], capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT)
    assert done.returncode == 2 and "usage" in done.stderr


def test_filters_build_for_both_machines_and_refuse_others():
    for machine, audit in (("x86_64", 0xC000003E), ("aarch64", 0xC00000B7)):
        for rules in (seccomp.WORKER_RULES, seccomp.DOCKER_LIKE_RULES,
                      seccomp.NO_USER_NAMESPACE_RULES):
            program = seccomp.compile_filter(rules, machine)
            assert len(program) % 8 == 0 and audit.to_bytes(4, "little") in program[:16]
    with pytest.raises(OSError) as refused:
        seccomp.compile_filter(seccomp.WORKER_RULES, "riscv64")
    assert refused.value.errno == errno.ENOSYS


def test_a_rule_must_name_an_argument_exactly_when_it_tests_one():
    with pytest.raises(ValueError):
        seccomp.Rule("kill", seccomp.EPERM, test="le_zero_int")
    with pytest.raises(ValueError):
        seccomp.Rule("ptrace", seccomp.EPERM, arg=0)
