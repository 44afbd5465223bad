"""The similarity detector: near copies are found however they are disguised, independent
solutions of the same task and the template's code are not, hostile sources never crash it."""

from __future__ import annotations

import html
import json
import random
import re

import pytest

from grader.batch.similarity import (
    MAX_TOKENS,
    fingerprints,
    join_cells,
    similar_pairs,
    source_of,
)

TEMPLATE_CELLS = [
    "import numpy as np",
    '''def rel_error(x, y):
    """Relative error, as the checks measure it."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of an array-valued f, contracted with the upstream gradient df."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        pos = f(x).copy()
        x[ix] = oldval - h
        neg = f(x).copy()
        x[ix] = oldval
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad''',
    "STUDENT_CODE",
    '''np.random.seed(231)
x = np.random.randn(10, 2, 3)
w = np.random.randn(6, 5)
b = np.random.randn(5)
dout = np.random.randn(10, 5)
dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: affine_forward(x, w, b)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: affine_forward(x, w, b)[0], b, dout)
_, cache = affine_forward(x, w, b)
dx, dw, db = affine_backward(dout, cache)
print("dx error: ", rel_error(dx_num, dx))
print("dw error: ", rel_error(dw_num, dw))
print("db error: ", rel_error(db_num, db))''',
]
STUBS = '''def eval_numerical_gradient(f, x, h=1e-5):
    """Centered differences of a scalar function f at every element of x."""
    # YOUR CODE HERE
    raise NotImplementedError


def affine_forward(x, w, b):
    """x @ w + b with each example of x flattened; returns (out, cache)."""
    # YOUR CODE HERE
    raise NotImplementedError


def affine_backward(dout, cache):
    """Gradients (dx, dw, db) of the affine layer."""
    # YOUR CODE HERE
    raise NotImplementedError


def relu_backward(dout, cache):
    """Gradient of the ReLU."""
    # YOUR CODE HERE
    raise NotImplementedError
'''

ALICE = '''def eval_numerical_gradient(f, x, h=1e-5):
    """Centered differences, one element at a time, x restored after each."""
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old_value = x[ix]
        x[ix] = old_value + h
        fxph = f(x)
        x[ix] = old_value - h
        fxmh = f(x)
        x[ix] = old_value
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def affine_forward(x, w, b):
    N = x.shape[0]
    x_rows = x.reshape(N, -1)
    out = x_rows.dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    x_rows = x.reshape(N, -1)
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x_rows.T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx
'''

# Alice's, disguised: functions reordered, names, literals, comments and docstrings changed.
BOB = '''def relu_backward(upstream, cache):
    # the ReLU lets the gradient through where the input was positive
    inputs = cache
    d_inputs = upstream.copy()
    d_inputs[inputs <= 0.0] = 0
    return d_inputs


def affine_backward(upstream, cache):
    """Backward pass of the fully connected layer."""
    inputs, weights, bias = cache
    batch = inputs.shape[0]
    flat = inputs.reshape(batch, -1)  # one row per example
    d_inputs = upstream.dot(weights.T).reshape(inputs.shape)
    d_weights = flat.T.dot(upstream)
    d_bias = np.sum(upstream, axis=0)
    return d_inputs, d_weights, d_bias


def eval_numerical_gradient(func, arr, step=1e-6):
    """Numerical gradient by centered differences."""
    gradient = np.zeros_like(arr, dtype=float)
    iterator = np.nditer(arr, flags=["multi_index"], op_flags=["readwrite"])
    while not iterator.finished:
        index = iterator.multi_index
        saved = arr[index]
        arr[index] = saved + step
        f_plus = func(arr)  # f(x + h)
        arr[index] = saved - step
        f_minus = func(arr)  # f(x - h)
        arr[index] = saved
        gradient[index] = (f_plus - f_minus) / (2.0 * step)
        iterator.iternext()
    return gradient


def affine_forward(inputs, weights, bias):
    # flatten, then multiply
    batch = inputs.shape[0]
    flat = inputs.reshape(batch, -1)
    result = flat.dot(weights) + bias
    cache = (inputs, weights, bias)
    return result, cache
'''

# The same task, solved independently.
CAROL = '''def eval_numerical_gradient(f, x, h=1e-5):
    flat = x.reshape(-1)
    grad = np.empty(flat.size)
    for i in range(flat.size):
        e = np.zeros(flat.size)
        e[i] = h
        plus = f((flat + e).reshape(x.shape))
        minus = f((flat - e).reshape(x.shape))
        grad[i] = (plus - minus) / (2 * h)
    return grad.reshape(x.shape)


def affine_forward(x, w, b):
    out = np.matmul(np.reshape(x, (len(x), -1)), w)
    out += b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, _ = cache
    db = dout.sum(axis=0)
    dw = np.reshape(x, (len(x), -1)).T @ dout
    dx = np.reshape(dout @ w.T, np.shape(x))
    return dx, dw, db


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)
'''

DAVE = '''def eval_numerical_gradient(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    result = []
    for k in range(x.size):
        up, down = x.copy().ravel(), x.copy().ravel()
        up[k] += h
        down[k] -= h
        change = f(up.reshape(x.shape)) - f(down.reshape(x.shape))
        result.append(change / h / 2)
    return np.array(result).reshape(x.shape)


def affine_forward(x, w, b):
    rows = [np.ravel(example) for example in x]
    return np.stack(rows) @ w + b[None, :], (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    flat = np.stack([np.ravel(example) for example in x])
    grads = (np.dot(dout, w.T).reshape(np.shape(x)), np.dot(flat.T, dout), dout.sum(0))
    return grads


def relu_backward(dout, cache):
    mask = (cache > 0).astype(dout.dtype)
    return dout * mask
'''


def submission(code: str) -> str:
    """The handed-out notebook with the student's answers in place of the stubs."""
    return join_cells([code if cell == "STUDENT_CODE" else cell
                       for cell in TEMPLATE_CELLS]).text


TEMPLATE = submission(STUBS)


def lines_of(source: str, first: str, last: str) -> tuple[int, int]:
    """The lines (from 1) of the first line holding ``first`` and the next holding ``last``."""
    lines = source.split("\n")
    start = next(n for n, line in enumerate(lines) if first in line)
    end = next(n for n, line in enumerate(lines) if n > start and last in line)
    return start + 1, end + 1


def test_a_disguised_copy_is_found_and_an_independent_solution_is_not():
    pairs = similar_pairs({"alice": submission(ALICE), "bob": submission(BOB),
                           "carol": submission(CAROL)}, TEMPLATE)
    assert [(p.a, p.b, p.past) for p in pairs] == [("alice", "bob", False)]
    assert pairs[0].score > 0.6 and pairs[0].shared >= 20
    assert len(pairs[0].regions) >= 3  # four functions, in another order


def test_independent_solutions_of_the_same_task_stay_apart_at_any_usual_threshold():
    pairs = similar_pairs({name: submission(code) for name, code in
                           [("alice", ALICE), ("carol", CAROL), ("dave", DAVE)]},
                          TEMPLATE, threshold=0.2)
    assert pairs == []


def test_renaming_literals_comments_and_layout_change_no_fingerprint():
    plain = "def f(a, b):\n    total = a * 2 + b\n    return [total, 'x', 1.5]\n"
    disguised = ("def g(first, second):  # the sum\n\n    s = first * 7 + second\n"
                 "    return [s,\n            \"yy\", 3]\n")
    assert fingerprints(plain, k=5, window=2).hashes == fingerprints(disguised, k=5,
                                                                     window=2).hashes
    changed = "def f(a, b):\n    total = a * 2 - b\n    return [total, 'x', 1.5]\n"
    assert fingerprints(plain, k=5, window=2).hashes != fingerprints(changed, k=5,
                                                                     window=2).hashes


def test_the_template_does_not_make_everyone_similar():
    students = {name: submission(code) for name, code in
                [("alice", ALICE), ("carol", CAROL), ("dave", DAVE)]}
    # Without the template, the given helper and checks would pair everyone (once the
    # common-idiom rule, which would also hide them in a class this small, is off).
    assert len(similar_pairs(students, max_share=1.0, threshold=0.2)) == 3
    assert similar_pairs(students, TEMPLATE, max_share=1.0, threshold=0.2) == []


def test_code_most_of_the_class_shares_is_an_idiom_not_a_copy():
    """Six of eight students share a helper (from a forum, say), and nothing else."""
    helper, _ = ALICE.split("def affine_forward")
    rests = ["def affine_forward" + code.split("def affine_forward")[1] for code in (CAROL, DAVE)]
    students = {f"s{n}": submission(helper + rests[n % 2]) for n in range(6)}
    students |= {"carol": submission(CAROL), "dave": submission(DAVE)}

    def paired(**settings) -> bool:
        pairs = similar_pairs(students, TEMPLATE, threshold=0.0, **settings)
        return ("s0", "s1") in {(p.a, p.b) for p in pairs}

    assert not paired()  # held by 6 of 8: more than half the class
    assert not paired(max_share=1.0, max_count=5)
    assert paired(max_share=1.0)


def test_past_submissions_are_compared_with_current_ones_only():
    twin = BOB.replace("# one row per example", "# rows")
    pairs = similar_pairs({"alice": submission(ALICE), "carol": submission(CAROL)}, TEMPLATE,
                          past={"bob-2023": submission(BOB), "bob-twin-2023": submission(twin)})
    assert [(p.a, p.b, p.past) for p in pairs] == [("alice", "bob-2023", True),
                                                   ("alice", "bob-twin-2023", True)]


def test_a_current_student_named_as_a_past_one_is_still_compared():
    pairs = similar_pairs({"alice": submission(ALICE)}, TEMPLATE,
                          past={"alice": submission(BOB)})
    assert [(p.a, p.b, p.past) for p in pairs] == [("alice", "alice", True)]


def test_regions_point_at_the_copied_lines_on_both_sides():
    """a: Alice's gradient, affine_backward and relu_backward; b: Carol's gradient and
    affine_forward, then Bob's relu_backward, affine_backward and gradient (a's, disguised)."""
    gradient = ALICE.split("\n\n\ndef affine_forward")[0]
    backward = "def affine_backward" + ALICE.split("def affine_backward")[1]
    a = f"import numpy as np\n\n\n{gradient}\n\n\n{backward}"
    b = CAROL.split("def affine_backward")[0] + BOB.split("def affine_forward")[0]
    [pair] = similar_pairs({"a": a, "b": b}, threshold=0.3)
    copied = [  # (def line, return line) of both sides
        (lines_of(a, "def eval_numerical", "return grad"),
         lines_of(b, "def eval_numerical_gradient(func", "return gradient")),
        (lines_of(a, "def affine_backward", "return dx, dw, db"),
         lines_of(b, "def affine_backward(upstream", "return d_inputs, d_w")),
        (lines_of(a, "def relu_backward", "return dx"),
         lines_of(b, "def relu_backward(upstream", "return d_inputs")),
    ]
    assert [a_lines for a_lines, _ in pair.regions] == sorted(a for a, _ in pair.regions)
    for (a_lines, b_lines), (a_function, b_function) in zip(pair.regions, copied, strict=True):
        for lines, (start, end) in [(a_lines, a_function), (b_lines, b_function)]:
            assert start <= lines[0] <= start + 2  # from the def, or just after a docstring
            # to the return, or to the next def: a k-gram can run on into it
            assert end - 1 <= lines[1] <= end + 3


def test_syntax_errors_cost_only_their_own_lines():
    broken = ("def oops(:\n    return [1, 2\n\n  x = '''never closed\n"
              "if True:\n        y = 1\n      z = 2\n")
    assert fingerprints(broken, k=3, window=1).tokens >= 15
    # in the very cell of the copy: an unclosed string would hide all that follows it
    late = submission(broken + ALICE)
    pairs = similar_pairs({"late": late, "bob": submission(BOB)}, TEMPLATE)
    assert [(p.a, p.b) for p in pairs] == [("late", "bob")]
    assert pairs[0].score > 0.6


@pytest.mark.parametrize("source", [
    pytest.param("x = [" + "1, " * 2_000_000 + "]\n", id="6 MB on one line"),
    pytest.param("(" * 300_000, id="unclosed brackets"),
    pytest.param("\n" * 300_000 + "def f():\n    return 1\n", id="300,000 blank lines"),
    pytest.param("if x:\n\ty = 1\n        z = 2\n" * 30_000, id="bad indentation everywhere"),
    pytest.param("é = 'ü'\nπ = 3\n\u202edef ṡ(): return π\n\udcff\x00\x01 $ ? `\n\x0c\u2028"
                 * 1_000, id="odd unicode and control characters"),
    pytest.param("".join(chr(random.Random(0).randrange(1, 0x30000)) for _ in range(50_000)),
                 id="random characters"),
])
def test_hostile_sources_are_read_within_bounds(source):
    found = fingerprints(source)
    assert found.tokens <= MAX_TOKENS
    assert len(found.hashes) == len(found.positions) == len(found.first_lines)
    assert all(1 <= first <= last for first, last in zip(found.first_lines,
                                                          found.last_lines, strict=True))


def test_a_huge_submission_is_truncated_and_compared_on_what_was_read():
    huge = submission(ALICE) + "\nnoise = 1\n" * 60_000
    assert fingerprints(huge).truncated
    pairs = similar_pairs({"huge": huge, "bob": submission(BOB)}, TEMPLATE)
    assert [(p.a, p.b) for p in pairs] == [("huge", "bob")]


def test_results_do_not_depend_on_the_order_of_the_class():
    students = {"alice": submission(ALICE), "bob": submission(BOB), "carol": submission(CAROL)}
    pairs = similar_pairs(students, TEMPLATE)
    backwards = similar_pairs(dict(reversed(students.items())), TEMPLATE)
    assert [({p.a, p.b}, p.score, p.shared) for p in pairs] == \
        [({p.a, p.b}, p.score, p.shared) for p in backwards]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="threshold"):
        similar_pairs({}, threshold=1.5)
    with pytest.raises(ValueError, match="window"):
        fingerprints("x = 1", window=0)


def test_lines_of_a_notebook_map_back_to_its_cells(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Title"},
             {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": ["import numpy as np\n", "%matplotlib inline"]},
             {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": ALICE}]
    path = tmp_path / "alice.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                "cells": cells}))
    source = source_of(path)
    lines = source.text.split("\n")
    backward = lines_of(source.text, "def affine_backward", "return dx")
    assert source.locate(backward[0]) == (2, ALICE.split("\n").index(
        "def affine_backward(dout, cache):") + 1)
    assert lines[backward[0] - 1] == "def affine_backward(dout, cache):"
    assert source.locate(1) is None  # the marker of cell 1
    assert source.locate(2) == (1, 1)
    assert "\npass  # %matplotlib inline\n" in source.text  # neutralised, as when grading
    pairs = similar_pairs({"alice": source.text, "bob": submission(BOB)})
    assert pairs and all(source.locate(a[0]) is not None for a, _ in pairs[0].regions)


# ---------------------------------------------------------------- in a batch, end to end

ADA = '''import numpy as np


def affine(x, W, b):
    out = x @ W
    out = out + b
    return out


def affine_backward(dout, x, W):
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db


def numeric_check(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = f(x)
        x[index] = saved - eps
        minus = f(x)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def train(x, y, W, b, steps=50, rate=0.1):
    losses = []
    for step in range(steps):
        pred = affine(x, W, b)
        diff = pred - y
        losses.append(float((diff ** 2).mean()))
        dx, dW, db = affine_backward(2 * diff / diff.size, x, W)
        W = W - rate * dW
        b = b - rate * db
    return W, b, losses
'''
BO = (ADA.replace("out", "result").replace("numeric_check", "finite_diff")
      .replace("saved", "orig").replace("losses", "history").replace("1e-6", "1e-5")
      .replace("rate", "lr").replace("# ", "#  ") + "\n# my own work, honest\n")
CY = '''import numpy as np


def affine(x, W, b):
    n, m = x.shape[0], W.shape[1]
    y = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            y[i, j] = sum(x[i, k] * W[k, j] for k in range(W.shape[0])) + b[j]
    return y


def affine_backward(dout, x, W):
    return (np.einsum("nm,dm->nd", dout, W), np.einsum("nd,nm->dm", x, dout),
            np.einsum("nm->m", dout))


def fit(inputs, targets, weights, bias, epochs=30, step=0.05):
    for _ in range(epochs):
        error = affine(inputs, weights, bias) - targets
        grads = affine_backward(error / len(error), inputs, weights)
        weights, bias = weights - step * grads[1], bias - step * grads[2]
    return weights, bias
'''


def test_a_batch_report_names_the_near_copies_and_not_the_independent_one(tmp_path):
    from conftest import TOY, run_dlgrade, write_notebook

    inbox, past = tmp_path / "inbox", tmp_path / "past"
    inbox.mkdir()
    past.mkdir()
    for name, code in (("ada", ADA), ("bo", BO), ("cy", CY)):
        write_notebook(inbox / f"{name}.ipynb", [code])
    write_notebook(past / "old_cy.ipynb", [CY.replace("epochs", "rounds")])
    out = tmp_path / "out"
    done = run_dlgrade("grade", TOY, inbox, "-o", out, "--compare-with", past)
    assert done.returncode == 0, done.stderr
    report = html.unescape((out / "report.html").read_text())
    section = report.split("<h2>Similar submissions")[1].split("<h2>")[0]
    pairs = re.findall(r"<h3>(\S+) and (.+?): (\d+)%", section)
    assert {(a, b) for a, b, _ in pairs} == {("ada", "bo"), ("cy", "old_cy (past)")}
    assert all(int(score) >= 80 for _, _, score in pairs)
    assert "code cell 1, lines" in section and "grad[index] = (plus - minus)" in section
    assert "across 3 submissions and 1 of a past term" in section


def test_damaged_fingerprints_in_the_state_leave_only_that_student_out(tmp_path):
    """A state file whose fingerprints were damaged (by hand, or a full disk) costs its
    student the similarity check, and nothing else: the report is written, the others
    compared."""
    from conftest import TOY, run_dlgrade, write_notebook

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for name, code in (("ada", ADA), ("bo", BO), ("cy", CY), ("dee", CY + "\n# mine\n")):
        write_notebook(inbox / f"{name}.ipynb", [code])
    assert run_dlgrade("grade", TOY, inbox, "-o", out).returncode == 0
    for name, damage in (("cy", {"hashes": [1, 2], "positions": [0]}), ("dee", "garbage")):
        state = out / ".dlgrade" / f"{name}.json"
        record = json.loads(state.read_text())
        record["fingerprints"] = damage if type(damage) is str else \
            {**record["fingerprints"], **damage}
        state.write_text(json.dumps(record))
    again = run_dlgrade("grade", TOY, inbox, "-o", out)
    assert again.returncode == 0, again.stderr
    assert "nothing to grade" in again.stdout and "wrote " in again.stdout
    report = html.unescape((out / "report.html").read_text())
    section = report.split("<h2>Similar submissions")[1].split("<h2>")[0]
    assert re.findall(r"<h3>(\S+) and (.+?): \d+%", section) == [("ada", "bo")]
    assert "across 2 submissions" in section
    assert all(f">{name}<" in report for name in ("ada", "bo", "cy", "dee"))


def test_regions_are_worked_out_only_for_the_pairs_shown():
    from grader.batch.similarity import fingerprints, pairs_of

    prints = {name: fingerprints(code) for name, code in
              (("ada", ADA), ("bo", BO), ("eve", ADA + "\n# again\n"), ("cy", CY))}
    pairs = pairs_of(prints, frozenset(), max_share=1.0, detail=1)
    assert len(pairs) == 3 and pairs[0].regions and not any(p.regions for p in pairs[1:])


def test_the_report_keeps_the_most_alike_pairs_in_order_and_counts_all_of_them():
    """A class whose pairs are all alike: the report's pairs are the first of the full
    ranking (score, then shared fingerprints, then names, a past alice after a current one),
    and its count is of all of them."""
    from grader.batch.similarity import fingerprints, pairs_of, top_pairs

    rng = random.Random(4)
    variants = [ADA, BO, CY, ADA + "\n# again\n", BO.replace("history", "trace"),
                CY.replace("epochs", "rounds"), ADA.replace("rate", "eta")]
    current = {f"s{n:02d}": fingerprints(rng.choice(variants)) for n in range(24)}
    past = {"s03": fingerprints(ADA), "old": fingerprints(CY)}
    everything = pairs_of(current, frozenset(), past, threshold=0.0, max_share=1.0, detail=5)
    shown, count = top_pairs(current, frozenset(), past, threshold=0.0, max_share=1.0,
                             detail=5, limit=7)
    assert count == len(everything) > 100
    assert everything == sorted(everything, key=lambda p: (-p.score, -p.shared, p.a, p.b))
    assert shown == everything[:7]
    assert [p.regions != () for p in shown] == [True] * 5 + [False] * 2
    assert any(p.b == "s03" and p.past for p in everything)
    assert top_pairs(current, frozenset(), past, threshold=0.0, max_share=1.0, detail=5) == \
        (everything, len(everything))


def test_a_pair_is_listed_from_its_exact_score_and_shown_rounded():
    """5,000 of 10,001 fingerprints shared is 49.995%: under a half, though it shows as 0.5."""
    from array import array

    from grader.batch.similarity import Fingerprints, pairs_of

    def made(hashes):
        n = len(hashes)
        return Fingerprints(array("q", hashes), array("l", range(n)), array("l", [1] * n),
                            array("l", [1] * n), n, False)

    big = made(list(range(10_001)))
    half = made(list(range(5_000)) + list(range(100_000, 105_001)))
    assert pairs_of({"a": big, "b": half}, frozenset(), detail=0) == []
    [pair] = pairs_of({"a": big, "b": half}, frozenset(), threshold=0.4999, detail=0)
    assert (pair.score, pair.shared) == (0.5, 5_000)


def _brute_pairs(current, past, given, threshold, min_shared, max_share, max_count):
    """The pairs as the module docstring defines them, pair by pair: the reference."""
    prints = {**{("c", n): set(f.hashes) - given for n, f in current.items()},
              **{("p", n): set(f.hashes) - given for n, f in past.items()}}
    holders = {}
    for key, found in prints.items():
        for h in found:
            holders.setdefault(h, []).append(key)
    most_current = max(2, int(max_share * len(current)))
    most_past = max(2, int(max_share * len(past)))
    most = max(2, max_count) if max_count is not None else len(prints)

    def counts(h):
        mine = sum(side == "c" for side, _ in holders[h])
        return (mine <= most_current and len(holders[h]) - mine <= most_past
                and len(holders[h]) <= most)

    own = {key: {h for h in found if counts(h)} for key, found in prints.items()}
    keys = list(prints)
    found = []
    for x, a in enumerate(keys):
        for b in keys[x + 1:]:
            if a[0] == "p":
                continue
            shared = len(own[a] & own[b])
            if shared >= max(min_shared, 1) and \
                    shared / min(len(own[a]), len(own[b])) >= threshold:
                found.append((a[1], b[1], round(shared / min(len(own[a]), len(own[b])), 4),
                              shared, b[0] == "p"))
    return sorted(found, key=lambda p: (-p[2], -p[3], p[0], p[1]))


@pytest.mark.parametrize("seed", range(60))
def test_pairs_counted_in_blocks_are_the_pairs_of_the_definition(seed):
    """However few pair counts are held at once, a class's pairs, their order and their count
    are those of the definition worked out pair by pair: common idioms (more than a share of
    the class, of the past term, or than a count) and the template left out, past
    submissions never paired together, fingerprints held by many counted too."""
    from array import array

    from grader.batch.similarity import CELLS, Fingerprints, top_pairs

    rng = random.Random(seed)
    pool = rng.randint(20, 150)

    def made():
        hashes = [rng.randrange(pool) - pool // 2 for _ in range(rng.randint(0, 60))]
        n = len(hashes)
        return Fingerprints(array("q", hashes), array("l", range(n)), array("l", [1] * n),
                            array("l", [1] * n), n, False)

    current = {f"c{n:02d}": made() for n in range(rng.randint(2, 40))}
    past = {f"p{n:02d}": made() for n in range(rng.choice([0, rng.randint(1, 12)]))}
    given = frozenset(rng.sample(range(-pool // 2, pool // 2), rng.randint(0, 4)))
    options = {"threshold": rng.choice([0.0, 0.3, 0.5]), "min_shared": rng.choice([1, 3, 6]),
               "max_share": rng.choice([0.5, 1.0]), "max_count": rng.choice([None, 3, 30])}
    expected = _brute_pairs(current, past, given, **options)
    for cells in (1, 37, CELLS):
        pairs, count = top_pairs(current, given, past, detail=0, cells=cells, **options)
        assert [(p.a, p.b, p.score, p.shared, p.past) for p in pairs] == expected
        assert count == len(expected)
        shown, count = top_pairs(current, given, past, detail=0, cells=cells, limit=5,
                                 **options)
        assert [(p.a, p.b, p.score, p.shared, p.past) for p in shown] == expected[:5]
        assert count == len(expected)
    with pytest.raises(ValueError, match="limit must be None or at least 0"):
        top_pairs(current, given, past, limit=-1, **options)
