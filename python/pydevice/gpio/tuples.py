# SPDX-License-Identifier: BSD-3-Clause
"""linuxpy's namedtuple shape for our dataclasses.

linuxpy returns its events and line infos as namedtuples; code written against it may unpack
them (``timestamp, type, line, seq, line_seq = event``) or index them.  Our types are
dataclasses with more fields; :class:`LinuxpyTuple` makes them iterate, index and compare
lengths as linuxpy's tuple would, over linuxpy's fields in linuxpy's order.
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterator

__all__ = ["LinuxpyTuple"]


class LinuxpyTuple:
    """Mixin: iterate/index over the attribute names listed in ``_fields``."""

    _fields: ClassVar[tuple] = ()

    def __iter__(self) -> Iterator[Any]:
        return (getattr(self, f) for f in self._fields)

    def __getitem__(self, index: Any) -> Any:
        return tuple(self)[index]

    def __len__(self) -> int:
        return len(self._fields)

    def _asdict(self) -> dict:
        """linuxpy's fields as a dict (as ``namedtuple._asdict``)."""
        return {f: getattr(self, f) for f in self._fields}
