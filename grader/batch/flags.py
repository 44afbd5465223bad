"""What in a submission deserves a human look: read from its source, never from its run.

Nothing here changes a score (the trust boundary already makes these attempts useless); it
tells the teaching staff who tried. Code hidden behind ``exec`` of a built string is flagged
for the ``exec`` itself.
"""

from __future__ import annotations

import ast

GUARDED_MODULES = {"np", "numpy", "pytest", "grader", "builtins", "math", "scipy", "sys", "os"}
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
    "gc.get_objects": "walks the interpreter's objects", "sys._getframe": "inspects frames",
    "inspect.stack": "inspects frames", "ctypes.CDLL": "loads native code",
}
RISKY_MODULES = {"ctypes": "imports ctypes", "socket": "imports socket",
                 "subprocess": "imports subprocess", "importlib": "imports importlib",
                 "marshal": "imports marshal", "pickle": "imports pickle"}
HIDDEN_WORDS = ("solutions", "autograder", "assignments/", "tests/", "/etc/", "/proc/",
                "/home/", "/root", ".dlgrade", "gradebook", "results/")


def suspicious(cells: list[str]) -> list[str]:
    """One line per suspicious construct: what it does, and where (cell, line)."""
    found: list[str] = []
    for number, source in enumerate(cells, start=1):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            for what in _judge(node):
                where = f"code cell {number}, line {getattr(node, 'lineno', '?')}"
                line = f"{what} ({where})"
                if line not in found:
                    found.append(line)
    return found


def _judge(node: ast.AST) -> list[str]:
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        return [f"replaces {name}" for name in map(_dotted, targets)
                if name and name.split(".")[0] in GUARDED_MODULES and "." in name]
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name in RISKY_CALLS:
            return [f"{RISKY_CALLS[name]}: {name}()"]
        if name in ("open", "Path", "pathlib.Path", "os.listdir", "glob.glob", "os.walk",
                    "np.load", "numpy.load", "np.loadtxt"):
            return [f"opens {arg!r}" for arg in _strings(node.args) if _looks_hidden(arg)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
            [alias.name for alias in node.names]
        return [RISKY_MODULES[n.split(".")[0]] for n in names if n.split(".")[0] in RISKY_MODULES]
    if isinstance(node, ast.Name) and node.id == "__builtins__":
        return ["touches __builtins__"]
    if isinstance(node, ast.Attribute) and _dotted(node) == "sys.modules":
        return ["touches sys.modules"]
    return []


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _strings(nodes) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _looks_hidden(text: str) -> bool:
    return text.startswith("/") or ".." in text or any(word in text for word in HIDDEN_WORDS)
