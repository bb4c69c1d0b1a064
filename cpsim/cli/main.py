"""The ``cpsim`` command: wires one module per command group, then parse -> one call -> print.

Every user mistake is a :class:`cpsim.CpsimError`: printed as one line on stderr,
exit status 2. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import CpsimError
from . import analyze, bringup, formats, pp, report, simulate, study
from .common import UNITS_NOTE, Parser

__all__ = ["build_parser", "main"]

# the command groups, in the order `cpsim --help` lists them
_GROUPS = (simulate, pp, analyze, formats, study, bringup, report)


def build_parser() -> argparse.ArgumentParser:
    """The ``cpsim`` argument parser with every command group registered."""
    parser = Parser(
        prog="cpsim",
        description="Simulate and analyze EV charging pilot signals (SAE J1772 / IEC 61851-1 CP and PP).",
        epilog=UNITS_NOTE,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for group in _GROUPS:
        group.add_parser(sub, UNITS_NOTE)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except CpsimError as exc:
        if args.debug:
            raise
        print(f"cpsim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # output piped into `head` and the like: stop quietly, as other Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # a path the user gave that cannot be read or written (the library raises CpsimError
        # where it can; this is the net under third-party writers such as matplotlib's savefig)
        if args.debug:
            raise
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"cpsim: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cpsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
