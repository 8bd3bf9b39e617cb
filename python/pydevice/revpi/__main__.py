"""Command line: ``python -m pydevice.revpi {db,image,config} ...``.

- ``db CONFIG.rsc --prefix P: [-o out.db]``: EPICS database for the configuration's IOs
- ``image FILE``: create a zero-filled 4096-byte file-backed process image
- ``config {demo,bench} FILE``: write a sample piCtory configuration
- ``simulate PROCIMG CONFIG``: drive the inputs of a file-backed image (field simulator)
"""
from __future__ import annotations

import argparse
import sys

from . import IMAGE_SIZE, create_image, dbgen, piconfig


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m pydevice.revpi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="write an EPICS database for a piCtory configuration")
    db.add_argument("configrsc", help="piCtory configuration (config.rsc)")
    db.add_argument("--prefix", default="$(P)", help="record name prefix (default $(P))")
    db.add_argument("--var", default="rpi", help="st.cmd name of the ProcessImage (default rpi)")
    db.add_argument("--name", default="revpi",
                    help="I/O Intr name prefix, as revpi.open(name=...) (default revpi)")
    db.add_argument("--replace-io-file", help="RevPiModIO replace_io file used by the IOC")
    db.add_argument("--all", action="store_true", help="also IOs not exported in piCtory")
    db.add_argument("--simulator", action="store_true",
                    help="for an IOC opened with simulator=True (inputs/outputs swapped)")
    db.add_argument("--analog", action="store_true", help="ai/ao instead of longin/longout")
    db.add_argument("--no-core", action="store_true", help="no base-module records")
    db.add_argument("--watchdog", metavar="PERIOD", nargs="?", const="1 second",
                    help="a Core:Watchdog record that toggles the hardware watchdog every PERIOD "
                         "(an EPICS SCAN, default \"1 second\") while the IOC runs Python")
    db.add_argument("--clamp", action="store_true",
                    help="an integer output out of range writes the nearest limit and raises a "
                         "MINOR HWLIMIT alarm (default: refuse it with an INVALID alarm)")
    db.add_argument("-o", "--output", help="output file (default: stdout)")

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
    if args.command == "db":
        opts = dbgen.Options(prefix=args.prefix, var=args.var, name=args.name, all_ios=args.all,
                             simulator=args.simulator, words_as_analog=args.analog,
                             replace_io_file=args.replace_io_file, core=not args.no_core,
                             watchdog=args.watchdog, clamp=args.clamp)
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
