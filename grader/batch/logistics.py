"""Who is who, when each submitted, and what a TA changed by hand: the files a TA gives
``dlgrade grade`` beside the submissions, and what they do to each gradebook row.

- ``--roster roster.csv``: any CSV with a header and a column naming each student (the first
  of ``ID_COLUMNS`` found, or ``--roster-id COLUMN``); its other columns are kept in the
  gradebook. A roster student with nothing submitted gets a row, status ``missing``, score 0;
  a submission matching no roster row keeps its row and is listed in the report.
- ``--extensions extensions.csv``: ``student`` and either ``due`` (a date and time; without a
  zone, the assignment's) or ``days`` / ``hours`` added to the assignment's due date.
- ``--submitted-at times.csv``: ``student`` and ``submitted_at``: the time a TA gives wins over
  the platform's, the zip entry's and the file's.
- ``--overrides overrides.csv``: ``student``, ``question`` (an id, or ``total``), ``points`` (the
  new score) or ``delta`` (added), and ``reason`` (shown to the student). Question overrides
  apply before the late penalty, ``total`` ones after it.

A student is named in these files by the gradebook's ``submission`` value or by any value of
the roster's or the platform's identifiers (login, email, SID, Canvas or Moodle id, name).
Each file is checked whole before anything is graded; an error names the file, the line and
the column. A file given is kept in ``OUT/.dlgrade/inputs/`` and used again by every later run
into ``OUT`` until another is given (an empty one, header only, clears it): a resumed batch
never loses them, and the outputs are rebuilt from the state when one changes.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from grader.batch.collect import Collection, CollectionError, Submission, _unique_stem
from grader.core.deadlines import (
    DeadlineError,
    duration_text,
    hours,
    iso,
    moment_text,
    parse_due,
)
from grader.core.text import clean

INPUTS = "inputs"  # under OUT/.dlgrade
KINDS = ("roster", "extensions", "submitted-at", "overrides", "manual")
PENDING = "pending"  # a score people have not given yet
# The columns that name a student, in the order one is chosen as a roster's id column.
ID_COLUMNS = ("username", "login", "sis login id", "login id", "netid", "email",
              "email address", "sid", "student id", "student_id", "id number", "sis user id",
              "id", "identifier", "user", "student", "name", "full name")
NAME_COLUMNS = {"student", "name", "full name"}  # matched only where one row holds the value
TOTAL = "total"


class InputError(CollectionError):
    """A roster, extensions, times or overrides file that cannot be used: said before
    anything is graded."""


@dataclass
class Table:
    """A CSV a TA gave: its header and rows, each with its line number."""
    name: str  # as the errors name it: the path given, or the stored copy
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]

    def column(self, *names: str, required: bool = True) -> str | None:
        folded = {h.strip().casefold(): h for h in self.header}
        for name in names:
            if name in folded:
                return folded[name]
        if required:
            raise InputError(f"{self.name}, line 1: no column {' or '.join(names)} (the "
                             f"columns are {', '.join(self.header) or 'none'})")
        return None


def read_table(text: str, name: str) -> Table:
    reader = csv.reader(io.StringIO(text), strict=True)  # an unclosed quote is an error
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise InputError(f"{name}, line {reader.line_num}: {len(row)} cells, but the "
                                 f"header has {len(header)} columns")
            rows.append((reader.line_num, {column: cell.strip() for column, cell
                                           in zip(header, row, strict=False) if column}))
    except csv.Error as error:
        raise InputError(f"{name}, line {reader.line_num}: not CSV ({error})") from None
    if not any(header):
        raise InputError(f"{name}: empty, or no header line (the first line names the columns)")
    header = [h for h in header if h]  # a column without a name holds nothing we read
    seen = set()
    for column in header:
        if column.casefold() in seen:
            raise InputError(f"{name}, line 1: the column {column!r} appears twice")
        seen.add(column.casefold())
    return Table(name, header, rows)


def stored_or_given(out: Path, kind: str, given: Path | None) -> tuple[str | None, str, bool]:
    """The text of the ``kind`` file: the one given (to be stored once checked), else the copy
    an earlier run kept; with its name for errors, and whether it was given now."""
    if given is not None:
        try:
            data = given.read_bytes()
        except OSError as error:
            raise InputError(f"{given}: cannot be read ({error.strerror})") from None
        return _decode(data, str(given)), str(given), True
    kept = kept_path(out, f"{kind}.csv")
    if kept.is_file():
        return _decode(kept.read_bytes(), str(kept)), str(kept), False
    return None, "", False


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    raise InputError(f"{name}: not UTF-8 text (save it as CSV UTF-8)")


def kept_path(out: Path, name: str) -> Path:
    """Where a run into ``out`` keeps a file the TA gave (``OUT/.dlgrade/inputs/NAME``)."""
    from grader.batch.state import STATE

    return out / STATE / INPUTS / name


def keep_text(path: Path, text: str) -> None:
    from grader.batch.state import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)


def prepare(out: Path, assignment, collection: Collection, given: dict[str, Path | None],
            roster_id: str | None = None) -> Logistics:
    """Read and check every file the TA gave now or earlier, against the submissions found;
    keep the ones given now (an empty one clears its kind). Nothing is graded before this."""
    texts, tables = {}, {}
    for kind in KINDS:
        text, name, now = stored_or_given(out, kind, given.get(kind))
        tables[kind] = (text, name, now)
        if text is not None:
            texts[kind] = text
    id_given = roster_id is not None
    if id_given and "roster" not in texts:
        raise InputError("--roster-id names a column of the roster: give --roster CSV too")
    if roster_id is None and "roster" in texts and given.get("roster") is None:
        kept = kept_path(out, "roster-id.txt")
        roster_id = kept.read_text().strip() if kept.is_file() else None
    live = {kind: (text, name) for kind, (text, name, _) in tables.items()
            if text is not None and read_table(text, name).rows}
    roster = read_roster(*live["roster"], roster_id) if "roster" in live else None
    directory = Directory(collection, roster)
    due = assignment.due
    extensions = read_extensions(*live["extensions"], directory, due) \
        if "extensions" in live else {}
    times = read_times(*live["submitted-at"], directory, due) if "submitted-at" in live else {}
    overrides = read_overrides(*live["overrides"], directory, list(assignment.questions)) \
        if "overrides" in live else []
    if overrides:
        check_overrides(overrides, question_maxima(assignment), out)
    if "manual" in live and not assignment.manual:
        raise InputError(f"{live['manual'][1]}: {assignment.name} has no question people "
                         f"grade (manual: in assignment.yml) any more: to drop these scores, "
                         f"give --manual a CSV holding only its header line "
                         f"(student,question,points)")
    manual = read_manual(*live["manual"], directory, assignment.manual) \
        if "manual" in live else {}
    for kind, (text, _, now) in tables.items():
        if not now:
            continue
        if kind in live:
            keep_text(kept_path(out, f"{kind}.csv"), text)
        else:
            kept_path(out, f"{kind}.csv").unlink(missing_ok=True)
            texts.pop(kind, None)
    if given.get("roster") is not None or id_given:
        kept = kept_path(out, "roster-id.txt")
        if roster_id and "roster" in live:
            keep_text(kept, roster_id + "\n")
        else:
            kept.unlink(missing_ok=True)
    texts["roster-id"] = roster_id or ""
    return Logistics(assignment, collection, directory, roster, extensions, times, overrides,
                     {k: v for k, v in texts.items() if k in live or k == "roster-id"}, manual)


def question_maxima(assignment) -> dict[str, float]:
    """Each question's points, from the hidden suite run against no submission (every test
    fails, and keeps its points' maximum): trusted code only, in this process."""
    from grader.core.grading import ungraded

    result = ungraded(assignment, Path("overrides"), "error", "maxima", False)
    return {q: s.max_score for q, s in result.questions.items()}


def check_overrides(overrides: list[Override], maxima: dict[str, float], out: Path) -> None:
    """Refuse, before grading, an override that takes a score out of 0 to its maximum: a new
    score, or a change to a score graded before."""
    from grader.batch.state import stored

    top = sum(maxima.values())
    for override in overrides:
        limit = top if override.question == TOTAL else maxima.get(override.question, 0.0)
        after = override.points
        if after is None and override.question != TOTAL:
            record = stored(out, override.key)
            if record is None or "result" not in record:
                continue  # known once graded: checked then
            score = record["result"].get("questions", {}).get(override.question, {})
            after = score.get("score", 0.0) + override.delta
        if after is not None and not -1e-9 <= after <= limit + 1e-9:
            raise InputError(f"{override.where}: {override.key}'s {override.question} would "
                             f"be {_num(after)}, outside 0 to {_num(limit)} points")


# ---------------------------------------------------------------- the roster

@dataclass
class Roster:
    table: Table
    id_column: str
    columns: list[str]  # what the gradebook shows of it (every column)

    def identifiers(self, row: dict) -> set[str]:
        values = set()
        for column in self.table.header:
            if column.casefold() in ID_COLUMNS and row.get(column):
                values.add(row[column].casefold())
                if "@" in row[column]:
                    values.add(row[column].split("@")[0].casefold())
        return values


def read_roster(text: str, name: str, id_column: str | None) -> Roster:
    table = read_table(text, name)
    if id_column:
        column = table.column(id_column.casefold())
    else:
        column = table.column(*ID_COLUMNS, required=False)
        if column is None:
            raise InputError(f"{name}, line 1: no column names the students: name one with "
                             f"--roster-id (the columns are {', '.join(table.header)}; "
                             f"known names: {', '.join(ID_COLUMNS[:8])}, ...)")
    rows, seen = [], {}
    for line, row in table.rows:
        value = row.get(column, "")
        if _canvas_points_row(row, value):
            continue  # Canvas's export repeats the points possible as a "student"
        if not value:
            raise InputError(f"{name}, line {line}: no {column} for this student")
        if value.casefold() in seen:
            raise InputError(f"{name}, line {line}: {column} {value!r} is already on line "
                             f"{seen[value.casefold()]}: each student once")
        seen[value.casefold()] = line
        rows.append((line, row))
    table.rows = rows
    return Roster(table, column, list(table.header))


def _canvas_points_row(row: dict, value: str) -> bool:
    return any(v.strip() == "Points Possible" for v in row.values()) and not value.isdigit()


# ---------------------------------------------------------------- who is who

@dataclass
class Person:
    """One gradebook row's student: a submission, a roster row, or both."""
    key: str  # the gradebook's ``submission`` value
    submission: Submission | None = None
    roster: dict | None = None  # the roster row
    roster_line: int | None = None


class Directory:
    """Every gradebook row's student, and every name a TA's file may call them by."""

    def __init__(self, collection: Collection, roster: Roster | None):
        self.people: list[Person] = []
        self.unrostered: list[str] = []
        self.shared: list[tuple[str, list[str]]] = []  # roster row -> several submissions
        by_key = {}
        for submission in collection.submissions:
            person = Person(submission.student, submission)
            by_key[submission.student] = person
        if roster is not None:
            matched = self._join(collection, roster, by_key)
            taken = {k.casefold() for k in by_key}
            for line, row in roster.table.rows:
                if line in matched:
                    continue
                key = _unique_stem(row[roster.id_column], taken)
                self.people.append(Person(key, None, row, line))
            self.people = [p for p in by_key.values()] + self.people
            self.people.sort(key=lambda p: (p.roster_line is None, p.roster_line or 0, p.key))
        else:
            self.people = list(by_key.values())
        self.names = self._names()

    def _join(self, collection, roster: Roster, by_key: dict) -> set[int]:
        index: dict[str, set[int]] = {}
        for line, row in roster.table.rows:
            for value in roster.identifiers(row):
                index.setdefault(value, set()).add(line)
        rows = dict(roster.table.rows)
        claimed: dict[int, list[str]] = {}
        for submission in collection.submissions:
            lines = set()
            for value in identifiers(submission):
                found = index.get(value, set())
                if len(found) == 1:
                    lines |= found
            if len(lines) > 1:
                raise InputError(
                    f"{roster.table.name}: {submission.source} matches lines "
                    f"{', '.join(map(str, sorted(lines)))}: give --roster-id, or make the "
                    f"roster's names distinct")
            if lines:
                line = lines.pop()
                person = by_key[submission.student]
                person.roster, person.roster_line = rows[line], line
                claimed.setdefault(line, []).append(submission.student)
            else:
                self.unrostered.append(submission.student)
        self.shared = [(rows[line][roster.id_column], students)
                       for line, students in claimed.items() if len(students) > 1]
        return set(claimed)

    def _names(self) -> dict[str, set[str]]:
        names: dict[str, set[str]] = {}
        for person in self.people:
            values = {person.key.casefold(), pseudonym(person.key).casefold()}
            if person.submission is not None:
                values |= identifiers(person.submission)
            for column, value in (person.roster or {}).items():
                if value and column.casefold() in ID_COLUMNS:
                    values.add(value.casefold())
            for value in values:
                names.setdefault(value, set()).add(person.key)
        return names

    def find(self, value: str, where: str, reveal: bool = True) -> str:
        """The gradebook key ``value`` names; ``reveal=False`` (grading by pseudonym) never
        says who a name could be."""
        keys = self.names.get(value.strip().casefold(), set())
        if len(keys) == 1:
            return next(iter(keys))
        if keys:
            who = f" ({', '.join(sorted(keys))})" if reveal else ""
            raise InputError(f"{where}: {value!r} names several students{who}: use their "
                             f"gradebook names")
        raise InputError(f"{where}: no student {value!r} among the {len(self.people)} "
                         f"submissions and roster rows")


def pseudonym(key: str) -> str:
    """The name a student's answers carry on the pages people grade from (``S-3fa92c1b0d``):
    the same on every run with the same course secret, told by no one but the gradebook; 40
    bits, so that two students of a class of 10,000 share one with odds below 1 in 10,000."""
    import hashlib

    from grader.core.settings import course_secret

    digest = hashlib.sha256(b"dlgrade-anonymous\0" + course_secret() + b"\0" + key.encode())
    return f"S-{digest.hexdigest()[:10]}"


def identifiers(submission: Submission) -> set[str]:
    """Every name a submission's student goes by, folded: its gradebook key and what the
    platform said of them (email and its user part, SID, LMS id, name)."""
    values = {submission.student.casefold()}
    for _, value in submission.person:
        if value:
            values.add(str(value).casefold())
            if "@" in str(value):
                values.add(str(value).split("@")[0].casefold())
    return values


# ---------------------------------------------------------------- the TA's other files

def read_extensions(text: str, name: str, people: Directory,
                    due: datetime | None) -> dict[str, tuple[datetime, str]]:
    """Each student's own due date, with how the file put it."""
    table = read_table(text, name)
    new_due = table.column("due", "due date", "due_date", required=False)
    days = table.column("days", "extra days", "extra_days", required=False)
    extra_hours = table.column("hours", "extra hours", "extra_hours", required=False)
    if not (new_due or days or extra_hours):
        raise InputError(f"{name}, line 1: no column due, days or hours (the columns are "
                         f"{', '.join(table.header)})")
    found: dict[str, tuple[datetime, str]] = {}
    for where, key, row in _each_student(table, people, "extension"):
        given = {column: row.get(column, "") for column in (new_due, days, extra_hours)
                 if column and row.get(column, "")}
        if len(given) != 1:
            raise InputError(f"{where}: give exactly one of "
                             f"{', '.join(c for c in (new_due, days, extra_hours) if c)}")
        (column, value), = given.items()
        if column == new_due:
            moment = _moment(value, f"{where}, column {column}", due)
            found[key] = (moment, f"extended to {moment_text(moment)}")
        else:
            if due is None:
                raise InputError(f"{where}, column {column}: extra time needs the "
                                 f"assignment's due date (due: in assignment.yml)")
            amount = _number(value, f"{where}, column {column}", allow_negative=False)
            try:
                delta = timedelta(days=amount) if column == days else timedelta(hours=amount)
                moment = within_range(due + delta, f"{where}, column {column}", value)
            except (OverflowError, InputError):
                raise InputError(f"{where}, column {column}: {value!r} moves the due date out "
                                 f"of range (years 1900 to 2999)") from None
            found[key] = (moment, f"extended by {duration_text(delta.total_seconds())}")
    return found


def read_times(text: str, name: str, people: Directory,
               due: datetime | None) -> dict[str, datetime]:
    table = read_table(text, name)
    when = table.column("submitted_at", "submitted at", "submitted", "time")
    return {key: _moment(row.get(when, ""), f"{where}, column {when}", due)
            for where, key, row in _each_student(table, people, "time")}


def _each_student(table: Table, people: Directory, what: str):
    """``(where, key, row)`` of each row of a file that gives one ``what`` per student: a
    second one for the same student is an error naming both lines."""
    who = table.column("student", *ID_COLUMNS)
    lines: dict[str, int] = {}
    for line, row in table.rows:
        where = f"{table.name}, line {line}"
        key = people.find(row.get(who, ""), f"{where}, column {who}")
        if key in lines:
            raise InputError(f"{where}: a second {what} for {key} (the first is on line "
                             f"{lines[key]})")
        lines[key] = line
        yield where, key, row


@dataclass(frozen=True)
class Override:
    key: str
    question: str  # a question id, or "total"
    points: float | None
    delta: float | None
    reason: str
    where: str  # "overrides.csv, line 4"

    def text(self) -> str:
        change = (f"set to {_num(self.points)}" if self.points is not None
                  else f"{'+' if self.delta >= 0 else ''}{_num(self.delta)}")
        subject = "total" if self.question == TOTAL else self.question
        return f"{subject} {change} by hand: {self.reason}"


def read_overrides(text: str, name: str, people: Directory,
                   questions: list[str]) -> list[Override]:
    table = read_table(text, name)
    who = table.column("student", *ID_COLUMNS)
    question = table.column("question")
    points = table.column("points", "score", required=False)
    delta = table.column("delta", "change", required=False)
    reason = table.column("reason", "comment")
    if not (points or delta):
        raise InputError(f"{name}, line 1: no column points or delta (the columns are "
                         f"{', '.join(table.header)})")
    found, lines = [], {}
    for line, row in table.rows:
        where = f"{name}, line {line}"
        key = people.find(row.get(who, ""), f"{where}, column {who}")
        given_qid = row.get(question, "")
        known = {q.casefold(): q for q in [*questions, TOTAL]}
        if given_qid.casefold() not in known:
            raise InputError(f"{where}, column {question}: no question {given_qid!r} (the "
                             f"questions are {', '.join(questions)}, and total)")
        qid = known[given_qid.casefold()]
        if (key, qid) in lines:
            raise InputError(f"{where}: {key}'s {qid} is already overridden on line "
                             f"{lines[key, qid]}")
        given = [c for c in (points, delta) if c and row.get(c, "")]
        if len(given) != 1:
            raise InputError(f"{where}: give exactly one of "
                             f"{' or '.join(c for c in (points, delta) if c)}")
        value = _number(row[given[0]], f"{where}, column {given[0]}",
                        allow_negative=given[0] == delta)
        why = clean(row.get(reason, ""), 500).strip()
        if not why:
            raise InputError(f"{where}, column {reason}: say why (the student reads it)")
        found.append(Override(key, qid, value if given[0] == points else None,
                              value if given[0] == delta else None, why, where))
        lines[key, qid] = line
    return found


@dataclass(frozen=True)
class ManualScore:
    points: float
    items: tuple[int, ...]  # the rubric items earned (1-based), when scored by the rubric
    comment: str
    where: str


def read_manual(text: str, name: str, people: Directory,
                questions: dict) -> dict[tuple[str, str], ManualScore]:
    """``student, question, points`` or ``rubric`` (the items earned: ``1 3``), ``comment``.
    A row with neither is not scored yet (the template ``OUT/manual/scores.csv`` holds one per
    answer); every value is checked against the question before anything is written."""
    table = read_table(text, name)
    who = table.column("student", *ID_COLUMNS)
    question = table.column("question")
    points = table.column("points", "score", required=False)
    rubric = table.column("rubric", "items", required=False)
    comment = table.column("comment", "comments", "feedback", required=False)
    if not (points or rubric):
        raise InputError(f"{name}, line 1: no column points or rubric (the columns are "
                         f"{', '.join(table.header)})")
    found, lines = {}, {}
    known = {q.casefold(): q for q in questions}
    for line, row in table.rows:
        where = f"{name}, line {line}"
        given = {c: row.get(c, "") for c in (points, rubric) if c and row.get(c, "")}
        qid = known.get(row.get(question, "").casefold())
        if qid is None:
            raise InputError(f"{where}, column {question}: no question people grade named "
                             f"{row.get(question, '')!r} (they are {', '.join(questions)})")
        written = row.get(who, "")
        key = people.find(written, f"{where}, column {who}", reveal=False)
        if not given:
            continue  # not scored yet
        if len(given) > 1:
            raise InputError(f"{where}: give points or rubric, not both")
        if (key, qid) in lines:  # said as the TA wrote it: a pseudonym stays one
            raise InputError(f"{where}: {written}'s {qid} is already scored on line "
                             f"{lines[key, qid]}")
        top, items = questions[qid].points, ()
        if points in given:
            value = _number(given[points], f"{where}, column {points}", allow_negative=False)
            if value > top + 1e-9:
                raise InputError(f"{where}, column {points}: {_num(value)} is above {qid}'s "
                                 f"{_num(top)} points")
        else:
            rubric_items = questions[qid].rubric
            words = re.split(r"[\s,;]+", given[rubric].strip())
            if not all(w.isascii() and w.isdigit() and 1 <= int(w) <= len(rubric_items)
                       for w in words) \
                    or len(set(words)) != len(words):
                raise InputError(f"{where}, column {rubric}: {given[rubric]!r} is not a list of "
                                 f"{qid}'s rubric items (1 to {len(rubric_items)}, each once)")
            items = tuple(sorted(int(w) for w in words))
            value = sum(rubric_items[i - 1][0] for i in items)
        found[key, qid] = ManualScore(round(value, 6), items,
                                      clean(row.get(comment, "") if comment else "", 2000),
                                      where)
        lines[key, qid] = line
    return found


def _number(value: str, where: str, allow_negative: bool) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number) or (number < 0 and not allow_negative):
        raise InputError(f"{where}: {value!r} must be a "
                         f"{'finite' if allow_negative else 'non-negative'} number")
    return number


def _moment(value: str, where: str, due: datetime | None) -> datetime:
    """A date and time; one without a zone is in the due date's zone."""
    try:
        moment = parse_due(value, where)
    except DeadlineError as error:
        if due is None or "has no zone" not in str(error):
            raise InputError(str(error)) from None
        try:
            moment = datetime.fromisoformat(value.strip()).replace(tzinfo=due.tzinfo)
        except ValueError:
            raise InputError(str(error)) from None
    return within_range(moment, where, value)


def within_range(moment: datetime, where: str, value) -> datetime:
    """``moment``, if it is a year any zone can show (a day off the calendar's ends is not)."""
    try:
        moment.astimezone(timezone.utc)
        if not 1900 <= moment.year <= 2999:
            raise OverflowError
    except OverflowError:
        raise InputError(f"{where}: {value!r} is out of range (years 1900 to 2999)") from None
    return moment


# ---------------------------------------------------------------- each row

@dataclass
class Row:
    """A gradebook row as the TA and the student see it, after lateness and overrides."""
    person: Person
    result: dict | None  # the graded result (None: nothing submitted)
    questions: dict[str, float] = field(default_factory=dict)  # after question overrides
    raw_total: float = 0.0
    penalty: float = 0.0
    total: float = 0.0
    max_total: float | None = None
    status: str = "missing"
    submitted_at: datetime | None = None
    time_from: str = ""
    late_seconds: float | None = None
    due: datetime | None = None
    notes: list[str] = field(default_factory=list)  # for the gradebook and the feedback
    overridden: dict[str, str] = field(default_factory=dict)  # question -> why, for feedback
    manual: dict[str, ManualScore | None] = field(default_factory=dict)  # None: pending

    @property
    def pending(self) -> list[str]:
        return [qid for qid, score in self.manual.items() if score is None]


class Logistics:
    """Everything a TA gave about who and when, checked, for one batch."""

    def __init__(self, assignment, collection: Collection, directory: Directory,
                 roster: Roster | None, extensions: dict, times: dict,
                 overrides: list[Override], texts: dict[str, str],
                 manual: dict | None = None):
        self.assignment, self.collection, self.directory = assignment, collection, directory
        self.manual = manual or {}  # (student, question) -> ManualScore
        self.past: dict = {}  # --compare-with: name -> (Fingerprints, Source)
        self.roster, self.extensions, self.times, self.overrides = (roster, extensions, times,
                                                                     overrides)
        self.texts = texts  # kind -> the text in force (for the class files' key)

    def describe(self) -> str:
        """What is in force, for the batch's first line (empty when nothing is)."""
        parts = []
        if self.roster is not None:
            parts.append(f"roster of {len(self.roster.table.rows)}")
        if self.extensions:
            parts.append(f"{len(self.extensions)} extension(s)")
        if self.times:
            parts.append(f"{len(self.times)} time(s) given")
        if self.overrides:
            parts.append(f"{len(self.overrides)} override(s)")
        if self.assignment.due is not None:
            parts.insert(0, f"due {moment_text(self.assignment.due)}")
        elif self.assignment.late is not None:
            parts.insert(0, "a late policy but no due date (due: in assignment.yml): only "
                            "extensions' due dates count")
        return ", ".join(parts)

    def rows(self, records: dict) -> list[Row]:
        top = max((r["result"]["max_score"] for r in records.values() if r), default=None)
        maxima = {}
        for record in records.values():
            for qid, score in record["result"]["questions"].items():
                maxima[qid] = max(maxima.get(qid, 0), score["max_score"])
        rows = [self._row(person, records.get(person.key) if person.submission else None, top,
                          maxima) for person in self.directory.people]
        return rows

    def _row(self, person: Person, record: dict | None, top, maxima: dict) -> Row:
        row = Row(person, record["result"] if record else None)
        if record is not None:
            result = record["result"]
            row.status, row.max_total = result["status"], result["max_score"]
            row.questions = {q: s["score"] for q, s in result["questions"].items()}
        else:
            row.max_total = top
            row.questions = {q: 0.0 for q in maxima}
        mine = [o for o in self.overrides if o.key == person.key]
        for override in mine:
            if override.question == TOTAL:
                continue
            if override.question not in row.questions and override.question not in maxima:
                raise InputError(f"{override.where}: {override.question} has no score to "
                                 f"override for {person.key}")
            before = row.questions.get(override.question, 0.0)
            after = override.points if override.points is not None else before + override.delta
            top_q = maxima.get(override.question, 0.0)
            if not -1e-9 <= after <= top_q + 1e-9:
                raise InputError(f"{override.where}: {person.key}'s {override.question} would "
                                 f"be {_num(after)}, outside 0 to {_num(top_q)} points (every "
                                 f"result is kept: correct the file and run again)")
            row.questions[override.question] = round(after, 6)
            row.overridden[override.question] = override.reason
            row.notes.append(override.text())
        for qid, question in self.assignment.manual.items():
            score = self.manual.get((person.key, qid))
            row.manual[qid] = score if score is not None or person.submission else \
                ManualScore(0.0, (), "", "")  # nothing submitted: nothing to score
            row.questions[qid] = score.points if score is not None else 0.0
            row.max_total = (row.max_total or 0.0) + question.points
        row.raw_total = round(sum(row.questions.values()), 6)
        self._lateness(row, person)
        total = row.raw_total - row.penalty
        for override in mine:
            if override.question != TOTAL:
                continue
            total = override.points if override.points is not None else total + override.delta
            if row.max_total is not None and not -1e-9 <= total <= row.max_total + 1e-9:
                raise InputError(f"{override.where}: {person.key}'s total would be "
                                 f"{_num(total)}, outside 0 to {_num(row.max_total)} points "
                                 f"(every result is kept: correct the file and run again)")
            row.notes.append(override.text())
            row.overridden[TOTAL] = override.reason
        row.total = round(total, 6)
        return row

    def _lateness(self, row: Row, person: Person) -> None:
        submission = person.submission
        due = self.assignment.due
        if person.key in self.extensions:
            due, how = self.extensions[person.key]
            row.notes.append(f"due date {how}")
        row.due = due
        if submission is None:
            return
        zone = due.tzinfo if due is not None else timezone.utc
        if person.key in self.times:
            row.submitted_at, row.time_from = self.times[person.key], "given"
        elif submission.submitted_at is not None:
            row.submitted_at = submission.submitted_at
            row.time_from = submission.time_source
        if row.submitted_at is not None and row.submitted_at.tzinfo is None:
            row.submitted_at = row.submitted_at.replace(tzinfo=zone)  # a zip entry's date
        row.submitted_at = row.submitted_at.astimezone(zone) if row.submitted_at else None
        if submission.late_marker:
            row.notes.append(f"{submission.platform} marks it late")
        if due is None or row.submitted_at is None:
            return
        row.late_seconds = max(0.0, (row.submitted_at - due).total_seconds())
        policy = self.assignment.late
        if row.late_seconds > 0 and policy is not None:
            fraction = policy.fraction(row.late_seconds)
            row.penalty = round(row.raw_total * fraction, 6)
            if fraction:
                row.notes.append(
                    f"late by {duration_text(row.late_seconds)}: {_num(round(100 * fraction, 4))}"
                    f"% of {_num(row.raw_total)} points taken off ({policy.describe()})")
            else:
                row.notes.append(f"late by {duration_text(row.late_seconds)}, within the "
                                 f"grace period: no penalty")
        elif row.late_seconds > 0:
            row.notes.append(f"late by {duration_text(row.late_seconds)} (no late policy: "
                             f"no penalty)")


def gradebook_extra(row: Row) -> list:
    """The columns after ``status``: ``raw_total``, ``penalty``, ``late_by`` (hours),
    ``submitted_at``, ``submitted_at_from``, ``due``, ``notes``."""
    late = "" if row.late_seconds is None else hours(row.late_seconds)
    if row.pending:
        return [PENDING, PENDING, _num(late) if late != "" else "",
                iso(row.submitted_at) if row.submitted_at else "", row.time_from,
                iso(row.due) if row.due else "", "; ".join(row.notes)]
    return [_num(row.raw_total), _num(row.penalty), _num(late) if late != "" else "",
            iso(row.submitted_at) if row.submitted_at else "", row.time_from,
            iso(row.due) if row.due else "", "; ".join(row.notes)]


EXTRA_COLUMNS = ["raw_total", "penalty", "late_by", "submitted_at", "submitted_at_from", "due",
                 "notes"]


def feedback_lines(row: Row) -> list[str]:
    """What the student reads about lateness and changes by hand, above the questions."""
    lines = []
    if row.submitted_at is not None and row.due is not None:
        if row.late_seconds:
            lines.append(f"Submitted {moment_text(row.submitted_at)}, "
                         f"{duration_text(row.late_seconds)} after the due date "
                         f"{moment_text(row.due)}.")
        else:
            lines.append(f"Submitted {moment_text(row.submitted_at)}, on time (due "
                         f"{moment_text(row.due)}).")
    lines += [note[0].upper() + note[1:] + "." for note in row.notes]
    if row.pending:
        verb = "is" if len(row.pending) == 1 else "are"
        lines.append(f"Not final: {', '.join(row.pending)} {verb} still to be graded by "
                     f"people.")
    elif row.penalty:
        lines.append(f"Score before the late penalty: {_num(row.raw_total)}; penalty: "
                     f"{_num(row.penalty)}; score: {_num(row.total)}.")
    return lines


def _num(value):
    if isinstance(value, str):
        return value
    return int(value) if float(value).is_integer() else round(value, 4)
