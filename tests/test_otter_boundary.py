"""The Otter/Gradescope path keeps the trust boundary: the course comes only from the
autograder's own files, an upload cannot replace it, and the course secret is not in the
configuration Otter reads into its memory."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import EXAMPLES, FIXTURES, TOY_MAX, fixture_copy, grade_json, write_notebook
from published import otter_run

from grader.core.settings import load_assignment
from grader.platforms.otter import COURSE_FOLDER, SECRET_IN_ZIP, autograder_zip

FORWARD = "import numpy as np\n\ndef affine(x, W, b):\n    return x @ W + b\n"
# Right or wrong depending on its input's sign: its score depends on the inputs drawn.
MOODY = FORWARD.replace("return x @ W + b", "return x @ W + b + (x[0, 0] < 0)")
OFF_BACKWARD = ("def affine_backward(dout, x, W):\n"  # wrong by values: messages show inputs
                "    return dout @ W.T + 1e-3, x.T @ dout, dout.sum(axis=0)\n")


@pytest.fixture
def toy_zip(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DLGRADE_SECRET", "zip-secret-51f0")
    course = fixture_copy(tmp_path / "course", "toy", examples=False)
    config = course / "assignments" / "toy" / "assignment.yml"
    config.write_text(config.read_text().replace("cell_timeout: 3", "cell_timeout: 30"))
    path = tmp_path / "toy-autograder.zip"
    path.write_bytes(autograder_zip(load_assignment(str(course / "assignments" / "toy"))))
    return path


def score(results: dict) -> float:
    return sum(test["score"] for test in results["tests"] if "score" in test)


def test_the_secret_is_in_the_zip_but_not_in_otters_configuration(toy_zip, tmp_path):
    archive = zipfile.ZipFile(toy_zip)
    assert "zip-secret-51f0" not in archive.read("otter_config.json").decode()
    assert archive.read(SECRET_IN_ZIP) == b"zip-secret-51f0"
    assert not any(name.startswith("files/") and "secret" in name for name in archive.namelist())
    # ...and grading uses it: the same inputs, so the same per-question scores, as
    # dlgrade run with it, for a submission whose score depends on its inputs.
    moody = write_notebook(tmp_path / "toy.ipynb", [MOODY])
    notebook = nbformat.read(moody, as_version=4)
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"  # fixed bytes, so fixed inputs under each secret
    nbformat.write(notebook, moody)
    ours = grade_json(moody, env={"DLGRADE_SECRET": "zip-secret-51f0"})
    # A secret under which this notebook's inputs fall the other way (most fall the same way).
    other = grade_json(moody, env={"DLGRADE_SECRET": "b2"})
    assert ours["questions"] != other["questions"]  # else this test could not tell
    results = otter_run(toy_zip, moody, tmp_path / "out")
    assert {t["name"]: t["score"] for t in results["tests"] if "score" in t} == \
        {q: s["score"] for q, s in ours["questions"].items()}


def test_hidden_checks_say_only_that_they_failed_where_students_look(toy_zip, tmp_path):
    """Gradescope shows question outputs to students once grades are published."""
    wrong = write_notebook(tmp_path / "toy.ipynb", [FORWARD + OFF_BACKWARD])
    ours = grade_json(wrong, env={"DLGRADE_SECRET": "zip-secret-51f0"})
    hidden = [t["message"] for t in ours["tests"]
              if t["visibility"] == "hidden" and t["outcome"] == "failed"]
    results = otter_run(toy_zip, wrong, tmp_path / "out")
    shown = json.dumps(results)
    assert hidden and "a hidden check failed" in shown
    assert not any(message.splitlines()[0] in shown for message in hidden)


def test_an_upload_carrying_its_own_course_gets_nothing_and_runs_nothing(toy_zip, tmp_path):
    """A zip upload with a blank notebook and a ``dlgrade-course`` of its own (a reference
    and a suite that pass everything, with module-level code): scored as the blank, and none
    of its files is imported by the grader."""
    marker = tmp_path / "the upload's code ran"
    upload = tmp_path / "upload"
    upload.mkdir()
    write_notebook(upload / "toy.ipynb", ["x = 1"])
    fake = upload / COURSE_FOLDER
    shutil.copytree(FIXTURES / "assignments" / "toy", fake / "assignments" / "toy",
                    ignore=shutil.ignore_patterns("examples", "__pycache__"))
    hostile = f"open({str(marker)!r}, 'w').write('ran')\n"
    (fake / "solutions").mkdir()
    (fake / "solutions" / "toy.py").write_text(hostile + "def affine(*a):\n    return 0\n")
    for test in (fake / "assignments" / "toy" / "tests").glob("test_*.py"):
        test.write_text(hostile + "import pytest\n\n@pytest.mark.question('q1')\n"
                        "@pytest.mark.points(16)\ndef test_all():\n    pass\n")
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as target:
        for path in sorted(upload.rglob("*")):
            if path.is_file():
                target.write(path, path.relative_to(upload).as_posix())
    results = otter_run(toy_zip, archive, tmp_path / "out")
    assert score(results) == 0
    assert "only the autograder may provide" in results.get("output", "")
    assert not marker.exists()


def test_otter_run_scores_as_dlgrade_run_with_the_course_from_the_zip(toy_zip, tmp_path):
    results = otter_run(toy_zip, EXAMPLES / "reference.ipynb", tmp_path / "out")
    assert score(results) == TOY_MAX
    assert "sandbox: full" in results.get("output", "")


# Reads every readable page of the worker's memory (what it inherited from the processes it
# was forked from: Otter's, the plugin's), a child per region so that a fault costs nothing,
# and shows what follows any "secret" there in the message of every check.
MEMORY_SCAN = """
import ctypes, os

def _snippets():
    found = []
    for line in open("/proc/self/maps"):
        span, perms = line.split()[:2]
        start, end = (int(v, 16) for v in span.split("-"))
        if not perms.startswith("r") or end - start > 1 << 26:
            continue
        readable, writable = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(readable)
            data, hits = ctypes.string_at(start, end - start), []
            for word in (b"secret", b"SECRET"):
                at = data.find(word)
                while at >= 0 and len(hits) < 50:
                    hits.append(data[at:at + 48])
                    at = data.find(word, at + 1)
            os.write(writable, repr(hits).encode()[:60000])
            os._exit(0)
        os.close(writable)
        chunks = []
        while chunk := os.read(readable, 65536):
            chunks.append(chunk)
        os.close(readable)
        os.waitpid(pid, 0)
        found.append(b"".join(chunks).decode(errors="replace"))
    return found

FOUND = _snippets()

def affine(x, W, b):
    raise RuntimeError("in my memory: " + " ".join(FOUND)[:20000])
"""


def test_the_secret_is_not_in_the_workers_memory_on_the_otter_path(toy_zip, tmp_path):
    scan = write_notebook(tmp_path / "toy.ipynb", [MEMORY_SCAN])
    results = otter_run(toy_zip, scan, tmp_path / "out")
    shown = json.dumps(results)
    assert "in my memory: " in shown and "secret" in shown.split("in my memory: ", 1)[1]
    assert "zip-secret-51f0" not in shown
