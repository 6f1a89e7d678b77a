"""``python -m flowmill.testing NAME [--option key=value ...] [-- pytest args]``:
run the conformance battery against an installed backend by name, in each of its
modes unless an option names one."""

from __future__ import annotations

import argparse
import ast
import os
import sys

import pytest


def _value(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowmill.testing", description=__doc__.splitlines()[0])
    parser.add_argument("backend", help="name of the installed backend to test")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a backend option (Python literal values: 4, 'x', None)")
    parser.epilog = "Arguments after -- go to pytest, e.g. -- -k diamond -x."
    argv = sys.argv[1:] if argv is None else list(argv)
    pytest_args = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    options = {}
    for item in args.option:
        key, sep, text = item.partition("=")
        if not sep:
            parser.error(f"--option {item!r} must be KEY=VALUE")
        options[key] = _value(text)
    os.environ["FLOWMILL_CONFORMANCE_BACKEND"] = args.backend
    os.environ["FLOWMILL_CONFORMANCE_OPTIONS"] = repr(options)
    here = os.path.dirname(__file__)
    return pytest.main([os.path.join(here, "_by_name.py"), "-p", "no:cacheprovider", *pytest_args])


if __name__ == "__main__":
    sys.exit(main())
