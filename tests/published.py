"""Helpers for a published course: the reference as a student would submit it, the score each
grader gives (``dlgrade run`` and ``otter run``), the student's side in a real Jupyter kernel
and through ``dlgrade check``. Shared by the kit's tests (on tests/fixtures) and the course
checks (tests/course, on assignments/)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
from conftest import run_dlgrade
from nbclient import NotebookClient

from grader.authoring.publishing import solved_notebook
from grader.core.settings import load_assignment


def solved(course: Path, folder: Path, name: str) -> Path:
    """The student notebook filled with the reference code, as a student would submit it."""
    path = folder / f"{name}.ipynb"
    path.write_bytes(solved_notebook(load_assignment(str(course / "assignments" / name))))
    return path


def dlgrade_result(course: Path, submission: Path, name: str) -> dict:
    done = run_dlgrade("run", course / "assignments" / name, submission, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def otter_run(archive: Path, submission: Path, out: Path) -> dict:
    """``otter run -a ARCHIVE SUBMISSION`` into ``out`` (created): its results.json."""
    out.mkdir()
    done = subprocess.run(["otter", "run", "-a", str(archive), "-o", str(out), "--no-logo",
                           str(submission)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / "results.json").read_text())


def otter_score(course: Path, submission: Path, folder: Path, name: str) -> tuple[float, dict]:
    """The score ``otter run`` gives, from its results.json (the Gradescope format)."""
    tests = otter_run(course / f"dist/{name}-autograder.zip", submission,
                      folder / f"otter-{submission.stem}")["tests"]
    questions = {t["name"]: t["score"] for t in tests if "score" in t}
    return sum(questions.values()), questions


def declared_loss(example: Path) -> set[str]:
    """The questions an example declares it loses (none for ``full marks``)."""
    expect = json.loads(example.read_text())["metadata"]["dlgrade"]["expect"]
    return set() if expect == "full marks" else set(expect.replace(",", " ").split()[1:])


# ---------------------------------------------------------------- the student's side

def student_copy(course: Path, name: str, folder: Path,
                 notebook: bytes | Path | None = None) -> Path:
    """The student's folder as handed out, with ``notebook`` in place of the blank one. An
    example's first cell (notebook plumbing, written when it was) becomes the one handed out
    now: the code cells that follow are the example."""
    target = folder / name
    shutil.copytree(course / "student_template" / name, target)
    path = target / f"{name}.ipynb"
    if notebook is None:
        return path
    content = json.loads(notebook.read_bytes() if isinstance(notebook, Path) else notebook)
    handed_out = json.loads(path.read_text())
    init = next(c["source"] for c in handed_out["cells"] if c["cell_type"] == "code")
    for cell in content["cells"]:
        if cell["cell_type"] == "code" and re.search(r"(otter|dlgrade)\.Notebook\(",
                                                     "".join(cell["source"])):
            cell["source"] = init
            break
    path.write_text(json.dumps(content))
    return path


def with_answers(notebook: Path) -> Path:
    """``notebook`` with every question people grade answered: a written answer, and a saved
    figure where one is expected (what a student does before submitting)."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(2, 2))
    plt.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    image = base64.b64encode(buffer.getvalue()).decode()
    content = json.loads(notebook.read_text())
    for cell in content["cells"]:
        kind = cell.get("metadata", {}).get("dlgrade", {}).get("kind")
        if kind == "text":
            cell["source"] = "My answer, in two sentences."
        elif kind == "figure":
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"image/png": image, "text/plain": "<Figure>"}}]
    notebook.write_text(json.dumps(content))
    return notebook


def questions_of(course: Path, name: str) -> list[str]:
    return list(load_assignment(str(course / "assignments" / name)).questions)


def execute(notebook: Path) -> list:
    """Run the notebook in a real kernel, in its folder; return its cells."""
    cells = nbformat.read(notebook, as_version=4)
    NotebookClient(cells, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return cells.cells


def kernel_verdicts(cells) -> dict[str, str]:
    """Each `grader.check("qN")` cell's question and what it showed."""
    shown = {}
    for cell in cells:
        found = re.fullmatch(r'grader\.check\("(\w+)"\)', cell.source.strip())
        if cell.cell_type == "code" and found:
            shown[found.group(1)] = "\n".join(
                o.get("data", {}).get("text/plain", "") + o.get("text", "") +
                o.get("evalue", "") for o in cell.outputs)
    return shown


# The first line of what a check says about one question.
VERDICT = (r"(q\w+): (?:its public check passed|all \d+ public checks passed|its public check "
           r"failed:|\d+ of \d+ public checks failed:)$")


def passed(verdict: str) -> bool:
    return bool(re.match(r"q\w+: (its public check|all \d+ public checks) passed$", verdict))


def command_verdicts(output: str, questions: list[str]) -> dict[str, str]:
    """The block `dlgrade check` printed per question."""
    blocks, current = {}, None
    for line in output.splitlines():
        found = re.match(VERDICT, line)
        if found:
            current = found.group(1)
            blocks[current] = line
        elif current and line.startswith(("- ", "    ")):
            blocks[current] += "\n" + line
        else:
            current = None
    assert set(blocks) == set(questions), output
    return blocks


def same_text(kernel: str, command: str) -> None:
    """The kernel shows exactly what the command prints about the question (then its notes)."""
    assert kernel.split("\nNote: ")[0] == command, (kernel, command)
