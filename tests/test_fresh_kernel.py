"""A student with nothing but the notebook and ``pip`` (as in Colab): a fresh virtual
environment holding only a Jupyter kernel runs the published notebook; its first cell installs
dlgrade (from a local wheel folder: the tests use no network for the project itself), and every
check then says what ``dlgrade check`` says."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import run_dlgrade
from environments import fresh_venv, wheelhouse
from nbclient import NotebookClient
from published import command_verdicts, kernel_verdicts, same_text

QUESTIONS = [f"q{i}" for i in range(1, 7)]


@pytest.fixture
def colab(tmp_path, monkeypatch) -> str:
    """A kernel named ``colab`` in a fresh copy of a venv that has ipykernel only; pip in it
    finds dlgrade's wheel in the local wheel folder."""
    base = fresh_venv("kernel-only", "ipykernel")
    venv = tmp_path / "venv"
    shutil.copytree(base, venv, symlinks=True)
    kernels = tmp_path / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f",
                 "{connection_file}"],
        "display_name": "a fresh Python", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse()))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_ROOT_USER_ACTION", "ignore")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    return str(venv)


def packages(venv: Path) -> set[str]:
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format",
                             "json"], capture_output=True, text=True, check=True).stdout
    return {entry["name"].lower() for entry in json.loads(listed)}


def test_the_notebook_alone_installs_what_it_needs_and_checks(colab, fixture_course, tmp_path):
    venv = Path(colab)
    assert "dlgrade" not in packages(venv)
    folder = tmp_path / "drive"
    folder.mkdir()
    path = folder / "gradcheck.ipynb"  # alone: no tests/ folder beside it
    shutil.copy(fixture_course / "student_template/gradcheck/gradcheck.ipynb", path)
    cells = nbformat.read(path, as_version=4)
    started = time.monotonic()
    NotebookClient(cells, timeout=600, kernel_name="colab", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    first = next(c for c in cells.cells if c.cell_type == "code")
    assert not [o for o in first.outputs if o.output_type == "error"], first.outputs
    installed = packages(venv)
    assert "dlgrade" in installed
    assert not installed & {"otter-grader", "jinja2", "matplotlib", "distributed", "tqdm"}
    kernel = kernel_verdicts(cells.cells)
    done = run_dlgrade("check", path)
    command = command_verdicts(done.stdout, QUESTIONS)
    assert set(kernel) == set(QUESTIONS)
    for question in QUESTIONS:
        same_text(kernel[question], command[question])
        assert "is not written yet" in kernel[question]
    print(f"first run of the notebook, installing dlgrade: {time.monotonic() - started:.1f} s")


def test_a_package_the_checks_need_gone_missing_is_one_sentence(colab, fixture_course,
                                                                 tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    shutil.copy(fixture_course / "student_template/gradcheck/gradcheck.ipynb",
                folder / "gradcheck.ipynb")
    handed_out = nbformat.read(folder / "gradcheck.ipynb", as_version=4)
    init = next(c for c in handed_out.cells if c.cell_type == "code")
    install = init.source.split('%pip install --quiet "')[1].split('"')[0]
    cells = [nbformat.v4.new_code_cell(source) for source in (
        init.source, "%pip uninstall --yes --quiet pytest", 'grader.check("q1")',
        f'%pip install --quiet "{install}"', 'grader.check("q1")')]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(notebook, timeout=600, kernel_name="colab", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    outputs = ["".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") +
                       o.get("evalue", "") for o in cell.outputs) for cell in notebook.cells]
    assert outputs[2] == (f'The public checks need pytest, which this Python does not have: '
                          f'run %pip install "{install}" in a cell, then run this cell again.')
    assert outputs[4].startswith("q1: its public check failed:"), outputs[4]  # the line worked
