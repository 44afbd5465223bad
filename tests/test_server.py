"""The grading server: same results as grading in-process, replaced when the grader changes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES, TOY, TOY_MAX, WRONG_SCORE, grade_json, run_dlgrade, write_notebook

from grader import server


def test_server_and_in_process_results_are_identical(tmp_path):
    path = write_notebook(tmp_path / "mixed.ipynb", [
        "import numpy as np\ndef affine(x, W, b):\n    return x @ W + b\n",
        "print('hello')\n1/0",
        "def affine_backward(dout, x, W):\n    return dout @ W.T, x.T @ dout, dout.mean(0)\n"])
    served = grade_json(path)
    local = grade_json(path, env={"DLGRADE_SERVER": "0"})
    assert served == local and 0 < served["score"] < served["max_score"]


def test_secret_travels_with_the_request(tmp_path):
    path = write_notebook(tmp_path / "off.ipynb",
                          ["def affine(x, W, b):\n    return x @ W + b + 1e-3\n"])
    one = grade_json(path, env={"DLGRADE_SECRET": "one"})
    two = grade_json(path, env={"DLGRADE_SECRET": "two"})
    again = grade_json(path, env={"DLGRADE_SECRET": "one"})
    assert one == again
    # Different inputs: the failure messages name different values.
    assert [t["message"] for t in one["tests"]] != [t["message"] for t in two["tests"]]


def test_errors_and_exit_codes_come_back_from_the_server(tmp_path):
    done = run_dlgrade("run", tmp_path / "missing", EXAMPLES / "reference.ipynb")
    assert done.returncode == 2 and "no assignment" in done.stderr


def _request(**changes) -> bytes:
    request = {"fingerprint": server.fingerprint(), "assignment": str(TOY),
               "submission": str(EXAMPLES / "reference.ipynb"), "json": True,
               "cwd": os.getcwd(), "env": {}}
    return json.dumps({**request, **changes}).encode()


def test_a_server_answers_only_its_own_grader():
    """The socket's name carries the grader's fingerprint; a request from another grader (an
    edited or upgraded one) is told so, and the server goes on serving its own."""
    grade_json(EXAMPLES / "reference.ipynb")  # a server is running
    where = server.address()
    assert server.fingerprint() in os.path.basename(where) and os.path.exists(where)
    assert server._exchange(where, _request(fingerprint="another-grader")) == {"stale": True}
    reply = server._exchange(where, _request())
    assert reply["exit"] == 0 and json.loads(reply["stdout"])["score"] == TOY_MAX


def test_the_server_grades_and_nothing_else():
    """Any other command, another environment variable, a wrong type or an oversized request
    gets no answer: the client then grades in its own process."""
    grade_json(EXAMPLES / "reference.ipynb")
    where = server.address()
    refused = [json.dumps({"argv": ["publish"], "cwd": "/", "env": {},
                           "fingerprint": server.fingerprint()}).encode(),
               _request(env={"PYTHONPATH": "/tmp"}), _request(json="yes"),
               _request(extra=1), _request(cwd="x" * (1 << 17)), b"[]", b"{"]
    for request in refused:
        assert server._exchange(where, request) is None, request[:80]
    assert server._exchange(where, _request())["exit"] == 0


def test_two_installs_keep_their_own_servers(tmp_path):
    """A second copy of the grader (last term's install, a project beside an installed dlgrade)
    starts its own server; both grade, neither replaces the other."""
    other = tmp_path / "other"
    shutil.copytree(Path(server.PACKAGE), other / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(other)}
    command = [sys.executable, "-c", "import sys; from grader.cli import main; "
               "sys.exit(main(sys.argv[1:]))"]
    try:
        for _ in range(2):
            mine = grade_json(EXAMPLES / "wrong_dx.ipynb")
            theirs = subprocess.run([*command, "run", str(TOY), str(EXAMPLES / "wrong_dx.ipynb"),
                                     "--json"], env=env, capture_output=True, text=True,
                                    timeout=120, cwd=tmp_path)  # not the checkout's grader
            assert theirs.returncode == 0 and "Traceback" not in theirs.stderr, theirs.stderr
            assert json.loads(theirs.stdout) == mine and mine["score"] == WRONG_SCORE
        sockets = sorted(p.name for p in server.folder().glob("server-*.sock"))
        assert os.path.basename(server.address()) in sockets and len(sockets) >= 2
    finally:
        subprocess.run([*command[:2], "from grader import server; server.stop()"], env=env,
                       timeout=60, cwd=tmp_path)


def test_without_a_usable_server_folder_grading_happens_here(tmp_path):
    """A socket folder that is not private (or cannot be made) means no server: the command
    grades in its own process, with the same result and no traceback."""
    shared = tmp_path / f"dlgrade-{os.getuid()}"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    result = grade_json(EXAMPLES / "reference.ipynb", env={"XDG_RUNTIME_DIR": str(tmp_path)})
    assert result["status"] == "graded" and result["score"] == TOY_MAX
    assert list(shared.iterdir()) == []  # no socket was made there
