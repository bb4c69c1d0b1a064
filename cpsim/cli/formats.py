"""``cpsim formats``: the capture layouts cpsim reads."""

from __future__ import annotations

from typing import Any


def add_parser(sub: Any, units_note: str) -> None:
    """Register ``cpsim formats`` on an argparse subparsers action."""
    fm = sub.add_parser("formats", help="list the capture layouts cpsim reads",
                        description="List the capture file layouts cpsim can read. Every reader converts "
                                    "to SI units: time in s, values in V.", epilog=units_note)
    fm.set_defaults(func=cmd_formats)


def cmd_formats(args) -> int:
    from ..io import list_formats

    rows = list_formats()
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")
    return 0
