"""What in a submission deserves a human look: read from its source, never from its run.

Nothing here changes a score (the trust boundary already makes these attempts useless); it
tells the teaching staff who tried. What it looks for: patching numpy, pytest, builtins or
anything of the grader's own (``import grader``, ``sys.modules['grader...']``, the worker's
wire encoder), introspecting frames, closures, globals, defaults and code objects (the
places an oracle or a counter would hide if one were ever shipped), ``gc`` and ``ctypes``,
writes to ``__code__``, opening the course's files, running programs, killing processes.
Names are followed through import aliases and simple assignments (``import sys as s``,
``m = sys.modules``), not through computed values: code hidden behind ``exec`` of a built
string, ``getattr`` with a built name or a decoded payload is flagged for the ``exec`` or the
``getattr`` itself, when at all. Every line is short; a submission gets at most
``MOST_FLAGS`` of them.
"""

from __future__ import annotations

import ast
import re

GUARDED_MODULES = {"np", "numpy", "pytest", "grader", "builtins", "math", "scipy", "sys", "os"}
OURS = re.compile(r"grader(\.[A-Za-z_]\w*)*")  # the grader's modules, the worker's included
RISKY_CALLS = {
    "exec": "runs code built at run time (exec)",
    "eval": "evaluates code built at run time (eval)",
    "compile": "compiles code at run time",
    "__import__": "imports a module by name at run time",
    "setattr": "sets attributes by name (setattr)",
    "os.system": "runs shell commands", "subprocess.run": "runs programs",
    "subprocess.Popen": "runs programs", "subprocess.call": "runs programs",
    "subprocess.check_output": "runs programs",
    "os.kill": "sends signals to processes", "os.killpg": "sends signals to processes",
    "os.fork": "forks processes", "os._exit": "ends its own process",
    "os.remove": "deletes files", "os.unlink": "deletes files", "shutil.rmtree": "deletes files",
    "gc.get_objects": "walks the interpreter's objects",
    "gc.get_referrers": "walks the interpreter's objects",
    "gc.get_referents": "walks the interpreter's objects",
    "sys._getframe": "inspects frames", "sys._current_frames": "inspects frames",
    "sys.settrace": "traces other code's frames", "sys.setprofile": "traces other code's frames",
    "threading.settrace": "traces other code's frames",
    "inspect.stack": "inspects frames", "inspect.currentframe": "inspects frames",
    "inspect.getouterframes": "inspects frames", "inspect.trace": "inspects frames",
    "inspect.getclosurevars": "reads closures", "inspect.getmembers": "lists an object's insides",
    "ctypes.CDLL": "loads native code", "ctypes.cast": "reads raw memory (ctypes)",
    "ctypes.pythonapi": "calls the interpreter's C API",
    "types.FunctionType": "builds a function from a code object",
    "types.CodeType": "builds a code object", "types.CellType": "builds closure cells",
}
RISKY_MODULES = {"ctypes": "imports ctypes", "_ctypes": "imports ctypes", "cffi": "imports cffi",
                 "socket": "imports socket", "subprocess": "imports subprocess",
                 "importlib": "imports importlib", "marshal": "imports marshal",
                 "pickle": "imports pickle", "inspect": "imports inspect (frames, closures)"}
# Attributes through which shipped code's insides (or an interpreter's) are reached.
INTROSPECTION = {
    "__closure__": "closures", "cell_contents": "closures", "__globals__": "a function's globals",
    "__defaults__": "default arguments", "__kwdefaults__": "default arguments",
    "__code__": "code objects", "co_consts": "code objects", "co_code": "code objects",
    "co_names": "code objects", "co_freevars": "code objects",
    "f_back": "frames", "f_globals": "frames", "f_locals": "frames", "f_builtins": "frames",
    "f_code": "frames", "tb_frame": "frames", "gi_frame": "frames", "cr_frame": "frames",
    "ag_frame": "frames", "__subclasses__": "the class hierarchy",
}
WRITTEN = {"__code__", "__defaults__", "__kwdefaults__", "__closure__", "__globals__",
           "cell_contents", "__dict__", "__class__", "__builtins__", "f_locals", "f_globals"}
# The same, named in a string (``getattr(gc, "get_objects")``).
RISKY_NAMES = {name.rsplit(".", 1)[1] for name in RISKY_CALLS
               if name.split(".")[0] in ("gc", "sys", "inspect", "threading")}
SYS_HOOKS = {"sys.modules": "touches sys.modules", "sys.meta_path": "installs import hooks",
             "sys.path_hooks": "installs import hooks"}
HIDDEN_WORDS = ("solutions", "autograder", "assignments/", "tests/", "/etc/", "/proc/",
                "/home/", "/root", ".dlgrade", "gradebook", "results/")
MOST_FLAGS = 30
SHOWN = 60  # characters of a name or a string quoted in a flag


def suspicious(cells: list[str]) -> list[str]:
    """One line per suspicious construct: what it does, and where (cell, line)."""
    found: list[str] = []
    trees = []
    for number, source in enumerate(cells, start=1):
        try:
            trees.append((number, ast.parse(source)))
        except (SyntaxError, ValueError):
            continue  # reported as the cell's error when it ran
        except (RecursionError, MemoryError):
            found.append(f"code too deeply nested to be read for this list (code cell {number})")
    aliases = _Aliases()
    for _, tree in trees:
        aliases.learn(tree)
    for number, tree in trees:
        for node in ast.walk(tree):
            try:
                judged = _judge(node, aliases)
            except (RecursionError, MemoryError):
                judged = ["code too deeply nested to be read for this list"]
            for what in judged:
                line = f"{what} (code cell {number}, line {getattr(node, 'lineno', '?')})"
                if line not in found:
                    found.append(line)
    if len(found) > MOST_FLAGS:
        found = found[:MOST_FLAGS] + [f"and {len(found) - MOST_FLAGS} more"]
    return found


class _Aliases:
    """What a name stands for: ``import numpy as np`` makes ``np`` mean ``numpy``,
    ``from grader.sandbox import wire`` makes ``wire`` mean ``grader.sandbox.wire``,
    ``m = sys.modules`` makes ``m`` mean ``sys.modules``."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def learn(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.names[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                meant = self.resolve(node.value)
                if meant and meant != node.targets[0].id:
                    self.names[node.targets[0].id] = meant

    def resolve(self, node: ast.AST, depth: int = 0) -> str | None:
        """The dotted name ``node`` stands for, through aliases, ``sys.modules[...]``,
        ``__import__(...)`` and ``importlib.import_module(...)``; None when computed."""
        attributes = []
        while isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        base = None
        if isinstance(node, ast.Name):
            base = self.names.get(node.id, node.id)
        elif depth < 8 and isinstance(node, ast.Subscript) and _string(node.slice) \
                and self.resolve(node.value, depth + 1) == "sys.modules":
            base = _string(node.slice)
        elif depth < 8 and isinstance(node, ast.Call) and node.args and _string(node.args[0]) \
                and self.resolve(node.func, depth + 1) in ("__import__",
                                                          "importlib.import_module"):
            base = _string(node.args[0])
        if base is None:
            return None
        return ".".join([base, *reversed(attributes)])


def _judge(node: ast.AST, aliases: _Aliases) -> list[str]:
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        return [flag for target in _unpacked(targets) for flag in _written(target, aliases)]
    if isinstance(node, ast.Call):
        return _called(node, aliases)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
            [alias.name for alias in node.names]
        if isinstance(node, ast.ImportFrom) and node.level:
            return []
        flags = [RISKY_MODULES[n.split(".")[0]] for n in names
                 if n.split(".")[0] in RISKY_MODULES]
        flags += [f"imports the grader's own modules ({_short(n)})" for n in names
                  if OURS.fullmatch(n)]
        if isinstance(node, ast.ImportFrom):
            flags += [_imported(f"{node.module}.{alias.name}") for alias in node.names]
        return [flag for flag in flags if flag]
    if isinstance(node, ast.Name) and node.id == "__builtins__":
        return ["touches __builtins__"]
    if isinstance(node, ast.Attribute):
        if node.attr in INTROSPECTION and not isinstance(node.ctx, (ast.Store, ast.Del)):
            return [f"introspects {INTROSPECTION[node.attr]} (.{node.attr})"]
        meant = aliases.resolve(node)
        if meant in SYS_HOOKS:
            return [SYS_HOOKS[meant]]
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if node.value in INTROSPECTION:
            return [f"introspects {INTROSPECTION[node.value]} ({_short(repr(node.value))})"]
        if OURS.fullmatch(node.value):
            return [f"names the grader's modules ({_short(repr(node.value))})"]
        if node.value in RISKY_NAMES:
            return [f"names {_short(repr(node.value))} in a string (getattr?)"]
    return []


def _unpacked(targets) -> list[ast.AST]:
    """Assignment targets, with tuples and lists unpacked (``a.x, b.y = ...``)."""
    found, stack = [], list(targets)
    while stack:
        target = stack.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            stack += target.elts
        elif isinstance(target, ast.Starred):
            stack.append(target.value)
        else:
            found.append(target)
    return found


def _written(target: ast.AST, aliases: _Aliases) -> list[str]:
    if isinstance(target, ast.Attribute):
        if target.attr in WRITTEN:
            return [f"writes .{target.attr} (replaces what a function holds or is)"]
        written, meant = _dotted(target), aliases.resolve(target)
        if meant and "." in meant and meant.split(".")[0] in GUARDED_MODULES:
            shown = written if written and written.split(".")[0] in GUARDED_MODULES else meant
            return [f"replaces {_short(shown)}"]
        return []
    if isinstance(target, ast.Subscript):
        meant = aliases.resolve(target.value)
        if meant == "sys.modules":
            key = _string(target.slice)
            return [f"replaces a module in sys.modules ({_short(repr(key))})" if key else
                    "replaces a module in sys.modules"]
        if isinstance(target.value, ast.Attribute) and target.value.attr in WRITTEN:
            return [f"writes into .{target.value.attr}"]
    return []


def _called(node: ast.Call, aliases: _Aliases) -> list[str]:
    name, meant = _dotted(node.func), aliases.resolve(node.func)
    flags = []
    for candidate in (name, meant):
        if candidate in RISKY_CALLS:
            flags.append(f"{RISKY_CALLS[candidate]}: {_short(name or candidate)}()")
            break
    if meant and meant.split(".")[0] == "ctypes" and not flags:
        flags.append(f"uses ctypes: {_short(name or meant)}()")
    if any(keyword.arg and keyword.arg.startswith("co_") for keyword in node.keywords):
        flags.append("rebuilds a code object (co_... arguments)")
    if name in ("open", "Path", "pathlib.Path", "os.listdir", "glob.glob", "os.walk",
                "np.load", "numpy.load", "np.loadtxt"):
        flags += [f"opens {_short(repr(arg))}" for arg in _strings(node.args)
                  if _looks_hidden(arg)]
    return flags


def _imported(name: str) -> str | None:
    """``from sys import _getframe`` is ``sys._getframe``, however it is called later."""
    if name in RISKY_CALLS:
        return f"{RISKY_CALLS[name]}: imports {_short(name)}"
    if name in SYS_HOOKS:
        return SYS_HOOKS[name]
    return None


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _string(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _strings(nodes) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _short(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


def _looks_hidden(text: str) -> bool:
    return text.startswith("/") or ".." in text or any(word in text for word in HIDDEN_WORDS)
