"""Exceptions of :mod:`pydevice.gpio`.

All derive from :class:`GpioError` (an :class:`OSError`), and every message names the chip
and, where there is one, the line -- a record whose link raises one shows it in AMSG.
"""
from __future__ import annotations

__all__ = ["GpioError", "ChipNotFoundError", "LineNotFoundError", "LineBusyError"]


class GpioError(OSError):
    """Base class of the errors raised by :mod:`pydevice.gpio`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ChipNotFoundError(GpioError):
    """No GPIO chip matches the given number, name, path or label."""


class LineNotFoundError(GpioError):
    """The chip has no line with the given name or offset."""


class LineBusyError(GpioError):
    """The line is already requested (by this or another process, or a kernel driver)."""
