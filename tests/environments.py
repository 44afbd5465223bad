"""Where graders really run, simulated on an ordinary Linux machine (as root).

Each environment is a way to start the real ``dlgrade`` command: Docker's default profile as
root (a seccomp filter refusing namespaces and mounts, and every capability Docker does not
grant dropped), a non-root user with and without user namespaces, uid 0 of a user namespace,
a host whose kernel has neither user namespaces nor Landlock, and root on the host itself. The
command comes from a virtual environment under /tmp made from the system's Python, installed
as a TA installs it (a copy, not this checkout).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = "/usr/bin/python3"
TA_USER = "dlgrade-ta"
ROOTLESS_OWNER = "uid 100000"  # the host uid that root of the rootless container is
# Docker's default capabilities (moby's oci/caps/defaults.go); every other one is dropped.
DOCKER_CAPABILITIES = {"chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid",
                       "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill",
                       "audit_write"}


@dataclass(frozen=True)
class Environment:
    name: str
    user: str | None          # run as this user (None: root)
    prefix: tuple[str, ...]   # what the command is started under ({python} is the venv's)
    level: str                # the level the sandbox must reach there
    layers: frozenset         # layers it must report
    missing: frozenset        # layers it must report missing

    def command(self, venv: Path, *args: str, program: str = "dlgrade") -> list[str]:
        python = str(venv / "bin" / "python")
        prefix = [part.replace("{python}", python) for part in self.prefix]
        return [*prefix, str(venv / "bin" / program), *args]


def _seccomp(filter_name: str) -> tuple[str, ...]:
    return ("{python}", "-W", "ignore::RuntimeWarning", "-m", "grader.sandbox.seccomp",
            filter_name, "--")


def _docker_capabilities_dropped() -> tuple[str, ...]:
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    names = subprocess.run(["capsh", f"--decode={(1 << (last + 1)) - 1:x}"], capture_output=True,
                           text=True, check=True).stdout.split("=", 1)[1].strip().split(",")
    drop = ",".join(name for name in names if name.removeprefix("cap_") not in
                    DOCKER_CAPABILITIES)
    return ("capsh", f"--drop={drop}", "--", "-c", 'exec "$0" "$@"')


def environments() -> list[Environment]:
    every = frozenset({"namespaces", "filesystem", "landlock", "seccomp", "uid", "rlimits"})
    return [
        Environment("root on the host", None, (), "full", every, frozenset()),
        Environment("Docker's default profile as root", None,
                    (*_seccomp("docker_like"), *_docker_capabilities_dropped()), "contained",
                    frozenset({"landlock", "landlock-scope", "seccomp", "uid", "rlimits"}),
                    frozenset({"namespaces", "filesystem"})),
        Environment("a non-root user with user namespaces", TA_USER, (), "contained",
                    frozenset({"namespaces", "filesystem", "landlock", "seccomp", "rlimits"}),
                    frozenset({"uid"})),
        Environment("a non-root user without user namespaces", TA_USER,
                    _seccomp("no_user_namespace"), "contained",
                    frozenset({"landlock", "landlock-scope", "seccomp", "rlimits"}),
                    frozenset({"namespaces", "filesystem", "uid"})),
        Environment("uid 0 in a user namespace", None, ("unshare", "-Ur", "--"), "contained",
                    frozenset({"namespaces", "filesystem", "landlock", "seccomp", "rlimits"}),
                    frozenset({"uid"})),
        Environment("root of a rootless container", ROOTLESS_OWNER,
                    (sys.executable, str(PROJECT / "tests" / "rootless_container.py")), "full",
                    every, frozenset()),
        Environment("a non-root user on a kernel without Landlock or user namespaces", TA_USER,
                    _seccomp("old_kernel"), "unconfined", frozenset({"seccomp", "rlimits"}),
                    frozenset({"namespaces", "filesystem", "landlock", "uid"})),
    ]


def source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([PROJECT / "pyproject.toml", *PROJECT.glob("grader/**/*"),
                        *PROJECT.glob("dlgrade/**/*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PROJECT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def grading_venv() -> Path:
    """A virtual environment under /tmp, from the system's Python, with this project installed
    as a TA installs it: its wheel (a copy, not this checkout) with the grading and Otter
    extras; made once per version of the source."""
    return fresh_venv("grading", "dlgrade[grade,otter]", find_links=wheelhouse())


def wheelhouse() -> Path:
    """A folder under /tmp holding this project's wheel, built once per version of the source
    (for ``fresh_venv``'s ``find_links``)."""
    folder = Path(tempfile.gettempdir()) / f"dlgrade-wheels-{source_digest()}"
    with _locked(folder):
        if any(folder.glob("dlgrade-*.whl")):
            return folder
        with tempfile.TemporaryDirectory(prefix="dlgrade-src-") as scratch:
            # What building needs, and nothing of the course around it (its assignments and
            # solutions are no kit test's to read).
            source = Path(scratch) / "dlgrade"
            for name in ("grader", "dlgrade"):
                shutil.copytree(PROJECT / name, source / name,
                                ignore=shutil.ignore_patterns("__pycache__"))
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(PROJECT / name, source / name)
            built = Path(scratch) / "wheels"  # moved into place whole: never half a wheel
            done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                                   "--disable-pip-version-check", "--wheel-dir", str(built),
                                   str(source)], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.fail(f"building the project's wheel failed:\n{done.stderr[-3000:]}")
            folder.mkdir(exist_ok=True)
            for wheel in built.glob("*.whl"):
                shutil.move(wheel, folder / wheel.name)
    return folder


def fresh_venv(name: str, *requirements: str, find_links: Path | None = None) -> Path:
    """A virtual environment under /tmp, from the system's Python, with ``requirements``
    installed from the package index (and ``find_links``, e.g. ``wheelhouse()``); made once per
    name, requirements and version of the source."""
    _need(SYSTEM_PYTHON, os.access(SYSTEM_PYTHON, os.X_OK))
    key = "\0".join([name, *requirements, str(find_links or ""), source_digest()])
    venv = (Path(tempfile.gettempdir()) /
            f"dlgrade-venv-{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}")
    with _locked(venv):
        if (venv / "ready").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # an unfinished one
        made = subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], capture_output=True,
                              text=True)
        _need("python3-venv", made.returncode == 0)
        links = ["--find-links", str(find_links)] if find_links else []
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                               "--disable-pip-version-check", *links, *requirements],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"installing {' '.join(requirements)} into a venv failed:\n"
                        f"{done.stderr[-3000:]}")
        os.chmod(venv, 0o755)  # the environments' other users run its commands
        (venv / "ready").write_text("")
    return venv


def _need(package: str, present: bool) -> None:
    """Skip without a system package the tests use; fail in CI, which installs them."""
    if not present:
        missing = f"{package} is not installed (tests/system-packages.txt)"
        pytest.fail(missing) if os.environ.get("CI") else pytest.skip(missing)


@contextmanager
def _locked(path: Path):
    """Hold ``path``'s lock: one test process at a time makes it (pytest-xdist's workers
    share /tmp)."""
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ta_user() -> pwd.struct_passwd:
    """An ordinary user to grade as (made once)."""
    try:
        return pwd.getpwnam(TA_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        TA_USER], check=True)
        return pwd.getpwnam(TA_USER)


def run(environment: Environment, venv: Path, args: list[str], cwd: Path, env: dict,
        timeout: float = 300, program: str = "dlgrade") -> subprocess.CompletedProcess:
    """Run ``dlgrade ARGS`` (or another of the venv's commands) in ``environment``, in its own
    session, killed whole if it overruns."""
    command = environment.command(venv, *args, program=program)
    if environment.user and environment.user != ROOTLESS_OWNER:
        user = ta_user()
        command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                   "--clear-groups", "--inh-caps=-all", *command]
    environ = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "LANG": "C.UTF-8", "HOME": str(cwd),
               "DLGRADE_SERVER": "0", **env}
    process = subprocess.Popen(command, cwd=cwd, env=environ, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        stdout, stderr = process.communicate()
        pytest.fail(f"{environment.name}: dlgrade {' '.join(args)} overran {timeout} s\n"
                    f"{stderr[-2000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def own(folder: Path, environment: Environment) -> None:
    """Give ``folder`` to the environment's user, readable by nobody else."""
    if environment.user:
        uid = gid = 100000
        if environment.user != ROOTLESS_OWNER:
            uid, gid = ta_user().pw_uid, ta_user().pw_gid
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, uid, gid)
    os.chmod(folder, 0o700)
