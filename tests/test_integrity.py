"""Integrity: hostile code added to a wrong answer never raises its score.

Each attack is a cell appended to (or replacing a function of) the wrong answer, graded by the
real command, bounded from outside (own session, address-space limit, timeout). They grade
in the command's own process (no grading server), so those bounds cover every process involved:
the sandbox's processes die with the command (parent-death signals).
"""


import pytest
from conftest import (
    BACKWARD,
    FORWARD,
    TOY_MAX,
    WRONG_BACKWARD,
    WRONG_SCORE,
    fixture_copy,
    grade_json,
    write_notebook,
)

IN_PROCESS = {"DLGRADE_SERVER": "0"}
HANGS = "hangs in the call"


@pytest.fixture(scope="module")
def hung(tmp_path_factory) -> dict:
    """The wrong answer with a q2 function that hangs, graded once for the two tests that
    read it, against the toy assignment with a 1 s call timeout instead of 3 s: it hangs in
    each of q2's six tests, so 6 s instead of 18 s, and fails the same way."""
    course = fixture_copy(tmp_path_factory.mktemp("course"), "toy", examples=False)
    folder = course / "assignments" / "toy"
    config = folder / "assignment.yml"
    text = config.read_text()
    assert "  call_timeout: 3\n" in text
    config.write_text(text.replace("  call_timeout: 3\n", "  call_timeout: 1\n"))
    path = write_notebook(course / "hang.ipynb", [FORWARD, HOSTILE_BACKWARD[HANGS]])
    return grade_json(path, folder, env=IN_PROCESS)

FULL_MARKS_IF_TRUSTED = """
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)
"""

ATTACKS = {
    "patch numpy comparisons": FULL_MARKS_IF_TRUSTED,
    "patch builtins": """
import builtins
builtins.isinstance = lambda *a: True
builtins.len = lambda obj: 3
builtins.AssertionError = type("Nothing", (Exception,), {})
""",
    "replace pytest and grader in sys.modules": """
import sys, types
for name in ["pytest", "_pytest", "grader", "grader.numerics", "grader.core.plugin"]:
    fake = types.ModuleType(name)
    fake.assert_close = lambda *a, **k: None
    sys.modules[name] = fake
""",
    "sys.exit(0)": "import sys\nsys.exit(0)",
    "os._exit(0)": "import os\nos._exit(0)",
    "kill the parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, 9)",
    "fake results files": """
import json, os, tempfile
fake = {"score": 16, "max_score": 16, "status": "graded", "tests": []}
for folder in [os.getcwd(), tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]:
    for name in ["results.json", "gradebook.csv", "result.json", ".OTTER_LOG"]:
        try:
            with open(os.path.join(folder, name), "w") as f:
                json.dump(fake, f)
        except OSError:
            pass
""",
    "replace signal handlers": """
import signal
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
""",
    "infinite loop": "while True:\n    pass",
    "allocate 50 GB": "import numpy as np\nhoard = np.ones(50 * 10**9 // 8)",
    "fork bomb": "import os\nwhile True:\n    os.fork()",
    "print without end": "while True:\n    print('spam' * 1000)",
    "flood stdout at once": "print('x' * 10**8)",
    "forge replies on the channel": """
import os
from grader.sandbox import wire
for fd in range(3, 10):
    for request_id in ["hello", "0" * 16]:
        try:
            os.write(fd, wire.frame(wire.encode({"id": request_id, "value": 16})))
        except OSError:
            pass
""",
    "read hidden tests and reference": """
import os
found = []
for root in ["/", "/work", "/tmp", os.path.expanduser("~")]:
    for folder, dirs, files in os.walk(root):
        if folder.startswith(("/proc", "/sys", "/usr", "/dev")):
            dirs[:] = []
            continue
        for name in files:
            if name in ("toy.py", "test_q1.py", "test_q2.py"):
                found.append(os.path.join(folder, name))
for path in found:
    try:
        code = open(path).read()
    except OSError:
        continue
    if "def affine_backward" in code:
        exec(code)  # would turn the wrong answer into the reference
""",
}

# Replacing the wrong q2 function with a hostile one: q2 stays at 0, q1 keeps its points.
HOSTILE_BACKWARD = {
    "returns 100 MB": "def affine_backward(dout, x, W):\n    z = np.zeros(100 * 2**20 // 8)\n"
                      "    return z, z, z\n",
    "forged __eq__": """
class Anything:
    def __eq__(self, other): return True
    def __array__(self, *a, **k): raise RuntimeError
    shape = property(lambda self: ((4, 3), (3, 5), (5,)))
def affine_backward(dout, x, W):
    return Anything(), Anything(), Anything()
""",
    "__array__ object": """
class Faker:
    def __init__(self, shape): self.shape = shape
    def __array__(self, *a, **k): return np.zeros(self.shape)
def affine_backward(dout, x, W):
    return Faker(x.shape), Faker(W.shape), Faker(dout.shape[1:])
""",
    "ndarray subclass": """
class Sneaky(np.ndarray):
    def __eq__(self, other): return np.ones(self.shape, bool)
    def __sub__(self, other): return np.zeros(self.shape)
    __rsub__ = __sub__
def affine_backward(dout, x, W):
    return tuple(np.zeros(s).view(Sneaky) for s in (x.shape, W.shape, dout.shape[1:]))
""",
    HANGS: "def affine_backward(dout, x, W):\n    while True:\n        pass\n",
    "exits in the call": "def affine_backward(dout, x, W):\n    import os\n    os._exit(0)\n",
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_attack_cell_earns_nothing(tmp_path, attack):
    path = write_notebook(tmp_path / "attack.ipynb", [FORWARD, WRONG_BACKWARD, ATTACKS[attack]])
    result = grade_json(path, env=IN_PROCESS)
    assert result["status"] == "graded"
    assert result["score"] == WRONG_SCORE, result["tests"]
    assert result["questions"]["q1"]["score"] == 6.0


@pytest.mark.parametrize("attack", HOSTILE_BACKWARD, ids=list(HOSTILE_BACKWARD))
def test_hostile_function_earns_nothing(tmp_path, attack, request):
    if attack == HANGS:
        result = request.getfixturevalue("hung")
    else:
        path = write_notebook(tmp_path / "hostile.ipynb", [FORWARD, HOSTILE_BACKWARD[attack]])
        result = grade_json(path, env=IN_PROCESS)
    assert result["status"] == "graded"
    assert result["score"] == WRONG_SCORE, result["tests"]
    assert all(t["outcome"] == "failed" for t in result["tests"] if t["question"] == "q2")


def test_attack_does_not_hurt_a_correct_answer(tmp_path):
    path = write_notebook(tmp_path / "honest.ipynb", [FORWARD, BACKWARD, FULL_MARKS_IF_TRUSTED])
    assert grade_json(path, env=IN_PROCESS)["score"] == TOY_MAX


def test_infinite_loop_cell_is_reported(tmp_path):
    path = write_notebook(tmp_path / "loop.ipynb", [FORWARD, "while True:\n    pass", BACKWARD])
    result = grade_json(path, env=IN_PROCESS)
    assert result["score"] == TOY_MAX  # the cells after the loop still ran
    assert "code cell 2: did not finish within 3 s" in result["message"]


def test_hanging_call_fails_alone_with_a_timeout_message(hung):
    result = hung
    q2 = [t for t in result["tests"] if t["question"] == "q2"]
    assert all("did not finish in time" in t["message"] for t in q2)
    assert result["questions"]["q1"]["score"] == 6.0


def test_huge_reply_is_refused_with_its_size(tmp_path):
    path = write_notebook(tmp_path / "big.ipynb", [FORWARD, HOSTILE_BACKWARD["returns 100 MB"]])
    tests = grade_json(path, env=IN_PROCESS)["tests"]
    shapes = next(t for t in tests if t["name"] == "test_q2.py::test_backward_shapes")
    assert "over the 64 MB limit" in shapes["message"]


SECRET = "course-secret-5f3a9"
STEAL_SECRET = f"""
import ctypes, gc, os
needle = {SECRET[::-1]!r}[::-1]
control = {SECRET[::-1].replace("c", "k")!r}[::-1]
places = [os.environ.values()]
for path in ["/proc/self/environ", "/proc/1/environ", "/proc/self/cmdline"]:
    try:
        places.append([open(path, "rb").read().decode(errors="replace")])
    except OSError:
        pass
found = any(needle in text for place in places for text in place)
counts = [0, 0]
for line in open("/proc/self/maps").read().splitlines():
    span, perms = line.split()[:2]
    low, high = (int(v, 16) for v in span.split("-"))
    if perms.startswith("rw") and high - low < 2**28:
        data = ctypes.string_at(low, high - low)
        counts[0] += data.count(needle.encode())
        counts[1] += data.count(control.encode())
if found or counts[0] > counts[1]:
    exec({BACKWARD!r})  # a student holding the secret could predict every input
"""


def test_course_secret_is_out_of_reach(tmp_path):
    path = write_notebook(tmp_path / "steal.ipynb", [FORWARD, WRONG_BACKWARD, STEAL_SECRET])
    result = grade_json(path, env={**IN_PROCESS, "DLGRADE_SECRET": SECRET})
    assert result["score"] == WRONG_SCORE and result["message"] is None
