"""Which files a batch grades, and which student each one belongs to.

The rules (README, "Grading a class"):
- a file given on the command line, or lying directly in a given folder, is one submission;
  its student is its name without the extension, or the ``student`` group of ``--pattern``;
- a sub-folder is one student (the folder's name), whatever files it holds;
- a zip is read like a folder (one top-level folder holding everything is looked through);
- a student with several submissions is graded on the latest: the highest ``attempt`` of
  ``--pattern``, then the newest modification time (a zip entry's date), then the last name;
  inside a student's folder, notebooks are preferred to ``.py`` files, and those to anything
  else. The older ones are listed in the report, never silently dropped.
Hidden files, ``__MACOSX``, ``.ipynb_checkpoints`` and ``__pycache__`` are not submissions.
"""

from __future__ import annotations

import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

SKIPPED_FOLDERS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}
SKIPPED_FILES = {"Thumbs.db", "desktop.ini"}
PREFERENCE = {".ipynb": 2, ".py": 1}
# A zip entry is extracted up to this many bytes: enough for the loader to call it too large.
EXTRACT_LIMIT = 64 * 1024 * 1024


class CollectionError(Exception):
    """A path the TA gave cannot be read: said before anything is graded."""


@dataclass(frozen=True)
class Submission:
    student: str  # the gradebook's key, and the stem of the student's output files
    path: Path  # the file to grade (a copy, when it came in a zip)
    source: str  # where it came from, as given: "export.zip:alice/hw.ipynb"


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


def collect(paths: list[str], scratch: Path, pattern: str | None = None) -> Collection:
    """Resolve the command line's paths into one submission per student."""
    matcher = _compile(pattern)
    candidates: list[_Candidate] = []
    for number, given in enumerate(paths):
        path = Path(given)
        if path.is_dir():
            candidates += _folder(path, str(given).rstrip("/") + "/", matcher)
        elif path.is_file() and path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
            target = scratch / f"zip{number}"
            modified = _extract(path, target)
            candidates += _folder(_single_top(target), f"{given}:", matcher, modified)
        elif path.is_file():
            candidates.append(_file(path, str(given), matcher))
        else:
            raise CollectionError(f"{given}: no such file or folder")
    return _latest(candidates)


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


def _file(path: Path, source: str, matcher, mtime: float | None = None) -> _Candidate:
    stem, attempt = path.stem, 0
    found = matcher.fullmatch(stem) if matcher else None
    if found and found.group("student"):
        stem = found.group("student")
        if "attempt" in matcher.groupindex and found.group("attempt"):
            attempt = int(found.group("attempt"))
    return _Candidate(stem, path, source, attempt,
                      path.stat().st_mtime if mtime is None else mtime,
                      PREFERENCE.get(path.suffix.lower(), 0))


def _folder(folder: Path, label: str, matcher, mtimes: dict | None = None) -> list[_Candidate]:
    found = []
    for entry in sorted(folder.iterdir()):
        if _skipped(entry):
            continue
        if entry.is_file():
            found.append(_file(entry, label + _relative(entry, folder), matcher,
                               (mtimes or {}).get(entry)))
            continue
        for inner in sorted(entry.rglob("*")):
            if inner.is_file() and not any(_skipped(p) for p in inner.relative_to(folder).parents
                                           if p != Path(".")) and not _skipped(inner):
                candidate = _file(inner, label + _relative(inner, folder), matcher,
                                  (mtimes or {}).get(inner))
                found.append(replace(candidate, student=entry.name))
    return found


def _skipped(path: Path) -> bool:
    return (path.name.startswith(".") or path.name in SKIPPED_FOLDERS
            or path.name in SKIPPED_FILES)


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _latest(candidates: list[_Candidate]) -> Collection:
    by_student: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_student.setdefault(candidate.student, []).append(candidate)
    collection = Collection([])
    stems: set[str] = set()
    for student in sorted(by_student):
        ordered = sorted(by_student[student],
                         key=lambda c: (c.preference, c.attempt, c.mtime, c.source))
        chosen = ordered[-1]
        stem = _unique_stem(student, stems)
        collection.submissions.append(Submission(stem, chosen.path, chosen.source))
        collection.superseded += [(c.source, stem) for c in ordered[:-1]]
    return collection


def _unique_stem(student: str, taken: set[str]) -> str:
    """A file-name-safe version of ``student``, distinct from those already taken."""
    stem = re.sub(r"[^\w.@+ -]", "_", student).strip(" .") or "submission"
    candidate, number = stem, 2
    while candidate.lower() in taken:
        candidate, number = f"{stem}-{number}", number + 1
    taken.add(candidate.lower())
    return candidate


def _extract(archive: Path, target: Path) -> dict[Path, float]:
    """Extract every safe entry (no absolute paths, no ``..``); return their zip dates."""
    modified = {}
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                parts = PurePosixPath(info.filename.replace("\\", "/")).parts
                if info.is_dir() or not parts or parts[0] == "/" or ".." in parts:
                    continue
                destination = target.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, open(destination, "wb") as sink:
                    shutil.copyfileobj(_Limited(source, EXTRACT_LIMIT), sink)
                modified[destination] = time.mktime(info.date_time + (0, 0, -1))
    except (zipfile.BadZipFile, OSError, RuntimeError) as error:
        raise CollectionError(f"{archive}: cannot read this zip: {error}") from None
    return modified


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
