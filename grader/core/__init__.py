"""The grading core: grade one submission against one assignment.

``settings`` (an assignment's configuration and the course secret), ``loading`` (submission
files to code cells), ``grading`` (one submission: cells in the sandbox, the hidden suite here),
``plugin`` (the pytest plugin and the suite's fixtures), ``numerics`` (the tolerance policy),
``results`` (the result and its summary) and ``processes`` (grading processes that collect a
suite once and fork per submission). It depends on ``grader.sandbox`` and on nothing
else of the package; everything else (the command, the server, batches, publishing, platforms,
the student side) is built on it.
"""
