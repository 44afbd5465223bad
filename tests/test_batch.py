"""`dlgrade grade` on a corpus of 68 gradcheck submissions: correct, buggy, hostile, unreadable,
in a folder, in a student's folder and in an LMS zip; interrupted, resumed, and on Dask."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import DLGRADE, fixture_copy, run_dlgrade

# One worker runs them all: most share the complete batch, which is graded once.
pytestmark = pytest.mark.xdist_group("batch")

CORPUS = Path(__file__).parent / "corpus"
UNREADABLE = {"binary_file", "corrupt_json", "empty_file", "json_not_a_notebook", "nbformat_5",
              "scanned_homework", "huge"}
FULL_MARKS = 41
# The corpus's assignment is gradcheck as it was when the corpus was written (a copy in
# tests/fixtures: the course's own may change), with shorter limits so that the hanging
# submissions cost seconds, not minutes.
LIMITS = "limits:\n  call_timeout: 5\n  cell_timeout: 3\n  submission_timeout: 8\n"
# One submission of each kind, for the tests that grade again another way and compare with the
# complete batch. Left out: correct_02 to correct_16 (correct_01 but for a comment), more
# examples and bugs of the same kind, and output_flood and read_hidden_tests (what a result
# says of them, message aside, is infinite_loop's: a cell out of time, full marks).
SAMPLE = {
    # correct, in every form: notebook, nbformat 3, script, percent cells
    "correct_01", "example_ok_loops_and_copies", "old_nbformat3", "script_submission",
    "percent_cells",
    # buggy: in a student's folder, in the zip (the latest of two attempts; one attempt)
    "grace", "ivan", "judy", "patch_numpy", "missing_function", "example_bug_x_left_modified",
    # each attack on the grading process
    "sys_exit", "os_exit", "kill_parent", "fork_bomb", "memory_bomb", "infinite_loop",
    "delete_files", "write_files", "patch_builtins", "patch_pytest_grader", "fake_results",
    "cell_raises", "html_injection", "syntax_error",
    # nothing to grade, each reason a file is unreadable (errors), the whole budget (timeout)
    "blank", "empty_notebook", *UNREADABLE, "whole_budget_used",
}
# The submissions that spend their time running out a time limit (3 s, or 8 s).
WAITING = {"infinite_loop", "output_flood", "read_hidden_tests", "whole_budget_used"}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = fixture_copy(tmp_path_factory.mktemp("course"), "gradcheck", examples=False)
    folder = root / "assignments" / "gradcheck"
    config = (folder / "assignment.yml").read_text()
    (folder / "assignment.yml").write_text(config.split("limits:")[0] + LIMITS)
    return folder


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> list[Path]:
    """The corpus as a TA receives it: a folder, and an LMS export zip."""
    folder = tmp_path_factory.mktemp("inbox") / "gradcheck"
    shutil.copytree(CORPUS / "gradcheck", folder)
    with open(folder / "huge.ipynb", "wb") as handle:
        handle.truncate(25 * 2**20)
    archive = folder.parent / "gradcheck-late.zip"
    shutil.copy(CORPUS / "gradcheck-late.zip", archive)
    return [folder, archive]


def grade(course, submissions, out, *extra, timeout=600, env=None):
    return run_dlgrade("grade", course, *submissions, "-o", out, *extra, timeout=timeout,
                       env=env)


@pytest.fixture(scope="module")
def graded(course, submissions, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("graded") / "out"
    before = _tree_digest(submissions)
    done = grade(course, submissions, out)
    assert done.returncode == 0, done.stderr
    assert _tree_digest(submissions) == before  # no input file is ever modified
    return out


def _tree_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for top in paths:
        for path in sorted([top] if top.is_file() else top.rglob("*")):
            if path.is_file():
                digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def gradebook(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def students(submissions) -> set[str]:
    folder = submissions[0]
    return {p.stem for p in folder.iterdir()} | {"ivan", "judy"}


def _seed(out: Path, graded: Path, names) -> None:
    """Give ``out`` what the complete batch kept of these students (result, feedback, state),
    as an earlier run would have left it: a batch into ``out`` grades only the others."""
    for name in names:
        for path in [graded / "results" / f"{name}.json", graded / ".dlgrade" / f"{name}.json",
                     *(graded / "feedback").glob(f"{name}.*")]:
            target = out / path.relative_to(graded)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


# ---------------------------------------------------------------- one complete batch

def test_every_submission_gets_exactly_one_row_with_the_right_status(graded, submissions):
    rows = gradebook(graded)
    names = [row["submission"] for row in rows]
    assert len(names) == len(set(names)) == 68
    assert set(names) == students(submissions)
    status = {row["submission"]: row["status"] for row in rows}
    assert {n for n, s in status.items() if s == "error"} == UNREADABLE
    assert {n for n, s in status.items() if s == "timeout"} == {"whole_budget_used"}
    assert list(rows[0]) == ["submission", "q1", "q2", "q3", "q4", "q5", "q6", "total",
                             "max_total", "status", "raw_total", "penalty", "late_by",
                             "submitted_at", "submitted_at_from", "due", "notes"]
    assert all(row["max_total"] == str(FULL_MARKS) for row in rows)


def test_scores_are_honest_whatever_the_submission_tried(graded):
    total = {row["submission"]: float(row["total"]) for row in gradebook(graded)}
    for name in [f"correct_{n:02d}" for n in range(1, 17)] + [
            "example_ok_loops_and_copies", "script_submission", "percent_cells", "old_nbformat3",
            "sys_exit", "os_exit", "kill_parent", "fork_bomb", "memory_bomb", "output_flood",
            "delete_files", "write_files", "infinite_loop", "cell_raises", "syntax_error",
            "html_injection"]:
        assert total[name] == FULL_MARKS, name
    assert total["blank"] == 0 and total["empty_notebook"] == 0
    assert all(total[name] == 0 for name in UNREADABLE)
    # Patching numpy's comparisons earns nothing over the honest score of the same bug.
    assert total["patch_numpy"] == total["jacobian_transposed"] < FULL_MARKS
    for bug in ("returns_a_list", "returns_a_string", "returns_nan", "returns_inf",
                "raises_in_call", "missing_function", "renamed_function",
                "forward_not_centered"):
        assert total[bug] < FULL_MARKS, bug
    # The latest of ivan's two attempts (the second, with a bug) is the one graded; grace's
    # folder holds her notebook and a note: the notebook is graded.
    assert total["ivan"] == total["returns_a_list"]
    assert total["grace"] == total["forward_not_centered"]
    assert total["judy"] == total["raises_in_call"]


def test_batch_results_equal_dlgrade_run_on_each_file(graded, course, submissions,
                                                      tmp_path):
    with zipfile.ZipFile(submissions[1]) as archive:
        archive.extractall(tmp_path)
    files = {p.stem: p for p in submissions[0].iterdir() if p.is_file()}
    files.update(grace=submissions[0] / "grace" / "homework.ipynb",
                 ivan=tmp_path / "export" / "ivan" / "attempt (1).ipynb",
                 judy=tmp_path / "export" / "judy" / "gradcheck.ipynb")
    assert set(files) == students(submissions)
    status = {row["submission"]: row["status"] for row in gradebook(graded)}
    assert {status[name] for name in SAMPLE} == set(status.values())
    # Two at a time, as the batch grades them, those that wait out a time limit first.
    names = sorted(SAMPLE, key=lambda name: (name not in WAITING, name))
    with ThreadPoolExecutor(2) as pool:
        runs = pool.map(lambda name: run_dlgrade("run", course, files[name], "--json"), names)
    for student, done in zip(names, runs, strict=True):
        path = files[student]
        alone = json.loads(done.stdout)
        batch = json.loads((graded / "results" / f"{student}.json").read_text())
        assert batch["submission"].endswith(path.name)
        for key in ("submission", "message"):
            alone.pop(key), batch.pop(key)
        assert batch == alone, student


def test_results_state_the_reason_for_errors_and_timeouts(graded):
    result = json.loads((graded / "results" / "huge.json").read_text())
    assert result["status"] == "error" and "must be under 20 MB" in result["message"]
    result = json.loads((graded / "results" / "scanned_homework.json").read_text())
    assert result["status"] == "error" and "not a text file" in result["message"]
    result = json.loads((graded / "results" / "whole_budget_used.json").read_text())
    assert result["status"] == "timeout" and "whole time budget of 8 s" in result["message"]


def test_feedback_says_what_failed_and_hides_hidden_tests(graded):
    text = (graded / "feedback" / "jacobian_transposed.md").read_text()
    assert "**Score: 35 / 41** (graded)" in text
    assert "## q3: the numerical Jacobian (0 / 6)" in text
    assert "(it looks transposed)" in text  # the public check's message
    hidden = [line for line in text.splitlines() if "hidden check" in line]
    assert hidden and all("its details are not shown" in line for line in hidden)
    result = json.loads((graded / "results" / "jacobian_transposed.json").read_text())
    for test in result["tests"]:
        if test["visibility"] == "hidden" and test["message"]:
            assert test["message"] not in text
    page = (graded / "feedback" / "jacobian_transposed.html").read_text()
    assert "looks transposed" in page and "A hidden check: its details are not shown." in page
    text = (graded / "feedback" / "infinite_loop.md").read_text()
    assert "did not finish within 3 s (an infinite loop?)" in text
    text = (graded / "feedback" / "corrupt_json.md").read_text()
    assert "could not be graded" in text and "not valid JSON" in text


def test_report_has_plots_and_lists_who_needs_a_human_look(graded):
    page = (graded / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4
    look = page.split("Needs a human look")[1].split("<h2>")[0]
    for name in ("corrupt_json", "huge", "whole_budget_used", "read_hidden_tests",
                 "patch_numpy", "patch_builtins", "kill_parent", "infinite_loop"):
        assert f">{name}</a>" in look, name
    assert "replaces np.testing.assert_allclose" in look
    assert "opens &#39;solutions/gradcheck.py&#39;" in look
    assert ">correct_01</a>" not in look
    assert "Other files, not graded" in page and "attempt.ipynb" in page
    # What a submission says is text, never markup, in every page a TA or student opens.
    for text in (page, (graded / "feedback" / "html_injection.html").read_text()):
        assert "<script>" not in text and "&lt;script&gt;alert(1)" in text


def test_otter_layout_gradebook(graded):
    with open(graded / "final_grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "q1", "q2", "q3", "q4", "q5", "q6", "total_points_earned",
                       "percent_correct", "grading_status"]
    assert rows[1] == ["points-per-question", "7", "7", "6", "6", "9", "6", "41", "1", "--"]
    assert len(rows) == 2 + 68
    correct = next(r for r in rows if r[0].endswith("correct_01.ipynb"))
    assert correct[-3:] == ["41", "1", "Completed"]
    corrupt = next(r for r in rows if r[0].endswith("corrupt_json.ipynb"))
    assert corrupt[-1].startswith("error: corrupt_json.ipynb: ")


def test_summary_counts_and_a_second_run_grades_nothing(graded, course, submissions):
    class_files = ("gradebook.csv", "final_grades.csv", "report.html")
    stamps = {name: (graded / name).stat().st_mtime_ns for name in class_files}
    again = grade(course, submissions, graded)
    assert again.returncode == 0, again.stderr
    assert "nothing to grade: all 68 submissions are up to date" in again.stdout
    assert "68 submissions: 60 graded, 7 errors, 1 timeouts (0 graded in this run)" in \
        again.stdout
    assert "slowest: whole_budget_used" in again.stdout
    # Nothing they show changed: the gradebooks and the report are not rebuilt.
    assert again.stdout.splitlines()[-1].startswith("up to date, unchanged: ")
    assert {name: (graded / name).stat().st_mtime_ns for name in class_files} == stamps
    # One of them gone: it is written again.
    (graded / "report.html").unlink()
    third = grade(course, submissions, graded)
    assert third.stdout.splitlines()[-1].startswith("wrote ") and \
        (graded / "report.html").is_file()


def test_the_class_stage_holds_what_the_results_repeat_once(graded):
    """A thousand records fit in a class stage's memory: loaded for it, the results are the
    ones stored, with each test outcome, question score and string they share one object,
    the fingerprints compact arrays, and the key of what the class files show unchanged."""
    from array import array

    from grader.batch.state import Shared, json_default, stored

    names = sorted(p.stem for p in (graded / ".dlgrade").glob("*.json"))
    shared = Shared()
    loaded = {name: shared.load(graded, name) for name in names}
    plain = {name: stored(graded, name) for name in names}
    assert len(names) == 68
    for name in names:
        assert json.dumps(loaded[name], sort_keys=True, default=json_default) == \
            json.dumps(plain[name], sort_keys=True)
    passed = [(name, test) for name in names for test in loaded[name]["result"]["tests"]
              if test["outcome"] == "passed"
              and test["name"].endswith("::test_gradient_matches_the_derivative")]
    assert len(passed) > 10 and all(test is passed[0][1] for _, test in passed)
    prints = [r["fingerprints"] for r in loaded.values() if r.get("fingerprints")]
    assert prints and all(isinstance(p.hashes, array) for p in prints)
    # An edit of a shared result is an edit of a copy.
    from grader.batch.outputs import feedback

    before = json.dumps(passed[0][1])
    feedback(loaded[passed[0][0]]["result"], {})
    assert json.dumps(passed[0][1]) == before


def test_sharing_never_swaps_a_value_for_an_equal_one_written_differently(tmp_path):
    """1, 1.0 and True are equal, as are 0.0 and -0.0: each record keeps its own."""
    from grader.batch.state import Shared, state_path

    values = [1, 1.0, True, 0.0, -0.0, float("nan"), 10**30, "1"]
    for number, value in enumerate(values):
        path = state_path(tmp_path, f"s{number}")
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"result": {"questions": {"q1": {"score": value}}}}))
    shared = Shared()
    for number, value in enumerate(values):
        loaded = shared.load(tmp_path, f"s{number}")
        assert json.dumps(loaded) == json.dumps({"result": {"questions": {"q1": {"score":
                                                                                value}}}})


# ---------------------------------------------------------------- resuming

def _strip_volatile(out: Path) -> dict:
    """Everything a TA reads, minus what legitimately differs between runs: the time taken
    and (in the report) the test durations drawn from it."""
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and ".dlgrade" not in path.parts and path.name != "report.html":
            files[str(path.relative_to(out))] = path.read_bytes()
    return files


def test_killed_batch_resumes_to_the_same_outputs(graded, course, submissions, tmp_path):
    out = tmp_path / "out"
    # The four that only wait out a time limit are kept from the complete batch (as from an
    # earlier run): the 64 others are graded, killed, and resumed.
    _seed(out, graded, WAITING)
    process = subprocess.Popen([DLGRADE, "grade", str(course), *map(str, submissions), "-o",
                                str(out), "--jobs", "2"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(list((out / ".dlgrade").glob("*.json"))) < 20:
            assert process.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    kept = len(list((out / ".dlgrade").glob("*.json")))
    assert 20 <= kept < 68
    assert not (out / "gradebook.csv").exists()

    resumed = grade(course, submissions, out)
    assert resumed.returncode == 0, resumed.stderr
    assert f"grading {68 - kept} of 68 submissions" in resumed.stdout
    rows = [row["submission"] for row in gradebook(out)]
    assert len(rows) == len(set(rows)) == 68
    assert _strip_volatile(out) == _strip_volatile(graded)
    assert not list(out.rglob("*.tmp"))

    stamps = {p: p.stat().st_mtime_ns for p in (out / "results").iterdir()}
    third = grade(course, submissions, out)
    assert "nothing to grade: all 68 submissions are up to date" in third.stdout
    assert {p: p.stat().st_mtime_ns for p in (out / "results").iterdir()} == stamps


def test_only_changed_submissions_and_assignments_are_graded_again(course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("correct_01", "correct_02", "jacobian_transposed"):
        shutil.copy(CORPUS / "gradcheck" / f"{name}.ipynb", inbox)
    out = tmp_path / "out"
    assert "grading 3 of 3" in grade(course, [inbox], out).stdout
    fixed = (CORPUS / "gradcheck" / "correct_03.ipynb").read_bytes()
    (inbox / "jacobian_transposed.ipynb").write_bytes(fixed)  # a resubmission
    second = grade(course, [inbox], out)
    assert "grading 1 of 3 submissions, 2 up to date" in second.stdout
    assert {r["submission"]: r["total"] for r in gradebook(out)}["jacobian_transposed"] == "41"
    assert "grading 3 of 3" in grade(course, [inbox], out, "--force").stdout

    changed = shutil.copytree(course.parent.parent, tmp_path / "course2")
    tests = changed / "assignments" / "gradcheck" / "tests" / "test_public.py"
    tests.write_text(tests.read_text() + "\n# a comment changes the suite\n")
    assert "grading 3 of 3" in grade(changed / "assignments" / "gradcheck", [inbox],
                                     out).stdout


def test_ctrl_c_stops_cleanly_and_keeps_what_is_done(course, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(CORPUS / "gradcheck", inbox)
    out = tmp_path / "out"
    # As from a terminal: Ctrl-C's default action (a test run started in the background of a
    # shell would otherwise hand an ignored SIGINT down to the command).
    process = subprocess.Popen([DLGRADE, "grade", str(course), str(inbox), "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while len(list((out / ".dlgrade").glob("*.json"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted:" in stdout and "run the same command again" in stdout
    assert "Traceback" not in stderr


# ---------------------------------------------------------------- on a Dask cluster

def test_dask_local_cluster_gives_the_same_gradebook(graded, course, submissions, tmp_path):
    from distributed import LocalCluster

    # The cluster grades one submission of each kind; the others are kept from the complete
    # batch, and every class file is rebuilt from both.
    out = tmp_path / "out"
    _seed(out, graded, students(submissions) - SAMPLE)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        done = grade(course, submissions, out, "--scheduler", cluster.scheduler_address)
        assert done.returncode == 0, done.stderr
        assert f"grading {len(SAMPLE)} of 68 submissions" in done.stdout
        assert "on the Dask cluster at tcp://" in done.stdout
        assert (out / "gradebook.csv").read_bytes() == (graded / "gradebook.csv").read_bytes()
        assert _strip_volatile(out) == _strip_volatile(graded)
        again = grade(course, submissions, out, "--scheduler", cluster.scheduler_address)
        assert "nothing to grade: all 68 submissions are up to date" in again.stdout


# ---------------------------------------------------------------- the command line

def test_bad_command_lines_say_what_is_wrong(course, tmp_path):
    missing = grade(course, [tmp_path / "nowhere"], tmp_path / "out")
    assert missing.returncode == 2
    assert "nowhere: no such file or folder" in missing.stderr
    bad = run_dlgrade("grade", course, tmp_path, "-o", tmp_path / "out", "--jobs", "0")
    assert bad.returncode == 2 and "is not a positive whole number" in bad.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = grade(course, [empty], tmp_path / "out")
    assert nothing.returncode == 2 and "no submissions found" in nothing.stderr


# ---------------------------------------------------------------- as people see it

def _pixels_near(png: Path, colour: str, tolerance: int = 12) -> int:
    import matplotlib.image
    import numpy as np

    image = (matplotlib.image.imread(png)[..., :3] * 255).astype(int)
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int(np.all(np.abs(image - target) <= tolerance, axis=-1).sum())


def test_report_and_feedback_render_in_a_real_browser(graded, tmp_path):
    from browser import dom, screenshot

    from grader.batch.plots import BLUE, GREEN

    page = dom(graded / "report.html")
    assert "gradcheck: class report" in page and "Needs a human look (" in page
    shot = screenshot(graded / "report.html", tmp_path / "report.png", height=2400)
    # The plots are drawn: bars in the report's colours fill thousands of pixels.
    assert _pixels_near(shot, GREEN) > 5000 and _pixels_near(shot, BLUE) > 2000
    feedback = graded / "feedback" / "jacobian_transposed.html"
    assert "looks transposed" in dom(feedback)
    shot = screenshot(feedback, tmp_path / "feedback.png")
    assert _pixels_near(shot, "#b3261e") > 50  # the failed checks, in red


def test_report_figures_are_drawn_again_only_when_their_data_changes(tmp_path, monkeypatch):
    from grader.batch import plots

    questions = [{"id": "q1", "percent": 50.0}]
    tests = [{"name": "t.py::test_a", "rate": 50.0, "visibility": "hidden",
              "mean_seconds": 0.1, "max_seconds": 0.2}]
    first = plots.class_plots([1.0, 2.0], 2.0, questions, tests, tmp_path)
    assert sorted(first) == ["histogram", "questions", "slowest", "tests"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "histogram.json", "questions.json", "slowest.json", "tests.json"]

    drawn = []
    original = dict(plots.DRAWERS)
    monkeypatch.setattr(plots, "DRAWERS", {name: (lambda *a, _n=name: drawn.append(_n) or
                                                  original[_n](*a)) for name in original})
    assert plots.class_plots([1.0, 2.0], 2.0, questions, tests, tmp_path) == first
    assert drawn == []  # the same data: the kept figures, nothing drawn
    again = plots.class_plots([1.0, 1.0], 2.0, questions, tests, tmp_path)
    assert drawn == ["histogram"] and again["histogram"] != first["histogram"]
    assert {k: v for k, v in again.items() if k != "histogram"} == \
        {k: v for k, v in first.items() if k != "histogram"}


def test_a_grading_process_keeps_nothing_of_one_submission_for_the_next(tmp_path):
    """Each grading process collects the suite once and grades each submission in a fork of
    itself: what one grading changes in the suite's modules, its fixtures or the reference
    is gone for the next, so every copy of the same file gets the same result."""
    course = fixture_copy(tmp_path / "course", "toy")
    toy = course / "assignments" / "toy"
    (toy / "tests" / "test_state.py").write_text(
        "import pytest\n\nSEEN = []\n\n\n"
        "@pytest.mark.question('q1')\n"
        "def test_first_grading_in_this_process(submission, reference):\n"
        "    SEEN.append(1)\n"
        "    reference.TOUCHED = getattr(reference, 'TOUCHED', 0) + 1\n"
        "    assert len(SEEN) == 1 and reference.TOUCHED == 1, 'state from another grading'\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    reference = (toy / "examples" / "reference.ipynb").read_bytes()
    for number in range(6):  # one process grades them all, one after another
        (inbox / f"copy_{number}.ipynb").write_bytes(reference + b" " * number)
    out = tmp_path / "out"
    done = run_dlgrade("grade", toy, inbox, "-o", out, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    results = [json.loads((out / "results" / f"copy_{n}.json").read_text()) for n in range(6)]
    states = [next(t for t in r["tests"] if "test_state" in t["name"]) for r in results]
    assert [t["outcome"] for t in states] == ["passed"] * 6
    assert len({json.dumps({**r, "submission": ""}, sort_keys=True) for r in results}) == 1
