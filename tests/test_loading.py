"""Loading submissions: cells in order, IPython syntax neutralised, clear refusals."""

import pytest
from conftest import write_notebook

from grader.core.loading import SubmissionUnreadable, load_submission, neutralise_magics


@pytest.mark.parametrize("source, expected", [
    ("%matplotlib inline\nx = 1", "pass  # %matplotlib inline\nx = 1"),
    ("!pip install torch", "pass  # !pip install torch"),
    ("files = !ls", "pass  # files = !ls"),
    ("if True:\n    %time y = 2", "if True:\n    y = 2"),
    ("%%time\nz = 3", "# %%time\nz = 3"),
    ("%%bash\necho hi", "# %%bash\n# echo hi"),
    ("x = 5 % 3\ny = x != 1", "x = 5 % 3\ny = x != 1"),
    ("import otter\ngrader = otter.Notebook()",
     "pass  # import otter\npass  # grader = otter.Notebook()"),
    ('grader.check("q1")', 'pass  # grader.check("q1")'),
    ("grader.check_all()", "pass  # grader.check_all()"),
    ("checker = grader.check", "checker = grader.check"),
])
def test_magics_become_comments_keeping_line_numbers(source, expected):
    assert neutralise_magics(source) == expected


def test_notebook_code_cells_in_order(tmp_path):
    path = write_notebook(tmp_path / "n.ipynb", ["a = 1", "b = 2"])
    loaded = load_submission(path)
    assert loaded.cells == ("a = 1", "b = 2")
    assert len(loaded.sha256) == 64


def test_same_content_same_hash_whatever_the_name(tmp_path):
    first = write_notebook(tmp_path / "a.ipynb", ["a = 1"])
    second = tmp_path / "renamed.ipynb"
    second.write_bytes(first.read_bytes())
    assert load_submission(first).sha256 == load_submission(second).sha256


def test_python_file_is_one_cell_without_markers(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("a = 1\nb = 2\n")
    assert load_submission(path).cells == ("a = 1\nb = 2\n",)


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(SubmissionUnreadable, match="could not be read"):
        load_submission(tmp_path / "absent.ipynb")
