"""The student's side of every published notebook: checks in a real Jupyter kernel
(nbclient), `dlgrade check` with the same verdicts, and `dlgrade check --submit`."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import run_dlgrade
from nbclient import NotebookClient

from grader.authoring.publishing import solved_notebook
from grader.core.settings import load_assignment

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/assignment.yml"))


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


def command_verdicts(output: str, questions: list[str]) -> dict[str, str]:
    """The block `dlgrade check` printed per question."""
    blocks, current = {}, None
    for line in output.splitlines():
        found = re.match(r"(?:(q\w+): all \d+ public checks passed|\d+ of \d+ public checks of "
                         r"(q\w+) failed:)", line)
        if found:
            current = found.group(1) or found.group(2)
            blocks[current] = line
        elif current and line.startswith(("- ", "    ")):
            blocks[current] += "\n" + line
        else:
            current = None
    assert set(blocks) == set(questions), output
    return blocks


def student_copy(assignment: str, folder: Path, notebook: bytes | Path | None = None) -> Path:
    """The student's folder as handed out, with ``notebook`` in place of the blank one."""
    target = folder / assignment
    shutil.copytree(ROOT / "student_template" / assignment, target)
    path = target / f"{assignment}.ipynb"
    if isinstance(notebook, Path):
        path.write_bytes(notebook.read_bytes())
    elif notebook is not None:
        path.write_bytes(notebook)
    return path


def questions_of(assignment: str) -> list[str]:
    return list(load_assignment(str(ROOT / "assignments" / assignment)).questions)


def _same(kernel: str, command: str) -> None:
    """The kernel shows the command's failure text (Otter prefixes it with its own words);
    only the sandbox knows which code cell an error came from, and says so on its own line."""
    if command.endswith("public checks passed"):
        assert "All test cases passed!" in kernel, kernel
    else:
        for line in command.splitlines():
            if not line.strip().startswith("at code cell"):
                assert line.strip() in kernel, (line, kernel)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_notebook_fails_every_check_readably(assignment, tmp_path):
    path = student_copy(assignment, tmp_path)
    kernel = kernel_verdicts(execute(path))
    done = run_dlgrade("check", path)
    assert done.returncode == 1
    command = command_verdicts(done.stdout, questions_of(assignment))
    assert set(kernel) == set(command)
    for question, text in command.items():
        assert f"public checks of {question} failed:" in text
        assert "your code raised NotImplementedError" in text
        assert "Traceback" not in kernel[question] and "grader/" not in kernel[question]
        _same(kernel[question], text)
    assert "Traceback" not in done.stdout + done.stderr
    assert "does not promise full marks" in done.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_filled_notebook_passes_every_check(assignment, tmp_path):
    solved = solved_notebook(load_assignment(str(ROOT / "assignments" / assignment)))
    path = student_copy(assignment, tmp_path, solved)
    kernel = kernel_verdicts(execute(path))
    assert kernel and all("All test cases passed!" in text for text in kernel.values()), kernel
    done = run_dlgrade("check", path)
    assert done.returncode == 0, done.stdout
    command = command_verdicts(done.stdout, questions_of(assignment))
    assert all(text.endswith("public checks passed") for text in command.values())
    ready = run_dlgrade("check", path, "--submit", "--zip")
    assert ready.returncode == 0, ready.stdout
    assert "ready: it reads, defines every function" in ready.stdout
    with zipfile.ZipFile(path.parent / f"{assignment}-submission.zip") as upload:
        assert upload.namelist() == [f"{assignment}.ipynb"]


def caught_by_public_checks(assignment: str, tmp_path: Path) -> tuple[Path, str]:
    """The first known-bug example that fails one question's public checks, and that
    question, which must be one it declares (a public check blames the right question too)."""
    for example in sorted((ROOT / "assignments" / assignment / "examples").glob("bug_*.ipynb")):
        path = student_copy(assignment, tmp_path / example.stem, example)
        done = run_dlgrade("check", path)
        command = command_verdicts(done.stdout, questions_of(assignment))
        failing = {q for q, t in command.items() if "failed:" in t}
        if failing:
            declared = set(json.loads(example.read_text())["metadata"]["dlgrade"]["expect"]
                           .replace(",", " ").split()[1:])
            assert failing <= declared, (example.name, failing, declared)
            if len(failing) == 1:
                return path, failing.pop()
    pytest.fail(f"no known-bug example of {assignment} is caught by one question's public "
                f"checks alone")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_known_bug_fails_only_its_question_with_its_hint(assignment, tmp_path):
    path, question = caught_by_public_checks(assignment, tmp_path)
    kernel = kernel_verdicts(execute(path))
    failing = {q for q, text in kernel.items() if "All test cases passed!" not in text}
    assert failing == {question}, kernel
    done = run_dlgrade("check", path)
    assert done.returncode == 1
    command = command_verdicts(done.stdout, questions_of(assignment))
    assert {q for q, t in command.items() if "failed:" in t} == {question}
    _same(kernel[question], command[question])
    alone = run_dlgrade("check", path, "-q", question)
    assert alone.returncode == 1 and command[question] in alone.stdout
    assert "0 of 1 questions pass" in alone.stdout
    assert not re.search(r"^q\w+: all \d+ public checks passed", alone.stdout, re.M)


# ---------------------------------------------------------------- before submitting

@pytest.fixture
def solved_gradcheck(tmp_path) -> Path:
    solved = solved_notebook(load_assignment(str(ROOT / "assignments" / "gradcheck")))
    notebook = json.loads(solved)
    notebook["metadata"]["dlgrade"]["limits"]["cell_timeout"] = 3  # keep the loop test short
    return student_copy("gradcheck", tmp_path, json.dumps(notebook).encode())


def _edit(path: Path, change) -> Path:
    notebook = json.loads(path.read_text())
    change(notebook["cells"])
    path.write_text(json.dumps(notebook))
    return path


def _code(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"x{len(source)}",
            "metadata": {}, "outputs": [], "source": source}


def submit(path: Path) -> list[str]:
    done = run_dlgrade("check", path, "--submit", "--zip")
    assert done.returncode == 1, done.stdout
    assert "not ready:" in done.stdout and "Traceback" not in done.stdout + done.stderr
    assert not (path.parent / "gradcheck-submission.zip").exists()
    return [line.strip()[len("- fix: "):] for line in done.stdout.splitlines()
            if line.strip().startswith("- fix: ")]


def test_submit_catches_a_renamed_file(solved_gradcheck):
    renamed = solved_gradcheck.rename(solved_gradcheck.with_name("gradcheck (1).ipynb"))
    _edit(renamed, lambda cells: cells.insert(1, _code(
        'import otter\ngrader = otter.Notebook("gradcheck.ipynb")')))
    assert submit(renamed) == [
        "the file is named 'gradcheck (1).ipynb', not 'gradcheck.ipynb': rename it to "
        "gradcheck.ipynb (File > Rename in Jupyter) before you submit",
        "the notebook calls otter.Notebook('gradcheck.ipynb') but is named 'gradcheck (1)"
        ".ipynb': change that line to grader = otter.Notebook() (no file name), which works "
        "under any name"]


def test_submit_catches_a_missing_function(solved_gradcheck):
    def rename(cells):
        for cell in cells:
            cell["source"] = "".join(cell["source"]).replace("def numerical_jacobian(",
                                                             "def numerical_jacobi(")
    assert submit(_edit(solved_gradcheck, rename)) == [
        "`numerical_jacobian` is not defined: define it with exactly this name (its cell may "
        "have been renamed, deleted or not run)"]


def test_submit_catches_an_error_cell_and_an_unwritten_function(solved_gradcheck):
    def break_it(cells):
        cells.append(_code("scores = {}\nscores['q1'] += 1"))
        for cell in cells:
            source = "".join(cell["source"])
            if "def relative_error(" in source:
                head = source.split('"""')
                cell["source"] = f'{head[0]}"""{head[1]}"""\n    raise NotImplementedError\n'
    problems = submit(_edit(solved_gradcheck, break_it))
    assert problems[0] == ("`relative_error` still raises NotImplementedError: write its body, "
                           "or leave it knowing its question scores 0")
    assert re.fullmatch(r"code cell \d+ raised KeyError: 'q1' .*: fix it so that Kernel > "
                        r"Restart and Run All runs every cell without an error", problems[1]), \
        problems[1]
    assert len(problems) == 2


def test_submit_catches_an_infinite_loop(solved_gradcheck):
    problems = submit(_edit(solved_gradcheck, lambda cells: cells.append(
        _code("while True:\n    pass"))))
    assert len(problems) == 1
    assert re.fullmatch(r"code cell \d+ did not finish within 3 s \(an infinite loop\?\): it "
                        r"must finish within 3 s; stop the loop or make it faster, then "
                        r"Restart and Run All", problems[0]), problems[0]


def test_submit_catches_huge_outputs_and_unreadable_files(solved_gradcheck, tmp_path):
    def flood(cells):
        cells[2]["outputs"] = [{"name": "stdout", "output_type": "stream",
                                "text": "x" * (3 * 2**20)}]
    problems = submit(_edit(solved_gradcheck, flood))
    assert problems == ["code cell 2 holds 3.0 MB of output: clear it (Edit > Clear Outputs) "
                        "or print less, then save"]
    solved_gradcheck.write_text('{"cells": [')
    problems = submit(solved_gradcheck)
    assert len(problems) == 1 and "not valid JSON" in problems[0]
    assert "save the notebook again from Jupyter" in problems[0]


def test_check_without_its_tests_folder_says_where_they_are(tmp_path):
    notebook = json.loads((ROOT / "student_template/gradcheck/gradcheck.ipynb").read_text())
    del notebook["metadata"]["dlgrade"]
    lonely = tmp_path / "lonely.ipynb"
    lonely.write_text(json.dumps(notebook))
    done = run_dlgrade("check", lonely)
    assert done.returncode == 2
    assert "keep the notebook in the folder it came in, next to its tests/ folder" in \
        done.stderr
