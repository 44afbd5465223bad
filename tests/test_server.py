"""The grading server: same results as grading in-process, replaced when the grader changes."""

import json
import os
import time

from conftest import EXAMPLES, TOY, grade_json, run_dlgrade, write_notebook

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


def test_a_changed_grader_gets_a_fresh_server(monkeypatch):
    grade_json(EXAMPLES / "reference.ipynb")  # a server is running
    address = server.folder() / "server.sock"
    assert address.exists()
    request = json.dumps({"argv": ["run", str(TOY), str(EXAMPLES / "reference.ipynb")],
                          "cwd": os.getcwd(), "env": {}, "fingerprint": "another-grader"})
    assert server._exchange(str(address), request.encode()) == {"stale": True}
    deadline = time.monotonic() + 10
    while address.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not address.exists()  # the stale server went away
    assert grade_json(EXAMPLES / "reference.ipynb")["status"] == "graded"
    assert address.exists()  # and a new one took its place
