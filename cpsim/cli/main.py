"""The ``cpsim`` command: wires one module per command group, then parse -> one call -> print.

Every user mistake is a :class:`cpsim.CpsimError`: printed as one line on stderr,
exit status 2. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys

from ..errors import CpsimError
from . import analyze, bringup, formats, pp, report, simulate, study
from .common import UNITS_NOTE, Parser, set_quiet, terminal_safe

__all__ = ["build_parser", "main"]

# the command groups, in the order `cpsim --help` lists them
_GROUPS = (simulate, pp, analyze, formats, study, bringup, report)


EXIT_CODES = ("exit status: 0 done; 1 a verdict at or past --fail-on, or a study with failed runs (without "
              "--allow-errors); 2 a usage or input error (one line on stderr: what, where, what to do); 130 "
              "interrupted (Ctrl-C)")


def build_parser() -> argparse.ArgumentParser:
    """The ``cpsim`` argument parser with every command group registered."""
    from .._version import __version__

    parser = Parser(
        prog="cpsim",
        description="Simulate and analyze EV charging pilot signals (SAE J1772 / IEC 61851-1 CP and PP).",
        epilog=UNITS_NOTE + " " + EXIT_CODES + ".",
    )
    parser.add_argument("--version", action="version", version=f"cpsim {__version__}")
    _add_global_flags(parser, default=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for group in _GROUPS:
        group.add_parser(sub, UNITS_NOTE)
    for child in _subparsers(parser):  # --debug and --quiet anywhere on the line
        _add_global_flags(child, default=argparse.SUPPRESS)
    return parser


def _add_global_flags(p: argparse.ArgumentParser, default) -> None:
    p.add_argument("--debug", action="store_true", default=default, help="show tracebacks and debug logging")
    p.add_argument("--quiet", "-q", action="store_true", default=default,
                   help="print only errors (and the requested output: CSV, JSON)")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                out.append(child)
                out.extend(_subparsers(child))
    return out


def _active(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)command parser that parsed ``args``: follow the chosen subcommand at each level."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                return _active(action.choices[chosen], args)
    return parser


def _flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's destination (a Python parameter name) -> its flag, for the command that ran."""
    names: dict[str, str] = {}
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs and action.dest not in ("help", "version"):
            names.setdefault(action.dest, longs[0])
    return names


def _in_cli_terms(message: str, flags: dict[str, str]) -> str:
    """A library message in the words of the command line: ``rc_ohm`` -> ``--rc-ohm``, ``out=`` -> ``--out``."""
    def flag(m: re.Match) -> str:
        word = m.group(1)
        return flags[word] + (" " if m.group(2) else "") if word in flags else m.group(0)

    def rewrite(text: str) -> str:
        text = re.sub(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b(=?)", flag, text)  # snake_case names
        return re.sub(r"\b([a-z]+)(=)", flag, text)                             # plain name=

    # text the user typed comes back quoted ('duty=50pp'): it stays as typed
    parts = re.split(r"""('[^']*'|"[^"]*")""", message)
    return "".join(p if i % 2 else rewrite(p) for i, p in enumerate(parts))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    sys.stdout, sys.stderr = terminal_safe(sys.stdout), terminal_safe(sys.stderr)
    set_quiet(args.quiet)
    level = logging.DEBUG if args.debug else (logging.ERROR if args.quiet else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except CpsimError as exc:
        if args.debug:
            raise
        print(f"cpsim: error: {_in_cli_terms(str(exc), _flag_names(_active(parser, args)))}", file=sys.stderr)
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
        print("cpsim: interrupted" + _resume_hint(args), file=sys.stderr)
        return 130


def _resume_hint(args: argparse.Namespace) -> str:
    if getattr(args, "command", None) == "montecarlo" and getattr(args, "out", None):
        return f"; the finished runs are kept in {args.out}.parts: rerun the same command with --resume"
    return ""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
