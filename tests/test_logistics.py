"""A TA's grading day, end to end with the real `dlgrade grade`: platforms' exports in their
own layouts (Gradescope's export with a group and a late submission, Canvas's download with a
late marker and a resubmission, Moodle's download with its grading worksheet), a roster with
a missing student, due dates, a late policy, extensions, times given by the TA and changes by
hand; the rows, penalties, feedback and LMS files a TA uploads; and each malformed input a
clear error before anything is graded."""

from __future__ import annotations

import csv
import html
import os
import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import BACKWARD, FORWARD, TOY, WRONG_BACKWARD, run_dlgrade, write_notebook

from grader.core.deadlines import DeadlineError, LatePolicy, parse_due, parse_duration

PDT = timezone(timedelta(hours=-7))
DUE = datetime(2026, 10, 9, 23, 59, tzinfo=PDT)
POLICY = """due: 2026-10-09T23:59:00-07:00
late:
  grace: 15m
  penalty: 0.1
  per: day
  cap: 0.5
  zero_after: 7d
"""
RIGHT, WRONG = [FORWARD, BACKWARD], [FORWARD, WRONG_BACKWARD]  # 16 and 6 of 16 points
LMS = Path(__file__).parent / "fixtures" / "lms"


@pytest.fixture
def course(tmp_path) -> Path:
    """The toy assignment (q1 6 points, q2 10), due 2026-10-09 23:59 -07:00, 10% a day."""
    root = tmp_path / "course"
    for folder in ("assignments", "solutions"):
        shutil.copytree(TOY.parent.parent / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    config = root / "assignments" / "toy" / "assignment.yml"
    config.write_text(config.read_text() + POLICY)
    return root / "assignments" / "toy"


def grade(course: Path, *args, out: Path) -> tuple[dict[str, dict], str]:
    done = run_dlgrade("grade", course, *args, "-o", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return table(out / "gradebook.csv"), done.stdout


def table(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row[next(iter(row))]: row for row in csv.DictReader(handle)}


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def at(path: Path, moment: datetime) -> Path:
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    return path


def page(path: Path) -> str:
    return html.unescape(path.read_text())


def canvas_imports(table: list[list[str]]) -> dict[str, float]:
    """What Canvas's gradebook import (canvas-lms lib/gradebook_importer.rb) takes from
    ``table``: Canvas user id -> score of the one assignment column. Its header rules:
    ``Student`` in the first cell and ``ID`` in the second, ``SIS User ID`` only followed by
    ``SIS Login ID``, ``Section`` as the last student column; a ``Points Possible`` row
    anywhere; an assignment header ``Title (id)`` or a title; scores numbers, ``-`` or empty."""
    header, *body = table
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    students = 3
    if "SIS Login ID" in header[2]:
        students += 1
    elif "SIS User ID" in header[2] and "SIS Login ID" in header[3]:
        students += 2
    assert "Section" in header[students - 1]
    assert len(header) == students + 1  # one assignment, nothing read-only
    scores = {}
    for row in body:
        assert len(row) == len(header)
        if "Points Possible" in row[0]:
            assert float(row[students]) > 0
            continue
        assert row[1].isdigit() or any(row[2:students - 1])  # an id Canvas matches on
        scores[row[1]] = float(row[students])
    return scores


def moodle_imports(table: list[list[str]]) -> dict[str, float]:
    """What Moodle's worksheet upload (mod/assign/feedback/offline/importgradeslib.php)
    takes: ``Identifier``, ``Grade`` and ``Last modified (grade)`` columns found by their
    English names, the id ``Participant N`` with the prefix cut off, a grade from 0 to the
    maximum, a time ``strtotime`` reads; participant id -> grade."""
    header, *body = table
    at = {name: header.index(name) for name in ("Identifier", "Grade",
                                                "Last modified (grade)", "Maximum grade")}
    grades = {}
    for row in body:
        identifier = row[at["Identifier"]]
        assert identifier.startswith("Participant ")
        grade = float(row[at["Grade"]])
        assert 0 <= grade <= float(row[at["Maximum grade"]])
        datetime.strptime(row[at["Last modified (grade)"]], "%Y-%m-%d %H:%M:%S")
        grades[identifier.removeprefix("Participant ")] = grade
    return grades


# ---------------------------------------------------------------- Gradescope's export

GRADESCOPE_METADATA = """---
submission_217048562:
  :submitters:
  - :name: Student One
    :sid: '06700001'
    :email: one@uni.edu
  - :name: Student Two
    :sid: '06600002'
    :email: two@uni.edu
  :created_at: 2026-10-10 06:30:00.577170000 Z
  :score: 0.0
  :status: processed
  :results:
    score: 0.0
    tests: []
    output: This assignment does not have an autograder configured.
    extra_data:<sp>
    visibility:<sp>
  :history:
  - :submitters: []
    :created_at: 2026-10-09 06:59:12.419858000 Z
    :score: 0.0
    :status: processed
    :id: 216688425
submission_216667716:
  :submitters:
  - :name: Solo Student
    :sid: '06700003'
    :email: solo@uni.edu
  :created_at: 2026-10-12 05:25:21.716840000 Z
  :score: 0.0
  :status: processed
  :history: []
""".replace("<sp>", " ")  # Ruby's YAML writes a null as "key: ", its space kept


def gradescope_export(folder: Path) -> Path:
    """Gradescope's "Export Submissions" zip: assignment_ID_export/ holding the metadata and a
    folder per active submission (layout and metadata as a real export has them)."""
    archive = folder / "assignment_5551_export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        top = "assignment_5551_export/"
        bundle.writestr(top + "submission_metadata.yml", GRADESCOPE_METADATA)
        for submission, cells in (("submission_217048562", RIGHT),
                                  ("submission_216667716", WRONG)):
            notebook = write_notebook(folder / "nb.ipynb", cells)
            bundle.write(notebook, f"{top}{submission}/toy.ipynb")
            bundle.writestr(f"{top}{submission}/notes.txt", "scratch")
    return archive


def test_a_gradescope_export_gives_each_group_member_a_row_with_the_platforms_time(
        course, tmp_path):
    book, said = grade(course, gradescope_export(tmp_path), out=tmp_path / "out")
    assert set(book) == {"one@uni.edu", "two@uni.edu", "solo@uni.edu"}  # no metadata row
    for member, sid in (("one@uni.edu", "06700001"), ("two@uni.edu", "06600002")):
        row = book[member]
        assert (row["total"], row["raw_total"], row["penalty"], row["late_by"]) == \
            ("16", "16", "0", "0")
        assert row["submitted_at"] == "2026-10-09T23:30:00-07:00"  # Gradescope's UTC, in PDT
        assert row["submitted_at_from"] == "Gradescope" and row["sid"] == sid
    late = book["solo@uni.edu"]
    assert late["name"] == "Solo Student" and late["raw_total"] == "6"
    # 1 d 22 h 26 min late: two days started, 10% each of the 6 points earned
    assert (late["late_by"], late["penalty"], late["total"]) == ("46.44", "1.2", "4.8")
    feedback = (tmp_path / "out" / "feedback" / "solo@uni.edu.md").read_text()
    assert "**Score: 4.8 / 16**" in feedback
    assert "Submitted 2026-10-11 22:25 -07:00, 1 d 22 h 26 min after the due date " \
           "2026-10-09 23:59 -07:00." in feedback
    assert "Score before the late penalty: 6; penalty: 1.2; score: 4.8." in feedback
    report = page(tmp_path / "out" / "report.html")
    assert "Due 2026-10-09 23:59 -07:00" in report and "1 d 22 h 26 min" in report
    # Emails, but no Moodle participant ids: Moodle's gradebook import by email
    moodle = rows(tmp_path / "out" / "moodle.csv")
    assert moodle[0] == ["Email address", "Full name", "An affine layer, forward and backward",
                         "Feedback: An affine layer, forward and backward"]
    assert ["solo@uni.edu", "Solo Student", "4.8"] in [line[:3] for line in moodle]
    assert "wrote" in said and "moodle.csv" in said
    assert not (tmp_path / "out" / "canvas.csv").exists()  # no Canvas id anywhere


def test_a_malformed_gradescope_metadata_file_stops_the_batch_before_grading(course, tmp_path):
    export = tmp_path / "export"
    (export / "submission_1").mkdir(parents=True)
    write_notebook(export / "submission_1" / "toy.ipynb", RIGHT)
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: A\n  :created_at: [never\n")
    done = run_dlgrade("grade", course, export, "-o", tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "submission_metadata.yml, line 5: not valid YAML" in done.stderr
    assert not (tmp_path / "out" / "results").exists()
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters: []\n  :created_at: 2026-10-10 06:30:00.5 Z\n")
    done = run_dlgrade("grade", course, export, "-o", tmp_path / "out")
    assert done.returncode == 2
    assert "submission_metadata.yml, line 1, submission_1: no :submitters: list" in done.stderr
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :email: a@b.c\n  :created_at: yesterday\n")
    done = run_dlgrade("grade", course, export, "-o", tmp_path / "out")
    assert done.returncode == 2 and ":created_at: is not a date and time" in done.stderr
    (export / "submission_metadata.yml").write_text(  # nested aliases: a YAML bomb
        "submission_1:\n  :submitters:\n  - :email: &a [x, x, x]\n    :name: [*a, *a]\n"
        "  :created_at: 2026-10-10 06:30:00.5 Z\n")
    done = run_dlgrade("grade", course, export, "-o", tmp_path / "out")
    assert done.returncode == 2 and ":name: must be a short text, got a list" in done.stderr
    assert not (tmp_path / "out" / "results").exists()


# ---------------------------------------------------------------- Canvas's download

CANVAS_EXPORT = LMS / "canvas_gradebook_export.csv"  # a roster as Canvas exports it


def canvas_download(folder: Path) -> Path:
    """Canvas's "Download Submissions" zip: sortable name, LATE, user id, file id, file name;
    Bob uploaded twice (Canvas renamed the second toy-1.ipynb), both after the due date. The
    entries' dates are the zip's, read in the course's zone."""
    archive = folder / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, cells, moment in (
                ("doejane_12345_900_toy.ipynb", RIGHT, (2026, 10, 9, 23, 0, 0)),
                ("smithbob_LATE_12346_901_toy.ipynb", WRONG, (2026, 10, 10, 0, 5, 0)),
                ("smithbob_LATE_12346_950_toy-1.ipynb", RIGHT, (2026, 10, 10, 0, 40, 0)),
                ("mallory_12399_990_toy.ipynb", RIGHT, (2026, 10, 9, 12, 0, 0))):
            notebook = write_notebook(folder / "nb.ipynb", cells)
            info = zipfile.ZipInfo(name, date_time=moment)
            bundle.writestr(info, notebook.read_bytes())
    return archive


def test_a_canvas_download_with_a_roster_gives_canvas_its_import_file(course, tmp_path):
    (tmp_path / "roster.csv").write_text(CANVAS_EXPORT.read_text(),
                                         encoding="utf-8-sig")  # as Excel saves it
    book, said = grade(course, canvas_download(tmp_path), "--roster", tmp_path / "roster.csv",
                       out=tmp_path / "out")
    assert list(book) == ["doejane", "smithbob", "aabsent", "mallory"]  # roster order first
    assert book["doejane"]["total"] == "16" and book["doejane"]["late_by"] == "0"
    assert book["doejane"]["submitted_at_from"] == "zip entry"
    bob = book["smithbob"]  # the resubmission is graded: 16 points, 41 minutes late
    assert (bob["raw_total"], bob["late_by"], bob["penalty"], bob["total"]) == \
        ("16", "0.68", "1.6", "14.4")
    assert bob["submitted_at"] == "2026-10-10T00:40:00-07:00"
    assert bob["Section"] == "Section A" and "Canvas marks it late" in bob["notes"]
    absent = book["aabsent"]
    assert (absent["status"], absent["total"], absent["max_total"]) == ("missing", "0", "16")
    assert absent["Student"] == "Absent, Al"
    assert book["mallory"]["status"] == "graded" and book["mallory"]["Student"] == ""
    report = page(tmp_path / "out" / "report.html")
    assert "Submitted, but not on the roster (1): mallory" in report
    assert "nothing submitted (1, status missing, score 0): aabsent" in report
    assert "smithbob_LATE_12346_901_toy.ipynb" in report  # the superseded upload is listed
    canvas = rows(tmp_path / "out" / "canvas.csv")
    assert canvas == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
         "An affine layer, forward and backward (777)"],
        ["    Points Possible", "", "", "", "", "16"],
        ["Doe, Jane", "12345", "S1", "jdoe", "Section A", "16"],
        ["Smith, Bob", "12346", "S2", "bsmith", "Section A", "14.4"],
        ["Absent, Al", "12347", "S3", "aabsent", "Section B", "0"],
        ["mallory", "12399", "", "", "", "16"]]  # known to Canvas by the file's user id
    assert "canvas.csv: Canvas gradebook import for 4 student(s)" in said
    assert canvas_imports(canvas) == {"12345": 16.0, "12346": 14.4, "12347": 0.0,
                                      "12399": 16.0}


def test_a_changed_roster_rebuilds_the_rows_from_the_state_and_grades_nothing(course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("ada", "bo"):
        at(write_notebook(inbox / f"{name}.ipynb", RIGHT), DUE)
    (tmp_path / "roster.csv").write_text("student,section\nada,A\ncy,B\n")
    book, said = grade(course, inbox, "--roster", tmp_path / "roster.csv", out=tmp_path / "out")
    assert {k: v["status"] for k, v in book.items()} == \
        {"ada": "graded", "cy": "missing", "bo": "graded"}
    assert "1 on the roster submitted nothing (status missing): cy" in said
    (tmp_path / "roster.csv").write_text("student,section\nbo,C\nada,A\ndi,D\n")
    book, said = grade(course, inbox, "--roster", tmp_path / "roster.csv", out=tmp_path / "out")
    assert "nothing to grade" in said
    assert list(book) == ["bo", "ada", "di"]  # the roster's order; cy is gone
    assert (book["bo"]["section"], book["bo"]["total"], book["di"]["status"]) == \
        ("C", "16", "missing")
    report = page(tmp_path / "out" / "report.html")
    assert "not on the roster" not in report


# ---------------------------------------------------------------- Moodle's download

WORKSHEET = LMS / "moodle_grading_worksheet.csv"  # a roster as Moodle gives it


def test_a_moodle_download_and_its_worksheet_give_back_a_worksheet(course, tmp_path):
    inbox = tmp_path / "moodle"
    folder = inbox / "Ana López_637310_assignsubmission_file_"
    folder.mkdir(parents=True)
    at(write_notebook(folder / "toy.ipynb", WRONG), DUE - timedelta(hours=1))
    at(write_notebook(folder / "scratch.ipynb", RIGHT), DUE - timedelta(minutes=30))
    shutil.copy(WORKSHEET, tmp_path / "worksheet.csv")
    book, said = grade(course, inbox, "--roster", tmp_path / "worksheet.csv",
                       out=tmp_path / "out")
    ana, andrew = book["Ana López"], book["andrew@uni.edu"]  # the roster's email names him
    assert ana["total"] == "6" and ana["Email address"] == "ana@uni.edu"  # toy.ipynb graded
    assert ana["submitted_at_from"] == "file" and ana["late_by"] == "0"
    assert andrew["status"] == "missing"
    worksheet = rows(tmp_path / "out" / "moodle.csv")
    assert worksheet[0] == ["Identifier", "Full name", "Email address", "Status", "Grade",
                            "Maximum grade", "Grade can be changed", "Last modified (grade)",
                            "Feedback comments"]
    assert worksheet[1][:7] == ["Participant 637310", "Ana López", "ana@uni.edu",
                                "Submitted for grading", "6", "16", "Yes"]
    assert worksheet[2][:5] == ["Participant 596644", "Andrew Sayler", "andrew@uni.edu",
                                "No submission", "0"]
    assert moodle_imports(worksheet) == {"637310": 6.0, "596644": 0.0}
    report = page(tmp_path / "out" / "report.html")
    assert "scratch.ipynb" in report  # the notebook not taken is named


# ---------------------------------------------------------------- a JupyterHub's homes

def test_a_jupyterhub_tree_grades_the_assignment_notebook_not_newer_scratch(course, tmp_path):
    """Homes collected from a hub (or nbgrader's exchange): a folder per student holding the
    assignment's notebook among newer scratch notebooks and Jupyter's checkpoints."""
    homes = tmp_path / "homes"
    for student, cells in (("ada", RIGHT), ("bo", WRONG)):
        work = homes / student / "toy"
        (work / ".ipynb_checkpoints").mkdir(parents=True)
        at(write_notebook(work / "toy.ipynb", cells), DUE - timedelta(hours=2))
        at(write_notebook(work / "scratch.ipynb", WRONG if cells is RIGHT else RIGHT),
           DUE + timedelta(days=1))
        write_notebook(work / ".ipynb_checkpoints" / "toy-checkpoint.ipynb", RIGHT)
        (homes / student / "notes.py").write_text("x = 1\n")
    book, _ = grade(course, homes, out=tmp_path / "out")
    assert {k: (v["total"], v["late_by"]) for k, v in book.items()} == \
        {"ada": ("16", "0"), "bo": ("6", "0")}  # toy.ipynb's time: on time
    report = page(tmp_path / "out" / "report.html")
    every = report.split("<h2>Every submission</h2>")[1].split("<h2>")[0]
    assert "homes/ada/toy/toy.ipynb" in every and "scratch.ipynb" not in every
    others = report.split("Other files, not graded")[1]
    for student in ("ada", "bo"):
        assert f"homes/{student}/toy/scratch.ipynb" in others
        assert f"homes/{student}/notes.py" in others
    assert "checkpoint" not in report


# ---------------------------------------------------------------- extensions, times, overrides

def test_extensions_times_and_overrides_change_the_rows_and_are_kept_for_later_runs(
        course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, cells, late in (("ada", RIGHT, timedelta(days=2, hours=1)),
                              ("bo", RIGHT, timedelta(days=2, hours=1)),
                              ("cy", WRONG, timedelta(hours=3)),
                              ("di", RIGHT, timedelta(days=9)),
                              ("ed", WRONG, -timedelta(hours=2))):
        at(write_notebook(inbox / f"{name}.ipynb", cells), DUE + late)
    (tmp_path / "extensions.csv").write_text(
        "student,due,days\nada,,3\nbo,2026-10-11 12:00,\n")
    (tmp_path / "times.csv").write_text("student,submitted_at\ncy,2026-10-09T20:00:00-07:00\n")
    (tmp_path / "overrides.csv").write_text(
        "student,question,points,delta,reason\n"
        "ed,q2,,+3,partial credit for the right idea in q2\n"
        "di,total,12,,late work accepted by the instructor\n")
    out = tmp_path / "out"
    book, said = grade(course, inbox, "--extensions", tmp_path / "extensions.csv",
                       "--submitted-at", tmp_path / "times.csv",
                       "--overrides", tmp_path / "overrides.csv", out=out)
    assert "using: due 2026-10-09 23:59 -07:00, 2 extension(s), 1 time(s) given, " \
           "2 override(s)" in said
    assert book["ada"]["late_by"] == "0" and book["ada"]["total"] == "16"  # 3 extra days
    assert book["ada"]["due"] == "2026-10-12T23:59:00-07:00"
    assert book["bo"]["penalty"] == "1.6"  # due 2026-10-11 12:00 in the course's zone
    assert book["cy"]["submitted_at_from"] == "given" and book["cy"]["penalty"] == "0"
    assert (book["di"]["raw_total"], book["di"]["penalty"], book["di"]["total"]) == \
        ("16", "16", "12")  # zero after 7 days, then set by hand
    ed = book["ed"]
    assert (ed["q2"], ed["raw_total"], ed["total"]) == ("3", "9", "9")
    assert "q2 +3 by hand: partial credit for the right idea in q2" in ed["notes"]
    feedback = (out / "feedback" / "ed.md").read_text()
    assert "## q2: affine backward (3 / 10)" in feedback
    assert "Score set by hand: partial credit for the right idea in q2" in feedback
    assert "late work accepted by the instructor" in (out / "feedback" / "di.md").read_text()
    assert "Due date extended by 3 d." in (out / "feedback" / "ada.md").read_text()
    report = page(out / "report.html")
    assert "Changed by hand (2)" in report

    # A later run without the files: nothing graded, every row as it was.
    before = (out / "gradebook.csv").read_bytes()
    again, said = grade(course, inbox, out=out)
    assert "nothing to grade" in said and "2 override(s)" in said
    assert (out / "gradebook.csv").read_bytes() == before
    # A header-only overrides file clears them; the rows are rebuilt, nothing is graded again.
    (tmp_path / "none.csv").write_text("student,question,points,reason\n")
    cleared, said = grade(course, inbox, "--overrides", tmp_path / "none.csv", out=out)
    assert "nothing to grade" in said and "override" not in said
    assert cleared["ed"]["total"] == "6" and cleared["di"]["total"] == "0"
    assert "by hand" not in (out / "feedback" / "ed.md").read_text()


def test_a_new_due_date_rebuilds_the_rows_without_grading_again(course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    at(write_notebook(inbox / "ada.ipynb", RIGHT), DUE + timedelta(hours=5))
    book, _ = grade(course, inbox, out=tmp_path / "out")
    assert book["ada"]["total"] == "14.4"
    config = course / "assignment.yml"
    config.write_text(config.read_text().replace("2026-10-09T23:59:00-07:00",
                                                 "2026-10-10 12:00 America/Los_Angeles"))
    book, said = grade(course, inbox, out=tmp_path / "out")
    assert "nothing to grade" in said
    assert book["ada"]["total"] == "16" and book["ada"]["late_by"] == "0"
    assert book["ada"]["due"] == "2026-10-10T12:00:00-07:00"
    assert "**Score: 16 / 16**" in (tmp_path / "out" / "feedback" / "ada.md").read_text()


# ---------------------------------------------------------------- bad input

BAD_INPUTS = {
    "duplicate roster id": ("--roster", "student,section\nada,A\nbo,B\nada,C\n",
                            "roster.csv, line 4: student 'ada' is already on line 2"),
    "roster without ids": ("--roster", "section,grade\nA,1\n",
                           "roster.csv, line 1: no column names the students"),
    "roster ragged row": ("--roster", "student\nada,extra\n",
                          "roster.csv, line 2: 2 cells, but the header has 1 columns"),
    "roster not UTF-8": ("--roster", b"student\nb\xe9a\n", "roster.csv: not UTF-8 text"),
    "extension unknown student": ("--extensions", "student,days\nzed,2\n",
                                  "extensions.csv, line 2, column student: no student 'zed'"),
    "extension bad date": ("--extensions", "student,due\nada,next tuesday\n",
                           "extensions.csv, line 2, column due: 'next tuesday' is not an ISO "
                           "8601 date and time"),
    "extension twice": ("--extensions", "student,days\nada,1\nada,2\n",
                        "extensions.csv, line 3: a second extension for ada"),
    "time unknown column": ("--submitted-at", "student,when\nada,2026-10-01\n",
                            "times.csv, line 1: no column submitted_at"),
    "override unknown question": ("--overrides", "student,question,points,reason\nada,q9,1,x\n",
                                  "overrides.csv, line 2, column question: no question 'q9'"),
    "override without reason": ("--overrides", "student,question,delta,reason\nada,q1,1,\n",
                                "overrides.csv, line 2, column reason: say why"),
    "roster unclosed quote": ("--roster", 'username,name\n"ada,A\nbo,B\n',
                              "roster.csv, line 3: not CSV (unexpected end of data)"),
    "time out of range": ("--submitted-at", "student,submitted_at\nada,9999-12-31T23:00-12:00\n",
                          "times.csv, line 2, column submitted_at: '9999-12-31T23:00-12:00' "
                          "is out of range"),
    "extension out of range": ("--extensions", "student,days\nada,1e300\n",
                               "extensions.csv, line 2, column days: '1e300' moves the due date "
                               "out of range"),
    "override not a number": ("--overrides", "student,question,points,reason\nada,q1,lots,x\n",
                              "overrides.csv, line 2, column points: 'lots' is not a number"),
}
FILE_NAMES = {"--roster": "roster.csv", "--extensions": "extensions.csv",
              "--submitted-at": "times.csv", "--overrides": "overrides.csv"}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_malformed_file_is_one_line_naming_file_and_line_before_grading(
        course, tmp_path, case):
    option, content, expected = BAD_INPUTS[case]
    path = tmp_path / FILE_NAMES[option]
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_notebook(inbox / "ada.ipynb", RIGHT)
    done = run_dlgrade("grade", course, inbox, "-o", tmp_path / "out", option, path)
    assert done.returncode == 2, done.stdout
    assert expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not list((tmp_path / "out").glob("results/*"))  # nothing graded
    assert not (tmp_path / "out" / ".dlgrade" / "inputs").exists()  # nothing kept


def test_a_roster_column_without_a_roster_is_an_error(course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_notebook(inbox / "ada.ipynb", RIGHT)
    done = run_dlgrade("grade", course, inbox, "-o", tmp_path / "out", "--roster-id", "email")
    assert done.returncode == 2
    assert "--roster-id names a column of the roster: give --roster CSV too" in done.stderr
    (tmp_path / "roster.csv").write_text("student,email\nada,ada@uni.edu\n")
    done = run_dlgrade("grade", course, inbox, "-o", tmp_path / "out", "--roster",
                       tmp_path / "roster.csv", "--roster-id", "mail")
    assert done.returncode == 2 and "roster.csv, line 1: no column mail" in done.stderr


def test_an_override_out_of_range_is_refused_before_grading_when_it_can_be_known(
        course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    at(write_notebook(inbox / "ada.ipynb", RIGHT), DUE)
    out = tmp_path / "out"
    for content, expected in (
            ("ada,q1,99,,regrade", "line 2: ada's q1 would be 99, outside 0 to 6 points"),
            ("ada,total,17,,bonus", "line 2: ada's total would be 17, outside 0 to 16 points")):
        (tmp_path / "overrides.csv").write_text(
            f"student,question,points,delta,reason\n{content}\n")
        done = run_dlgrade("grade", course, inbox, "-o", out, "--overrides",
                           tmp_path / "overrides.csv")
        assert done.returncode == 2 and expected in done.stderr
        assert not out.exists()  # nothing graded, nothing kept
    # A change to a score not yet known is checked once graded; every result is kept.
    (tmp_path / "overrides.csv").write_text("student,question,delta,reason\nada,q1,+1,bonus\n")
    done = run_dlgrade("grade", course, inbox, "-o", out, "--overrides",
                       tmp_path / "overrides.csv")
    assert done.returncode == 2
    assert "overrides.csv, line 2: ada's q1 would be 7, outside 0 to 6 points (every result " \
           "is kept: correct the file and run again)" in done.stderr
    assert (out / "results" / "ada.json").is_file()
    # Graded now: the same change is refused before anything else happens.
    done = run_dlgrade("grade", course, inbox, "-o", out, "--overrides",
                       tmp_path / "overrides.csv")
    assert done.returncode == 2 and "ada's q1 would be 7" in done.stderr
    assert "grading" not in done.stdout
    (tmp_path / "overrides.csv").write_text("student,question,delta,reason\nada,Q1,-1,typo\n")
    book, said = grade(course, inbox, "--overrides", tmp_path / "overrides.csv", out=out)
    assert "nothing to grade" in said and book["ada"]["total"] == "15"


@pytest.mark.parametrize("config, expected", [
    ("due: 2026-10-09 23:59\n", "line {0}: due: '2026-10-09 23:59' has no zone"),
    ("due: 2026-10-09T23:59:00\n", "line {0}: due: 2026-10-09 23:59:00 has no zone"),
    ("due: 2026-10-09 23:59 Mars/Olympus\n", "unknown zone 'Mars/Olympus'"),
    ("due: soon\n", "line {0}: due: 'soon' is not an ISO 8601 date and time"),
    ("due: 2026-10-09T23:59:00Z\nlate: {penalty: 10}\n",
     "line {1}: late.penalty must be a fraction from 0 to 1"),
    ("due: 2026-10-09T23:59:00Z\nlate: {per: week}\n", "late.per must be day or hour"),
    ("due: 2026-10-09T23:59:00Z\nlate: {grace: a while}\n",
     "late.grace: 'a while' is not a duration"),
    ("due: 2026-10-09T23:59:00Z\nlate: {fine: 1}\n", "unknown key 'late.fine'"),
])
def test_a_malformed_due_date_or_policy_names_the_file_line_and_key(tmp_path, config,
                                                                      expected):
    root = tmp_path / "course"
    for folder in ("assignments", "solutions"):
        shutil.copytree(TOY.parent.parent / folder, root / folder)
    path = root / "assignments" / "toy" / "assignment.yml"
    first = len(path.read_text().splitlines()) + 1  # the line of the first key added
    path.write_text(path.read_text() + config)
    expected = expected.format(first, first + 1)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_notebook(inbox / "ada.ipynb", RIGHT)
    done = run_dlgrade("grade", path.parent, inbox, "-o", tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{path}, " in done.stderr and expected in done.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the policy's arithmetic

def test_the_late_policy_counts_days_started_caps_and_zeroes():
    policy = LatePolicy(grace=900, penalty=0.1, per="day", cap=0.3, zero_after=7 * 86400)
    assert policy.fraction(0) == 0 and policy.fraction(900) == 0  # within the grace period
    assert policy.fraction(901) == pytest.approx(0.1)  # a day started
    assert policy.fraction(86400) == pytest.approx(0.1)
    assert policy.fraction(86401) == pytest.approx(0.2)
    assert policy.fraction(5 * 86400) == pytest.approx(0.3)  # capped
    assert policy.fraction(7 * 86400 + 1) == 1.0  # no credit
    hourly = LatePolicy(penalty=0.02, per="hour")
    assert hourly.fraction(3 * 3600 + 1) == pytest.approx(0.08)
    assert hourly.fraction(100 * 3600) == 1.0  # never more than the whole score


def test_due_dates_and_durations_read_as_written():
    assert parse_due("2026-10-09T23:59:00-07:00", "x") == DUE
    assert parse_due("2026-10-09T23:59:00Z", "x").utcoffset() == timedelta(0)
    winter = parse_due("2026-12-09 23:59 America/Los_Angeles", "x")
    assert winter.utcoffset() == timedelta(hours=-8)  # the zone's offset on that day
    assert parse_duration("1d 12h", "x") == 36 * 3600
    assert parse_duration("15 min", "x") == 900 and parse_duration(0, "x") == 0
    for bad in ("2026-10-09", "tomorrow"):
        with pytest.raises(DeadlineError):
            parse_due(bad, "x")
    for bad in ("15", "1 fortnight", "", 5):
        with pytest.raises(DeadlineError):
            parse_duration(bad, "x")
