# SPDX-License-Identifier: BSD-3-Clause
"""Exceptions raised by :mod:`pydevice.revpi` (all name the path or IO concerned)."""
from __future__ import annotations


class RevPiError(Exception):
    """Base class of this package's errors."""


class OpenError(RevPiError):
    """The process image, piCtory configuration or replace_io file cannot be used."""


class IoNotFoundError(RevPiError, KeyError):
    """A record link names an IO that the piCtory configuration does not have."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class NotWritableError(RevPiError):
    """A record tried to write an IO this owner may only read (input, memory, monitoring)."""
