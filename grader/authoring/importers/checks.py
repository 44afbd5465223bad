"""Which checks can run: the names a check reads and rebinds, against what converted code
defines. Checks run on the trusted side unless they rebind the student's names."""

from __future__ import annotations

import ast
import builtins

from grader.authoring.importers.parts import Check, Parts, Skipped


def bound_names(tree: ast.AST) -> set[str]:
    """Names a piece of code assigns, or defines as functions and classes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def free_names(source: str) -> set[str]:
    """Names a piece of code reads without binding them (builtins aside), and the parameters
    of its ``test_*`` functions (Otter passes them from the student's namespace)."""
    tree = ast.parse(source)
    bound = bound_names(tree) | {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                                 if isinstance(n, (ast.Import, ast.ImportFrom))
                                 for a in n.names}
    found: set[str] = set()

    def visit(node, local: frozenset):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            a = node.args
            local = local | {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs
                             + [v for v in (a.vararg, a.kwarg) if v]}
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            found.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(tree, frozenset())
    return (found - bound - set(dir(builtins))) | (_test_parameters(tree) - bound)


def _test_parameters(tree: ast.Module) -> set[str]:
    return {a.arg for node in tree.body if isinstance(node, ast.FunctionDef)
            and node.name.startswith("test") for a in node.args.args}


def rebinds_student_names(source: str, names: set[str]) -> bool:
    """Whether a check deletes or assigns a name the student's code defines."""
    tree = ast.parse(source)
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))
               and n.id in names for n in ast.walk(tree)) or any(
        isinstance(n, ast.Global) for n in ast.walk(tree))


def drop_unrunnable(parts: Parts) -> None:
    """Leave out checks that need what was not converted or test nothing of the student's;
    checks that rebind the student's names run in the student's namespace."""
    defined = set()
    for text in parts.functions + [b[len("```python\n"):-4] for b in parts.blocks
                                   if b.startswith("```python\n")]:
        defined |= bound_names(ast.parse(text))
    kept = []
    for check in parts.checks:
        names = free_names(check.source)
        why = None
        if names & parts.lost:
            why = (f"it uses {', '.join(sorted(names & parts.lost))}, which no converted "
                   f"code defines")
        elif not names & defined:
            why = "it reads nothing the student writes, so it would pass on an empty notebook"
        elif rebinds_student_names(check.source, defined):
            if check.kind == "doctest":
                why = "it rebinds the student's names and compares printed output"
            else:
                check = Check(**{**check.__dict__, "kind": "in_namespace"})
                parts.skipped.append(Skipped(check.name, "runs in the student's process",
                                             "it rebinds the student's names, so its code "
                                             "(and the values it expects) is shipped there"))
        if why:
            parts.skipped.append(Skipped(check.name, f"test of {check.question} "
                                         f"({check.points:g} points)", why))
        else:
            kept.append(check)
    parts.checks = kept
    for qid in list(parts.questions):
        if not any(c.question == qid and c.points > 0 for c in kept):
            del parts.questions[qid]
            parts.checks = [c for c in parts.checks if c.question != qid]
            parts.blocks = [b for b in parts.blocks if b != f"<!-- check: {qid} -->"]
            if not any(s.what == f"question {qid}" for s in parts.skipped):
                parts.skipped.append(Skipped(qid, f"question {qid}", "none of its tests "
                                             "could be converted"))
