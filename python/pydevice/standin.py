# SPDX-License-Identifier: BSD-3-Clause
"""A stand-in for the IOC's built-in ``pydev`` module, for running user code outside an IOC.

Inside ``pydevIoc`` the module ``pydev`` is built into the interpreter, and a built-in name
as well: module code may call ``pydev.iointr(...)`` without importing it, as with the original
PyDevice.  Outside it, ``import pydev`` finds ``python/pydev.py``, which re-exports this
module, so code written for records runs and unit-tests anywhere::

    import pydev
    pydev.iointr("bytes_sent", 42)
    assert pydev.last_value("bytes_sent") == 42
    pydev.put("TANK:SETPOINT", 3.5)        # fields of "records": a dictionary here
    assert pydev.get("TANK:SETPOINT.VAL") == 3.5

For module code that never imports it, :func:`install` makes the stand-in the built-in
``pydev`` (a test's first line, or a conftest.py).
"""
from __future__ import annotations

import builtins
import sys
import threading
from typing import Any, NamedTuple

__all__ = ["Alarm", "IointrCall", "iointr", "calls", "last_value", "clear", "in_ioc",
           "get", "put", "fields", "install", "STAT_NAMES", "SEVR_NAMES"]

in_ioc = False
"""True inside ``pydevIoc`` (the built-in module), False for this stand-in."""

_NO_VALUE = object()


STAT_NAMES = ("NO_ALARM", "READ", "WRITE", "HIHI", "HIGH", "LOLO", "LOW", "STATE", "COS",
              "COMM", "TIMEOUT", "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT", "BAD_SUB", "UDF",
              "DISABLE", "SIMM", "READ_ACCESS", "WRITE_ACCESS")
"""EPICS alarm status names (menuAlarmStat), in their numeric order."""
SEVR_NAMES = ("NO_ALARM", "MINOR", "MAJOR", "INVALID")
"""EPICS alarm severity names (menuAlarmSevr), in their numeric order."""


def _alarm_name(value: str | int, names: tuple[str, ...], what: str) -> str:
    """The EPICS name for ``value`` (a name in any case, or its number); ValueError if none."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    if isinstance(value, str) and value.upper() in names:
        return value.upper()
    raise ValueError(f"unknown alarm {what} {value!r}: use one of {', '.join(names)}")


class Alarm(Exception):
    """Raise (or push through :func:`iointr`) to put a record into alarm.

    ``stat`` and ``sevr`` are EPICS alarm names (``"COMM"``, ``"READ"``, ... and
    ``"MINOR"``, ``"MAJOR"``, ``"INVALID"``; any case) or their numbers; an unknown name is
    a ValueError that lists the valid ones.  The message becomes the record's AMSG.
    """

    def __init__(self, message: str = "", stat: str | int = "COMM", sevr: str | int = "INVALID") -> None:
        super().__init__(message)
        self.message = message
        self.stat = _alarm_name(stat, STAT_NAMES, "status")
        self.sevr = _alarm_name(sevr, SEVR_NAMES, "severity")


class IointrCall(NamedTuple):
    """One recorded :func:`iointr` push."""

    name: str
    value: Any
    timestamp: float | None


_lock = threading.Lock()
calls: list[IointrCall] = []
"""Every push made through :func:`iointr`, oldest first."""


def iointr(name: str, value: Any = _NO_VALUE, timestamp: float | None = None) -> None:
    """Register (no value) or push ``value`` to the records registered under ``name``.

    The stand-in only records pushes in :data:`calls`; ``timestamp`` is POSIX seconds
    (the records' TIME when they have ``TSE=-2``).
    """
    if not isinstance(name, str):
        raise TypeError("iointr() name must be a str")
    if value is _NO_VALUE:
        return
    with _lock:
        calls.append(IointrCall(name, value, timestamp))


def last_value(name: str, default: Any = None) -> Any:
    """The value most recently pushed under ``name`` (``default`` if none)."""
    with _lock:
        for call in reversed(calls):
            if call.name == name:
                return call.value
    return default


fields: dict[str, Any] = {}
"""The stand-in's record fields, ``"REC.FIELD"`` -> value: set them for code that reads them."""


def _field_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError("the name must be a str, e.g. 'TANK:LEVEL.VAL'")
    record, dot, field = name.partition(".")
    return f"{record}.{field or 'VAL'}" if dot else f"{record}.VAL"


def get(name: str, as_string: bool = False) -> Any:
    """The value of field ``name`` (``"REC.FIELD"``; ``"REC"`` is ``REC.VAL``) in :data:`fields`.

    LookupError if it was never put, as the IOC raises for a field it does not have;
    ``as_string`` gives ``str()`` of the value (the IOC gives an enum's state string).
    """
    key = _field_name(name)
    with _lock:
        if key not in fields:
            raise LookupError(f"pydev.get('{name}'): no such record or field in this IOC")
        value = fields[key]
    return str(value) if as_string else value


def put(name: str, value: Any) -> None:
    """Store ``value`` as field ``name`` in :data:`fields` (the IOC writes the record)."""
    key = _field_name(name)
    with _lock:
        fields[key] = value


def clear() -> None:
    """Forget all recorded pushes and stand-in fields."""
    with _lock:
        calls.clear()
        fields.clear()


def install() -> None:
    """Make ``pydev`` a built-in name for all modules, as it is inside ``pydevIoc``: this
    stand-in, unless there is a ``pydev`` built-in already (inside the IOC, the real one).

    A module that defines its own ``pydev`` (the tutorial's ``if __name__ == "__main__":
    class pydev: ...``) or imports it keeps that one: a module's names come before built-ins.
    """
    if not hasattr(builtins, "pydev"):
        builtins.pydev = sys.modules[__name__]  # type: ignore[attr-defined]
