# SPDX-License-Identifier: BSD-3-Clause
"""Find which I/O Intr names and IO names the IOC's records use.

I/O Intr records carry a literal ``pydev.iointr('revpi:I_1')`` link, which the IOC core
registers without running any Python; so the process-image owner learns the names it must
serve (and the names that do not exist, to put those records in alarm) by reading the
links from the loaded database through EPICS' static database API (``dbStaticLib``, part
of libdbCore which every IOC has loaded).  Only after ``iocInit`` (``interruptAccept``):
then the database no longer changes.
"""
from __future__ import annotations

import ctypes
import re
from typing import Iterator, NamedTuple

IOINTR = re.compile(r"""^\s*pydev\s*\.\s*iointr\s*\(\s*(['"])(?P<name>[^'"]*)\1\s*\)\s*$""")
CALL = re.compile(r"""\b(?P<var>[A-Za-z_]\w*)\s*\.\s*(?P<method>read|write|watch|every_cycle)\s*\(\s*(['"])(?P<name>[^'"]*)\3""")


class Link(NamedTuple):
    """One pydev record link."""

    record: str
    field: str
    text: str


class _Lib:
    """ctypes view of the few dbStaticLib symbols needed (None outside an IOC)."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(None)
        self.interrupt_accept = ctypes.c_int.in_dll(lib, "interruptAccept")
        self.pdbbase = ctypes.c_void_p.in_dll(lib, "pdbbase")
        vp, cp, lg = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_long
        for fname, res, args in (
            ("dbAllocEntry", vp, [vp]), ("dbFreeEntry", None, [vp]),
            ("dbFirstRecordType", lg, [vp]), ("dbNextRecordType", lg, [vp]),
            ("dbFirstRecord", lg, [vp]), ("dbNextRecord", lg, [vp]),
            ("dbIsAlias", ctypes.c_int, [vp]), ("dbGetRecordName", cp, [vp]),
            ("dbFindField", lg, [vp, cp]), ("dbGetString", cp, [vp]),
        ):
            func = getattr(lib, fname)
            func.restype, func.argtypes = res, args
        self.lib = lib


_lib: _Lib | None = None


def _get_lib() -> _Lib | None:
    global _lib
    if _lib is None:
        try:
            _lib = _Lib()
        except (OSError, ValueError, AttributeError):  # not inside an IOC process
            return None
    return _lib


def ioc_running() -> bool:
    """True once iocInit has finished in this process (False outside an IOC)."""
    lib = _get_lib()
    return bool(lib and lib.interrupt_accept.value)


def pydev_links() -> list[Link]:
    """INP/OUT links of every record with DTYP "pydev" (empty outside an IOC)."""
    lib = _get_lib()
    if lib is None or not lib.pdbbase.value:
        return []
    found: list[Link] = []
    db = lib.lib
    entry = db.dbAllocEntry(lib.pdbbase.value)
    try:
        status = db.dbFirstRecordType(entry)
        while status == 0:
            rstatus = db.dbFirstRecord(entry)
            while rstatus == 0:
                if not db.dbIsAlias(entry):
                    found.extend(_record_links(db, entry))
                rstatus = db.dbNextRecord(entry)
            status = db.dbNextRecordType(entry)
    finally:
        db.dbFreeEntry(entry)
    return found


def _record_links(db: ctypes.CDLL, entry: int) -> Iterator[Link]:
    name = (db.dbGetRecordName(entry) or b"").decode()
    if db.dbFindField(entry, b"DTYP") != 0 or (db.dbGetString(entry) or b"") != b"pydev":
        return
    for field in ("INP", "OUT"):
        if db.dbFindField(entry, field.encode()) == 0:
            text = (db.dbGetString(entry) or b"").decode(errors="replace").strip()
            if text.startswith("@"):
                yield Link(name, field, text[1:])


def iointr_name(text: str) -> str | None:
    """The name of a link that is exactly ``pydev.iointr('name')``."""
    match = IOINTR.match(text)
    return match.group("name") if match else None


def calls(text: str) -> list[tuple[str, str, str]]:
    """``(variable, method, first argument)`` of literal ``x.read('IO')``-style calls."""
    return [(m.group("var"), m.group("method"), m.group("name")) for m in CALL.finditer(text)]
