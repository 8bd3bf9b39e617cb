# SPDX-License-Identifier: BSD-3-Clause
"""Command line: ``python -m pydevice.revpi {db,screen,image,config,simulate} ...``.

- ``db CONFIG.rsc --prefix P: [-o out.db]``: EPICS database for the configuration's IOs
- ``screen CONFIG.rsc --prefix P: [--format pydm|phoebus|ophyd] [-o out.ui]``: an operator
  screen (or ophyd devices) for the same records, one panel per module
- ``image FILE``: create a zero-filled 4096-byte file-backed process image
- ``config {demo,bench} FILE``: write a sample piCtory configuration
- ``simulate PROCIMG CONFIG``: drive the inputs of a file-backed image (field simulator)
"""
from __future__ import annotations

import argparse
import os
import sys

from ..screens import cli as screen_cli
from . import IMAGE_SIZE, create_image, dbgen, piconfig


def _database_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that decide the records (``db`` and ``screen`` take the same)."""
    add = parser.add_argument
    add("configrsc", help="piCtory configuration (config.rsc)")
    add("--prefix", default="$(P)", help="record name prefix (default $(P))")
    add("--var", default="rpi", help="st.cmd name of the ProcessImage (default rpi)")
    add("--name", default="revpi",
        help="I/O Intr name prefix, as revpi.open(name=...) (default revpi)")
    add("--replace-io-file", help="RevPiModIO replace_io file used by the IOC")
    add("--all", action="store_true", help="also IOs not exported in piCtory")
    add("--simulator", action="store_true",
        help="for an IOC opened with simulator=True (inputs/outputs swapped)")
    add("--analog", action="store_true", help="ai/ao instead of longin/longout")
    add("--no-core", action="store_true", help="no base-module records")
    add("--watchdog", metavar="PERIOD", nargs="?", const="1 second",
        help="a Core:Watchdog record that toggles the hardware watchdog every PERIOD "
             "(an EPICS SCAN, default \"1 second\") while the IOC runs Python")
    add("--clamp", action="store_true",
        help="an integer output out of range writes the nearest limit and raises a "
             "MINOR HWLIMIT alarm (default: refuse it with an INVALID alarm)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m pydevice.revpi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="write an EPICS database for a piCtory configuration")
    _database_arguments(db)
    db.add_argument("-o", "--output", help="output file (default: stdout)")

    scr = sub.add_parser("screen", help="write an operator screen (PyDM, Phoebus) or ophyd "
                                        "devices for the records of `db`")
    _database_arguments(scr)
    scr.add_argument("--pool", metavar="P", help="add the worker pool panel, for an IOC that "
                     "loads db/pydevStats.db with this P macro (e.g. RevPi:pydev:)")
    screen_cli.add_output_arguments(scr)

    img = sub.add_parser("image", help="create a zero-filled file-backed process image")
    img.add_argument("path")
    img.add_argument("--size", type=int, default=IMAGE_SIZE)

    cfg = sub.add_parser("config", help="write a sample piCtory configuration")
    cfg.add_argument("kind", choices=["demo", "bench"])
    cfg.add_argument("path")
    cfg.add_argument("--bits", type=int, default=1000, help="bench: number of bit inputs")

    sim = sub.add_parser("simulate", help="drive a file-backed image's inputs (demo field)")
    sim.add_argument("procimg")
    sim.add_argument("configrsc")
    sim.add_argument("--replace-io-file")
    sim.add_argument("--period", type=float, default=0.5)

    args = parser.parse_args(argv)
    if args.command in ("db", "screen"):
        opts = dbgen.Options(prefix=args.prefix, var=args.var, name=args.name, all_ios=args.all,
                             simulator=args.simulator, words_as_analog=args.analog,
                             replace_io_file=args.replace_io_file, core=not args.no_core,
                             watchdog=args.watchdog, clamp=args.clamp)
    if args.command == "screen":
        from . import screen
        try:
            built = screen.build(args.configrsc, opts, pool=args.pool)
            return screen_cli.write(built, args, "python -m pydevice.revpi screen "
                                    + os.path.basename(args.configrsc))
        except (OSError, RuntimeError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if args.command == "db":
        try:
            text = dbgen.generate(args.configrsc, opts)
        except (OSError, RuntimeError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
        for note in opts.skipped:
            print(f"skipped {note}", file=sys.stderr)
    elif args.command == "simulate":
        from .simulate import FieldSimulator
        try:
            FieldSimulator(args.procimg, args.configrsc, args.replace_io_file, args.period).run()
        except KeyboardInterrupt:
            pass
    elif args.command == "image":
        create_image(args.path, args.size)
    else:
        config = piconfig.demo() if args.kind == "demo" else piconfig.bench(args.bits)
        piconfig.write(config, args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
