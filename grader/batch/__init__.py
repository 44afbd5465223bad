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
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.batch.collect import Collection, CollectionError, Submission, collect
from grader.batch.jobs import secret_fingerprint
from grader.batch.logistics import prepare
from grader.batch.runners import DaskRunner, LocalRunner
from grader.batch.state import (
    STATE,
    Shared,
    assignment_bundle,
    base_key,
    json_default,
    state_path,
    stored_key,
    submission_key,
    sweep_unfinished,
    write_atomically,
)
from grader.core.settings import Assignment, AssignmentError


@dataclass
class Options:
    assignment: Assignment
    paths: list[str]
    out: Path
    jobs: int
    force: bool = False
    scheduler: str | None = None
    pattern: str | None = None
    sandbox: dict | None = None  # what the sandbox reaches on this machine (checked already)
    only: tuple[str, ...] | None = None  # grade just these students (again), keep the others
    # The TA's files on who and when (grader.batch.logistics): kind -> path, or None.
    inputs: dict | None = None
    roster_id: str | None = None
    compare_with: tuple[str, ...] = ()  # a past term's submissions, for the similarity section


def grade_batch(options: Options, say=print) -> int:
    """Run the batch; return the exit code (0 done, 130 interrupted)."""
    from grader.batch import outputs

    out, assignment = options.out, options.assignment
    runner = (DaskRunner(options.scheduler) if options.scheduler
              else LocalRunner(options.jobs))  # started before the secret is read
    with runner, tempfile.TemporaryDirectory(prefix="dlgrade-batch-") as scratch:
        collection = collect(options.paths, Path(scratch), options.pattern, assignment.name)
        if not collection.submissions:
            raise AssignmentError("no submissions found in " + ", ".join(options.paths))
        logistics = prepare(out, assignment, collection, options.inputs or {},
                            options.roster_id)
        logistics.past = _past(options.compare_with, Path(scratch) / "past", assignment)
        bundle = assignment_bundle(assignment)
        secret = secret_fingerprint()
        base = base_key(bundle, secret)
        for folder in ("results", "feedback", STATE):
            (out / folder).mkdir(parents=True, exist_ok=True)
            sweep_unfinished(out / folder)
        keys = {s.student: submission_key(base, s) for s in collection.submissions}
        if options.only:
            unknown = sorted(set(options.only) - set(keys))
            if unknown:
                raise CollectionError(
                    f"--only names {', '.join(unknown)}, not among the {len(keys)} students "
                    f"found (as the gradebook names them: "
                    f"{', '.join(sorted(keys)[:8])}{', ...' if len(keys) > 8 else ''})")
            # Every submission keeps exactly one row: one never graded is graded too.
            todo = [s for s in collection.submissions
                    if s.student in options.only or stored_key(out, s.student) is None]
        else:
            todo = [s for s in collection.submissions
                    if options.force or stored_key(out, s.student) != keys[s.student]]
        say(_plan(collection, todo, runner, options.only or ()))
        if logistics.describe():
            say(f"using: {logistics.describe()}")
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
                done = sum(stored_key(out, s.student) == keys[s.student] for s in todo)
                say(f"interrupted: {done} of {len(todo)} graded and kept; run the same "
                    f"command again to grade the rest")
                return 130
            progress.close()
        shared = Shared()
        records = {s.student: shared.load(out, s.student) for s in collection.submissions}
        shown = class_files_key(base, collection, records, logistics)
        rewritten = bool(todo) or stored_class_files_key(out) != shown or not all(
            (out / name).is_file() for name in outputs.CLASS_FILES)
        written = []
        if rewritten:
            written = outputs.write_class_files(out, assignment, collection, records, logistics,
                                                shared)
            write_atomically(out / STATE / CLASS_FILES_KEY, shown + "\n")
        say(outputs.summary(out, collection, records, graded_now=len(todo),
                            rewritten=rewritten))
        for line in written:
            say(f"wrote {line}")
        say_logistics(logistics, say)
    return 0


def _past(paths: tuple[str, ...], scratch: Path, assignment) -> dict:
    """A past term's submissions (``--compare-with``): name -> (fingerprints, source), read
    once; unreadable ones are left out."""
    from grader.batch.similarity import fingerprints, source_of
    from grader.core.loading import SubmissionUnreadable

    if not paths:
        return {}
    past = {}
    for submission in collect(list(paths), scratch, None, assignment.name).submissions:
        try:
            source = source_of(submission.path)
        except (SubmissionUnreadable, OSError):
            continue
        past[submission.student] = (fingerprints(source.text), source)
    return past


def say_logistics(logistics, say) -> None:
    """The summary's lines on the roster: who submitted nothing, who is not on it."""
    if logistics.roster is None:
        return
    missing = [p.key for p in logistics.directory.people if p.submission is None]
    if missing:
        say(f"{len(missing)} on the roster submitted nothing (status missing): "
            f"{', '.join(missing[:10])}{', ...' if len(missing) > 10 else ''}")
    strays = logistics.directory.unrostered
    if strays:
        say(f"{len(strays)} submitted but not on the roster (rows kept, listed in the "
            f"report): {', '.join(strays[:10])}{', ...' if len(strays) > 10 else ''}")


CLASS_FILES_KEY = "class-files.key"  # in the state folder: what the class files show


def class_files_key(base: str, collection: Collection, records: dict, logistics) -> str:
    """Everything the gradebooks and the report show, hashed: the grading key (assignment,
    grader, secret), the results, which file each student was graded on, the others, who and
    when (the due date and policy, each submission's time and platform ids, the TA's files),
    and the report's templates. A re-run that changes none of it rewrites none of them."""
    digest = hashlib.sha256(base.encode())
    digest.update(json.dumps([[s.student, s.source, s.person, str(s.submitted_at),
                               s.time_source, s.late_marker]
                              for s in collection.submissions]).encode())
    assignment = logistics.assignment
    digest.update(json.dumps([str(assignment.due), repr(assignment.late), assignment.title,
                              logistics.texts], sort_keys=True).encode())
    for name, (found, _) in sorted((getattr(logistics, "past", None) or {}).items()):
        digest.update(name.encode() + b"\0" + found.hashes.tobytes())
    digest.update(json.dumps(collection.superseded).encode())
    for student in sorted(records):  # one at a time: no copy of the whole class in memory
        digest.update(json.dumps([student, records[student]], sort_keys=True,
                                 default=json_default).encode())
    for template in sorted((Path(__file__).parent / "templates").glob("*")):
        digest.update(template.read_bytes())
    return digest.hexdigest()


def stored_class_files_key(out: Path) -> str | None:
    try:
        return (out / STATE / CLASS_FILES_KEY).read_text().strip()
    except OSError:
        return None


def _plan(collection: Collection, todo: list[Submission], runner,
          only: tuple[str, ...] = ()) -> str:
    total = len(collection.submissions)
    older = (f" ({len(collection.superseded)} older submissions superseded)"
             if collection.superseded else "")
    if only:
        new = [s.student for s in todo if s.student not in only]
        return (f"grading {len(todo)} of {total} submissions: {len(todo) - len(new)} named by "
                f"--only{f' and {len(new)} never graded before' if new else ''}{older}; the "
                f"other {total - len(todo)} kept as they are, on {runner.describe()}")
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
    write_atomically(state_path(out, submission.student), json.dumps(record) + "\n")
