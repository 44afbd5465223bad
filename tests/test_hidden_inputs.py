"""Hidden inputs never reach what a student reads: public checks run before the worker has
seen any hidden input, and hidden checks say only that they failed where students look."""

from __future__ import annotations

from pathlib import Path

from conftest import grade_json, write_notebook

GRADCHECK = Path(__file__).resolve().parent / "fixtures" / "assignments" / "gradcheck"

# Every function logs what it is given and raises the whole log: whatever the worker has
# seen so far lands in the failure message of the check that called it.
SPY = """
LOG = []

def _spy(name):
    def spy(*args, **kwargs):
        LOG.append((name, repr(args)[:300]))
        raise RuntimeError("everything I was given: " + repr(LOG))
    return spy

for _name in ["forward_difference", "centered_difference", "numerical_gradient",
              "numerical_jacobian", "relative_error", "gradcheck", "convergence_order"]:
    globals()[_name] = _spy(_name)
"""


def test_public_messages_carry_nothing_of_the_hidden_inputs(tmp_path):
    """The hidden inputs depend on the course secret; the public checks' inputs do not. So if
    any hidden input reached a public message, two secrets would give two messages."""
    spy = write_notebook(tmp_path / "spy.ipynb", [SPY])
    one = grade_json(spy, GRADCHECK, env={"DLGRADE_SECRET": "one"})
    two = grade_json(spy, GRADCHECK, env={"DLGRADE_SECRET": "two"})
    assert one["score"] == two["score"] == 0

    def public(result):
        return [t["message"] for t in result["tests"] if t["visibility"] == "public"]

    def hidden(result):
        return [t["message"] for t in result["tests"] if t["visibility"] == "hidden"]

    assert public(one) and all("everything I was given" in m for m in public(one))
    assert public(one) == public(two)
    assert hidden(one) != hidden(two)  # the spy does see hidden inputs: only later
