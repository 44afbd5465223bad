"""Otter-Grader integration: the student's check files, the autograder zip, and the plugin.

Every point comes from the trusted suite. The plugin hands Otter an empty notebook to execute,
so no student code ever runs in Otter's own kernel; after Otter's (empty) grading, it grades
the submission with the sandbox and the hidden suite and replaces Otter's results with ours.
``otter run -a NAME-autograder.zip SUBMISSION`` and Gradescope thus award the scores of
``dlgrade run``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from grader.core.settings import Assignment

COURSE_FOLDER = "dlgrade-course"  # inside the zip's files/, copied next to the submission
# At the zip's top level, so that Otter neither reads it nor copies it next to the submission:
# whoever holds the zip (the course staff, the grading image's root) can read it; the plugin
# reads it once its sandbox's fork server is running, then deletes it.
SECRET_IN_ZIP = "dlgrade-secret"
SOURCE_IN_ZIP = "dlgrade-src"
SHADOWING = (COURSE_FOLDER, SOURCE_IN_ZIP, "tests")  # what Otter copies next to the submission
PLUGIN = "grader.platforms.otter.DlgradePlugin"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
TESTS_README = ("Otter runs no test of its own for this assignment: the dlgrade plugin grades the "
                "submission in a sandbox with the hidden suite in files/dlgrade-course.\n")


SETUP_ADDITION = """
# dlgrade: each worker runs as a uid of its own (Gradescope grades as root), and must reach
# the Python installation in /root/miniforge3: let other users pass through /root (its
# listing stays private).
chmod o+x /root
"""


def check_file(question: str, public_source: str) -> str:
    """An Otter exception-format test file that runs ``question``'s public checks."""
    return (
        "OK_FORMAT = False\n\n"
        "from otter.test_files import test_case\n\n"
        f"name = {question!r}\n"
        "points = 0\n\n"
        f"PUBLIC_CHECKS = {public_source!r}\n\n\n"
        f'@test_case(name="public checks of {question}", points=0, hidden=False)\n'
        "def public_checks(env):\n"
        "    from grader.student import check\n\n"
        f"    check({question!r}, env, PUBLIC_CHECKS)\n"
    )


def autograder_zip(assignment: Assignment) -> bytes:
    """The autograder zip, built by Otter Generate, then normalised for byte-identical output."""
    from otter.generate import main as otter_generate

    project = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="dlgrade-zip-") as folder:
        staging = Path(folder)
        course = staging / COURSE_FOLDER
        shutil.copytree(assignment.folder, course / "assignments" / assignment.name,
                        ignore=shutil.ignore_patterns("examples", "__pycache__", "*.pyc"))
        (course / "solutions").mkdir()
        shutil.copy(assignment.reference, course / "solutions" / f"{assignment.name}.py")
        _copy_package(project, staging / SOURCE_IN_ZIP)
        (staging / "tests").mkdir()  # Otter's own tests: none, every point is ours
        # Otter's image has otter-grader: dlgrade adds its grading extras (scipy for suites).
        (staging / "requirements.txt").write_text(
            f"/autograder/source/files/{SOURCE_IN_ZIP}[grade]\n")
        # The secret is not in otter_config.json, which Otter reads into its own memory (and so
        # into every process forked from it) before any plugin runs: see SECRET_IN_ZIP.
        plugin_config = {"assignment": assignment.name}
        # show_hidden: Otter marks each question's entry after_published, not hidden, so
        # students see per-question scores once grades are published (the plugin makes that
        # after_due_date where assignment.yml's gradescope.hidden_tests says so); hidden
        # checks' messages never name their inputs (_question_file).
        config = {"lang": "python", "show_stdout": False, "show_hidden": True,
                  "plugins": [{PLUGIN: plugin_config}]}
        (staging / "otter_config.json").write_text(json.dumps(config, indent=2))
        cwd = os.getcwd()
        os.chdir(staging)
        try:
            otter_generate(tests_dir="tests", output_path="autograder.zip",
                           config="otter_config.json", requirements="requirements.txt",
                           files=[COURSE_FOLDER, SOURCE_IN_ZIP], no_environment=True)
        finally:
            os.chdir(cwd)
        # Otter needs a tests/ folder; it holds no test of Otter's: every point is dlgrade's.
        archive = zipfile.ZipFile(staging / "autograder.zip")
        setup = archive.read("setup.sh").decode() + SETUP_ADDITION
        extra = {"tests/README.txt": TESTS_README.encode(), "setup.sh": setup.encode()}
        if os.environ.get("DLGRADE_SECRET"):
            extra[SECRET_IN_ZIP] = os.environ["DLGRADE_SECRET"].encode()
        return normalise_zip((staging / "autograder.zip").read_bytes(), extra)


def _copy_package(project: Path, target: Path) -> None:
    """The grader package and its pyproject, so that the grading image can install it."""
    target.mkdir()
    shutil.copy(project / "pyproject.toml", target / "pyproject.toml")
    (target / "README.md").write_text("dlgrade, as shipped in an autograder zip.\n")
    shutil.copytree(project / "grader", target / "grader",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def normalise_zip(data: bytes, extra: dict[str, bytes]) -> bytes:
    """The same entries plus ``extra``, sorted, with fixed dates and permissions."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {name: source.read(name) for name in source.namelist() if not name.endswith("/")}
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in sorted({**entries, **extra}.items()):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (0o755 if name == "run_autograder" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, content)
    return output.getvalue()


try:
    from otter.plugins import AbstractOtterPlugin
except ImportError:  # Otter is a dependency; this keeps the module importable without it
    AbstractOtterPlugin = object


class DlgradePlugin(AbstractOtterPlugin):
    """Runs in Otter's grading process (``otter run``, Gradescope); grades with dlgrade."""

    def before_grading(self, config):
        """Before any student code could run: start the sandbox, check that it reaches the
        level the assignment requires (else the autograder fails, saying how this grading
        image is misconfigured: never a 0 for the student), load the course from the
        autograder's own files (never from the submission's folder), then read the secret."""
        from grader.core.grading import start_sandbox
        from grader.core.settings import load_assignment
        from grader.sandbox import SandboxRefused, probe

        self.zygote = start_sandbox()  # first: before the secret or the course is read
        source = Path(config.autograder_dir) / "source"
        course = source / "files" / COURSE_FOLDER
        if os.geteuid() == 0:  # where the OS refuses namespaces, permissions still hide them
            for path in (source, Path(self.submission_path).parent / COURSE_FOLDER):
                if path.exists():
                    os.chmod(path, 0o700)
        self.assignment = load_assignment(str(course / "assignments" /
                                              self.plugin_config["assignment"]))
        try:
            self.assignment.policy.check(probe(self.zygote)[0])
        except SandboxRefused as error:
            self.zygote.close()
            print(f"dlgrade: the autograder is misconfigured: {error}", file=sys.stderr)
            raise
        self.forged = _shadowed(source / "files", Path(self.submission_path).parent)
        secret = source / SECRET_IN_ZIP
        if secret.is_file():
            os.environ["DLGRADE_SECRET"] = secret.read_text().strip()
            secret.unlink()

    def before_execution(self, submission):
        """Otter executes nothing of the student's: the sandbox runs the submission instead."""
        import nbformat

        return nbformat.v4.new_notebook()

    def after_grading(self, results):
        from grader.core.grading import grade_submission, ungraded
        from grader.core.results import sandbox_line

        try:
            if self.forged:
                result = ungraded(self.assignment, Path(self.submission_path), "error",
                                   f"the upload holds {', '.join(self.forged)}, which only the "
                                   f"autograder may provide: upload your notebook alone", False)
            else:
                result = grade_submission(self.assignment, Path(self.submission_path),
                                          self.zygote)
        finally:
            self.zygote.close()
        results.results = {question: _question_file(question, result)
                           for question in result.questions}
        if self.assignment.gradescope_hidden_tests != "after_published":
            results.to_gradescope_dict = _ShownAfter(results,
                                                     self.assignment.gradescope_hidden_tests)
        sandbox = sandbox_line(result.sandbox) if result.sandbox else None
        results.set_output("\n".join(filter(None, [result.message, sandbox])))
        print(f"dlgrade: {result.status}, {result.score:g} / {result.max_score:g}",
              file=sys.stderr)


class _ShownAfter:
    """``GradingResults.to_gradescope_dict`` with the entries Otter marks ``after_published``
    (``show_hidden``) marked ``visibility`` instead: Otter knows no other. Module-level, so
    that Otter can still pickle the results (results.pkl) with it attached."""

    def __init__(self, results, visibility: str):
        self.results, self.visibility = results, visibility

    def __call__(self, ag_config) -> dict:
        output = type(self.results).to_gradescope_dict(self.results, ag_config)
        for test in output.get("tests", []):
            if test.get("visibility") == "after_published":
                test["visibility"] = self.visibility
        return output


def _shadowed(files: Path, submitted: Path) -> list[str]:
    """What the submission's folder holds under the autograder's own names, with other
    content than the autograder's (Otter copies its files only where a name is free)."""
    forged = []
    for name in SHADOWING:
        ours, theirs = files / name, submitted / name
        if name == "tests":
            ours = files.parent / "tests"
        if theirs.exists() and _tree(ours) != _tree(theirs):
            forged.append(f"{name}/")
    return forged


def _tree(folder: Path) -> dict[str, bytes] | None:
    """A folder's content, links named as links (never followed)."""
    if not folder.is_dir() or folder.is_symlink():
        return None
    return {str(p.relative_to(folder)): b"<link>" if p.is_symlink() else
            b"<folder>" if p.is_dir() else p.read_bytes() for p in folder.rglob("*")}


def _question_file(question: str, result):
    """One Otter test file per question, its score exactly dlgrade's (partial credit too)."""
    from otter.test_files.abstract_test import TestCase, TestCaseResult, TestFile

    class DlgradeQuestion(TestFile):
        @classmethod
        def from_file(cls, path):
            raise NotImplementedError

        @classmethod
        def from_metadata(cls, s, path):
            raise NotImplementedError

        def run(self, global_environment):
            raise NotImplementedError

    tests = [t for t in result.tests if t.question == question]
    cases = [TestCase(name=t.name, body=None, hidden=t.visibility == "hidden",
                      points=t.max_score, success_message=None, failure_message=None)
             for t in tests]
    question_file = DlgradeQuestion(question, "dlgrade", cases, all_or_nothing=False)
    # A hidden test's message may name its inputs: Gradescope shows question outputs to
    # students once grades are published, so hidden tests say only that they failed.
    question_file.test_case_results = [
        TestCaseResult(test_case=case, passed=test.outcome == "passed",
                       message=(test.message or None) if test.visibility == "public" else
                       None if test.outcome == "passed" else "a hidden check failed")
        for case, test in zip(cases, tests, strict=True)]
    question_file.update_score(result.questions[question].score)
    return question_file
