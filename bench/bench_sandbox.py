"""What the layered sandbox costs at each confinement level, and against the previous sandbox.

Settings, each measured by a small driver script run inside it (as that user, under that
seccomp filter and capability set, with that interpreter):
- ``full``: root on this host, every layer;
- ``container``: root under ``python -m grader.sandbox.seccomp docker_like`` (no namespaces,
  no mounts) with every capability Docker does not grant dropped from the bounding set (capsh);
- ``non-root``: an unprivileged user (``dlgrade-bench``, created if missing), user namespaces
  allowed;
- ``non-root, no userns``: the same user under the ``no_user_namespace`` filter;
- ``previous``: commit 8d5366e (before the layered sandbox), root on this host: today's figures.

Each driver starts a fork server, probes the level and layers, then measures (a) one worker
start (``SandboxedSubmission.start()`` on the one-cell notebook ``x = 1``, as both trees have
it), (b) one call into a started worker (``call("f", 1.0)``), (c) ``dlgrade run`` of the toy
reference (``DLGRADE_SERVER=0``: grading in-process) and ``dlgrade grade --jobs 2 --force`` of
a folder of copies of the toy examples, by wall clock and by CPU time (user + system of the
command's whole tree, sandbox workers included, read from a cpuacct cgroup the drivers run in,
created under /sys/fs/cgroup/cpuacct and removed at the end: far less sensitive than the wall
clock to whatever else the machine runs). A setting that refuses to grade gets
``--allow-unconfined``, and the output says so.

Every setting uses an interpreter any uid can read (this machine's Python lives under /root):
a virtual environment from /usr/bin/python3 with the project copied in, built once at
/tmp/dlgrade-bench-venv and rebuilt when a hash of grader/**/*.py and pyproject.toml changes
(and likewise /tmp/dlgrade-bench-venv-8d5366e from a worktree at /tmp/dlgrade-bench-8d5366e;
the venvs, the worktree and the user stay for the next run). The settings are measured in
interleaved rounds (5: in all, per setting, 30 worker starts, 30 calls, 10 runs and 5 batches
of 40; ``--quick``: one round, a batch of 12), so that each ratio compares figures taken a
minute apart. Prints figures; asserts nothing (shared, noisy machines: compare the ratios of
one run).

    python bench/bench_sandbox.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import pwd
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "fixtures" / "assignments" / "toy"
SYSTEM_PYTHON = "/usr/bin/python3"
VENV = Path("/tmp/dlgrade-bench-venv")
PREVIOUS = "8d5366e"  # the last commit before the layered sandbox
PREVIOUS_TREE = Path(f"/tmp/dlgrade-bench-{PREVIOUS}")
PREVIOUS_VENV = Path(f"/tmp/dlgrade-bench-venv-{PREVIOUS}")
USER = "dlgrade-bench"
DOCKER_CAPS = {"chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid",
               "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill",
               "audit_write"}
TARGET = 0.90  # grading throughput at the full level, as a fraction of the previous sandbox's
DRIVER_TIMEOUT = 1800

# Run inside each setting with that setting's interpreter. Works with both sandbox APIs: the
# layered one (grader.core.grading.start_sandbox, Policy, probe) and 8d5366e's (Zygote).
DRIVER = r'''
import csv, json, os, subprocess, sys, time
from pathlib import Path

plan = json.loads(sys.argv[1])
result = {"uid": os.getuid(), "python": sys.executable, "starts": [], "calls": [],
          "runs": [], "run_cpu": [], "grades": [], "grade_cpu": [], "allow_unconfined": False,
          "notes": []}
status = dict(line.split(":\t", 1) for line in Path("/proc/self/status").read_text().splitlines()
              if ":\t" in line)
result["process"] = {key: status.get(key, "?").strip()
                     for key in ("CapEff", "CapBnd", "NoNewPrivs", "Seccomp")}

try:
    from grader.core.grading import start_sandbox
except ImportError:  # 8d5366e
    from grader.sandbox import Zygote as start_sandbox
from grader.sandbox import Limits, SandboxedSubmission
try:
    from grader.sandbox import Policy, probe
    extra = (Policy(required="unconfined"),)
except ImportError:  # 8d5366e: no levels, no policy
    probe, extra = None, ()


def submission(zygote, cells):
    return SandboxedSubmission(zygote, cells, Limits(), [], *extra)


zygote = start_sandbox()
try:
    if probe is not None:
        result["sandbox"], seconds = probe(zygote)
        result["probe_ms"] = seconds * 1000
    for _ in range(plan["starts"]):
        one = submission(zygote, ["x = 1"])
        started = time.perf_counter()
        reports = one.start()
        result["starts"].append(time.perf_counter() - started)
        one.close()
        if any(report.error for report in reports):
            raise RuntimeError(f"the cell x = 1 failed: {reports}")
    one = submission(zygote, ["def f(x):\n    return x"])
    one.start()
    for _ in range(3):
        one.call("f", 1.0)
    for _ in range(plan["calls"]):
        started = time.perf_counter()
        value = one.call("f", 1.0)
        result["calls"].append(time.perf_counter() - started)
        if value != 1.0:
            raise RuntimeError(f"f(1.0) returned {value!r}")
    one.close()
except Exception as error:
    result["error"] = f"{type(error).__name__}: {error}"
finally:
    zygote.close()


def cpu_seconds():
    """CPU time of this driver's cgroup so far: dlgrade's whole tree, workers included."""
    return int(Path(plan["cpu_file"]).read_text()) / 1e9 if plan["cpu_file"] else 0.0


def dlgrade(*args):
    """Run dlgrade: wall and CPU seconds, and its output. On a refusal (exit 3), once more
    with --allow-unconfined."""
    command = [str(Path(sys.executable).parent / "dlgrade"), *args]
    flag = ["--allow-unconfined"] if result["allow_unconfined"] else []
    cpu, started = cpu_seconds(), time.perf_counter()
    done = subprocess.run(command + flag, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if done.returncode == 3 and not flag:
        result["allow_unconfined"] = True
        result["notes"].append("refused: " + done.stderr.strip().splitlines()[0])
        return dlgrade(*args)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command + flag)} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")
    return wall, cpu, done.stdout


if "error" not in result:
    try:
        for _ in range(plan["runs"]):
            seconds, cpu, output = dlgrade("run", plan["toy"], plan["reference"], "--json")
            graded = json.loads(output)
            if graded["status"] != "graded" or graded["score"] != graded["max_score"]:
                raise RuntimeError(f"the reference got {graded['status']} "
                                   f"{graded['score']}/{graded['max_score']}")
            result["runs"].append(seconds)
            result["run_cpu"] += [cpu] if plan["cpu_file"] else []
            result["run_sandbox"] = graded.get("sandbox")
        for _ in range(plan["grades"]):
            seconds, cpu, _ = dlgrade("grade", plan["toy"], plan["batch"], "-o", plan["out"],
                                      "--jobs", "2", "--force")
            with open(Path(plan["out"]) / "gradebook.csv") as handle:
                rows = list(csv.DictReader(handle))
            graded = sum(row["status"] == "graded" for row in rows)
            if graded != plan["count"]:
                raise RuntimeError(f"{graded} of {plan['count']} submissions graded")
            result["grades"].append(seconds)
            result["grade_cpu"] += [cpu] if plan["cpu_file"] else []
    except Exception as error:
        result["error"] = f"{type(error).__name__}: {error}"
print("RESULT " + json.dumps(result))
'''


@dataclass
class Setting:
    name: str
    python: Path
    wrap: list[str] = field(default_factory=list)  # runs the driver's command under a filter
    user: str | None = None
    why_not: str | None = None  # set when the setting cannot run here
    rounds: list[dict] = field(default_factory=list)  # one driver result per round

    def samples(self, key: str) -> list[float]:
        return [value for result in self.rounds for value in result.get(key, [])]

    def last(self, key: str):
        return next((r[key] for r in reversed(self.rounds) if r.get(key) is not None), None)


# ---------------------------------------------------------------- preparing the settings

def source_hash(tree: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted([*tree.glob("grader/**/*.py"), tree / "pyproject.toml"]):
        digest.update(str(path.relative_to(tree)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_venv(venv: Path, tree: Path) -> Path:
    """A venv from Debian's Python with ``tree`` installed (a copy, not editable), rebuilt
    only when the source's hash differs from the one stored beside it."""
    python, stamp = venv / "bin" / "python", venv.with_name(venv.name + ".sha256")
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-src-") as scratch:
        source = Path(scratch) / "src"  # a snapshot: the tree may be edited meanwhile
        shutil.copytree(tree, source, ignore=lambda folder, names: [
            n for n in names if n in {".git", "build", "dist", "__pycache__"}
            or n.endswith(".egg-info") or (Path(folder) == tree and n not in {
                "grader", "pyproject.toml", "README.md", "setup.py", "setup.cfg",
                "MANIFEST.in"})])
        wanted = source_hash(source)
        if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            print(f"  {venv}: up to date with {tree} ({wanted[:12]})")
            return python
        print(f"  {venv}: installing {tree} ({wanted[:12]}) ...", flush=True)
        fresh = not python.exists()
        if fresh:
            subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        quiet([*pip, str(source)])
        if not fresh:  # the same version number: make sure this copy replaces the old one
            quiet([*pip, "--no-deps", "--force-reinstall", str(source)])
    stamp.write_text(wanted + "\n")
    return python


def quiet(command: list[str]) -> None:
    """Run ``command``; show its output only when it fails."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print((done.stdout + done.stderr)[-3000:])
        raise subprocess.CalledProcessError(done.returncode, command)


def ensure_worktree() -> Path:
    """A worktree of the previous sandbox's commit (kept in /tmp for the next run)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", f"{PREVIOUS}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if PREVIOUS_TREE.exists():
        head = subprocess.run(["git", "-C", str(PREVIOUS_TREE), "rev-parse", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        if head != commit:
            raise RuntimeError(f"{PREVIOUS_TREE} exists but is not at {PREVIOUS}: remove it")
        print(f"  {PREVIOUS_TREE}: worktree at {PREVIOUS} (kept from an earlier run)")
    else:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                        str(PREVIOUS_TREE), commit], check=True)
        print(f"  {PREVIOUS_TREE}: worktree added at {PREVIOUS} (left there for the next run)")
    return PREVIOUS_TREE


def ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", USER], check=True)
        print(f"  created the system user {USER} (left in place)")
        return pwd.getpwnam(USER)


def dropped_capabilities() -> list[str]:
    """Every capability the kernel knows that Docker's default set does not grant."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    decoded = subprocess.run(["capsh", f"--decode={(1 << (last + 1)) - 1:#x}"],
                             capture_output=True, text=True, check=True).stdout
    names = decoded.strip().split("=", 1)[1].split(",")
    return [name for name in names if name.removeprefix("cap_") not in DOCKER_CAPS]


def prepare() -> list[Setting]:
    print("preparing:")
    try:
        python = ensure_venv(VENV, ROOT)
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"cannot build {VENV}: {error}") from None
    # -W: running the module with -m warns that the package imported it first (harmless)
    seccomp = [str(python), "-W", "ignore::RuntimeWarning", "-m", "grader.sandbox.seccomp"]
    full = Setting("full", python)
    container = Setting("container", python)
    try:
        container.wrap = [*seccomp, "docker_like", "--", shutil.which("capsh") or "capsh",
                          f"--drop={','.join(dropped_capabilities())}", "--",
                          "-c", 'exec "$0" "$@"']
    except (OSError, subprocess.CalledProcessError, IndexError) as error:
        container.why_not = f"capsh cannot list the capabilities to drop: {error}"
    non_root = Setting("non-root", python, user=USER)
    no_userns = Setting("non-root, no userns", python, [*seccomp, "no_user_namespace", "--"],
                        USER)
    try:
        ensure_user()
    except (OSError, subprocess.CalledProcessError) as error:
        non_root.why_not = no_userns.why_not = f"no user {USER}: {error}"
    previous = Setting("previous", python)
    try:
        previous.python = ensure_venv(PREVIOUS_VENV, ensure_worktree())
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        previous.why_not = f"cannot set up {PREVIOUS}: {error}"
    return [full, previous, container, non_root, no_userns]


# ---------------------------------------------------------------- running the drivers

def build_batch(folder: Path, count: int) -> None:
    """``count`` copies of the toy examples, each with a cell of its own (its own hash)."""
    examples = sorted((TOY / "examples").glob("*.ipynb"))
    folder.mkdir()
    for number in range(count):
        notebook = json.loads(examples[number % len(examples)].read_text())
        notebook["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                                  "outputs": [], "id": f"own{number}",
                                  "source": f"student_number = {number}"})
        (folder / f"student_{number:03d}.ipynb").write_text(json.dumps(notebook))


def cpu_cgroup() -> Path | str:
    """A cpuacct cgroup (v1) of our own, or why there is none: the drivers run in it, so
    that the CPU time of dlgrade's whole tree, sandbox workers included, can be read."""
    for hierarchy in ("cpuacct", "cpu,cpuacct"):
        base = Path("/sys/fs/cgroup") / hierarchy
        if (base / "cpuacct.usage").exists():
            folder = base / f"dlgrade-bench-{os.getpid()}"
            try:
                folder.mkdir()
            except OSError as error:
                return f"cannot create {folder}: {error.strerror}"
            return folder
    return "no cgroup v1 cpuacct hierarchy under /sys/fs/cgroup"


def remove_cgroup(folder: Path) -> None:
    for _ in range(50):  # the last workers may take a moment to leave it
        try:
            folder.rmdir()
            return
        except OSError:
            time.sleep(0.1)
    print(f"note: could not remove the cgroup {folder} (processes still in it?)")


def run_driver(setting: Setting, driver: Path, plan: dict, scratch: Path,
               cgroup: Path | None) -> dict:
    """One round of ``setting``: the driver's result (with ``error`` when it failed)."""
    entry = pwd.getpwnam(setting.user) if setting.user else None
    slug = setting.name.replace(" ", "").replace(",", "-")
    home, out = scratch / f"home-{slug}", scratch / f"out-{slug}"
    for folder in (home, out):
        folder.mkdir(exist_ok=True)
        if entry is not None:
            os.chown(folder, entry.pw_uid, entry.pw_gid)
    env = {"PATH": f"{setting.python.parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
           "LANG": "C.UTF-8", "DLGRADE_SERVER": "0"}
    command = [*setting.wrap, str(setting.python), str(driver),
               json.dumps({**plan, "out": str(out)})]

    def enter():  # in the child, before exec: join the cgroup as root, then become the user
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        if entry is not None:
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)

    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=scratch, start_new_session=True,
                               preexec_fn=enter)
    try:
        stdout, stderr = process.communicate(timeout=DRIVER_TIMEOUT)
    except BaseException:  # a timeout or Ctrl-C: stop the driver and what it started
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        return {"error": f"the driver exited {process.returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1].removeprefix("RESULT "))


# ---------------------------------------------------------------- figures

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def spread(values: list[float], scale: float = 1, digits: int = 2) -> str:
    """``median (min-max)`` of ``values`` times ``scale``."""
    if not values:
        return "-"
    values = [v * scale for v in values]
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")


def round_ratios(setting: Setting, previous: Setting, key: str) -> list[float]:
    """``previous``'s median of ``key`` (seconds) over ``setting``'s, round by round: a
    throughput ratio of two settings measured a minute apart."""
    return [statistics.median(theirs[key]) / statistics.median(mine[key])
            for mine, theirs in zip(setting.rounds, previous.rounds, strict=False)
            if mine.get(key) and theirs.get(key)]


def median_ratio(setting: Setting, previous: Setting, key: str) -> str:
    ratios = [] if setting is previous else round_ratios(setting, previous, key)
    return f"{statistics.median(ratios):.2f}" if ratios else "-"


def describe_round(result: dict, count: int) -> str:
    if "error" in result and not result.get("starts"):
        return f"FAILED: {result['error']}"
    parts = []
    for key, scale, unit in (("starts", 1000, "ms start"), ("calls", 1000, "ms call"),
                             ("runs", 1, "s run")):
        if result.get(key):
            parts.append(f"{statistics.median(result[key]) * scale:.2f} {unit}")
    if result.get("grades"):
        parts.append(f"{count / statistics.median(result['grades']) * 60:.0f} submissions/min")
    if result.get("grade_cpu"):
        parts.append(f"{statistics.median(result['grade_cpu']) / count:.3f} CPU s/submission")
    if "error" in result:
        parts.append(f"then FAILED: {result['error']}")
    return ", ".join(parts)


def print_settings(settings: list[Setting]) -> None:
    print("\nsettings (as each driver saw itself and its workers):")
    for setting in settings:
        if not setting.rounds:
            print(f"  {setting.name}: not measured: {setting.why_not}")
            continue
        first = setting.rounds[0]
        process = first.get("process", {})
        sandbox = setting.last("sandbox")
        print(f"  {setting.name}: uid {first.get('uid')}, {first.get('python')}, CapEff "
              f"{process.get('CapEff')}, CapBnd {process.get('CapBnd')}, NoNewPrivs "
              f"{process.get('NoNewPrivs')}, Seccomp {process.get('Seccomp')}")
        if sandbox:
            print(f"    level {sandbox['level']}: {', '.join(sandbox['layers'])}; one probe "
                  f"{setting.last('probe_ms'):.1f} ms")
            for layer, why in sandbox["missing"].items():
                print(f"      missing {layer}: {why}")
        elif "error" not in first:
            print("    (no confinement levels in this tree: namespaces, and nobody as root)")
        graded_as = setting.last("run_sandbox")
        if graded_as:
            print(f"    dlgrade run results record: level {graded_as.get('level')}, required "
                  f"{graded_as.get('required')}, allowed_unconfined "
                  f"{graded_as.get('allowed_unconfined')}")
        for note in dict.fromkeys(n for r in setting.rounds for n in r.get("notes", [])):
            print(f"    {note}")
        if any(r.get("allow_unconfined") for r in setting.rounds):
            print("    graded with --allow-unconfined (dlgrade refused without it)")
        for number, result in enumerate(setting.rounds, 1):
            if "error" in result:
                print(f"    round {number} failed: {result['error']}")


def print_table(settings: list[Setting], count: int) -> None:
    previous = next(s for s in settings if s.name == "previous")
    print(f"\n{'':<31}{'worker start ms':>16} {'call ms':>11} {'dlgrade run':>28} "
          f"{'dlgrade grade --jobs 2':>29} {'vs previous':>12}\n"
          f"{'setting':<20} {'level':<10}{'median':>10} {'p90':>5} {'median':>6} {'p90':>4} "
          f"{'s/submission':>18} {'CPU s':>9} {'submissions/min':>18} {'CPU s/sub':>10} "
          f"{'wall':>6} {'CPU':>5}  layers")
    print("-" * 200)
    for setting in settings:
        if not setting.samples("starts"):
            why = setting.why_not or (setting.rounds[-1].get("error") if setting.rounds else "")
            print(f"{setting.name:<20} not measured: {why}")
            continue
        sandbox = setting.last("sandbox")
        level = sandbox["level"] if sandbox else "(n/a)"
        layers = ",".join(sandbox["layers"]) if sandbox else "(before levels)"
        starts = [v * 1000 for v in setting.samples("starts")]
        calls = [v * 1000 for v in setting.samples("calls")]
        rates = [count / seconds * 60 for seconds in setting.samples("grades")]
        run_cpu, grade_cpu = setting.samples("run_cpu"), setting.samples("grade_cpu")
        unconfined = "*" if any(r.get("allow_unconfined") for r in setting.rounds) else ""
        print(f"{setting.name + unconfined:<20} {level:<10}"
              f"{statistics.median(starts):10.1f} {percentile(starts, 0.9):5.1f} "
              f"{statistics.median(calls):6.2f} {percentile(calls, 0.9):4.2f} "
              f"{spread(setting.samples('runs')):>18} "
              f"{statistics.median(run_cpu) if run_cpu else float('nan'):9.2f} "
              f"{spread(rates, digits=0):>18} "
              f"{statistics.median(grade_cpu) / count if grade_cpu else float('nan'):10.3f} "
              f"{median_ratio(setting, previous, 'grades'):>6} "
              f"{median_ratio(setting, previous, 'grade_cpu'):>5}  {layers}")
    print("median (min-max) over every repetition; CPU: user + system seconds of the command's "
          "whole process tree, workers included (cpuacct cgroup)\nvs previous: throughput of "
          "dlgrade grade --jobs 2 over the previous sandbox's, by wall clock and by CPU time, "
          "median of the rounds' ratios")
    if any(any(r.get("allow_unconfined") for r in s.rounds) for s in settings):
        print("*: graded with --allow-unconfined")


def print_verdict(settings: list[Setting], count: int) -> None:
    full = next(s for s in settings if s.name == "full")
    previous = next(s for s in settings if s.name == "previous")
    wall = round_ratios(full, previous, "grades")
    if not wall:
        print("\nfull/previous: not measured (see above)")
        return

    def listed(ratios):
        return ", ".join(f"{r:.2f}" for r in ratios)

    verdict = "met" if statistics.median(wall) >= TARGET else "NOT met"
    print(f"\nfull/previous, grading throughput (dlgrade grade --jobs 2), target >= "
          f"{TARGET:.2f}:\n  by wall clock: {statistics.median(wall):.2f} (rounds: "
          f"{listed(wall)}): {verdict}")
    best = min(previous.samples("grades")) / min(full.samples("grades"))
    print(f"  best of each (other load only ever slows a run down): {best:.2f}")
    cpu = round_ratios(full, previous, "grade_cpu")
    if cpu:
        verdict = "met" if statistics.median(cpu) >= TARGET else "NOT met"
        print(f"  by CPU time per submission (less sensitive to other load): "
              f"{statistics.median(cpu):.2f} (rounds: {listed(cpu)}): {verdict}")
    runs = round_ratios(full, previous, "runs")
    print(f"full/previous, dlgrade run (in-process) throughput: {statistics.median(runs):.2f} "
          f"by wall clock (rounds: {listed(runs)})", end="")
    run_cpu = round_ratios(full, previous, "run_cpu")
    print(f", {statistics.median(run_cpu):.2f} by CPU time" if run_cpu else "")
    starts = round_ratios(previous, full, "starts")
    print(f"full/previous, one worker start: {statistics.median(starts):.2f}x the time "
          f"(rounds: {listed(starts)}); "
          f"{statistics.median(full.samples('starts')) * 1000:.1f} ms vs "
          f"{statistics.median(previous.samples('starts')) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, one round")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5, quick 1)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the settings include root on this host and another user")
    rounds = args.rounds or (1 if args.quick else 5)
    count = 12 if args.quick else 40
    per_round = ({"starts": 10, "calls": 10, "runs": 3, "grades": 1} if args.quick else
                 {"starts": 6, "calls": 6, "runs": 2, "grades": 1})
    settings = prepare()
    load = os.getloadavg()
    version = subprocess.run([SYSTEM_PYTHON, "--version"], capture_output=True, text=True)
    print(f"\n{platform.node()}: Linux {platform.release()}, {os.cpu_count()} cores, load "
          f"{load[0]:.2f} {load[1]:.2f}; every setting runs a venv of {SYSTEM_PYTHON} "
          f"({version.stdout.strip()})")
    print(f"{rounds} interleaved round(s) of: {per_round['starts']} worker starts, "
          f"{per_round['calls']} calls, {per_round['runs']} x dlgrade run, "
          f"{per_round['grades']} x dlgrade grade of {count} submissions --jobs 2 --force")
    cgroup = cpu_cgroup()
    if not isinstance(cgroup, Path):
        print(f"CPU time: not measured ({cgroup})")
        cgroup = None
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-sandbox-") as scratch:
        scratch = Path(scratch)
        scratch.chmod(0o755)  # the non-root settings read the driver and the batch
        driver = scratch / "driver.py"
        driver.write_text(DRIVER)
        build_batch(scratch / "batch", count)
        plan = {**per_round, "toy": str(TOY), "reference": str(TOY / "examples" /
                                                               "reference.ipynb"),
                "batch": str(scratch / "batch"), "count": count,
                "cpu_file": str(cgroup / "cpuacct.usage") if cgroup else None}
        try:
            for number in range(rounds):
                for setting in settings if number % 2 == 0 else settings[::-1]:
                    if setting.why_not:
                        continue
                    started = time.perf_counter()
                    result = run_driver(setting, driver, plan, scratch, cgroup)
                    if "error" in result and not result.get("starts"):
                        setting.why_not = result["error"]  # it cannot run here: not again
                    setting.rounds.append(result)
                    print(f"  round {number + 1}/{rounds} {setting.name:<20} "
                          f"({time.perf_counter() - started:5.1f} s): "
                          f"{describe_round(result, count)}", flush=True)
        finally:
            if cgroup:
                remove_cgroup(cgroup)
    print_settings(settings)
    print_table(settings, count)
    print_verdict(settings, count)
    print(f"\nleft in place for the next run: {VENV}, {PREVIOUS_VENV}, the worktree "
          f"{PREVIOUS_TREE} (git worktree remove {PREVIOUS_TREE}) and the user {USER}")


if __name__ == "__main__":
    main()
