"""Student text reaches no output raw: whatever a submission puts into exception messages,
exception type names, printed output or its file name (lone surrogates, NULs, terminal escape
sequences, HTML, spreadsheet formulas, Markdown fences, megabytes), `dlgrade run` prints a
result and `dlgrade grade` writes every output, each bounded, clean and honest."""

from __future__ import annotations

import csv
import json
import os
import re
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

from grader.core import text

# A Python string literal (written into cells as source): everything a message could carry.
HOSTILE = (r'"\ud800 lone \udfff \x00 NUL \x1b[2J\x1b]0;pwned\x07 ESC \x9b31m C1 '
           r'<script>alert(1)</script> <img src=x onerror=alert(1)> '
           r"=cmd|' /C calc'!A0 [click](http://evil.example) \u202egnp.exe "
           r'\n```\n~~~\n</pre> & &lt; \r\n\u2028end"')
# Characters that no output may hold: C0 controls but newline and tab, DEL, C1, surrogates,
# the bidi overrides.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
FORMULA = tuple("=+-@\t\r")
SURROGATE_SCORE = TOY_MAX - 6  # affine raises (q1 lost), affine_backward is right (q2 kept)

RAISES_SURROGATE = ("import numpy as np\n\ndef affine(x, W, b):\n"
                    "    raise RuntimeError(\"\\ud800\")\n")
EVERYTHING = [
    FORWARD,
    f"print({HOSTILE})\nprint({HOSTILE} * 1000)",
    f"raise type(\"\\ud800<b>\\x1b[1m\", (Exception,), {{}})({HOSTILE})",
    f"raise RuntimeError({HOSTILE} + 'x' * 10_000_000)",
    f"raise type({HOSTILE}, (ValueError,), {{}})('type name')",
    "def affine_backward(dout, x, W):\n"
    f"    print({HOSTILE})\n    raise ValueError({HOSTILE} * 100)\n",
]
# Replaces the worker's exception encoder: megabytes per cell, in every field, beyond the
# worker's own 2,000-character cap (the reply limit of the wire is 8 MB of text).
MALLORY = """import sys
worker = sys.modules['grader.sandbox.worker']
original = worker.describe_exception

def flood(error, *rest):
    described = original(error, *rest)
    described['message'] = %s + 'A' * 3_000_000
    described['type'] = '\\ud800\\x1b' * 2_000
    described['where'] = ['\\x1b]0;title\\x07 ```' * 40_000]
    return described

worker.describe_exception = flood
""" % HOSTILE
HOSTILE_NAME = os.fsdecode(b"\x1b[31m<b>=cmd|'calc'!A0 \xff\xfe [x](y) ```.ipynb")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("student-text") / "inbox"
    folder.mkdir()
    write_notebook(folder / "reference.ipynb", [FORWARD, BACKWARD])
    write_notebook(folder / "wrong.ipynb", [FORWARD, WRONG_BACKWARD])
    write_notebook(folder / "surrogate.ipynb", [RAISES_SURROGATE, BACKWARD])
    write_notebook(folder / "everything.ipynb", EVERYTHING)
    write_notebook(folder / "mallory.ipynb",
                   [MALLORY, FORWARD, WRONG_BACKWARD, "raise ValueError('a')", "1 / 0",
                    "raise KeyError('b')"])
    write_notebook(folder / HOSTILE_NAME, [FORWARD, BACKWARD])
    return folder


@pytest.fixture(scope="module")
def graded(inbox) -> tuple[Path, object]:
    out = inbox.parent / "out"
    done = run_dlgrade("grade", TOY, inbox, "-o", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return out, done


def _outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and ".dlgrade" not in p.parts)


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _stem_of(out: Path, fragment: str) -> str:
    matches = [p.stem for p in (out / "results").glob("*.json")
               if fragment in json.loads(p.read_text())["submission"]]
    assert len(matches) == 1, matches
    return matches[0]


# ---------------------------------------------------------------- finding A: `dlgrade run`

@pytest.mark.parametrize("server", ["1", "0"])
def test_a_lone_surrogate_in_an_exception_gives_a_result(inbox, server):
    env = {"DLGRADE_SERVER": server}
    result = grade_json(inbox / "surrogate.ipynb", env=env)
    assert (result["status"], result["score"]) == ("graded", SURROGATE_SCORE)
    failed = [t for t in result["tests"] if t["question"] == "q1"]
    assert failed and all(t["outcome"] == "failed" for t in failed)
    assert "your code raised RuntimeError: \ufffd" in failed[0]["message"]
    summary = run_dlgrade("run", TOY, inbox / "surrogate.ipynb", env=env)
    assert summary.returncode == 0, summary.stderr
    assert "Traceback" not in summary.stdout + summary.stderr
    assert f"surrogate.ipynb: graded, {SURROGATE_SCORE:g} / {TOY_MAX:g} points" in summary.stdout
    assert not FORBIDDEN.search(summary.stdout)


@pytest.mark.parametrize("name", ["everything.ipynb", "mallory.ipynb"])
def test_any_string_anywhere_is_printed_clean_and_bounded(inbox, name):
    for server in ("1", "0"):
        done = run_dlgrade("run", TOY, inbox / name, "--json", env={"DLGRADE_SERVER": server})
        assert done.returncode == 0, done.stderr
        assert len(done.stdout) < 1_000_000
        result = json.loads(done.stdout)
        assert result["status"] == "graded" and result["score"] == WRONG_SCORE
        for value in _strings(result):
            assert not FORBIDDEN.search(value), value[:200]
        summary = run_dlgrade("run", TOY, inbox / name, env={"DLGRADE_SERVER": server})
        assert summary.returncode == 0 and "Traceback" not in summary.stderr
        assert not FORBIDDEN.search(summary.stdout) and len(summary.stdout) < 1_000_000


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# ---------------------------------------------------------------- findings A and B: a batch

def test_the_batch_writes_everything_with_honest_scores(graded, inbox):
    out, done = graded
    assert "Traceback" not in done.stdout + done.stderr
    header, *body = _csv_rows(out / "gradebook.csv")
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    odd = _stem_of(out, "calc")
    expected = {"reference": TOY_MAX, "wrong": WRONG_SCORE, "surrogate": SURROGATE_SCORE,
                "everything": WRONG_SCORE, "mallory": WRONG_SCORE, odd: TOY_MAX}
    assert {name: float(row["total"]) for name, row in rows.items()} == expected
    assert all(row["status"] == "graded" for row in rows.values())
    for name in ("gradebook.csv", "final_grades.csv", "report.html"):
        assert (out / name).is_file()
    for student in expected:
        for path in (out / "results" / f"{student}.json", out / "feedback" / f"{student}.md",
                     out / "feedback" / f"{student}.html"):
            assert path.is_file(), path
    # The rest of the batch is untouched: as graded alone.
    for student in ("reference", "wrong"):
        alone = grade_json(inbox / f"{student}.ipynb")
        batch = json.loads((out / "results" / f"{student}.json").read_text())
        for key in ("submission", "message"):
            alone.pop(key), batch.pop(key)
        assert batch == alone


def test_every_output_is_clean_and_bounded(graded):
    out, done = graded
    assert not FORBIDDEN.search(done.stdout + done.stderr)
    for path in _outputs(out):
        content = path.read_bytes().decode("utf-8")  # strict: nothing unencodable was written
        assert not FORBIDDEN.search(content), (path, FORBIDDEN.search(content))
        limit = 3_000_000 if path.name == "report.html" else 500_000
        assert len(content) < limit, (path, len(content))
    mallory = json.loads((out / "results" / "mallory.json").read_text())
    assert "characters not shown]" in mallory["message"]
    assert all(len(line) <= 1_000 for line in mallory["message"].splitlines())
    assert len(mallory["message"]) <= 8_000
    assert all(len(t["message"]) <= 4_000 for t in mallory["tests"])
    assert "\ufffd" in mallory["message"]


def test_no_csv_cell_starts_a_formula_or_holds_a_control_character(graded):
    out, _ = graded
    for name in ("gradebook.csv", "final_grades.csv"):
        for row in _csv_rows(out / name):
            for cell in row:
                assert not re.search(r"[\x00-\x1f\x7f-\x9f]", cell), (name, cell)
                if cell != "--":
                    assert not cell.startswith(FORMULA), (name, cell)


def test_html_shows_student_markup_as_text(graded):
    out, _ = graded
    for path in [out / "report.html", *(out / "feedback").glob("*.html")]:
        page = path.read_text()
        assert "<script>" not in page and "<img src=x" not in page and "<b>" not in page, path
    page = (out / "feedback" / "everything.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _markdown_parts(document: str) -> tuple[str, list[str]]:
    """The text outside fenced code blocks, and each block's content (CommonMark's rule: a
    block ends at a fence of the same character at least as long as the one that opened it)."""
    outside, blocks, fence, block = [], [], None, []
    for line in document.split("\n"):
        stripped = line.strip()
        if fence is None:
            opening = re.match(r"(`{3,}|~{3,})", stripped)
            if opening:
                fence, block = opening.group(1), []
            else:
                outside.append(line)
        elif re.fullmatch(re.escape(fence[0]) + "{%d,}" % len(fence), stripped):
            blocks.append("\n".join(block))
            fence = None
        else:
            block.append(line[2:] if line.startswith("  ") else line)
    assert fence is None, "a fence was left open"
    return "\n".join(outside), blocks


def test_markdown_escapes_html_and_no_message_closes_its_fence(graded):
    out, _ = graded
    for path in (out / "feedback").glob("*.md"):
        outside, blocks = _markdown_parts(path.read_text())
        for raw in ("<script", "<img", "<b>", "</pre>", "[click](", "[x](y)"):
            assert raw not in outside, (path, raw)
        result = json.loads((out / "results" / f"{path.stem}.json").read_text())
        shown = ["\n".join(t["message"].splitlines()) for t in result["tests"]
                 if t["outcome"] != "passed" and t["visibility"] == "public"]
        assert blocks == shown, path  # each message whole, inside its own block
    text_md = (out / "feedback" / "everything.md").read_text()
    assert "&lt;script&gt;" in text_md


def test_feedback_never_names_the_tas_folders(graded, inbox):
    out, _ = graded
    for path in (out / "feedback").iterdir():
        page = path.read_text()
        assert str(inbox) not in page and str(inbox.parent) not in page, path
    assert "feedback on reference.ipynb" in (out / "feedback" / "reference.md").read_text()
    stem = _stem_of(out, "calc")
    title = (out / "feedback" / f"{stem}.md").read_text().splitlines()[0]
    assert title.startswith("# toy: feedback on ") and "&lt;b&gt;" in title


def test_a_second_run_grades_nothing_and_rewrites_the_same_class_files(graded, inbox):
    out, _ = graded
    before = (out / "gradebook.csv").read_bytes()
    again = run_dlgrade("grade", TOY, inbox, "-o", out)
    assert again.returncode == 0, again.stderr
    assert "nothing to grade: all 6 submissions are up to date" in again.stdout
    assert (out / "gradebook.csv").read_bytes() == before


# ---------------------------------------------------------------- the sanitiser itself

@pytest.mark.parametrize("value", [
    "\ud800", "a\udfffb", "\x00\x1b[31m\x07\x7f\x85\x9b", "\u202eevil\u2066", "\r\n\r\u2028",
    "\ufffe\U0010ffff\ufdd0", "x" * 50_000, b"\xff\xfe bytes", None, 3.5, object(),
])
def test_clean_always_gives_encodable_text_within_the_limit(value):
    cleaned = text.clean(value, 1_000)
    cleaned.encode("utf-8")  # never raises
    assert len(cleaned) <= 1_000 and not FORBIDDEN.search(cleaned)
    assert "\r" not in cleaned
    assert (cleaned + ".").splitlines() == (cleaned + ".").split("\n")
    assert text.clean(cleaned, 1_000) == cleaned  # idempotent


def test_clean_keeps_ordinary_text_and_says_what_it_cut():
    assert text.clean("résumé\tok\n😀 ∂f/∂x") == "résumé\tok\n😀 ∂f/∂x"
    assert text.clean("\ud83d\ude00") == "😀"  # a surrogate pair is one character
    cut = text.clean("y" * 10_000_000, 100)
    assert len(cut) <= 100 and cut.endswith("characters not shown]") and "9,999,9" in cut
    lines = text.clean_lines("a" * 5_000 + "\nsecond\nthird", 100, 1_000)
    assert lines.split("\n")[1:] == ["second", "third"]


class _Sneaky(str):
    def __str__(self):
        raise RuntimeError("never called")


def test_clean_never_runs_student_methods():
    assert text.clean(_Sneaky("plain")) == "plain"


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", " x"), ("  =1", "'  =1"), ("\uff1d1", "'\uff1d1"),
    ("alice", "alice"), ("--", "--"), (16, 16), (0.375, 0.375), ("a\nb\x1b", "a b"),
])
def test_csv_cells_never_start_a_formula(value, expected):
    assert text.csv_cell(value) == expected


def test_a_fence_is_longer_than_any_backtick_run():
    assert text.fence("no ticks") == "```"
    assert text.fence("``` and ````` here") == "``````"
    assert text.markdown("<a href=x>[y](z)</a> `c` *e*") == \
        "&lt;a href=x&gt;\\[y\\](z)&lt;/a&gt; \\`c\\` \\*e\\*"
