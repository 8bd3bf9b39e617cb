# SPDX-License-Identifier: BSD-3-Clause
"""The only place that reads revpimodio2's private attributes.

revpimodio2 has no public API for these facts; its private names may change in any release, so
the import refuses a revpimodio2 outside the range these accessors were tested with, instead of
failing later, inside a record, with an AttributeError.
"""
from __future__ import annotations

import re
import threading
from typing import Any

import revpimodio2
from revpimodio2.io import IOBase

TESTED_MIN = (2, 9, 0)
"""Oldest revpimodio2 these accessors were tested with (inclusive)."""
TESTED_BELOW = (2, 10, 0)
"""First revpimodio2 version not tested (exclusive)."""


def _version_tuple(text: str) -> tuple[int, ...]:
    # "2.9.0rc1" -> (2, 9, 0): only the leading digits of each of the first three parts count
    # (r"\d*" matches every string: re.match never gives None here)
    return tuple(int(re.match(r"\d*", piece).group() or 0)  # type: ignore[union-attr]
                 for piece in text.split(".")[:3])


def check_version(version: str) -> None:
    """Raise ImportError unless ``version`` lies in [TESTED_MIN, TESTED_BELOW)."""
    found = _version_tuple(version)
    if not TESTED_MIN <= found < TESTED_BELOW:
        low = ".".join(map(str, TESTED_MIN))
        high = ".".join(map(str, TESTED_BELOW))
        raise ImportError(
            f"pydevice.revpi needs revpimodio2 >= {low}, < {high} (it reads private attributes "
            f"that change between releases); found revpimodio2 {version}. Install a tested "
            f"version: pip install 'revpimodio2>={low},<{high}'")


check_version(getattr(revpimodio2, "__version__", "0"))


def device_name(io: IOBase) -> str:
    """Name of the piCtory module that holds ``io``."""
    return io._parentdevice.name


def is_shared(device: Any) -> bool:
    """True if ``device`` was opened with ``shared_procimg`` (other programs write it too)."""
    return bool(device._shared_procimg)


def is_read_only(io: IOBase) -> bool:
    """True for inputs and memory values (revpimodio2 refuses to set them)."""
    return bool(io._read_only_io)


def default_value(io: IOBase) -> object:
    """The piCtory default of ``io``."""
    return io._defaultvalue


def bit_shift(io: IOBase) -> int | None:
    """The bit position of a single-bit IO inside its byte; None/0-like for whole-byte IOs."""
    return io._bitshift


def refresh_thread(modio: revpimodio2.RevPiModIO) -> threading.Thread:
    """revpimodio2's autorefresh thread; its ``newdata`` Event is set after every good cycle."""
    return modio._imgwriter
