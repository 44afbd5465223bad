"""What a worker's layers add up to, and what to do about the ones it lacks.

Levels, weakest first:
- ``unconfined``: student code may read what the grader reads, reach the network, or signal
  the grader's processes.
- ``contained``: the course's files (reference, hidden tests, the secret file) and the grader's
  memory and environment are out of reach, the network is closed, no signal leaves the
  worker, and nothing it starts outlives it. Enough to grade: the default requirement.
- ``full``: every layer at once (namespaces with a root of its own, Landlock, seccomp and a uid
  of its own), so that each property above holds twice over.
"""

from __future__ import annotations

LEVELS = ("unconfined", "contained", "full")
DEFAULT_REQUIRED = "contained"
FULL = {"namespaces", "filesystem", "landlock", "seccomp", "uid"}
ORDER = ("namespaces", "filesystem", "landlock", "landlock-scope", "seccomp", "uid", "cgroup",
         "rlimits")

ADVICE = {
    "namespaces": "run the grader as root, or let users create user namespaces "
                  "(sysctl -w kernel.unprivileged_userns_clone=1, user.max_user_namespaces=15000; "
                  "Ubuntu 24.04+: kernel.apparmor_restrict_unprivileged_userns=0); in Docker: "
                  "docker run --cap-add SYS_ADMIN --security-opt seccomp=unconfined "
                  "--security-opt apparmor=unconfined (as a non-root user, also "
                  "--security-opt systempaths=unconfined); see docker/README.md",
    "filesystem": "needs the namespaces layer (a mount namespace)",
    "landlock": "a Linux kernel 5.13 or newer with Landlock enabled (CONFIG_SECURITY_LANDLOCK=y "
                "and landlock in the lsm= boot parameter); Docker's default seccomp profile "
                "allows it since 2022 (moby#43199)",
    "landlock-scope": "a Linux kernel 6.12 or newer (Landlock ABI 6) scopes signals and "
                      "abstract sockets to the worker",
    "seccomp": "a Linux kernel with seccomp filters (CONFIG_SECCOMP_FILTER=y)",
    "uid": "run the grader as root (as Docker and Gradescope do): each worker then drops to a "
           "uid of its own",
    "cgroup": "delegate a cgroup v2 subtree with the memory and pids controllers to the "
              "grading user (systemd-run --user --scope -p Delegate=yes dlgrade ...)",
}


def level(layers) -> str:
    """The level a worker with these layers reached."""
    have = set(layers)
    if FULL <= have:
        return "full"
    files_hidden = "filesystem" in have or "landlock" in have
    network_closed = "namespaces" in have or "seccomp" in have
    signals_kept_in = "namespaces" in have or "uid" in have or "landlock-scope" in have
    if files_hidden and network_closed and signals_kept_in:
        return "contained"
    return "unconfined"


def meets(reached: str, required: str) -> bool:
    return LEVELS.index(reached) >= LEVELS.index(required)


def describe(report: dict) -> dict:
    """The result's ``sandbox`` entry: level, layers applied, and each missing layer's reason."""
    layers = [layer for layer in ORDER if layer in report.get("layers", ())]
    missing = {layer: str(report["missing"][layer]) for layer in ORDER
               if layer in report.get("missing", {})}
    return {"level": level(layers), "layers": layers, "missing": missing}


def refusal(sandbox: dict, required: str) -> str:
    """Why grading is refused on this machine, and how to fix it."""
    lines = [f"refusing to grade: the sandbox reaches level '{sandbox['level']}' on this "
             f"machine, and grading requires '{required}'. Missing here:"]
    for layer, why in sandbox["missing"].items():
        lines += _missing(f"  - {layer}", why, layer, "    ")
    lines.append("Run 'dlgrade doctor' for the whole picture. To grade anyway, with student "
                 "code able to reach what the missing layers protect, pass --allow-unconfined "
                 "(every result records it).")
    return "\n".join(lines)


def report(sandbox: dict, required: str, start_seconds: float) -> str:
    """``dlgrade doctor``: each layer, applied or not and why, the level, the verdict."""
    lines = ["The sandbox on this machine:"]
    for layer in ORDER:
        if layer in sandbox["layers"]:
            lines.append(f"  [x] {layer}")
        elif layer in sandbox["missing"]:
            lines += _missing(f"  [ ] {layer}", sandbox["missing"][layer], layer, "        ")
    verdict = ("meets" if meets(sandbox["level"], required) else "does NOT meet")
    lines += [f"Level: {sandbox['level']} ({verdict} the required level '{required}')",
              f"One worker start: {start_seconds * 1000:.1f} ms"]
    return "\n".join(lines)


def _missing(label: str, why: str, layer: str, indent: str) -> list[str]:
    """A missing layer: why, then how to get it where that is known."""
    return [f"{label}: {why}", *([f"{indent}to get it: {ADVICE[layer]}"] if layer in ADVICE
                                 else [])]
