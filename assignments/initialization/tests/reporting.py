"""Trusted-side helpers: a test that checks several cases checks them all and reports each."""

from grader.sandbox import StudentError


def check_each(credit, checks):
    """Run every (label, check) and report every failure at once; the fraction that passed is
    the credit."""
    failures = []
    for label, check in checks:
        try:
            check()
        except AssertionError as error:
            failures.append(str(error))
        except StudentError as error:
            failures.append(f"{label}: your code raised {error}")
    credit.award(len(checks) - len(failures), len(checks))
    assert not failures, (f"{len(failures)} of {len(checks)} cases are wrong:\n- "
                          + "\n- ".join(failures))
