"""The student's dtype never buys a looser check: an answer wrong by 1e-4 (outside the float64
tolerance, inside the float32 one) loses the same points whether it returns float64 or casts
its result down to float32."""

from __future__ import annotations

from conftest import BACKWARD, TOY_MAX, grade_json, write_notebook

OFF = ("import numpy as np\n\ndef affine(x, W, b):\n"
       "    return (x @ W + b) * (1 + 1e-4)\n")
CAST_DOWN = OFF.replace("return (x @ W + b) * (1 + 1e-4)",
                        "return ((x @ W + b) * (1 + 1e-4)).astype(np.float32)")


def test_casting_a_wrong_result_to_float32_earns_nothing(tmp_path):
    honest = grade_json(write_notebook(tmp_path / "honest.ipynb", [OFF, BACKWARD]))
    cast = grade_json(write_notebook(tmp_path / "cast.ipynb", [CAST_DOWN, BACKWARD]))
    assert honest["questions"]["q1"]["score"] < honest["questions"]["q1"]["max_score"]
    assert cast["questions"] == honest["questions"]
    assert cast["score"] < TOY_MAX
