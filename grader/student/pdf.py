"""The answers to questions people grade, as a PDF for a platform's PDF assignment (Gradescope
asks for one question per page, in order): ``dlgrade check --submit --pdf`` and
``grader.export()`` in the notebook write ``NAME-answers.pdf`` beside the notebook.

Each page holds one question's title and points, the figures the notebook saved for it and
the written answer, as text (escaped: nothing of the notebook is ever markup). The page is
printed by a Chromium installed from the system's packages (``apt-get install chromium``), in
headless mode; no browser is ever downloaded.
"""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
import tempfile
from pathlib import Path

from grader.core.answers import read_answers

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_TIMEOUT = 120
STYLE = """
@page { size: A4; margin: 18mm; }
body { font: 11pt/1.45 system-ui, sans-serif; color: #111; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
h1 { font-size: 15pt; margin: 0 0 4mm; }
.muted { color: #555; }
.answer { white-space: pre-wrap; border-left: 3px solid #bbb; padding-left: 4mm; }
.missing { color: #a00; }
img { max-width: 100%; max-height: 150mm; display: block; margin: 4mm 0; }
"""


class PdfError(Exception):
    """The PDF cannot be written here: said in one line, with what to do."""


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("no Chromium to print with: install it from your system's packages "
                   "(apt-get install chromium, or your platform's Chrome); dlgrade never "
                   "downloads a browser")


def answers_page(path: Path, assignment: str, manual: dict) -> str:
    """The HTML to print: a section (a page) per question, in the assignment's order."""
    answers = read_answers(path, list(manual))
    sections = []
    for qid, about in manual.items():
        about = about if isinstance(about, dict) else {}
        answer = answers[qid]
        title = html.escape(str(about.get("title") or ""))
        points = about.get("points")
        parts = [f"<h1>{html.escape(qid)}{': ' + title if title else ''}</h1>",
                 f'<p class="muted">{html.escape(assignment)}'
                 f"{f', {points:g} points' if isinstance(points, (int, float)) else ''}</p>"]
        parts += [f'<img alt="figure" src="data:image/png;base64,'
                  f'{base64.b64encode(image).decode()}">' for image in answer.images]
        if answer.text.strip():
            parts.append(f'<div class="answer">{html.escape(answer.text.strip())}</div>')
        for missing in answer.empty(bool(about.get("figure"))):
            what = "written answer" if missing == "text" else "figure"
            parts.append(f'<p class="missing">No {what}.</p>')
        sections.append("<section>" + "\n".join(parts) + "</section>")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
            f"{html.escape(assignment)}: answers</title><style>{STYLE}</style></head><body>"
            + "\n".join(sections) + "</body></html>")


def write_pdf(path: Path, assignment: str, manual: dict, target: Path | None = None) -> Path:
    """Print ``path``'s answers to ``target`` (default ``NAME-answers.pdf`` beside it)."""
    if not manual:
        raise PdfError(f"{assignment} has no question graded by people: there is nothing to "
                       f"put in a PDF")
    target = target or path.with_name(f"{assignment}-answers.pdf")
    chromium = browser()
    with tempfile.TemporaryDirectory(prefix="dlgrade-pdf-") as folder:
        page = Path(folder) / "answers.html"
        page.write_text(answers_page(path, assignment, manual), encoding="utf-8")
        printed = Path(folder) / "answers.pdf"
        try:
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-pdf-header-footer", f"--user-data-dir={folder}/profile",
                            f"--print-to-pdf={printed}", page.as_uri()],
                           check=True, capture_output=True, timeout=PRINT_TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            raise PdfError(f"{chromium} could not print the answers ({error})") from None
        if not printed.is_file() or not printed.read_bytes().startswith(b"%PDF"):
            raise PdfError(f"{chromium} printed no PDF")
        shutil.copyfile(printed, target)
    return target
