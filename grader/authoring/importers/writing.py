"""The assignment written from parts: ``assignment.yml``, the handout, the reference solution
and the test files, which run each check through ``RUNNER``."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

from grader.authoring.importers.parts import ImportFailure, ImportReport, Parts
from grader.core.settings import DEFAULT_IMPORTS

RUNNER = '''\
# How an imported check runs (written by `dlgrade import`): the check's code runs here, calling
# the student's functions in their process and reading their values as data, so what it
# expects never reaches student code.
import ast
import builtins
import doctest
import io
from contextlib import redirect_stdout

import numpy
import pytest

SETUP = {setup!r}


def value_of(namespace, name):
    return namespace[name]


def run_in_namespace(namespace, source):
    saved = dict(namespace)
    try:
        exec(compile(source, "<check>", "exec"), namespace)
    except Exception as error:
        return f"{{type(error).__name__}}: {{error}}"
    finally:
        namespace.clear()
        namespace.update(saved)
    return None


def _proxy(submission, name):
    def call(*args, **kwargs):
        try:
            return submission.call(name, *args, **kwargs)
        except Exception as error:
            kind = getattr(builtins, getattr(error, "type", ""), None)
            if type(error).__name__ == "StudentError" and isinstance(kind, type) and \\
                    issubclass(kind, Exception):
                try:
                    mapped = kind(error.text)
                except Exception:
                    raise error from None
                raise mapped from error
            raise
    return call


def _names(tree):
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            loaded.add(node.arg)
    return loaded - set(dir(builtins))


def _namespace(submission, tree):
    namespace = {{"__builtins__": builtins}}
    kinds = submission.names()
    for name in sorted(_names(tree)):
        if name in SETUP:
            exec(SETUP[name], namespace)
        elif kinds.get(name) in ("function", "class"):
            namespace[name] = _proxy(submission, name)
        elif kinds.get(name) == "value":
            namespace[name] = submission.run(value_of, name)
    return namespace


def _failed_line(source, error):
    trace, line = error.__traceback__, None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<check>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return source.splitlines()[line - 1].strip() if line else ""


def _displayed(tree, namespace):
    # Saved outputs predate numpy 2's scalar reprs (np.True_, np.float64(1.0)): show the old.
    out = io.StringIO()
    legacy = {{"legacy": "1.25"}} if int(numpy.__version__.split(".")[0]) >= 2 else {{}}
    with redirect_stdout(out), numpy.printoptions(**legacy):
        for node in tree.body:
            if isinstance(node, ast.Expr):
                value = eval(compile(ast.Expression(node.value), "<check>", "eval"), namespace)
                if value is not None:
                    print(repr(value))
            else:
                exec(compile(ast.Module([node], []), "<check>", "exec"), namespace)
    return out.getvalue()


def check(submission, kind, source, want="", failure=""):
    """Run one check of the imported notebook; an AssertionError says what failed."""
    if kind == "in_namespace":
        outcome = submission.run(run_in_namespace, source)
        if outcome is not None:
            raise AssertionError(failure or f"this check failed: {{outcome}}")
        return
    tree = ast.parse(source)
    namespace = _namespace(submission, tree)
    try:
        if kind == "doctest":
            got = _displayed(tree, namespace)
            if not doctest.OutputChecker().check_output(want, got, doctest.NORMALIZE_WHITESPACE):
                raise AssertionError(f"expected {{want.strip()!r}}, got {{got.strip()!r}}")
            return
        exec(compile(tree, "<check>", "exec"), namespace)
        for node in tree.body if kind == "functions" else ():
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                namespace[node.name](*[namespace[a.arg] for a in node.args.args])
    except NameError as error:
        raise AssertionError(failure or f"{{error}}: define it in your notebook") from None
    except AssertionError as error:
        line = _failed_line(source, error)
        raise AssertionError(failure or str(error) or f"this check failed: {{line}}") from None
    except Exception as error:
        cause = error.__cause__
        if type(cause).__name__ == "StudentError":
            raise cause from None
        raise
'''


def write_assignment(parts: Parts, root: Path, force: bool) -> ImportReport:
    folder, reference = root / "assignments" / parts.name, root / "solutions" / f"{parts.name}.py"
    existing = [str(path) for path in (folder, reference) if path.exists()]
    if existing and not force:
        raise ImportFailure(f"not overwriting {', '.join(existing)} (use --force to replace)")
    if (folder / "tests").is_dir():
        for old in (folder / "tests").glob("*.py"):
            old.unlink()
    files = {
        folder / "assignment.yml": _assignment_yml(parts),
        folder / "handout.md": "\n\n".join([f"# {parts.title}", *parts.blocks]) + "\n",
        reference: _reference(parts),
        folder / "tests" / "test_public.py": _test_file(parts, hidden=False),
        folder / "tests" / "test_hidden.py": _test_file(parts, hidden=True),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return ImportReport(parts.name, tuple(files), tuple(parts.questions), tuple(parts.manual),
                        len(parts.checks), tuple(parts.skipped))


def _assignment_yml(parts: Parts) -> str:
    config = {"name": parts.name, "title": parts.title,
              "reference": f"../../solutions/{parts.name}.py", "questions": parts.questions}
    if parts.manual:
        config["manual"] = parts.manual
    modules = {_top_module(statement) for statement in parts.imports}
    extra = sorted(m for m in modules if m and m not in DEFAULT_IMPORTS
                   and m not in sys.stdlib_module_names)
    if extra:
        config["imports"] = [*DEFAULT_IMPORTS, *extra]
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _top_module(statement: str) -> str:
    node = ast.parse(statement).body[0]
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] if not node.level else ""
    return node.names[0].name.split(".")[0]


def _reference(parts: Parts) -> str:
    imports = list(dict.fromkeys(parts.imports))
    return "\n\n\n".join([f'"""Reference solution of `{parts.name}`, imported by dlgrade import."""'
                          + ("\n\n" + "\n".join(imports) if imports else ""),
                          *parts.functions]) + "\n"


def _setup(parts: Parts) -> dict[str, str]:
    """Each name the notebook's imports bind, with the statement binding it."""
    setup = {}
    for statement in dict.fromkeys(parts.imports):
        for alias in ast.parse(statement).body[0].names:
            setup[(alias.asname or alias.name).split(".")[0]] = statement
    return setup


def _test_file(parts: Parts, hidden: bool) -> str:
    head = ('"""Hidden tests imported from the notebook."""' if hidden else
            '"""Public checks imported from the notebook: students run them in their notebook."""'
            '\n')
    lines = [head, RUNNER.format(setup=_setup(parts))]
    if not hidden:
        lines.append('pytestmark = pytest.mark.visibility("public")\n')
    taken: set[str] = set()
    for check in parts.checks:
        if check.hidden != hidden:
            continue
        name = re.sub(r"\W+", "_", f"test_{check.question}_{check.name}").lower()
        while name in taken:
            name += "_"
        taken.add(name)
        lines.append(f'\n@pytest.mark.question("{check.question}")\n'
                     f"@pytest.mark.points({check.points:g})\n"
                     f"def {name}(submission):\n"
                     f"    check(submission, {check.kind!r}, {check.source!r},\n"
                     f"          want={check.want!r}, failure={check.failure!r})\n")
    return "\n".join(lines)
