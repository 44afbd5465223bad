"""Grading processes for a batch, on this machine or on a Dask cluster's workers.

A job is a grading process (``grader.core.processes``) running this module: its reply for a
submission is a *record*: the result (DESIGN.md's JSON), the time it took, per-test durations,
the source's suspicious constructs, its similarity fingerprints and the course secret's
fingerprint.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
import time
from contextlib import redirect_stderr
from dataclasses import replace
from pathlib import Path, PurePosixPath

from grader.core.processes import Job as Process
from grader.core.processes import JobDied, deadline_for, main

__all__ = ["JOB_MODULE", "Job", "JobDied", "deadline_for", "grade_on_worker", "record"]
JOB_MODULE = "grader.batch.jobs"  # what a batch's grading processes run


class Job(Process):
    """A grading process whose replies are the batch's records."""

    def __init__(self, cpu: int | None = None):
        super().__init__(JOB_MODULE, cpu)


def bundle_digest(bundle: dict) -> str:
    """The assignment bundle's content hash: its name on Dask workers, part of the cache key."""
    digest = hashlib.sha256()
    for name, data in sorted(bundle["files"].items()):
        digest.update(f"\0{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def secret_fingerprint() -> str:
    from grader.core.settings import course_secret

    return hashlib.sha256(b"dlgrade-secret\0" + course_secret()).hexdigest()[:16]


def record(request: dict, zygote, prepared=None) -> dict:
    """Grade one submission here; the record the batch keeps of it. ``prepared``: the
    assignment and its hidden suite, loaded and collected by the process this one forked
    from (``serve_suite``)."""
    from grader.batch.flags import suspicious
    from grader.batch.similarity import fingerprints, join_cells
    from grader.core.grading import grade_submission
    from grader.core.loading import SubmissionUnreadable, load_submission
    from grader.core.settings import load_assignment

    assignment, suite = prepared or (load_assignment(request["assignment"]), None)
    path = Path(request["path"])
    started = time.perf_counter()
    warnings = io.StringIO()
    with redirect_stderr(warnings):
        result = grade_submission(assignment, path, zygote, suite=suite)
    seconds = time.perf_counter() - started
    result = replace(result, submission=request["name"])
    try:
        cells = list(load_submission(path).cells)
    except SubmissionUnreadable:
        cells = None
    return {"result": result.to_dict(), "seconds": round(seconds, 4),
            "durations": {t.name: round(t.duration, 5) for t in result.tests},
            "flags": suspicious(cells or []), "warnings": warnings.getvalue().splitlines(),
            "secret": secret_fingerprint(),
            # The report's similarity section compares these, without reading the file again.
            "fingerprints": None if cells is None else
            fingerprints(join_cells(cells).text).to_json()}


# ---------------------------------------------------------------- on a Dask worker

_idle: list[Job] = []
_lock = threading.Lock()


def grade_on_worker(bundle: dict, bundle_id: str, name: str, content: bytes,
                    deadline: float) -> dict:
    """A Dask task: grade one submission shipped by value against a shipped assignment."""
    root = Path(tempfile.gettempdir()) / f"dlgrade-bundles-{os.getuid()}" / bundle_id
    with _lock:
        if not root.is_dir():
            _unpack(bundle["files"], root)
        job = _idle.pop() if _idle else None
    job = job or Job()
    with tempfile.TemporaryDirectory(prefix="dlgrade-submission-") as folder:
        path = Path(folder) / (PurePosixPath(name).name or "submission")
        path.write_bytes(content)
        try:
            reply = job.grade(str(root / bundle["folder"]), path, name, deadline)
        except JobDied as error:
            return {"crash": str(error)}
    with _lock:
        _idle.append(job)
    return reply


def _unpack(files: dict[str, bytes], root: Path) -> None:
    """Write a shipped assignment once per machine (another process may race us: fine)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=root.parent))
    for relative, data in files.items():
        target = staging.joinpath(*PurePosixPath(relative).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    try:
        os.rename(staging, root)
    except OSError:  # already there, unpacked by a neighbour
        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    main(record)
