"""What installing dlgrade costs: wall time, distributions installed and size on disk of the
core (a student's ``pip install dlgrade``), ``dlgrade[grade]`` (a TA's) and ``dlgrade[all]``.

Each install goes into a new virtual environment from the system's Python, with pip's cache
off (``--no-cache-dir``): the wheel built from this checkout, its dependencies from the package
index, as a first install on a new machine. Only ``pip install`` is timed; the distributions
and megabytes are what it added to the environment (pip and setuptools of the bare venv not
counted). Prints a table; asserts nothing (the network sets most of the time).

    python bench/bench_install.py [--repeat 3] [--only core grade all]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALLS = {"core": "dlgrade", "grade": "dlgrade[grade]", "all": "dlgrade[all]"}


def distributions(venv: Path) -> set[str]:
    listed = subprocess.run([str(venv / "bin" / "pip"), "list", "--format", "json"],
                            capture_output=True, text=True, check=True).stdout
    return {package["name"].lower() for package in json.loads(listed)}


def disk_bytes(folder: Path) -> int:
    """What the files take on disk (as ``du`` counts), each hard link once."""
    seen, total = set(), 0
    for root, _, files in os.walk(folder):
        for name in files:
            info = os.lstat(os.path.join(root, name))
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total


def install(requirement: str, wheels: Path) -> tuple[float, int, float]:
    """Seconds, distributions added and MB added by installing ``requirement`` in a new venv."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-install-") as folder:
        venv = Path(folder) / "venv"
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
        bare, bare_bytes = distributions(venv), disk_bytes(venv)
        environ = {**os.environ, "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        start = time.perf_counter()
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--no-cache-dir",
                        "--find-links", str(wheels), requirement], env=environ, check=True,
                       stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        added = distributions(venv) - bare
        if "dlgrade" not in added:
            raise SystemExit(f"{requirement}: dlgrade was not installed")
        return seconds, len(added), (disk_bytes(venv) - bare_bytes) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="installs of each (median shown)")
    parser.add_argument("--only", nargs="+", choices=INSTALLS, default=list(INSTALLS))
    args = parser.parse_args()
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        sys.exit(f"{SYSTEM_PYTHON} is needed (apt-get install python3-venv)")
    sys.path.insert(0, str(HERE.parent / "tests"))
    from environments import wheelhouse  # the wheel the install tests use, built once

    wheels = wheelhouse()
    print(f"pip install, fresh venv from {SYSTEM_PYTHON}, no pip cache, {args.repeat} run(s) "
          f"each, wheel from {wheels}")
    print(f"| {'install':<26} | {'wall time':>9} | {'distributions':>13} | {'on disk':>8} |")
    print(f"|{'-' * 28}|{'-' * 10}:|{'-' * 14}:|{'-' * 9}:|")
    for name in args.only:
        runs = [install(INSTALLS[name], wheels) for _ in range(args.repeat)]
        seconds = statistics.median(r[0] for r in runs)
        packages, megabytes = runs[-1][1], runs[-1][2]
        label = f"pip install {INSTALLS[name]}"
        print(f"| {label:<26} | {seconds:7.1f} s | {packages:>13} | {megabytes:5.0f} MB |",
              flush=True)


if __name__ == "__main__":
    main()
