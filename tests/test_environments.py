"""The sandbox wherever courses grade: in each simulated environment the real ``dlgrade``
either grades, stating its level, with nothing gained by any attack, or refuses and says how
to fix the machine.

Every attack defines correct answers only if it succeeds, so a score above 0 is a forged
point; the side effects it tries (a file written or deleted outside the worker, a connection,
a process left running, the grader killed) are looked for too.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import TOY_MAX, fixture_copy, write_notebook
from environments import environments, grading_venv, own, run

# One worker runs them all: they create a user and scan /proc for processes left behind.
pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="simulating graders needs root"),
              pytest.mark.xdist_group("environments")]

SECRET = "course-secret-8c41d2"
DAEMON_MARK = "4242.17"  # `sleep 4242.17`: how a left-behind process is recognised
CORRECT = """
def affine(x, W, b):
    return x @ W + b

def affine_backward(dout, x, W):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
"""


def attacks(course: Path, canary: Path, port: int) -> dict[str, str]:
    """Each attack, as a cell that defines the correct answers if and only if it worked."""
    reference = course / "solutions" / "toy.py"
    hidden_test = course / "assignments" / "toy" / "tests" / "test_q2.py"
    gain = f"CORRECT = {CORRECT!r}\n"
    found = {
        "exec_reference_from_disk": gain + f"exec(open({str(reference)!r}).read())",
        "exec_reference_through_proc": gain + f"""
import os
for pid in os.listdir("/proc"):
    for path in ("/proc/%s/cwd/course/solutions/toy.py" % pid,
                 "/proc/%s/root{reference}" % pid):
        try:
            exec(open(path).read())
        except (OSError, ValueError):
            pass
""",
        "read_hidden_tests": gain + f"""
if "def test_" in open({str(hidden_test)!r}).read():
    exec(CORRECT)
""",
        "secret_from_environment": gain + """
import os
found = any("DLGRADE_SECRET" in name for name in os.environ)
for pid in os.listdir("/proc"):
    try:
        found |= b"DLGRADE_SECRET" in open("/proc/%s/environ" % pid, "rb").read()
    except (OSError, ValueError):
        pass
if found:
    exec(CORRECT)
""",
        "connect_to_loopback": gain + f"""
import socket
socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
exec(CORRECT)
""",
        "write_outside": gain + f"""
open({str(canary / "written")!r}, "w").write("x")
exec(CORRECT)
""",
        "delete_outside": gain + f"""
import os
os.remove({str(canary / "keep.txt")!r})
exec(CORRECT)
""",
        "patch_numpy": """
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
def affine(x, W, b):
    return 0 * x
def affine_backward(dout, x, W):
    return 0 * dout, 0 * W, 0 * dout[0]
""",
        "kill_everything": "import os, signal\nos.kill(-1, signal.SIGKILL)",
        "double_forked_daemon": f"""
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "{DAEMON_MARK}"])
    os._exit(0)
""",
        "a_process_quota_hog": """
import os, time
held = 0
try:
    while held < 70:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        held += 1
except OSError:
    pass
def affine(x, W, b):
    # Keep the quota held while the others grade beside it (its name sorts it first): 0.4 s
    # in each of its 14 calls, about 6 s; the 13 others take about 3 s together.
    time.sleep(0.4)
    return 0 * x
def affine_backward(dout, x, W):
    time.sleep(0.4)
    return 0 * dout, 0 * W, 0 * dout[0]
""",
    }
    # The same from a worker forked from the warm fork server (a submission importing pyplot).
    for name in ("exec_reference_through_proc", "secret_from_environment", "write_outside"):
        found[f"warm_{name}"] = "import matplotlib.pyplot as plt\n" + found[name]
    return found


CORRECT_SUBMISSIONS = {
    "correct_with_matplotlib": "import matplotlib\nmatplotlib.use('Agg')\n"
                               "import matplotlib.pyplot as plt\nimport numpy as np\n" + CORRECT,
    "correct_with_threads": """
import threading
import numpy as np

def in_a_thread(function, *args):
    box = []
    worker = threading.Thread(target=lambda: box.append(function(*args)))
    worker.start()
    worker.join()
    return box[0]

def affine(x, W, b):
    return in_a_thread(lambda: x @ W + b)

def affine_backward(dout, x, W):
    return in_a_thread(lambda: (dout @ W.T, x.T @ dout, dout.sum(axis=0)))
""",
}


class Listener:
    """A TCP listener on the loopback that counts who connects."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self):
        self.server.close()


@pytest.fixture(scope="module")
def venv():
    return grading_venv()


@pytest.fixture
def class_folder():
    """A course, an inbox of submissions and a canary folder, in a folder of their own
    outside pytest's (which only root can enter)."""
    base = Path(tempfile.mkdtemp(prefix="dlgrade-env-test-"))
    fixture_copy(base / "course", "toy", examples=False)
    (base / "canary").mkdir()
    (base / "canary" / "keep.txt").write_text("keep me")
    (base / "inbox").mkdir()
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _daemons_left() -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and DAEMON_MARK.encode() in \
                    Path(f"/proc/{entry.name}/cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _outputs_text(out: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())


GRADING = [e for e in environments() if e.level != "unconfined"]


@pytest.mark.parametrize("environment", GRADING, ids=lambda e: e.name)
def test_attacks_gain_nothing_and_the_level_is_stated(environment, venv, class_folder):
    listener = Listener()
    course = class_folder / "course"
    hostile = attacks(course, class_folder / "canary", listener.port)
    for name, source in {**hostile, **CORRECT_SUBMISSIONS, "blank": "x = 1"}.items():
        write_notebook(class_folder / "inbox" / f"{name}.ipynb", [source])
    own(class_folder, environment)
    try:
        done = run(environment, venv, ["grade", "course/assignments/toy", "inbox", "-o", "out",
                                       "--jobs", "2"], class_folder,
                   {"DLGRADE_SECRET": SECRET})
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr[-3000:]
    out = class_folder / "out"
    with open(out / "gradebook.csv") as book:
        rows = {row["submission"]: row for row in csv.DictReader(book)}
    assert set(rows) == {*hostile, *CORRECT_SUBMISSIONS, "blank"}
    seconds = {name: json.loads((out / ".dlgrade" / f"{name}.json").read_text())["seconds"]
               for name in rows}
    # The hog is graded first and holds its processes while the rest are graded beside it.
    assert seconds["a_process_quota_hog"] > sum(v for k, v in seconds.items()
                                                if k.startswith("correct"))
    for name in CORRECT_SUBMISSIONS:
        assert float(rows[name]["total"]) == TOY_MAX, (name, rows[name])
    forged = {name: rows[name]["total"] for name in [*hostile, "blank"]
              if float(rows[name]["total"]) != 0}
    assert forged == {}
    for name in rows:
        sandbox = json.loads((out / "results" / f"{name}.json").read_text())["sandbox"]
        assert sandbox["level"] == environment.level, (name, sandbox)
        assert environment.layers <= set(sandbox["layers"]), sandbox
        assert environment.missing <= set(sandbox["missing"]), sandbox
        feedback = (out / "feedback" / f"{name}.md").read_text()
        assert f"Sandbox: {environment.level} (" in feedback
    assert f"<td>{environment.level}</td>" in (out / "report.html").read_text()
    assert SECRET not in _outputs_text(out)
    assert listener.connections == 0
    assert (class_folder / "canary" / "keep.txt").read_text() == "keep me"
    assert not (class_folder / "canary" / "written").exists()
    assert _daemons_left() == []


UNCONFINED = next(e for e in environments() if e.level == "unconfined")


def test_below_the_required_level_grading_is_refused_with_how_to_fix(venv, class_folder):
    write_notebook(class_folder / "inbox" / "correct.ipynb", [CORRECT])
    own(class_folder, UNCONFINED)
    for args in (["run", "course/assignments/toy", "inbox/correct.ipynb", "--json"],
                 ["grade", "course/assignments/toy", "inbox", "-o", "out"]):
        done = run(UNCONFINED, venv, args, class_folder, {})
        assert done.returncode == 3, done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr
        assert "refusing to grade" in done.stderr and "landlock" in done.stderr
        assert "to get it:" in done.stderr and "--allow-unconfined" in done.stderr
    assert not (class_folder / "out" / "gradebook.csv").exists()

    done = run(UNCONFINED, venv, ["doctor"], class_folder, {})
    assert done.returncode == 1 and "Level: unconfined (does NOT meet" in done.stdout


def test_allow_unconfined_grades_and_every_result_records_it(venv, class_folder):
    write_notebook(class_folder / "inbox" / "correct.ipynb", [CORRECT])
    own(class_folder, UNCONFINED)
    done = run(UNCONFINED, venv, ["run", "course/assignments/toy", "inbox/correct.ipynb",
                                  "--json", "--allow-unconfined"], class_folder, {})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["score"] == TOY_MAX
    assert result["sandbox"]["level"] == "unconfined"
    assert result["sandbox"]["required"] == "contained"
    assert result["sandbox"]["allowed_unconfined"] is True
    assert {"namespaces", "landlock", "uid"} <= set(result["sandbox"]["missing"])

    done = run(UNCONFINED, venv, ["grade", "course/assignments/toy", "inbox", "-o", "out",
                                  "--allow-unconfined"], class_folder, {})
    assert done.returncode == 0, done.stderr
    report = (class_folder / "out" / "report.html").read_text()
    top = report.split("<h2>", 1)[0]  # above the first section
    assert "ran at sandbox level &#39;unconfined&#39;, below the required" in top
    assert "Sandbox: unconfined" in (class_folder / "out" / "feedback" / "correct.md").read_text()


def _toy_autograder_zip(folder: Path) -> Path:
    from grader.core.settings import load_assignment
    from grader.platforms.otter import autograder_zip

    path = folder / "toy-autograder.zip"
    path.write_bytes(autograder_zip(load_assignment(str(folder / "course" / "assignments" /
                                                        "toy"))))
    return path


def test_the_otter_plugin_refuses_below_the_level_rather_than_score_zero(venv, class_folder):
    """On Gradescope or ``otter run``, a machine below the level makes the autograder fail
    with how it is misconfigured; it never hands the student a 0."""
    archive = _toy_autograder_zip(class_folder)
    write_notebook(class_folder / "inbox" / "toy.ipynb", [CORRECT])
    (class_folder / "otter-out").mkdir()
    own(class_folder, UNCONFINED)
    done = run(UNCONFINED, venv, ["run", "-a", str(archive), "-o", "otter-out", "--no-logo",
                                  "inbox/toy.ipynb"], class_folder, {}, program="otter")
    assert done.returncode != 0
    assert "the autograder is misconfigured: refusing to grade" in done.stderr
    assert not (class_folder / "otter-out" / "results.json").exists()


def test_the_otter_plugin_states_the_level_in_its_results(venv, class_folder):
    archive = _toy_autograder_zip(class_folder)
    write_notebook(class_folder / "inbox" / "toy.ipynb", [CORRECT])
    (class_folder / "otter-out").mkdir()
    docker = next(e for e in environments() if e.name.startswith("Docker"))
    own(class_folder, docker)
    done = run(docker, venv, ["run", "-a", str(archive), "-o", "otter-out", "--no-logo",
                              "inbox/toy.ipynb"], class_folder, {}, program="otter")
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((class_folder / "otter-out" / "results.json").read_text())
    assert sum(test["score"] for test in results["tests"] if "score" in test) == TOY_MAX
    assert "sandbox: contained (landlock, landlock-scope, seccomp, uid" in \
        results.get("output", ""), results
