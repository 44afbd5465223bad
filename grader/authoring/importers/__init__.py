"""``dlgrade import``: an Otter Assign master notebook or an nbgrader source notebook becomes
``assignments/NAME/`` and ``solutions/NAME.py``.

Each format is read into the same plain parts (narrative, given code, solved functions, checks,
questions people grade), which one writer turns into an assignment. What cannot be converted
is listed in the import report with the cell it comes from, never dropped silently.

Checks run on the trusted side: the check's code runs in the grader's process, calling the
student's functions in their worker and reading their values as data, so the expected values
never travel. A check that rebinds or deletes a student's name (nbgrader's "does f use g?"
idiom) can only run in the student's namespace: it is shipped there, and the report says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.authoring.importers.cells import cell_text
from grader.authoring.importers.checks import drop_unrunnable
from grader.authoring.importers.nbgrader import read_nbgrader
from grader.authoring.importers.otter import read_otter
from grader.authoring.importers.parts import ImportFailure, ImportReport
from grader.authoring.importers.writing import write_assignment

__all__ = ["FORMATS", "ImportFailure", "ImportReport", "import_notebook"]

FORMATS = ("otter", "nbgrader")


def import_notebook(kind: str, notebook: Path, root: Path, name: str | None = None,
                    force: bool = False) -> ImportReport:
    """Read ``notebook`` (``kind`` otter or nbgrader) and write the assignment under ``root``."""
    if kind not in FORMATS:
        raise ImportFailure(f"unknown format {kind!r} (known: {', '.join(FORMATS)})")
    try:
        cells = json.loads(Path(notebook).read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ImportFailure(f"{notebook}: not a readable notebook ({error})") from None
    cells = [{**cell, "source": cell_text(cell.get("source", ""))} for cell in cells]
    parts = (read_otter if kind == "otter" else read_nbgrader)(cells, Path(notebook).stem)
    if name:
        parts.name = name
    if not parts.name.isidentifier():
        raise ImportFailure(f"assignment name {parts.name!r} must be a Python identifier: "
                            f"give one with --name")
    drop_unrunnable(parts)
    if not parts.questions:
        raise ImportFailure(f"{notebook}: no question could be converted into tests:\n"
                            + "\n".join(f"  - {item}" for item in parts.skipped))
    return write_assignment(parts, Path(root), force)

