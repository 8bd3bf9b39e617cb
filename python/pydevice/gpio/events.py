# SPDX-License-Identifier: BSD-3-Clause
"""Edge events and the loss-free edge counter.

:class:`EdgeEvent` is a plain copy of the kernel's ``gpio_v2_line_event`` with the line's
name.  :class:`EdgeCounter` turns a stream of events into an edge count that stays exact
when the kernel's event buffer overflows: the kernel numbers every edge it detects
(``line_seqno``) even when it has to drop the event, so a gap in the numbers says how many
edges were dropped.
"""
from __future__ import annotations

import dataclasses
import enum
import time
from typing import Optional

import gpiod

from .tuples import LinuxpyTuple

__all__ = ["EdgeEvent", "EdgeCounter", "LineEventId", "monotonic_to_posix"]


def monotonic_to_posix(ns: int) -> float:
    """Convert a ``CLOCK_MONOTONIC`` timestamp (ns) to POSIX seconds (as of now)."""
    return time.time() - (time.monotonic_ns() - ns) / 1e9


class LineEventId(enum.IntEnum):
    """The kernel's edge event id (``GPIO_V2_LINE_EVENT_*``), linuxpy's ``LineEvent.type``."""

    RISING_EDGE = 1
    FALLING_EDGE = 2


@dataclasses.dataclass(frozen=True)
class EdgeEvent(LinuxpyTuple):
    """One edge on one line.

    ``kind`` is ``"rising"`` or ``"falling"`` (logical, i.e. after active-low), ``value`` the
    line's logical value after the edge, ``timestamp_ns`` the kernel's timestamp on
    ``clock`` (``"realtime"`` = POSIX time; ``""`` = not known, see
    :func:`pydevice.gpio.raw.read_one_event`), ``global_seqno``/``line_seqno`` the kernel's
    sequence numbers (per request / per line, starting at 1).

    It also has linuxpy's ``LineEvent`` fields ``timestamp type line sequence line_sequence``
    and unpacks in that order, as linuxpy's namedtuple does.
    """

    _fields = ("timestamp", "type", "line", "sequence", "line_sequence")

    offset: int
    name: str
    kind: str
    timestamp_ns: int
    global_seqno: int
    line_seqno: int
    clock: str = "realtime"

    @property
    def value(self) -> int:
        """Logical line value right after the edge (1 after rising, 0 after falling)."""
        return 1 if self.kind == "rising" else 0

    @property
    def timestamp(self) -> float:
        """Event time in POSIX seconds (converted when the clock is monotonic; the raw
        clock's seconds when the clock is not known)."""
        if self.clock in ("realtime", ""):
            return self.timestamp_ns / 1e9
        return monotonic_to_posix(self.timestamp_ns)

    # linuxpy's LineEvent field names (timestamp type line sequence line_sequence), so code
    # written against linuxpy.gpio reads our events unchanged.
    @property
    def type(self) -> LineEventId:
        """linuxpy's ``LineEvent.type``: the kernel's event id (``RISING_EDGE`` = 1,
        ``FALLING_EDGE`` = 2)."""
        return LineEventId.RISING_EDGE if self.kind == "rising" else LineEventId.FALLING_EDGE

    @property
    def line(self) -> int:
        """linuxpy's ``LineEvent.line``: the line offset."""
        return self.offset

    @property
    def sequence(self) -> int:
        """linuxpy's ``LineEvent.sequence``: the request-wide sequence number."""
        return self.global_seqno

    @property
    def line_sequence(self) -> int:
        """linuxpy's ``LineEvent.line_sequence``: the line's sequence number."""
        return self.line_seqno

    @classmethod
    def from_gpiod(cls, ev: gpiod.EdgeEvent, name: str = "", clock: str = "realtime") -> "EdgeEvent":
        """Copy a ``gpiod.EdgeEvent``."""
        kind = "rising" if ev.event_type is gpiod.EdgeEvent.Type.RISING_EDGE else "falling"
        return cls(ev.line_offset, name, kind, ev.timestamp_ns, ev.global_seqno, ev.line_seqno,
                   clock)


class EdgeCounter:
    """Counts edges of one kind on one line without losing any.

    ``edge`` is what to count (``"rising"``, ``"falling"`` or ``"both"``); ``detected`` is
    what the line's request detects (the kernel numbers only those).  When the two agree
    (or ``edge == "both"``) a gap in ``line_seqno`` is added to the count exactly.  When
    the request detects both edges but only one kind is counted, the dropped edges are
    split by alternation (a clean digital signal alternates rising/falling), which is exact
    for such signals; :attr:`estimated` counts edges obtained that way.

    :attr:`lost` is the number of events the kernel dropped (its buffer overflowed) and
    :attr:`overflows` how many times that happened.
    """

    def __init__(self, edge: str = "rising", detected: str = "both") -> None:
        if edge not in ("rising", "falling", "both"):
            raise ValueError(f"bad edge {edge!r}: use rising, falling or both")
        if detected not in ("rising", "falling", "both"):
            raise ValueError(f"bad detected edge {detected!r}")
        if edge != "both" and detected not in ("both", edge):
            raise ValueError(f"cannot count {edge} edges on a line detecting only {detected} edges")
        self.edge = edge
        self.detected = detected
        self.count = 0
        self.lost = 0
        self.overflows = 0
        self.estimated = 0
        self.last_seqno = 0
        self.last_kind: Optional[str] = None

    @property
    def exact(self) -> bool:
        """True when gaps translate to the count exactly (no alternation needed)."""
        return self.edge == "both" or self.edge == self.detected

    def _missing_of_kind(self, gap: int, kind_next_to_gap: str) -> int:
        # edges next to a known edge alternate away from it: opposite, same, opposite, ...
        return gap // 2 if self.edge == kind_next_to_gap else (gap + 1) // 2

    def update(self, line_seqno: int, kind: str) -> int:
        """Account for one event; returns the number of dropped events found before it."""
        gap = line_seqno - self.last_seqno - 1
        if gap < 0:
            # a new request restarts numbering; treat it as a fresh start without loss
            gap = 0
        if gap:
            self.lost += gap
            self.overflows += 1
            if self.exact:
                self.count += gap
            else:
                ref = self.last_kind if self.last_kind is not None else kind
                missing = self._missing_of_kind(gap, ref)
                self.count += missing
                self.estimated += missing
        if self.edge == "both" or kind == self.edge:
            self.count += 1
        self.last_seqno = line_seqno
        self.last_kind = kind
        return gap

    def update_event(self, ev: EdgeEvent) -> int:
        """:meth:`update` from an :class:`EdgeEvent`."""
        return self.update(ev.line_seqno, ev.kind)
