# SPDX-License-Identifier: BSD-3-Clause
"""Exceptions of :mod:`pydevice.gpio`.

All derive from :class:`GpioError` (an :class:`OSError`), and every message names the chip
and, where there is one, the line -- a record whose link raises one shows it in AMSG.
"""
from __future__ import annotations

from pydevice.standin import Alarm

__all__ = ["GpioError", "ChipNotFoundError", "LineNotFoundError", "LineBusyError"]


class GpioError(OSError, Alarm):
    """Base class of the errors raised by :mod:`pydevice.gpio`.

    It is also a ``pydev.Alarm``: raised in a record's link it puts the record into alarm
    (``stat``, default READ; INVALID) with the message itself as AMSG -- no type-name prefix
    eating into AMSG's 40 characters.
    """

    def __init__(self, message: str, stat: str = "READ", sevr: str = "INVALID") -> None:
        OSError.__init__(self, message)
        self.message = message
        self.stat = stat
        self.sevr = sevr

    def __str__(self) -> str:
        return self.message


class ChipNotFoundError(GpioError):
    """No GPIO chip matches the given number, name, path or label."""


class LineNotFoundError(GpioError):
    """The chip has no line with the given name or offset."""


class LineBusyError(GpioError):
    """The line is already requested (by this or another process, or a kernel driver)."""
