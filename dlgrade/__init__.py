"""dlgrade as a student notebook names it: its first code cell installs the package when it is
missing and runs ``grader = dlgrade.Notebook("NAME", "DIGEST")``, which loads the public checks
the notebook carries (``grader.student.notebook``)."""

from grader.student.notebook import Notebook

__all__ = ["Notebook"]
