"""How each assignment's examples fare over many draws of the hidden inputs.

For each assignment: every known-bug example graded under 20 draws (the distinct totals, which
must be one, and the questions it loses points on), and the reference and every
correct-but-different example under 500 draws (how many draws cost them a point: must be 0).
The draws are other secrets than the publishing gate's own.

    python bench/bench_draws.py [--draws 20] [--correct-draws 500] [NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_DRAW = 100_000  # far from the gate's draws 0..19


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--correct-draws", type=int, default=500)
    args = parser.parse_args()
    from grader.authoring.examples import (
        FULL_MARKS,
        Expectation,
        declared,
        draw_secrets,
        grade_draws,
    )
    from grader.authoring.publishing import solved_notebook
    from grader.core.settings import load_assignment

    names = args.names or sorted(p.name for p in (ROOT / "assignments").iterdir()
                                 if (p / "assignment.yml").is_file())
    unstable = 0
    for name in names:
        assignment = load_assignment(str(ROOT / "assignments" / name))
        with tempfile.TemporaryDirectory() as folder:
            reference = Path(folder) / "reference.ipynb"
            reference.write_bytes(solved_notebook(assignment))
            examples = {p: Expectation.parse(declared(p), assignment.questions)
                        for p in sorted((assignment.folder / "examples").glob("*.ipynb"))}
            bugs = [p for p, e in examples.items() if e.kind != FULL_MARKS]
            correct = [reference] + [p for p, e in examples.items() if e.kind == FULL_MARKS]
            start = time.perf_counter()
            graded = grade_draws(assignment.folder, bugs, draw_secrets(args.draws, FIRST_DRAW))
            graded |= grade_draws(assignment.folder, correct,
                                  draw_secrets(args.correct_draws, FIRST_DRAW))
            seconds = time.perf_counter() - start
        print(f"\n{name} ({len(bugs)} known bugs x {args.draws} draws, {len(correct)} correct "
              f"x {args.correct_draws} draws, {seconds:.0f} s)")
        print("| example | declared | distinct totals | totals | questions lost |")
        print("|---|---|---|---|---|")
        for path in bugs:
            draws = graded[path]
            totals = Counter(d.score for d in draws)
            lost = sorted({q for d in draws for q in d.lost})
            unstable += len(totals) > 1
            print(f"| {path.stem} | {examples[path]} | {len(totals)} | "
                  f"{', '.join(f'{t:g}' for t in sorted(totals))} / {draws[0].max_score:g} | "
                  f"{' '.join(lost)} |")
        print("| correct | | false failures | | |")
        for path in correct:
            failures = [d for d in graded[path] if d.score != d.max_score]
            tests = Counter(t for d in failures for t, (_, _, m) in d.tests.items() if m)
            failing = ", ".join(f"{t} x{n}" for t, n in tests.items())
            print(f"| {path.stem} | full marks | {len(failures)} of {args.correct_draws} | "
                  f"{graded[path][0].max_score:g} | {failing} |")
    return 1 if unstable else 0


if __name__ == "__main__":
    sys.exit(main())
