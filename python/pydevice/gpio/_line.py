# SPDX-License-Identifier: BSD-3-Clause
"""One line of a chip as records use it: its request, edge counter and ``pydev.iointr``
pushes (the entries of :class:`pydevice.gpio._linetable.LineTable`)."""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

import pydev

from .device import LineId
from .events import EdgeCounter, EdgeEvent
from .settings import LineConfig

if TYPE_CHECKING:
    from .line_request import Request

__all__ = ["LineEntry", "iointr_name"]

# the records' logger, whichever module of the binding logs (sites configure that name)
log = logging.getLogger("pydevice.gpio.records")


def iointr_name(chip: str, line: LineId, what: str = "") -> str:
    """The ``pydev.iointr`` name a watched line pushes to: ``gpio:<chip>:<line>[:<what>]``
    (``what`` = ``""`` value, ``"count"`` edges counted, ``"lost"`` events the kernel dropped)."""
    return f"gpio:{chip}:{line}" + (f":{what}" if what else "")


class LineEntry:
    """The entry of one line in a chip's :class:`~pydevice.gpio._linetable.LineTable`:
    its request (one gpiod request per line, so one line's trouble never affects another),
    edge counter and pushes.  ``key`` is the line's offset (its spelling while the chip is
    absent); ``names`` are the spellings it was watched under, which name its
    ``pydev.iointr`` pushes.

    thread safety: ``lock`` guards ``request`` (reads, writes, release), the counter and
    the pushes between the reader thread and record links; taken after the table's
    ``_lock``, never before.
    """

    # an edge's event reaches the reader within milliseconds (2 ms under emulation)
    EDGE_GRACE = 0.2

    def __init__(self, key: LineId, config: LineConfig) -> None:
        self.key = key
        self.names: list = []
        self.config = config
        self.request: Optional[Request] = None
        self.safe: Optional[int] = 0
        self.watched = False
        self.counter: Optional[EdgeCounter] = None
        self.error: Optional[BaseException] = None
        self.last_pushed: Optional[int] = None
        self.unreported: Optional[tuple] = None  # (level, monotonic time first seen)
        self.synced = False
        self.lock = threading.Lock()

    # -- pushes (to the records of this line under every spelling of the chip) ------------
    def push(self, aliases: list, value: Any, counter: Optional[EdgeCounter],
             timestamp: Optional[float]) -> None:
        """Push ``value`` (or an alarm, to all three) to the records of this line under
        every spelling in ``aliases`` (the chip's) and ``names`` (the line's)."""
        for chip_name in list(aliases):
            for line_name in self.names or [self.key]:
                pydev.iointr(iointr_name(chip_name, line_name), value, timestamp=timestamp)
                if isinstance(value, pydev.Alarm):
                    pydev.iointr(iointr_name(chip_name, line_name, "count"), value)
                    pydev.iointr(iointr_name(chip_name, line_name, "lost"), value)
                elif counter is not None:
                    pydev.iointr(iointr_name(chip_name, line_name, "count"), counter.count,
                                 timestamp=timestamp)
                    pydev.iointr(iointr_name(chip_name, line_name, "lost"), counter.lost,
                                 timestamp=timestamp)

    def push_alarm(self, aliases: list, message: str, stat: str) -> None:
        """Put the line's records into ``stat``/INVALID with ``message``."""
        self.push(aliases, pydev.Alarm(message, stat=stat, sevr="INVALID"), None, None)

    def push_edges(self, aliases: list) -> None:
        """Push the newest pending edge, if any (the reader thread, on a readable file)."""
        with self.lock:
            if self.request is None or not self.request.is_open:
                return
            last = self.drain()
            if last is not None:  # pushed under the lock: see push_state
                self.push(aliases, last.value, self.counter, last.timestamp)
                self.last_pushed, self.unreported = last.value, None

    def push_state(self, aliases: list, force: bool) -> None:
        """Push the line's state now (see :meth:`state`), under ``lock``, so a reader's
        push of the same edge cannot overtake or follow it with another time."""
        with self.lock:
            if self.request is None:
                return
            got = self.state(force)
            if got is None:
                return
            value, stamp = got
            self.synced = True
            self.push(aliases, value, self.counter, stamp)
            self.last_pushed, self.unreported = value, None

    # -- reading the line ----------------------------------------------------------------
    def drain(self) -> Optional[EdgeEvent]:
        """Read all pending events (``lock`` held); count them; return the last."""
        assert self.request is not None
        last = None
        while True:
            evs = self.request.read_events(0, max_events=256)
            if not evs:
                return last
            for ev in evs:
                gap = self.counter.update_event(ev) if self.counter else 0
                if gap:
                    log.warning("%s: %d edge events dropped by the kernel (buffer overflow); "
                                "count corrected from seqno", self.request.describe(), gap)
            last = evs[-1]

    def state(self, force: bool) -> Optional[tuple]:
        """``(value, timestamp)`` to push now (``lock`` held), or None -- always something
        when ``force``, else when an edge is pending or the level differs from what was
        last pushed with no edge to come (a kind of edge the request does not detect).  An
        edge's state carries the kernel's time of the edge, never the time the level was
        read."""
        assert self.request is not None
        last = self.drain()  # pending events first, so the counter and the level agree
        level = self.request.get_value(self.request.offsets[0])
        later = self.drain()  # an edge while the level was read: it is the newer state
        if later is not None:
            last = later
        if last is None and level == self.last_pushed:
            self.unreported = None  # back where it was: no change went unreported
        if last is not None:
            return last.value, last.timestamp
        if force or (level != self.last_pushed and not self._edge_coming(level)):
            return level, time.time()
        return None

    def _edge_coming(self, level: int) -> bool:
        """True while the change to ``level`` may be an edge whose event is on its way to
        the reader (which pushes it with the kernel's time): the request detects that kind
        of edge, and the level has differed for less than ``EDGE_GRACE`` s.  After that the
        kernel missed it (too short a pulse, under its debounce) and the level is pushed."""
        edge = self.config.edge
        if not (edge == "both" or (edge == "rising" and level == 1) or
                (edge == "falling" and level == 0)):
            return False
        now = time.monotonic()
        if self.unreported is None or self.unreported[0] != level:
            self.unreported = (level, now)
        return now - self.unreported[1] < self.EDGE_GRACE
