"""The student's dtype never buys a looser check: every known-bug example of gradcheck, with
all its functions made to return float32, scores no more than it does as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import grade_json

GRADCHECK = Path(__file__).resolve().parent.parent / "assignments" / "gradcheck"
FUNCTIONS = ["forward_difference", "centered_difference", "numerical_gradient",
             "numerical_jacobian", "relative_error", "convergence_order"]
# Appended as the last cell: one function's numeric results are cast down to float32.
CAST_DOWN = """
import numpy as np

def _float32(function):
    def cast(*args, **kwargs):
        value = function(*args, **kwargs)
        return np.float32(value) if np.ndim(value) == 0 else np.asarray(value, np.float32)
    return cast

if %(name)r in globals():
    globals()[%(name)r] = _float32(globals()[%(name)r])
"""


@pytest.mark.parametrize("example", sorted(p.name for p in (GRADCHECK / "examples").glob(
    "bug_*.ipynb")))
def test_casting_results_to_float32_earns_nothing(example, tmp_path):
    notebook = json.loads((GRADCHECK / "examples" / example).read_text())
    honest = tmp_path / "honest.ipynb"
    honest.write_text(json.dumps(notebook))
    env = {"DLGRADE_SECRET": "float32-forgery"}
    scores = {"as written": grade_json(honest, GRADCHECK, env)["score"]}
    for name in FUNCTIONS:
        cast = json.loads(json.dumps(notebook))
        cast["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                              "outputs": [], "source": CAST_DOWN % {"name": name}})
        path = tmp_path / f"cast_{name}.ipynb"
        path.write_text(json.dumps(cast))
        scores[name] = grade_json(path, GRADCHECK, env)["score"]
    assert max(scores.values()) == scores["as written"], scores
