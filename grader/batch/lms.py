"""The files a TA uploads to the learning management system: ``OUT/canvas.csv`` (Canvas's
gradebook import) and ``OUT/moodle.csv`` (Moodle's grading worksheet, or its grade import by
email address), written when the students' ids allow. Each holds the gradebook's ``total``
(after the late penalty and the changes by hand); a student with nothing submitted gets 0.

Canvas (``lib/gradebook_importer.rb``): the header ``Student,ID,SIS User ID,SIS Login ID,
Section,<Assignment (id)>`` and a ``    Points Possible`` row, as Canvas exports them. A student
is matched by ``ID`` (the Canvas user id: the roster's ``ID`` column, from Canvas's gradebook
export, or the number in Canvas's submission file names), else by SIS ids. The assignment
column is the roster's own ``Title (id)`` column for this assignment when the roster is a
Canvas export; otherwise the assignment's title, which Canvas imports as a new column.

Moodle (``mod/assign/feedback/offline``): the offline grading worksheet, ``Identifier`` being
``Participant N`` (from Moodle's submission folder names, or a worksheet given as roster),
with ``Grade``, ``Maximum grade``, ``Last modified (grade)`` and ``Feedback comments``. Without
participant ids but with email addresses: ``Email address`` and a grade column, for the
gradebook's CSV import (map ``Email address`` to ``useremail``).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

CANVAS = "canvas.csv"
MOODLE = "moodle.csv"
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_ASSIGNMENT = re.compile(r"(.*)\s\((\d+)\)")
WORKSHEET = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade",
             "Grade can be changed", "Last modified (grade)", "Feedback comments"]
PARTICIPANT = re.compile(r"Participant (\d+)")


def write(out: Path, assignment, rows: list, questions: list[str]) -> list[str]:
    """Write what can be written; remove what no longer can; say what happened."""
    from grader.batch.state import write_atomically
    from grader.core.text import csv_text

    said = []
    for name, build in ((CANVAS, _canvas), (MOODLE, _moodle)):
        table, left_out, what = build(assignment, rows)
        if table is None:
            (out / name).unlink(missing_ok=True)
            continue
        write_atomically(out / name, csv_text(table))
        line = f"{out / name}: {what} for {len(table) - 1 - (name == CANVAS)} student(s)"
        if left_out:
            line += (f"; left out, no id: {', '.join(left_out[:8])}"
                     f"{', ...' if len(left_out) > 8 else ''}")
        said.append(line)
    return said


def _value(row, *columns: str) -> str:
    """The first of ``columns`` the roster row has (any case), else the platform's."""
    roster = {k.casefold(): v for k, v in (row.person.roster or {}).items()}
    person = dict(row.person.submission.person) if row.person.submission else {}
    for column in columns:
        if roster.get(column.casefold()):
            return roster[column.casefold()]
        if person.get(column):
            return person[column]
    return ""


def _grade(row) -> str:
    """The total; empty (no grade, as both importers read it) while people still grade."""
    if row.pending:
        return ""
    value = round(row.total, 2)
    return str(int(value)) if float(value).is_integer() else str(value)


def _maximum(rows) -> str:
    top = max((r.max_total for r in rows if r.max_total is not None), default=0)
    return str(int(top)) if float(top).is_integer() else str(top)


def _canvas(assignment, rows):
    column = assignment.title or assignment.name
    for row in rows:
        for header in row.person.roster or {}:
            found = CANVAS_ASSIGNMENT.fullmatch(header)
            if found and found.group(1).strip().casefold() in (
                    assignment.name.casefold(), (assignment.title or "").casefold()):
                column = header
    table = [[*CANVAS_HEADER, column], ["    Points Possible", "", "", "", "", _maximum(rows)]]
    left_out = []
    for row in rows:
        ids = [_value(row, "ID", "canvas_id"), _value(row, "SIS User ID"),
               _value(row, "SIS Login ID")]
        if not any(ids):
            left_out.append(row.person.key)
            continue
        table.append([_value(row, "Student", "name") or row.person.key, *ids,
                      _value(row, "Section"), _grade(row)])
    if len(table) == 2:
        return None, left_out, ""
    return table, left_out, "Canvas gradebook import"


def _moodle(assignment, rows):
    participants = {row.person.key: _participant(row) for row in rows}
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    if any(participants.values()):
        table, left_out = [WORKSHEET], []
        for row in rows:
            if not participants[row.person.key]:
                left_out.append(row.person.key)
                continue
            table.append([participants[row.person.key],
                          _value(row, "Full name", "name") or row.person.key,
                          _value(row, "Email address", "email"),
                          "No submission" if row.status == "missing" else "Submitted for grading",
                          _grade(row), _maximum([row]) if row.max_total is not None else "",
                          "Yes", now, _comment(row)])
        return table, left_out, "Moodle grading worksheet"
    emails = {row.person.key: _value(row, "Email address", "email") for row in rows}
    if not any(emails.values()):
        return None, [], ""
    title = assignment.title or assignment.name
    table, left_out = [["Email address", "Full name", title, f"Feedback: {title}"]], []
    for row in rows:
        if not emails[row.person.key]:
            left_out.append(row.person.key)
            continue
        table.append([emails[row.person.key], _value(row, "Full name", "name"), _grade(row),
                      _comment(row)])
    return table, left_out, "Moodle grade import (map Email address to useremail)"


def _participant(row) -> str:
    value = _value(row, "Identifier", "moodle_participant")
    return value if PARTICIPANT.fullmatch(value) else ""


def _comment(row) -> str:
    text = f"{_grade(row)} / {_maximum([row])} points ({row.status})"
    if row.notes:
        text += ": " + "; ".join(row.notes)
    return text
