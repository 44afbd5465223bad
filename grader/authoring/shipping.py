"""The publish gate "nothing shipped carries an answer".

What a suite sends into the student's worker (``submission.run``'s function and arguments,
``call`` and ``call_with_inputs`` arguments) is readable and writable there: closures,
defaults, globals, attributes, bytecode. So it may hold inputs and student-side code only
(DESIGN.md, "The trust boundary"). This gate runs the suite once, in a forked child of this
process, against the reference solution through a ``submission`` that records and inspects
every shipment before running it in-process, and reports, per test, the path to anything
that breaks the rule.

Allowed in a shipment:
- plain data: None, bool, int, float, complex, str, bytes, range, slice, numpy arrays (their
  elements, for object arrays), numpy scalars and dtypes, numpy random generators (inputs),
  and tuples, lists, sets and dicts of these;
- plain functions (``types.FunctionType``) defined in the tests folder, whose closure cells,
  defaults, keyword defaults, attributes and referenced globals (``co_names`` of their code
  and of every code nested in it, resolved in their globals) are themselves allowed, and
  whose code keeps no state in the worker (no write to a variable shared with an enclosing
  function or to a global: that is a counter or flag student code can reset);
- classes of the tests folder that define no method but ``__init__`` and ``__call__``, and
  their instances (attributes inspected like the rest);
- modules of the tests folder (shipped by value: all of their contents is inspected), and
  library modules, functions and classes, which travel by name (numpy, math, operator...).

Refused: anything of the reference solution (module, function, class, instance of its
classes); anything of the grader itself (``grader.*``, ``grader.numerics`` included: the
tolerance policy and its finite-difference oracles are trusted-side code, the answers of the
gradcheck assignment among them; in the worker they would be at the student's mercy, and the
worker must never need the grader's files); bound methods (they carry their object); classes
with other methods, and their instances (student code can call ``.jacobian``); functions
defined outside the tests folder; any other object (its type decides what it pickles).

Each shipment is also pickled with cloudpickle, as the sandbox does, and every object in the
pickle stream is checked again for the reference, the grader and methods: what the walk above
might miss (an exotic ``__reduce__``) cannot slip through. The in-process run uses the
unpickled copy, as the worker would.
"""

from __future__ import annotations

import builtins
import dis
import io
import json
import os
import sys
import traceback
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cloudpickle
import numpy as np

ALLOWED_METHODS = frozenset({"__init__", "__call__"})
TRUSTED_PACKAGE = "grader"
ATOMS = (bool, int, float, complex, str, bytes, range, slice, type(Ellipsis), type(None))
NUMPY_INPUTS = (np.generic, np.dtype, np.random.Generator, np.random.BitGenerator,
                np.random.SeedSequence)
MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "update",
                      "setdefault", "popitem", "add", "discard", "sort", "reverse", "fill",
                      "put", "itemset", "resize", "appendleft", "extendleft", "rotate",
                      "__setitem__", "__delitem__", "__setattr__", "__delattr__", "__iadd__",
                      "__imul__", "__ior__", "__isub__"})
MUTABLE = (list, dict, set, bytearray, np.ndarray)
SKIPPED_MODULE_ENTRIES = frozenset({"__builtins__", "__loader__", "__spec__", "__file__",
                                    "__cached__", "__name__", "__doc__", "__package__",
                                    "__path__"})
STATE_ADVICE = ("a counter or flag kept in the worker, where student code can read and reset "
                "it: count or observe calls on the trusted side, or make an extra call change "
                "the returned data")
SEED = b"dlgrade publish: what the suite ships"


@dataclass
class ShippingReport:
    """What the gate found: the shipments it saw and the problems among them."""

    tests: int = 0
    shipments: int = 0
    problems: list[str] = field(default_factory=list)
    not_passed: list[str] = field(default_factory=list)  # tests failing on the reference
    error: str | None = None  # the suite could not run at all

    def summary(self) -> str:
        text = (f"nothing shipped to the worker carries an answer ({self.shipments} shipments "
                f"from {self.tests} tests, inspected on the reference solution)")
        if self.not_passed:
            text += (f"; {len(self.not_passed)} tests did not pass on the reference in-process, "
                     f"so what they would ship after failing was not seen: "
                     f"{', '.join(self.not_passed[:5])}")
        return text


# ---------------------------------------------------------------- where objects come from

class Origins:
    """Tells the tests folder, the reference solution, the grader and libraries apart."""

    def __init__(self, tests: Path, reference: Path):
        self.tests = tests.resolve()
        self.reference = reference.resolve()
        self.reference_modules = {f"dlgrade_reference_{reference.stem}",
                                  f"dlgrade_solution_{reference.stem}"}
        self.grader = Path(__file__).resolve().parent.parent

    def of_file(self, filename: str | None) -> str | None:
        if not filename or filename.startswith("<"):
            return None
        path = Path(filename).resolve()
        if path == self.reference:
            return "reference"
        if path.is_relative_to(self.tests):
            return "tests"
        if path.is_relative_to(self.grader):
            return "grader"
        return None

    def of_module_name(self, name: str | None) -> str | None:
        if not isinstance(name, str):
            return None
        if name in self.reference_modules:
            return "reference"
        if name == TRUSTED_PACKAGE or name.startswith(TRUSTED_PACKAGE + "."):
            return "grader"
        module = sys.modules.get(name)
        return self.of_file(getattr(module, "__file__", None)) if module is not None else None

    def of_module(self, module: types.ModuleType) -> str:
        found = (self.of_module_name(module.__name__)
                 or self.of_file(getattr(module, "__file__", None)))
        if found:
            return found
        return "library" if sys.modules.get(module.__name__) is module else "elsewhere"

    def of_function(self, function: types.FunctionType) -> str:
        found = (self.of_file(function.__code__.co_filename)
                 or self.of_module_name(function.__module__))
        if found:
            return found
        return "library" if _by_reference(function) else "elsewhere"

    def of_class(self, cls: type) -> str:
        found = self.of_module_name(cls.__module__)
        if found:
            return found
        if cls.__module__ == "builtins" or _by_reference(cls):
            return "library"  # the interpreter's types (code, cell...) and importable classes
        return "elsewhere"


def _by_reference(obj) -> bool:
    """Whether cloudpickle ships ``obj`` by name (importable in the worker), not by value."""
    try:
        from cloudpickle.cloudpickle import _should_pickle_by_reference
    except ImportError:  # pragma: no cover - a cloudpickle without the helper
        module = sys.modules.get(getattr(obj, "__module__", None) or "")
        return module is not None and getattr(module, obj.__qualname__, None) is obj
    try:
        return bool(_should_pickle_by_reference(obj))
    except Exception:
        return False


def _name(obj) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)


def _methods(cls: type) -> list[str]:
    """The methods a class of the tests defines (itself, not its library bases) beyond
    ``__init__`` and ``__call__``."""
    found = []
    for klass in cls.__mro__:
        if klass is object or _by_reference(klass):
            continue  # a library base: its methods are the library's, shipped by name
        for key, value in vars(klass).items():
            if key in ALLOWED_METHODS or key in found:
                continue
            if isinstance(value, (staticmethod, classmethod, property)) or (
                    callable(value) and not isinstance(value, type)):
                found.append(key)
    return found


# ---------------------------------------------------------------- state kept by shipped code

def _nested_codes(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _nested_codes(const)


def global_names(code: types.CodeType) -> list[str]:
    """The names a function's code (and every code nested in it) may look up as globals."""
    names: dict[str, None] = {}
    for nested in _nested_codes(code):
        names.update(dict.fromkeys(nested.co_names))
    return list(names)


def state_changes(code: types.CodeType, globals_: dict) -> list[str]:
    """Where a shipped code (or a code nested in it) changes state that outlives one call:
    a variable it shares with an enclosing function (``nonlocal``, or ``calls.append(1)``,
    ``box[0] += 1``, ``state.n = 2`` on it) or a global. A linear pass over the bytecode that
    follows which stack values are such variables (or parts of them)."""
    found = []
    for nested in _nested_codes(code):
        for what in _changes_in(nested, globals_):
            where = getattr(nested, "co_qualname", nested.co_name)
            if what not in found:
                found.append(f"{where} {what}")
    return found


def _mutable_global(globals_: dict, name: str) -> bool:
    value = globals_.get(name)
    if isinstance(value, MUTABLE):
        return True
    return (hasattr(value, "__dict__") and not isinstance(
        value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType)))


def _changes_in(code: types.CodeType, globals_: dict) -> list[str]:
    shared = set(code.co_freevars)
    stack: list[str | None] = []
    local: dict[str, str | None] = {}
    found: list[str] = []

    def pop() -> str | None:
        return stack.pop() if stack else None

    def changed(target: str | None, how: str) -> None:
        if target is not None:
            found.append(f"changes {target} ({how})")

    for ins in dis.get_instructions(code):
        op, name = ins.opname, ins.argval
        if op in ("STORE_DEREF", "DELETE_DEREF") and name in shared:
            found.append(f"assigns to `{name}`, a variable of the function that encloses it")
        elif op in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            found.append(f"assigns to the global `{name}`")
        try:
            effect = dis.stack_effect(ins.opcode, ins.arg if ins.opcode >= dis.HAVE_ARGUMENT
                                      else None, jump=False)
        except ValueError:
            effect = 0
        if op in ("LOAD_DEREF", "LOAD_CLASSDEREF"):
            stack.append(f"`{name}`, which it shares with the function that encloses it"
                         if name in shared else None)
        elif op == "LOAD_GLOBAL":
            stack.extend([None] * (effect - 1))
            stack.append(f"the global `{name}`" if _mutable_global(globals_, name) else None)
        elif op in ("LOAD_FAST", "LOAD_FAST_CHECK"):
            stack.append(local.get(name))
        elif op == "STORE_FAST":
            local[name] = pop()
        elif op in ("LOAD_ATTR", "LOAD_METHOD"):
            target = pop()
            if name in MUTATORS:
                changed(target, f".{name}")
            stack.extend([None] * effect + [target if effect == 0 else None])
        elif op == "BINARY_SUBSCR":
            pop()
            stack.append(pop())
        elif op == "STORE_SUBSCR":
            pop()
            changed(pop(), "item assignment")
            pop()
        elif op == "DELETE_SUBSCR":
            pop()
            changed(pop(), "item deletion")
        elif op == "STORE_ATTR":
            changed(pop(), f"setting .{name}")
            pop()
        elif op == "DELETE_ATTR":
            changed(pop(), f"deleting .{name}")
        elif op == "COPY":
            stack.append(stack[-ins.arg] if len(stack) >= ins.arg else None)
        elif op == "SWAP":
            if len(stack) >= ins.arg:
                stack[-1], stack[-ins.arg] = stack[-ins.arg], stack[-1]
        elif effect < 0:
            del stack[effect:]
            if stack:
                stack[-1] = None
        elif effect == 0:
            if stack:
                stack[-1] = None
        else:
            stack.extend([None] * effect)
    return found


# ---------------------------------------------------------------- the walk

class Inspection:
    """Walks one shipment; ``problems`` names the path to each object that breaks the rule."""

    def __init__(self, origins: Origins):
        self.origins = origins
        self.problems: list[str] = []
        self.flagged: set[int] = set()
        self._seen: set[int] = set()
        self._keep: list = []  # ids stay unique while the walk runs

    def walk(self, value, path: str) -> None:
        work = [(value, path)]
        while work:
            obj, where = work.pop()
            if id(obj) in self._seen:
                continue
            self._seen.add(id(obj))
            self._keep.append(obj)
            work.extend(reversed(self._step(obj, where)))

    def flag(self, obj, where: str, what: str) -> None:
        self.flagged.add(id(obj))
        self.problems.append(f"{where} holds {what}")

    def _step(self, obj, where: str) -> list[tuple[object, str]]:
        """Check one object; return its parts to inspect, with their paths."""
        if type(obj) in ATOMS or isinstance(obj, NUMPY_INPUTS):
            return []
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                return [(item, f"{where}, element {i}") for i, item in enumerate(obj.flat)]
            return []
        if type(obj) in (list, tuple, set, frozenset):
            return [(item, f"{where}[{i}]") for i, item in enumerate(obj)]
        if type(obj) is dict:
            return ([(key, f"{where}, a key") for key in obj]
                    + [(value, f"{where}[{key!r}]") for key, value in obj.items()])
        if isinstance(obj, types.ModuleType):
            return self._module(obj, where)
        if isinstance(obj, type):
            return self._class(obj, where)
        if isinstance(obj, types.FunctionType):
            return self._function(obj, where)
        if isinstance(obj, types.MethodType):
            self.flag(obj, where, f"the bound method {_name(obj)} of a "
                      f"{type(obj.__self__).__name__}: its object travels with it (ship a plain "
                      "function of the tests folder)")
            return []
        if isinstance(obj, (types.BuiltinFunctionType, np.ufunc)):
            owner = getattr(obj, "__self__", None)
            if owner is None or isinstance(owner, types.ModuleType):
                module = getattr(obj, "__module__", None) or getattr(owner, "__name__", None)
                if self.origins.of_module_name(module) in ("grader", "reference"):
                    self.flag(obj, where, f"{module}.{_name(obj)}, trusted-side code")
                return []
            self.flag(obj, where, f"the bound method {_name(obj)} of a {type(owner).__name__}: "
                      "its object travels with it (ship a plain function of the tests folder)")
            return []
        if isinstance(obj, types.CodeType):
            return []
        return self._instance(obj, where)

    def _module(self, module: types.ModuleType, where: str) -> list:
        origin = self.origins.of_module(module)
        if origin == "reference":
            self.flag(module, where, f"the reference solution (module {module.__name__})")
        elif origin == "grader":
            self.flag(module, where, f"the grader's module {module.__name__}: trusted-side code "
                      "is never shipped (use it in the test, on the trusted side)")
        elif origin in ("tests", "elsewhere"):  # shipped by value: all of it travels
            return [(value, f"{where} -> `{key}` of module {module.__name__}")
                    for key, value in vars(module).items() if key not in SKIPPED_MODULE_ENTRIES]
        return []

    def _class(self, cls: type, where: str) -> list:
        origin = self.origins.of_class(cls)
        if origin == "reference":
            self.flag(cls, where, f"{cls.__qualname__}, a class of the reference solution")
            return []
        if origin == "grader":
            self.flag(cls, where, f"{cls.__module__}.{cls.__qualname__}, a class of the grader")
            return []
        if origin == "library":
            return []
        methods = _methods(cls)
        if methods:
            self.flag(cls, where, f"the class {cls.__qualname__} with method"
                      f"{'s' if len(methods) > 1 else ''} {', '.join(methods)} (a shipped class "
                      "may define no method but __init__ and __call__: student code can call "
                      "them)")
        parts = [(base, f"{where} -> base class of {cls.__qualname__}")
                 for base in cls.__bases__ if base is not object]
        for key, value in vars(cls).items():
            if key in ALLOWED_METHODS or not key.startswith("__") or key == "__slots__":
                parts.append((value, f"{where} -> `{key}` of class {cls.__qualname__}"))
        return parts

    def _function(self, function: types.FunctionType, where: str) -> list:
        origin = self.origins.of_function(function)
        label = f"{function.__module__}.{function.__qualname__}"
        if origin == "reference":
            self.flag(function, where, f"{function.__qualname__}, a function of the reference "
                      "solution")
            return []
        if origin == "grader":
            self.flag(function, where, f"{label}, the grader's own code: trusted-side code is "
                      "never shipped (call it in the test, on the trusted side)")
            return []
        if origin == "library":
            return []
        if origin == "elsewhere":
            self.flag(function, where, f"the function {label}, defined outside the tests "
                      f"folder ({function.__code__.co_filename})")
            return []
        name = function.__qualname__
        for change in state_changes(function.__code__, function.__globals__):
            self.flag(function, where, f"the function {name}, where {change}: {STATE_ADVICE}")
        code = function.__code__
        parts = []
        for var, cell in zip(code.co_freevars, function.__closure__ or (), strict=True):
            try:
                parts.append((cell.cell_contents, f"{where} -> closure `{var}` of {name}"))
            except ValueError:
                pass
        positional = code.co_varnames[:code.co_argcount]
        for param, value in zip(positional[len(positional) - len(function.__defaults__ or ()):],
                                function.__defaults__ or (), strict=True):
            parts.append((value, f"{where} -> default `{param}` of {name}"))
        for param, value in (function.__kwdefaults__ or {}).items():
            parts.append((value, f"{where} -> default `{param}` of {name}"))
        for key, value in vars(function).items():
            parts.append((value, f"{where} -> attribute `{key}` of {name}"))
        for key, value in (function.__annotations__ or {}).items():
            parts.append((value, f"{where} -> annotation `{key}` of {name}"))
        for global_name in global_names(code):
            if global_name in function.__globals__:
                parts.append((function.__globals__[global_name],
                              f"{where} -> global `{global_name}` of {name}"))
        return parts

    def _instance(self, obj, where: str) -> list:
        cls = type(obj)
        origin = self.origins.of_class(cls)
        if origin == "reference":
            self.flag(obj, where, f"a {cls.__qualname__}, an instance of a class of the "
                      "reference solution")
            return []
        if origin in ("grader", "library"):
            self.flag(obj, where, f"an object of type {cls.__module__}.{cls.__qualname__}: "
                      "only plain data (numbers, strings, numpy arrays, and tuples, lists, "
                      "dicts of them) and plain functions of the tests folder may be shipped")
            return []
        methods = _methods(cls)
        if methods:
            self.flag(obj, where, f"a {cls.__qualname__} instance, whose class has method"
                      f"{'s' if len(methods) > 1 else ''} {', '.join(methods)} (a shipped "
                      "object may have no method but __init__ and __call__: student code can "
                      "call them)")
            self.flagged.add(id(cls))
            self._seen.add(id(cls))  # said once, with the instance
            parts = []
        else:
            parts = [(cls, f"{where} -> class of a {cls.__qualname__}")]
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            parts += [(value, f"{where} -> attribute `{key}` of a {cls.__qualname__}")
                      for key, value in state.items()]
        for slot in getattr(cls, "__slots__", ()) or ():
            if isinstance(slot, str) and hasattr(obj, slot):
                parts.append((getattr(obj, slot),
                              f"{where} -> attribute `{slot}` of a {cls.__qualname__}"))
        return parts


class _Stream(cloudpickle.Pickler):
    """cloudpickle, as the sandbox uses it, noting every object that goes into the stream."""

    def __init__(self, file):
        super().__init__(file)
        self.objects: list = []

    def persistent_id(self, obj):
        self.objects.append(obj)
        return None


def stream_problems(origins: Origins, objects: list, flagged: set[int]) -> list[str]:
    """Objects of the pickle stream that the walk did not already flag: anything of the
    reference or the grader, bound methods, classes of the tests with methods."""
    found = []
    for obj in objects:
        if id(obj) in flagged:
            continue
        what = None
        if isinstance(obj, types.ModuleType):
            if origins.of_module(obj) in ("reference", "grader"):
                what = f"the module {obj.__name__}"
        elif isinstance(obj, types.FunctionType):
            if origins.of_function(obj) in ("reference", "grader"):
                what = f"the function {obj.__module__}.{obj.__qualname__}"
        elif isinstance(obj, types.MethodType):
            what = f"the bound method {_name(obj)}"
        elif isinstance(obj, type):
            origin = origins.of_class(obj)
            if origin in ("reference", "grader") or (
                    origin in ("tests", "elsewhere") and _methods(obj)):
                what = f"the class {obj.__module__}.{obj.__qualname__}"
        elif type(obj) not in ATOMS:
            origin = origins.of_class(type(obj))
            if origin in ("reference", "grader") or (
                    origin in ("tests", "elsewhere") and _methods(type(obj))):
                what = f"an instance of {type(obj).__module__}.{type(obj).__qualname__}"
        if what and what not in found:
            found.append(what)
    return found


# ---------------------------------------------------------------- the recording submission

class RecordingSubmission:
    """The ``submission`` fixture of the gate: each shipment is inspected, pickled and
    unpickled as the sandbox would, then run in-process on the reference (``LocalSubmission``
    over a namespace holding the reference solution)."""

    def __init__(self, namespace: dict, origins: Origins):
        from grader.student.kernel import LocalSubmission

        self.local = LocalSubmission(namespace)
        self.origins = origins
        self.test = "(collection)"
        self.shipments = 0
        self.problems: list[str] = []

    def call(self, name: str, *args, _timeout=None, **kwargs):
        args, kwargs = self._ship(f"call({name!r})", (name, *args), kwargs, skip=1)
        return self.local.call(*args, **kwargs)

    def call_with_inputs(self, name: str, *args, _timeout=None, **kwargs):
        args, kwargs = self._ship(f"call_with_inputs({name!r})", (name, *args), kwargs, skip=1)
        return self.local.call_with_inputs(*args, **kwargs)

    def run(self, function, *args, _timeout=None, **kwargs):
        label = f"run({getattr(function, '__qualname__', type(function).__name__)})"
        args, kwargs = self._ship(label, (function, *args), kwargs, skip=0)
        return self.local.run(*args, **kwargs)

    def names(self) -> dict:
        return self.local.names()

    def has(self, name: str, kind: str | None = None) -> bool:
        return self.local.has(name, kind)

    def take_output(self) -> str:
        return ""

    def _ship(self, label: str, args: tuple, kwargs: dict, skip: int):
        self.shipments += 1
        inspection = Inspection(self.origins)
        for index, value in enumerate(args[skip:], start=1):
            path = "the function" if skip == 0 and index == 1 else (
                f"argument {index - 1 if skip == 0 else index}")
            inspection.walk(value, path)
        for key, value in kwargs.items():
            inspection.walk(value, f"keyword argument {key}")
        problems = [f"{self.test} ships {label}: {p}" for p in inspection.problems]
        buffer = io.BytesIO()
        stream = _Stream(buffer)
        try:
            stream.dump((args, kwargs))
        except Exception as error:
            problems.append(f"{self.test} ships {label}: it cannot be pickled for the worker "
                            f"({type(error).__name__}: {error})")
        else:
            problems += [f"{self.test} ships {label}: the pickled shipment holds {what}"
                         for what in stream_problems(self.origins, stream.objects,
                                                     inspection.flagged)]
            args, kwargs = cloudpickle.loads(buffer.getvalue())
        for problem in problems:
            if problem not in self.problems:
                self.problems.append(problem)
        return args, kwargs


def solution_namespace(reference: Path) -> dict:
    """The reference solution run as a student's cells are: a fresh namespace."""
    namespace = {"__name__": f"dlgrade_solution_{reference.stem}", "__builtins__": builtins}
    exec(compile(reference.read_text(), str(reference), "exec"), namespace)
    return namespace


def _plugin_class():
    from grader.core.plugin import GradingPlugin

    class GatePlugin(GradingPlugin):
        """The grading plugin, telling the recorder which test is running."""

        def __init__(self, recorder: RecordingSubmission, reference: Path, questions):
            super().__init__(recorder, reference, SEED, questions=tuple(questions))
            self.recorder = recorder

        def pytest_runtest_logstart(self, nodeid, location):
            self.recorder.test = nodeid

    return GatePlugin


def inspect_in_process(tests: Path, reference: Path, questions=()) -> ShippingReport:
    """Run the suite here against the reference; what it ships, and what is wrong with it."""
    from grader.core.plugin import run_suite

    origins = Origins(tests, reference)
    recorder = RecordingSubmission(solution_namespace(reference), origins)
    plugin = _plugin_class()(recorder, reference, questions)
    results = run_suite(tests, plugin)
    return ShippingReport(tests=len(results), shipments=recorder.shipments,
                          problems=recorder.problems,
                          not_passed=[r.name for r in results if r.outcome != "passed"])


def inspect_suite(tests: Path, reference: Path, questions=()) -> ShippingReport:
    """``inspect_in_process`` in a forked child: the reference, the suite's modules and
    cloudpickle's registrations never stay in this process (publishing forks sandboxes from
    it afterwards)."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: report as JSON, then leave without running any cleanup
        os.close(read)
        try:
            report = inspect_in_process(Path(tests), Path(reference), questions)
        except BaseException as error:  # noqa: BLE001 - everything is reported to the parent
            report = ShippingReport(error=f"{type(error).__name__}: {error}\n"
                                          f"{traceback.format_exc(limit=5)}")
        with os.fdopen(write, "w") as out:
            json.dump(asdict(report), out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as source:
        text = source.read()
    _, status = os.waitpid(pid, 0)
    if not text:
        return ShippingReport(error=f"the suite's run ended without a report (status {status})")
    return ShippingReport(**json.loads(text))


def inspect_assignment(assignment) -> ShippingReport:
    return inspect_suite(assignment.tests, assignment.reference, tuple(assignment.questions))
