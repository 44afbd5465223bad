"""Wall time and peak memory of ``dlgrade run`` on one submission, against the floor.

The floor is a fresh Python process that imports numpy and executes the same cells. ``dlgrade
run`` is measured warm (the grading server already running: what every run but the first in
two minutes costs) and cold (``DLGRADE_SERVER=0``: a fresh interpreter imports numpy and pytest
and grades in-process). Peak memory is the largest single process of the command's tree, for
the cold run (a warm run grades inside the server). Prints figures; asserts nothing: the
machines are shared and noisy, so compare the ratios of one run.

    python bench/bench_run.py [--repeat 15] [SUBMISSION ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOY = HERE.parent / "tests" / "fixtures" / "assignments" / "toy"


def measure(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process of ``command``'s tree."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss / 1024


def floor_script(submission: Path, folder: Path) -> Path:
    """A plain script: import numpy, then the submission's cells as the grader runs them."""
    sys.path.insert(0, str(HERE.parent))
    from grader.core.loading import load_submission

    cells = load_submission(submission).cells
    script = folder / f"{submission.stem}_floor.py"
    script.write_text("import numpy\n" + "\n".join(
        f"try:\n    exec(compile({cell!r}, 'cell', 'exec'))\nexcept Exception:\n    pass"
        for cell in cells))
    return script


def summarise(label: str, samples: list[tuple[float, float]]) -> tuple[float, float]:
    times = [t for t, _ in samples]
    peak = max(m for _, m in samples)
    print(f"  {label:<28} median {statistics.median(times) * 1000:7.1f} ms   "
          f"min {min(times) * 1000:7.1f} ms   peak RSS {peak:6.1f} MB")
    return statistics.median(times), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="*", type=Path,
                        default=[TOY / "examples" / "reference.ipynb",
                                 TOY / "examples" / "wrong_dx.ipynb"])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    dlgrade = shutil.which("dlgrade") or sys.exit("install the project first: pip install -e .")
    print(f"dlgrade run vs floor, {args.repeat} runs each, interleaved, on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        for submission in args.submissions:
            script = floor_script(submission, Path(folder))
            command = [dlgrade, "run", str(TOY), str(submission), "--json"]
            measure(command)  # starts the grading server if none is running
            floor, warm, cold = [], [], []
            for _ in range(args.repeat):
                floor.append(measure([sys.executable, str(script)]))
                warm.append(measure(command))
                cold.append(measure(command, {"DLGRADE_SERVER": "0"}))
            print(f"{submission.name}:")
            floor_time, floor_rss = summarise("floor (python + numpy + cells)", floor)
            warm_time, _ = summarise("dlgrade run (server warm)", warm)
            cold_time, cold_rss = summarise("dlgrade run (no server)", cold)
            print(f"  time vs floor: warm {warm_time / floor_time:.2f}x (target <= 2x), "
                  f"cold {cold_time / floor_time:.2f}x; largest process (cold) "
                  f"{cold_rss / floor_rss:.2f}x the floor's")


if __name__ == "__main__":
    main()
