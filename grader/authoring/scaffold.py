"""``dlgrade new``: a new assignment that publishes cleanly as it is, with one question."""

from __future__ import annotations

from pathlib import Path

import nbformat

from grader.core.settings import AssignmentError

FILES = {
    "assignments/{name}/assignment.yml": """\
name: {name}
title: {title}
questions:
  q1: the mean squared error and its gradient
""",
    "assignments/{name}/handout.md": """\
# {title}

Write the narrative here. A fenced python block is a cell given to students; the directives
below insert the skeleton of reference functions and the cell that runs a question's public
checks. Passing the public checks does not promise full marks: hidden tests run on other inputs.

```python
import numpy as np
```

## Question 1 (q1): the mean squared error

For predictions $\\hat y$ and targets $y$ of length $N$, the loss is
$\\ell = \\frac{{1}}{{N}} \\sum_i (\\hat y_i - y_i)^2$ and its gradient is
$\\frac{{2}}{{N}} (\\hat y - y)$.

<!-- skeleton: mse mse_grad -->

<!-- check: q1 -->

## Submitting

Run every cell from the top, save, and submit this notebook file.
""",
    "solutions/{name}.py": '''\
"""Reference solution of the assignment `{name}`."""

import numpy as np


def mse(prediction, target):
    """The mean squared error between two arrays of the same shape."""
    return float(np.mean((prediction - target) ** 2))


def mse_grad(prediction, target):
    """The gradient of mse with respect to prediction."""
    return 2 * (prediction - target) / prediction.size
''',
    "assignments/{name}/tests/test_public.py": '''\
"""Public checks: students run them in the notebook; they must not use `reference`."""

import numpy as np
import pytest

from grader.numerics import assert_close

pytestmark = [pytest.mark.visibility("public"), pytest.mark.question("q1")]


def test_mse_of_a_small_case(submission):
    prediction, target = np.array([1.0, 2.0]), np.array([1.0, 4.0])
    assert_close(submission.call("mse", prediction, target), 2.0, "mse([1, 2], [1, 4])")
    assert_close(submission.call("mse_grad", prediction, target), np.array([0.0, -2.0]),
                 "mse_grad([1, 2], [1, 4])")
''',
    "assignments/{name}/tests/test_q1.py": '''\
"""Hidden tests of q1: against the reference and against finite differences."""

import pytest

from grader.numerics import assert_close, assert_vjp, random_inputs

pytestmark = pytest.mark.question("q1")


@pytest.mark.points(2)
def test_mse_matches_reference(submission, reference, rng):
    prediction, target = random_inputs(rng, (4, 3)), random_inputs(rng, (4, 3))
    assert_close(submission.call("mse", prediction, target),
                 reference.mse(prediction, target), "mse(prediction, target)")


@pytest.mark.points(2)
def test_mse_grad_matches_finite_differences(submission, reference, rng):
    prediction, target = random_inputs(rng, (4, 3)), random_inputs(rng, (4, 3))
    assert_vjp(submission.call("mse_grad", prediction, target),
               lambda p: reference.mse(p, target), prediction, 1.0, "mse_grad(prediction, target)")
''',
}

EXAMPLE = "assignments/{name}/examples/bug_sum_not_mean.ipynb"
# The known bug: sums where the mean belongs. The reference's lines, and what the bug has.
BUG = {"return float(np.mean((prediction - target) ** 2))":
       "return float(np.sum((prediction - target) ** 2))",
       "return 2 * (prediction - target) / prediction.size": "return 2 * (prediction - target)"}


def new_assignment(name: str, root: Path) -> list[Path]:
    """Write the files of a new assignment under ``root``; refuse to overwrite anything."""
    if not name.isidentifier():
        raise AssignmentError(f"assignment name {name!r} must be a Python identifier")
    title = name.replace("_", " ").capitalize()
    planned = {root / template.format(name=name): text.format(name=name, title=title)
               for template, text in FILES.items()}
    example = root / EXAMPLE.format(name=name)
    existing = [str(path) for path in [*planned, example] if path.exists()]
    if existing:
        raise AssignmentError(f"not overwriting existing files: {', '.join(existing)}")
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    example.parent.mkdir(parents=True, exist_ok=True)
    example.write_text(_example_notebook(root / "assignments" / name))
    return [*planned, example]


def _example_notebook(folder: Path) -> str:
    """A known-bug example as a student would submit it: the student notebook, filled in, with
    the mean summed instead; it must lose points on q1."""
    from grader.authoring.publishing import solved_notebook
    from grader.core.settings import load_assignment

    notebook = nbformat.reads(solved_notebook(load_assignment(str(folder))).decode(),
                              as_version=4)
    for cell in notebook.cells:
        for right, wrong in BUG.items():
            cell.source = cell.source.replace(right, wrong)
    notebook.metadata["dlgrade"]["expect"] = "loses q1"
    return nbformat.writes(notebook) + "\n"
