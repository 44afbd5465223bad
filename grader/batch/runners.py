"""Where a batch's submissions are graded: local grading processes, or a Dask cluster.

Both yield ``(submission, record)`` pairs as gradings finish; a grading process or worker that
dies gives a ``{"crash": why}`` record for its submission, never a lost one.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

from grader.batch.jobs import JOB_MODULE, bundle_digest, deadline_for, grade_on_worker
from grader.core.processes import Pool


class LocalRunner:
    """``jobs`` grading processes on this machine, each kept busy by one thread."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._pool: Pool | None = None

    def __enter__(self):
        self._pool = Pool(JOB_MODULE, self.jobs)
        return self

    def __exit__(self, *exc):
        self._pool.close()

    def describe(self) -> str:
        return f"{self.jobs} local grading process{'es' if self.jobs > 1 else ''}"

    def _grade_one(self, assignment, submission, deadline) -> dict:
        return self._pool.grade(str(assignment.folder), submission.path, submission.source,
                                deadline)

    def grade(self, assignment, bundle, todo):
        deadline = deadline_for(assignment)
        pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="dlgrade-job")
        try:
            futures = {pool.submit(self._grade_one, assignment, s, deadline): s for s in todo}
            for future in as_completed(futures):
                # Let go of each record once yielded: a batch's memory stays flat.
                yield futures.pop(future), future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


class DaskRunner:
    """An existing Dask cluster (``distributed``): the assignment is shipped once to every
    worker, each submission by value, so workers need no shared folder."""

    def __init__(self, address: str):
        self.address = address
        self.client = None

    def __enter__(self):
        from distributed import Client

        self.client = Client(self.address, timeout="30s")
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()

    def describe(self) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        return f"the Dask cluster at {self.address} ({workers} workers)"

    def grade(self, assignment, bundle, todo):
        from distributed import as_completed as dask_completed

        bundle_id = bundle_digest(bundle)[:20]
        shipped = self.client.scatter(bundle, broadcast=True, hash=False)
        deadline = deadline_for(assignment)
        futures = {self.client.submit(grade_on_worker, shipped, bundle_id, s.source,
                                      s.path.read_bytes(), deadline, pure=False): s
                   for s in todo}
        try:
            for future in dask_completed(list(futures)):
                try:
                    record = future.result()
                except Exception as error:  # noqa: BLE001  (a lost worker: told, not lost)
                    record = {"crash": f"the Dask worker failed: {type(error).__name__}: "
                                       f"{error}"}
                submission = futures.pop(future)
                future.release()  # the cluster forgets the record too
                yield submission, record
        finally:
            self.client.cancel(list(futures))
