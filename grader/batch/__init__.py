"""Grading a class: ``dlgrade grade ASSIGNMENT PATH... -o OUT``.

Nothing lost, nothing twice: each submission's result, feedback and a state file naming the
content hashes it was graded from are written atomically the moment it is known; a run
grades only the submissions whose state is missing or out of date (content, assignment,
tests, reference, grader or course secret changed), so an interrupted batch resumes where it
stopped. The gradebook, Otter's ``final_grades.csv`` and the report are rebuilt from the
state files of exactly the submissions given, once the batch is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.batch.collect import Collection, Submission, collect
from grader.batch.jobs import bundle_digest, secret_fingerprint
from grader.batch.runners import DaskRunner, LocalRunner
from grader.settings import Assignment, AssignmentError

STATE = ".dlgrade"
PACKAGE = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    assignment: Assignment
    paths: list[str]
    out: Path
    jobs: int
    force: bool = False
    scheduler: str | None = None
    pattern: str | None = None


def grade_batch(options: Options, say=print) -> int:
    """Run the batch; return the exit code (0 done, 130 interrupted)."""
    from grader.batch import outputs

    out, assignment = options.out, options.assignment
    runner = (DaskRunner(options.scheduler) if options.scheduler
              else LocalRunner(options.jobs))  # started before the secret is read
    with runner, tempfile.TemporaryDirectory(prefix="dlgrade-batch-") as scratch:
        collection = collect(options.paths, Path(scratch), options.pattern)
        if not collection.submissions:
            raise AssignmentError("no submissions found in " + ", ".join(options.paths))
        bundle = assignment_bundle(assignment)
        secret = secret_fingerprint()
        base = _base_key(bundle, secret)
        for folder in ("results", "feedback", STATE):
            (out / folder).mkdir(parents=True, exist_ok=True)
        keys = {s.student: _key(base, s) for s in collection.submissions}
        todo = [s for s in collection.submissions
                if options.force or _stored_key(out, s.student) != keys[s.student]]
        say(_plan(collection, todo, runner))
        if todo:
            for name in outputs.CLASS_FILES:
                (out / name).unlink(missing_ok=True)  # stale until this batch completes
            progress = outputs.Progress(len(todo), say)
            try:
                for submission, record in runner.grade(assignment, bundle, todo):
                    _check(record, secret)
                    _keep(out, assignment, submission, record,
                          None if "crash" in record else keys[submission.student])
                    progress.advance(submission, record)
            except KeyboardInterrupt:
                progress.close()
                done = sum(_stored_key(out, s.student) == keys[s.student] for s in todo)
                say(f"interrupted: {done} of {len(todo)} graded and kept; run the same "
                    f"command again to grade the rest")
                return 130
            progress.close()
        records = {s.student: _stored(out, s.student) for s in collection.submissions}
        outputs.write_class_files(out, assignment, collection, records)
        say(outputs.summary(out, collection, records, graded_now=len(todo)))
    return 0


def _plan(collection: Collection, todo: list[Submission], runner) -> str:
    total = len(collection.submissions)
    older = (f" ({len(collection.superseded)} older submissions superseded)"
             if collection.superseded else "")
    if not todo:
        return (f"nothing to grade: all {total} submissions are up to date{older} "
                f"(--force re-grades them)")
    return (f"grading {len(todo)} of {total} submissions{older}, "
            f"{total - len(todo)} up to date, on {runner.describe()}")


def _check(record: dict, secret: str) -> None:
    if "fatal" in record:
        raise AssignmentError(record["fatal"])
    if "secret" in record and record["secret"] != secret:
        raise AssignmentError(
            "the graders use a different course secret than this machine: set the same "
            "DLGRADE_SECRET (or DLGRADE_SECRET_FILE) for the batch and every worker")


# ---------------------------------------------------------------- keys and state

def assignment_bundle(assignment: Assignment) -> dict:
    """What grading needs of the assignment, by value: its config (pointing at the bundled
    tests and reference), its tests and its reference. Its hash is the assignment's key."""
    folder = Path("assignments") / assignment.folder.name
    files = {}
    for path in sorted(assignment.tests.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[(folder / "tests" / path.relative_to(assignment.tests)).as_posix()] = \
                path.read_bytes()
    files[f"solutions/{assignment.reference.name}"] = assignment.reference.read_bytes()
    config = yaml.safe_load((assignment.folder / "assignment.yml").read_text())
    config.update(tests="tests", reference=f"../../solutions/{assignment.reference.name}")
    files[(folder / "assignment.yml").as_posix()] = yaml.safe_dump(config).encode()
    return {"folder": folder.as_posix(), "files": files}


def _base_key(bundle: dict, secret: str) -> str:
    digest = hashlib.sha256(f"{secret}\0{bundle_digest(bundle)}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):  # a new grader may grade differently
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _key(base: str, submission: Submission) -> str:
    digest = hashlib.sha256(base.encode() + submission.source.encode() + b"\0")
    with open(submission.path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _state_path(out: Path, student: str) -> Path:
    return out / STATE / f"{student}.json"


def _stored(out: Path, student: str) -> dict | None:
    try:
        return json.loads(_state_path(out, student).read_text())
    except (OSError, ValueError):
        return None


def _stored_key(out: Path, student: str) -> str | None:
    stored = _stored(out, student)
    if stored and stored.get("key") and (out / "results" / f"{student}.json").is_file():
        return stored["key"]
    return None


def _keep(out: Path, assignment, submission: Submission, record: dict, key: str | None):
    """Write what is known of one submission: result, feedback, then its state (last, so a
    state file always means the others are complete). A crash keeps no key: graded again."""
    from grader.batch import outputs

    if "crash" in record:
        record = outputs.crash_record(assignment, submission, record["crash"])
    record.update(student=submission.student, source=submission.source, key=key)
    result = record["result"]
    write_atomically(out / "results" / f"{submission.student}.json",
                     json.dumps(result, indent=2) + "\n")
    for suffix, text in outputs.feedback(result, assignment.questions).items():
        write_atomically(out / "feedback" / f"{submission.student}.{suffix}", text)
    write_atomically(_state_path(out, submission.student), json.dumps(record) + "\n")


def write_atomically(path: Path, text: str) -> None:
    """The file is either its old self or wholly new, even after a power loss."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as sink:
        sink.write(text)
        sink.flush()
        os.fsync(sink.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

