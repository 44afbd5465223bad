"""What building a class's outputs costs, with and without the logistics: the gradebooks, the
report, every student's feedback, and (with them) a roster, a due date with a late policy,
extensions, overrides and the LMS files.

One real result (the kit's fixture assignment, toy, graded by ``dlgrade run --json``) is
copied to N students with scores varied; the outputs are then built in this process by the
function ``dlgrade grade`` calls, three times each, into fresh folders and once more into the
same folder (feedback unchanged: compared, not rewritten). Prints a table; asserts nothing.

    python bench/bench_class_files.py [--count 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def graded_record(folder: Path) -> dict:
    from conftest import BACKWARD, FORWARD, TOY, write_notebook

    notebook = write_notebook(folder / "one.ipynb", [FORWARD, BACKWARD])
    done = subprocess.run(["dlgrade", "run", str(TOY), str(notebook), "--json"],
                          capture_output=True, text=True, check=True)
    return {"result": json.loads(done.stdout), "seconds": 0.3, "durations": {}, "flags": [],
            "warnings": []}


def class_of(count: int, record: dict, folder: Path):
    from grader.batch.collect import Collection, Submission

    due = datetime(2026, 10, 9, 23, 59, tzinfo=timezone(timedelta(hours=-7)))
    submissions, records = [], {}
    for number in range(count):
        student = f"student{number:04d}"
        when = due + timedelta(hours=(number % 40) - 20)
        submissions.append(Submission(student, folder / "one.ipynb", f"inbox/{student}.ipynb",
                                      (("canvas_id", str(10000 + number)),), when, "file",
                                      False, "Canvas"))
        result = json.loads(json.dumps(record["result"]))
        for test in result["tests"][: number % 3]:
            test["outcome"], test["score"] = "failed", 0.0
        result["score"] = sum(t["score"] for t in result["tests"])
        for qid, score in result["questions"].items():
            score["score"] = sum(t["score"] for t in result["tests"] if t["question"] == qid)
        records[student] = dict(record, result=result, student=student)
    return Collection(submissions), records


def logistics_for(assignment, collection, out: Path, count: int):
    from grader.batch.logistics import prepare

    inputs = out.parent / f"inputs-{out.name}"
    inputs.mkdir()
    roster = inputs / "roster.csv"
    roster.write_text("student,ID,Section\n" + "".join(
        f"student{n:04d},{10000 + n},S{n % 4}\n" for n in range(count + count // 20)))
    extensions = inputs / "extensions.csv"
    extensions.write_text("student,days\n" + "".join(
        f"student{n:04d},2\n" for n in range(0, count, 25)))
    overrides = inputs / "overrides.csv"
    overrides.write_text("student,question,points,reason\n" + "".join(
        f"student{n:04d},q1,6,regrade\n" for n in range(0, count, 30)))
    return prepare(out, assignment, collection, {"roster": roster, "extensions": extensions,
                                                 "overrides": overrides})


def timed(build, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        build()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(folder: Path, runs, assignment, collection, records, with_logistics: bool,
            args) -> tuple[float, float, list[str]]:
    """(seconds into a fresh folder, seconds again into the same one, the files written)."""
    from grader.batch import outputs

    def fresh():
        out = folder / f"out{next(runs)}"
        (out / "feedback").mkdir(parents=True)
        logistics = (logistics_for(assignment, collection, out, args.count)
                     if with_logistics else None)
        outputs.write_class_files(out, assignment, collection, records, logistics)
        return out, logistics

    seconds = timed(fresh, args.repeat)
    out, logistics = fresh()
    again = timed(lambda: outputs.write_class_files(out, assignment, collection, records,
                                                    logistics), args.repeat)
    return seconds, again, sorted(p.name for p in out.iterdir() if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from conftest import TOY

    from grader.core.deadlines import LatePolicy
    from grader.core.settings import load_assignment

    plain = load_assignment(str(TOY))
    late = replace(plain, due=datetime(2026, 10, 9, 23, 59, tzinfo=timezone.utc),
                   late=LatePolicy(grace=900, penalty=0.1, cap=0.5))
    with tempfile.TemporaryDirectory(prefix="bench-class-files-") as scratch:
        folder = Path(scratch)
        collection, records = class_of(args.count, graded_record(folder), folder)
        rows, runs = [], iter(range(1_000_000))
        for label, assignment, with_logistics in (("plain", plain, False),
                                                  ("roster, due, late policy, extensions, "
                                                   "overrides, LMS files", late, True)):
            rows.append((label, *measure(folder, runs, assignment, collection, records,
                                         with_logistics, args)))
    print(f"class outputs for {args.count} students (median of {args.repeat}), "
          f"{sys.platform}, Python {sys.version.split()[0]}")
    print(f"{'outputs':<62} {'fresh':>8} {'again':>8}  files")
    for label, seconds, again, files in rows:
        print(f"{label:<62} {seconds:>7.2f}s {again:>7.2f}s  {', '.join(files)}")


if __name__ == "__main__":
    main()
