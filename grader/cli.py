"""The ``dlgrade`` command: a thin layer over the package's functions.

Kept light to import: ``dlgrade run`` is sent to the grading server (``grader.server``) when
one can serve it, and run here otherwise; every other command runs here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlgrade", description=(
        "Grade deep-learning assignments: student code runs sandboxed, every check and "
        "score stays in the trusted process."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="grade one submission",
                              description="Grade one submission and print its result.")
    _assignment_argument(run)
    run.add_argument("submission", metavar="SUBMISSION", type=Path,
                     help="a notebook (.ipynb) or a Python file (.py)")
    run.add_argument("--json", action="store_true",
                     help="print the result as one JSON object")
    _unconfined_argument(run)
    run.set_defaults(handler=command_run)

    grade = commands.add_parser(
        "grade", help="grade a whole class: gradebook, feedback, report",
        description="Grade every submission in PATH... (files, folders, zips; one per student, "
                    "the latest) into OUT: gradebook.csv, final_grades.csv, results/, "
                    "feedback/, report.html. Resumes where an interrupted run stopped and "
                    "grades again only what changed.")
    _assignment_argument(grade)
    grade.add_argument("paths", metavar="PATH", nargs="+",
                       help="a submission, a folder of submissions, or a zip of them")
    grade.add_argument("-o", "--out", required=True, type=Path, metavar="OUT",
                       help="the folder to write into (created if needed)")
    grade.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1, metavar="N",
                       help="grading processes on this machine (default: the number of cores)")
    grade.add_argument("--force", action="store_true",
                       help="grade every submission again, even those up to date")
    grade.add_argument("--only", metavar="STUDENTS", type=_students,
                       help="grade these students again (comma-separated, as the gradebook "
                            "names them) and keep every other student's result as it is (one "
                            "never graded is graded too); the gradebooks and report keep them all")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the Dask cluster whose scheduler is at ADDRESS "
                            "(e.g. tcp://head:8786) instead of --jobs local processes")
    grade.add_argument("--pattern", metavar="REGEX",
                       help="how file names give the student (group 'student') and attempt "
                            "(optional group 'attempt'), e.g. '(?P<student>.+)-(?P<attempt>\\d+)'")
    logistics = grade.add_argument_group(
        "who and when", "CSV files (kept in OUT/.dlgrade/inputs/ and used by every later run "
                        "until another is given; one with a header only clears it)")
    logistics.add_argument("--roster", type=Path, metavar="CSV",
                           help="every student: a row each, status missing for those who "
                                "submitted nothing; its columns are kept in the gradebook")
    logistics.add_argument("--roster-id", metavar="COLUMN",
                           help="the roster's column naming each student (default: the first "
                                "of username, login, SIS Login ID, email, sid, ID, ...)")
    logistics.add_argument("--extensions", type=Path, metavar="CSV",
                           help="columns student and due (a date and time) or days or hours "
                                "(added to the assignment's due date)")
    logistics.add_argument("--submitted-at", type=Path, metavar="CSV",
                           help="columns student and submitted_at: wins over the platform's, "
                                "the zip's and the file's time")
    logistics.add_argument("--overrides", type=Path, metavar="CSV",
                           help="columns student, question (or total), points or delta, "
                                "reason: changes by hand, shown to the student with the reason")
    logistics.add_argument("--manual", type=Path, metavar="CSV",
                           help="scores of the questions people grade: columns student, "
                                "question, points or rubric (items earned), comment (the "
                                "template is OUT/manual/scores.csv)")
    grade.add_argument("--compare-with", metavar="PAST", action="append", default=[],
                       help="also compare the class's code with these submissions of an "
                            "earlier term (a folder or a zip; repeatable), in the report's "
                            "similarity section")
    _unconfined_argument(grade)
    grade.set_defaults(handler=command_grade)

    check = commands.add_parser(
        "check", help="run a notebook's public checks, or check it is ready to submit",
        description="Run the public checks of NOTEBOOK outside Jupyter, in the sandbox, with "
                    "the messages the notebook shows. Exit 0 when every check (and, with "
                    "--submit, every submission check) passes, 1 otherwise.")
    check.add_argument("notebook", metavar="NOTEBOOK", type=Path,
                       help="your notebook (.ipynb) or Python file")
    check.add_argument("-q", "--question", metavar="QID", help="only this question (e.g. q3)")
    check.add_argument("--submit", action="store_true",
                       help="also check what grading needs: the file reads, is named as "
                            "expected, defines every function, runs top to bottom without "
                            "errors in time, holds no huge outputs")
    check.add_argument("--pdf", action="store_true",
                       help="with --submit: write NAME-answers.pdf, the answers to the "
                            "questions people grade, one per page, for a PDF assignment "
                            "(printed by the system's Chromium; an empty answer's page says "
                            "so)")
    check.add_argument("--zip", action="store_true",
                       help="with --submit: when ready, write NAME-submission.zip to upload")
    check.set_defaults(handler=command_check)

    publish = commands.add_parser(
        "publish", help="build student notebooks and autograder zips, behind gates",
        description="Build an assignment's student notebook, public checks and autograder zip. "
                    "Nothing is written unless every gate passes.")
    publish.add_argument("names", metavar="NAME", nargs="*",
                         help="assignments to publish (default: every folder in ./assignments)")
    from grader.authoring.examples import GATE_DRAWS

    publish.add_argument("--check", action="store_true",
                         help="run every gate but write nothing; exit 1 if a gate fails or a "
                              "committed generated file is out of date")
    publish.add_argument("--gradescope", action="store_true",
                         help="also write dist/NAME-gradescope.zip, an autograder for "
                              "Gradescope that installs dlgrade with pip and grades without "
                              "Otter")
    publish.add_argument("--draws", type=int, default=GATE_DRAWS, metavar="N",
                         help="grade the reference and every example under N draws of the "
                              f"hidden inputs (default {GATE_DRAWS})")
    publish.set_defaults(handler=command_publish)

    doctor = commands.add_parser(
        "doctor", help="what the sandbox can do on this machine, and how to get the rest",
        description="Start one sandboxed worker and report each confinement layer (applied, "
                    "or missing and why), the level reached, whether it meets the level "
                    "grading requires, and what a worker start costs. Exit 0 when it does.")
    doctor.add_argument("assignment", metavar="ASSIGNMENT", nargs="?",
                        help="check against this assignment's required level (default: "
                             "the default requirement)")
    doctor.set_defaults(handler=command_doctor)

    new = commands.add_parser("new", help="start a new assignment that publishes as it is",
                              description="Create assignments/NAME and solutions/NAME.py here.")
    new.add_argument("name", metavar="NAME", help="the assignment's name (a Python identifier)")
    new.set_defaults(handler=command_new)

    imported = commands.add_parser(
        "import", help="turn an Otter Assign or nbgrader notebook into an assignment",
        description="Write assignments/NAME and solutions/NAME.py here from an Otter Assign "
                    "master notebook or an nbgrader source notebook; list what was not "
                    "converted.")
    imported.add_argument("format", choices=["otter", "nbgrader"],
                          help="otter: an Otter Assign master notebook; nbgrader: a source "
                               "notebook")
    imported.add_argument("notebook", metavar="NOTEBOOK", type=Path)
    imported.add_argument("--name", help="the assignment's name (default: the notebook's "
                                         "config name, else its file name)")
    imported.add_argument("--force", action="store_true",
                          help="replace an assignment of that name")
    imported.set_defaults(handler=command_import)
    return parser


def _unconfined_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-unconfined", action="store_true",
                        help="grade even where the sandbox cannot reach the level the "
                             "assignment requires (every result records it)")


def _assignment_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", metavar="ASSIGNMENT",
                        help="an assignment folder, or a folder name under ./assignments")


def command_run(args, zygote) -> int:
    from grader.core.grading import grade_and_render

    print(grade_and_render(args.assignment, args.submission, args.json, zygote))
    return 0


def command_grade(args, zygote) -> int:
    from grader.batch import Options, grade_batch
    from grader.batch.collect import CollectionError
    from grader.core.grading import require_allowed_modules
    from grader.core.settings import load_assignment
    from grader.sandbox import probe

    sandbox, _ = probe(zygote)  # refuse before anything is graded, not once per submission
    zygote.close()  # a batch grades in its own processes, each with its own sandbox
    assignment = load_assignment(args.assignment)
    sandbox = assignment.policy.check(sandbox)
    import grader.batch.outputs  # noqa: F401  (without the grading extras, say so first)

    require_allowed_modules(assignment)
    options = Options(assignment, args.paths, args.out, args.jobs, args.force, args.scheduler,
                      args.pattern, sandbox, args.only,
                      {"roster": args.roster, "extensions": args.extensions,
                       "submitted-at": args.submitted_at, "overrides": args.overrides,
                       "manual": args.manual},
                      args.roster_id, tuple(args.compare_with))
    try:
        return grade_batch(options, say=lambda line: print(line, flush=True))
    except CollectionError as error:
        print(f"dlgrade: error: {error}", file=sys.stderr)
        return 2


def _students(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no student")
    return names


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def command_check(args, zygote) -> int:
    from grader.student.checking import (
        CheckError,
        find_checks,
        render_checks,
        run_all_problems,
        run_notebook,
        submit_problems,
        write_upload,
    )

    if not args.notebook.is_file():
        print(f"dlgrade: error: {args.notebook}: no such file", file=sys.stderr)
        return 2
    try:
        checks = find_checks(args.notebook)
    except CheckError as error:
        print(f"dlgrade: error: {error}", file=sys.stderr)
        return 2
    if args.question and args.question not in checks.questions:
        print(f"dlgrade: error: no question {args.question!r}: the questions are "
              f"{', '.join(checks.questions)}", file=sys.stderr)
        return 2
    run = run_notebook(args.notebook, checks, zygote)
    print(render_checks(args.notebook, checks, run, args.question, run_all=not args.submit))
    failed = bool(run.error) or any(r.outcome != "passed" for r in run.results
                                    if r.question == (args.question or r.question))
    if not args.submit:
        return 1 if failed or run_all_problems(checks, run) else 0
    problems = submit_problems(args.notebook, checks, run)
    print(f"\nBefore you submit {args.notebook.name}:")
    if not problems:
        print("  ready: it reads, defines every function and runs top to bottom without "
              "errors within its time limit")
        if args.zip:
            print(f"  wrote {write_upload(args.notebook, checks)}: upload this file")
        if args.pdf:
            return _answers_pdf(args.notebook, checks) or (1 if failed else 0)
        return 1 if failed else 0
    for problem in problems:
        print(f"  - fix: {problem}")
    print(f"  not ready: {len(problems)} thing{'s' if len(problems) > 1 else ''} to fix")
    if args.pdf:  # what the file holds now, empty answers said empty on their pages
        return _answers_pdf(args.notebook, checks) or 1
    return 1


def _answers_pdf(notebook: Path, checks) -> int:
    from grader.student.pdf import PdfError, write_pdf

    try:
        print(f"  wrote {write_pdf(notebook, checks.assignment, checks.manual)}: upload it "
              f"to the PDF assignment (one question per page)")
    except PdfError as error:
        print(f"dlgrade: error: {error}", file=sys.stderr)
        return 2
    return 0


def command_publish(args, zygote) -> int:
    from grader.authoring.publishing import publish
    from grader.core.settings import load_assignment

    names = args.names or sorted(p.name for p in Path("assignments").iterdir()
                                 if (p / "assignment.yml").is_file())
    if not names:
        print("dlgrade: error: no assignments to publish (no assignments/*/assignment.yml)",
              file=sys.stderr)
        return 2
    failed = False
    for name in names:
        assignment = load_assignment(name)
        report = publish(assignment, write=not args.check, draws=args.draws,
                         gradescope=args.gradescope)
        print(f"{assignment.name}:\n{report.render()}")
        if report.problems:
            print(f"{assignment.name}: NOT {'publishable' if args.check else 'published'}: "
                  f"{len(report.problems)} gate(s) failed")
            failed = True
        elif args.check:
            print(f"{assignment.name}: every gate passes; generated files are up to date")
        else:
            written = [f"student_template/{assignment.name}/",
                       f"dist/{assignment.name}-autograder.zip",
                       *([f"dist/{assignment.name}-gradescope.zip"] if args.gradescope else [])]
            print(f"{assignment.name}: published {', '.join(written[:-1])} and {written[-1]}")
    return 1 if failed else 0


def command_doctor(args, zygote) -> int:
    from grader.core.results import sandbox_line
    from grader.core.settings import load_assignment
    from grader.sandbox import levels, probe

    sandbox, seconds = probe(zygote)
    required = (load_assignment(args.assignment).required_level if args.assignment
                else levels.DEFAULT_REQUIRED)
    print(levels.report(sandbox, required, seconds))
    print(sandbox_line(sandbox))
    return 0 if levels.meets(sandbox["level"], required) else 1


def command_new(args, zygote) -> int:
    from grader.authoring.scaffold import new_assignment

    for path in new_assignment(args.name, Path.cwd()):
        print(f"created {path}")
    print(f"next: edit them, then run: dlgrade publish {args.name}")
    return 0


def command_import(args, zygote) -> int:
    from grader.authoring.importers import import_notebook

    report = import_notebook(args.format, args.notebook, Path.cwd(), args.name, args.force)
    print(report.render())
    print(f"next: read what was not converted, then run: dlgrade publish {report.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if getattr(args, "allow_unconfined", False):
        os.environ["DLGRADE_ALLOW_UNCONFINED"] = "1"  # for every process grading under us
    if args.command == "run" and os.environ.get("DLGRADE_SERVER", "1") != "0":
        from grader.server import run_remotely

        code = run_remotely(args.assignment, str(args.submission), args.json)
        if code is not None:
            return code
    try:
        return run_here(args)
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        sys.stdout = None
        return 0


def run_here(args) -> int:
    """Run a parsed command in this process; instructor errors are loud but tidy."""
    # Fork the sandbox's fork server first: before any secret, test or reference is read.
    from grader.core.grading import fault_exit, start_sandbox
    from grader.core.settings import AssignmentError
    from grader.sandbox import SandboxRefused

    zygote = start_sandbox()
    try:
        return args.handler(args, zygote)
    except (AssignmentError, SandboxRefused) as error:
        return fault_exit(error)
    except ModuleNotFoundError as error:
        needed = missing_extra(args.command, error.name or "")
        if needed is None:
            raise
        print(f"dlgrade: error: {needed}", file=sys.stderr)
        return 2
    finally:
        zygote.close()


# The core installs what students need; a module of an extra (pyproject.toml) is imported only
# by the commands that need it, which name the extra when it is missing.
EXTRA_OF_MODULE = {"jinja2": "grade", "matplotlib": "grade", "tqdm": "grade", "scipy": "grade",
                   "nbformat": "grade", "otter": "otter", "distributed": "cluster"}
# What a command does, and the extras it needs (publishing also builds the Otter zip).
TASKS = {"grade": ("grading a class", "grade"), "new": ("starting an assignment", "grade"),
         "publish": ("publishing an assignment", "grade,otter")}
EXTRA_NAMES = {"grade": "grading", "otter": "Otter", "cluster": "cluster"}


def missing_extra(command: str, module: str) -> str | None:
    """The sentence for a command that misses ``module``: which extra to install (None: the
    module belongs to no extra, a broken install)."""
    extra = EXTRA_OF_MODULE.get(module.partition(".")[0])
    if extra is None:
        return None
    if extra == "cluster":
        task, extras = "grading on a Dask cluster", "cluster"
    else:
        task, extras = TASKS.get(command, (f"dlgrade {command}", extra))
        extras = extras if extra in extras.split(",") else f"{extras},{extra}"
    names = " and ".join(EXTRA_NAMES[name] for name in extras.split(","))
    return f'{task} needs the {names} extras: pip install "dlgrade[{extras}]"'
