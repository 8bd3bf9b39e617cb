# SPDX-License-Identifier: BSD-3-Clause
"""The worker pool's diagnostic records (``db/pydevStats.db``) for a screen's pool panel."""
from __future__ import annotations

from pathlib import Path

from .dbtext import Record, parse

__all__ = ["stats_db", "pool_records"]

_HERE = Path(__file__).resolve().parent


def stats_db() -> Path:
    """Where ``pydevStats.db`` is: in a wheel's ``pydevice/_ioc/db``, an installed tree's or
    a build's ``db/``, or the source tree's ``pydevApp/Db``."""
    candidates = (_HERE.parent / "_ioc" / "db", _HERE.parents[2] / "db",
                  _HERE.parents[2] / "pydevApp" / "Db")
    for folder in candidates:
        if (folder / "pydevStats.db").is_file():
            return folder / "pydevStats.db"
    raise FileNotFoundError("pydevStats.db not found in " + ", ".join(map(str, candidates)))


def pool_records(prefix: str) -> list[Record]:
    """The pool records as ``dbLoadRecords("db/pydevStats.db", "P=<prefix>")`` loads them."""
    return parse(stats_db().read_text(), {"P": prefix})
