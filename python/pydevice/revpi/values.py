# SPDX-License-Identifier: BSD-3-Clause
"""Conversions between RevPiModIO IO values and EPICS record values (pure, no I/O)."""
from __future__ import annotations

from typing import Any

from revpimodio2.io import IntIO, IOBase, MemIO, StructIO

from . import _compat

BIT, INT, FLOAT, STRING, MEMORY, BYTES = "bit", "int", "float", "string", "memory", "bytes"
MAX_INT_BYTES = 8
"""An integer IO wider than this (e.g. a gateway's 492-byte area) is a byte array (BYTES)."""
_FLOAT_CODES = "efd"


def _struct_code(io: StructIO) -> str:
    """The struct format character of a replaced IO ('f' for '<f', 's' for '<8s')."""
    return io.frm[-1]


def io_kind(io: IOBase) -> str:
    """Classify ``io`` as BIT, INT, FLOAT, STRING or MEMORY (piCtory memory value)."""
    if isinstance(io, MemIO):
        return MEMORY
    if isinstance(io, StructIO):
        code = _struct_code(io)
        if code == "?":
            return BIT
        if code in _FLOAT_CODES:
            return FLOAT
        if code in "sc":
            return STRING
        return INT
    if _compat.bit_shift(io):
        return BIT
    if isinstance(io, IntIO):
        return BYTES if len(io) > MAX_INT_BYTES else INT
    return STRING


def int_range(io: IOBase) -> tuple[int, int]:
    """Smallest and largest integer an INT IO can hold."""
    bits = len(io) * 8
    if getattr(io, "signed", False):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def to_record(value: Any) -> Any:
    """Make an IO value acceptable to a record: bool -> int, bytes -> str."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).rstrip(b"\x00").decode("latin-1")
    return value


def read(io: IOBase) -> Any:
    """The current buffered value of ``io``, converted with :func:`to_record`; the raw bytes
    of a BYTES IO (for a UCHAR array record)."""
    if io_kind(io) == BYTES:
        return io.get_value()
    return to_record(io.value)


def bytes_from_record(io: IOBase, value: Any) -> bytes:
    """The bytes for BYTES IO ``io`` from an array record's value; ValueError unless it has
    exactly the IO's length (a shorter array would leave the rest of the area undefined)."""
    # bytearray refuses an item outside 0..255 rather than wrapping it
    raw = bytes(value) if isinstance(value, (bytes, bytearray)) else bytes(bytearray(int(v) for v in value))
    if len(raw) != len(io):
        raise ValueError(f"{len(raw)} bytes for IO '{io.name}', which takes exactly {len(io)}")
    return raw


class OutOfRange(ValueError):
    """An integer that does not fit its IO; ``nearest`` is the closest value that does."""

    def __init__(self, message: str, number: int, nearest: int) -> None:
        super().__init__(message)
        self.number = number
        self.nearest = nearest


def from_record(io: IOBase, value: Any) -> Any:
    """Convert a record value to what ``io.value = ...`` accepts; ValueError if it cannot fit."""
    kind = io_kind(io)
    name = io.name
    if kind == BIT:
        return bool(value)
    if kind == FLOAT:
        return float(value)
    if kind == STRING:
        raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
        if len(raw) > len(io):
            raise ValueError(f"{len(raw)} bytes do not fit IO '{name}' ({len(io)} bytes)")
        if isinstance(io, StructIO) and _struct_code(io) == "c":
            return raw[:1] or b"\x00"
        return raw + bytes(len(io) - len(raw))
    if kind == INT:
        number = int(round(value)) if isinstance(value, float) else int(value)
        low, high = int_range(io)
        if not low <= number <= high:
            signed = "signed" if low < 0 else "unsigned"
            # value and range first: a record's AMSG keeps only 39 characters
            raise OutOfRange(
                f"{number} not in {low}..{high} for IO '{name}' ({len(io) * 8}-bit {signed})",
                number, min(max(number, low), high))
        return number
    raise ValueError(f"IO '{name}' is a piCtory memory value and cannot be written")
