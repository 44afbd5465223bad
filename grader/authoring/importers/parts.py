"""What a notebook is read into: the parts of an assignment, what was left out, the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.core.settings import AssignmentError


class ImportFailure(AssignmentError):
    """The notebook cannot be imported: a bad marker (naming the cell and line), or a target
    that exists."""


@dataclass(frozen=True)
class Check:
    """One test of the notebook, as pytest will run it."""
    question: str
    name: str
    source: str
    kind: str  # doctest (output compared), functions (test_* called), asserts, in_namespace
    points: float
    hidden: bool
    want: str = ""
    failure: str = ""


@dataclass(frozen=True)
class Skipped:
    """Something of the notebook that the assignment does not have, and why."""
    where: str
    what: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}: {self.why}"


@dataclass
class Parts:
    """A notebook read into what an assignment is made of."""
    name: str
    title: str
    blocks: list[str] = field(default_factory=list)  # handout pieces, in order
    functions: list[str] = field(default_factory=list)  # solved definitions (reference)
    imports: list[str] = field(default_factory=list)  # import statements of the notebook
    questions: dict[str, str] = field(default_factory=dict)  # graded by tests: id -> title
    manual: dict[str, dict] = field(default_factory=dict)  # graded by people
    checks: list[Check] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    lost: set[str] = field(default_factory=set)  # names only unconverted code defines


@dataclass(frozen=True)
class ImportReport:
    name: str
    written: tuple[Path, ...]
    questions: tuple[str, ...]
    manual: tuple[str, ...]
    checks: int
    skipped: tuple[Skipped, ...]

    def render(self) -> str:
        lines = [f"imported {self.name}: {len(self.questions)} questions graded by tests "
                 f"({', '.join(self.questions)}), {self.checks} checks"
                 + (f"; graded by people: {', '.join(self.manual)}" if self.manual else "")]
        lines += [f"  wrote {path}" for path in self.written]
        if self.skipped:
            lines.append(f"not converted ({len(self.skipped)}):")
            lines += [f"  - {item}" for item in self.skipped]
        return "\n".join(lines)
