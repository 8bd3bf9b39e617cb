# SPDX-License-Identifier: BSD-3-Clause
"""The ``screen`` command line shared by ``python -m pydevice``, ``pydevice.revpi`` and
``pydevice.gpio``: format and output options, and writing one screen or one per panel."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Optional, Sequence

from . import dbtext, model

__all__ = ["FORMATS", "add_output_arguments", "render", "write", "main"]

FORMATS = {"pydm": ".ui", "phoebus": ".bob", "ophyd": ".py"}


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--title``, ``-o`` and ``--split``."""
    parser.add_argument("--format", choices=sorted(FORMATS), default="pydm",
                        help="pydm: a PyDM .ui display (default); phoebus: a Phoebus .bob "
                             "display; ophyd: a Python module of ophyd devices for bluesky")
    parser.add_argument("--title", help="screen title (default: from the input)")
    parser.add_argument("-o", "--output",
                        help="file to write (default: stdout); with --split, a directory")
    parser.add_argument("--split", action="store_true",
                        help="one screen per device/module, written into the -o directory")


def render(screen: model.Screen, fmt: str, command: str = "") -> str:
    """The text of ``screen`` in format ``fmt``."""
    if fmt == "pydm":
        from .pydm_ui import render as pydm
        return pydm(screen)
    if fmt == "phoebus":
        try:
            from .phoebus_bob import render as phoebus
            return phoebus(screen)
        except ImportError as exc:
            raise RuntimeError(f"--format phoebus needs phoebusgen ({exc}): "
                               "pip install 'pydevice[screens]'") from exc
    from .ophyd_py import render as ophyd
    return ophyd(screen, command)


def _file_name(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", title).strip("_") or "screen"


def write(screen: model.Screen, args: argparse.Namespace, command: str = "") -> int:
    """Write ``screen`` as ``args`` say; returns the exit status."""
    fmt = args.format
    if args.title:
        screen.title = args.title
    if not screen.panels:
        print("error: no records a screen can show", file=sys.stderr)
        return 1
    if args.split:
        if not args.output:
            print("error: --split needs -o DIRECTORY", file=sys.stderr)
            return 2
        folder = Path(args.output)
        folder.mkdir(parents=True, exist_ok=True)
        for panel in screen.panels:
            one = model.Screen(f"{screen.title}: {panel.title}", [panel])
            path = folder / (_file_name(panel.title) + FORMATS[fmt])
            path.write_text(render(one, fmt, command), encoding="utf-8")
            print(path)
        return 0
    text = render(screen, fmt, command)
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _macros(text: Optional[str]) -> dict[str, str]:
    pairs = [p for p in (text or "").split(",") if p.strip()]
    bad = [p for p in pairs if "=" not in p]
    if bad:
        raise ValueError(f"macro without '=': {', '.join(bad)}")
    return dict(p.split("=", 1) for p in pairs)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m pydevice screen FILE.db [FILE.db ...] [-m P=X:] ...``"""
    parser = argparse.ArgumentParser(
        prog="python -m pydevice screen",
        description="An operator screen for pydev databases: one panel per device (the "
                    "Python object or I/O Intr source its links name), inputs as indicators, "
                    "outputs as controls, the worker pool's records as a small panel.")
    parser.add_argument("db", nargs="+", help="database file(s), as dbLoadRecords reads them")
    parser.add_argument("-m", "--macros", help="macros as for dbLoadRecords: P=Demo:,R=1")
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    try:
        macros = _macros(args.macros)
        records = []
        for path in args.db:
            records += dbtext.parse(Path(path).read_text(encoding="utf-8"), macros)
        screen = model.build(records, args.title or Path(args.db[0]).stem)
        return write(screen, args, "python -m pydevice screen " + " ".join(args.db))
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
