"""The pages people grade from: ``OUT/manual/QID.html`` holds every student's answer to one
question on one page (written answer and figures, the rubric beside each), under a pseudonym
(``S-3fa92c``, the same on every run with the same course secret) so that grading is blind;
``OUT/manual/scores.csv`` is the file to fill in and give back with ``--manual``: a row per
answer, columns ``student`` (the pseudonym), ``question``, ``points`` or ``rubric`` (the items
earned, e.g. ``1 3``), ``comment``, with the scores already given kept.
"""

from __future__ import annotations

import base64

from grader.batch.logistics import pseudonym
from grader.batch.state import write_atomically
from grader.core import text
from grader.core.answers import read_answers
from grader.core.text import tidy


def write_pages(out, assignment, rows, templates) -> str:
    """Write the pages and the scores template; ``templates``: the batch's Jinja
    environment. Returns the summary's line."""
    folder = out / "manual"
    folder.mkdir(exist_ok=True)
    answered = [row for row in rows if row.person.submission is not None]
    answers = {row.person.key: read_answers(row.person.submission.path, list(assignment.manual))
               for row in answered}
    table = [["student", "question", "points", "rubric", "comment"]]
    pending = 0
    for qid, question in assignment.manual.items():
        entries = []
        for row in sorted(answered, key=lambda r: pseudonym(r.person.key)):
            answer = answers[row.person.key][qid]
            score = row.manual.get(qid)
            pending += score is None
            entries.append({
                "name": pseudonym(row.person.key), "text": answer.text,
                "found": answer.found, "missing": answer.empty(question.figure),
                "images": [base64.b64encode(image).decode() for image in answer.images],
                "score": "" if score is None else text.csv_cell(score.points),
                "earned": list(score.items) if score else [],
                "comment": score.comment if score else ""})
            table.append([pseudonym(row.person.key), qid,
                          "" if score is None or score.items else tidy(score.points),
                          " ".join(map(str, score.items)) if score and score.items else "",
                          score.comment if score else ""])
        page = templates.get_template("manual.html.j2").render(
            assignment=assignment.name, qid=qid, title=question.title,
            points=tidy(question.points), figure=question.figure,
            rubric=[(number, tidy(p), item) for number, (p, item)
                    in enumerate(question.rubric, 1)],
            entries=entries)
        write_atomically(folder / f"{qid}.html", page)
    write_atomically(folder / "scores.csv", text.csv_text(table))
    return (f"{folder}/: {', '.join(f'{q}.html' for q in assignment.manual)} and scores.csv "
            f"({pending} answer(s) to grade; give scores.csv back with --manual)")
