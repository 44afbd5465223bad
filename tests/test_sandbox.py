"""The sandbox itself: limits, isolation and recovery, through its Python interface."""

import os
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, TOY

import grader
from grader.sandbox import (
    Limits,
    SandboxedSubmission,
    StudentError,
    WorkerCrashed,
    WorkerTimeout,
    Zygote,
    uids,
)

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")
LIMITS = Limits(call_timeout=3, cell_timeout=3, submission_timeout=60, cpu_seconds=20,
                memory_mb=1024, output_kb=4)


@pytest.fixture(scope="module")
def zygote():
    server = Zygote()
    yield server
    server.close()


def sandboxed(zygote, cells, limits=LIMITS, hidden=()):
    submission = SandboxedSubmission(zygote, list(cells), limits, list(hidden))
    submission.start()
    return submission


def probe(zygote, code: str, **kwargs):
    """Run ``code`` (which sets ``result``) in a fresh worker and return ``result``."""
    submission = sandboxed(zygote, [code], **kwargs)
    try:
        return submission.run(lambda namespace: namespace.get("result"))
    finally:
        submission.close()


@root_only
def test_each_worker_runs_as_an_unprivileged_uid_of_its_own(zygote):
    code = "import os\nresult = [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]"
    first = sandboxed(zygote, [code])
    second = sandboxed(zygote, [code])  # both alive at once
    try:
        one, two = (s.run(lambda namespace: namespace["result"]) for s in (first, second))
    finally:
        first.close()
        second.close()
    assert one[0] == one[1] == one[2] >= uids.FULL_RANGE_BASE and one[3] == []
    assert two[0] != one[0]


def test_only_system_folders_and_python_are_visible(zygote):
    """The system's folders, Python, and the grader package itself (public code: an editable
    install keeps it in its checkout, here a course folder, of which nothing else shows)."""
    package = Path(grader.__file__).resolve().parent
    code = """
import os
result = [sorted(os.listdir("/")), os.path.exists(%r), os.path.exists(%r),
          sorted(os.listdir(%r)), os.path.isdir(%r)]
""" % (str(FIXTURES / "solutions" / "toy.py"), str(TOY / "tests"), str(package.parent),
       str(package / "sandbox"))
    top, reference_seen, tests_seen, beside_package, package_seen = probe(zygote, code)
    assert set(top) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "root",
                        "sbin", "tmp", "usr", "var", package.parts[1]}
    assert (reference_seen, tests_seen) == (False, False)
    assert package_seen
    if not package.is_relative_to(sys.prefix):  # an editable install: its checkout stays hidden
        assert beside_package == ["grader"], beside_package


def test_hidden_paths_inside_visible_folders_show_nothing(zygote):
    numpy_folder = Path(np.__file__).parent
    code = """
import os
try:
    result = [os.listdir(%r)]
except OSError as error:
    result = [type(error).__name__]
result.append(len(os.listdir(%r)) > 0)
""" % (str(numpy_folder / "testing"), str(numpy_folder / "linalg"))
    hidden_listing, control_listing = probe(zygote, code, hidden=[numpy_folder / "testing"])
    assert hidden_listing in ([], "PermissionError") and control_listing  # control: visible


def test_python_packages_import_inside_the_sandbox(zygote):
    assert probe(zygote, "import scipy.special\nresult = float(scipy.special.expit(0.0))") == 0.5


def test_no_network(zygote):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    result = "connected"
except OSError as error:
    result = type(error).__name__
"""
    try:
        assert probe(zygote, code) != "connected"
    finally:
        server.close()


def test_fresh_private_working_folder_and_temp(zygote, tmp_path):
    marker = "/tmp/dlgrade-test-marker"
    open(marker, "w").close()
    try:
        code = "import os\nresult = [os.getcwd(), os.listdir('.'), os.path.exists(%r)]" % marker
        assert probe(zygote, code) == ["/tmp/work", [], False]
    finally:
        os.remove(marker)


def test_scrubbed_environment(zygote, monkeypatch):
    code = "import os, sys\nresult = [sorted(os.environ), sys.argv]"
    names, argv = probe(zygote, code)
    assert set(names) <= {"PATH", "LANG", "HOME", "TMPDIR", "OPENBLAS_NUM_THREADS",
                          "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
    assert argv == ["submission"]


def test_file_size_limit(zygote):
    limits = Limits(file_size_mb=1, call_timeout=3, cell_timeout=3)
    code = """
try:
    with open("big.bin", "wb") as handle:
        handle.write(b"x" * (5 * 2**20))
    result = "written"
except OSError as error:
    result = error.errno
"""
    assert probe(zygote, code, limits=limits) == 27  # EFBIG


def test_open_files_limit(zygote):
    code = """
handles = []
try:
    for _ in range(1000):
        handles.append(open("/dev/null"))
except OSError as error:
    result = ["refused", len(handles)]
"""
    refused, opened = probe(zygote, code)
    assert refused == "refused" and opened < 64


def test_memory_limit_raises_memory_error(zygote):
    submission = sandboxed(zygote, ["def hoard():\n    return bytearray(3 * 2**30)\n"])
    with pytest.raises(StudentError, match="MemoryError"):
        submission.call("hoard")
    submission.close()


def test_cpu_limit_stops_a_busy_worker(zygote):
    limits = Limits(cpu_seconds=1, call_timeout=20, cell_timeout=3)
    submission = sandboxed(zygote, ["def spin():\n    while True:\n        pass\n"], limits=limits)
    with pytest.raises(WorkerCrashed):
        submission.call("spin")
    submission.close()


def test_output_is_captured_and_capped(zygote):
    submission = sandboxed(zygote, ["print('hello')\nprint('x' * 100000)"])
    output = submission.take_output()
    assert output.startswith("hello\nxxx") and len(output) < 4096 + 200
    assert "more characters of output not kept" in output
    submission.close()


def test_a_call_that_hangs_fails_alone_and_the_next_call_works(zygote):
    cells = ["def hang():\n    while True:\n        pass\n", "def ok():\n    return 7\n"]
    submission = sandboxed(zygote, cells)
    with pytest.raises(WorkerTimeout):
        submission.call("hang")
    assert submission.call("ok") == 7  # a fresh worker re-ran the cells
    submission.close()


def test_fork_bomb_is_contained(zygote):
    submission = sandboxed(zygote, ["import os\nwhile True:\n    os.fork()", "x = 1"])
    assert submission.run(lambda namespace: namespace["x"]) == 1
    submission.close()
    assert os.system("true") == 0  # the machine can still start processes


def test_forged_replies_on_the_channel_are_refused(zygote):
    forge = """
import os
from grader.sandbox import wire
for request_id in ["hello", "0" * 16]:
    os.write(3, wire.frame(wire.encode({"id": request_id, "value": 100})))
"""
    submission = sandboxed(zygote, [forge, "def f():\n    return 1\n"])
    assert submission.cell_errors[0].startswith("produced an unreadable reply")
    assert submission.call("f") == 1
    submission.close()


@root_only
def test_every_layer_as_root_on_a_host(zygote):
    submission = sandboxed(zygote, ["x = 1"])
    submission.close()
    assert submission.sandbox["level"] == "full"
    assert {"namespaces", "filesystem", "landlock", "seccomp", "uid", "rlimits"} <= \
        set(submission.sandbox["layers"])


def test_jupyter_display_and_get_ipython_work_in_the_worker(zygote):
    code = """
from IPython.display import display as ipython_display
display({"shown": 1})
ipython_display("also shown")
get_ipython().run_line_magic("matplotlib", "inline")
get_ipython().system("ls")
def f():
    return 2
"""
    submission = sandboxed(zygote, [code])
    try:
        assert submission.cell_errors == {}
        assert submission.call("f") == 2
        assert submission.take_output() == "{'shown': 1}\nalso shown\n"
        assert set(submission.names()) == {"f", "ipython_display"}
    finally:
        submission.close()


def test_a_plotting_submission_gets_a_warm_worker_confined_the_same(tmp_path, monkeypatch):
    """A submission that imports pyplot (half a second per worker) gets a worker forked from
    a fork server that imported it already: as confined as any other, and with matplotlib's
    defaults, not the settings files of the grader's folder or home."""
    for folder in (tmp_path, tmp_path / "home" / ".config" / "matplotlib"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "matplotlibrc").write_text("lines.linewidth: 7\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MPLBACKEND", "svg")
    # A fork server is a fork of its process: a grading process starts it before importing
    # anything, but this test's process may hold pyplot already (another test drew a plot).
    inherited = "matplotlib.pyplot" in sys.modules
    server = Zygote()
    code = ("import os, sys\nwarm = 'matplotlib.pyplot' in sys.modules\n"
            "import matplotlib\nimport matplotlib.pyplot as plt\n"
            "plt.plot([0, 1], [1, 0])\nplt.savefig('figure.png')\n"
            "result = [warm, matplotlib.rcParams['lines.linewidth'], matplotlib.get_backend(),"
            " os.getuid(), os.getcwd(), sorted(os.listdir('.')), sorted(os.environ),"
            " os.path.exists(%r)]" % str(FIXTURES / "solutions" / "toy.py"))
    cold_code = code.replace("import matplotlib.pyplot as plt", "plt = __import__("
                             "'matplotlib.pyplot').pyplot")  # not seen by the scan: cold
    try:
        warm = [probe(server, code) for _ in range(2)]
        cold = probe(server, cold_code)
    finally:
        server.close()
    assert [w[0] for w in warm] == [True, True] and cold[0] is inherited
    for found in (*warm, cold):
        # matplotlib's defaults, whatever the grader's settings ("Agg" where this test's
        # process chose it by name before its fork server was forked)
        assert [found[1], found[2].lower()] == [1.5, "agg"]
        assert found[4] == "/tmp/work" and "figure.png" in found[5]
        # A cold import writes matplotlib's font cache into the worker's home (its working
        # folder); a warm worker's was written, and removed, where its fork server imported.
        assert set(found[5]) - {"figure.png"} <= ({".cache", ".config"} if found is cold
                                                  else set())
        assert set(found[6]) <= {"PATH", "LANG", "HOME", "TMPDIR", "OPENBLAS_NUM_THREADS",
                                 "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
        assert found[7] is False  # the reference stays out of sight
        if os.geteuid() == 0:
            assert found[3] >= uids.FULL_RANGE_BASE
