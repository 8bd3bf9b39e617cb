# SPDX-License-Identifier: BSD-3-Clause
"""The RevPi base module's values (``core.*``) as named pseudo-IOs for records.

RevPiModIO exposes them as attributes of ``RevPiModIO.core`` (properties such as
``temperature`` or ``A1`` and bit IOs such as ``a1green``); records address them by the
names ``core.<attribute>``.  Only the attributes listed here are reachable from links, so a
typo cannot call arbitrary methods.
"""
from __future__ import annotations

from typing import Any

from revpimodio2.io import IOBase

PREFIX = "core."

READ_ONLY = (
    "status",
    "picontrolrunning",
    "unconfdevice",
    "missingdeviceorgate",
    "overunderflow",
    "iocycle",
    "temperature",
    "frequency",
    "ioerrorcount",
    "x2in",
)
"""Status values of the base module (read-only)."""

WRITABLE = (
    "A1", "A2", "A3", "A4", "A5",
    "a1green", "a1red", "a2green", "a2red", "a3green", "a3red",
    "wd", "x2out", "wdautotoggle", "errorlimit1", "errorlimit2",
)
"""LEDs (``A1``.. as 0=off 1=green 2=red 3=orange, or single colour bits), watchdog, X2 out."""


def is_core_name(name: str) -> bool:
    """True if ``name`` addresses a base-module value (``core.<attr>``)."""
    return name.startswith(PREFIX)


def available(core: Any) -> list[str]:
    """The ``core.*`` names this base module supports (empty without a base module)."""
    if core is None:
        return []
    names = []
    for attr in READ_ONLY + WRITABLE:
        try:
            getattr(core, attr)
        except Exception:  # noqa: BLE001 - a base without this value raises on access
            continue
        names.append(PREFIX + attr)
    return names


def _attr(core: Any, name: str) -> str:
    attr = name[len(PREFIX):]
    if core is None:
        raise KeyError(f"'{name}': the configuration has no RevPi base module (Core/Connect)")
    if attr not in READ_ONLY + WRITABLE or name not in available(core):
        raise KeyError(
            f"'{name}' is not a value of this base module; known: {', '.join(available(core))}"
        )
    return attr


def check(core: Any, name: str) -> None:
    """Raise KeyError naming ``name`` unless the base module has that value."""
    _attr(core, name)


def read(core: Any, name: str) -> Any:
    """Current value of ``core.<attr>`` (bits and booleans as 0/1)."""
    value = getattr(core, _attr(core, name))
    if isinstance(value, IOBase):
        value = value.value
    return int(value) if isinstance(value, bool) else value


def write(core: Any, name: str, value: Any) -> None:
    """Set ``core.<attr>`` (LED colour, LED bit, watchdog, X2 out, error limits)."""
    attr = _attr(core, name)
    if attr not in WRITABLE:
        raise PermissionError(f"'{name}' is a read-only status value")
    target = getattr(core, attr)
    if isinstance(target, IOBase):
        target.value = bool(value)
    elif isinstance(target, bool):
        setattr(core, attr, bool(value))
    else:
        setattr(core, attr, int(value))
