# SPDX-License-Identifier: BSD-3-Clause
"""Command line: ``python -m pydevice.gpio info|db|screen ...``.

    python -m pydevice.gpio info                      # chips and their lines
    python -m pydevice.gpio db --chip gpiochip0 --lines GPIO17,GPIO27 --outputs GPIO27 \\
        --prefix P: -o gpio.db
    python -m pydevice.gpio screen --chip gpiochip0 --lines GPIO17,GPIO27 --outputs GPIO27 \
        --prefix P: -o gpio.ui                        # the same lines' operator screen
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from .device import Device, iter_gpio_files
from .info import LineInfo
from .dbgen import generate_db
from .errors import GpioError


def _list(text: Optional[str]) -> list:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def cmd_info(args: argparse.Namespace) -> int:
    paths = [args.chip] if args.chip else [str(p) for p in iter_gpio_files()]
    if not paths:
        print("no GPIO chips found", file=sys.stderr)
        return 1
    for p in paths:
        with Device(p) as dev:
            print(f"{dev.name} [{dev.label}] {dev.num_lines} lines")
            for li in dev.get_info().lines:
                use = f"used by '{li.consumer}'" if li.used else "unused"
                print(f"  line {li.offset:3d}: {li.name or '-':<16} {li.direction:<6} "
                      f"{'active-low ' if li.active_low else ''}bias={li.bias} {use}")
    return 0


def described_lines(lines: Sequence[str], outputs: Sequence[str], inputs: Sequence[str]) -> list:
    """Line info for a chip that is not on this machine (a board's database prepared on a
    laptop): every line must be given, by name, with its direction."""
    undecided = [line for line in lines if line not in outputs and line not in inputs]
    if not lines or undecided:
        raise ValueError("the chip is not on this machine: give every line with --lines, and "
                         "each of them in --outputs or --inputs"
                         + (f" (no direction for {', '.join(undecided)})" if undecided else ""))
    infos = []
    for index, line in enumerate(lines):
        offset = int(line) if line.isdigit() else -1 - index  # a name's offset is unknown here
        infos.append(LineInfo(offset=offset, name="" if line.isdigit() else line, used=False,
                              consumer="", direction="output" if line in outputs else "input",
                              active_low=False, bias="as-is", drive="push-pull", edge="none",
                              clock="monotonic", debounce=0.0))
    return infos


def cmd_db(args: argparse.Namespace) -> int:
    try:
        with Device(args.chip) as dev:
            infos = dev.get_info().lines
    except (OSError, ValueError) as exc:
        try:
            infos = described_lines(_list(args.lines), _list(args.outputs), _list(args.inputs))
        except ValueError as why:
            print(f"error: {args.chip}: {exc}; {why}", file=sys.stderr)
            return 1
        print(f"note: {args.chip} is not on this machine ({exc}): the database follows "
              "--lines/--outputs/--inputs", file=sys.stderr)
    text = generate_db(args.chip, infos, prefix=args.prefix,
                       lines=_list(args.lines) or None, outputs=_list(args.outputs),
                       inputs=_list(args.inputs), bias=args.bias, debounce=args.debounce,
                       active_low=args.active_low, count=args.count)
    if args.output and args.output != "-":
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pydevice.gpio",
                                 description="GPIO chips and EPICS databases for them")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("info", help="list chips and lines")
    p.add_argument("--chip", help="only this chip (number, gpiochipN, path or label)")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("db", help="write a database for some lines of a chip")
    p.add_argument("--chip", required=True, help="chip (gpiochipN, number, path or label)")
    p.add_argument("--lines", help="comma-separated names/offsets (default: all unused lines)")
    p.add_argument("--prefix", default="$(P)", help="record name prefix (default: $(P))")
    p.add_argument("--outputs", help="lines to make outputs (default: by current direction)")
    p.add_argument("--inputs", help="lines to make inputs")
    p.add_argument("--bias", choices=["pull-up", "pull-down", "disabled"], help="input bias")
    p.add_argument("--debounce", type=float, default=0.0, help="input debounce in seconds")
    p.add_argument("--active-low", action="store_true", help="lines are active-low")
    p.add_argument("--count", choices=["rising", "falling", "both"], default="rising",
                   help="which edges the :Count records count")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_db)
    from .screen import add_parser as add_screen_parser
    add_screen_parser(sub, p, cmd_db)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (GpioError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
