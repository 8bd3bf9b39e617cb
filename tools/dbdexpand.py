# SPDX-License-Identifier: BSD-3-Clause
"""Flatten a .dbd file: replace `include "x.dbd"` lines by the files found on a search path.

Used by the CMake build, which has no EPICS perl tools:
    python tools/dbdexpand.py OUT.dbd IN.dbd DIR [DIR ...]
"""
from __future__ import annotations

import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"\s*$')


def expand(path: pathlib.Path, dirs: list[pathlib.Path], depth: int = 0) -> list[str]:
    """The lines of ``path`` with every include replaced (dbCommon.dbd is included inside
    every record type, so a file may be included many times)."""
    if depth > 20:
        sys.exit(f"dbdexpand: {path}: includes nested too deep")
    lines: list[str] = []
    for line in path.read_text().splitlines():
        match = INCLUDE.match(line)
        if not match:
            lines.append(line)
            continue
        name = match.group(1)
        found = next((d / name for d in dirs if (d / name).is_file()), None)
        if found is None:
            sys.exit(f"dbdexpand: {path}: cannot find included {name!r} in {[str(d) for d in dirs]}")
        lines += expand(found, dirs, depth + 1)
    return lines


def main(argv: list[str]) -> None:
    out, src, *dirs = argv
    source = pathlib.Path(src)
    text = "\n".join(expand(source, [source.parent] + [pathlib.Path(d) for d in dirs]))
    pathlib.Path(out).write_text(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
