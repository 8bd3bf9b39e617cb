# SPDX-License-Identifier: BSD-3-Clause
"""``python -m pydevice.gpio screen``: the operator screen of the records ``db`` writes for the
same arguments (the same line description), one panel per chip, plus the worker pool panel
with ``--pool``.  The database is made by ``db`` itself, in memory, so the screen follows
whatever records it makes.
"""
from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path
from typing import Callable

from ..screens import cli, dbtext, model
from ..screens.pool import pool_records

__all__ = ["add_parser", "build"]


def build(db_text: str, chip: str, pool: str | None = None) -> model.Screen:
    """The screen for the records of ``db_text`` (GPIO lines of ``chip``)."""
    records = dbtext.parse(db_text)
    if pool is not None:
        records += pool_records(pool)

    def group(rec: dbtext.Record) -> str:
        return model.POOL_PANEL if model.link_group(rec) == model.POOL_PANEL else chip
    return model.build(records, f"GPIO {chip}", group)


def add_parser(sub: argparse._SubParsersAction, db_parser: argparse.ArgumentParser,
               cmd_db: Callable[[argparse.Namespace], int]) -> None:
    """A ``screen`` sub-command taking every option of ``db_parser`` (but its output)."""
    p = sub.add_parser("screen", help="write an operator screen (PyDM, Phoebus) or ophyd "
                                      "devices for the lines `db` describes")
    for action in db_parser._actions:
        if action.dest not in ("help", "output"):
            p._add_action(action)
    p.add_argument("--pool", metavar="P", help="add the worker pool panel, for an IOC that "
                   "loads db/pydevStats.db with this P macro")
    cli.add_output_arguments(p)

    def run(args: argparse.Namespace) -> int:
        with tempfile.TemporaryDirectory(prefix="gpio-screen-") as tmp:
            db_args = copy.copy(args)
            db_args.output = str(Path(tmp) / "gpio.db")
            status = cmd_db(db_args)
            if status:
                return status
            text = Path(db_args.output).read_text()
        return cli.write(build(text, args.chip, args.pool), args,
                         "python -m pydevice.gpio screen --chip " + args.chip)
    p.set_defaults(func=run)
