"""Which files a batch grades, and which student each one belongs to.

The rules (README, "Grading a class"):
- a file given on the command line, or lying directly in a given folder, is one submission;
  its student is its name without the extension, or the ``student`` group of ``--pattern``;
- a sub-folder is one student (the folder's name), whatever files it holds;
- a zip is read like a folder (one top-level folder holding everything is looked through);
- a student with several submissions is graded on the latest: the highest ``attempt`` of
  ``--pattern`` (without one, ``frank (1).ipynb``, a browser's second download, is attempt 1
  of ``frank``), then the newest modification time (a zip entry's date), then the last name;
  inside a student's folder, the file named after the assignment (``gradcheck.ipynb``) wins
  over scratch notebooks, notebooks are preferred to ``.py`` files, and those to anything
  else. The others are listed in the report, never silently dropped.
Hidden files, ``__MACOSX``, ``.ipynb_checkpoints`` and ``__pycache__`` are not submissions.

Platforms' exports are recognised by their layout, without ``--pattern``:
- Gradescope's "Export Submissions" (``submission_metadata.yml`` beside ``submission_ID/``
  folders): each folder is its submitters' (one row per member of a group), named by email,
  with the submission time and their name and SID from the metadata;
- Canvas's "Download Submissions" (``doejane[_LATE]_USERID_FILEID_name.ipynb``): the student
  is the name part, with the Canvas user id and the late marker; a later upload has a
  higher file id, and so is a later attempt;
- Moodle's "Download all submissions" (``Jane Doe_PID_assignsubmission_file_/name.ipynb``, or
  flat ``..._assignsubmission_file_name.ipynb``): the student is the full name, with the
  participant id of Moodle's grading worksheet (``Participant PID``).
A submission's time is the platform's where it gives one, else the zip entry's date (read in
the due date's zone), else the file's modification time; ``Submission.time_source`` says which.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
import zipfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import yaml

from grader.core.loading import refusal
from grader.core.settings import key_lines
from grader.core.text import clean, terminal

SKIPPED_FOLDERS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}
# A browser's second download of a file: ``frank (1).ipynb`` is frank's, a later attempt.
DUPLICATE = re.compile(r"(.+?) \((\d{1,3})\)")
SKIPPED_FILES = {"Thumbs.db", "desktop.ini"}
PREFERENCE = {".ipynb": 2, ".py": 1}
# A zip entry is extracted up to this many bytes: enough for the loader to call it too large.
EXTRACT_LIMIT = 64 * 1024 * 1024
# A zip given on the command line is refused whole (nothing graded, exit 2) beyond these:
# an LMS export of a class holds hundreds of entries and megabytes, a zip bomb millions.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_BYTES = 4 * 1024**3  # everything extracted from one zip, each entry counted capped
MAX_ZIP_DIRECTORY = 64 * 1024 * 1024  # the zip's table of contents, read before the entries
NAME_BYTES = 200  # a file or folder name written to disk (the system allows 255)
STEM_BYTES = 120  # a student's stem: the name of their result, feedback and state files
SOURCE_LIMIT = 4_000  # characters of a submission's source, as the report shows it
GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_METADATA = 64 * 1024 * 1024  # a class of thousands with their autograder results
# Canvas: sortable name (lowercased, word characters), LATE, user id, file id, file name.
CANVAS_FILE = re.compile(r"(?P<name>.*?)(?:_(?P<late>LATE))?_(?P<user>\d+)_(?P<file>\d+)_"
                         r"(?P<filename>.+)", re.S)
# Moodle: full name (no "_"), participant id, the plugin; a folder, or a flat file name.
MOODLE_ENTRY = re.compile(r"(?P<name>[^_/]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)"
                          r"(?:_?|_(?P<filename>.+))", re.S)


class CollectionError(Exception):
    """A path the TA gave cannot be read: said before anything is graded."""


@dataclass(frozen=True)
class Submission:
    student: str  # the gradebook's key, and the stem of the student's output files
    path: Path  # the file to grade (a copy, when it came in a zip)
    source: str  # where it came from, as given: "export.zip:alice/hw.ipynb"
    # What the platform says of the student: (("name", ...), ("email", ...), ("sid", ...),
    # ("canvas_id", ...), ("moodle_participant", ...)), as far as it says.
    person: tuple[tuple[str, str], ...] = ()
    submitted_at: datetime | None = None  # naive: a zip entry's date, in the course's zone
    time_source: str = ""  # "Gradescope", "zip entry", "file"
    late_marker: bool = False  # the platform calls it late (Canvas's LATE)
    platform: str = ""  # "Gradescope", "Canvas", "Moodle", or ""


@dataclass
class Collection:
    submissions: list[Submission]
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (source, student)


@dataclass(frozen=True)
class _Candidate:
    student: str
    path: Path
    source: str
    attempt: int
    mtime: float
    preference: int
    refused: bool = False  # a stand-in for what is never read: any real file beats it
    filename: str = ""  # the student's own file name (a platform's prefix removed)
    person: tuple[tuple[str, str], ...] = ()
    submitted_at: datetime | None = None
    time_source: str = ""
    late_marker: bool = False
    platform: str = ""


class _StandIns:
    """Small files standing in for what a batch refuses to read (a link, a pipe): the loader
    reads the reason from them, wherever the submission is graded (grader.core.loading)."""

    def __init__(self, folder: Path):
        self.folder, self.count = folder, 0

    def make(self, name: str, reason: str) -> Path:
        self.count += 1
        path = self.folder / str(self.count) / _safe_name(name or "submission")
        path.parent.mkdir(parents=True)
        path.write_bytes(refusal(reason))
        return path


def collect(paths: list[str], scratch: Path, pattern: str | None = None,
            assignment: str | None = None) -> Collection:
    """Resolve the command line's paths into one submission per student.

    Symbolic links are never followed below what the command line names: a link in a given
    folder (or in a zip) is a submission of its own with status ``error`` saying so, whether
    it points inside the folder or out of it (a link to another student's file would grade
    that work twice). A path given on the command line that is a link to a folder is refused
    before anything is graded, a given link to a file is an ``error`` row like any other."""
    matcher = _compile(pattern)
    stand_ins = _StandIns(scratch / "refused")
    candidates: list[_Candidate] = []
    for number, given in enumerate(paths):
        path = Path(given)
        try:
            info = path.lstat()
        except OSError:
            raise CollectionError(f"{terminal(given)}: no such file or folder") from None
        if stat.S_ISLNK(info.st_mode):
            if path.is_dir():
                raise CollectionError(
                    f"{terminal(given)} is a symbolic link to a folder, and links are never "
                    f"followed: give the folder itself ({terminal(os.path.realpath(path))})")
            candidates.append(_refused(path, str(given), matcher, stand_ins,
                                       _link_reason(path, path.parent), info.st_mtime))
        elif stat.S_ISDIR(info.st_mode):
            candidates += _folder(path, str(given).rstrip("/") + "/", matcher, stand_ins)
        elif stat.S_ISREG(info.st_mode) and path.suffix.lower() == ".zip" \
                and zipfile.is_zipfile(path):
            target = scratch / f"zip{number}"
            modified = _extract(path, target)
            candidates += _folder(_single_top(target), f"{given}:", matcher, stand_ins,
                                  modified)
        elif stat.S_ISREG(info.st_mode):
            candidates.append(_file(path, str(given), matcher, info.st_mtime))
        else:
            candidates.append(_refused(path, str(given), matcher, stand_ins, "special",
                                       info.st_mtime))
    return _latest(candidates, assignment)


def _compile(pattern: str | None):
    if pattern is None:
        return None
    try:
        matcher = re.compile(pattern)
    except re.error as error:
        raise CollectionError(f"--pattern {pattern!r}: {error}") from None
    if "student" not in matcher.groupindex:
        raise CollectionError(f"--pattern {pattern!r} needs a group named 'student', "
                              r"e.g. '(?P<student>.+)-(?P<attempt>\d+)'")
    return matcher


def _file(path: Path, source: str, matcher, mtime: float | None = None,
          name: str | None = None, time_source: str = "file") -> _Candidate:
    name = path.name if name is None else name
    stem, attempt = PurePosixPath(name).stem, 0
    found = matcher.fullmatch(stem) if matcher else None
    mtime = path.lstat().st_mtime if mtime is None else mtime
    platform: dict = {}
    if found and found.group("student"):
        stem = found.group("student")
        if "attempt" in matcher.groupindex and found.group("attempt"):
            attempt = int(found.group("attempt"))
    elif not matcher and (moodle := _moodle(name)) and moodle.group("filename"):
        stem = moodle.group("name")
        platform = dict(filename=moodle.group("filename"), platform="Moodle",
                        person=_moodle_person(moodle))
    elif not matcher and (canvas := CANVAS_FILE.fullmatch(name)) and canvas.group("name"):
        stem, attempt = canvas.group("name"), int(canvas.group("file"))
        platform = dict(filename=canvas.group("filename"), platform="Canvas",
                        person=(("canvas_id", canvas.group("user")),),
                        late_marker=bool(canvas.group("late")))
    elif not matcher and (copy := DUPLICATE.fullmatch(stem)):
        stem, attempt = copy.group(1), int(copy.group(2))
    when = (datetime.fromtimestamp(mtime) if time_source == "zip entry"
            else datetime.fromtimestamp(mtime, timezone.utc))
    return _Candidate(stem, path, clean(source, SOURCE_LIMIT), attempt, mtime,
                      PREFERENCE.get(PurePosixPath(name).suffix.lower(), 0),
                      filename=platform.pop("filename", name), submitted_at=when,
                      time_source=time_source, **platform)


def _moodle(name: str):
    return MOODLE_ENTRY.fullmatch(name)


def _moodle_person(found: re.Match) -> tuple[tuple[str, str], ...]:
    return (("name", found.group("name")),
            ("moodle_participant", f"Participant {found.group('pid')}"))


def _refused(path: Path, source: str, matcher, stand_ins: _StandIns, reason: str,
             mtime: float) -> _Candidate:
    """A candidate for ``path`` that is never read: a stand-in saying why is graded."""
    candidate = _file(stand_ins.make(path.name, reason), source, matcher, mtime, path.name)
    return replace(candidate, refused=True)


def _link_reason(link: Path, root: Path) -> str:
    """Which refusal a link gets: to a folder, to a file of ``root``, or out of ``root``. Only
    names are resolved: nothing the link points at is opened."""
    target = Path(os.path.realpath(link))
    if not target.is_relative_to(Path(os.path.realpath(root))):
        return "link-outside"
    return "link-folder" if target.is_dir() else "link"


def _folder(folder: Path, label: str, matcher, stand_ins: _StandIns,
            mtimes: dict | None = None) -> list[_Candidate]:
    gradescope = _gradescope_export(folder, label) if matcher is None else None
    found = []
    for entry, info in _entries(folder):
        source = label + _relative(entry, folder)
        if gradescope is not None and entry.name == GRADESCOPE_METADATA:
            continue
        if stat.S_ISDIR(info.st_mode):
            student, platform = entry.name, {}
            if gradescope is not None and entry.name in gradescope:
                members = gradescope[entry.name]
            else:
                members = [(student, platform)]
                if matcher is None and (moodle := _moodle(entry.name)) \
                        and not moodle.group("filename"):
                    members = [(moodle.group("name"),
                                dict(platform="Moodle", person=_moodle_person(moodle)))]
            for inner, inner_info in _walk(entry):
                candidate = _own_name(_candidate(inner, inner_info,
                                                 label + _relative(inner, folder), matcher,
                                                 stand_ins, folder, mtimes), inner.name)
                for student, platform in members:
                    found.append(replace(candidate, student=student, **platform))
        else:
            found.append(_candidate(entry, info, source, matcher, stand_ins, folder, mtimes))
    return found


def _own_name(candidate: _Candidate, name: str) -> _Candidate:
    """A file inside a student's folder: its name says nothing of who or when. A platform's
    pattern in it (``bob_LATE_4242_1_hw.ipynb`` in mallory's folder) is the student's own
    choice, never Bob's Canvas id or a late marker; only the folder, or the platform's
    metadata, names the student."""
    if not candidate.platform:
        return candidate
    return replace(candidate, person=(), platform="", late_marker=False, filename=name,
                   attempt=0)


def _gradescope_export(folder: Path, label: str) -> dict[str, list] | None:
    """``submission_ID`` -> [(student, what the candidate learns)], one per submitter, from
    Gradescope's ``submission_metadata.yml``; None where there is none."""
    path = folder / GRADESCOPE_METADATA
    if not path.is_file() or path.is_symlink():
        return None
    name = label + GRADESCOPE_METADATA
    if path.stat().st_size > MAX_METADATA:
        raise CollectionError(f"{terminal(name)}: {path.stat().st_size:,} bytes, over the "
                              f"limit of {MAX_METADATA:,} (MAX_METADATA in "
                              f"grader/batch/collect.py): nothing was graded")
    try:
        metadata = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or error
        raise CollectionError(f"{terminal(name)}{where}: not valid YAML ({problem}): "
                              f"nothing was graded") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CollectionError(f"{terminal(name)}: cannot be read ({error})") from None
    if not isinstance(metadata, dict):
        raise CollectionError(f"{terminal(name)}: expected a mapping of submission_ID to "
                              f"submissions, as Gradescope exports it: nothing was graded")
    lines = key_lines(path)
    found = {}
    for key, entry in metadata.items():
        where = f"{terminal(name)}, line {lines.get(str(key), '?')}, {key}"
        submitters = entry.get(":submitters") if isinstance(entry, dict) else None
        if not isinstance(submitters, list) or not submitters or not all(
                isinstance(s, dict) for s in submitters):
            raise CollectionError(f"{where}: no :submitters: list (each with :name:, :sid:, "
                                  f":email:): nothing was graded")
        when = entry.get(":created_at")
        if isinstance(when, str):
            try:
                when = datetime.fromisoformat(when.replace(" Z", "+00:00"))
            except ValueError:
                when = None
        if not isinstance(when, datetime):
            raise CollectionError(f"{where}: :created_at: is not a date and time "
                                  f"({entry.get(':created_at')!r}): nothing was graded")
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)  # Gradescope writes UTC (" Z")
        members = []
        for submitter in submitters:
            for field_ in ("name", "email", "sid"):
                value = submitter.get(f":{field_}")
                if value is not None and (isinstance(value, bool) or not isinstance(
                        value, (str, int)) or len(str(value)) > 500):
                    raise CollectionError(f"{where}: :{field_}: must be a short text, got a "
                                          f"{type(value).__name__}: nothing was graded")
            person = tuple((field_, str(submitter[f":{field_}"])) for field_ in
                           ("name", "email", "sid") if submitter.get(f":{field_}") is not None)
            known = dict(person)
            student = known.get("email") or known.get("sid") or known.get("name") or str(key)
            members.append((student, dict(platform="Gradescope", person=person,
                                          submitted_at=when, time_source="Gradescope")))
        found[str(key)] = members
    return found


def _candidate(path: Path, info: os.stat_result, source: str, matcher, stand_ins: _StandIns,
               root: Path, mtimes: dict | None) -> _Candidate:
    if stat.S_ISREG(info.st_mode):
        zipped = mtimes is not None and path in mtimes
        return _file(path, source, matcher, mtimes[path] if zipped else info.st_mtime,
                     time_source="zip entry" if zipped else "file")
    reason = _link_reason(path, root) if stat.S_ISLNK(info.st_mode) else "special"
    return _refused(path, source, matcher, stand_ins, reason, info.st_mtime)


def _entries(folder: Path) -> list[tuple[Path, os.stat_result]]:
    """A folder's entries that may be submissions, sorted, each with its own ``lstat``."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as error:
        raise CollectionError(f"{terminal(folder)}: cannot be read ({error.strerror})") from None
    found = []
    for entry in entries:
        if _skipped(entry):
            continue
        try:
            found.append((entry, entry.lstat()))
        except OSError:
            continue  # gone since it was listed
    return found


def _walk(top: Path) -> list[tuple[Path, os.stat_result]]:
    """Every file below ``top`` that is not junk (links and special files included, as
    themselves), without ever descending through a link; depth-first, in name order."""
    found, stack = [], [top]
    while stack:
        folder = stack.pop()
        entries = _entries(folder)
        for entry, info in entries:
            if not stat.S_ISDIR(info.st_mode):
                found.append((entry, info))
        stack += [entry for entry, info in reversed(entries) if stat.S_ISDIR(info.st_mode)]
    return sorted(found)


def _skipped(path: Path) -> bool:
    return (path.name.startswith(".") or path.name in SKIPPED_FOLDERS
            or path.name in SKIPPED_FILES)


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _latest(candidates: list[_Candidate], assignment: str | None = None) -> Collection:
    by_student: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_student.setdefault(candidate.student, []).append(candidate)
    collection = Collection([])
    stems: set[str] = set()
    for student in sorted(by_student):
        ordered = sorted(by_student[student],
                         key=lambda c: (not c.refused, _named(c, assignment), c.preference,
                                        c.attempt, c.mtime, c.source))
        chosen = ordered[-1]
        stem = _unique_stem(student, stems)
        collection.submissions.append(Submission(
            stem, chosen.path, chosen.source, chosen.person, chosen.submitted_at,
            chosen.time_source, chosen.late_marker, chosen.platform))
        collection.superseded += [(c.source, stem) for c in ordered[:-1]]
    return collection


def _named(candidate: _Candidate, assignment: str | None) -> bool:
    """A file named after the assignment (``gradcheck.ipynb``): the one a student hands in."""
    name = PurePosixPath(candidate.filename or candidate.source.replace(":", "/")).stem
    if candidate.platform == "Canvas":  # Canvas renames a re-upload gradcheck-1.ipynb
        name = re.sub(r"-\d+$", "", name)
    return assignment is not None and name.casefold() == assignment.casefold()


def _unique_stem(student: str, taken: set[str]) -> str:
    """A file-name-safe version of ``student``, distinct from those already taken, short
    enough to name its files (``.STEM.json.PID.tmp`` included)."""
    stem = re.sub(r"[^\w.@+ -]", "_", student).strip(" .")
    stem = stem.encode("utf-8")[:STEM_BYTES].decode("utf-8", "ignore").strip(" .") \
        or "submission"
    candidate, number = stem, 2
    while candidate.lower() in taken:
        candidate, number = f"{stem}-{number}", number + 1
    taken.add(candidate.lower())
    return candidate


def _safe_name(name: str) -> str:
    """``name`` short enough for any file system (its extension kept), the same every time."""
    if len(name.encode("utf-8", "surrogateescape")) <= NAME_BYTES:
        return name
    suffix = PurePosixPath(name).suffix
    suffix = suffix if len(suffix) <= 16 else ""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    head = name.encode("utf-8", "surrogateescape")[:NAME_BYTES - len(suffix) - 12]
    return f"{head.decode('utf-8', 'ignore')}-{digest}{suffix}"


def _extract(archive: Path, target: Path) -> dict[Path, float]:
    """Extract every safe entry (no absolute paths, no ``..``); return their zip dates.

    A zip over ``MAX_ZIP_ENTRIES`` entries, ``MAX_ZIP_BYTES`` extracted or
    ``MAX_ZIP_DIRECTORY`` of table of contents is refused whole: a batch that graded part of
    an export would leave students out without a row, so nothing is graded and the TA is
    told why (unpack it and give the folder, or raise the constant)."""
    name = terminal(archive)
    _check_directory(archive, name)
    modified = {}
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as bundle:
            infos = bundle.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                raise CollectionError(_too_many(name, len(infos)))
            declared = sum(min(info.file_size, EXTRACT_LIMIT) for info in infos)
            if declared > MAX_ZIP_BYTES:
                raise CollectionError(_too_big(name, declared))
            budget = _Budget(MAX_ZIP_BYTES)
            for info in infos:
                parts = PurePosixPath(info.filename.replace("\\", "/")).parts
                if info.is_dir() or not parts or parts[0] == "/" or ".." in parts:
                    continue
                destination = target.joinpath(*map(_safe_name, parts))
                destination.parent.mkdir(parents=True, exist_ok=True)
                if _is_link(info):
                    destination.write_bytes(refusal("zip-link"))
                else:
                    with bundle.open(info) as source, open(destination, "wb") as sink:
                        _copy(_Limited(source, EXTRACT_LIMIT), sink, budget)
                    if budget.left < 0:
                        raise CollectionError(_too_big(name, MAX_ZIP_BYTES + 1))
                modified[destination] = time.mktime(info.date_time + (0, 0, -1))
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as error:
        raise CollectionError(f"{name}: cannot read this zip: {terminal(error, 500)}") from None
    return modified


def _check_directory(archive: Path, name: str) -> None:
    """Refuse a zip by its end record, before its table of contents is read into memory."""
    try:
        with open(archive, "rb") as handle:
            record = zipfile._EndRecData(handle)  # the format's own reader of the end record
    except (OSError, AttributeError, ValueError, EOFError):
        return  # ZipFile says what is wrong, below
    if not record:
        return
    entries, size = record[zipfile._ECD_ENTRIES_TOTAL], record[zipfile._ECD_SIZE]
    if entries > MAX_ZIP_ENTRIES:
        raise CollectionError(_too_many(name, entries))
    if size > MAX_ZIP_DIRECTORY:
        raise CollectionError(f"{name}: refused: its table of contents is {size:,} bytes, "
                              f"over the limit of {MAX_ZIP_DIRECTORY:,} (MAX_ZIP_DIRECTORY "
                              f"in grader/batch/collect.py); nothing was graded")


def _too_many(name: str, entries: int) -> str:
    return (f"{name}: refused: it holds {entries:,} entries, over the limit of "
            f"{MAX_ZIP_ENTRIES:,} (MAX_ZIP_ENTRIES in grader/batch/collect.py); nothing was "
            f"graded: unpack it yourself and give the folder, or raise the limit")


def _too_big(name: str, size: int) -> str:
    return (f"{name}: refused: its entries hold over {min(size, MAX_ZIP_BYTES + 1):,} bytes, "
            f"over the limit of {MAX_ZIP_BYTES:,} (MAX_ZIP_BYTES in grader/batch/collect.py); "
            f"nothing was graded: unpack it yourself and give the folder, or raise the limit")


def _is_link(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


class _Budget:
    def __init__(self, left: int):
        self.left = left


def _copy(source, sink, budget: _Budget) -> None:
    while budget.left >= 0:
        chunk = source.read(1 << 20)
        if not chunk:
            return
        budget.left -= len(chunk)
        sink.write(chunk)


class _Limited:
    """A reader that stops after ``limit`` bytes (a zip bomb fills no disk)."""

    def __init__(self, source, limit: int):
        self.source, self.left = source, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.source.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


def _single_top(folder: Path) -> Path:
    """Look through one top-level folder holding everything (a zipped export folder)."""
    entries = [e for e in folder.iterdir() if not _skipped(e)]
    while len(entries) == 1 and entries[0].is_dir():
        inner = [e for e in entries[0].iterdir() if not _skipped(e)]
        if not any(e.is_dir() for e in inner) and inner:
            return entries[0]  # a folder of files: the students are its files
        if not inner:
            break
        folder, entries = entries[0], inner
        # a folder of folders: one per student, unless it is again a single wrapper
    return folder
