"""Run a command as root of a new user namespace that maps 65536 uids from host uid 100000,
as rootless Podman or Docker run a container: ``python rootless_container.py COMMAND...``."""

import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000
FIRST_UID, COUNT = 100000, 65536


def main() -> int:
    ready, go = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:
        if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) != 0:
            os._exit(125)
        os.write(ready[1], b"1")
        os.read(go[0], 1)  # until the parent has written the maps
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        os.execvp(sys.argv[1], sys.argv[1:])
    os.read(ready[0], 1)
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as mapping:
            mapping.write(f"0 {FIRST_UID} {COUNT}\n")
    os.write(go[1], b"1")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
