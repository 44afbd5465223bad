"""Gradescope, natively: ``dlgrade publish NAME --gradescope`` writes ``dist/NAME-gradescope.zip``,
and its ``run_autograder`` grades an upload laid out as Gradescope lays it out (``source``,
``submission``, ``results``, ``submission_metadata.json`` under DLGRADE_AUTOGRADER_ROOT) with the
scores of ``dlgrade run``; the Otter zip shows per-question scores on the same schedule."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import (
    BACKWARD,
    FIXTURES,
    FORWARD,
    WRONG_BACKWARD,
    fixture_copy,
    grade_json,
    write_notebook,
)
from published import otter_run, solved

from grader.core.deadlines import LatePolicy
from grader.core.settings import AssignmentError, load_assignment
from grader.platforms.gradescope import (
    SECRET_IN_ZIP,
    gradescope_zip,
    late_fraction,
    submission_time,
)

pytestmark = pytest.mark.xdist_group("gradescope")  # one published course for the module
SECRET = "gradescope-secret-7c1e"
NAME = "forward_mode"
SAMPLE_METADATA = FIXTURES / "gradescope" / "submission_metadata.json"
LATE = "2018-08-01T01:05:00-07:00"  # 2 h 5 min after the sample's due date


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The fixture course's forward_mode, published with ``--gradescope`` and a secret."""
    course = fixture_copy(tmp_path_factory.mktemp("course"), NAME)
    done = subprocess.run(["dlgrade", "publish", "--draws", "1", "--gradescope", NAME],
                          cwd=course, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DLGRADE_SECRET": SECRET})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"and dist/{NAME}-gradescope.zip" in done.stdout
    return course


@pytest.fixture(scope="module")
def strict_course(tmp_path_factory) -> Path:
    """The toy assignment requiring the ``full`` sandbox level, its hidden tests shown after
    the due date."""
    course = fixture_copy(tmp_path_factory.mktemp("strict"), "toy", examples=False)
    with (course / "assignments" / "toy" / "assignment.yml").open("a") as config:
        config.write("sandbox: full\ngradescope:\n  hidden_tests: after_due_date\n")
    return course


def autograde(archive: Path, uploads: dict[str, bytes], folder: Path,
              metadata: dict | None = None, prefix: tuple[str, ...] = (), config: str = ""
              ) -> tuple[subprocess.CompletedProcess, dict | None, Path]:
    """Lay out ``folder`` as Gradescope's /autograder (the zip in source/, the upload in
    submission/, the metadata beside them) and run the zip's own run_autograder there, with
    setup.sh's virtual environment stood for by one whose python is this one; ``config`` is
    added to the zip's assignment.yml, as publishing with it would have."""
    root = folder / "autograder"
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(root / "source")
    if config:
        settings = root / "source" / "dlgrade-course" / "assignments" / NAME / "assignment.yml"
        settings.write_text(settings.read_text() + config)
    for name, data in uploads.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    (root / "submission").mkdir(exist_ok=True)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    venv = folder / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith("DLGRADE_")}
    environ.update(DLGRADE_VENV=str(venv), DLGRADE_AUTOGRADER_ROOT=str(root))
    done = subprocess.run([*prefix, "bash", str(root / "source" / "run_autograder")], cwd=root,
                          env=environ, capture_output=True, text=True, timeout=180)
    results = root / "results" / "results.json"
    return done, json.loads(results.read_text()) if results.exists() else None, root


def sample_metadata(**changes) -> dict:
    metadata = json.loads(SAMPLE_METADATA.read_text())
    metadata.update(changes)
    return metadata


def submissions(course: Path, folder: Path) -> dict[str, Path]:
    return {"correct": solved(course, folder, NAME),
            "wrong": course / "assignments" / NAME / "examples" / "bug_jvp_two_passes.ipynb",
            "blank": course / "student_template" / NAME / f"{NAME}.ipynb"}


# ---------------------------------------------------------------- the zip

def test_the_zip_installs_dlgrade_with_pip_and_is_byte_reproducible(published, monkeypatch):
    archive = published / "dist" / f"{NAME}-gradescope.zip"
    with zipfile.ZipFile(archive) as unpacked:
        names = set(unpacked.namelist())
        setup = unpacked.read("setup.sh").decode()
        run = unpacked.read("run_autograder").decode()
        mode = unpacked.getinfo("run_autograder").external_attr >> 16
        secret = unpacked.read(SECRET_IN_ZIP)
    assert {"setup.sh", "run_autograder", f"dlgrade-course/assignments/{NAME}/assignment.yml",
            f"dlgrade-course/solutions/{NAME}.py", "dlgrade-src/pyproject.toml",
            "dlgrade-src/grader/platforms/gradescope.py"} <= names
    assert not any("/examples/" in name or "__pycache__" in name for name in names)
    assert secret == SECRET.encode() and mode == 0o755
    assert '-m pip install' in setup and 'dlgrade-src[grade]' in setup
    assert not re.search(r"conda|miniforge|mamba|wget|curl", setup, re.IGNORECASE)
    assert "/opt/dlgrade-venv" in setup and "/root" not in setup
    assert run.rstrip().endswith(f"-m grader.platforms.gradescope {NAME}")
    # The same bytes from another process: fixed dates, order and permissions.
    monkeypatch.setenv("DLGRADE_SECRET", SECRET)
    assignment = load_assignment(str(published / "assignments" / NAME))
    assert gradescope_zip(assignment) == archive.read_bytes()


# ---------------------------------------------------------------- run_autograder

@pytest.mark.parametrize("kind", ["correct", "wrong", "blank"])
def test_results_json_scores_as_dlgrade_run(published, tmp_path, kind):
    submission = submissions(published, tmp_path)[kind]
    ours = grade_json(submission, published / "assignments" / NAME, env={"DLGRADE_SECRET": SECRET})
    done, results, root = autograde(published / "dist" / f"{NAME}-gradescope.zip",
                                    {f"{NAME}.ipynb": submission.read_bytes()}, tmp_path / "gs",
                                    sample_metadata())
    assert done.returncode == 0, done.stdout + done.stderr
    assert results["score"] == ours["score"]
    assert {"correct": ours["score"] == ours["max_score"], "wrong": 0 < ours["score"] <
            ours["max_score"], "blank": ours["score"] == 0}[kind]
    assert not (root / "source" / SECRET_IN_ZIP).exists()  # read, then deleted
    assert (results["output_format"], results["stdout_visibility"]) == ("md", "hidden")
    assert isinstance(results["execution_time"], int)
    assert "Submitted on time" in results["output"]
    # One entry per dlgrade test, numbered by question, with its score and visibility.
    tests = results["tests"]
    assert len(tests) == len(ours["tests"])
    assert sum(t["score"] for t in tests) == pytest.approx(ours["score"])
    questions = list(ours["questions"])
    numbers = [tuple(map(int, t["number"].split("."))) for t in tests]
    assert numbers == sorted(numbers) and {n for n, _ in numbers} == set(
        range(1, len(questions) + 1))
    expected = sorted((t["question"], t["name"].split("::")[-1], t["score"], t["max_score"],
                       "passed" if t["outcome"] == "passed" else "failed",
                       "visible" if t["visibility"] == "public" else "after_published")
                      for t in ours["tests"])
    assert sorted((questions[number - 1], t["name"].split(": ", 1)[1], t["score"],
                   t["max_score"], t["status"], t["visibility"])
                  for (number, _), t in zip(numbers, tests, strict=True)) == expected
    assert {t["output_format"] for t in tests} == {"md"}
    # Hidden tests' messages (they name inputs) appear nowhere; the total is not in the output
    # students see before the hidden tests are shown.
    shown = json.dumps(results)
    public = "\n".join(t["message"] for t in ours["tests"] if t["visibility"] == "public")
    for test in ours["tests"]:
        if test["visibility"] == "hidden" and test["message"]:
            first = test["message"].splitlines()[0]
            assert first in public or first not in shown
    assert f"{ours['score']:g} / " not in results["output"]
    assert "once your instructor publishes the grades" in results["output"]


def test_a_late_submission_is_said_late(published, tmp_path):
    blank = published / "student_template" / NAME / f"{NAME}.ipynb"
    done, results, _ = autograde(published / "dist" / f"{NAME}-gradescope.zip",
                                 {f"{NAME}.ipynb": blank.read_bytes()}, tmp_path,
                                 sample_metadata(created_at=LATE))
    assert done.returncode == 0, done.stderr
    assert "**Submitted late**: 2 h 5 min after the due date" in results["output"]


def test_the_late_policy_sets_the_score_gradescope_records(published, tmp_path):
    """A correct notebook 2 h 5 min late under 10% a day: Gradescope records 90% of it; the
    tests keep their points, and the output says why without giving the hidden total away."""
    policy = "late:\n  penalty: 0.1\n  per: day\n"
    correct = solved(published, tmp_path, NAME)
    done, results, _ = autograde(published / "dist" / f"{NAME}-gradescope.zip",
                                 {f"{NAME}.ipynb": correct.read_bytes()}, tmp_path,
                                 sample_metadata(created_at=LATE), config=policy)
    assert done.returncode == 0, done.stderr
    earned = sum(test["score"] for test in results["tests"])
    assert earned == sum(test["max_score"] for test in results["tests"])
    assert results["score"] == pytest.approx(0.9 * earned)
    assert "Late penalty: 10% of your score (10% of the score per day (or part of one) " \
           "late)." in results["output"]
    assert f"{results['score']:g}" not in results["output"]


def test_an_extension_in_gradescopes_metadata_moves_the_due_date(tmp_path):
    path = tmp_path / "submission_metadata.json"
    metadata = sample_metadata(created_at=LATE)
    metadata["users"][0]["assignment"] = {"due_date": "2018-08-02T23:00:00-07:00",
                                          "late_due_date": None}
    path.write_text(json.dumps(metadata))
    policy = LatePolicy(penalty=0.25, per="hour")
    assert submission_time(path, policy).startswith("Submitted on time")
    assert late_fraction(path, policy) == 0
    del metadata["users"][0]["assignment"]
    path.write_text(json.dumps(metadata))
    assert late_fraction(path, policy) == 0.75  # 3 hours started
    assert "Late penalty: 75% of your score" in submission_time(path, policy)
    del metadata["assignment"]["due_date"]  # no due date there: assignment.yml's
    path.write_text(json.dumps(metadata))
    assert submission_time(path, policy) is None
    own = datetime(2018, 8, 1, 0, 30, tzinfo=timezone(timedelta(hours=-7)))
    assert late_fraction(path, policy, own) == 0.25  # 35 min late: one hour started


def test_submission_time_reads_gradescopes_metadata(tmp_path):
    path = tmp_path / "submission_metadata.json"
    assert submission_time(path) is None  # no file: nothing to say
    path.write_text(json.dumps(sample_metadata()))
    assert submission_time(path).startswith("Submitted on time (2018-07-01 14:22 -07:00;")
    late = sample_metadata(created_at="2018-08-02T10:00:00Z")  # due 2018-08-01 06:00 UTC
    late["assignment"]["late_due_date"] = "2018-08-03T23:00:00-07:00"
    path.write_text(json.dumps(late))
    said = submission_time(path)
    # Both times as the due date is given, though Gradescope gave the submission's in UTC.
    assert said.startswith("**Submitted late**: 1 d 4 h after the due date (2018-08-02 03:00 "
                           "-07:00; due 2018-07-31 23:00 -07:00)")
    assert "within the late due date" in said
    late["assignment"]["late_due_date"] = "2018-08-01T00:00:00-07:00"
    path.write_text(json.dumps(late))
    assert "also after the late due date" in submission_time(path)
    path.write_text("{not json")
    assert "could not be read" in submission_time(path)


def test_forged_results_and_course_files_in_the_upload_earn_nothing(published, tmp_path):
    """A blank notebook uploaded with a results.json of full marks and a course of its own
    (a suite that passes everything, with module-level code): scored as the blank, and none
    of its files is read or run."""
    marker = tmp_path / "the upload's code ran"
    hostile = f"open({str(marker)!r}, 'w').write('ran')\n".encode()
    blank = published / "student_template" / NAME / f"{NAME}.ipynb"
    forged = {"score": 80.0, "tests": [{"name": "all", "score": 80.0, "max_score": 80.0}]}
    uploads = {f"{NAME}.ipynb": blank.read_bytes(),
               "results/results.json": json.dumps(forged).encode(),
               f"dlgrade-course/solutions/{NAME}.py": hostile,
               f"dlgrade-course/assignments/{NAME}/assignment.yml":
               (published / "assignments" / NAME / "assignment.yml").read_bytes(),
               f"dlgrade-course/assignments/{NAME}/tests/test_all.py": hostile +
               b"def test_all():\n    pass\n"}
    done, results, _ = autograde(published / "dist" / f"{NAME}-gradescope.zip", uploads,
                                 tmp_path / "gs", sample_metadata())
    assert done.returncode == 0, done.stderr
    assert results["score"] == 0 and len(results["tests"]) > 1
    assert all(t["name"] != "all" for t in results["tests"])
    assert not marker.exists()


@pytest.mark.parametrize("uploads, said", [
    ({"a.ipynb": b"{}", "b.ipynb": b"{}"}, "the upload holds 2 .ipynb files (a.ipynb, b.ipynb)"),
    ({"notes.txt": b"my answers"}, "no notebook (.ipynb) or Python file (.py) to grade"),
])
def test_an_upload_without_one_file_to_grade_gets_an_error_result(published, tmp_path, uploads,
                                                                  said):
    done, results, _ = autograde(published / "dist" / f"{NAME}-gradescope.zip", uploads,
                                 tmp_path, sample_metadata())
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert results["score"] == 0 and results["tests"]
    assert all(t["status"] == "failed" for t in results["tests"])
    assert "**Your upload was not graded.**" in results["output"]
    assert said in results["output"].replace("\\", "")


def test_hidden_tests_after_the_due_date_and_a_lone_py_file(strict_course, tmp_path):
    archive = tmp_path / "toy-gradescope.zip"
    archive.write_bytes(gradescope_zip(load_assignment(str(strict_course / "assignments/toy"))))
    script = (FORWARD + "\n" + WRONG_BACKWARD).encode()
    done, results, _ = autograde(archive, {"answer.py": script}, tmp_path / "gs")
    assert done.returncode == 0, done.stderr
    assert results["score"] == 6.0  # q1 only: the wrong backward loses q2
    assert "graded **answer.py**" in results["output"]
    assert "shown after the due date" in results["output"]
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_due_date"}
    assert "Submitted" not in results["output"]  # no metadata: nothing said of the time


def test_workers_that_cannot_read_python_fail_loudly_and_write_nothing(strict_course, tmp_path):
    """Docker's default profile (simulated: no namespaces, no mounts) with this Python, which
    lies under /root where the workers' own uids cannot read it (setup.sh puts its venv in
    /opt): no results.json, so Gradescope reports a failed autograder, never a 0."""
    archive = tmp_path / "toy-gradescope.zip"
    archive.write_bytes(gradescope_zip(load_assignment(str(strict_course / "assignments/toy"))))
    correct = write_notebook(tmp_path / "toy.ipynb", [FORWARD + "\n" + BACKWARD])
    docker_like = (sys.executable, "-W", "ignore::RuntimeWarning", "-m",
                   "grader.sandbox.seccomp", "docker_like", "--")
    done, results, _ = autograde(archive, {"toy.ipynb": correct.read_bytes()},
                                 tmp_path / "gs", prefix=docker_like)
    assert (done.returncode, results) == (3, None), done.stdout + done.stderr
    assert "the autograder is misconfigured" in done.stderr
    assert "cannot read the Python installation" in done.stderr


def test_a_sandbox_below_the_required_level_writes_nothing(strict_course, tmp_path,
                                                          monkeypatch, capsys):
    """The level check before anything is graded: ``full`` required, ``contained`` reached
    (as under Docker's default profile): exit code 3 and no results.json."""
    from grader.platforms import gradescope

    contained = {"level": "contained", "layers": ["landlock", "seccomp", "uid", "rlimits"],
                 "missing": {"namespaces": "unshare: Operation not permitted",
                             "filesystem": "mount: Operation not permitted"}}
    monkeypatch.setattr(gradescope, "probe", lambda zygote: (contained, 0.01))
    monkeypatch.setenv("DLGRADE_SECRET", SECRET)
    archive = gradescope_zip(load_assignment(str(strict_course / "assignments/toy")))
    monkeypatch.delenv("DLGRADE_SECRET")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(io.BytesIO(archive)) as unpacked:
        unpacked.extractall(root / "source")
    (root / "submission").mkdir()
    write_notebook(root / "submission" / "toy.ipynb", [FORWARD])
    monkeypatch.setenv("DLGRADE_AUTOGRADER_ROOT", str(root))
    assert gradescope.main(["toy"]) == 3
    assert not (root / "results" / "results.json").exists()
    said = capsys.readouterr().err
    assert "misconfigured" in said and "requires 'full'" in said
    assert (root / "source" / SECRET_IN_ZIP).read_text() == SECRET  # nothing graded, not read


def test_hidden_tests_are_shown_once_grades_are_published_by_default():
    course = FIXTURES / "assignments" / "toy"
    assert load_assignment(str(course)).gradescope_hidden_tests == "after_published"


@pytest.mark.parametrize("setting, complaint", [
    ("gradescope:\n  hidden_tests: sometimes\n",
     "gradescope.hidden_tests must be one of after_published, after_due_date, got 'sometimes'"),
    ("gradescope:\n  show: always\n", "unknown key 'gradescope.show' (known: hidden_tests)"),
    ("gradescope: after_published\n", "gradescope must be a mapping"),
])
def test_a_bad_gradescope_setting_names_the_file_and_key(tmp_path, setting, complaint):
    course = fixture_copy(tmp_path, "toy", examples=False)
    config = course / "assignments" / "toy" / "assignment.yml"
    config.write_text(config.read_text() + setting)
    with pytest.raises(AssignmentError) as raised:
        load_assignment(str(config.parent))
    assert str(raised.value).startswith(f"{config}: ") and complaint in str(raised.value)


# ---------------------------------------------------------------- the Otter zip

def test_the_otter_zip_shows_question_scores_once_grades_are_published(published, tmp_path):
    """Otter gives each question an entry; with ``show_hidden`` it is ``after_published``
    (without, ``hidden``: students never saw a per-question score)."""
    wrong = submissions(published, tmp_path)["wrong"]
    results = otter_run(published / "dist" / f"{NAME}-autograder.zip", wrong,
                            tmp_path / "out")
    entries = {t["name"]: t for t in results["tests"]}
    assert entries.pop("Public Tests")["visibility"] == "visible"
    assert {t["visibility"] for t in entries.values()} == {"after_published"}
    ours = grade_json(wrong, published / "assignments" / NAME, env={"DLGRADE_SECRET": SECRET})
    assert {q: t["score"] for q, t in entries.items()} == \
        {q: s["score"] for q, s in ours["questions"].items()}


def test_the_otter_zip_follows_the_setting_after_the_due_date(strict_course, tmp_path):
    from grader.platforms.otter import autograder_zip

    archive = tmp_path / "toy-autograder.zip"
    archive.write_bytes(autograder_zip(load_assignment(str(strict_course / "assignments/toy"))))
    wrong = write_notebook(tmp_path / "toy.ipynb", [FORWARD + "\n" + WRONG_BACKWARD])
    results = otter_run(archive, wrong, tmp_path / "out")
    assert {t["name"]: t["visibility"] for t in results["tests"]} == {
        "Public Tests": "visible", "q1": "after_due_date", "q2": "after_due_date"}
    assert {t["name"]: t.get("score") for t in results["tests"]} == {
        "Public Tests": None, "q1": 6.0, "q2": 0.0}


# ---------------------------------------------------------------- setup.sh

@pytest.mark.slow
def test_setup_sh_installs_a_grader_that_grades_under_dockers_default_profile(published,
                                                                            tmp_path):
    """setup.sh as Gradescope runs it, from the system's Python and the package index, its
    venv in a folder every user can read (as /opt is); then run_autograder with that venv
    under Docker's default profile (simulated: no namespaces, no mounts), as on Gradescope:
    graded at the ``contained`` level, the workers' own uids reading that Python."""
    if not os.access("/usr/bin/python3", os.X_OK):
        pytest.skip("/usr/bin/python3 is not installed (tests/system-packages.txt)")
    source = tmp_path / "source"
    with zipfile.ZipFile(published / "dist" / f"{NAME}-gradescope.zip") as unpacked:
        unpacked.extractall(source)
    opt = Path(tempfile.mkdtemp(prefix="dlgrade-test-opt-"))  # pytest's tmp_path is private
    try:
        opt.chmod(0o755)
        venv = opt / "dlgrade-venv"
        environ = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"
                   and not name.startswith(("DLGRADE_", "VIRTUAL_ENV"))}
        done = subprocess.run(["bash", str(source / "setup.sh")], cwd=source, text=True,
                              capture_output=True, timeout=900,
                              env={**environ, "DLGRADE_VENV": str(venv)})
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"dlgrade installed in {venv}" in done.stdout
        correct = solved(published, tmp_path, NAME)
        docker_like = (str(venv / "bin" / "python"), "-W", "ignore::RuntimeWarning", "-m",
                       "grader.sandbox.seccomp", "docker_like", "--")
        root = tmp_path / "autograder"
        shutil.copytree(source, root / "source")
        (root / "submission").mkdir()
        shutil.copy(correct, root / "submission" / f"{NAME}.ipynb")
        graded = subprocess.run([*docker_like, "bash", str(root / "source" / "run_autograder")],
                                cwd=root, capture_output=True, text=True, timeout=180,
                                env={**environ, "DLGRADE_VENV": str(venv),
                                     "DLGRADE_AUTOGRADER_ROOT": str(root)})
        assert graded.returncode == 0, graded.stdout + graded.stderr
    finally:
        shutil.rmtree(opt, ignore_errors=True)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    assert "sandbox: contained" in graded.stdout and "contained" in results["output"]
