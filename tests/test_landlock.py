"""Landlock confines a worker: it reads only what it is given, writes only its own folder, and
cannot reach TCP, signal the grader or connect to the grader's abstract sockets.

Every restriction happens in a forked child or a subprocess, never in the pytest process.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from children import CHILD_TIMEOUT, in_child, outcome

from grader.sandbox import landlock, seccomp

ABI = landlock.abi()
pytestmark = pytest.mark.skipif(ABI < 1, reason="Landlock is not available on this kernel")










def read_text(path) -> str:
    with open(path) as file:
        return file.read()


def write_text(path, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


@pytest.fixture
def folders(tmp_path):
    """A (readable), B (writable) and C (neither), each holding a file."""
    paths = {name: tmp_path / name for name in "ABC"}
    for name, folder in paths.items():
        folder.mkdir()
        (folder / "notes.txt").write_text(f"notes of {name}")
    return paths


def test_child_reads_its_read_folder_and_writes_its_write_folder(folders):
    a, b = folders["A"], folders["B"]

    def check():
        applied = landlock.restrict([str(a), "/no/such/folder"], [str(b)])
        write_text(b / "answer.txt", "42")
        os.mkdir(b / "sub")
        os.rename(b / "notes.txt", b / "sub" / "moved.txt")
        return {"applied": applied, "read": read_text(a / "notes.txt"),
                "listed": sorted(os.listdir(a))}

    result = in_child(check)
    assert result["read"] == "notes of A" and result["listed"] == ["notes.txt"]
    assert (b / "answer.txt").read_text() == "42"
    assert (b / "sub" / "moved.txt").read_text() == "notes of B"
    assert result["applied"][0] == "filesystem"


def test_child_cannot_read_outside_its_folders(folders):
    outside = next(p for p in ("/etc/hostname", "/etc/passwd") if os.path.exists(p))

    def check():
        landlock.restrict([str(folders["A"])], [str(folders["B"])])
        return {"other folder": outcome(read_text, folders["C"] / "notes.txt"),
                "other listing": outcome(os.listdir, folders["C"]),
                "system file": outcome(read_text, outside),
                "root listing": outcome(os.listdir, "/")}

    assert in_child(check) == {"other folder": "EACCES", "other listing": "EACCES",
                               "system file": "EACCES", "root listing": "EACCES"}


def test_child_cannot_change_its_read_folder(folders):
    a, b = folders["A"], folders["B"]

    def check():
        landlock.restrict([str(a)], [str(b)])
        return {"overwrite": outcome(write_text, a / "notes.txt", "changed"),
                "create": outcome(write_text, a / "new.txt", "new"),
                "delete": outcome(os.unlink, a / "notes.txt"),
                "move out": outcome(os.rename, a / "notes.txt", b / "stolen.txt")}

    assert in_child(check) == {"overwrite": "EACCES", "create": "EACCES", "delete": "EACCES",
                               "move out": "EACCES"}
    assert sorted(os.listdir(a)) == ["notes.txt"]
    assert (a / "notes.txt").read_text() == "notes of A"


def test_a_file_in_the_read_list_opens_only_that_file(folders):
    a = folders["A"]
    (a / "other.txt").write_text("other")

    def check():
        landlock.restrict([str(a / "notes.txt")], [])
        return {"file": outcome(read_text, a / "notes.txt"),
                "sibling": outcome(read_text, a / "other.txt"),
                "listing": outcome(os.listdir, a)}

    assert in_child(check) == {"file": "ok", "sibling": "EACCES", "listing": "EACCES"}


@pytest.mark.skipif(ABI < 6, reason="signal scoping needs Landlock ABI 6")
def test_child_cannot_signal_the_grader_but_can_signal_its_own_children(folders):
    def check():
        before = outcome(os.kill, os.getppid(), 0)
        landlock.restrict([], [str(folders["B"])])
        grandchild = os.fork()
        if grandchild == 0:
            time.sleep(CHILD_TIMEOUT)
            os._exit(0)
        own = outcome(os.kill, grandchild, signal.SIGTERM)
        _, status = os.waitpid(grandchild, 0)
        return {"before": before, "parent": outcome(os.kill, os.getppid(), 0), "own": own,
                "own died of": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}

    assert in_child(check) == {"before": "ok", "parent": "EPERM", "own": "ok",
                               "own died of": signal.SIGTERM}


@pytest.mark.skipif(ABI < 4, reason="TCP rules need Landlock ABI 4")
def test_child_cannot_connect_to_or_bind_tcp(folders):
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = server.getsockname()

        def check():
            before = outcome(socket.create_connection, address, 5)
            landlock.restrict([], [str(folders["B"])])
            with socket.socket() as listener:
                bind = outcome(listener.bind, ("127.0.0.1", 0))
            return {"before": before, "connect": outcome(socket.create_connection, address, 5),
                    "bind": bind}

        assert in_child(check) == {"before": "ok", "connect": "EACCES", "bind": "EACCES"}


@pytest.mark.skipif(ABI < 6, reason="abstract socket scoping needs Landlock ABI 6")
def test_child_cannot_connect_to_the_graders_abstract_socket(folders):
    name = f"\0dlgrade-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(name)
        server.listen()

        def connect():
            with socket.socket(socket.AF_UNIX) as client:
                client.connect(name)

        def check():
            before = outcome(connect)
            landlock.restrict([], [str(folders["B"])])
            return {"before": before, "after": outcome(connect)}

        assert in_child(check) == {"before": "ok", "after": "EPERM"}


def test_scope_false_leaves_signals_alone(folders):
    def check():
        applied = landlock.restrict([], [str(folders["B"])], scope=False)
        return {"applied": applied, "parent": outcome(os.kill, os.getppid(), 0)}

    result = in_child(check)
    assert result["parent"] == "ok"
    assert "signals" not in result["applied"]


@pytest.mark.parametrize("version", range(1, 8))
def test_every_abi_up_to_the_kernels_is_accepted(folders, version):
    """What an older kernel gets: fewer rights and fields, the same folder boundary."""
    if version > ABI:
        pytest.skip(f"the kernel has Landlock ABI {ABI}")
    expected = ["filesystem", "tcp", "signals", "abstract sockets"]
    expected = expected[:1] if version < 4 else expected[:2] if version < 6 else expected

    def check():
        landlock._version = lambda: version  # the forked child only
        applied = landlock.restrict([str(folders["A"])], [str(folders["B"])])
        return {"applied": applied, "read A": outcome(read_text, folders["A"] / "notes.txt"),
                "read C": outcome(read_text, folders["C"] / "notes.txt"),
                "write B": outcome(write_text, folders["B"] / "notes.txt", "new")}

    assert in_child(check) == {"applied": expected, "read A": "ok", "read C": "EACCES",
                               "write B": "ok"}


def test_landlock_refused_by_seccomp_reads_as_unavailable(folders):
    """As under a container profile that predates Landlock: abi() is 0, restrict() raises."""
    refuse = seccomp.compile_filter([seccomp.Rule("landlock_create_ruleset", seccomp.EPERM)])

    def check():
        seccomp.install(refuse)
        try:
            landlock.restrict([], [str(folders["B"])])
        except OSError as error:
            return {"abi": landlock.abi(), "errno": errno.errorcode[error.errno],
                    "message": str(error)}
        return {"abi": landlock.abi(), "errno": None}

    result = in_child(check)
    assert result["abi"] == 0 and result["errno"] == "EPERM"
    assert "landlock_create_ruleset" in result["message"]


def test_numpy_imports_in_a_restricted_interpreter(tmp_path):
    script = """
import site, sys
from grader.sandbox import landlock
python = [sys.prefix, sys.base_prefix, *site.getsitepackages()]
landlock.restrict([*python, "/usr", "/lib", "/lib64", "/etc"], [])
import numpy
print(numpy.linalg.solve(numpy.eye(3) * 2, numpy.ones(3)).tolist())
try:
    open(sys.argv[1], "w")
except PermissionError:
    print("tmp refused")
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "x.txt")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[0.5, 0.5, 0.5]", "tmp refused"]
