"""Questions people grade, end to end with the real commands: declared in assignment.yml and
the handout, answered in the notebook, flagged by `dlgrade check --submit` while empty, shown
blind on OUT/manual/QID.html, scored back with --manual (points or rubric items), and totals
that say "pending" until then."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import subprocess
from pathlib import Path

import pytest
from conftest import run_dlgrade

from grader.batch.logistics import pseudonym

MANUAL = """manual:
  q2:
    title: the error against the step size
    points: 3
    figure: true
    rubric:
      - {points: 2, item: a log-log plot of the error against h}
      - {points: 1, item: says where rounding takes over}
"""
ANSWER = ("The error falls with h until rounding takes over near h = 1e-8. "
          "<script>alert('x')</script>")


def png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(4, 3))
    plt.loglog([1e-8, 1e-4, 1], [1e-6, 1e-9, 1e-2])
    plt.fill_between([1e-8, 1], 1e-9, 1e-2, color="black")  # ink a render can see
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def course(tmp_path) -> Path:
    """`dlgrade new demo` with a written question and a figure (q2), published."""
    assert subprocess.run(["dlgrade", "new", "demo"], cwd=tmp_path, capture_output=True,
                          timeout=60).returncode == 0
    folder = tmp_path / "assignments" / "demo"
    (folder / "assignment.yml").write_text((folder / "assignment.yml").read_text() + MANUAL)
    (folder / "handout.md").write_text((folder / "handout.md").read_text()
                                       + "\n## The experiment\n\n<!-- answer: q2 -->\n")
    done = subprocess.run(["dlgrade", "publish", "--draws", "1", "demo"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path


def answered(course: Path, target: Path, text: str | None, figure: bool) -> Path:
    """The published notebook with the reference's code, and (or not) an answer."""
    notebook = json.loads((course / "student_template/demo/demo.ipynb").read_text())
    reference = (course / "solutions/demo.py").read_text()
    for cell in notebook["cells"]:
        kind = cell.get("metadata", {}).get("dlgrade", {}).get("kind")
        if "raise NotImplementedError" in "".join(cell["source"]):
            cell["source"] = reference
        elif kind == "figure" and figure:
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"image/png": png(), "text/plain": "<Figure>"}}]
        elif kind == "text" and text is not None:
            cell["source"] = text
    target.write_text(json.dumps(notebook))
    return target


def gradebook(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def test_the_notebook_gets_answer_cells_and_check_submit_names_what_is_empty(course, tmp_path):
    notebook = json.loads((course / "student_template/demo/demo.ipynb").read_text())
    tags = [c["metadata"]["dlgrade"] for c in notebook["cells"]
            if "dlgrade" in c.get("metadata", {})]
    assert tags == [{"answer": "q2", "kind": "figure"}, {"answer": "q2", "kind": "text"}]
    assert notebook["metadata"]["dlgrade"]["manual"] == {
        "q2": {"title": "the error against the step size", "points": 3.0, "figure": True}}
    blank = answered(course, tmp_path / "demo.ipynb", None, figure=False)
    done = run_dlgrade("check", "--submit", blank, cwd=tmp_path)
    assert done.returncode == 1
    assert "q2 has no written answer yet: replace the paragraph under \"q2: your answer\" " \
           "with yours" in done.stdout
    assert "q2 has no figure yet: run the cell that draws it" in done.stdout
    ready = answered(course, tmp_path / "demo.ipynb", ANSWER, figure=True)
    done = run_dlgrade("check", "--submit", ready, cwd=tmp_path)
    assert "q2" not in done.stdout.split("Before you submit")[-1], done.stdout


def test_people_grade_blind_from_one_page_and_totals_wait_for_them(course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    answered(course, inbox / "ada.ipynb", ANSWER, figure=True)
    answered(course, inbox / "bo.ipynb", None, figure=False)
    out = tmp_path / "out"
    done = run_dlgrade("grade", course / "assignments/demo", inbox, "-o", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    book = gradebook(out)
    for student in ("ada", "bo"):
        assert (book[student]["q1"], book[student]["q2"], book[student]["total"],
                book[student]["max_total"]) == ("5", "pending", "pending", "8")
    page = (out / "manual" / "q2.html").read_text()
    ada, bo = pseudonym("ada"), pseudonym("bo")
    assert "ada" not in page and "bo.ipynb" not in page  # blind
    assert page.count("data:image/png;base64,") == 1 and "&lt;script&gt;" in page
    assert "<script>" not in page
    ada_part = page.split(f'id="{ada}"')[1].split("<h2")[0]
    assert html.unescape(ada_part).count("rounding takes over near h = 1e-8") == 1
    bo_part = page.split(f'id="{bo}"')[1].split("<h2")[0]
    assert "No written answer." in bo_part and "No figure." in bo_part
    template = (out / "manual" / "scores.csv").read_text().splitlines()
    assert template[0] == "student,question,points,rubric,comment"
    assert sorted(template[1:]) == sorted([f"{ada},q2,,,", f"{bo},q2,,,"])
    assert "still to be graded by people" in (out / "feedback" / "ada.md").read_text()
    with open(out / "final_grades.csv", newline="") as handle:
        otter = list(csv.reader(handle))
    assert otter[0] == ["file", "q1", "q2", "total_points_earned", "percent_correct",
                        "grading_status"]
    assert otter[1] == ["points-per-question", "5", "3", "8", "1", "--"]
    assert otter[2][1:] == ["5", "", "", "", "pending: q2 graded by people"]
    assert ada.startswith("S-") and len(ada) == 12

    scores = tmp_path / "scores.csv"
    scores.write_text(f"student,question,points,rubric,comment\n{ada},q2,,1 2,Clear plot\n"
                      f"{bo},q2,0,,no answer\n")
    done = run_dlgrade("grade", course / "assignments/demo", inbox, "-o", out,
                       "--manual", scores)
    assert done.returncode == 0 and "nothing to grade" in done.stdout
    book = gradebook(out)
    assert (book["ada"]["q2"], book["ada"]["total"]) == ("3", "8")
    assert (book["bo"]["q2"], book["bo"]["total"]) == ("0", "5")
    feedback = (out / "feedback" / "ada.md").read_text()
    assert "## q2: the error against the step size (3 / 3, graded by people)" in feedback
    assert "- earned: a log-log plot of the error against h (2)" in feedback
    assert "> Clear plot" in feedback and "**Score: 8 / 8**" in feedback
    with open(out / "final_grades.csv", newline="") as handle:
        otter = {row[0]: row for row in csv.reader(handle)}
    assert otter[str(inbox / "ada.ipynb")][1:] == ["5", "3", "8", "1", "Completed"]
    # Kept for later runs, as every file the TA gives.
    done = run_dlgrade("grade", course / "assignments/demo", inbox, "-o", out)
    assert gradebook(out)["ada"]["total"] == "8"


@pytest.mark.parametrize("row, expected", [
    ("S-000000,q2,1,,x", "scores.csv, line 2, column student: no student 'S-000000'"),
    ("{ada},q9,1,,x", "scores.csv, line 2, column question: no question people grade named "
                      "'q9' (they are q2)"),
    ("{ada},q2,4,,x", "scores.csv, line 2, column points: 4 is above q2's 3 points"),
    ("{ada},q2,,1 1,x", "scores.csv, line 2, column rubric: '1 1' is not a list of q2's "
                        "rubric items (1 to 2, each once)"),
    ("{ada},q2,,3,x", "q2's rubric items (1 to 2, each once)"),
    ("{ada},q2,,\u00b2,x", "q2's rubric items (1 to 2, each once)"),
    ("{ada},q2,1,,x\n{ada},q2,2,,y", "line 3: {ada}'s q2 is already scored on line 2"),
])
def test_a_bad_scores_file_is_refused_before_anything_is_written(course, tmp_path, row,
                                                                 expected):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    answered(course, inbox / "ada.ipynb", ANSWER, figure=True)
    scores = tmp_path / "scores.csv"
    scores.write_text("student,question,points,rubric,comment\n"
                      + row.format(ada=pseudonym("ada")) + "\n")
    done = run_dlgrade("grade", course / "assignments/demo", inbox, "-o", tmp_path / "out",
                       "--manual", scores)
    assert done.returncode == 2 and expected.format(ada=pseudonym("ada")) in done.stderr
    assert "ada" not in done.stderr.replace(pseudonym("ada"), "")  # never who it is
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("config, handout, expected", [
    (MANUAL, "", "manual question q2 has no <!-- answer: q2 --> in the handout"),
    ("", "<!-- answer: q2 -->\n", "<!-- answer: q2 -->: q2 is not a question of manual: in "
                                  "assignment.yml (there are none)"),
    (MANUAL.replace("points: 1, item", "points: 2, item"), "<!-- answer: q2 -->\n",
     "its rubric adds up to 4 points, not 3"),
    (MANUAL.replace("  q2:", "  q1:"), "<!-- answer: q1 -->\n",
     "manual.q1: q1 is also a question its tests grade"),
])
def test_an_instructors_manual_question_mistakes_are_one_line(tmp_path, config, handout,
                                                               expected):
    assert subprocess.run(["dlgrade", "new", "demo"], cwd=tmp_path, capture_output=True,
                          timeout=60).returncode == 0
    folder = tmp_path / "assignments" / "demo"
    (folder / "assignment.yml").write_text((folder / "assignment.yml").read_text() + config)
    (folder / "handout.md").write_text((folder / "handout.md").read_text() + handout)
    done = subprocess.run(["dlgrade", "publish", "--draws", "1", "demo"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_answers_pdf_has_one_page_per_question_in_order(tmp_path):
    """Two questions people grade (q2 with a figure, q3 written only): `check --submit --pdf`
    prints q2 on page 1 (figure and text, the text as text), q3 on page 2 (said empty); the
    notebook's `grader.export()` writes the same pages."""
    import numpy as np
    import pypdfium2 as pdfium
    from browser import browser

    browser()  # skips (or fails, in CI) without Chromium
    assert subprocess.run(["dlgrade", "new", "demo"], cwd=tmp_path, capture_output=True,
                          timeout=60).returncode == 0
    folder = tmp_path / "assignments" / "demo"
    (folder / "assignment.yml").write_text(
        (folder / "assignment.yml").read_text() + MANUAL
        + "  q3:\n    title: what the gradient check cannot see\n    points: 2\n")
    (folder / "handout.md").write_text((folder / "handout.md").read_text()
                                       + "\n<!-- answer: q2 -->\n\n<!-- answer: q3 -->\n")
    done = subprocess.run(["dlgrade", "publish", "--draws", "1", "demo"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "work").mkdir()
    notebook = answered(tmp_path, tmp_path / "work" / "demo.ipynb", ANSWER, figure=True)
    content = json.loads(notebook.read_text())
    for cell in content["cells"]:
        if cell.get("metadata", {}).get("dlgrade") == {"answer": "q3", "kind": "text"}:
            cell["source"] = "**q3: your answer** (2 points, graded by people). Replace this " \
                             "paragraph with your answer."
    notebook.write_text(json.dumps(content))
    # Not under run_dlgrade's address-space bound: Chromium reserves terabytes of it.
    done = subprocess.run(["dlgrade", "check", "--submit", "--pdf", str(notebook)],
                          cwd=tmp_path / "work", capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "q3 has no written answer yet" in done.stdout
    pdf_path = tmp_path / "work" / "demo-answers.pdf"
    assert f"wrote {pdf_path}: upload it to the PDF assignment" in done.stdout, done.stdout
    pdf = pdfium.PdfDocument(pdf_path)
    assert len(pdf) == 2
    first, second = (pdf[i].get_textpage().get_text_range() for i in range(2))
    assert first.startswith("q2: the error against the step size")
    assert "rounding takes over near h = 1e-8" in first and "<script>alert" in first
    assert second.startswith("q3: what the gradient check cannot see")
    assert "No written answer." in second
    images = [len(list(pdf[i].get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE])))
              for i in range(2)]
    assert images == [1, 0]
    pixels = []
    for number in range(2):  # each page rendered to PNG, as a reader sees it
        png_path = tmp_path / f"page{number + 1}.png"
        pdf[number].render(scale=1).to_pil().save(png_path)
        pixels.append(np.asarray(pdfium.PdfDocument(pdf_path)[number].render(scale=1)
                                 .to_pil().convert("L")))
        assert png_path.stat().st_size > 1000
    assert (pixels[0] < 200).mean() > 5 * (pixels[1] < 200).mean()  # the figure is drawn

    from grader.student.notebook import Notebook

    pdf_path.unlink()
    said = Notebook("demo", "0" * 16).export(str(notebook))
    assert said == f"Wrote {pdf_path}: upload it." and pdf_path.read_bytes()[:4] == b"%PDF"
