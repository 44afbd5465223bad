"""Time and memory of the similarity detector (grader.batch.similarity) on a synthetic class.

Builds COUNT submissions of the ``gradcheck`` assignment, as the student notebook's code cells
with every ``raise NotImplementedError`` answered:
- copy groups (2 to 4 students): a real solution (the bundled examples) or a generated one,
  each member varied as students hide a copy: identifiers renamed, functions reordered,
  literals changed, comments and blank lines added, a statement inserted;
- independent solutions: each answer generated on its own (loops, numpy calls, conditions);
- a few hostile files: 2 MB of code, syntax errors everywhere, odd unicode, binary-looking text.
Then times ``similar_pairs`` (tokenising, fingerprinting, the index, the pairs and their
regions), in wall and CPU time (a shared machine slows the first), reports the process's peak
memory (max RSS) before and after, how many of the planted copy pairs were found and what else
was; then the report's own call (``top_pairs`` from fingerprints, the first 50 pairs and the
count of all), in time and peak traced memory (tracemalloc). The bundled examples are near
copies of one reference solution (each adds one bug), so the groups built on them are alike
across groups too: those pairs are counted apart. With
``--past N``, N of the submissions (drawn at random) are a past term's. Prints figures;
asserts nothing.

    python bench/bench_similarity.py [--count 1000] [--seed 0] [--past 0]
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
import tracemalloc
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = ROOT / "assignments" / "gradcheck"
TEMPLATE = ROOT / "student_template" / "gradcheck" / "gradcheck.ipynb"
KEEP = {"np", "numpy", "range", "len", "abs", "max", "min", "zip", "float", "int", "sum",
        "True", "False", "None", "return", "def", "for", "in", "if", "else", "elif", "not",
        "and", "or", "is", "while", "import", "as", "lambda", "try", "except", "pass",
        "raise", "print", "enumerate", "list", "tuple", "isinstance", "sorted", "any", "all"}
NAME = re.compile(r"(?<![.\w])[A-Za-z_]\w*")
NUMBER = re.compile(r"(?<![\w.])\d+(\.\d+)?(e-?\d+)?")


def answers(cells: list[str]) -> list[str]:
    """The cells of a solved notebook that hold an answer (a ``def`` that is not the
    template's own helper)."""
    return [cell for cell in cells if cell.lstrip().startswith("def ")
            and "error_table" not in cell]


def vary(code: str, rng: random.Random) -> str:
    """A copy, hidden: names renamed, literals changed, comments and a statement added."""
    names = {name: f"{name[:2]}{rng.choice(['val', 'tmp', 'arr', 'q', 'z'])}{rng.randrange(99)}"
             for name in sorted(set(NAME.findall(code)) - KEEP) if rng.random() < 0.7}
    code = NAME.sub(lambda m: names.get(m.group(0), m.group(0)), code)
    code = NUMBER.sub(lambda m: str(rng.choice([1, 2, 3, 1e-5, 1e-7, 0.5]))
                      if rng.random() < 0.5 else m.group(0), code)
    lines = []
    for line in code.split("\n"):
        if rng.random() < 0.15:
            lines.append(line[:len(line) - len(line.lstrip())] + "# " +
                         rng.choice(["loop over entries", "TODO tidy", "as in the lecture"]))
        lines.append(line)
        if line.startswith("    ") and line.strip() and rng.random() < 0.05:
            lines.append(line[:len(line) - len(line.lstrip())] + "debug = None")
    return "\n".join(lines)


def generated_function(header: str, rng: random.Random) -> str:
    """An answer written independently: a random body of loops, numpy calls and branches."""
    names = [f"{rng.choice('abcdefguvwxyz')}{rng.choice(['', '1', '_new', 's'])}"
             for _ in range(6)]
    calls = ["np.zeros_like({})", "np.asarray({}, dtype=float)", "np.ravel({})",
             "np.abs({})", "{}.copy()", "np.sum({})", "float({})", "np.max({})", "len({})",
             "np.log({})", "{}.reshape(-1)", "np.maximum({}, 1e-8)"]
    ops = ["+", "-", "*", "/"]

    def expression(depth: int = 0) -> str:
        roll = rng.random()
        if depth > 2 or roll < 0.3:
            return rng.choice(names + [str(rng.choice([1, 2, 0.5, 1e-6]))])
        if roll < 0.6:
            return rng.choice(calls).format(expression(depth + 1))
        return f"({expression(depth + 1)} {rng.choice(ops)} {expression(depth + 1)})"

    def block(indent: str, depth: int) -> list[str]:
        lines = []
        for _ in range(rng.randint(2, 5)):
            roll = rng.random()
            if depth < 2 and roll < 0.2:
                lines.append(f"{indent}for {rng.choice(names)} in range({expression()}.size):")
                lines += block(indent + "    ", depth + 1)
            elif depth < 2 and roll < 0.35:
                lines.append(f"{indent}if {expression()} {rng.choice(['<', '>', '=='])} "
                             f"{expression()}:")
                lines += block(indent + "    ", depth + 1)
            else:
                lines.append(f"{indent}{rng.choice(names)} = {expression()}")
        return lines

    return "\n".join([header, *block("    ", 0), f"    return {expression()}"])


def independent(template: list[str], rng: random.Random) -> list[str]:
    """The template with every answer generated."""
    cells = []
    for cell in template:
        headers = re.findall(r"^def .*:$", cell, re.MULTILINE)
        if "raise NotImplementedError" in cell and headers:
            cells.append("\n\n".join(generated_function(h, rng) for h in headers))
        else:
            cells.append(cell)
    return cells


def hostile(rng: random.Random) -> list[str]:
    huge = "x = [" + ", ".join(str(rng.random()) for _ in range(40_000)) + "]\n"
    return [
        huge * 3,  # ~2.5 MB
        "\n".join(rng.choice(["def f(:", "    )]}", "'''", "\tx = 1", "  y = (", "elif:"])
                  for _ in range(20_000)),
        "é = 'ü'\nπ = 3\n\u202edef ṡ(): return π\n" * 2000 + "\udcff\x00\x01 $ ? `\n",
    ]


def build(count: int, seed: int) -> tuple[str, dict[str, str], list[set[str]], set[str]]:
    from grader.batch.similarity import join_cells, source_of
    from grader.core.loading import load_submission

    rng = random.Random(seed)
    template = list(load_submission(TEMPLATE).cells)
    real = [answers(list(load_submission(p).cells))
            for p in sorted((ASSIGNMENT / "examples").glob("*.ipynb"))]
    students: dict[str, str] = {}
    groups: list[set[str]] = []
    from_examples: set[str] = set()
    for number, code in enumerate(hostile(rng)):
        students[f"hostile{number}"] = code
    while len(students) < count * 0.2:  # a fifth of the class in copy groups
        example = rng.random() < 0.3
        base = rng.choice(real) if example else answers(independent(template, rng))
        group = {f"copy{len(students) + i}" for i in range(rng.randint(2, 4))}
        if example:
            from_examples |= group
        for name in sorted(group):
            cells = [vary(cell, rng) for cell in base]
            rng.shuffle(cells)
            students[name] = join_cells(template[:2] + cells + template[-2:]).text
        groups.append(group)
    while len(students) < count:
        students[f"own{len(students)}"] = join_cells(independent(template, rng)).text
    return source_of(TEMPLATE).text, students, groups, from_examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--past", type=int, default=0, help="past submissions to add")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from grader.batch.similarity import fingerprints, similar_pairs, template_hashes, top_pairs

    started = time.perf_counter()
    template, students, groups, from_examples = build(options.count + options.past, options.seed)
    # A past term: a random part of the class, so some copy groups straddle the two terms.
    chosen = random.Random(options.seed).sample(sorted(students), options.past)
    past = {name: students.pop(name) for name in sorted(chosen)} or None
    size = sum(map(len, students.values())) + sum(map(len, (past or {}).values()))
    print(f"built {len(students)} submissions (+{options.past} past), "
          f"{size / 2**20:.1f} MB of source, in {time.perf_counter() - started:.1f} s")

    started, cpu = time.perf_counter(), time.process_time()
    prints = {name: fingerprints(source) for name, source in students.items()}
    fingerprinting, fingerprinting_cpu = time.perf_counter() - started, time.process_time() - cpu

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    pairs = similar_pairs(students, template, past)
    elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    expected = {frozenset(p) for group in groups for p in combinations(sorted(group), 2)
                if any(name in students for name in p)}  # past ones are never paired
    found = {frozenset((p.a, p.b)) for p in pairs}
    others = found - expected
    examples = {p for p in others if p <= from_examples}
    print(f"fingerprinting alone: {fingerprinting:.2f} s ({fingerprinting_cpu:.2f} s of CPU; "
          f"{fingerprinting / len(students) * 1e3:.2f} ms per submission)")
    print(f"similar_pairs: {elapsed:.2f} s ({elapsed_cpu:.2f} s of CPU) for {len(students)} "
          f"submissions{f' and {len(past)} past ones' if past else ''}; "
          f"max RSS {before:.0f} MB before, {after:.0f} MB after")
    print(f"pairs reported: {len(pairs)}; copy pairs planted {len(expected)}, found "
          f"{len(expected & found)}; other pairs {len(others)}, of which {len(examples)} "
          f"between copies of the bundled examples (near copies themselves)")
    for pair in pairs[:3]:
        print(f"  {pair.a} ~ {pair.b}: score {pair.score}, {pair.shared} shared, "
              f"regions {list(pair.regions[:3])}")

    before_past = {name: fingerprints(source) for name, source in (past or {}).items()}
    given = template_hashes(template)
    tracemalloc.start()
    started = time.perf_counter()
    shown, count = top_pairs(prints, given, before_past, detail=50, limit=50)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"the report's ranking (top_pairs, 50 shown of {count}): {elapsed:.2f} s, "
          f"peak traced memory {peak:.1f} MB")


if __name__ == "__main__":
    main()
