"""The package's layout is its architecture: no import circle, and the public names that
suites, published check files and autograder zips import keep working; the kit's tests
stay apart from the course's content."""

import os

import grimp

import grader.core.numerics
import grader.numerics
import grader.otter_bridge
import grader.platforms.otter
import grader.student
import grader.student.kernel


def _circles(graph) -> list[set[str]]:
    """Strongly connected sets of more than one module (Tarjan, iteratively)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, edges = work[-1]
            for imported in edges:
                if imported not in index:
                    index[imported] = low[imported] = len(index)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append((imported, iter(sorted(
                        graph.find_modules_directly_imported_by(imported)))))
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    circle = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        circle.add(member)
                        if member == module:
                            break
                    if len(circle) > 1:
                        circles.append(circle)
    return circles


def test_no_module_imports_itself_through_others():
    """Packages and their modules included (import-linter checks siblings only)."""
    assert _circles(grimp.build_graph("grader")) == []


def test_a_circle_would_be_found():
    class Graph:
        modules = {"a", "a.b", "c"}
        edges = {"a": {"a.b"}, "a.b": {"a"}, "c": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges[module]

    assert _circles(Graph()) == [{"a", "a.b"}]


def test_public_names_keep_working():
    assert grader.numerics is grader.core.numerics
    assert grader.otter_bridge.DlgradePlugin is grader.platforms.otter.DlgradePlugin
    assert grader.student.check is grader.student.kernel.check


def test_a_kit_test_that_reads_the_course_is_caught():
    """The kit's tests must not depend on the course's assignments (conftest's audit hook):
    what it notes while a kit test runs fails that test."""
    import conftest

    course = conftest.COURSE
    saved, conftest._reads = conftest._reads, []
    try:
        os.listdir(course / "assignments")  # a real read, through the hook
        conftest._watch("open", (str(course / "solutions" / "any.py"), "r", 0))
        conftest._watch("subprocess.Popen", ("dlgrade", ["dlgrade", "run",
                        str(course / "assignments" / "any"), "x.ipynb"], "/tmp", None))
        conftest._watch("open", (str(conftest.FIXTURES / "solutions" / "toy.py"), "r", 0))
        conftest._watch("open", ("assignments", None, 0))  # relative to a dir_fd: unknown
        os.listdir(course / "grader")
        noted = conftest._reads
    finally:
        conftest._reads = saved
    assert noted == [str(course / "assignments"), str(course / "solutions" / "any.py"),
                     str(course / "assignments" / "any")]
