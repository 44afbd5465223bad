"""Shared helpers: the fixture assignment, notebooks built in memory, the real command."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

FIXTURES = Path(__file__).parent / "fixtures"
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


@pytest.fixture(scope="session", autouse=True)
def stop_grading_server():
    """Leave no grading server behind: the tests start one through ``dlgrade run``."""
    yield
    from grader import server

    server.stop()


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
                env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``dlgrade`` command; kill its whole session if it overruns."""
    process = subprocess.Popen([DLGRADE, *map(str, args)],
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
