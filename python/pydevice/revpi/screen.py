# SPDX-License-Identifier: BSD-3-Clause
"""The operator screen of a piCtory configuration: the records ``dbgen`` makes for it, one
panel per module (named as in piCtory), the base module's status and LEDs and the process
image owner's records (IoErrors, CycleTime) in a "Core" panel, and the worker pool panel
when the IOC loads ``db/pydevStats.db``.
"""
from __future__ import annotations

import re
from typing import Optional

from ..screens import dbtext, model
from ..screens.pool import pool_records
from . import _compat, dbgen

__all__ = ["CORE_PANEL", "build"]

CORE_PANEL = "Core"
_OWNER = ("IoErrors", "ResetIoErrors", "CycleTime", "Core:")
_IO_OF_LINK = re.compile(r"""\.(?:watch|write|read)\(\s*'([^']+)'""")


def build(configrsc: str, opts: Optional[dbgen.Options] = None, pool: Optional[str] = None,
          title: str = "Revolution Pi") -> model.Screen:
    """The screen for ``configrsc`` with the records ``dbgen.generate(configrsc, opts)``
    writes; ``pool``: the P macro the IOC loads ``pydevStats.db`` with (None: no pool
    panel)."""
    opts = opts or dbgen.Options()
    records = dbtext.parse(dbgen.generate(configrsc, opts))
    modio = dbgen.load(configrsc, opts.replace_io_file)
    try:
        module_of = {io.name: _compat.device_name(io) for io in modio.io
                     if not io.name.startswith("core.")}
    finally:
        modio.cleanup()

    def group(rec: dbtext.Record) -> str:
        io = _IO_OF_LINK.search(rec.link)  # the IO its link names: rpi.write('O_1', VAL)
        if io and io.group(1) in module_of:
            return module_of[io.group(1)]
        if rec.name[len(opts.prefix):].startswith(_OWNER):
            return CORE_PANEL
        return model.link_group(rec)

    if pool is not None:
        records += pool_records(pool)
    screen = model.build(records, title, group)
    core = [p for p in screen.panels if p.title == CORE_PANEL]
    screen.panels = core + [p for p in screen.panels if p.title != CORE_PANEL]
    return screen
