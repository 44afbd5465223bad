"""Where one submission's grading time goes, phase by phase, in a grading process as a batch
runs it (a fork per submission of a process that preloaded numpy, pytest and the plugin).

Each phase is timed by wrapping the function that does it; nested phases are shown indented
and are part of their parent. The grader's side of the batch (writing the result, rendering
the feedback) is timed in this process, as the batch does it. CPU time is the trusted fork's
own, and (as root, where a cpuacct cgroup can be made) the whole tree's: this process, the
fork, the sandbox's fork server, supervisors and workers. Prints milliseconds per
submission, the median over the submissions; asserts nothing (shared, noisy machines).

    python bench/bench_phases.py [--assignment gradcheck] [--count 60]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# (label, depth, module, attribute[, class]): what is timed, in the order it is printed.
PHASES = [
    ("whole grading (in the fork)", 0, None, None),
    ("load assignment.yml", 1, "grader.core.settings", "load_assignment"),
    ("read the notebook", 1, "grader.core.grading", "load_submission"),
    ("start a sandboxed worker", 1, "grader.sandbox.client", "__init__", "_Process"),
    ("run the cells (waiting on them)", 1, "grader.sandbox.client", "_collect_cells",
     "SandboxedSubmission"),
    ("pytest: start, collect, run the suite", 1, "grader.core.plugin", "run_suite"),
    ("pytest: run the collected suite", 1, "grader.core.plugin", "run", "CollectedSuite"),
    ("collection", 2, "_pytest.main", "perform_collect", "Session"),
    ("calls across the boundary", 2, "grader.sandbox.client", "_request",
     "SandboxedSubmission"),
    ("encode requests (cloudpickle)", 3, "cloudpickle", "dumps"),
    ("decode replies (wire)", 3, "grader.sandbox.wire", "decode"),
    ("the reference solution", 2, "grader.core.plugin", "reference", "GradingPlugin"),
    ("result as JSON", 1, "grader.core.results", "to_dict", "SubmissionResult"),
    ("suspicious constructs", 1, "grader.batch.flags", "suspicious"),
    ("similarity fingerprints", 1, "grader.batch.similarity", "fingerprints"),
]


def instrument(spent: dict) -> None:
    """Wrap every phase's function so that its time adds to ``spent[label]``."""
    import importlib

    for label, _, module_name, attribute, *owner in PHASES:
        if module_name is None:
            continue
        module = importlib.import_module(module_name)
        holder = getattr(module, owner[0], None) if owner else module
        if holder is None:  # a tree from before the class existed
            continue
        original = holder.__dict__[attribute] if owner else getattr(module, attribute)
        fixture = getattr(original, "_fixture_function", None)

        def timed(*args, _original=fixture or original, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - start

        if fixture is not None:  # a pytest fixture: wrap the function it calls
            original._fixture_function = functools.wraps(fixture)(timed)
            continue
        setattr(holder, attribute, functools.wraps(original)(timed))
        for user in ("grader.core.grading", "grader.batch.jobs", "grader.batch.similarity"):
            used = importlib.import_module(user)
            if not owner and getattr(used, attribute, None) is original:
                setattr(used, attribute, getattr(holder, attribute))


CGROUP = Path("/sys/fs/cgroup/cpuacct/dlgrade-bench-phases")


def tree_cpu():
    """A function giving the CPU seconds used so far by this process and everything it
    starts (a cpuacct cgroup it moves into), or None where no such cgroup can be made."""
    try:
        CGROUP.mkdir(exist_ok=True)
        (CGROUP / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return None
    return lambda: int((CGROUP / "cpuacct.usage").read_text()) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="gradcheck")
    parser.add_argument("--count", type=int, default=60)
    args = parser.parse_args()
    import bench_batch

    from grader.core.grading import preload, start_sandbox

    cpu = tree_cpu()
    zygote = start_sandbox()
    preload(sandbox_started=True)
    from grader.batch import jobs, outputs
    from grader.core import grading
    from grader.core.settings import load_assignment

    spent: dict[str, float] = {}
    once: dict[str, float] = {}
    instrument(spent)
    assignment = load_assignment(str(ROOT / "assignments" / args.assignment))
    rows: list[dict] = []
    keep: list[float] = []
    forks: list[float] = []
    trees: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-phases-") as scratch:
        paths = bench_batch.build(args.assignment, args.count, Path(scratch) / "in")

        def grade_all(suite) -> None:
            """As a grading process serves a batch: a fork per submission."""
            once.update(spent)  # what was done before the forks
            for path in paths:
                request = {"assignment": str(assignment.folder), "path": str(path),
                           "name": path.name, "deadline": 600}
                readable, writable = os.pipe()
                cpu_before = cpu() if cpu else 0.0
                started = time.perf_counter()
                pid = os.fork()
                if pid == 0:
                    os.close(readable)
                    spent.clear()
                    begun, begun_cpu = time.perf_counter(), time.process_time()
                    reply = (jobs.record(request, zygote) if suite is False else
                             jobs.record(request, zygote, suite and (assignment, suite)))
                    spent["whole grading (in the fork)"] = time.perf_counter() - begun
                    spent["CPU: the trusted fork"] = time.process_time() - begun_cpu
                    with os.fdopen(writable, "w") as out:
                        json.dump({"spent": spent, "reply": reply}, out)
                    os._exit(0)
                os.close(writable)
                with os.fdopen(readable) as reply_file:
                    data = json.load(reply_file)
                os.waitpid(pid, 0)
                total = time.perf_counter() - started
                time.sleep(0.02)  # the worker's supervisor ends just after the reply
                trees.append((cpu() - cpu_before) if cpu else 0.0)
                forks.append(total - data["spent"]["whole grading (in the fork)"])
                rows.append(data["spent"])
                start = time.perf_counter()
                result = data["reply"]["result"]
                out = Path(scratch) / "out"
                (out / "results").mkdir(parents=True, exist_ok=True)
                (out / "results" / f"{path.stem}.json").write_text(json.dumps(result, indent=2))
                for suffix, text in outputs.feedback(result, assignment.questions).items():
                    (out / f"{path.stem}.{suffix}").write_text(text)
                keep.append(time.perf_counter() - start)

        serve_suite = getattr(grading, "serve_suite", None)  # absent before issue 21's work
        started = time.perf_counter()
        if serve_suite is None:
            grade_all(False)
        else:
            serve_suite(assignment, grade_all)
        batch_seconds = time.perf_counter() - started
    zygote.close()
    print(f"{args.count} submissions of {args.assignment}: milliseconds per submission "
          f"(median; mean in brackets)")

    def show(label: str, depth: int, values: list[float]) -> None:
        print(f"  {'  ' * depth}{label:<{40 - 2 * depth}} {statistics.median(values) * 1000:8.1f}"
              f"   ({statistics.fmean(values) * 1000:.1f})")

    show("fork, reply and wait (the job's share)", 0, forks)
    collected = [label for label, seconds in once.items() if seconds]
    if collected:  # the suite collected in the grading process, before its forks
        print(f"  once per batch, before the forks: "
              f"{', '.join(f'{label} {once[label] * 1000:.1f}' for label in collected)}")
    for label, depth, *_ in PHASES:
        show(label, depth, [row.get(label, 0.0) for row in rows])
    show("batch: write the result and the feedback", 0, keep)
    show("CPU: the trusted fork", 0, [row["CPU: the trusted fork"] for row in rows])
    print(f"  all {args.count} in {batch_seconds:.2f} s, one at a time: "
          f"{args.count / batch_seconds * 60:.0f} submissions/min on one core")
    if cpu:
        show("CPU: the whole tree (sandbox included)", 0, trees)
        CGROUP.parent.joinpath("cgroup.procs").write_text(str(os.getpid()))
        CGROUP.rmdir()


if __name__ == "__main__":
    main()
