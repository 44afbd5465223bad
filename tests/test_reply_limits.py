"""What comes back across the trust boundary is bounded before it is materialised: a worker
that replaces its own encoder cannot make the trusted process balloon."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import DLGRADE, TOY, write_notebook

# A blank submission that replaces the worker's encoder: every reply becomes 63 MB of JSON
# holding 21 million "{}", under the 64 MB frame limit.
AMPLIFIER = """
import struct, sys
wire = sys.modules["grader.sandbox.wire"]
text = b"[" + b"{}," * 21_000_000 + b"{}]"
wire.encode = lambda value: wire.MAGIC + struct.pack(">I", len(text)) + text
"""


def test_a_reply_built_to_balloon_is_refused_cheaply(tmp_path):
    path = write_notebook(tmp_path / "amplifier.ipynb", [AMPLIFIER])
    measure = ("import resource, subprocess, sys\n"
               "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "print(done.stdout)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    done = subprocess.run([sys.executable, "-c", measure, DLGRADE, "run", str(TOY), str(path),
                           "--json"], capture_output=True, text=True, timeout=300,
                          env={"DLGRADE_SERVER": "0", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    *output, peak_kb = done.stdout.strip().splitlines()
    result = json.loads("\n".join(output))
    assert result["status"] in ("graded", "timeout") and result["score"] == 0
    # The cell that installed it is refused on its first reply, skipped, and never runs again.
    assert "code cell 1: produced an unreadable reply" in result["message"]
    assert "over the 8 MB limit" in result["message"]
    # Before the bound: 3.1 GB per test call. Now: the 63 MB frame, read and dropped.
    assert int(peak_kb) < 600 * 1024, f"peak {int(peak_kb) >> 10} MB"
