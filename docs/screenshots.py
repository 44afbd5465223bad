"""Make the README's screenshots with a real headless Chromium. From the project root:

    python docs/screenshots.py

- docs/report.png: the class report of the bundled gradcheck examples (`dlgrade grade`);
- docs/check-failing.png and docs/check-passing.png: a student notebook with a transposed
  Jacobian, executed in a real kernel and converted to HTML by nbconvert, as the student sees
  a failing check (q3) and a passing one (q2).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "tests"))
from browser import screenshot  # noqa: E402


def report(scratch: Path) -> None:
    out = scratch / "graded"
    subprocess.run(["dlgrade", "grade", "gradcheck", "assignments/gradcheck/examples", "-o",
                    str(out)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    screenshot(out / "report.html", DOCS / "report.png", width=1000, height=1500)


def checks(scratch: Path) -> None:
    folder = scratch / "gradcheck"
    shutil.copytree(ROOT / "student_template" / "gradcheck", folder)
    example = ROOT / "assignments/gradcheck/examples/bug_jacobian_transposed.ipynb"
    notebook = nbformat.read(example, as_version=4)
    # The example's first cell as handed out today (the code cells after it are the example).
    handed_out = nbformat.read(folder / "gradcheck.ipynb", as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    first.source = next(c for c in handed_out.cells if c.cell_type == "code").source
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    for question, name in (("q3", "check-failing"), ("q2", "check-passing")):
        index = next(i for i, c in enumerate(notebook.cells)
                     if c.source.strip() == f'grader.check("{question}")')
        shown = nbformat.v4.new_notebook(cells=notebook.cells[index - 1:index + 1],
                                         metadata=notebook.metadata)
        html, _ = HTMLExporter(template_name="lab").from_notebook_node(shown)
        page = scratch / f"{name}.html"
        page.write_text(html)
        screenshot(page, DOCS / f"{name}.png", width=900, height=520 if question == "q3"
                   else 420)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dlgrade-shots-") as scratch:
        report(Path(scratch))
        checks(Path(scratch))
    for name in ("report", "check-failing", "check-passing"):
        print(f"wrote docs/{name}.png ({(DOCS / f'{name}.png').stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
