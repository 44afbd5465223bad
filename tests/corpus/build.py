"""Build the batch-grading corpus: 60+ submissions of `gradcheck`, correct, buggy, hostile and
unreadable, each a file a TA could receive. Run from the project root:

    python tests/corpus/build.py

It writes tests/corpus/gradcheck/ (one file or folder per student) and
tests/corpus/gradcheck-late.zip (an LMS export with two attempts of one student). The huge
file is made by the tests themselves (it would weigh 25 MB here).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbformat.v3

from grader.authoring.publishing import solved_notebook, student_files
from grader.core.settings import load_assignment

HERE = Path(__file__).parent
CORPUS = HERE / "gradcheck"
FIXTURES = HERE.parent / "fixtures"  # the corpus's assignment, as it was written for

HOSTILE_CELLS = {
    "sys_exit": "import sys\nsys.exit(0)",
    "os_exit": "import os\nos._exit(3)",
    "infinite_loop": "while True:\n    pass",
    "memory_bomb": "import numpy as np\nhoard = np.ones(50 * 10**9 // 8)",
    "fork_bomb": "import os\nwhile True:\n    os.fork()",
    "output_flood": "while True:\n    print('spam' * 1000)",
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, 9)",
    "delete_files": "import os, shutil\nfor p in ['/tmp', os.getcwd(), '/work', '/home']:\n"
                    "    shutil.rmtree(p, ignore_errors=True)",
    "write_files": "for i in range(50):\n    with open(f'junk{i}.bin', 'wb') as f:\n"
                   "        f.write(b'x' * 10**6)",
    "read_hidden_tests": "import glob\nleak = []\nfor p in glob.glob('/**/test_*.py', "
                         "recursive=True)[:50]:\n    leak.append(open(p).read())\n"
                         "print(open('solutions/gradcheck.py').read())",
    "patch_builtins": "import builtins\nbuiltins.isinstance = lambda *a: True\n"
                      "builtins.len = lambda obj: 3",
    "patch_pytest_grader": "import sys, types\nfor name in ['pytest', 'grader', "
                           "'grader.numerics']:\n    sys.modules[name] = types.ModuleType(name)",
    "fake_results": "import json\nfor name in ['results.json', '/tmp/gradebook.csv']:\n"
                    "    try:\n        json.dump({'score': 41}, open(name, 'w'))\n"
                    "    except OSError:\n        pass",
    "cell_raises": "1 / 0",
    "html_injection": "raise RuntimeError('<script>alert(1)</script>')",
}
# Replacements in the reference: (old, new) pairs; each file loses points where it should.
BUGS = {
    "returns_a_list": ("    return grad\n", "    return grad.tolist()\n"),
    "jacobian_transposed": ("    return np.stack(columns, axis=1)",
                            "    return np.stack(columns, axis=0)"),
    "returns_a_string": ("    return float(np.max(", "    return str(np.max("),
    "returns_nan": ("    return float(np.max(", "    return float('nan') + float(np.max("),
    "returns_inf": ("    return grad\n", "    return grad * np.inf\n"),
    "raises_in_call": ("    g = np.asarray(grad_f(x), dtype=float)",
                       "    raise ValueError('not finished')"),
    "missing_function": ("def convergence_order(", "def convergence_rate("),
    "renamed_function": ("def numerical_gradient(", "def num_grad("),
    "forward_not_centered": ("    return (f(x + h) - f(x - h)) / (2 * h)",
                             "    return (f(x + h) - f(x)) / h"),
    "float32_gradient": ("    grad = np.zeros(x.shape)",
                         "    grad = np.zeros(x.shape, np.float32)"),
}
# A wrong submission that also patches numpy: it must earn exactly its honest score.
PATCH_NUMPY = ("import numpy as np, numpy.testing\nnp.allclose = lambda *a, **k: True\n"
               "np.testing.assert_allclose = lambda *a, **k: None\n"
               "np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)")


def main() -> None:
    assignment = load_assignment(str(FIXTURES / "assignments" / "gradcheck"))
    solved = json.loads(solved_notebook(assignment))
    for cell in solved["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    shutil.rmtree(CORPUS, ignore_errors=True)
    CORPUS.mkdir()
    for number in range(1, 17):
        _notebook(f"correct_{number:02d}", _with(solved, f"# student {number}: my solution"))
    for example in sorted((FIXTURES / "assignments/gradcheck/examples").glob("*.ipynb")):
        shutil.copy(example, CORPUS / f"example_{example.name}")
    blank = next(data for path, data in student_files(assignment).items()
                 if path.endswith(".ipynb"))
    (CORPUS / "blank.ipynb").write_bytes(blank)
    for name, code in HOSTILE_CELLS.items():
        _notebook(name, _with(solved, code))
    for name, (old, new) in BUGS.items():
        _notebook(name, _replaced(solved, old, new))
    _notebook("patch_numpy", _with(_replaced(solved, *BUGS["jacobian_transposed"]), PATCH_NUMPY,
                                   first=True))
    _notebook("syntax_error", _with(solved, "def broken(:\n    pass"))
    hangs = solved
    for number in range(4):  # four hanging cells: more than the tests' submission budget
        hangs = _with(hangs, f"# hang {number}\nwhile True:\n    pass")
    _notebook("whole_budget_used", hangs)
    _unreadable()
    code = "\n\n".join(c["source"] for c in solved["cells"] if c["cell_type"] == "code")
    (CORPUS / "script_submission.py").write_text(code + "\n")
    (CORPUS / "percent_cells.py").write_text(
        "\n".join(f"# %%\n{c['source']}\n" for c in solved["cells"] if c["cell_type"] == "code"))
    _old_notebook("old_nbformat3", solved)
    # A folder per student: the notebook is graded, not the notes beside it.
    (CORPUS / "grace").mkdir()
    _notebook("grace/homework", _replaced(solved, *BUGS["forward_not_centered"]))
    (CORPUS / "grace" / "notes.txt").write_text("I could not finish q1.\n")
    _late_zip(solved)


def _with(notebook: dict, code: str, first: bool = False) -> dict:
    copy = json.loads(json.dumps(notebook))
    cell = {"cell_type": "code", "execution_count": None, "id": f"extra{len(code)}",
            "metadata": {}, "outputs": [], "source": code}
    copy["cells"].insert(1 if first else len(copy["cells"]), cell)
    return copy


def _replaced(notebook: dict, old: str, new: str) -> dict:
    copy = json.loads(json.dumps(notebook))
    hits = 0
    for cell in copy["cells"]:
        if cell["cell_type"] == "code" and old in cell["source"]:
            cell["source"] = cell["source"].replace(old, new, 1)
            hits += 1
    assert hits == 1, f"{old!r} found {hits} times"
    return copy


def _notebook(stem: str, notebook: dict) -> Path:
    path = CORPUS / f"{stem}.ipynb"
    path.write_text(json.dumps(notebook, indent=1) + "\n")
    return path


def _unreadable() -> None:
    files = {
        "corrupt_json.ipynb": b'{"cells": [{"cell_type": "code", "source": "x = ',
        "nbformat_5.ipynb": b'{"nbformat": 5, "nbformat_minor": 0, "cells": []}',
        "empty_file.ipynb": b"",
        "json_not_a_notebook.ipynb": b'{"answer": 42}\n',
        "binary_file.ipynb": bytes(range(256)) * 64,
        "scanned_homework.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 16,
    }
    for name, data in files.items():
        (CORPUS / name).write_bytes(data)
    empty = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    _notebook("empty_notebook", empty)


def _old_notebook(stem: str, solved: dict) -> None:
    cells = [nbformat.v3.new_code_cell(input=c["source"]) for c in solved["cells"]
             if c["cell_type"] == "code"]
    notebook = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=cells)])
    (CORPUS / f"{stem}.ipynb").write_text(nbformat.v3.writes_json(notebook))


def _late_zip(solved: dict) -> None:
    """An LMS export: ivan's second attempt (a bug) is the latest; judy submitted once."""
    entries = [("export/ivan/attempt.ipynb", (2026, 10, 1, 9, 0, 0), solved),
               ("export/ivan/attempt (1).ipynb", (2026, 10, 2, 23, 59, 0),
                _replaced(solved, *BUGS["returns_a_list"])),
               ("export/judy/gradcheck.ipynb", (2026, 10, 1, 12, 0, 0),
                _replaced(solved, *BUGS["raises_in_call"]))]
    with zipfile.ZipFile(HERE / "gradcheck-late.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, date, notebook in entries:
            bundle.writestr(zipfile.ZipInfo(name, date), json.dumps(notebook, indent=1))


if __name__ == "__main__":
    main()
