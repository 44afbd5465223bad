"""The student side: ``checking`` (``dlgrade check``: public checks in the sandbox, and what
submitting needs) and ``kernel`` (public checks in the student's own kernel).

``check`` is the name the published check files import: ``from grader.student import check``.
"""

from grader.student.kernel import check

__all__ = ["check"]
