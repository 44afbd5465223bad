"""Throughput and memory of ``dlgrade grade`` against a loop of ``otter run``.

Builds N distinct submissions of a real assignment (the reference and the bundled examples,
each with a cell of its own so every file has its own content hash), then measures:
- ``dlgrade grade --jobs 1`` and ``--jobs 2``: submissions per minute, parallel efficiency;
- peak memory of the whole batch (proportional set size summed over the process tree, sampled
  every 20 ms) for 50 submissions and for N: flat means the same;
- the second run (nothing changed) and a run after 10 resubmissions;
- the same submissions through a loop of ``otter run -a dist/NAME-autograder.zip``.
Prints figures; asserts nothing (shared, noisy machines: compare the ratios of one run).

    python bench/bench_batch.py [--assignment gradcheck] [--count 200] [--otter-count 200]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="gradcheck")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--otter-count", type=int, default=200)
    args = parser.parse_args()
    dlgrade = shutil.which("dlgrade") or sys.exit("dlgrade is not installed")
    os.chdir(ROOT)
    zip_path = ROOT / "dist" / f"{args.assignment}-autograder.zip"
    if not zip_path.exists():
        subprocess.run([dlgrade, "publish", args.assignment], check=True,
                       stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as scratch:
        scratch = Path(scratch)
        paths = build(args.assignment, args.count, scratch / "all")
        small = scratch / "fifty"
        small.mkdir()
        for path in paths[:50]:
            shutil.copy(path, small)
        print(f"{args.count} submissions of {args.assignment}, {os.cpu_count()} cores")

        def grade(folder, out, *extra):
            return timed([dlgrade, "grade", args.assignment, str(folder), "-o",
                          str(scratch / out), *extra])

        one, one_mb, _ = grade(scratch / "all", "out1", "--jobs", "1")
        two, two_mb, _ = grade(scratch / "all", "out2", "--jobs", "2")
        fifty, fifty_mb, _ = grade(small, "out50", "--jobs", "2")
        rate1, rate2 = args.count / one * 60, args.count / two * 60
        print(f"  dlgrade grade --jobs 1: {one:7.1f} s   {rate1:6.0f} submissions/min")
        print(f"  dlgrade grade --jobs 2: {two:7.1f} s   {rate2:6.0f} submissions/min   "
              f"parallel efficiency {rate2 / rate1 / 2:.0%}")
        print(f"  peak memory (PSS, whole tree), --jobs 2:  50 submissions {fifty_mb:6.1f} MB"
              f"   {args.count} submissions {two_mb:6.1f} MB   (--jobs 1: {one_mb:.1f} MB)")
        again, _, output = grade(scratch / "all", "out2", "--jobs", "2")
        print(f"  second run, nothing changed: {again:5.2f} s  ({output.splitlines()[0]})")
        for path in paths[:10]:
            path.write_text(path.read_text().replace("student_number =",
                                                     "student_number = 1000 +"))
        changed, _, output = grade(scratch / "all", "out2", "--jobs", "2")
        print(f"  after 10 resubmissions:      {changed:5.2f} s  ({output.splitlines()[0]})")

        otter = shutil.which("otter") or sys.exit("otter is not installed")
        count = min(args.otter_count, len(paths))
        start = time.perf_counter()
        for number, path in enumerate(paths[:count]):
            (scratch / f"o{number}").mkdir()
            subprocess.run([otter, "run", "-a", str(zip_path), "-o", str(scratch / f"o{number}"),
                            "--no-logo", str(path)], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        otter_seconds = time.perf_counter() - start
        scored = sum((scratch / f"o{n}" / "results.json").is_file() for n in range(count))
        if scored != count:
            raise SystemExit(f"otter run wrote results for {scored} of {count} submissions")
        per = otter_seconds / count
        print(f"  otter run loop ({count} submissions): {otter_seconds:7.1f} s   "
              f"{60 / per:6.0f} submissions/min   ({per:.2f} s each)")
        print(f"  dlgrade grade --jobs 2 is {per * args.count / two:.1f}x the otter loop "
              f"(--jobs 1: {per * args.count / one:.1f}x)")


if __name__ == "__main__":
    main()
