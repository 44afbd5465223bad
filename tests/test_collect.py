"""Which file is whose in a batch: the rules of the README, one by one."""

from __future__ import annotations

import os
import zipfile

import pytest

from grader.batch.collect import CollectionError, collect


def _touch(path, text="x", mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _chosen(collection):
    return {s.student: s.source for s in collection.submissions}


def test_files_in_a_folder_are_students_and_junk_is_not(tmp_path):
    inbox = tmp_path / "inbox"
    for name in ("alice.ipynb", "bob.py", "carol.pdf", ".DS_Store", "Thumbs.db",
                 ".ipynb_checkpoints/alice-checkpoint.ipynb", "__MACOSX/._alice.ipynb"):
        _touch(inbox / name)
    chosen = _chosen(collect([str(inbox)], tmp_path / "scratch"))
    assert chosen == {"alice": f"{inbox}/alice.ipynb", "bob": f"{inbox}/bob.py",
                      "carol": f"{inbox}/carol.pdf"}


def test_a_student_folder_gives_its_latest_notebook(tmp_path):
    inbox = tmp_path / "inbox"
    _touch(inbox / "dave" / "first.ipynb", mtime=1_000)
    _touch(inbox / "dave" / "second.ipynb", mtime=2_000)
    _touch(inbox / "dave" / "later_notes.txt", mtime=3_000)  # newer, but not a notebook
    _touch(inbox / "erin" / "sub" / "hw.py", mtime=1_000)
    collection = collect([str(inbox)], tmp_path / "scratch")
    assert _chosen(collection) == {"dave": f"{inbox}/dave/second.ipynb",
                                   "erin": f"{inbox}/erin/sub/hw.py"}
    assert sorted(collection.superseded) == [(f"{inbox}/dave/first.ipynb", "dave"),
                                             (f"{inbox}/dave/later_notes.txt", "dave")]


def test_a_pattern_groups_attempts_and_the_highest_wins(tmp_path):
    inbox = tmp_path / "inbox"
    _touch(inbox / "alice-2.ipynb", mtime=1_000)
    _touch(inbox / "alice-10.ipynb", mtime=500)  # attempt 10 beats a newer attempt 2
    _touch(inbox / "bob.ipynb")
    collection = collect([str(inbox)], tmp_path / "scratch", r"(?P<student>.+)-(?P<attempt>\d+)")
    assert _chosen(collection) == {"alice": f"{inbox}/alice-10.ipynb",
                                   "bob": f"{inbox}/bob.ipynb"}
    assert collection.superseded == [(f"{inbox}/alice-2.ipynb", "alice")]
    # Without a pattern nothing is merged: alice-2 and alice-10 are two students.
    assert len(collect([str(inbox)], tmp_path / "scratch2").submissions) == 3


def test_bad_patterns_are_refused_with_a_reason(tmp_path):
    with pytest.raises(CollectionError, match="needs a group named 'student'"):
        collect([str(tmp_path)], tmp_path / "s", r"(.+)-\d+")
    with pytest.raises(CollectionError, match="--pattern"):
        collect([str(tmp_path)], tmp_path / "s", r"(?P<student>")


def test_a_zip_uses_entry_dates_looks_through_one_wrapper_and_refuses_escapes(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo("course/frank/a.ipynb", (2026, 1, 2, 0, 0, 0)), "new")
        bundle.writestr(zipfile.ZipInfo("course/frank/b.ipynb", (2026, 1, 1, 0, 0, 0)), "old")
        bundle.writestr(zipfile.ZipInfo("course/gina/hw.ipynb", (2026, 1, 1, 0, 0, 0)), "x")
        bundle.writestr("../../escape.ipynb", "evil")
        bundle.writestr("/abs.ipynb", "evil")
    collection = collect([str(archive)], tmp_path / "scratch")
    chosen = {s.student: (s.source, s.path.read_text()) for s in collection.submissions}
    assert chosen == {"frank": (f"{archive}:frank/a.ipynb", "new"),
                      "gina": (f"{archive}:gina/hw.ipynb", "x")}
    assert not (tmp_path / "escape.ipynb").exists() and not list(tmp_path.rglob("abs.ipynb"))


def test_same_student_from_two_paths_is_one_row_and_stems_stay_distinct(tmp_path):
    _touch(tmp_path / "a" / "hana.ipynb", "first", mtime=1_000)
    _touch(tmp_path / "b" / "hana.ipynb", "second", mtime=2_000)
    _touch(tmp_path / "c" / "Hana Smith?.ipynb")
    _touch(tmp_path / "c" / "Hana Smith*.ipynb")
    collection = collect([str(tmp_path / d) for d in "abc"], tmp_path / "scratch")
    chosen = {s.student: s.path for s in collection.submissions}
    assert chosen["hana"].read_text() == "second"
    assert {"Hana Smith_", "Hana Smith_-2"} <= set(chosen)


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(CollectionError, match="no such file or folder"):
        collect([str(tmp_path / "nope")], tmp_path / "scratch")


def test_in_a_student_folder_the_assignments_notebook_wins(tmp_path):
    inbox = tmp_path / "inbox"
    _touch(inbox / "fay" / "GradCheck.ipynb", mtime=1_000)
    _touch(inbox / "fay" / "scratch.ipynb", mtime=2_000)
    _touch(inbox / "gil" / "scratch.ipynb", mtime=1_000)
    _touch(inbox / "gil" / "gradcheck.py", mtime=2_000)  # named, but a notebook is not there
    collection = collect([str(inbox)], tmp_path / "scratch", assignment="gradcheck")
    assert _chosen(collection) == {"fay": f"{inbox}/fay/GradCheck.ipynb",
                                   "gil": f"{inbox}/gil/gradcheck.py"}
    assert _chosen(collect([str(inbox)], tmp_path / "s2")) == {
        "fay": f"{inbox}/fay/scratch.ipynb", "gil": f"{inbox}/gil/scratch.ipynb"}


def test_a_browsers_second_download_is_the_same_students_later_attempt(tmp_path):
    inbox = tmp_path / "inbox"
    _touch(inbox / "frank.ipynb", mtime=2_000)
    _touch(inbox / "frank (1).ipynb", mtime=1_000)  # copied back in an older order
    _touch(inbox / "frank (2).py", mtime=3_000)
    _touch(inbox / "gwen (draft).ipynb")
    collection = collect([str(inbox)], tmp_path / "scratch")
    assert _chosen(collection) == {"frank": f"{inbox}/frank (1).ipynb",
                                   "gwen _draft_": f"{inbox}/gwen (draft).ipynb"}
    assert sorted(collection.superseded) == [(f"{inbox}/frank (2).py", "frank"),
                                             (f"{inbox}/frank.ipynb", "frank")]


def test_inside_a_students_folder_a_file_name_never_names_another_student(tmp_path):
    """mallory names her file like Bob's Canvas download, trudy like Carol's Moodle one: only
    their folders name them, with no platform id and no late marker of anyone's."""
    inbox = tmp_path / "inbox"
    _touch(inbox / "bobsmith_4242_100_hw.ipynb")
    _touch(inbox / "mallory" / "bobsmith_LATE_4242_999_hw.ipynb")
    _touch(inbox / "trudy" / "Carol King_77_assignsubmission_file_hw.ipynb")
    _touch(inbox / "Jane Doe_12_assignsubmission_file_" / "dan_1_2_hw.ipynb")
    chosen = {s.student: s for s in collect([str(inbox)], tmp_path / "scratch").submissions}
    assert set(chosen) == {"bobsmith", "mallory", "trudy", "Jane Doe"}
    assert dict(chosen["bobsmith"].person) == {"canvas_id": "4242"}
    for student in ("mallory", "trudy"):
        assert chosen[student].person == () and chosen[student].platform == ""
        assert not chosen[student].late_marker
    assert dict(chosen["Jane Doe"].person) == {"name": "Jane Doe",
                                               "moodle_participant": "Participant 12"}


def test_a_moodle_file_whose_own_name_looks_like_canvas_is_moodles(tmp_path):
    inbox = tmp_path / "inbox"
    _touch(inbox / "John Roe_13_assignsubmission_file_hw_1_2_final.ipynb")
    (submission,) = collect([str(inbox)], tmp_path / "scratch").submissions
    assert submission.student == "John Roe" and submission.platform == "Moodle"
    assert dict(submission.person)["moodle_participant"] == "Participant 13"
