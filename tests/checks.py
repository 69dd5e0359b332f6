"""What the Python test programs share (tests/integration, tests/e2e): a check
that prints and records its outcome, a skip meson counts as skipped (exit 77),
and the exit status.

    sys.path.insert(0, <tests/>); from checks import FAILURES, check, skip
"""
import sys

FAILURES = []


def check(cond, what):
    """Prints "ok" or "FAIL" and what; a failure is kept in FAILURES. Returns cond."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def skip(why):
    """Exit 77, which meson counts as skipped, saying why."""
    print("SKIP: " + why)
    sys.exit(77)
