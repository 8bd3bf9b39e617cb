# SPDX-License-Identifier: BSD-3-Clause
"""A second program on the process image: writes inputs as the field would.

    python stimulus.py PROCIMG CONFIG REPLACE_IO_FILE NAME=VALUE ...

Opens RevPiModIO in simulator mode (inputs become writable), sets the values (ints,
floats, 0/1 for bits, 'text' for string IOs), writes the image once and prints the
POSIX time right after the write.
"""
from __future__ import annotations

import ast
import sys
import time

import revpimodio2


def main() -> None:
    procimg, configrsc, replace = sys.argv[1:4]
    sim = revpimodio2.RevPiModIO(procimg=procimg, configrsc=configrsc, simulator=True,
                                 replace_io_file=replace or None, debug=False)
    for item in sys.argv[4:]:
        name, _, text = item.partition("=")
        io = getattr(sim.io, name)
        value = ast.literal_eval(text)
        if isinstance(value, str):
            value = value.encode().ljust(len(io), b"\0")
        elif isinstance(io.value, bool):
            value = bool(value)
        io.value = value
    if not sim.writeprocimg():
        sys.exit("write failed")
    print(repr(time.time()), flush=True)
    sim.cleanup()


main()
