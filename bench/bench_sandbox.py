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
a folder of copies of the toy examples. A setting that refuses to grade gets
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
          "runs": [], "grades": [], "allow_unconfined": False, "notes": []}
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


def dlgrade(*args):
    """Run dlgrade; on a refusal (exit 3), once more with --allow-unconfined."""
    command = [str(Path(sys.executable).parent / "dlgrade"), *args]
    flag = ["--allow-unconfined"] if result["allow_unconfined"] else []
    started = time.perf_counter()
    done = subprocess.run(command + flag, capture_output=True, text=True)
    if done.returncode == 3 and not flag:
        result["allow_unconfined"] = True
        result["notes"].append("refused: " + done.stderr.strip().splitlines()[0])
        return dlgrade(*args)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command + flag)} exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")
    return time.perf_counter() - started, done.stdout


if "error" not in result:
    try:
        for _ in range(plan["runs"]):
            seconds, output = dlgrade("run", plan["toy"], plan["reference"], "--json")
            graded = json.loads(output)
            if graded["status"] != "graded" or graded["score"] != graded["max_score"]:
                raise RuntimeError(f"the reference got {graded['status']} "
                                   f"{graded['score']}/{graded['max_score']}")
            result["runs"].append(seconds)
            result["run_sandbox"] = graded.get("sandbox")
        for _ in range(plan["grades"]):
            seconds, _ = dlgrade("grade", plan["toy"], plan["batch"], "-o", plan["out"],
                                 "--jobs", "2", "--force")
            with open(Path(plan["out"]) / "gradebook.csv") as handle:
                rows = list(csv.DictReader(handle))
            graded = sum(row["status"] == "graded" for row in rows)
            if graded != plan["count"]:
                raise RuntimeError(f"{graded} of {plan['count']} submissions graded")
            result["grades"].append(seconds)
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


def run_driver(setting: Setting, driver: Path, plan: dict, scratch: Path) -> dict:
    """One round of ``setting``: the driver's result (with ``error`` when it failed)."""
    slug = setting.name.replace(" ", "").replace(",", "-")
    home, out = scratch / f"home-{slug}", scratch / f"out-{slug}"
    for folder in (home, out):
        folder.mkdir(exist_ok=True)
        if setting.user:
            entry = pwd.getpwnam(setting.user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
    env = {"PATH": f"{setting.python.parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
           "LANG": "C.UTF-8", "DLGRADE_SERVER": "0"}
    command = [*setting.wrap, str(setting.python), str(driver),
               json.dumps({**plan, "out": str(out)})]
    user = {}
    if setting.user:
        entry = pwd.getpwnam(setting.user)
        user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=scratch, start_new_session=True, **user)
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


def per_minute(setting: Setting, count: int) -> list[float]:
    return [count / seconds * 60 for seconds in setting.samples("grades")]


def round_ratios(numerator: Setting, denominator: Setting, count: int) -> list[float]:
    """Grading throughput of one setting over another's, round by round (same minutes)."""
    ratios = []
    for mine, theirs in zip(numerator.rounds, denominator.rounds, strict=False):
        if mine.get("grades") and theirs.get("grades"):
            ratios.append(statistics.median(theirs["grades"]) / statistics.median(mine["grades"]))
    return ratios


def describe_round(setting: Setting, result: dict, count: int) -> str:
    if "error" in result and not result.get("starts"):
        return f"FAILED: {result['error']}"
    parts = []
    for key, scale, unit in (("starts", 1000, "ms start"), ("calls", 1000, "ms call"),
                             ("runs", 1, "s run")):
        if result.get(key):
            parts.append(f"{statistics.median(result[key]) * scale:.2f} {unit}")
    if result.get("grades"):
        parts.append(f"{count / statistics.median(result['grades']) * 60:.0f} submissions/min")
    if "error" in result:
        parts.append(f"then FAILED: {result['error']}")
    return ", ".join(parts)


def print_settings(settings: list[Setting]) -> None:
    print("\nsettings (as each driver saw itself and its workers):")
    for setting in settings:
        if setting.why_not:
            print(f"  {setting.name}: not measured: {setting.why_not}")
            continue
        first = setting.rounds[0] if setting.rounds else {}
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
        else:
            print("    (no confinement levels in this tree: namespaces and nobody as root)")
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
    header = (f"{'setting':<20} {'level':<10} {'start ms':>15} {'call ms':>13} "
              f"{'run s/submission':>19} {'grade -j2 subs/min':>19} {'vs prev':>8}  layers")
    print(f"\n{header}\n{'':<31}{'median   p90':>15} {'median  p90':>13} {'median (min-max)':>19} "
          f"{'median (min-max)':>19}\n{'-' * len(header)}")
    for setting in settings:
        if setting.why_not or not setting.samples("starts"):
            why = setting.why_not or (setting.rounds[-1].get("error") if setting.rounds else "")
            print(f"{setting.name:<20} not measured: {why}")
            continue
        sandbox = setting.last("sandbox")
        level = sandbox["level"] if sandbox else "(n/a)"
        layers = ",".join(sandbox["layers"]) if sandbox else "(before levels)"
        starts = [v * 1000 for v in setting.samples("starts")]
        calls = [v * 1000 for v in setting.samples("calls")]
        runs, rates = setting.samples("runs"), per_minute(setting, count)
        run = (f"{statistics.median(runs):.2f} ({min(runs):.2f}-{max(runs):.2f})"
               if runs else "-")
        rate = (f"{statistics.median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f})"
                if rates else "-")
        ratios = [] if setting is previous else round_ratios(setting, previous, count)
        ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
        unconfined = "*" if any(r.get("allow_unconfined") for r in setting.rounds) else ""
        print(f"{setting.name + unconfined:<20} {level:<10} "
              f"{statistics.median(starts):7.1f} {percentile(starts, 0.9):6.1f} "
              f"{statistics.median(calls):6.2f} {percentile(calls, 0.9):6.2f} "
              f"{run:>19} {rate:>19} {ratio:>8}  {layers}")
    print("vs prev: grading throughput (dlgrade grade --jobs 2) over the previous sandbox's, "
          "median of the rounds' ratios")
    if any(any(r.get("allow_unconfined") for r in s.rounds) for s in settings):
        print("*: graded with --allow-unconfined")


def print_verdict(settings: list[Setting], count: int) -> None:
    full = next(s for s in settings if s.name == "full")
    previous = next(s for s in settings if s.name == "previous")
    ratios = round_ratios(full, previous, count)
    pairs = [(statistics.median(p["runs"]), statistics.median(f["runs"]))
             for f, p in zip(full.rounds, previous.rounds, strict=False)
             if f.get("runs") and p.get("runs")]
    if not ratios:
        print("\nfull/previous: not measured (see above)")
        return
    verdict = "met" if statistics.median(ratios) >= TARGET else "NOT met"
    print(f"\nfull/previous, grading throughput (dlgrade grade --jobs 2): "
          f"{statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)}); "
          f"target >= {TARGET:.2f}: {verdict}")
    best = max(per_minute(full, count)) / max(per_minute(previous, count))
    print(f"  best of each (other load only ever slows a run down): {best:.2f} "
          f"({max(per_minute(full, count)):.0f} vs {max(per_minute(previous, count)):.0f} "
          f"submissions/min)")
    run_ratios = [theirs / mine for theirs, mine in pairs]
    print(f"full/previous, dlgrade run throughput (in-process): "
          f"{statistics.median(run_ratios):.2f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in run_ratios)}); best of each "
          f"{min(previous.samples('runs')) / min(full.samples('runs')):.2f}")
    starts = [statistics.median(s.samples("starts")) for s in (full, previous)]
    print(f"full/previous, one worker start: {starts[0] / starts[1]:.2f}x the time "
          f"({starts[0] * 1000:.1f} ms vs {starts[1] * 1000:.1f} ms)")


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
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-sandbox-") as scratch:
        scratch = Path(scratch)
        scratch.chmod(0o755)  # the non-root settings read the driver and the batch
        driver = scratch / "driver.py"
        driver.write_text(DRIVER)
        build_batch(scratch / "batch", count)
        plan = {**per_round, "toy": str(TOY), "reference": str(TOY / "examples" /
                                                               "reference.ipynb"),
                "batch": str(scratch / "batch"), "count": count}
        for number in range(rounds):
            order = settings if number % 2 == 0 else settings[::-1]
            for setting in order:
                if setting.why_not:
                    continue
                started = time.perf_counter()
                result = run_driver(setting, driver, plan, scratch)
                if "error" in result and not result.get("starts"):
                    setting.why_not = result["error"]  # it cannot run here: not again
                setting.rounds.append(result)
                print(f"  round {number + 1}/{rounds} {setting.name:<20} "
                      f"({time.perf_counter() - started:5.1f} s): "
                      f"{describe_round(setting, result, count)}", flush=True)
    print_settings(settings)
    print_table(settings, count)
    print_verdict(settings, count)
    print(f"\nleft in place for the next run: {VENV}, {PREVIOUS_VENV}, the worktree "
          f"{PREVIOUS_TREE} (git worktree remove {PREVIOUS_TREE}) and the user {USER}")


if __name__ == "__main__":
    main()
