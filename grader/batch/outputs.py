"""What a batch writes for people: per-submission feedback, the gradebooks, the class report,
the progress on a terminal and the closing summary.

Whatever a submission controls (its file name, messages quoting its exceptions and output,
the lines of its suspicious code) passes ``grader.core.text`` on its way into each output:
results are rebuilt through ``SubmissionResult`` (cleaned and capped, even when they come
from an older state file), HTML is escaped by Jinja, Markdown by ``text.markdown`` with code
fences it cannot close, CSV cells by ``text.csv_cell`` (no formula), terminal lines by
``text.terminal`` (no control character). Feedback names the student's file, never the
folders of the TA's machine.
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path, PurePosixPath

import jinja2

from grader.batch.collect import Collection, Submission
from grader.core import text
from grader.core.results import QuestionScore, SubmissionResult, TestResult, sandbox_line
from grader.core.text import tidy
from grader.sandbox import levels

CLASS_FILES = ("gradebook.csv", "final_grades.csv", "report.html")
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("grader.batch", "templates"),
    autoescape=jinja2.select_autoescape(["html", "html.j2"]), trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=True)
TEMPLATES.filters.update(md=text.markdown, fence=text.fence)
HUMAN_LOOK = ("error", "timeout")
REASON_LIMIT = 300  # characters of one line of "needs a human look"
MOST_REASONS = 12  # suspicious constructs and warnings listed per submission


# ---------------------------------------------------------------- per submission

def safe_result(result: dict) -> dict:
    """``result`` rebuilt through ``SubmissionResult``: every string cleaned and capped as
    when it was made, whatever wrote it (an older grader's state file included)."""
    tests = tuple(TestResult(t.get("name", ""), t.get("question", ""), t.get("score", 0.0),
                             t.get("max_score", 0.0), t.get("outcome", "failed"),
                             t.get("message", ""), t.get("visibility", "hidden"))
                  for t in result.get("tests", ()))
    questions = {text.clean(q, 200): QuestionScore(s["score"], s["max_score"])
                 for q, s in result.get("questions", {}).items()}
    return SubmissionResult(result.get("assignment", ""), result.get("submission", ""),
                            result.get("status", "error"), tests, result.get("message"),
                            questions, result.get("sandbox")).to_dict()


def display_name(source: str) -> str:
    """The submission as its feedback names it: the student's file name, never the folders
    of the machine it was graded on (``/home/ta/inbox/alice/hw.ipynb`` is ``hw.ipynb``,
    ``/tmp/export.zip:alice/hw.ipynb`` too)."""
    inner = re.split(r"\.zip:", text.clean(source).replace("\\", "/"), maxsplit=1,
                     flags=re.IGNORECASE)[-1]
    return PurePosixPath(inner).name or inner or "submission"


def _scrub(message: str, source: str) -> str:
    """``message`` without the folders ``source`` lies in (they name the TA's machine)."""
    folder = PurePosixPath(re.split(r"\.zip:", source, maxsplit=1, flags=re.IGNORECASE)[0])
    if not folder.is_absolute():
        return message
    for prefix in (folder.parent, folder.parent.parent):
        if len(prefix.parts) > 2:
            message = message.replace(f"{prefix}/", "")
    return message


def feedback(result: dict, titles: dict, row=None, manual: dict | None = None
             ) -> dict[str, str]:
    """The student's feedback, as Markdown and as HTML, from one view of the result; with a
    gradebook row, its lateness and changes by hand are stated and its scores are shown."""
    result = safe_result(result)
    source = result["submission"]
    result["submission"] = display_name(source)
    result["message"] = _scrub(result["message"], source) if result["message"] else None
    for test in result["tests"]:
        test["message"] = _scrub(test["message"], source)
    view = _feedback_view(result, titles)
    if row is not None:
        from grader.batch.logistics import feedback_lines

        view["notes"] = [text.clean(line, 1000) for line in feedback_lines(row)]
        view["score"] = tidy(row.total)
        for question in view["questions"]:
            question["score"] = tidy(row.questions.get(question["id"], question["score"]))
            question["why"] = text.clean(row.overridden.get(question["id"], ""), 500)
        view["manual"] = _manual_view(row, manual or {}, titles)
        if row.pending:
            view["score"] = "pending"
        view["max_score"] = tidy(row.max_total) if row.max_total is not None else \
            view["max_score"]
    return {"md": TEMPLATES.get_template("feedback.md.j2").render(view),
            "html": TEMPLATES.get_template("feedback.html.j2").render(view)}


def _feedback_view(result: dict, titles: dict) -> dict:
    questions = []
    for qid, score in result["questions"].items():
        tests = [t for t in result["tests"] if t["question"] == qid]
        questions.append({"id": qid, "title": titles.get(qid, ""), "score": tidy(score["score"]),
                          "max_score": tidy(score["max_score"]),
                          "tests": [dict(t, score=tidy(t["score"]),
                                         max_score=tidy(t["max_score"]),
                                         label=t["name"].split("::")[-1]) for t in tests]})
    status = {"graded": "graded", "error": "could not be graded",
              "timeout": "ran out of time"}.get(result["status"], result["status"])
    return {"assignment": result["assignment"], "submission": result["submission"],
            "status": result["status"], "status_text": status, "score": tidy(result["score"]),
            "max_score": tidy(result["max_score"]), "message": result.get("message"),
            "questions": questions, "sandbox": _sandbox_text(result.get("sandbox")),
            "notes": [], "manual": []}


def _manual_view(row, manual: dict, titles: dict) -> list[dict]:
    """Each question people grade: its score (or pending), the rubric with what was earned,
    the grader's comment."""
    view = []
    for qid, question in manual.items():
        score = row.manual.get(qid)
        view.append({
            "id": qid, "title": titles.get(qid, ""), "max_score": tidy(question.points),
            "score": "pending" if score is None else tidy(score.points),
            "comment": text.clean(score.comment, 2000) if score else "",
            "rubric": [{"points": tidy(points), "item": text.clean(item, 500),
                        "earned": bool(score and number in score.items)}
                       for number, (points, item) in enumerate(question.rubric, 1)],
            "by_rubric": bool(score and score.items)})
    return view


def _sandbox_text(sandbox: dict | None) -> str:
    """The confinement a result ran under, in a line a student or TA can read."""
    if not sandbox:
        return "none of its code ran"
    return sandbox_line(sandbox).removeprefix("sandbox: ")


def crash_record(assignment, submission: Submission, why: str) -> dict:
    """The record of a submission the grader itself failed on: every test listed, none
    passed, status error; it is graded again on the next run."""
    from grader.core.grading import ungraded

    result = ungraded(assignment, submission.path, "error",
                       f"the grader failed on this submission and will grade it again on the "
                       f"next run: {why}", False)
    result = result.to_dict()
    result["submission"] = submission.source
    return {"result": result, "seconds": 0.0, "durations": {}, "flags": [],
            "warnings": [], "crash": why}


# ---------------------------------------------------------------- the class

def write_class_files(out: Path, assignment, collection: Collection, records: dict,
                      logistics=None, shared=None) -> list[str]:
    """Write the gradebooks, the report, every student's feedback (with lateness and changes
    by hand) and the LMS files the students' ids allow; return lines for the summary.
    ``shared`` (a ``state.Shared``, the one that loaded the records) holds what the class's
    results repeat once."""
    from grader.batch import lms
    from grader.batch.logistics import Directory, Logistics
    from grader.batch.state import STATE, Shared, write_atomically

    shared = shared or Shared()
    records = {student: dict(record, result=shared.share(safe_result(record["result"])))
               for student, record in records.items()}
    if logistics is None:
        logistics = Logistics(assignment, collection, Directory(collection, None), None, {}, {},
                              [], {})
    rows = logistics.rows(records)
    questions = list(assignment.questions) or sorted(
        {q for r in records.values() for q in r["result"]["questions"]})
    questions += [q for q in assignment.manual if q not in questions]
    write_atomically(out / "gradebook.csv", _gradebook(questions, rows, logistics))
    write_atomically(out / "final_grades.csv", _otter_grades(collection, records, rows,
                                                             assignment.manual))
    write_atomically(out / "report.html", _report(assignment, collection, records, rows,
                                                  logistics, out / STATE / "plots"))
    titles = {**assignment.questions, **{q: m.title for q, m in assignment.manual.items()}}
    for row in rows:
        if row.result is not None:
            _write_if_changed(out / "feedback", row.person.key,
                              feedback(row.result, titles, row, assignment.manual))
    said = []
    if assignment.manual:
        from grader.batch import manual

        said.append(manual.write_pages(out, assignment, rows, TEMPLATES))
    return said + lms.write(out, assignment, rows, questions)


def _write_if_changed(folder: Path, stem: str, texts: dict[str, str]) -> None:
    from grader.batch.state import write_atomically

    for suffix, content in texts.items():
        path = folder / f"{stem}.{suffix}"
        try:
            if path.read_text(encoding="utf-8") == content:
                continue
        except OSError:
            pass
        write_atomically(path, content)


IDENTITY = ("name", "email", "sid", "canvas_id", "moodle_participant")


def _gradebook(questions: list[str], rows: list, logistics) -> str:
    """DESIGN.md's columns first (``submission``, the questions, ``total``, ``max_total``,
    ``status``), then lateness and notes, then what the platform and the roster say of each
    student. ``total`` is after the late penalty and the overrides; ``raw_total`` before."""
    from grader.batch.logistics import EXTRA_COLUMNS, PENDING, gradebook_extra

    fixed = ["submission", *questions, "total", "max_total", "status", *EXTRA_COLUMNS]
    identity = [k for k in IDENTITY if any(
        dict(row.person.submission.person).get(k) for row in rows if row.person.submission)]
    roster = logistics.roster.columns if logistics.roster is not None else []
    taken = {c.casefold() for c in fixed}
    identity = [k for k in identity if k.casefold() not in {c.casefold() for c in roster}]
    shown_roster = [(c, f"roster {c}" if c.casefold() in taken | set(identity) else c)
                    for c in roster]
    table = [[*fixed, *identity, *(label for _, label in shown_roster)]]
    for row in rows:
        person = dict(row.person.submission.person) if row.person.submission else {}
        table.append([row.person.key,
                      *(PENDING if q in row.pending else tidy(row.questions.get(q, 0))
                        for q in questions),
                      PENDING if row.pending else tidy(row.total),
                      "" if row.max_total is None else tidy(row.max_total),
                      row.status, *gradebook_extra(row),
                      *(person.get(k, "") for k in identity),
                      *((row.person.roster or {}).get(c, "") for c, _ in shown_roster)])
    return text.csv_text(table)


def _question_scores(result: dict, questions: list[str]) -> list:
    return [tidy(result["questions"].get(q, {}).get("score", 0)) for q in questions]


def _otter_grades(collection: Collection, records: dict, rows: list, manual: dict) -> str:
    """Otter Grader's final_grades.csv layout: a points-per-question row, then one row per
    file; question columns sorted; percent as a fraction; status Completed or the reason.
    Scores before the late penalty and overrides (Otter has neither); the questions people
    grade are columns too, and while one is not scored, its cell, the total and the percent
    are empty and the status says pending."""
    results = [records[s.student]["result"] for s in collection.submissions]
    questions = sorted({q for r in results for q in r["questions"]} | set(manual))
    table = [["file", *questions, "total_points_earned", "percent_correct", "grading_status"]]
    possible = {q: r["questions"][q]["max_score"] for r in results for q in r["questions"]}
    possible.update({q: m.points for q, m in manual.items()})
    top = sum(possible.values())
    table.append(["points-per-question", *(tidy(possible.get(q, 0)) for q in questions),
                  tidy(top), 1, "--"])
    by_student = {row.person.key: row for row in rows}
    for submission, result in sorted(zip(collection.submissions, results, strict=True),
                                     key=lambda pair: pair[0].source):
        row = by_student.get(submission.student)
        pending = row.pending if row is not None else list(manual)
        status = "Completed" if result["status"] == "graded" else \
            f"{result['status']}: {_first_line(result.get('message'))}"
        scores = dict(zip(questions, _question_scores(result, questions), strict=True))
        for qid in manual:
            score = row.manual.get(qid) if row is not None else None
            scores[qid] = "" if score is None else tidy(score.points)
        earned = result["score"] + sum(s.points for s in (row.manual.values() if row else ())
                                       if s is not None)
        if pending:
            status = f"pending: {', '.join(pending)} graded by people"
        table.append([submission.source, *(scores[q] for q in questions),
                      "" if pending else tidy(round(earned, 6)),
                      "" if pending else (tidy(round(earned / top, 6)) if top else 0), status])
    return text.csv_text(table)


def _report(assignment, collection: Collection, records: dict, rows: list, logistics,
            kept: Path | None = None) -> str:
    """The class report; its figures are kept in ``kept``, drawn again when their data
    changes."""
    from grader.batch import plots

    ordered = [(s, records[s.student]) for s in collection.submissions]
    results = [r["result"] for _, r in ordered]
    totals = [r["score"] for r in results]
    counts, maximum = _class_figures(results)
    tests = _test_table(results, [r for _, r in ordered])
    questions = _question_table(results, assignment.questions)
    look = [{"student": text.clean(s.student), "status": r["result"]["status"],
             "score": tidy(r["result"]["score"]), "reasons": _reasons(r)}
            for s, r in ordered if _reasons(r)]
    view = {
        "assignment": assignment.name, "title": assignment.name,
        "count": len(results), "maximum": tidy(maximum), "statuses": counts,
        "mean": tidy(round(statistics.fmean(totals), 2)),
        "median": tidy(statistics.median(totals)),
        "plots": plots.class_plots(totals, maximum, questions, tests, kept),
        "questions": questions, "tests": tests, "look": look,
        "rows": [{"student": text.clean(s.student), "source": text.clean(s.source, 4_000),
                  "status": r["result"]["status"],
                  "score": tidy(r["result"]["score"]), "seconds": round(r.get("seconds", 0), 2),
                  "sandbox": (r["result"].get("sandbox") or {}).get("level", "not run"),
                  "scores": {q: tidy(v["score"]) for q, v in r["result"]["questions"].items()}}
                 for s, r in ordered],
        "question_ids": [q["id"] for q in questions],
        "superseded": [(text.clean(source, 4_000), text.clean(student))
                       for source, student in collection.superseded],
        "below": _below_required(results),
        "levels": sorted({(r.get("sandbox") or {}).get("level", "not run") for r in results}),
        "logistics": _logistics_view(rows, logistics),
        "similarity": _similarity_view(assignment, collection, records, logistics),
    }
    return TEMPLATES.get_template("report.html.j2").render(view)


def _logistics_view(rows: list, logistics) -> dict:
    """The report's section on who and when: lateness, missing students, students the roster
    does not know, and changes by hand."""
    from grader.core.deadlines import duration_text, moment_text

    late = [{"student": text.clean(r.person.key),
             "submitted": moment_text(r.submitted_at) if r.submitted_at else "",
             "from": r.time_from, "due": moment_text(r.due) if r.due else "",
             "late_by": duration_text(r.late_seconds), "penalty": tidy(r.penalty),
             "raw": tidy(r.raw_total), "total": tidy(r.total)}
            for r in rows if r.late_seconds]
    marked = [text.clean(r.person.key) for r in rows
              if r.person.submission is not None and r.person.submission.late_marker]
    return {
        "due": moment_text(logistics.assignment.due) if logistics.assignment.due else "",
        "policy": logistics.assignment.late.describe() if logistics.assignment.late else "",
        "late": late, "marked": marked,
        "missing": [text.clean(r.person.key) for r in rows if r.status == "missing"],
        "unrostered": [text.clean(k) for k in logistics.directory.unrostered]
        if logistics.roster is not None else [],
        "shared": [(text.clean(k), ", ".join(map(text.clean, s)))
                   for k, s in logistics.directory.shared],
        "changed": [(text.clean(r.person.key), "; ".join(map(text.clean, r.notes)))
                    for r in rows if r.overridden],
        "extensions": len(logistics.extensions),
        "pending": [text.clean(r.person.key) for r in rows if r.pending],
    }


SHOWN_PAIRS = 50  # the most alike pairs the report shows
SHOWN_REGIONS = 6  # regions per pair
REGION_LINES = 40  # lines of each side of a region


def _similarity_view(assignment, collection: Collection, records: dict, logistics) -> dict:
    """Pairs of submissions whose own code is unusually alike (grader.batch.similarity),
    from the fingerprints each grading computed; the handed-out notebook's code removed;
    with ``--compare-with``, against a past term's too. Each pair's matching regions side by
    side, read again only for the pairs shown."""
    from grader.batch import similarity
    from grader.core.loading import SubmissionUnreadable

    prints = {}
    for submission in collection.submissions:
        found = (records.get(submission.student) or {}).get("fingerprints")
        try:
            prints[submission.student] = similarity.Fingerprints.read(found)
        except (KeyError, TypeError, ValueError, OverflowError):
            continue  # none (an error before the code was read), or a damaged state file
    handout = (assignment.folder.parent.parent / "student_template" / assignment.name
               / f"{assignment.name}.ipynb")
    try:
        given = similarity.template_hashes(similarity.source_of(handout).text)
    except (SubmissionUnreadable, OSError):
        given = frozenset()
    past = getattr(logistics, "past", {}) or {}
    pairs, count = similarity.top_pairs(prints, given, {n: f for n, (f, _) in past.items()},
                                        detail=SHOWN_PAIRS, limit=SHOWN_PAIRS)
    paths = {s.student: s.path for s in collection.submissions}
    sources: dict[str, similarity.Source | None] = {}

    def source(name: str, from_past: bool):
        if from_past:
            return past[name][1]
        if name not in sources:
            try:
                sources[name] = similarity.source_of(paths[name])
            except (SubmissionUnreadable, OSError):
                sources[name] = None
        return sources[name]

    shown = []
    for pair in pairs[:SHOWN_PAIRS]:
        a, b = source(pair.a, False), source(pair.b, pair.past)
        shown.append({
            "a": text.clean(pair.a), "b": text.clean(pair.b) + (" (past)" if pair.past else ""),
            "score": round(100 * pair.score), "shared": pair.shared,
            "regions": [{"a": _excerpt(a, lines), "b": _excerpt(b, other)}
                        for lines, other in pair.regions[:SHOWN_REGIONS]]})
    return {"pairs": shown, "count": count, "compared": len(prints),
            "past": len(past), "template": given != frozenset()}


def _excerpt(source, lines: tuple[int, int]) -> dict:
    """The lines of a region, and where they are (code cell, lines in it)."""
    if source is None:
        return {"where": f"lines {lines[0]}-{lines[1]}", "code": ""}
    first, last = lines
    start = source.locate(first) or (0, first)
    end = source.locate(last) or (0, last)
    where = (f"code cell {start[0]}, lines {start[1]}-{end[1]}" if start[0] == end[0]
             else f"code cells {start[0]}-{end[0]}")
    code = source.text.splitlines()[first - 1:min(last, first + REGION_LINES - 1)]
    return {"where": where, "code": text.clean("\n".join(code), 6000)}


def _below_required(results: list[dict]) -> list[str]:
    """Lines for the report's top: where submissions ran below the required level."""
    below: dict[tuple, int] = {}
    for result in results:
        sandbox = result.get("sandbox")
        if sandbox and not levels.meets(sandbox["level"], sandbox.get("required", "unconfined")):
            key = (sandbox["level"], sandbox["required"], ", ".join(sandbox["missing"]))
            below[key] = below.get(key, 0) + 1
    return [f"{count} submission(s) ran at sandbox level '{level}', below the required "
            f"'{required}' (allowed by --allow-unconfined); missing: {missing}. Their code "
            f"could reach what those layers protect: treat their scores with care."
            for (level, required, missing), count in below.items()]


def _question_table(results: list[dict], titles: dict) -> list[dict]:
    table = []
    for qid in dict.fromkeys(q for r in results for q in r["questions"]):
        scores = [r["questions"][qid] for r in results if qid in r["questions"]]
        top = max(s["max_score"] for s in scores)
        mean = statistics.fmean(s["score"] for s in scores)
        table.append({"id": qid, "title": titles.get(qid, ""), "max_score": tidy(top),
                      "mean": round(mean, 2),
                      "percent": round(100 * mean / top, 1) if top else 0.0,
                      "full": sum(s["score"] >= s["max_score"] for s in scores)})
    return table


def _test_table(results: list[dict], records: list[dict]) -> list[dict]:
    table: dict[str, dict] = {}
    for result, record in zip(results, records, strict=True):
        if result["status"] == "error":
            continue  # tests that never ran say nothing about the tests
        for test in result["tests"]:
            row = table.setdefault(test["name"], {"name": test["name"], "question":
                                                  test["question"], "visibility":
                                                  test["visibility"], "passed": 0, "runs": 0,
                                                  "seconds": []})
            row["runs"] += 1
            row["passed"] += test["outcome"] == "passed"
            if test["name"] in record.get("durations", {}):
                row["seconds"].append(record["durations"][test["name"]])
    for row in table.values():
        row["rate"] = round(100 * row["passed"] / row["runs"], 1) if row["runs"] else 0.0
        row["mean_seconds"] = round(statistics.fmean(row["seconds"]), 4) if row["seconds"] \
            else 0.0
        row["max_seconds"] = round(max(row["seconds"], default=0.0), 4)
        del row["seconds"]
    return list(table.values())


def _reasons(record: dict) -> list[str]:
    """Why a submission needs a human look: each reason one cleaned line of bounded length,
    a bounded number of them."""
    result = record["result"]
    reasons = []
    message = text.clean(result.get("message"))
    if result["status"] in HUMAN_LOOK or record.get("crash"):
        reasons.append(f"{result['status']}: {_first_line(message)}")
    elif message and "did not run cleanly" in message:
        reasons.append("cells raised: " + "; ".join(
            text.terminal(line, REASON_LIMIT) for line in message.splitlines()[1:3]))
    reasons += _listed("suspicious", record.get("flags"))
    reasons += _listed("warning", record.get("warnings"))
    return [text.terminal(reason, REASON_LIMIT) for reason in reasons]


def _listed(kind: str, items) -> list[str]:
    items = list(items) if isinstance(items, (list, tuple)) else []
    listed = [f"{kind}: {text.terminal(item, REASON_LIMIT)}" for item in items[:MOST_REASONS]]
    if len(items) > MOST_REASONS:
        listed.append(f"{kind}: and {len(items) - MOST_REASONS} more")
    return listed


# ---------------------------------------------------------------- the terminal

class Progress:
    """A progress bar (counts, rate, ETA) on a terminal; one plain line per submission
    otherwise, so logs stay readable."""

    def __init__(self, total: int, say):
        self.total, self.done, self.say = total, 0, say
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="submission", dynamic_ncols=True,
                            file=sys.stderr)

    def advance(self, submission: Submission, record: dict) -> None:
        self.done += 1
        result = record.get("result")
        student = text.terminal(submission.student)
        line = (f"{student}: {text.terminal(result['status'])}, {tidy(result['score'])} / "
                f"{tidy(result['max_score'])}" if result else
                f"{student}: grader failed, graded again next run")
        if self.bar is not None:
            self.bar.set_postfix_str(line[:40], refresh=False)
            self.bar.update()
        else:
            self.say(f"[{self.done}/{self.total}] {line} ({record.get('seconds', 0):.1f} s)")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def summary(out: Path, collection: Collection, records: dict, graded_now: int,
            rewritten: bool = True) -> str:
    results = [r["result"] for r in records.values()]
    totals = [r["score"] for r in results]
    counts, maximum = _class_figures(results)
    slowest = sorted(records.items(), key=lambda kv: -kv[1].get("seconds", 0))[:3]
    look = sum(bool(_reasons(r)) for r in records.values())
    lines = [f"{len(results)} submissions: {counts['graded']} graded, {counts['error']} "
             f"errors, {counts['timeout']} timeouts ({graded_now} graded in this run)",
             f"score (all {len(results)}): mean {statistics.fmean(totals):.2f}, median "
             f"{tidy(statistics.median(totals))} of {tidy(maximum)}",
             "slowest: " + ", ".join(f"{text.terminal(s)} ({r.get('seconds', 0):.1f} s)"
                                     for s, r in slowest)]
    if look:
        lines.append(f"needs a human look: {look} (listed in the report)")
    files = (f"{out}/gradebook.csv, {out}/final_grades.csv, {out}/results/, {out}/feedback/ "
             f"and {out}/report.html")
    lines.append(f"wrote {files}" if rewritten else f"up to date, unchanged: {files}")
    return "\n".join(lines)


def _class_figures(results: list[dict]) -> tuple[dict, float]:
    """Submissions per status, and the maximum score."""
    counts = {k: sum(r["status"] == k for r in results) for k in ("graded", "error", "timeout")}
    return counts, max((r["max_score"] for r in results), default=0)


def _first_line(message: str | None) -> str:
    lines = text.clean(message).strip().splitlines()
    return text.terminal(lines[0], REASON_LIMIT) if lines else ""
