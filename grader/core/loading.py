"""Loading a submission: a notebook (any nbformat v4 minor, older ones upgraded by nbformat)
or a .py file, as the ordered list of its code cells with IPython syntax neutralised.

A v4 notebook is JSON whose ``cells`` hold ``cell_type`` and ``source`` in every minor version,
so it is read directly; nbformat is imported only to upgrade an older one (its import costs
more than grading a small submission)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024
KEPT_CELL_MAGICS = {"time", "capture", "timeit"}  # the body is ordinary Python: run it
MAGIC_LINE = re.compile(r"^(\s*)(%|!)")
ASSIGNED_ESCAPE = re.compile(r"^(\s*)[\w.,\s]+=\s*[%!]")
PERCENT_CELL = re.compile(r"^# %%", re.MULTILINE)
# Otter's notebook plumbing: public checks run in the student's kernel, never when grading.
OTTER_LINE = re.compile(r"^(\s*)(import otter\b.*|grader\s*=\s*otter\.Notebook\(.*\)"
                        r"|grader\.(check|check_all|export|run_plugin)\(.*\))\s*$")


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
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SubmissionUnreadable(
                f"the file is {size / 2**20:.0f} MB; a submission must be under "
                f"{MAX_BYTES // 2**20} MB (clear large outputs before saving)")
        data = path.read_bytes()
    except OSError as error:
        raise SubmissionUnreadable(f"the file could not be read ({error.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise SubmissionUnreadable("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionUnreadable(
            "the file is not a text file (is it a notebook or a .py file?)") from None
    if "\x00" in text:
        raise SubmissionUnreadable("the file is not a text file (it contains binary data)")
    sources = notebook_sources(text) if _looks_like_notebook(path, text) else script_sources(text)
    return LoadedSubmission(path, digest, tuple(neutralise_magics(s) for s in sources))


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
    return [_source(cell) for cell in cells
            if isinstance(cell, dict) and cell.get("cell_type") == "code"]


def _upgrade(text: str, version: int) -> dict:
    """An older notebook converted by nbformat (imported only here: it is slow to import)."""
    import nbformat

    try:
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises many types for malformed documents
        raise SubmissionUnreadable(
            f"the notebook could not be read as nbformat {version} "
            f"({type(error).__name__}): save it again with Jupyter") from None


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


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
    return f"{match.group(1)}pass  # {command}"
