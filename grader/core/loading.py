"""Loading a submission: a notebook (any nbformat v4 minor, older ones upgraded by nbformat)
or a .py file, as the ordered list of its code cells with IPython syntax neutralised.

A v4 notebook is JSON whose ``cells`` hold ``cell_type`` and ``source`` in every minor version,
so it is read directly; nbformat is imported only to upgrade an older one (its import costs
more than grading a small submission)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.worker import NEUTRALISED

MAX_BYTES = 20 * 1024 * 1024
KEPT_CELL_MAGICS = {"time", "capture", "timeit"}  # the body is ordinary Python: run it
MAGIC_LINE = re.compile(r"^(\s*)(%|!)")
ASSIGNED_ESCAPE = re.compile(r"^(\s*)[\w.,\s]+=\s*[%!]")
PERCENT_CELL = re.compile(r"^# %%", re.MULTILINE)
# Otter's notebook plumbing: public checks run in the student's kernel, never when grading.
# dlgrade's: the first cell's import and ``grader = dlgrade.Notebook(...)``.
OTTER_LINE = re.compile(r"^(\s*)(import (otter|dlgrade)\b.*"
                        r"|grader\s*=\s*(otter|dlgrade)\.Notebook\(.*\)"
                        r"|grader\.(check|check_all|export|run_plugin)\(.*\))\s*$")
# A batch stands in for what it refuses to read (a link, a pipe) with a small file holding
# this prefix and a reason; whoever grades it, here or on a Dask worker, says why. No text
# file starts with a NUL byte, so no notebook or script is ever read as one of these.
REFUSED = b"\0dlgrade-refused\0"
REFUSALS = {
    "link": "this is a symbolic link to another file of the submitted folder; links are "
            "never followed (a link could name someone else's work): submit the file itself",
    "link-outside": "this is a symbolic link pointing outside the submitted folder; "
                    "links are never followed or read: submit the file itself",
    "link-folder": "this is a symbolic link to a folder; links are never followed: submit "
                   "the files themselves",
    "special": "this is not a regular file (a pipe, a socket or a device): submit a notebook",
    "zip-link": "the zip holds this entry as a symbolic link; links are never followed: "
                "submit the file itself",
}


def refusal(reason: str) -> bytes:
    """The content of a file that stands in for one a batch refused to read."""
    if reason not in REFUSALS:
        raise ValueError(f"unknown refusal {reason!r}")
    return REFUSED + reason.encode()


class SubmissionUnreadable(Exception):
    """The file cannot be graded; the message is written for the student."""


@dataclass(frozen=True)
class LoadedSubmission:
    path: Path
    sha256: str
    cells: tuple[str, ...]


def load_submission(path: Path) -> LoadedSubmission:
    """Read ``path`` and return its code cells, or raise ``SubmissionUnreadable``."""
    path = Path(path)
    data = _read(path)
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(REFUSED):
        reason = data[len(REFUSED):].decode("ascii", "replace")
        raise SubmissionUnreadable(REFUSALS.get(reason, "the file could not be read"))
    if not data.strip():
        raise SubmissionUnreadable("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionUnreadable(
            "the file is not a text file (is it a notebook or a .py file?)") from None
    if "\x00" in text:
        raise SubmissionUnreadable("the file is not a text file (it contains binary data)")
    if _looks_like_notebook(path, text):
        sources = notebook_sources(text)
    elif path.suffix.lower() == ".py":
        sources = script_sources(text)
    else:  # a metadata file, notes, a .txt copy: never run as code
        raise SubmissionUnreadable(
            f"the file is {_kind(path)}: a submission is a notebook (.ipynb) or a Python file "
            f"(.py), and nothing else is run")
    return LoadedSubmission(path, digest, tuple(neutralise_magics(s) for s in sources))


def _read(path: Path) -> bytes:
    """The file's bytes: never through a symbolic link, never from a pipe or a device (which
    could block or never end), never more than ``MAX_BYTES``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SubmissionUnreadable("the file is a symbolic link; links are never followed: "
                                       "give the file itself") from None
        raise SubmissionUnreadable(f"the file could not be read ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionUnreadable(REFUSALS["special"] if not stat.S_ISDIR(info.st_mode)
                                       else "this is a folder, not a file")
        if info.st_size > MAX_BYTES:
            raise SubmissionUnreadable(_too_large(info.st_size))
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:  # it grew while we read it
            raise SubmissionUnreadable(_too_large(size))
        return b"".join(chunks)
    except OSError as error:
        raise SubmissionUnreadable(f"the file could not be read ({error.strerror})") from None
    finally:
        os.close(fd)


def _too_large(size: int) -> str:
    return (f"the file is {size / 2**20:.0f} MB; a submission must be under "
            f"{MAX_BYTES // 2**20} MB (clear large outputs before saving)")


def _kind(path: Path) -> str:
    return f"a {path.suffix} file" if path.suffix else "a file without an extension"


def _looks_like_notebook(path: Path, text: str) -> bool:
    return path.suffix == ".ipynb" or (path.suffix != ".py" and text.lstrip().startswith("{"))


def script_sources(text: str) -> list[str]:
    """A .py file: one cell, or one per ``# %%`` marker (the percent format of editors)."""
    starts = [m.start() for m in PERCENT_CELL.finditer(text)]
    if not starts:
        return [text]
    bounds = [0, *starts, len(text)] if starts[0] > 0 else [*starts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def notebook_sources(text: str) -> list[str]:
    """The code cells of a notebook, upgraded to nbformat 4 when older."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise SubmissionUnreadable(
            f"the notebook is not valid JSON (line {getattr(error, 'lineno', '?')}): was it "
            "saved completely? Open it in Jupyter, save it again, and resubmit") from None
    except (RecursionError, MemoryError):
        raise SubmissionUnreadable(
            "the notebook's JSON is nested far too deeply to be a notebook: open it in "
            "Jupyter, save it again, and resubmit") from None
    if type(raw) is not dict or not isinstance(raw.get("nbformat"), int):
        raise SubmissionUnreadable("the file is JSON but not a Jupyter notebook")
    version = raw["nbformat"]
    if version > 4:
        raise SubmissionUnreadable(f"the notebook uses nbformat {version}, newer than this "
                                   "grader reads (4): save it with Jupyter as nbformat 4")
    notebook = raw if version == 4 else _upgrade(text, version)
    cells = notebook.get("cells")
    if type(cells) is not list:
        raise SubmissionUnreadable("the notebook has no list of cells")
    code = [cell for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    return [_source(cell, number) for number, cell in enumerate(code, start=1)]


def _upgrade(text: str, version: int) -> dict:
    """An older notebook converted by nbformat (imported only here: it is slow to import)."""
    import nbformat

    try:
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises many types for malformed documents
        raise SubmissionUnreadable(
            f"the notebook could not be read as nbformat {version} "
            f"({type(error).__name__}): save it again with Jupyter") from None


def _source(cell: dict, number: int) -> str:
    """A code cell's source: a string, or a list of strings (the lines) as nbformat writes."""
    source = cell.get("source", "")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise SubmissionUnreadable(
        f"code cell {number} is damaged: its source is not text (a string or a list of "
        f"strings, as Jupyter saves it): open the notebook in Jupyter, save it again, "
        f"and resubmit")


def neutralise_magics(source: str) -> str:
    """Turn IPython magics, shell escapes and Otter's check calls into comments, keeping
    line numbers."""
    lines = source.split("\n")
    first = lines[0].strip()
    if first.startswith("%%"):
        name = first[2:].split()[0] if first[2:].split() else ""
        if name not in KEPT_CELL_MAGICS:
            return "\n".join("# " + line for line in lines)
        lines[0] = "# " + lines[0]
    return "\n".join(_neutralise_line(line) for line in lines)


def _neutralise_line(line: str) -> str:
    match = MAGIC_LINE.match(line) or ASSIGNED_ESCAPE.match(line) or OTTER_LINE.match(line)
    if not match:
        return line
    command = line.strip()
    for timer in ("%time ", "%timeit "):
        if command.startswith(timer):
            return match.group(1) + command[len(timer):]
    return f"{match.group(1)}{NEUTRALISED}{command}"
