"""Nothing the hidden suites ship into the student's worker carries an answer.

What ``submission.run`` and ``submission.call`` send to the worker (functions with their
closures, defaults and globals, helper modules by value, arguments) is readable and writable
by student code there. Three parts:

- the publish gate (``grader/authoring/shipping.py``) passes on the kit's frozen assignments
  (and on every assignment of the course: a course check, tests/course), and fails, naming
  the test and the path to the offending object, on suites that ship an object with a
  ``jacobian`` method, a closure over a reference function, a call counter, a class instance
  as a default, or the grader's own code; ``dlgrade publish``
  refuses to publish such a suite;
- a hostile corpus graded end to end by the real ``dlgrade run``: code that walks everything
  reachable from what the worker receives (arguments, closures, defaults, globals, frames up
  the stack, generators' frames, the heap through ``gc``) for anything with a ``jacobian``,
  ``derivative``, ``gradient`` or ``value`` method and returns what it computes, scores
  exactly what the blank notebook scores; a jvp that calls f twice, with every counter-looking
  thing reset, ``len`` patched, shipped wrappers' ``__code__`` replaced, or its second pass run
  on a fresh copy of f, scores no more than that bug does untouched;
- the same attacks against a deliberately leaky suite (the old shapes: oracles with methods,
  a counter list in the worker) do gain points: they are real attacks, and the gate flags
  that suite.
"""

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import FIXTURES, fixture_copy, grade_json, write_notebook

from grader.authoring.publishing import Report, check_shipping
from grader.authoring.shipping import inspect_suite
from grader.core.settings import load_assignment

# Frozen copies of two of the course's assignments (tests/fixtures): the attacks below are
# written against their functions. The gate on the course's own assignments, whatever they
# are, is a course check (tests/course).
FORWARD_MODE = FIXTURES / "assignments" / "forward_mode"
GRADCHECK = FIXTURES / "assignments" / "gradcheck"
SOLUTIONS = FIXTURES / "solutions"
TWO_PASSES = FORWARD_MODE / "examples" / "bug_jvp_two_passes.ipynb"


@pytest.fixture
def forward_blank(fixture_course) -> Path:
    return fixture_course / "student_template" / "forward_mode" / "forward_mode.ipynb"


@pytest.fixture
def gradcheck_blank(fixture_course) -> Path:
    return fixture_course / "student_template" / "gradcheck" / "gradcheck.ipynb"

# ---------------------------------------------------------------- the attacks

# Everything reachable from what the worker received, and the oracles found there.
WALK = r'''
import builtins, copy, gc, inspect, sys, types
import numpy as np

ORACLES = ("jacobian", "derivative", "gradient", "value")
COUNTER_WORDS = ("call", "count", "used", "tally", "hits", "seen", "times", "passes")
_LIMIT = 40_000


def _is_ours(obj):
    """Objects defined in this notebook's cells: not worth digging in."""
    target = getattr(obj, "__func__", obj)
    code = getattr(target, "__code__", None)
    return code is not None and code.co_filename.startswith("<code cell")


def _shipped_module(module):
    """A module that arrived by value (cloudpickle builds it; the import system never saw it)."""
    return sys.modules.get(getattr(module, "__name__", None)) is not module


def _children(obj):
    """Everything one step away from obj that a pickled shipment or a frame can hold."""
    if isinstance(obj, (str, bytes, int, float, complex, bool, type(None), np.ndarray,
                        np.generic)):
        return []
    if isinstance(obj, types.ModuleType):
        return list(vars(obj).values()) if _shipped_module(obj) else []
    out = []
    if isinstance(obj, dict):
        return list(obj.keys()) + list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, types.CellType):
        try:
            return [obj.cell_contents]
        except ValueError:
            return []
    if isinstance(obj, types.FrameType):
        return [obj.f_locals, obj.f_back, obj.f_code]
    if isinstance(obj, types.GeneratorType):
        frame = obj.gi_frame
        return [frame.f_locals] if frame is not None else []
    if isinstance(obj, types.FunctionType):
        out += [obj.__closure__ or (), obj.__defaults__ or (), obj.__kwdefaults__ or {},
                obj.__dict__]
        module = sys.modules.get(obj.__module__)
        if module is None or getattr(module, "__dict__", None) is not obj.__globals__:
            names = set(obj.__code__.co_names)
            for const in obj.__code__.co_consts:
                if isinstance(const, types.CodeType):
                    names |= set(const.co_names)
            out += [obj.__globals__[n] for n in names if n in obj.__globals__]
        return out
    if isinstance(obj, (types.MethodType, types.BuiltinMethodType)):
        return [getattr(obj, "__self__", None), getattr(obj, "__func__", None)]
    if isinstance(obj, type):
        if obj.__module__ in sys.modules:
            return []
        return list(vars(obj).values())
    try:
        out += list(vars(obj).values())
    except TypeError:
        pass
    out.append(type(obj))
    for name in ORACLES:
        try:
            out.append(getattr(obj, name))
        except Exception:
            pass
    return out


def reachable(*roots):
    """Breadth first over everything reachable from the roots, each object once."""
    seen, queue, found = set(), list(roots), []
    while queue and len(found) < _LIMIT:
        obj = queue.pop(0)
        if id(obj) in seen or _is_ours(obj):
            continue
        seen.add(id(obj))
        found.append(obj)
        try:
            queue.extend(_children(obj))
        except Exception:
            pass
    return found


def everything(*roots):
    """The arguments, every frame up the stack, and every shipped object on the heap."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames += [info.frame for info in inspect.getouterframes(inspect.currentframe(), 0)]
    heap = [o for o in gc.get_objects()
            if not isinstance(o, (type, types.ModuleType, types.FunctionType))
            and getattr(type(o), "__module__", "builtins") not in sys.modules]
    return reachable(*roots, *frames, *heap)


def oracles(name, *roots):
    """Every callable `name` (jacobian, derivative, gradient, value) found from the roots."""
    found = []
    for obj in reachable(*roots) + everything(*roots):
        if isinstance(obj, (type, types.ModuleType)):
            continue
        try:
            method = getattr(obj, name, None)
        except Exception:
            continue
        if callable(method) and not _is_ours(method) and not isinstance(method, type):
            found.append(method)
    return found


def ask(name, roots, *args):
    """What the first working oracle `name` computes at args; the blank's error if none."""
    for oracle in oracles(name, *roots):
        try:
            value = oracle(*args)
            if np.all(np.isfinite(np.asarray(value, dtype=float))):
                return value
        except Exception:
            continue
    raise NotImplementedError(f"no {name} reachable")
'''

# derivative, jvp, jacobian from dug-out oracles (the blank's error when there are none).
DIG_FORWARD = r'''
class _Pair:
    # Just enough of a dual number for a map to build its outputs: the answer comes from the
    # oracle; calling f only makes the calls any counter expects.
    def __init__(self, value, deriv=0.0):
        self.value, self.deriv = value, deriv


def _calls(f, *points):
    for point in points:
        try:
            f(point)
        except Exception:
            pass


def derivative(f, x):
    exact = float(ask("derivative", (f, x), x))
    _calls(f, _Pair(x, 1.0))
    return exact


def jvp(f, x, v):
    point, direction = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
    value = np.atleast_1d(np.asarray(ask("value", (f, x, v), point), dtype=float))
    J = np.asarray(ask("jacobian", (f, x, v), point), dtype=float).reshape(value.size, -1)
    _calls(f, [_Pair(a, b) for a, b in zip(x, v)])
    return value, J @ direction


def jacobian(f, x):
    point = np.asarray(x, dtype=float)
    J = np.atleast_2d(np.asarray(ask("jacobian", (f, x), point), dtype=float))
    _calls(f, *[[_Pair(a, float(i == j)) for i, a in enumerate(x)] for j in range(len(x))])
    return J
'''

# The functions of gradcheck from dug-out oracles (the blank's error when there are none).
DIG_GRADCHECK = r'''
def forward_difference(f, x, h):
    return float(ask("derivative", (f, x, h), x))


def centered_difference(f, x, h):
    return float(ask("derivative", (f, x, h), x))


def numerical_gradient(f, x, h=1e-6):
    return np.asarray(ask("gradient", (f, x), x), dtype=float)


def numerical_jacobian(f, x, h=1e-6):
    return np.atleast_2d(np.asarray(ask("jacobian", (f, x), x), dtype=float))


def gradcheck(f, grad_f, x, h=1e-6, atol=1e-6, rtol=1e-4):
    exact = np.asarray(ask("gradient", (f, grad_f, x), x), dtype=float)
    return bool(np.allclose(grad_f(x), exact, rtol=1e-9, atol=0.0))


def convergence_order(f, df, x, hs, method):
    exact = ask("derivative", (f, df, x), x)
    raise NotImplementedError(f"found a derivative ({exact}) but no order")
'''

# Resetting counters, patching len, replacing shipped code, copying shipped functions.
TAMPER = r'''
_len = builtins.len


def _counter_list(obj):
    return type(obj) is list and _len(obj) > 1 and all(type(e) in (int, bool) for e in obj)


def _looks_like_a_counter(name):
    return isinstance(name, str) and any(word in name.lower() for word in COUNTER_WORDS)


def _len_of_one_pass(obj):
    """len, except that a list of ones (a call counter) says one call."""
    if _counter_list(obj) and all(e == 1 for e in obj):
        return 1
    return _len(obj)


def reset_counters(*roots):
    """Truncate, reset or zero every counter-looking thing reachable from the roots."""
    builtins.len = _len_of_one_pass
    for obj in everything(*roots):
        try:
            if _counter_list(obj):
                del obj[1:]
            elif type(obj) is dict:
                for key, value in list(obj.items()):
                    if _looks_like_a_counter(key) and type(value) is int:
                        obj[key] = min(value, 1)
            elif isinstance(obj, types.FunctionType) and obj.__closure__:
                for name, cell in zip(obj.__code__.co_freevars, obj.__closure__):
                    value = cell.cell_contents
                    if _looks_like_a_counter(name) and type(value) is int:
                        cell.cell_contents = min(value, 1)
                    elif _counter_list(value):
                        del value[1:]
            elif isinstance(obj, types.GeneratorType) and obj.gi_frame is not None:
                for key, value in obj.gi_frame.f_locals.items():
                    if _looks_like_a_counter(key) and type(value) is int:
                        obj.gi_frame.f_locals[key] = min(value, 1)
            elif hasattr(obj, "__dict__") and not isinstance(obj, (type, types.ModuleType)):
                for key, value in list(vars(obj).items()):
                    if _looks_like_a_counter(key) and type(value) is int:
                        setattr(obj, key, min(value, 1))
        except Exception:
            pass


def _pass_through(function):
    """Code for `function` that calls the first callable of its closure and nothing else."""
    names = function.__code__.co_freevars
    callee = next((name for name, cell in zip(names, function.__closure__)
                   if callable(cell.cell_contents) and not isinstance(cell.cell_contents, type)),
                  None)
    if callee is None:
        return None
    source = ("def outer():\n" + "".join(f"    {name} = None\n" for name in names)
              + "    def inner(*args, **kwargs):\n"
              + f"        ({', '.join(names)},)\n"
              + f"        return {callee}(*args, **kwargs)\n    return inner\n")
    scope = {}
    exec(source, scope)
    code = scope["outer"]().__code__
    return code if code.co_freevars == names else None


def strip_bookkeeping(*roots):
    """Replace the __code__ of every shipped wrapper by a pass-through to what it wraps."""
    for obj in everything(*roots):
        if isinstance(obj, types.FunctionType) and obj.__closure__ and not _is_ours(obj) \
                and obj.__module__ not in sys.modules:
            try:
                code = _pass_through(obj)
                if code is not None:
                    obj.__code__ = code
            except Exception:
                pass


def fresh_copy(f):
    """f with copies of its closure, defaults and state: a call that leaves f untouched."""
    if isinstance(f, types.FunctionType):
        cells = tuple(types.CellType(copy.deepcopy(c.cell_contents)) for c in f.__closure__ or ())
        return types.FunctionType(f.__code__, f.__globals__, f.__name__,
                                  copy.deepcopy(f.__defaults__), cells or None)
    owner = getattr(f, "__self__", None)
    if isinstance(owner, types.GeneratorType) and owner.gi_frame is not None:
        try:  # a generator-backed map: start another from its code and its arguments
            code, frame = owner.gi_code, owner.gi_frame
            arguments = [copy.deepcopy(frame.f_locals[name])
                         for name in code.co_varnames[:code.co_argcount]]
            fresh = types.FunctionType(code, frame.f_globals)(*arguments)
            next(fresh)
            return getattr(fresh, f.__name__)
        except Exception:
            return f
    try:
        return copy.deepcopy(f)
    except Exception:
        return f
'''

# The known bug (two passes of f), tampering between and after them.
TAMPERED_JVP = r'''
def jvp(f, x, v):
    """The bug (two passes), with the counters reset after each pass."""
    roots = (f, x, v)
    f([Dual(xi) for xi in x])  # a first pass for the values, which one pass already gives
    reset_counters(*roots)
    strip_bookkeeping(*roots)
    outputs = f([Dual(xi, vi) for xi, vi in zip(x, v, strict=True)])
    reset_counters(*roots)
    outputs = [Dual.lift(y) for y in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    return (np.array([y.value for y in outputs], dtype=float),
            np.array([y.deriv for y in outputs], dtype=float))
'''

# The known bug, its second pass on a fresh copy of f.
COPIED_JVP = r'''
def jvp(f, x, v):
    """The bug (two passes), its second pass on a pristine copy of f taken before the first."""
    pristine = fresh_copy(f)
    f([Dual(xi) for xi in x])  # a first pass for the values, which one pass already gives
    outputs = pristine([Dual(xi, vi) for xi, vi in zip(x, v, strict=True)])
    outputs = [Dual.lift(y) for y in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    return (np.array([y.value for y in outputs], dtype=float),
            np.array([y.deriv for y in outputs], dtype=float))
'''


def with_cells(base: Path, cells: list[str], path: Path) -> Path:
    """The notebook ``base`` with ``cells`` appended (they replace its functions)."""
    notebook = json.loads(base.read_text())
    notebook["cells"] += [{"cell_type": "code", "id": f"attack-{i}", "metadata": {},
                           "execution_count": None, "outputs": [], "source": source}
                          for i, source in enumerate(cells)]
    path.write_text(json.dumps(notebook))
    return path


def per_question(result: dict) -> dict[str, float]:
    return {question: entry["score"] for question, entry in result["questions"].items()}


def raised_by_the_attack(result: dict) -> bool:
    """The attack's own cells ran (its error, not the blank's, is what failed the tests)."""
    return any("reachable" in test["message"] for test in result["tests"])


# ---------------------------------------------------------------- the gate on the course

def test_publishing_reports_the_gate():
    report = Report()
    check_shipping(load_assignment(str(GRADCHECK)), report)
    assert report.problems == []
    assert report.lines[0].startswith("ok    nothing shipped to the worker carries an answer (")


# ---------------------------------------------------------------- the gate on bad suites

TINY_REFERENCE = """
import numpy as np


def derivative(f, x):
    h = 1e-6
    return (f(x + h) - f(x - h)) / (2 * h)


def slope(x):
    return 2 * x
"""

BAD_SUITES = {
    "an object with a jacobian method": ({
        "helpers.py": """
            import numpy as np


            class Map:
                def __init__(self, W):
                    self.W = W

                def __call__(self, x):
                    return np.tanh(self.W @ x)

                def jacobian(self, x):
                    return (1 - np.tanh(self.W @ x) ** 2)[:, None] * self.W


            def apply(namespace, f, x):
                return namespace["derivative"](lambda t: float(np.sum(f(x * t))), 1.0)
            """,
        "test_map.py": """
            import numpy as np
            import pytest
            from helpers import Map, apply


            @pytest.mark.question("q1")
            def test_map(submission):
                submission.run(apply, Map(np.eye(2)), np.ones(2))
            """}, [
        "test_map.py::test_map ships run(apply): argument 1 holds a Map instance, whose class "
        "has method jacobian"]),
    "a closure over a reference function": ({
        "test_reference.py": """
            import pytest


            @pytest.mark.question("q1")
            def test_reference_function(submission, reference):
                slope = reference.slope
                submission.run(lambda ns, x: ns["derivative"](slope, x), 1.5)
            """}, [
        "test_reference.py::test_reference_function ships "
        "run(test_reference_function.<locals>.<lambda>): the function -> closure `slope` of "
        "test_reference_function.<locals>.<lambda> holds slope, a function of the reference "
        "solution"]),
    "a counter list": ({
        "helpers.py": """
            def counted(namespace, name, function, *args):
                calls = []

                def wrapper(*inner):
                    calls.append(1)
                    return function(*inner)

                return namespace[name](wrapper, *args), len(calls)


            def square(t):
                return t * t
            """,
        "test_count.py": """
            import pytest
            from helpers import counted, square


            @pytest.mark.question("q1")
            def test_counted(submission):
                submission.run(counted, "derivative", square, 1.5)


            @pytest.mark.question("q1")
            def test_counting_closure(submission):
                seen = [0]

                def f(t):
                    seen[0] += 1
                    return t * t

                submission.call("derivative", f, 1.5)
            """}, [
        "test_count.py::test_counted ships run(counted): the function holds the function "
        "counted, where counted.<locals>.wrapper changes `calls`, which it shares with the "
        "function that encloses it (.append): a counter or flag kept in the worker",
        "test_count.py::test_counting_closure ships call('derivative'): argument 1 holds the "
        "function test_counting_closure.<locals>.f, where test_counting_closure.<locals>.f "
        "changes `seen`, which it shares with the function that encloses it (item "
        "assignment)"]),
    "a class instance default": ({
        "test_default.py": """
            import pytest


            class Parabola:
                def __call__(self, t):
                    return t * t

                def derivative(self, t):
                    return 2 * t


            def probe(namespace, x, f=Parabola()):
                return namespace["derivative"](f, x)


            @pytest.mark.question("q1")
            def test_default(submission):
                submission.run(probe, 1.5)
            """}, [
        "test_default.py::test_default ships run(probe): the function -> default `f` of probe "
        "holds a Parabola instance, whose class has method derivative"]),
    "the reference module, and a reference function inside a library object": ({
        "test_wrapped.py": """
            import functools

            import pytest


            @pytest.mark.question("q1")
            def test_module(submission, reference):
                submission.run(lambda ns, x: reference.derivative(ns["slope"], x), 1.5)


            @pytest.mark.question("q1")
            def test_partial(submission, reference):
                submission.call("derivative", functools.partial(reference.slope), 1.5)
            """}, [
        "test_wrapped.py::test_module ships run(test_module.<locals>.<lambda>): the function "
        "-> closure `reference` of test_module.<locals>.<lambda> holds the reference solution "
        "(module dlgrade_reference_tiny)",
        "test_wrapped.py::test_partial ships call('derivative'): argument 1 holds an object of "
        "type functools.partial",
        "test_wrapped.py::test_partial ships call('derivative'): the pickled shipment holds the "
        "function dlgrade_reference_tiny.slope"]),
    "the grader's own code": ({
        "test_borrowed.py": """
            import numpy as np
            import pytest

            from grader.numerics import numerical_gradient


            def total(x):
                return float(np.sum(x))


            @pytest.mark.question("q1")
            def test_borrowed(submission):
                submission.run(lambda ns: numerical_gradient(total, np.ones(2)))
            """}, [
        "test_borrowed.py::test_borrowed ships run(test_borrowed.<locals>.<lambda>): the "
        "function -> global `numerical_gradient` of test_borrowed.<locals>.<lambda> holds "
        "grader.core.numerics.numerical_gradient, the grader's own code"]),
}


def write_suite(folder: Path, files: dict[str, str]) -> tuple[Path, Path]:
    tests = folder / "tests"
    tests.mkdir()
    for name, text in files.items():
        (tests / name).write_text(textwrap.dedent(text))
    reference = folder / "solutions" / "tiny.py"
    reference.parent.mkdir()
    reference.write_text(TINY_REFERENCE)
    return tests, reference


@pytest.mark.parametrize("files, expected", BAD_SUITES.values(), ids=BAD_SUITES)
def test_the_gate_fails_a_suite_that_ships_an_answer(tmp_path, files, expected):
    found = inspect_suite(*write_suite(tmp_path, files))
    assert found.error is None, found.error
    for start in expected:
        assert any(problem.startswith(start) for problem in found.problems), (
            start, found.problems)


def test_the_gate_passes_plain_functions_over_inputs(tmp_path):
    found = inspect_suite(*write_suite(tmp_path, {
        "helpers.py": """
            import numpy as np


            def cubic(c):
                def polynomial(t):
                    return c[0] + t * (c[1] + t * c[2])

                return polynomial


            def through(namespace, name, c, x):
                return namespace[name](cubic(c), x)
            """,
        "test_plain.py": """
            import numpy as np
            import pytest
            from helpers import cubic, through


            @pytest.mark.question("q1")
            def test_plain(submission, reference):
                c = np.array([1.0, -2.0, 0.5])
                submission.call("derivative", cubic(c), 0.3)
                submission.run(through, "derivative", c, 0.3)
                submission.run(lambda ns, gen: ns["derivative"](cubic(c), 0.3),
                               np.random.default_rng(0))
            """}))
    assert (found.error, found.problems, found.shipments, found.not_passed) == (None, [], 3, [])


def test_publishing_refuses_a_suite_that_ships_an_answer(tmp_path):
    fixture_copy(tmp_path, "gradcheck")
    leaky = tmp_path / "assignments" / "gradcheck" / "tests" / "test_differences.py"
    leaky.write_text(leaky.read_text() + textwrap.dedent('''

        class Parabola:
            def __call__(self, t):
                return t * t

            def derivative(self, t):
                return 2 * t


        @pytest.mark.question("q1")
        def test_leaky(submission):
            submission.call("centered_difference", Parabola(), 1.0, 1e-3)
        '''))
    done = subprocess.run(["dlgrade", "publish", "--draws", "1", "gradcheck"],
                          cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("FAIL  test_differences.py::test_leaky ships call('centered_difference'): argument 1 "
            "holds a Parabola instance, whose class has method derivative") in done.stdout
    assert "gradcheck: NOT published" in done.stdout
    assert not (tmp_path / "student_template").exists()


# ---------------------------------------------------------------- the hostile corpus

def test_digging_for_forward_mode_oracles_scores_what_the_blank_scores(tmp_path, forward_blank):
    blank = grade_json(forward_blank, FORWARD_MODE)
    attack = grade_json(with_cells(forward_blank, [WALK, DIG_FORWARD], tmp_path / "dig.ipynb"),
                        FORWARD_MODE)
    assert raised_by_the_attack(attack)
    assert attack["score"] == blank["score"] == 0
    assert per_question(attack) == per_question(blank)


def test_digging_for_gradcheck_oracles_scores_what_the_blank_scores(tmp_path, gradcheck_blank):
    blank = grade_json(gradcheck_blank, GRADCHECK)
    attack = grade_json(with_cells(gradcheck_blank, [WALK, DIG_GRADCHECK],
                                   tmp_path / "dig.ipynb"), GRADCHECK)
    assert raised_by_the_attack(attack)
    assert attack["score"] == blank["score"] == 0
    assert per_question(attack) == per_question(blank)


@pytest.fixture(scope="module")
def two_passes() -> dict:
    """The known bug, untouched: jvp calls f twice."""
    return grade_json(TWO_PASSES, FORWARD_MODE)


@pytest.mark.parametrize("jvp", [TAMPERED_JVP, COPIED_JVP], ids=["reset", "fresh-copy"])
def test_tampering_with_call_counts_earns_the_bug_nothing(tmp_path, two_passes, jvp):
    tampered = grade_json(with_cells(TWO_PASSES, [WALK, TAMPER, jvp], tmp_path / "t.ipynb"),
                          FORWARD_MODE)
    assert tampered["score"] <= two_passes["score"] < two_passes["max_score"]
    bug, now = per_question(two_passes), per_question(tampered)
    assert all(now[question] <= bug[question] for question in bug), (now, bug)
    assert now["q5"] < tampered["questions"]["q5"]["max_score"]
    messages = " ".join(test["message"] for test in tampered["tests"])
    assert "called f more than once" in messages  # the two passes were seen, tampering or not


# ---------------------------------------------------------------- the attacks are real

LEAKY_FORWARD = """
import numpy as np
import pytest

from grader.numerics import assert_close


class Map:
    def __init__(self, W):
        self.W = W

    def __call__(self, duals):
        make = type(duals[0])
        x = np.array([float(d.value) for d in duals])
        dx = np.array([float(d.deriv) for d in duals])
        y = np.tanh(self.W @ x)
        return [make(float(a), float(b)) for a, b in zip(y, (1 - y ** 2) * (self.W @ dx))]

    def value(self, x):
        return np.tanh(self.W @ x)

    def jacobian(self, x):
        return (1 - self.value(x) ** 2)[:, None] * self.W


def counted(namespace, name, function, *args):
    calls = []

    def wrapper(*inner):
        calls.append(1)
        return function(*inner)

    return namespace[name](wrapper, *args), len(calls)


W = np.array([[0.5, -0.3, 0.8], [0.1, 0.9, -0.4]])
X, V = [0.3, -0.2, 0.5], [1.0, 0.5, -0.7]


@pytest.mark.question("q5")
def test_jvp(submission):
    f = Map(W)
    (fx, jv), calls = submission.run(counted, "jvp", f, X, V)
    assert_close(fx, f.value(np.array(X)), "f(x)")
    assert_close(jv, f.jacobian(np.array(X)) @ np.array(V), "J v")
    assert calls == 1, f"jvp called f {calls} times"


@pytest.mark.question("q6")
def test_jacobian(submission):
    f = Map(W)
    got, calls = submission.run(counted, "jacobian", f, X)
    assert_close(got, f.jacobian(np.array(X)), "J")
    assert calls == 3, f"jacobian called f {calls} times"
"""

LEAKY_GRADCHECK = """
import numpy as np
import pytest

from grader.numerics import FINITE_DIFFERENCE, assert_close


class Landscape:
    def __init__(self, A):
        self.A = A

    def __call__(self, x):
        return float(np.sum(np.sin(self.A * x)))

    def gradient(self, x):
        return self.A * np.cos(self.A * x)


@pytest.mark.question("q2")
def test_gradient(submission):
    f, x = Landscape(np.array([0.5, 1.5, 2.0])), np.array([0.3, -0.4, 0.9])
    assert_close(submission.call("numerical_gradient", f, x), f.gradient(x), "the gradient",
                 FINITE_DIFFERENCE)
"""


def leaky_assignment(folder: Path, name: str, questions: dict, suite: str) -> Path:
    """An assignment with the reference of ``name`` and a suite of the old, leaky shapes."""
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "test_leaky.py").write_text(suite)
    (folder / "assignment.yml").write_text(json.dumps({
        "name": f"leaky_{name}", "questions": questions,
        "reference": str(SOLUTIONS / f"{name}.py")}))
    return folder


@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("leaky") / "assignments"
    return {"forward_mode": leaky_assignment(root / "forward_mode", "forward_mode",
                                             {"q5": "jvp", "q6": "jacobian"}, LEAKY_FORWARD),
            "gradcheck": leaky_assignment(root / "gradcheck", "gradcheck",
                                          {"q2": "gradient"}, LEAKY_GRADCHECK)}


def test_the_gate_flags_the_leaky_suites(leaky):
    for name, folder in leaky.items():
        found = inspect_suite(folder / "tests", SOLUTIONS / f"{name}.py")
        assert found.error is None and found.problems, (name, found)


def test_the_attacks_gain_points_on_a_leaky_suite(leaky, tmp_path, forward_blank, gradcheck_blank):
    forward, gradcheck = leaky["forward_mode"], leaky["gradcheck"]
    blank = grade_json(forward_blank, forward)["score"]
    dug = with_cells(forward_blank, [WALK, DIG_FORWARD], tmp_path / "dig.ipynb")
    assert grade_json(dug, forward)["score"] > blank
    bug = grade_json(TWO_PASSES, forward)["score"]
    for i, jvp in enumerate([TAMPERED_JVP, COPIED_JVP]):
        tampered = with_cells(TWO_PASSES, [WALK, TAMPER, jvp], tmp_path / f"t{i}.ipynb")
        assert grade_json(tampered, forward)["score"] > bug
    blank = grade_json(gradcheck_blank, gradcheck)["score"]
    dug = with_cells(gradcheck_blank, [WALK, DIG_GRADCHECK], tmp_path / "dig-gradcheck.ipynb")
    assert grade_json(dug, gradcheck)["score"] > blank


BORROW_NUMERICS = """
import sys
numerics = [module for name, module in list(sys.modules.items()) if name.endswith("numerics")]
if numerics:
    numerical_gradient = numerics[0].numerical_gradient
    numerical_jacobian = numerics[0].numerical_jacobian
"""


def test_the_worker_holds_nothing_of_the_trusted_side_to_borrow(tmp_path):
    """The grader's own finite differences answer gradcheck's q2 and q3: a worker must not
    find them loaded."""
    borrower = write_notebook(tmp_path / "borrower.ipynb", [BORROW_NUMERICS])
    assert grade_json(borrower, GRADCHECK)["score"] == 0
