"""Shared helpers: the fixture assignment, notebooks built in memory, the real command."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

FIXTURES = Path(__file__).parent / "fixtures"
COURSE = Path(__file__).resolve().parent.parent  # the course this kit sits in (tests/course)
TOY = FIXTURES / "assignments" / "toy"
EXAMPLES = TOY / "examples"
TOY_MAX = 16.0
DLGRADE = shutil.which("dlgrade") or pytest.exit("the dlgrade command is not installed")
OUTER_TIMEOUT = 180  # seconds: a bound from outside, should a sandbox limit ever fail

FORWARD = "import numpy as np\n\ndef affine(x, W, b):\n    return x @ W + b\n"
BACKWARD = ("def affine_backward(dout, x, W):\n"
            "    return dout @ W.T, x.T @ dout, dout.sum(axis=0)\n")
WRONG_BACKWARD = ("def affine_backward(dout, x, W):\n"
                  "    return dout @ W, x.T @ dout, dout.sum(axis=0)\n")
WRONG_SCORE = 6.0  # the wrong answer keeps q1 (6 points) and loses q2 (10 points)


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core and one more, since many tests spend part of their
    time waiting (on time limits, Jupyter kernels, ``otter run``)."""
    return (os.cpu_count() or 1) + 1


def pytest_sessionfinish(session):
    """Leave no grading server behind: the tests start one through ``dlgrade run``. Under
    pytest-xdist only the main process stops it, once every worker is done with it."""
    if not hasattr(session.config, "workerinput"):
        from grader import server

        server.stop()


def fixture_copy(target: Path, *names: str, examples: bool = True) -> Path:
    """A course at ``target`` holding copies of these assignments of tests/fixtures and their
    references (with or without their examples); returns ``target``."""
    skipped = ("__pycache__",) if examples else ("__pycache__", "examples")
    (target / "solutions").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copytree(FIXTURES / "assignments" / name, target / "assignments" / name,
                        ignore=shutil.ignore_patterns(*skipped))
        shutil.copy(FIXTURES / "solutions" / f"{name}.py", target / "solutions")
    return target


def render_course(source: Path, target: Path) -> Path:
    """A copy of the course at ``source`` (its assignments and solutions) with the outputs
    ``dlgrade publish`` writes, rendered without the gates (CI's ``dlgrade publish --check``
    and the publishing tests run those): the student folders and the autograder zips."""
    from grader.authoring.publishing import render
    from grader.core.settings import load_assignment

    for folder in ("assignments", "solutions"):
        shutil.copytree(source / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    for handout in sorted((target / "assignments").glob("*/handout.md")):
        for path, data in render(load_assignment(str(handout.parent))).items():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_bytes(data)
    return target


@pytest.fixture(scope="session")
def fixture_course(tmp_path_factory) -> Path:
    """The kit's own course (tests/fixtures: toy, and frozen copies of gradcheck and
    forward_mode), published: the kit's tests never read the course's own assignments, so
    adding, removing or renaming one changes nothing here."""
    return render_course(FIXTURES, tmp_path_factory.mktemp("fixture-course"))


def write_notebook(path: Path, cells: list[str], markdown: str = "# Submission") -> Path:
    notebook = new_notebook(cells=[new_markdown_cell(markdown),
                                   *(new_code_cell(source) for source in cells)])
    nbformat.write(notebook, path)
    return path


def _outer_limits():
    """Bound the grader from outside: its own session, 16 GB of address space at most."""
    os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (16 * 2**30, 16 * 2**30))


def run_dlgrade(*args: str | Path, timeout: float = OUTER_TIMEOUT,
                env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real ``dlgrade`` command; kill its whole session if it overruns. It runs in
    ``cwd``, by default this process's working folder, unless that is the checkout: a course
    folder, whose assignments a command would find by name (``dlgrade check`` prefers a
    course's own checks); then in an empty folder."""
    if cwd is None and Path.cwd().resolve() == COURSE:
        cwd = Path(tempfile.gettempdir()) / f"dlgrade-tests-{os.getpid()}"
        cwd.mkdir(exist_ok=True)
    process = subprocess.Popen([DLGRADE, *map(str, args)], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_outer_limits, env={**os.environ, **(env or {})})
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"dlgrade {' '.join(map(str, args))} did not finish in {timeout} s")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def grade_json(submission: Path, assignment: Path = TOY, env: dict | None = None) -> dict:
    """``dlgrade run ASSIGNMENT SUBMISSION --json``, checked for a clean exit and no traceback."""
    done = run_dlgrade("run", assignment, submission, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return json.loads(done.stdout)


def course_assignments() -> list[str]:
    """The course's assignments, discovered: every folder of assignments/ with an
    assignment.yml."""
    return sorted(p.parent.name for p in (COURSE / "assignments").glob("*/assignment.yml"))


@pytest.fixture(scope="session")
def published_course(tmp_path_factory) -> Path:
    """A copy of the course with every assignment's outputs, for the course checks."""
    return render_course(COURSE, tmp_path_factory.mktemp("course"))


# ---------------------------------------------------------------- the kit's tests stay the kit's

COURSE_CONTENT = tuple(str(COURSE / folder) + os.sep
                       for folder in ("assignments", "solutions", "student_template", "dist"))
_reads: list[str] | None = None  # what the running kit test read of the course, when watched


def _watch(event: str, args: tuple) -> None:
    """An audit hook: note any file, folder or command line of the course's own content that
    the test process opens, lists or passes to a command."""
    if _reads is None:
        return
    if event == "open":  # os.open's relative names may be relative to a dir_fd: not known
        names = args[:1] if isinstance(args[1], str) or os.path.isabs(args[0]) else []
    elif event in ("os.listdir", "os.scandir"):
        names = args[:1]
    elif event == "subprocess.Popen":
        names = [*(args[1] or ()), args[2]]
    else:
        return
    for name in names:
        if isinstance(name, (str, bytes, os.PathLike)):
            path = os.path.abspath(os.fsdecode(name))
            if (path + os.sep).startswith(COURSE_CONTENT):
                _reads.append(path)


sys.addaudithook(_watch)


@pytest.fixture(autouse=True)
def kit_tests_leave_the_course_alone(request):
    """A kit test reads only tests/fixtures and what it makes: the course's assignments,
    solutions and published files are the course checks' (tests/course), so a course may add,
    remove or rename assignments without changing the kit's verdicts."""
    global _reads
    if request.node.get_closest_marker("course"):
        yield
        return
    _reads = []
    try:
        yield
    finally:
        found, _reads = _reads, None
    assert not found, f"a kit test read the course's own content: {sorted(set(found))[:5]}"
