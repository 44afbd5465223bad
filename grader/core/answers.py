"""The answers to questions people grade, read from a submitted notebook: the Markdown of its
text cell and the PNG figures its figure cell saved, found by the cells' metadata
(``dlgrade.answer``, written by publishing), wherever the student moved them.

Nothing here runs the submission: a figure is what the student's own run saved in the file.
Whatever the notebook holds is hostile: sizes are capped, only PNG images (by their first
bytes) are kept, text is returned as text for the renderers to escape.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.core.text import clean

MAX_NOTEBOOK = 64 * 1024 * 1024
MAX_TEXT = 20_000  # characters of one written answer
MAX_IMAGE = 5 * 1024 * 1024  # bytes of one figure
MAX_IMAGES = 4  # figures kept per question
PNG = b"\x89PNG\r\n\x1a\n"
PLACEHOLDER = "Replace this paragraph with your answer."


@dataclass
class Answer:
    text: str = ""  # the written answer (the placeholder removed)
    images: list[bytes] = field(default_factory=list)  # PNG figures, in cell order
    found: bool = False  # the notebook holds this question's answer cell

    def empty(self, figure: bool) -> list[str]:
        """What is missing: "text", "figure"."""
        missing = [] if self.text.strip() else ["text"]
        return missing + (["figure"] if figure and not self.images else [])


def read_answers(path: Path, questions) -> dict[str, Answer]:
    """``questions``: the ids people grade. A file that is not a readable notebook (a ``.py``,
    a damaged file) answers nothing."""
    answers = {qid: Answer() for qid in questions}
    try:
        if path.suffix.lower() != ".ipynb" or path.stat().st_size > MAX_NOTEBOOK:
            return answers
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return answers
    for cell in cells if isinstance(cells, list) else []:
        tag = _tag(cell)
        if tag is None or tag[0] not in answers:
            continue
        answer = answers[tag[0]]
        answer.found = True
        if tag[1] == "text" and cell.get("cell_type") == "markdown":
            text = clean(_source(cell), MAX_TEXT)
            head, _, tail = text.partition(PLACEHOLDER)
            text = tail if PLACEHOLDER in text and head.startswith("**") else text
            answer.text = "\n".join(filter(None, (answer.text, text.strip())))
        elif tag[1] == "figure":
            answer.images += _images(cell)[:MAX_IMAGES - len(answer.images)]
    return answers


def _tag(cell) -> tuple[str, str] | None:
    try:
        about = cell["metadata"]["dlgrade"]
        return str(about["answer"]), str(about.get("kind", "text"))
    except (KeyError, TypeError):
        return None


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def _images(cell: dict) -> list[bytes]:
    found = []
    outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
    for output in outputs:
        data = output.get("data") if isinstance(output, dict) else None
        png = data.get("image/png") if isinstance(data, dict) else None
        if isinstance(png, list):
            png = "".join(map(str, png))
        if not isinstance(png, str) or len(png) > MAX_IMAGE * 4 // 3 + 16:
            continue
        try:
            image = base64.b64decode(png, validate=False)
        except (binascii.Error, ValueError):
            continue
        if image.startswith(PNG):
            found.append(image)
    return found
