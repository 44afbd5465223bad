"""The name hidden suites use: ``from grader.numerics import assert_close, ...``.

It is ``grader.core.numerics`` itself, the same module object, so that suites written against
this name keep working and a value compared here is compared there.
"""

import sys

from grader.core import numerics

sys.modules[__name__] = numerics
