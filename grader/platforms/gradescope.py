"""Gradescope, natively: the autograder zip and what its ``run_autograder`` runs.

Gradescope's specification (``gradescope/autograder_samples``, ``docs/specs.md``): the zip is
unpacked into ``/autograder/source``; ``setup.sh`` runs once, as root, when the image is built;
``run_autograder`` runs once per submission, as root, in ``/autograder``, with the upload in
``/autograder/submission`` and ``/autograder/submission_metadata.json`` beside it, and must
write ``/autograder/results/results.json``. Here ``setup.sh`` installs the copy of dlgrade the
zip carries into a virtual environment with pip (no conda), and ``run_autograder`` runs
``python -m grader.platforms.gradescope NAME``: the sandbox grades the submission, the course
comes from the zip's own files, and every point is dlgrade's. No Otter is involved.

``DLGRADE_AUTOGRADER_ROOT`` stands for ``/autograder`` (the tests lay it out in a temporary
folder), ``DLGRADE_VENV`` for the virtual environment's folder.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from grader.core import text
from grader.core.deadlines import LatePolicy, duration_text, moment_text
from grader.core.grading import fault_exit, grade_submission, start_sandbox, ungraded
from grader.core.results import SubmissionResult, render_summary, sandbox_line
from grader.core.settings import Assignment, AssignmentError, course_secret, load_assignment
from grader.sandbox import SandboxRefused, probe

ROOT_VARIABLE = "DLGRADE_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
# Outside /root: each sandboxed worker runs as a uid of its own and must read the Python
# installation (README, "The sandbox").
VENV = "/opt/dlgrade-venv"
# The zip's layout, named as in the Otter zip (grader.platforms.otter).
COURSE_FOLDER = "dlgrade-course"  # assignments/NAME/ and solutions/NAME.py
SOURCE_IN_ZIP = "dlgrade-src"  # the dlgrade that setup.sh installs
SECRET_IN_ZIP = "dlgrade-secret"  # read once the sandbox's fork server runs, then deleted
RESULTS = "results/results.json"
METADATA = "submission_metadata.json"
SUFFIXES = (".ipynb", ".py")  # what a student may upload to be graded, in order of preference

SETUP = """#!/usr/bin/env bash
# dlgrade's Gradescope autograder: install the dlgrade this zip carries, with its grading
# extras, into a virtual environment with pip. Gradescope runs this once, as root, when it
# builds the autograder's image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV="${{DLGRADE_VENV:-{venv}}}"

apt_install() {{
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}}

# dlgrade needs Python 3.11 or newer: the image's python3 where it is one (Ubuntu 24.04's is
# 3.12), else Ubuntu's python3.11 package (22.04's python3 is 3.10).
PYTHON=""
for candidate in /usr/bin/python3 /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'
    then
        PYTHON="$candidate"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    apt_install python3.11 python3.11-venv
    PYTHON=/usr/bin/python3.11
fi

# Debian and Ubuntu ship venv's pip bootstrap in a package of its own (python3-venv).
if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    apt_install "$(basename "$PYTHON")-venv"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SOURCE/{source}[grade]"
chmod -R go+rX "$VENV"  # the workers' own uids read it
# A broken install fails the build here, not a student's submission later.
"$VENV/bin/python" -I -c "import grader.platforms.gradescope, scipy"
echo "dlgrade installed in $VENV with $("$VENV/bin/python" --version)"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, in /autograder: dlgrade grades the upload
# in /autograder/submission with the sandbox and the course in /autograder/source, and writes
# /autograder/results/results.json.
exec "${{DLGRADE_VENV:-{venv}}}/bin/python" -I -m grader.platforms.gradescope {name}
"""


# ---------------------------------------------------------------- the zip

def gradescope_zip(assignment: Assignment) -> bytes:
    """``NAME-gradescope.zip``: setup.sh, run_autograder, the course (no examples) and
    dlgrade's source; the course secret too when ``DLGRADE_SECRET`` is set. Byte-identical
    for the same inputs."""
    from grader.platforms.otter import _copy_package, normalise_zip

    entries = {"setup.sh": SETUP.format(venv=VENV, source=SOURCE_IN_ZIP).encode(),
               "run_autograder": RUN_AUTOGRADER.format(venv=VENV,
                                                       name=assignment.name).encode()}
    course = f"{COURSE_FOLDER}/assignments/{assignment.name}"
    entries.update(_files(assignment.folder, course, skip=("examples",)))
    entries[f"{COURSE_FOLDER}/solutions/{assignment.name}.py"] = assignment.reference.read_bytes()
    with tempfile.TemporaryDirectory(prefix="dlgrade-gradescope-") as folder:
        _copy_package(Path(__file__).resolve().parents[2], Path(folder) / SOURCE_IN_ZIP)
        entries.update(_files(Path(folder) / SOURCE_IN_ZIP, SOURCE_IN_ZIP))
    if os.environ.get("DLGRADE_SECRET"):
        entries[SECRET_IN_ZIP] = os.environ["DLGRADE_SECRET"].encode()
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    return normalise_zip(empty.getvalue(), entries)


def _files(folder: Path, prefix: str, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """The files under ``folder`` by their zip names, without caches and ``skip`` folders."""
    files = {}
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and parts[0] not in skip and "__pycache__" not in parts \
                and path.suffix != ".pyc":
            files[f"{prefix}/{'/'.join(parts)}"] = path.read_bytes()
    return files


# ---------------------------------------------------------------- run_autograder

class NoSubmission(Exception):
    """The upload holds no file to grade, or several: the message says which, to the student."""


def find_submission(folder: Path, name: str) -> Path:
    """``NAME.ipynb``, else the only notebook, else the only ``.py`` file of the upload."""
    if os.path.lexists(folder / f"{name}.ipynb"):  # a link too: grading refuses it, saying so
        return folder / f"{name}.ipynb"
    present = sorted(p for p in folder.iterdir() if not p.name.startswith(".")) \
        if folder.is_dir() else []
    files = [p for p in present if p.is_symlink() or not p.is_dir()]
    for suffix in SUFFIXES:
        found = [p for p in files if p.suffix.lower() == suffix]
        if len(found) == 1:
            return found[0]
        if found:
            raise NoSubmission(f"the upload holds {len(found)} {suffix} files "
                               f"({', '.join(p.name for p in found)}): upload only {name}.ipynb, "
                               f"or name the one to grade {name}.ipynb")
    listed = ", ".join(p.name + "/" * (p not in files) for p in present[:10]) or "nothing"
    raise NoSubmission(f"the upload holds no notebook (.ipynb) or Python file (.py) to grade "
                       f"(it holds {listed}): upload {name}.ipynb")


def submission_time(path: Path, policy: LatePolicy | None = None,
                    due_default: datetime | None = None) -> str | None:
    """What the output says of the submission's time: Gradescope's submission metadata's
    ``created_at`` against the student's due date (``users[0].assignment.due_date``, where
    Gradescope puts an extension, else the assignment's ``due_date``, else ``due:`` of
    assignment.yml) and ``late_due_date``; with a late policy, the penalty it takes. None
    without the file or a due date; times without an offset are read as UTC."""
    try:
        metadata = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return f"The submission time is not known ({METADATA} could not be read)."
    created, due, late_due = _times(metadata)
    due = due or due_default
    if due is None:
        return None
    if created is None:
        return f"The submission time is not known (due {moment_text(due)})."
    created = created.astimezone(due.tzinfo)  # both times as the due date is given
    if created <= due:
        return f"Submitted on time ({moment_text(created)}; due {moment_text(due)})."
    said = (f"**Submitted late**: {duration_text((created - due).total_seconds())} after the "
            f"due date ({moment_text(created)}; due {moment_text(due)}).")
    if late_due is not None:
        said += (f" That is also after the late due date ({moment_text(late_due)})."
                 if created > late_due else
                 f" That is within the late due date ({moment_text(late_due)}).")
    if policy is not None:
        fraction = policy.fraction((created - due).total_seconds())
        said += (f" Late penalty: {100 * fraction:g}% of your score ({policy.describe()})."
                 if fraction else " Within the grace period: no penalty.")
    return said


def late_fraction(path: Path, policy: LatePolicy | None,
                  due_default: datetime | None = None) -> float:
    """The fraction of the score the late policy takes, from the submission metadata."""
    if policy is None:
        return 0.0
    try:
        created, due, _ = _times(json.loads(path.read_text()))
    except (OSError, ValueError):
        return 0.0
    due = due or due_default
    if created is None or due is None or created <= due:
        return 0.0
    return policy.fraction((created - due).total_seconds())


def _times(metadata) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(created_at, the student's due date, late due date) from the submission metadata."""
    metadata = metadata if isinstance(metadata, dict) else {}
    assignment = metadata.get("assignment")
    assignment = assignment if isinstance(assignment, dict) else {}
    users = metadata.get("users")
    own = users[0].get("assignment") if isinstance(users, list) and users and isinstance(
        users[0], dict) else None
    own = own if isinstance(own, dict) else {}
    due = _moment(own.get("due_date")) or _moment(assignment.get("due_date"))
    late_due = _moment(own.get("late_due_date")) or _moment(assignment.get("late_due_date"))
    return _moment(metadata.get("created_at")), due, late_due


def _moment(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def gradescope_results(assignment: Assignment, result: SubmissionResult, graded: str,
                       timing: str | None, seconds: float) -> dict:
    """results.json as Gradescope specifies it: dlgrade's total, one entry per test numbered
    by question (``2.3`` is the third test of the second question), public checks visible,
    hidden tests at the assignment's ``gradescope.hidden_tests``; standard output for staff."""
    order = list(dict.fromkeys([*result.questions, *(t.question for t in result.tests)]))
    tests = []
    for number, question in enumerate(order, 1):
        title = assignment.questions.get(question)
        heading = f"{question} {title}" if title else question
        in_question = [t for t in result.tests if t.question == question]
        for index, test in enumerate(in_question, 1):
            public = test.visibility == "public"
            tests.append({"name": f"{heading}: {test.name.split('::')[-1]}",
                          "number": f"{number}.{index}", "score": test.score,
                          "max_score": test.max_score,
                          "status": "passed" if test.outcome == "passed" else "failed",
                          "output": _test_output(test), "output_format": "md",
                          "visibility": "visible" if public else
                          assignment.gradescope_hidden_tests})
    return {"score": result.score, "execution_time": round(seconds),
            "output": _summary(assignment, result, graded, timing), "output_format": "md",
            "stdout_visibility": "hidden", "tests": tests}


def _test_output(test) -> str:
    """One test's output, Markdown: a public check's message in a fence it cannot close; a
    hidden test's never (it may name the hidden inputs)."""
    partly = test.score > 0 and test.outcome != "passed"
    points = f"{test.score:g} of {test.max_score:g} points"
    if test.visibility != "public":
        if test.outcome == "passed":
            return "This hidden check passed."
        return (f"This hidden check {'partly passed (' + points + ')' if partly else 'failed'}: "
                f"its inputs and values are not shown.")
    if test.outcome == "passed":
        return "Passed."
    said = f"Partly passed ({points})." if partly else "Failed."
    if not test.message:
        return said
    fence = text.fence(test.message)
    return f"{said}\n\n{fence}text\n{test.message}\n{fence}"


def _summary(assignment: Assignment, result: SubmissionResult, graded: str,
             timing: str | None) -> str:
    """The submission's output, Markdown, for students: what was graded, the public checks,
    when the hidden tests are shown; no total while any test is hidden (Gradescope hides the
    total until hidden tests are shown: this text must not give it away)."""
    public = [t for t in result.tests if t.visibility == "public"]
    hidden = [t for t in result.tests if t.visibility != "public"]
    name = text.markdown(graded)
    lines = [f"**{name} was not graded.**" if result.status == "error" else
             f"dlgrade graded **{name}**."]
    if timing:
        lines.append(timing)
    if result.message:
        lines += ["", *(f"> {text.markdown(line)}" for line in result.message.splitlines())]
    passed = sum(t.outcome == "passed" for t in public)
    lines += ["", f"Public checks: {passed} of {len(public)} passed."]
    if hidden:
        when = {"after_published": "once your instructor publishes the grades",
                "after_due_date": "after the due date"}[assignment.gradescope_hidden_tests]
        points = sum(t.max_score for t in hidden)
        lines.append(f"Hidden tests: {len(hidden)}, worth {points:g} of the "
                     f"{result.max_score:g} points; their results and your total are shown "
                     f"{when}.")
    else:
        lines.append(f"Total: {result.score:g} / {result.max_score:g}.")
    if result.sandbox:
        lines += ["", f"Your code ran in dlgrade's sandbox: "
                      f"{sandbox_line(result.sandbox).removeprefix('sandbox: ')}."]
    return "\n".join(lines)


def run(name: str, root: Path, zygote) -> int:
    """Grade the upload under ``root`` and write its results.json; the sandbox's fork server
    ``zygote`` is already running. A misconfigured image raises (no results.json: Gradescope
    reports a failed autograder, and the student gets no score from it)."""
    started = time.monotonic()
    source, output = root / "source", root / RESULTS
    output.unlink(missing_ok=True)  # whatever happens next, no earlier file stands for ours
    if os.geteuid() == 0 and source.is_dir():  # where the OS refuses namespaces, permissions
        os.chmod(source, 0o700)                # still hide the course from the workers' uids
    assignment = load_assignment(str(source / COURSE_FOLDER / "assignments" / name))
    sandbox = assignment.policy.check(probe(zygote)[0])  # SandboxRefused: before any grading
    secret = _take_secret(source)
    try:
        path = find_submission(root / "submission", assignment.name)
    except NoSubmission as error:
        graded = "Your upload"
        result = ungraded(assignment, Path(graded), "error", str(error), False)
    else:
        graded = path.name
        result = grade_submission(assignment, path, zygote, secret=secret)
    timing = submission_time(root / METADATA, assignment.late, assignment.due)
    results = gradescope_results(assignment, result, graded, timing,
                                 time.monotonic() - started)
    fraction = late_fraction(root / METADATA, assignment.late, assignment.due)
    if fraction:  # the total Gradescope records; the tests keep what they earned
        results["score"] = round(result.score * (1 - fraction), 6)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    partial.write_text(json.dumps(results, indent=2))
    partial.replace(output)
    # Standard output is for the staff only (stdout_visibility: hidden).
    print(render_summary(result))
    print(f"\nrequired sandbox level: {sandbox['required']}; "
          f"hidden tests shown: {assignment.gradescope_hidden_tests}; {timing or 'no due date'}")
    return 0


def _take_secret(source: Path) -> bytes:
    """The course secret the zip carries, read and deleted (the sandbox is already running,
    and no student code has run yet); else ``DLGRADE_SECRET`` or the documented default."""
    path = source / SECRET_IN_ZIP
    if path.is_file():
        secret = path.read_bytes().strip()
        path.unlink()
        return secret
    if not os.environ.get("DLGRADE_SECRET"):
        print("dlgrade: warning: the zip carries no course secret (publish with DLGRADE_SECRET "
              "set): the hidden inputs are predictable from the submission alone")
    return course_secret()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grader.platforms.gradescope NAME (in Gradescope's run_autograder)",
              file=sys.stderr)
        return 2
    zygote = start_sandbox()  # first: before the course or the secret is read
    try:
        return run(args[0], Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT), zygote)
    except (AssignmentError, SandboxRefused) as error:
        print("dlgrade: the autograder is misconfigured, so nothing was graded:", file=sys.stderr)
        return fault_exit(error)
    finally:
        zygote.close()


if __name__ == "__main__":
    sys.exit(main())
