"""The grading core: grade one submission against one assignment.

``settings`` (an assignment's configuration and the course secret), ``loading`` (submission
files to code cells), ``grading`` (one submission: cells in the sandbox, the hidden suite here),
``plugin`` (the pytest plugin and the suite's fixtures), ``numerics`` (the tolerance policy)
and ``results`` (the result and its summary). It depends on ``grader.sandbox`` and on nothing
else of the package; everything else (the command, the server, batches, publishing, platforms,
the student side) is built on it.
"""
