"""`pip install dlgrade` as a student gets it, and with the extras as a TA gets them: the wheel
built from this checkout in fresh virtual environments from the system's Python. The core
runs the public checks and `dlgrade check`; a command whose extra is missing says which one
to install, in one sentence."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import (
    BACKWARD,
    FIXTURES,
    FORWARD,
    TOY_MAX,
    WRONG_BACKWARD,
    WRONG_SCORE,
    fixture_copy,
    write_notebook,
)
from environments import fresh_venv, wheelhouse
from published import questions_of, solved, student_copy

# One worker builds the wheel and the environments (cached in /tmp per version of the source).
pytestmark = pytest.mark.xdist_group("install")

# What only the extras bring: a student's install holds none of them.
EXTRAS_ONLY = {"otter-grader", "distributed", "dask", "jinja2", "matplotlib", "tqdm", "scipy",
               "nbformat", "nbconvert", "nbclient", "ipykernel"}
CORRECT = FORWARD + "\n" + BACKWARD


@pytest.fixture(scope="module")
def core() -> Path:
    return fresh_venv("core", "dlgrade", find_links=wheelhouse())


@pytest.fixture(scope="module")
def grading() -> Path:
    return fresh_venv("grade", "dlgrade[grade]", find_links=wheelhouse())


def run(venv: Path, *args: str | Path, cwd: Path, program: str = "dlgrade",
        timeout: float = 120) -> subprocess.CompletedProcess:
    """A command of the venv as its user runs it: its bin/ first on PATH, nothing of this
    process's Python or dlgrade settings, no grading server left running."""
    environ = {name: value for name, value in os.environ.items()
               if name != "PYTHONPATH" and not name.startswith("DLGRADE_")}
    environ.update(PATH=f"{venv / 'bin'}:{os.environ['PATH']}", DLGRADE_SERVER="0",
                   MPLCONFIGDIR=str(cwd / ".matplotlib"))
    return subprocess.run([str(venv / "bin" / program), *map(str, args)], cwd=cwd,
                          env=environ, capture_output=True, text=True, timeout=timeout)


def installed(venv: Path) -> set[str]:
    done = run(venv, "list", "--format", "json", cwd=venv, program="pip")
    return {package["name"].lower() for package in json.loads(done.stdout)}


def said_about(output: str, question: str) -> str:
    """The line ``dlgrade check`` prints for ``question``."""
    return next(line for line in output.splitlines() if line.startswith(f"{question}:"))


def test_the_core_is_what_students_need_and_no_more(core, tmp_path):
    names = installed(core)
    assert {"dlgrade", "numpy", "pytest", "cloudpickle", "pyyaml"} <= names
    assert names & EXTRAS_ONLY == set()
    done = run(core, "-c", "import grader.student, dlgrade; print(dlgrade.Notebook.__name__)",
               cwd=tmp_path, program="python")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Notebook\n", "")


def test_the_public_checks_run_in_the_students_own_python(core, tmp_path):
    """What ``grader.check("q1")`` does in the student's kernel: the plugin and pytest, on
    the student's own namespace."""
    script = tmp_path / "checks.py"
    script.write_text(
        "import sys\n"
        "from grader.student.kernel import run_public_checks\n"
        "namespace = {}\n"
        "exec(open(sys.argv[1]).read(), namespace)\n"
        "for question in ('q1', 'q3'):\n"
        "    for result in run_public_checks(question, namespace, open(sys.argv[2]).read()):\n"
        "        print(question, result.outcome)\n")
    done = run(core, script, FIXTURES / "solutions" / "gradcheck.py",
               FIXTURES / "assignments" / "gradcheck" / "tests" / "test_public.py",
               cwd=tmp_path, program="python")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["q1 passed", "q3 passed"]


def test_dlgrade_check_runs_a_notebooks_checks_with_the_core_alone(core, fixture_course,
                                                                   tmp_path):
    questions = questions_of(fixture_course, "gradcheck")
    answered = student_copy(fixture_course, "gradcheck", tmp_path / "answered",
                            solved(fixture_course, tmp_path, "gradcheck"))
    done = run(core, "check", answered.name, cwd=answered.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert all("passed" in said_about(done.stdout, q) for q in questions), done.stdout

    blank = student_copy(fixture_course, "gradcheck", tmp_path / "blank")
    done = run(core, "check", blank.name, "-q", "q3", cwd=blank.parent)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "failed" in said_about(done.stdout, "q3"), done.stdout


def test_dlgrade_run_with_the_core_alone_grades_what_it_can_grade_fairly(core, tmp_path):
    """The core lacks scipy and matplotlib, which assignments allow by default: grading there
    would take points from submissions that use them, so it refuses, saying what to install;
    an assignment that allows numpy alone grades."""
    course = fixture_copy(tmp_path / "course", "toy", examples=False)
    toy = course / "assignments" / "toy"
    write_notebook(tmp_path / "answer.ipynb", [CORRECT])
    done = run(core, "run", toy, "answer.ipynb", "--json", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("dlgrade: error: toy allows scipy, matplotlib, which this Python "
                           "does not have: submissions that use them would lose points here; "
                           "install them (pip install scipy matplotlib, or \"dlgrade[grade]\" "
                           "for numpy, scipy and matplotlib)\n")
    config = toy / "assignment.yml"
    config.write_text(config.read_text() + "imports: [numpy]\n")
    done = run(core, "run", toy, "answer.ipynb", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == TOY_MAX


def test_without_their_extras_commands_say_which_to_install(core, tmp_path):
    course = fixture_copy(tmp_path / "course", "toy", "gradcheck", examples=False)
    (tmp_path / "inbox").mkdir()
    write_notebook(tmp_path / "inbox" / "ada.ipynb", [CORRECT])
    expected = {
        ("grade", str(course / "assignments" / "toy"), str(tmp_path / "inbox"), "-o",
         str(tmp_path / "out")):
            'grading a class needs the grading extras: pip install "dlgrade[grade]"',
        ("publish", "gradcheck"):
            'publishing an assignment needs the grading and Otter extras: '
            'pip install "dlgrade[grade,otter]"',
        ("new", "layers"):
            'starting an assignment needs the grading extras: pip install "dlgrade[grade]"',
    }
    for args, sentence in expected.items():
        done = run(core, *args, cwd=course)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", f"dlgrade: error: "
                                                                     f"{sentence}\n"), args
    assert not (tmp_path / "out").exists() and not (course / "assignments" / "layers").exists()
    assert not (course / "dist").exists()


def test_the_grade_extra_grades_a_class(grading, tmp_path):
    assert installed(grading) & {"otter-grader", "distributed", "ipykernel"} == set()
    course = fixture_copy(tmp_path / "course", "toy", examples=False)
    (tmp_path / "inbox").mkdir()
    write_notebook(tmp_path / "inbox" / "ada.ipynb", [CORRECT])
    write_notebook(tmp_path / "inbox" / "bob.ipynb", [FORWARD + "\n" + WRONG_BACKWARD])
    done = run(grading, "grade", course / "assignments" / "toy", "inbox", "-o", "out",
               "--jobs", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out" / "gradebook.csv") as book:
        totals = {row["submission"]: float(row["total"]) for row in csv.DictReader(book)}
    assert totals == {"ada": TOY_MAX, "bob": WRONG_SCORE}
    assert (tmp_path / "out" / "report.html").is_file()

    done = run(grading, "grade", course / "assignments" / "toy", "inbox", "-o", "out",
               "--force", "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, 'dlgrade: error: grading on a Dask cluster '
                                                 'needs the cluster extras: pip install '
                                                 '"dlgrade[cluster]"\n')


def test_the_all_extra_brings_every_extra_from_the_same_wheel(core, tmp_path):
    """``dlgrade[all]`` names ``dlgrade[grade,otter,cluster]``: pip resolves it to this wheel."""
    report = tmp_path / "report.json"
    done = run(core, "install", "--dry-run", "--ignore-installed", "--quiet", "--report",
               report, "--find-links", wheelhouse(), "dlgrade[all]", cwd=tmp_path, program="pip",
               timeout=300)
    assert done.returncode == 0, done.stderr
    chosen = {item["metadata"]["name"].lower(): item for item in
              json.loads(report.read_text())["install"]}
    assert {"otter-grader", "distributed", "scipy", "jinja2", "ipykernel"} <= set(chosen)
    assert chosen["dlgrade"]["download_info"]["url"].startswith(wheelhouse().as_uri())
    assert os.path.basename(chosen["dlgrade"]["download_info"]["url"]).endswith(".whl")
