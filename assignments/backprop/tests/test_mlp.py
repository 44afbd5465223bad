"""Hidden tests of q6 (MLP initialization and loss) and q7 (SGD, prediction, training).

mlp_loss and predict are built from the layers of q3-q5: they are right when they match the
reference, and also when they match what the student's own layers give, put together as the
handout says (the layers' mistakes are charged to their own questions). train is checked with
stand-ins of the test in place of init_mlp and mlp_loss (scenarios.stand_ins).
"""

import math

import numpy as np
import pytest
import scenarios
from scipy import stats

from grader.numerics import (
    FINITE_DIFFERENCE,
    assert_close,
    assert_distribution,
    assert_moments,
    numerical_gradient,
    random_inputs,
)
from grader.sandbox import StudentError, WorkerError

SMALL = [4, 6, 5, 3]


def small_problem(reference, rng, sizes=SMALL, n=7):
    params = reference.init_mlp(sizes, rng)
    params = {k: v + (0 if k.startswith("W") else random_inputs(rng, v.shape) * 0.1)
              for k, v in params.items()}
    return params, random_inputs(rng, (n, sizes[0])), rng.integers(0, sizes[-1], n)


@pytest.mark.question("q6")
def test_init_mlp_layout(submission):
    params = submission.call("init_mlp", [3, 7, 4, 2], np.random.default_rng(0))
    expected = {"W1": (3, 7), "b1": (7,), "W2": (7, 4), "b2": (4,), "W3": (4, 2), "b3": (2,)}
    assert isinstance(params, dict) and set(params) == set(expected), (
        f"init_mlp([3, 7, 4, 2], rng) should return the keys {sorted(expected)}, got "
        f"{sorted(params) if isinstance(params, dict) else type(params).__name__}")
    for key, shape in expected.items():
        assert getattr(params[key], "shape", None) == shape, (
            f"init_mlp([3, 7, 4, 2], rng)[{key!r}] should have shape {shape}, got "
            f"{getattr(params[key], 'shape', type(params[key]).__name__)}")
        if key.startswith("b"):
            assert not np.any(params[key]), f"init_mlp: biases start at zero; {key} does not"


@pytest.mark.question("q6")
@pytest.mark.points(2)
def test_init_mlp_is_he_normal(submission, rng):
    sizes = [256, 512, 384, 10]
    params = submission.call("init_mlp", sizes, np.random.default_rng(rng.integers(2**32)))
    assert isinstance(params, dict), (
        f"init_mlp({sizes}, rng) should return a dict, got {type(params).__name__}")
    for key, fan_in, fan_out in (("W1", 256, 512), ("W2", 512, 384)):
        std = np.sqrt(2.0 / fan_in)
        what = f"init_mlp({sizes})[{key!r}] (He normal, fan_in {fan_in}: N(0, 2 / {fan_in}))"
        weights = params.get(key)
        assert isinstance(weights, np.ndarray) and weights.shape == (fan_in, fan_out) and \
            weights.dtype.kind == "f", (
                f"{what} should be a float array of shape {(fan_in, fan_out)}, got "
                f"{getattr(weights, 'shape', type(weights).__name__)} "
                f"{getattr(weights, 'dtype', '')}".rstrip())
        assert_moments(weights, 0.0, std, what)
        assert_distribution(weights, stats.norm(0.0, std).cdf, what,
                            "a normal distribution N(0, 2 / fan_in)")


@pytest.mark.question("q6")
def test_init_mlp_uses_only_the_given_generator(submission):
    first, second, untouched = submission.run(scenarios.global_state_untouched, "init_mlp",
                                              [5, 4, 3], np.random.default_rng(7))
    assert untouched, "init_mlp changed numpy's global random state: draw from rng only"
    for key in first:
        assert np.array_equal(first[key], second[key]), (
            f"init_mlp gave different {key} for two generators with the same seed: draw from "
            "the rng argument only")


# ---------------------------------------------------------------- the student's own layers

def own_forward(submission, params, X):
    """The network's forward pass through the student's linear_forward and relu_forward:
    the input and the output of each linear layer."""
    layers = len(params) // 2
    inputs, outputs, h = [], [], X
    for i in range(1, layers + 1):
        z, _ = submission.run(scenarios.forward, "linear", [h, params[f"W{i}"], params[f"b{i}"]])
        inputs.append(h)
        outputs.append(np.asarray(z, dtype=float))
        h = np.asarray(submission.run(scenarios.forward, "relu", [z])[0], dtype=float) \
            if i < layers else outputs[-1]
    return inputs, outputs


def own_mlp_loss(submission, params, X, y):
    """What mlp_loss gives when built as the handout says from the student's own layers
    (each called in the student's process): softmax_cross_entropy of the forward pass, then
    the backward functions in reverse order."""
    layers = len(params) // 2
    inputs, outputs = own_forward(submission, params, X)
    loss, dh = submission.call("softmax_cross_entropy", outputs[-1], y)
    grads = {}
    for i in range(layers, 0, -1):
        if i < layers:
            dh = submission.run(scenarios.layer, "relu", [outputs[i - 1]], dh)[1]
        _, (dh, dW, db), *_ = submission.run(scenarios.layer, "linear", [inputs[i - 1],
                                             params[f"W{i}"], params[f"b{i}"]], dh)
        grads[f"W{i}"], grads[f"b{i}"] = dW, db
    return loss, grads


def matches(loss, grads, expected_loss, expected_grads) -> bool:
    try:
        assert_close(loss, expected_loss, "loss")
        for key, value in expected_grads.items():
            assert_close(grads[key], value, key)
    except AssertionError:
        return False
    return True


def own_layers_change_inputs(submission, params, X) -> bool:
    """Whether linear_forward/linear_backward change x (then mlp_loss would change X through
    them: that mistake is q3's)."""
    dout = np.ones((len(X), params["W1"].shape[1]))
    try:
        _, _, _, after, _ = submission.run(scenarios.layer, "linear",
                                           [X, params["W1"], params["b1"]], dout)
    except WorkerError:
        return True
    return not all(np.array_equal(a, b) for a, b in zip(after, [X, params["W1"], params["b1"]],
                                                         strict=True))


def same_failure(error: StudentError, again) -> bool:
    """Whether running the student's own layers (``again``, a function of no argument) fails
    at the same line, with the same error, as ``error``: then that layer is to blame."""
    try:
        again()
    except StudentError as own:
        return bool(error.where) and own.where[-1:] == error.where[-1:] and str(own) == str(error)
    except (WorkerError, AssertionError, TypeError, ValueError, IndexError):
        return False
    return False


def check_mlp_loss(submission, reference, sizes, params, X, y):
    what = f"mlp_loss for sizes {sizes} and a batch of {len(y)}"
    try:
        value, after = submission.call_with_inputs("mlp_loss", params, X, y)
    except StudentError as error:
        if same_failure(error, lambda: own_mlp_loss(submission, params, X, y)):
            return  # one of the student's layers raises: charged in its own question
        raise
    changed = [key for key in sorted(params) if not np.array_equal(params[key], after[0].get(key))]
    changed += [name for name, before, now in (("X", X, after[1]), ("y", y, after[2]))
                if not np.array_equal(before, now)]
    if changed and not own_layers_change_inputs(submission, params, X):
        raise AssertionError(f"{what} changed its argument {changed[0]} in place: leave params, "
                             f"X and y as they are")
    assert isinstance(value, (tuple, list)) and len(value) == 2, (
        f"{what} should return (loss, grads)")
    loss, grads = value
    assert isinstance(grads, dict) and set(grads) == set(params), (
        f"{what} should return grads with the keys of params {sorted(params)}, got "
        f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}")
    expected_loss, expected_grads = reference.mlp_loss(params, X, y)
    if matches(loss, grads, expected_loss, expected_grads):
        for key in sorted(params):

            def loss_of(value, key=key):
                return reference.mlp_loss({**params, key: value}, X, y)[0]

            assert_close(grads[key], numerical_gradient(loss_of, params[key]),
                         f"{what}: grads[{key!r}] against finite differences",
                         FINITE_DIFFERENCE)
        return
    try:
        own_loss, own_grads = own_mlp_loss(submission, params, X, y)
    except (WorkerError, AssertionError, TypeError, ValueError, IndexError):
        own_loss = None
    if own_loss is not None and matches(loss, grads, own_loss, own_grads):
        return  # the student's layers are wrong, and charged in their own questions
    assert_close(loss, expected_loss, f"{what}: the loss")
    for key in sorted(params):
        assert_close(grads[key], expected_grads[key],
                     f"{what}: grads[{key!r}] (it is neither the true gradient nor what your "
                     f"own layers give when put together: linear and relu forward, "
                     f"softmax_cross_entropy, then relu and linear backward in reverse order)")


@pytest.mark.question("q6")
@pytest.mark.points(3)
def test_mlp_loss_and_gradients(submission, reference, rng):
    for sizes, n in ((SMALL, 7), ([3, 8, 4], 5)):
        params, X, y = small_problem(reference, rng, sizes, n)
        check_mlp_loss(submission, reference, sizes, params, X, y)


@pytest.mark.question("q7")
def test_sgd_step(submission, reference, rng):
    params, X, y = small_problem(reference, rng)
    _, grads = reference.mlp_loss(params, X, y)
    lr = float(rng.uniform(0.05, 0.5))
    updated, after = submission.call_with_inputs("sgd_step", params, grads, lr)
    for name, given, now in (("params", params, after[0]), ("grads", grads, after[1])):
        for key in sorted(given):
            assert isinstance(now, dict) and np.array_equal(given[key], now.get(key)), (
                f"sgd_step changed {name}[{key!r}] in place: return new arrays "
                f"(param - lr * grad) and leave params and grads as they are")
    expected = reference.sgd_step(params, grads, lr)
    assert isinstance(updated, dict) and set(updated) == set(expected), (
        "sgd_step should return a dict with the keys of params")
    for key in sorted(expected):
        assert_close(updated[key], expected[key], f"sgd_step(params, grads, lr={lr:.3g})[{key!r}] "
                     "(a step against the gradient: param - lr * grad)")


@pytest.mark.question("q7")
def test_predict(submission, reference, rng):
    params, X, _ = small_problem(reference, rng, n=12)
    try:
        labels = submission.call("predict", params, X)
    except StudentError as error:
        if same_failure(error, lambda: own_forward(submission, params, X)):
            return  # one of the student's layers raises: charged in its own question
        raise
    assert isinstance(labels, np.ndarray) and labels.dtype.kind in "iu", (
        f"predict should return an integer array, got {getattr(labels, 'dtype', type(labels))}")
    expected = reference.predict(params, X)
    if labels.shape == expected.shape and np.array_equal(labels, expected):
        return
    try:  # predict may use the student's own forward layers: their mistakes are not q7's
        _, outputs = own_forward(submission, params, X)
        own = np.argmax(outputs[-1], axis=1)
    except (WorkerError, TypeError, ValueError, IndexError):
        own = None
    if own is not None and labels.shape == own.shape and np.array_equal(labels, own):
        return
    assert_close(labels, expected, "predict(params, X): the class with the largest score")


# ---------------------------------------------------------------- train

ROWS, BATCH, EPOCHS, LR = 100, 32, 3, 0.5
STEPS = EPOCHS * math.ceil(ROWS / BATCH)
COLUMNS = STEPS + 4  # room to record a few steps too many


def training_record(params) -> dict | None:
    """What the stand-ins recorded in the parameters train returned (None: nothing)."""
    shapes = {"W1": (2, ROWS), "b1": (ROWS,), "W2": (ROWS, COLUMNS), "b2": (COLUMNS,)}
    if not (isinstance(params, dict) and set(params) == set(shapes)
            and all(np.shape(params[key]) == shape for key, shape in shapes.items())):
        return None
    steps = -float(params["b1"][0]) / LR
    if steps == 0:
        return None
    return {"steps": steps, "visits": np.rint(-np.asarray(params["W2"], dtype=float) / LR),
            "mislabelled": -float(params["W1"][0, 0]) / LR}


def training_problems(record, first, second, X, y, X_after, y_after, untouched) -> list[str]:
    """Everything wrong with the loop of train, from what the stand-ins recorded."""
    problems = []
    if not np.array_equal(X, X_after) or not np.array_equal(y, y_after):
        problems.append("it changed X or y in place: shuffle an array of indices, not the data")
    if not untouched:
        problems.append("it changed numpy's global random state: draw every random number "
                        "from rng, never from np.random")
    if not all(np.array_equal(first[key], second.get(key) if isinstance(second, dict) else None)
               for key in first):
        problems.append("two generators with the same seed gave different results: draw "
                        "every random number from rng")
    if record["steps"] < 0:
        problems.append(f"b1[0] grew to {-record['steps'] * LR:g} where the stand-in "
                        f"mlp_loss's gradient of 1 per step should make it fall: the steps go "
                        f"along the gradient, not against it (param - lr * grad)")
    elif record["steps"] != STEPS:
        problems.append(f"it took {record['steps']:g} steps of sgd_step with mlp_loss's "
                        f"gradients, where {EPOCHS} epochs of {ROWS} rows in batches of {BATCH} "
                        f"take {STEPS} (the last batch of each epoch has {ROWS % BATCH} rows)")
    if record["mislabelled"]:
        problems.append(f"{record['mislabelled']:g} rows reached mlp_loss with a label that "
                        f"is not theirs: index X and y with the same rows")
    visits = record["visits"][:, :STEPS]
    sizes = visits.sum(axis=0)
    if np.any(sizes > BATCH):
        problems.append(f"a batch of {sizes.max():g} rows: batches have at most batch_size = "
                        f"{BATCH} rows")
    if record["steps"] != STEPS:
        counts = record["visits"].sum(axis=1)
        if np.any(counts != EPOCHS) and record["steps"] <= COLUMNS:
            row = int(np.argmax(counts != EPOCHS))
            problems.append(f"row {row} was used {counts[row]:g} times in {EPOCHS} epochs: "
                            f"every epoch uses every row exactly once (the last, smaller batch "
                            f"included)")
        return problems
    per_epoch = STEPS // EPOCHS
    blocks = [visits[:, e * per_epoch:(e + 1) * per_epoch] for e in range(EPOCHS)]
    for e, block in enumerate(blocks):
        counts = block.sum(axis=1)
        if np.any(counts != 1):
            row = int(np.argmax(counts != 1))
            problems.append(f"in epoch {e + 1}, row {row} was used {counts[row]:g} times: "
                            f"every epoch uses every row exactly once")
            break
    if all(np.array_equal(b, blocks[0]) for b in blocks[1:]):
        problems.append("every epoch used the same batches in the same order: draw a new "
                        "random order from rng in each epoch")
    return problems


@pytest.mark.question("q7")
@pytest.mark.points(3)
def test_training(submission, reference, rng):
    y = rng.integers(0, 3, ROWS)
    X = np.c_[np.arange(ROWS, dtype=float), y.astype(float)]  # row numbers and labels
    first, second, X_after, y_after, untouched = submission.run(
        scenarios.train_with_stand_ins, X, y, [2, ROWS, COLUMNS], LR, EPOCHS, BATCH,
        int(rng.integers(2**32)), _timeout=30)
    record = training_record(first)
    if record is not None:
        problems = training_problems(record, first, second, X, y, X_after, y_after, untouched)
        assert not problems, (
            f"train(X, y, sizes, lr={LR}, epochs={EPOCHS}, batch_size={BATCH}, rng) on {ROWS} "
            f"rows, with stand-ins of the test for init_mlp and mlp_loss (so that only train "
            f"is graded here):\n- " + "\n- ".join(problems))
        return
    # The stand-ins recorded nothing: train does not call init_mlp and mlp_loss by these
    # names. Judge it by what it reaches on the spiral instead.
    X, y = reference.make_spiral(100, 3, np.random.default_rng(rng.integers(2**32)))
    params = submission.call("train", X, y, [2, 64, 3], 0.5, 200, 32,
                             np.random.default_rng(rng.integers(2**32)), _timeout=60)
    assert isinstance(params, dict) and set(params) == {"W1", "b1", "W2", "b2"}, (
        "train should return the trained parameters as a dict like init_mlp's")
    accuracy = float(np.mean(reference.predict(params, X) == y))
    assert accuracy >= 0.9, (
        f"after train(X, y, [2, 64, 3], lr=0.5, epochs=200, batch_size=32, rng) on the spiral, "
        f"the training accuracy is {accuracy:.1%}; the reference reaches 96% or more (train "
        f"did not take its gradients from init_mlp and mlp_loss called by these names, so "
        f"the test could only check where it gets)")
