"""The ``dlgrade`` command: a thin layer over the package's functions."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# One BLAS thread per process: graders run several processes side by side.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlgrade", description=(
        "Grade deep-learning assignments: student code runs sandboxed, every check and "
        "score stays in the trusted process."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="grade one submission",
                              description="Grade one submission and print its result.")
    run.add_argument("assignment", metavar="ASSIGNMENT",
                     help="an assignment folder, or a folder name under ./assignments")
    run.add_argument("submission", metavar="SUBMISSION", type=Path,
                     help="a notebook (.ipynb) or a Python file (.py)")
    run.add_argument("--json", action="store_true",
                     help="print the result as one JSON object")
    run.set_defaults(handler=command_run)
    return parser


def command_run(args, zygote) -> int:
    from grader.grading import grade_submission
    from grader.results import render_summary
    from grader.settings import load_assignment

    result = grade_submission(load_assignment(args.assignment), args.submission, zygote)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(render_summary(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Fork the sandbox's fork server first: before any secret, test or reference is read.
    from grader.sandbox import Zygote
    from grader.settings import AssignmentError

    zygote = Zygote()
    try:
        return args.handler(args, zygote)
    except AssignmentError as error:
        print(f"dlgrade: error: {error}", file=sys.stderr)
        return 2
    finally:
        zygote.close()
