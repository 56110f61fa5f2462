# SPDX-License-Identifier: Apache-2.0
"""The main() of the Python test suites (integration, keys, pam, e2e).

    sys.path.insert(0, <tests/tools>)
    import testmain

    def prepare(args, rest):        # optional: checks before the run
        if os.geteuid() != 0:
            raise testmain.Skip("needs root")
        ...

    if __name__ == "__main__":
        ARGS = testmain.main(["--wifctl", "--keys", "--tmp"], prepare)

Every option named is required and takes a value (those in `optional`
too, but may be left out: None); the rest of the command line goes to
unittest (class names, -v). The module's ARGS must be set
before the tests run, so main() calls `publish(args)` first when given.
Exit codes: 0 all run tests passed, 1 a failure or a broken harness
(Broken), 77 skipped (Skip, or every test that ran was skipped): ctest's
SKIP_RETURN_CODE, never reported as passed.
"""
import argparse
import os
import stat
import sys
import unittest

SKIP = 77


class Skip(Exception):
    """The suite cannot run here (no root, no sshd): exit 77."""


class Broken(Exception):
    """The harness is broken (a missing tool or file): exit 1."""


def check_private_parents(path):
    """Raises Broken when path or a directory above it is writable by group
    or others: trusted-file checks refuse files under such directories."""
    d = os.path.abspath(path)
    while True:
        if os.stat(d).st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise Broken("%s: %s is writable by group or others; the "
                         "trusted-file checks refuse it" % (path, d))
        if d == "/":
            return
        d = os.path.dirname(d)


def main(options, prepare=None, publish=None, verbosity=1, optional=()):
    """Parses options, runs prepare(args, rest) and publish(args), then
    unittest on the rest of the command line; exits with the result."""
    name = os.path.basename(sys.argv[0])
    ap = argparse.ArgumentParser(add_help=False)
    for opt in options:
        ap.add_argument(opt, required=True)
    for opt in optional:
        ap.add_argument(opt)
    args, rest = ap.parse_known_args()
    if publish is not None:
        publish(args)
    try:
        if prepare is not None:
            prepare(args, rest)
    except Skip as e:
        print("%s: %s: skipped" % (name, e))
        sys.exit(SKIP)
    except Broken as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        sys.exit(1)
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False,
                         verbosity=verbosity)
    result = prog.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        print("%s: every test was skipped" % name)
        sys.exit(SKIP)
    if result.testsRun == 0:
        print("%s: no test ran" % name, file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
