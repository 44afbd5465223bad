"""How long a student waits for the public checks: ``grader.check("qN")`` in a Jupyter kernel
against ``dlgrade check NOTEBOOK -q qN`` (the whole notebook run in the sandbox, then that
question's checks), on each assignment's reference-filled notebook.

The kernel figure is the check cell's own execution time (nbclient's timestamps), the
notebook's other cells having run already; the command's is its wall time, warm (the grading
server running) and cold (``DLGRADE_SERVER=0``). Prints figures; asserts nothing: the machines
are shared and noisy, so compare the ratios of one run.

    python bench/bench_checks.py [--repeat 3] [ASSIGNMENT ...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def kernel_times(notebook: Path) -> dict[str, float]:
    """Seconds each ``grader.check("qN")`` cell took in a kernel."""
    cells = nbformat.read(notebook, as_version=4)
    NotebookClient(cells, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    times = {}
    for cell in cells.cells:
        found = re.fullmatch(r'grader\.check\("(\w+)"\)', cell.source.strip())
        if cell.cell_type == "code" and found:
            timing = cell.metadata["execution"]
            start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            times[found.group(1)] = (end - start).total_seconds()
    return times


def command_time(notebook: Path, question: str, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(["dlgrade", "check", str(notebook), "-q", question],
                          capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return time.perf_counter() - start


def main() -> None:
    from grader.authoring.publishing import solved_notebook
    from grader.core.settings import load_assignment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*",
                        default=["gradcheck", "forward_mode", "backprop", "initialization"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'assignment':15} {'question':8} {'kernel s':>9} {'check warm s':>13} "
          f"{'check cold s':>13}")
    for name in args.assignments:
        with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as folder:
            notebook = Path(folder) / name / f"{name}.ipynb"
            notebook.parent.mkdir()
            notebook.write_bytes(solved_notebook(load_assignment(str(ROOT / "assignments" /
                                                                     name))))
            kernel = [kernel_times(notebook) for _ in range(args.repeat)]
            for question in kernel[0]:
                command_time(notebook, question, {})  # start the server
                warm = [command_time(notebook, question, {}) for _ in range(args.repeat)]
                cold = [command_time(notebook, question, {"DLGRADE_SERVER": "0"})
                        for _ in range(args.repeat)]
                print(f"{name:15} {question:8} "
                      f"{statistics.median(k[question] for k in kernel):9.2f} "
                      f"{statistics.median(warm):13.2f} {statistics.median(cold):13.2f}")


if __name__ == "__main__":
    main()
