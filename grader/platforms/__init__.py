"""The grading platforms courses already use: ``otter`` (Otter-Grader's check files, the
autograder zip for ``otter run`` and Gradescope, and the plugin that grades there)."""
