"""``cpsim bringup``: a board's pilot-measurement chain over its tolerances (virtual bring-up).

Parse -> one library call (:func:`cpsim.study.bringup.bringup`) -> print.
"""

from __future__ import annotations

from typing import Any

from ..errors import ParameterError
from .common import add_force, count, print_json

__all__ = ["add_parser"]


def add_parser(sub: Any, units_note: str) -> None:
    """Add the ``bringup`` subcommand to ``sub`` (an argparse subparsers action)."""
    p = sub.add_parser(
        "bringup", help="virtual bring-up: will the board's firmware ever read the wrong state?",
        description="Simulate a board's CP measurement chain (sense divider, ADC, sampling, firmware thresholds "
                    "in counts, debounce) over the CP circuit's and the board's tolerances, and report per state "
                    "the codes the firmware computes, what it reads, misreads with a 95 % upper bound, the "
                    "margin in LSB to each threshold and what drives it, the worst variations and recommended "
                    "thresholds. BOARD is a board file (TOML) or the name of an example board (openevse, "
                    "esp32_evse).",
        epilog=units_note)
    p.add_argument("board", metavar="BOARD", help="board file (.toml) or example board name")
    p.add_argument("--runs", type=count, default=10_000, help="variations per state (default 10000)")
    p.add_argument("--engine", default="fast", choices=("fast", "spice"),
                   help="fast: settled plateaus in closed form; spice: ngspice with the front-end, sampled at "
                        "the board's instants (edges, cable capacitance); default fast")
    p.add_argument("--seed", type=int, help="random seed (default: drawn and reported)")
    p.add_argument("--state", action="append", metavar="STATE",
                   help="simulate this state only (repeatable; default: the board's pilot.states)")
    p.add_argument("--worst", type=count, default=5, help="worst variations to list (default 5)")
    p.add_argument("--out", help="write one row per variation and state to .parquet or .csv")
    add_force(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_bringup)


def _num(x, fmt: str = ".1f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _print(s: dict) -> None:
    print(f"bringup {s['board']}: engine {s['engine']}, {s['runs']} variations per state, seed {s['seed']}, "
          f"{s['elapsed_s']:.2f} s ({_num(s['variations_per_s'], ',.0f')} variations/s), {s['errors']} with errors")
    print(f"  sampling {s['sampling']}, algorithm {s['algorithm']}, debounce {s['debounce']}, "
          f"{s['adc_bits']}-bit ADC")
    for note in s["notes"]:
        print(f"  note: {note}")
    for state, st in s["states"].items():
        if "code" not in st:
            print(f"  {state}: {'; '.join(st.get('notes', []))}")
            continue
        c, m = st["code"], st["misread"]
        read = ", ".join(f"{k} {v}" for k, v in st["read_as"].items())
        print(f"  {state}: code {c['min']:.0f} / {c['median']:.0f} / {c['max']:.0f} (min/median/max), read as {read}; "
              f"misread {m['count']} ({100 * m['rate']:.4g} %, 95 % bound {100 * m['upper_95']:.3g} %)")
        for mg in st["margins"]:
            print(f"      margin to {mg['edge']} threshold {mg['threshold_counts']}: "
                  f"{mg['margin_lsb']:+.1f} LSB before noise (run {mg['run']}, driven by {mg['driven_by'] or 'n/a'}), "
                  f"{mg['observed_margin_counts']:+.0f} counts in the readings")
    print("thresholds (counts): " + ", ".join(f"{k} {v[0]}-{v[1]}" for k, v in s["thresholds_counts"].items())
          + f"; smallest margin between adjacent states {_num(s['current_margin_lsb'])} LSB")
    print("recommended:         " + ", ".join(f"{k} {v[0]}-{v[1]}"
                                             for k, v in s["recommended_thresholds_counts"].items())
          + f"; smallest margin {_num(s['recommended_margin_lsb'])} LSB")
    if s["worst_variations"]:
        print("worst variations:")
        for w in s["worst_variations"]:
            print(f"  {w['state']} run {w['run']}: code {w['code']:.0f}, read as {w['read_as']}, "
                  f"margin {w['margin_lsb']:+.1f} LSB, CP {w['v_cp_v']:.3f} V")
    if s.get("out"):
        print(f"wrote the rows to {s['out']}")


def _cmd_bringup(args) -> int:
    from ..outputs import refuse_foreign, refuse_input
    from ..study.bringup import bringup

    if args.runs is None or args.runs < 1:
        raise ParameterError(f"--runs must be at least 1, got {args.runs}")
    refuse_input(args.out, [args.board])  # --out over the board file would destroy it
    refuse_foreign(args.out, force=args.force)
    result = bringup(args.board, runs=args.runs, engine=args.engine, seed=args.seed, states=args.state,
                     out=args.out, worst=args.worst)
    if args.json:
        print_json(result.summary)
    else:
        _print(result.summary)
    return 0
