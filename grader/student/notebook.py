"""The notebook's ``grader``: ``grader = dlgrade.Notebook("NAME", "DIGEST")`` in the first code
cell, then ``grader.check("q3")`` and ``grader.check_all()``.

A published notebook carries its public checks in its metadata (``metadata.dlgrade``), so the
notebook alone is enough: in Colab, on a JupyterHub, in VS Code or JupyterLab, with or without
the ``tests/`` folder it was handed out with. The first cell holds the digest publishing gave
those checks; checks whose digest differs were edited after publishing and are reported, never
run. They decide nothing either way: grading uses the hidden suite, in the sandbox.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DIGEST_LENGTH = 16
INIT_CALL = re.compile(r"""dlgrade\.Notebook\(\s*["'](\w+)["']\s*,\s*["']([0-9a-f]+)["']""")
MAX_NOTEBOOK = 20 * 1024 * 1024
MAX_SCANNED = 50  # notebooks of the working folder read while looking for the checks


def digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:DIGEST_LENGTH]


@dataclass
class CarriedChecks:
    """The public checks a notebook carries, and what publishing said about them."""

    assignment: str
    source: str
    questions: list[str]
    required: list[str] = field(default_factory=list)
    functions: dict[str, list[str]] = field(default_factory=dict)  # question -> its functions
    limits: dict = field(default_factory=dict)
    imports: tuple[str, ...] = ("numpy", "scipy", "matplotlib")
    install: str = "dlgrade"
    where: str = ""  # the file they were read from


class ChecksAltered(Exception):
    """The checks found do not match the digest publishing gave them."""


def from_metadata(about: dict, where: str, expected: str | None) -> CarriedChecks | None:
    """The checks in a notebook's ``metadata.dlgrade`` (None: it carries none); raise
    ChecksAltered when they do not hash to ``expected`` (or, without it, to the digest the
    metadata itself records)."""
    carried = about.get("public_checks") if isinstance(about, dict) else None
    if not isinstance(carried, dict) or not isinstance(carried.get("source"), str):
        return None
    source = carried["source"]
    if digest(source) != (expected or carried.get("sha256")):
        raise ChecksAltered(where)
    limits = about.get("limits") if isinstance(about.get("limits"), dict) else {}
    return CarriedChecks(str(about.get("assignment", "")), source,
                         [str(q) for q in about.get("questions") or []],
                         [str(n) for n in about.get("required") or []],
                         dict(about.get("functions") or {}), limits,
                         tuple(CarriedChecks.imports if about.get("imports") is None
                               else about["imports"]),
                         str(about.get("install") or CarriedChecks.install), where)


def read_metadata(path: Path) -> dict:
    try:
        if path.stat().st_size > MAX_NOTEBOOK:
            return {}
        about = json.loads(path.read_text(encoding="utf-8"))["metadata"]["dlgrade"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return about if isinstance(about, dict) else {}


class Verdict:
    """What a check shows in its cell: the text ``dlgrade check`` prints."""

    def __init__(self, passed: bool, text: str):
        self.passed, self.text = passed, text

    def __repr__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return self.passed


class Notebook:
    """The notebook's ``grader``: finds the checks this notebook carries, and runs them against
    the notebook's own namespace."""

    def __init__(self, assignment: str, checks_digest: str):
        self.assignment, self.digest = assignment, checks_digest
        self.checks: CarriedChecks | None = None
        self.problem: str | None = None
        try:
            self.checks = self._find()
        except ChecksAltered as error:
            self.problem = (f"The public checks inside {error} were changed after the notebook "
                            f"was published, so they are not run: download the notebook again "
                            f"and copy your code into it.")
        if self.checks is None and self.problem is None:
            self.problem = (f"The public checks of {assignment} were not found: they travel "
                            f"inside the notebook. Save it (File > Save), open it from the "
                            f"folder it is in, and run this cell again.")
        if self.problem:
            print(self.problem)
        from grader.student.kernel import explain_missing_modules

        carried = self.checks or CarriedChecks(assignment, "", [])
        explain_missing_modules(carried.imports, carried.install)

    def check(self, question: str) -> Verdict:
        """Run ``question``'s public checks on what this notebook has defined so far."""
        return self._run([question], sys._getframe(1).f_globals)

    def export(self, path: str | None = None) -> str:
        """Write ``NAME-answers.pdf`` from the saved notebook (``path``, else this one, as
        found for the checks): the answers to the questions people grade, one per page.
        Save the notebook first: the PDF holds what the file holds."""
        from grader.student.pdf import PdfError, write_pdf

        notebook = Path(path) if path else next(
            (Path(where) for where, about in self._candidates()
             if about.get("assignment") == self.assignment and Path(where).is_file()), None)
        if notebook is None:
            return (f"The notebook file of {self.assignment} was not found: save it, then "
                    f"call grader.export(\"{self.assignment}.ipynb\") with its name.")
        manual = read_metadata(notebook).get("manual") or {}
        try:
            return f"Wrote {write_pdf(notebook, self.assignment, manual)}: upload it."
        except PdfError as error:
            return str(error)

    def check_all(self) -> Verdict:
        """Run every question's public checks."""
        questions = self.checks.questions if self.checks else []
        return self._run(questions, sys._getframe(1).f_globals, every=True)

    def _run(self, questions: list[str], namespace: dict, every: bool = False) -> Verdict:
        if self.checks is None:
            return Verdict(False, self.problem or "")
        unknown = [q for q in questions if q not in self.checks.questions]
        if unknown:
            return Verdict(False, f"there is no question {unknown[0]!r}: the questions are "
                                  f"{', '.join(self.checks.questions)}")
        try:
            from grader.student.kernel import (
                import_problems,
                question_text,
                run_public_checks,
                summary,
            )

            timeout = self.checks.limits.get("call_timeout")
            texts, passing = [], 0
            for question in questions:
                results = run_public_checks(question, namespace, self.checks.source, timeout)
                passed = bool(results) and all(r.outcome == "passed" for r in results)
                passing += passed
                texts.append(question_text(question, results))
        except ModuleNotFoundError as error:
            return Verdict(False, f"The public checks need {error.name}, which this Python "
                                  f"does not have: run %pip install \"{self.checks.install}\" "
                                  f"in a cell, then run this cell again.")
        if every:
            texts += ["", summary(passing, len(questions))]
        notes = import_problems(_cells_run(namespace), self.checks.imports)
        texts += [f"Note: {note}." for note in notes]
        return Verdict(passing == len(questions), "\n".join(texts))

    def _find(self) -> CarriedChecks | None:
        altered = None
        for where, about in self._candidates():
            if about.get("assignment") != self.assignment:
                continue
            try:
                found = from_metadata(about, where, self.digest)
            except ChecksAltered as error:
                altered = altered or error
                continue
            if found:
                return found
        found = embedded_checks(Path("tests"))
        if found and digest(found[0]) == self.digest:
            return CarriedChecks(self.assignment, found[0], found[1], where="tests/")
        if altered:
            raise altered
        return None

    def _candidates(self):
        """``(where, metadata.dlgrade)`` of the notebooks that may be this one: the one the
        front end says it runs (Colab, VS Code, Jupyter Server), then ``NAME.ipynb`` and the
        other notebooks of the working folder, newest first."""
        colab = sys.modules.get("google.colab")
        if colab is not None:
            try:
                from google.colab import _message

                notebook = _message.blocking_request("get_ipynb", request="", timeout_sec=20)
                yield "this notebook", notebook["ipynb"]["metadata"]["dlgrade"]
            except Exception:
                pass
        named = [os.environ.get("JPY_SESSION_NAME", ""),
                 str(_user_namespace().get("__vsc_ipynb_file__", ""))]
        mine = Path(f"{self.assignment}.ipynb")
        local = [mine] if mine.is_file() else []
        local += sorted((p for p in Path(".").glob("*.ipynb") if p.name != mine.name),
                        key=_age)[:MAX_SCANNED]
        seen = set()
        for path in [Path(name) for name in named if name.endswith(".ipynb")] + local:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                yield path.name, read_metadata(path)


def embedded_checks(folder: Path) -> tuple[str, list[str]] | None:
    """The public checks the Otter check files of ``folder`` embed (``PUBLIC_CHECKS``, read as
    data, never run) and their questions; None unless they all embed the same."""
    files = sorted(folder.glob("q*.py"), key=_natural)
    sources = {_embedded(f) for f in files} - {None}
    return (sources.pop(), [f.stem for f in files]) if len(sources) == 1 else None


def _natural(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem)]


def _embedded(path: Path) -> str | None:
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and
                                                t.id == "PUBLIC_CHECKS" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


def _age(path: Path) -> float:
    try:
        return -path.stat().st_mtime
    except OSError:
        return 0.0


def _user_namespace() -> dict:
    from grader.student.kernel import _shell

    shell = _shell()
    return getattr(shell, "user_ns", None) or {}


def _cells_run(namespace: dict) -> list[str]:
    """The sources of the cells this kernel ran (IPython's input history)."""
    history = namespace.get("In") or _user_namespace().get("In") or []
    return [cell for cell in history if isinstance(cell, str)]
