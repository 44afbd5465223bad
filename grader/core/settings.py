"""An assignment's settings, read once from ``assignment.yml`` and validated.

Precedence: environment (``DLGRADE_SECRET``, ``DLGRADE_SECRET_FILE``,
``DLGRADE_ALLOW_UNCONFINED``, which ``--allow-unconfined`` sets) over ``assignment.yml`` over
the defaults of ``Limits`` and ``Policy``. Errors name the file and the bad key.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from grader.core.deadlines import DeadlineError, LatePolicy, parse_due, parse_late
from grader.sandbox import Limits, Policy
from grader.sandbox.levels import DEFAULT_REQUIRED, LEVELS

CONFIG_FILE = "assignment.yml"
KNOWN_KEYS = {"name", "title", "reference", "tests", "limits", "questions", "sandbox", "install",
              "imports", "gradescope", "due", "late", "manual"}
# What student code may import besides the standard library, unless assignment.yml says.
DEFAULT_IMPORTS = ("numpy", "scipy", "matplotlib")
DEFAULT_SECRET = "dlgrade-default-secret"  # documented: set DLGRADE_SECRET in production
# When Gradescope shows students the hidden tests' results (and so their total): Gradescope's
# own visibility values. Public checks are always visible.
HIDDEN_TESTS_SHOWN = ("after_published", "after_due_date")
GRADESCOPE_KEYS = {"hidden_tests"}


class AssignmentError(Exception):
    """The assignment's files are missing or invalid (an instructor's error, reported loudly)."""


@dataclass(frozen=True)
class Assignment:
    name: str
    folder: Path
    tests: Path
    reference: Path
    limits: Limits
    questions: dict[str, str]  # id -> title, in the order the handout gives them
    required_level: str = DEFAULT_REQUIRED  # the sandbox level grading requires
    imports: tuple[str, ...] = DEFAULT_IMPORTS  # what student code may import (and stdlib)
    install: str = ""  # the notebook's first cell pip-installs this when dlgrade is missing
    # Gradescope's visibility of hidden tests (gradescope.hidden_tests): HIDDEN_TESTS_SHOWN.
    gradescope_hidden_tests: str = HIDDEN_TESTS_SHOWN[0]
    due: datetime | None = None  # when it is due (aware), for every student without extension
    late: LatePolicy | None = None  # what lateness costs (grader.core.deadlines)
    title: str = ""  # the assignment's title, as an LMS's gradebook column names it
    points: dict = dataclasses.field(default_factory=dict)  # question -> points stated
    # Questions graded by people (a written answer, a figure): id -> ManualQuestion.
    manual: dict = dataclasses.field(default_factory=dict)

    @property
    def policy(self) -> Policy:
        return Policy(self.required_level, allow_unconfined())

    def hidden_paths(self) -> list[Path]:
        """What a worker must not see: the course's assignments and solutions folders."""
        course = self.folder.parent if self.folder.parent.name == "assignments" else self.folder
        solutions = self.reference.parent
        hidden = [course, self.tests,
                  solutions if solutions.name == "solutions" else self.reference]
        secret_file = os.environ.get("DLGRADE_SECRET_FILE")
        if secret_file:
            hidden.append(Path(secret_file).resolve())
        return sorted(set(hidden))


def find_assignment(name_or_path: str) -> Path:
    """A folder path, or a folder name under ./assignments."""
    for candidate in (Path(name_or_path), Path("assignments") / name_or_path):
        if (candidate / CONFIG_FILE).is_file():
            return candidate.resolve()
    raise AssignmentError(f"no assignment {name_or_path!r}: looked for {CONFIG_FILE} in "
                          f"{name_or_path}/ and assignments/{name_or_path}/")


def load_assignment(name_or_path: str) -> Assignment:
    folder = find_assignment(name_or_path)
    config_path = folder / CONFIG_FILE
    try:
        config = yaml.safe_load(config_path.read_text())
    except yaml.YAMLError as error:
        raise AssignmentError(f"{config_path}: not valid YAML ({error})") from None
    if not isinstance(config, dict):
        raise AssignmentError(f"{config_path}: expected a mapping of keys to values")
    unknown = sorted(set(config) - KNOWN_KEYS)
    if unknown:
        raise AssignmentError(f"{config_path}: unknown key {unknown[0]!r} "
                              f"(known: {', '.join(sorted(KNOWN_KEYS))})")
    name = _string(config, "name", config_path, default=folder.name)
    limits = parse_limits(config.get("limits") or {}, config_path)
    questions, points = _questions(config.get("questions") or {}, config_path)
    tests = folder / _string(config, "tests", config_path, default="tests")
    reference = (folder / _string(config, "reference", config_path,
                                  default=f"../../solutions/{name}.py")).resolve()
    for path, what in ((tests, "tests folder"), (reference, "reference solution")):
        if not path.exists():
            raise AssignmentError(f"{config_path}: the {what} {path} does not exist")
    required = _string(config, "sandbox", config_path, default=DEFAULT_REQUIRED)
    if required not in LEVELS:
        raise AssignmentError(f"{config_path}: sandbox must be one of {', '.join(LEVELS)}, "
                              f"got {required!r}")
    imports = _imports(config.get("imports", list(DEFAULT_IMPORTS)), config_path)
    install = _string(config, "install", config_path, default=default_install())
    hidden_tests = _gradescope(config.get("gradescope") or {}, config_path)
    due, late = _deadline(config, config_path)
    return Assignment(name, folder, tests.resolve(), reference, limits, questions, required,
                      imports, install, hidden_tests, due, late,
                      str(config.get("title") or ""), points,
                      _manual(config.get("manual") or {}, config_path, questions))


def _deadline(config: dict, path: Path) -> tuple[datetime | None, LatePolicy | None]:
    """``due:`` and ``late:``; an error names the file, the line and the key."""
    due = late = None
    try:
        if "due" in config:
            due = parse_due(config["due"], f"{path}, line {key_line(path, 'due')}: due")
        if "late" in config:
            late = parse_late(config["late"], f"{path}, line {key_line(path, 'late')}")
    except DeadlineError as error:
        raise AssignmentError(str(error)) from None
    return due, late  # late without due: the due dates come from Gradescope or extensions


def key_line(path: Path, key: str) -> int | str:
    """The line of the top-level ``key`` in the YAML file ``path`` (1-based), or ``?``."""
    return key_lines(path).get(key, "?")


def key_lines(path: Path) -> dict[str, int]:
    """The line (1-based) of each top-level key of the YAML file ``path``, for errors; empty
    where it cannot be read."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return {str(name.value): name.start_mark.line + 1
            for name, _ in getattr(root, "value", ()) if hasattr(name, "value")}


def default_install() -> str:
    """The released package, at the version publishing ran with."""
    from grader import __version__

    return f"dlgrade=={__version__}"


# Top-level modules a distribution installs beside its own name (matplotlib brings
# mpl_toolkits and pylab), for where the installed distributions cannot be asked.
COMPANIONS = {"matplotlib": ("mpl_toolkits", "pylab")}


@functools.cache
def importable_names(allowed: tuple[str, ...]) -> frozenset[str]:
    """The top-level modules student code may import: the allowed ones and the others their
    distributions install."""
    names = set(allowed)
    names.update(companion for name in allowed for companion in COMPANIONS.get(name, ()))
    owners = module_owners()
    distributions = {owner for name in allowed for owner in owners.get(name, ())}
    names.update(module for module, of in owners.items() if distributions & set(of))
    return frozenset(names)


@functools.cache
def module_owners() -> dict[str, list[str]]:
    """Each installed top-level module's distributions; empty where the installation's
    metadata is broken (then the names given and the known companions only). Reading it takes
    a tenth of a second: a grading process reads it once, before it forks."""
    try:
        from importlib.metadata import packages_distributions

        return packages_distributions()
    except Exception:  # noqa: BLE001  (any failure of a broken installation's metadata)
        return {}


def allowed_text(allowed) -> str:
    """What student code may import, in words: ``the standard library, numpy and scipy``."""
    names = ["the standard library", *allowed]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _imports(value, where: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
            isinstance(name, str) and name.isidentifier() for name in value):
        raise AssignmentError(f"{where}: imports must be a list of top-level module names "
                              f"(e.g. [numpy, scipy]), got {value!r}")
    return tuple(value)


def _gradescope(value, where: Path) -> str:
    """``gradescope: {hidden_tests: after_published}``: when hidden tests are shown."""
    if not isinstance(value, dict):
        raise AssignmentError(f"{where}: gradescope must be a mapping (e.g. "
                              f"{{hidden_tests: after_published}}), got {value!r}")
    for key in value:
        if key not in GRADESCOPE_KEYS:
            raise AssignmentError(f"{where}: unknown key 'gradescope.{key}' "
                                  f"(known: {', '.join(sorted(GRADESCOPE_KEYS))})")
    shown = value.get("hidden_tests", HIDDEN_TESTS_SHOWN[0])
    if shown not in HIDDEN_TESTS_SHOWN:
        raise AssignmentError(f"{where}: gradescope.hidden_tests must be one of "
                              f"{', '.join(HIDDEN_TESTS_SHOWN)}, got {shown!r}")
    return shown


def _string(config: dict, key: str, where: Path, default: str) -> str:
    value = config.get(key, default)
    if not isinstance(value, str) or not value:
        raise AssignmentError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class ManualQuestion:
    """A question people grade: a written answer, and a figure where ``figure``."""
    title: str
    points: float
    figure: bool
    rubric: tuple[tuple[float, str], ...]  # (points, what earns them), in order


MANUAL_KEYS = ("title", "points", "figure", "rubric")


def _manual(value, where: Path, questions: dict) -> dict[str, ManualQuestion]:
    """``manual: {q7: {title, points, figure, rubric: [{points: 2, item: ...}, ...]}}``."""
    if not isinstance(value, dict):
        raise AssignmentError(f"{where}: manual must map question ids to questions")
    found = {}
    for qid, entry in value.items():
        at = f"{where}, line {key_line(where, 'manual')}: manual.{qid}"
        if not isinstance(qid, str) or not qid.isidentifier():
            raise AssignmentError(f"{at}: a question id is a name such as q7")
        if qid in questions:
            raise AssignmentError(f"{at}: {qid} is also a question its tests grade")
        if not isinstance(entry, dict):
            raise AssignmentError(f"{at}: expected {{title, points, figure, rubric}}")
        unknown = sorted(set(entry) - set(MANUAL_KEYS))
        if unknown:
            raise AssignmentError(f"{at}: unknown key {unknown[0]!r} (known: "
                                  f"{', '.join(MANUAL_KEYS)})")
        points = entry.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            raise AssignmentError(f"{at}.points must be a positive number, got {points!r}")
        rubric = []
        for number, item in enumerate(entry.get("rubric") or [], 1):
            if not isinstance(item, dict) or set(item) != {"points", "item"} or isinstance(
                    item["points"], bool) or not isinstance(item["points"], (int, float)) \
                    or item["points"] <= 0 or not isinstance(item["item"], str):
                raise AssignmentError(f"{at}.rubric, item {number}: expected {{points: N, "
                                      f"item: what earns them}}, got {item!r}")
            rubric.append((float(item["points"]), item["item"]))
        if rubric and abs(sum(p for p, _ in rubric) - points) > 1e-9:
            raise AssignmentError(f"{at}: its rubric adds up to "
                                  f"{sum(p for p, _ in rubric):g} points, not {points:g}")
        if not isinstance(entry.get("figure", False), bool):
            raise AssignmentError(f"{at}.figure must be true or false")
        found[qid] = ManualQuestion(str(entry.get("title", "")), float(points),
                                    entry.get("figure", False), tuple(rubric))
    return found


def _questions(value, where: Path) -> tuple[dict[str, str], dict[str, float]]:
    """``q1: title``, or ``q1: {title: ..., points: 6}`` (the points its tests must add up
    to, checked by publishing): the titles, and the points stated."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise AssignmentError(f"{where}: questions must map question ids to titles")
    titles, points = {}, {}
    for key, entry in value.items():
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - {"title", "points"})
            if unknown:
                raise AssignmentError(f"{where}: unknown key 'questions.{key}.{unknown[0]}' "
                                      f"(known: title, points)")
            stated = entry.get("points")
            if stated is not None and (isinstance(stated, bool) or not isinstance(
                    stated, (int, float)) or stated <= 0):
                raise AssignmentError(f"{where}: questions.{key}.points must be a positive "
                                      f"number, got {stated!r}")
            titles[key] = str(entry.get("title", ""))
            if stated is not None:
                points[key] = float(stated)
        else:
            titles[key] = str(entry)
    return titles, points


def parse_limits(values, where) -> Limits:
    """Limits from a mapping; each value must be a positive number of the field's type."""
    if not isinstance(values, dict):
        raise AssignmentError(f"{where}: limits must be a mapping, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(Limits)}
    chosen = {}
    for key, value in values.items():
        if key not in fields:
            raise AssignmentError(f"{where}: unknown key 'limits.{key}' "
                                  f"(known: {', '.join(fields)})")
        kind = int if fields[key].type in ("int", int) else float
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 \
                or (kind is int and value != int(value)):
            raise AssignmentError(f"{where}: limits.{key} must be a positive "
                                  f"{'whole ' if kind is int else ''}number, got {value!r}")
        chosen[key] = kind(value)
    return Limits(**chosen)


def course_secret() -> bytes:
    """The secret that seeds test inputs: DLGRADE_SECRET, else the file DLGRADE_SECRET_FILE,
    else a documented default (inputs are then predictable from the submission alone)."""
    if os.environ.get("DLGRADE_SECRET"):
        return os.environ["DLGRADE_SECRET"].encode()
    path = os.environ.get("DLGRADE_SECRET_FILE")
    if path:
        try:
            return Path(path).read_bytes().strip()
        except OSError as error:
            raise AssignmentError(f"DLGRADE_SECRET_FILE={path}: {error.strerror}") from None
    return DEFAULT_SECRET.encode()


def allow_unconfined() -> bool:
    """Grade below the required sandbox level (recorded in every result): set by
    ``--allow-unconfined``, or ``DLGRADE_ALLOW_UNCONFINED=1``."""
    return os.environ.get("DLGRADE_ALLOW_UNCONFINED", "") not in ("", "0")
