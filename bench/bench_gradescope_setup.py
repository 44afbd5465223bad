"""What setting up a Gradescope autograder costs: the native zip's ``setup.sh`` (a virtual
environment and pip) against what the Otter zip's ``setup.sh`` installs.

Both zips are built from the kit's fixture assignment (``tests/fixtures``, toy): the course
changes nothing here. Ours: the zip's own ``setup.sh``, run as Gradescope runs it, its venv in a
temporary folder, from the system's Python, pip's cache off. Otter's: its ``setup.sh``
downloads Miniforge from GitHub, makes a conda environment from ``environment.yml`` (Python,
pip, jupyter_server, then pip's ``otter-grader[grading,plugins]`` and dlgrade), adds
nb_conda_kernels and Playwright's Chromium. That download cannot be made where only package
indexes are reached (our machines), so its pip installs are timed instead, in a fresh venv
from the same Python, pip's cache off: a lower bound of Otter's setup, as the output says. Only
the setup is
timed; the distributions and megabytes are what it added (pip and setuptools of a bare venv
not counted). Prints a table; asserts nothing (the network sets most of the time).

    python bench/bench_gradescope_setup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_install import SYSTEM_PYTHON, disk_bytes, distributions  # noqa: E402

FIXTURE = HERE.parent / "tests" / "fixtures" / "assignments" / "toy"
QUIET = {"PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def build_zips(folder: Path) -> tuple[Path, Path]:
    """The native zip and the Otter zip of the fixture assignment, unpacked under ``folder``."""
    from grader.core.settings import load_assignment
    from grader.platforms.gradescope import gradescope_zip
    from grader.platforms.otter import autograder_zip

    assignment = load_assignment(str(FIXTURE))
    unpacked = []
    for name, data in (("gradescope", gradescope_zip(assignment)),
                       ("otter", autograder_zip(assignment))):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(folder / name)
        unpacked.append(folder / name)
    return unpacked[0], unpacked[1]


def setup_ours(source: Path, scratch: Path) -> tuple[float, Path]:
    """Run the native zip's setup.sh; its seconds and its venv."""
    venv = scratch / "opt" / "dlgrade-venv"
    environ = {**_clean_environment(), **QUIET, "DLGRADE_VENV": str(venv)}
    started = time.perf_counter()
    _run(["bash", str(source / "setup.sh")], cwd=source, env=environ)
    return time.perf_counter() - started, venv


def otter_requirements(source: Path) -> list[str]:
    """What Otter's environment.yml installs that pip can: jupyter_server (conda-forge's, on
    the package index too) and its pip list, dlgrade from the zip's copy."""
    environment = yaml.safe_load((source / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)
             and not d.startswith(("python", "pip"))]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    return [*conda, *(r.replace("/autograder/source", str(source)) for r in pip)]


def setup_otter_by_pip(source: Path, scratch: Path) -> tuple[float, Path]:
    """A fresh venv and pip's share of Otter's setup; its seconds and its venv."""
    venv = scratch / "otter-venv"
    environ = {**_clean_environment(), **QUIET}
    started = time.perf_counter()
    _run([SYSTEM_PYTHON, "-m", "venv", str(venv)])
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
          *otter_requirements(source)], env=environ)
    return time.perf_counter() - started, venv


def added(venv: Path, bare: tuple[set, int]) -> tuple[int, float]:
    return len(distributions(venv) - bare[0]), (disk_bytes(venv) - bare[1]) / 1e6


def bare_venv(scratch: Path) -> tuple[set, int]:
    """What a new venv holds before anything is installed."""
    venv = scratch / "bare"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
    return distributions(venv), disk_bytes(venv)


def _run(command: list[str], **options) -> None:
    """Run ``command`` quietly (pip's warnings included); stop with its output if it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **options)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def _clean_environment() -> dict:
    return {name: value for name, value in os.environ.items()
            if name not in ("PYTHONPATH", "VIRTUAL_ENV") and not name.startswith("DLGRADE_")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="setups of each (median shown)")
    args = parser.parse_args()
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        sys.exit(f"{SYSTEM_PYTHON} is needed (apt-get install python3-venv)")
    version = subprocess.run([SYSTEM_PYTHON, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-gradescope-") as folder:
        ours, otter = build_zips(Path(folder))
        bare = bare_venv(Path(folder))
        for label, setup, source in (
                ("native zip: setup.sh (venv + pip)", setup_ours, ours),
                ("Otter zip: its pip installs only", setup_otter_by_pip, otter)):
            seconds = []
            for run in range(args.repeat):
                scratch = Path(folder) / f"{source.name}-{run}"
                scratch.mkdir()
                taken, venv = setup(source, scratch)
                seconds.append(taken)
            rows.append((label, statistics.median(seconds), *added(venv, bare)))
        requirements = " ".join(Path(r).name if "/" in r else r
                                for r in otter_requirements(otter))
    print(f"Gradescope setup, {SYSTEM_PYTHON} ({version}), pip cache off, "
          f"{args.repeat} run(s) each (median)")
    print(f"| {'setup':<36} | {'wall time':>9} | {'distributions':>13} | {'on disk':>8} |")
    print(f"|{'-' * 38}|{'-' * 10}:|{'-' * 14}:|{'-' * 9}:|")
    for label, seconds, packages, megabytes in rows:
        print(f"| {label:<36} | {seconds:7.1f} s | {packages:>13} | {megabytes:5.0f} MB |")
    print(f"Otter's setup.sh also downloads Miniforge from GitHub, which this bench does not "
          f"(our machines reach package indexes only): its row times the pip installs of its "
          f"environment.yml ({requirements}) in a fresh venv, and leaves out its apt "
          f"packages, the Miniforge download and install, the conda solve, nb_conda_kernels "
          f"and Playwright's Chromium: a lower bound of Otter's setup.")


if __name__ == "__main__":
    main()
