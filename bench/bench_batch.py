"""Throughput and memory of ``dlgrade grade`` against a loop of ``otter run`` and the floor.

Builds distinct submissions of a real assignment (the reference and the bundled examples, each
with a cell of its own so every file has its own content hash), then measures, in one run:
- ``dlgrade grade`` (one grading process per core) on each of ``--counts`` submissions:
  submissions per minute and peak memory of the whole batch (proportional set size summed over
  the process tree, sampled every 20 ms): flat means the same;
- ``--jobs 1`` on the middle count: parallel efficiency;
- fixed costs: a batch of 2 submissions, then the second run with nothing changed, and a run
  after 10 resubmissions (on the middle count);
- the otter loop: ``otter run -a dist/NAME-autograder.zip`` on each of ``--otter-count``
  submissions in turn; and the loop with one ``otter run`` per core at a time;
- the floor: a fresh Python per submission that imports numpy and runs its cells, in turn;
- the same under contention: one CPU-bound process per core running beside each (the otter
  loop, the floor and ``dlgrade grade`` on ``--otter-count`` submissions, with a grading
  process per core and with one, as the loop runs), and how far each falls from its quiet
  rate; beside them, pure CPU work (a fixed count of a Python loop's turns) in one process
  per core and in one process: what a batch that keeps every core busy, or one, can keep at
  best when it takes no more than its share.
Prints figures; asserts nothing (shared, noisy machines: compare the ratios of one run).

    python bench/bench_batch.py [--assignment gradcheck] [--counts 50,200,1000]
                                [--otter-count 100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(assignment: str, count: int, folder: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT))
    from grader.authoring.publishing import solved_notebook
    from grader.core.settings import load_assignment

    sources = [json.loads(solved_notebook(load_assignment(str(ROOT / "assignments" /
                                                              assignment))))]
    sources += [json.loads(p.read_text()) for p in
                sorted((ROOT / "assignments" / assignment / "examples").glob("*.ipynb"))]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        notebook = json.loads(json.dumps(sources[number % len(sources)]))
        notebook["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                                  "outputs": [], "id": f"own{number}",
                                  "source": f"student_number = {number}"})
        path = folder / f"student_{number:03d}.ipynb"
        path.write_text(json.dumps(notebook))
        paths.append(path)
    return paths


def tree_pss_mb(root: int) -> float:
    """Proportional set size of ``root`` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak tree PSS (MB) and standard output of ``command``."""
    peak = [0.0]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_pss_mb(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output = process.communicate()[0]
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, peak[0], output


def otter_loop(paths: list[Path], zip_path: Path, scratch: Path, at_once: int = 1) -> float:
    """Seconds for ``otter run`` on every path, ``at_once`` at a time; every one must score."""
    otter = shutil.which("otter") or sys.exit("otter is not installed")
    start = time.perf_counter()
    for first in range(0, len(paths), at_once):
        running = []
        for number, path in enumerate(paths[first:first + at_once], start=first):
            out = scratch / f"otter-{at_once}-{number}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            running.append((out, subprocess.Popen(
                [otter, "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        for out, process in running:
            if process.wait() != 0 or not (out / "results.json").is_file():
                raise SystemExit(f"otter run wrote no results in {out}")
    return time.perf_counter() - start


def floor_loop(paths: list[Path], scratch: Path) -> float:
    """Seconds for a fresh Python per submission importing numpy and running its cells."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_run import floor_script

    scripts = [floor_script(path, scratch) for path in paths]
    start = time.perf_counter()
    for script in scripts:
        subprocess.run([sys.executable, str(script)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd=scratch)
    return time.perf_counter() - start


def cpu_work(processes: int, turns: int = 150_000_000) -> float:
    """Seconds for ``processes`` processes, started together, to each turn a loop ``turns``
    times: no waiting, no I/O, no start-up beyond Python's."""
    start = time.perf_counter()
    running = [subprocess.Popen([sys.executable, "-c", f"for _ in range({turns}): pass"])
               for _ in range(processes)]
    for process in running:
        process.wait()
    return time.perf_counter() - start


class Contention:
    """One CPU-bound process per core, for as long as the block runs."""

    def __enter__(self):
        self.hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                     for _ in range(os.cpu_count() or 1)]
        time.sleep(1)
        return self

    def __exit__(self, *exc):
        for hog in self.hogs:
            hog.kill()
            hog.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="gradcheck")
    parser.add_argument("--counts", default="50,200,1000")
    parser.add_argument("--otter-count", type=int, default=100)
    args = parser.parse_args()
    counts = sorted(int(n) for n in args.counts.split(","))
    middle = counts[len(counts) // 2]
    dlgrade = shutil.which("dlgrade") or sys.exit("dlgrade is not installed")
    os.chdir(ROOT)
    zip_path = ROOT / "dist" / f"{args.assignment}-autograder.zip"
    if not zip_path.exists():
        subprocess.run([dlgrade, "publish", args.assignment], check=True,
                       stdout=subprocess.DEVNULL)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as scratch:
        scratch = Path(scratch)
        paths = build(args.assignment, max(counts + [args.otter_count]), scratch / "all")

        def folder(count: int) -> Path:
            chosen = scratch / f"first-{count}"
            if not chosen.is_dir():
                chosen.mkdir()
                for path in paths[:count]:
                    os.link(path, chosen / path.name)
            return chosen

        def grade(count: int, out: str, *extra):
            return timed([dlgrade, "grade", args.assignment, str(folder(count)), "-o",
                          str(scratch / out), *extra])

        print(f"{args.assignment}, {cores} cores; dlgrade grade with one grading process per "
              f"core unless said")
        rates = {}
        for count in counts:
            seconds, peak, _ = grade(count, f"out-{count}")
            rates[count] = count / seconds * 60
            print(f"  {count:5d} submissions: {seconds:7.1f} s   {rates[count]:6.0f} "
                  f"submissions/min   peak memory (PSS, whole tree) {peak:6.1f} MB")
        one, _, _ = grade(middle, "out-jobs1", "--jobs", "1")
        print(f"  {middle:5d} submissions, --jobs 1: {one:7.1f} s   "
              f"{middle / one * 60:6.0f} submissions/min   parallel efficiency "
              f"{rates[middle] / (middle / one * 60) / cores:.0%}")
        fixed, _, _ = grade(2, "out-2")
        print(f"  fixed costs: a batch of 2 submissions takes {fixed:5.2f} s (start-up, 2 "
              f"gradings, the report and its plots)")
        again, _, output = grade(middle, f"out-{middle}")
        print(f"  second run, nothing changed: {again:5.2f} s  ({output.splitlines()[0]})")
        for path in paths[:10]:
            path.write_text(path.read_text().replace("student_number =",
                                                     "student_number = 1000 +"))
        changed, _, output = grade(middle, f"out-{middle}")
        print(f"  after 10 resubmissions:      {changed:5.2f} s  ({output.splitlines()[0]})")

        count = args.otter_count
        chosen = paths[:count]
        quiet = {"dlgrade grade": grade(count, "quiet")[0],
                 "dlgrade grade --jobs 1": grade(count, "quiet-1", "--jobs", "1")[0],
                 "otter loop": otter_loop(chosen, zip_path, scratch),
                 f"otter loop, {cores} at a time": otter_loop(chosen, zip_path, scratch, cores),
                 "floor (fresh Python each, in turn)": floor_loop(chosen, scratch),
                 f"pure CPU work, {cores} processes": cpu_work(cores),
                 "pure CPU work, 1 process": cpu_work(1)}
        with Contention():
            busy = {"dlgrade grade": grade(count, "busy")[0],
                    "dlgrade grade --jobs 1": grade(count, "busy-1", "--jobs", "1")[0],
                    "otter loop": otter_loop(chosen, zip_path, scratch),
                    f"otter loop, {cores} at a time": otter_loop(chosen, zip_path, scratch,
                                                                 cores),
                    "floor (fresh Python each, in turn)": floor_loop(chosen, scratch),
                    f"pure CPU work, {cores} processes": cpu_work(cores),
                    "pure CPU work, 1 process": cpu_work(1)}
        print(f"  {count} submissions, quiet and beside one CPU-bound process per core:")
        for name in quiet:
            def rate(seconds: float, name: str = name) -> str:
                return "" if name.startswith("pure") else f" ({count / seconds * 60:5.0f}/min)"

            print(f"    {name:<36} quiet {quiet[name]:7.1f} s{rate(quiet[name])}   contended "
                  f"{busy[name]:7.1f} s{rate(busy[name])}   keeps "
                  f"{quiet[name] / busy[name]:.0%} of its rate")
        for name in list(quiet)[2:5]:
            print(f"    dlgrade grade is {quiet[name] / quiet['dlgrade grade']:.1f}x the "
                  f"{name} quiet, {busy[name] / busy['dlgrade grade']:.1f}x contended")


if __name__ == "__main__":
    main()
