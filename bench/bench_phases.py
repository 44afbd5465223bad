"""Where one submission's grading time goes, phase by phase, in a grading process as a batch
runs it (a fork per submission of a process that preloaded numpy, pytest and the plugin).

Each phase is timed by wrapping the function that does it; nested phases are shown indented
and are part of their parent. The grader's side of the batch (writing the result, rendering
the feedback) is timed in this process, as the batch does it. Prints milliseconds per
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
    ("pytest: the whole suite", 1, "grader.core.plugin", "run_suite"),
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
        holder = getattr(module, owner[0]) if owner else module
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="gradcheck")
    parser.add_argument("--count", type=int, default=60)
    args = parser.parse_args()
    import bench_batch

    from grader.core.grading import preload, start_sandbox

    zygote = start_sandbox()
    preload(sandbox_started=True)
    from grader.batch import jobs, outputs
    from grader.core.settings import load_assignment

    spent: dict[str, float] = {}
    instrument(spent)
    assignment = load_assignment(str(ROOT / "assignments" / args.assignment))
    rows: list[dict] = []
    keep: list[float] = []
    forks: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-phases-") as scratch:
        paths = bench_batch.build(args.assignment, args.count, Path(scratch) / "in")
        for path in paths:
            request = {"assignment": str(assignment.folder), "path": str(path),
                       "name": path.name, "deadline": 600}
            readable, writable = os.pipe()
            started = time.perf_counter()
            pid = os.fork()
            if pid == 0:
                os.close(readable)
                spent.clear()
                begun = time.perf_counter()
                reply = jobs.record(request, zygote)
                spent["whole grading (in the fork)"] = time.perf_counter() - begun
                with os.fdopen(writable, "w") as out:
                    json.dump({"spent": spent, "reply": reply}, out)
                os._exit(0)
            os.close(writable)
            with os.fdopen(readable) as reply_file:
                data = json.load(reply_file)
            os.waitpid(pid, 0)
            total = time.perf_counter() - started
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
    zygote.close()
    print(f"{args.count} submissions of {args.assignment}: milliseconds per submission "
          f"(median; mean in brackets)")

    def show(label: str, depth: int, values: list[float]) -> None:
        print(f"  {'  ' * depth}{label:<{40 - 2 * depth}} {statistics.median(values) * 1000:8.1f}"
              f"   ({statistics.fmean(values) * 1000:.1f})")

    show("fork, reply and wait (the job's share)", 0, forks)
    for label, depth, *_ in PHASES:
        show(label, depth, [row.get(label, 0.0) for row in rows])
    show("batch: write the result and the feedback", 0, keep)


if __name__ == "__main__":
    main()
