# SPDX-License-Identifier: BSD-3-Clause
"""One GPIO chip's lines as records use them: the line table behind
:class:`pydevice.gpio.records.Lines` (requests, pushes, sync, chip loss, hand-over)."""
from __future__ import annotations

import dataclasses
import errno
import logging
import os
import threading
from typing import Any, Callable, Optional

from ._line import LineEntry, iointr_name
from ._reader import EdgeReader
from .device import Device, LineId
from .errors import ChipNotFoundError, GpioError, LineNotFoundError
from .events import EdgeCounter
from .settings import LineConfig

__all__ = ["LineTable", "HandedOver"]

# the records' logger, whichever module of the binding logs (sites configure that name)
log = logging.getLogger("pydevice.gpio.records")


def chip_gone(err: BaseException) -> bool:
    """True if ``err`` says the chip itself went away (driver unbound, adapter unplugged)."""
    return isinstance(err, ChipNotFoundError) or getattr(err, "errno", None) == errno.ENODEV


class HandedOver(Exception):
    """The table just handed its lines over to the chip's owner: retry there."""


class LineTable:
    """The lines of one GPIO chip that records use, keyed by offset: their requests, one
    :class:`~pydevice.gpio._reader.EdgeReader` for the watched ones, their pushes under
    every spelling in ``aliases``, :meth:`sync`, chip loss and hand-over.

    ``bind`` (given to the tables of :func:`~pydevice.gpio.records.chip`) gets the chip's
    path once the chip is open and returns the table that owns that chip: None or this one
    keeps it; to another one this table hands its lines over (:meth:`_hand_over`), and
    every call from then on raises :class:`HandedOver`, which
    :class:`~pydevice.gpio.records.Lines` retries on the owner.

    thread safety: ``_lock`` guards the chip and the line table; each line's ``lock`` its
    request (taken after ``_lock``, never before it) and its pushes, so a line's pushes go
    out in the order its state was read.  ``_sync_lock`` runs :meth:`sync` one at a time
    (taken before ``_lock``).
    """

    def __init__(self, chip: str, consumer: str, event_buffer_size: int,
                 bind: Optional[Callable[[str], Optional["LineTable"]]] = None) -> None:
        self.chip = chip
        self.consumer = consumer
        self.event_buffer_size = event_buffer_size
        self.bind = bind
        self.aliases: list = [chip]  # chip spellings records use (see records.chip())
        self._device: Optional[Device] = None
        self._lines: dict = {}
        self._offsets: dict = {}
        self._logged: dict = {}
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()
        self._reader = EdgeReader(f"gpio-{chip}", self._read_edges)
        self._handed_over = False
        self.closed = False

    @property
    def is_open(self) -> bool:
        """True while the chip is open here."""
        return self._device is not None

    # -- the chip ----------------------------------------------------------------------------
    def open_chip(self) -> Device:
        """Open the chip if it is not, and bind its path (see ``bind``); raises
        :class:`HandedOver` once another table owns the chip."""
        with self._lock:
            if self._handed_over:
                raise HandedOver()
            if self._device is None:
                dev = Device(self.chip, consumer=self.consumer)
                owner = self.bind(dev.path) if self.bind is not None else None
                if owner is not None and owner is not self:
                    dev.close()
                    self._hand_over(owner)
                    raise HandedOver()
                self._device = dev
            return self._device

    def _hand_over(self, owner: "LineTable") -> None:
        """The chip is ``owner``'s (another spelling found it first): move the lines
        registered here to it, so each line has one request and one reader (``_lock`` held;
        lock order: this table, then the owner)."""
        self._handed_over = True
        with owner._lock:
            for ln in list(self._lines.values()):
                with ln.lock:
                    self._release(ln)  # a stale handle's request, if any: owner requests anew
                try:
                    key = owner._key(ln.key)
                except (GpioError, OSError):
                    key = ln.key  # a name the chip lacks: its record shows that on use
                mine = owner._lines.get(key)
                if mine is None:
                    ln.key = key
                    owner._lines[key] = ln
                    continue
                mine.names.extend(n for n in ln.names if n not in mine.names)
                if ln.watched and not mine.watched:
                    log.error("%s line %s: watched as %s but already used unwatched as %s",
                              owner.chip, key, self.chip, owner.chip)
            self._lines.clear()
            self._offsets.clear()
        self._reader.stop()  # this table's reader (if any) has nothing left to read
        log.info("%s: the chip %s has already; its lines handed over", self.chip, owner.chip)

    def _drop_device(self) -> None:
        """Forget the open chip (it went away); the next use opens it again."""
        with self._lock:
            dev, self._device = self._device, None
            self._offsets.clear()
        if dev is not None:
            try:
                dev.close()
            except OSError:
                pass

    def _chip_lost(self) -> None:
        """The chip went away: release every line and forget the chip."""
        with self._lock:
            for ln in self._lines.values():
                with ln.lock:
                    self._release(ln)
            self._drop_device()

    # -- the line table ----------------------------------------------------------------------
    def _key(self, line: LineId) -> LineId:
        """The line's offset (the key of its entry); the spelling itself while the chip is
        absent.  Raises :class:`LineNotFoundError` for a name or offset the chip lacks."""
        if isinstance(line, bool) or not isinstance(line, (int, str)):
            raise TypeError(f"a line is an offset (int) or a name (str), not {line!r}")
        with self._lock:
            off = self._offsets.get(line)
            if off is not None:
                return off
            try:
                dev = self.open_chip()
            except ChipNotFoundError:
                return line
            try:
                off = dev.offset(line)
            except LineNotFoundError:
                # a stale handle of a chip that went away and came back knows no names
                try:
                    dev.gpiod_chip.get_info()
                    raise
                except OSError as e:
                    if isinstance(e, GpioError) or not chip_gone(e):
                        raise
                self._drop_device()
                off = self.open_chip().offset(line)
            self._offsets[line] = off
            return off

    def _entry(self, line: LineId, config: LineConfig) -> LineEntry:
        """The entry of ``line`` (created with ``config`` if new); ``_lock`` held."""
        key = self._key(line)
        ln = self._lines.get(key)
        if ln is None:
            ln = self._lines[key] = LineEntry(key, config)
        return ln

    def _line(self, key: LineId, config: LineConfig) -> LineEntry:
        """The line entry for ``key``, requested now if it is not yet (raises on error)."""
        if self.closed:
            raise GpioError(f"{self.chip}: closed (IOC exiting)")
        with self._lock:
            key = self._key(key)
            ln = self._lines.get(key)
            if ln is None:
                ln = self._lines[key] = LineEntry(key, config)
            if ln.request is None:
                self._open(ln)
            return ln

    def _open(self, ln: LineEntry) -> None:
        try:
            dev = self.open_chip()
            if not isinstance(ln.key, int):  # named while the chip was absent: key it now
                off = self._key(ln.key)
                if off not in self._lines:
                    del self._lines[ln.key]
                    self._lines[off] = ln
                    ln.key = off
            req = dev.request(ln.key, line_config=ln.config, consumer=self.consumer,
                              event_buffer_size=self.event_buffer_size if ln.watched else None)
            req.open()
        except GpioError as e:
            ln.error = e
            raise
        ln.request, ln.error, ln.synced = req, None, False
        log.info("%s: requested %s", self.chip, req.describe())

    def _release(self, ln: LineEntry) -> None:
        """Close the line's request, ignoring a dead chip's errors (``ln.lock`` held)."""
        req, ln.request, ln.synced = ln.request, None, False
        if req is None:
            return
        if ln.watched:
            self._reader.remove(req)
        try:
            req.close()
        except OSError:
            pass

    def _io_failed(self, ln: LineEntry, err: OSError) -> GpioError:
        """A requested line failed: drop its request (every line's, if the chip is gone)
        so the next use requests it again; the error to raise."""
        if chip_gone(err):
            self._chip_lost()
            return GpioError(f"GPIO chip {self.chip} is gone ({os.strerror(errno.ENODEV)}); "
                             "its lines are requested again when it is back", stat="COMM")
        with ln.lock:
            self._release(ln)
        return GpioError(f"{self.chip} line {ln.key}: {err}")

    def _failed(self, line: LineId, err: GpioError, stat: str) -> GpioError:
        """Log a line's error once (until it changes) and set the alarm status to raise."""
        err.stat = "COMM" if chip_gone(err) or err.stat == "COMM" else stat
        msg = str(err)
        if self._logged.get(line) != msg:
            self._logged[line] = msg
            log.error("%s", msg)
        return err

    # -- what the record links call (through Lines) -----------------------------------------
    def get(self, line: LineId, **config: Any) -> int:
        """See :meth:`pydevice.gpio.records.Lines.get`."""
        try:
            ln = self._line(line, LineConfig(direction="input", **config))
        except GpioError as e:
            raise self._failed(line, e, "READ") from None
        try:
            with ln.lock:
                # _line() gives a line whose request is open
                return ln.request.get_value(ln.request.offsets[0])  # type: ignore[union-attr]
        except OSError as e:
            raise self._failed(line, self._io_failed(ln, e), "READ") from None

    def set(self, line: LineId, value: Any, **config: Any) -> None:
        """See :meth:`pydevice.gpio.records.Lines.set`."""
        v = 1 if value else 0
        try:
            with self._lock:
                known = self._lines.get(self._key(line))
                if known is not None and known.config.direction != "output":
                    raise GpioError(f"{self.open_chip().describe(self.open_chip().offset(line))} "
                                    "is an input here; cannot drive it")
                if known is not None and known.request is None:
                    # requested again (chip back): start at this value, not the first one
                    known.config = dataclasses.replace(known.config, value=v)
                ln = self._line(line, LineConfig(direction="output", value=v, **config))
        except GpioError as e:
            raise self._failed(line, e, "WRITE") from None
        try:
            with ln.lock:
                ln.request.set_value(ln.request.offsets[0], v)  # type: ignore[union-attr]
        except OSError as e:
            raise self._failed(line, self._io_failed(ln, e), "WRITE") from None

    def output(self, line: LineId, initial: int = 0, safe: Optional[int] = 0,
               **config: Any) -> None:
        """See :meth:`pydevice.gpio.records.Lines.output`."""
        cfg = LineConfig(direction="output", value=initial, **config)
        with self._lock:
            ln = self._entry(line, cfg)
            if ln.request is None:
                ln.config = cfg
            ln.safe = safe
        self._line(line, cfg)

    def watch(self, spelling: str, line: LineId, edge: str, count: str, what: str,
              **config: Any) -> str:
        """See :meth:`pydevice.gpio.records.Lines.watch`; the name is ``spelling``'s."""
        if edge not in ("rising", "falling", "both"):
            raise ValueError(f"watch edge must be rising, falling or both, not {edge!r}")
        if what not in ("", "count", "lost"):
            raise ValueError(f"watch what= must be '', 'count' or 'lost', not {what!r}")
        cfg = LineConfig(direction="input", edge=edge, clock="realtime", **config)
        counter = EdgeCounter(count, edge)  # checks count= before anything is registered
        name = iointr_name(spelling, line, what)
        with self._lock:
            try:
                ln = self._lines.get(self._key(line))
            except GpioError as e:
                raise self._failed(line, e, "READ") from None
            if ln is not None and ln.request is not None and not ln.watched:
                raise GpioError(f"{self.chip} line {line}: already used unwatched here")
            if ln is not None and line not in ln.names:
                ln.names.append(line)
            if ln is not None and ln.watched:
                return name  # watched already (another record, st.cmd): keep its count
            if ln is None:
                ln = self._entry(line, cfg)
                ln.names.append(line)
            ln.config = cfg
            ln.watched = True
            if ln.counter is None:
                ln.counter = counter
            if ln.request is None:
                try:
                    self._line(line, cfg)
                except LineNotFoundError as e:
                    raise self._failed(line, e, "READ") from None
                except GpioError as e:
                    self._failed(line, e, "READ")  # logged; sync() retries and alarms
                    return name
                self._add_reader(ln)
        return name

    def counts(self, line: LineId) -> EdgeCounter:
        """The edge counter of a watched line."""
        ln = self._lines[self._key(line)]
        assert ln.counter is not None
        return ln.counter

    def sync(self) -> None:
        """See :meth:`pydevice.gpio.records.Lines.sync`: one at a time (``_sync_lock``)."""
        with self._sync_lock:
            self._sync()

    def _sync(self) -> None:
        failed = []
        with self._lock:
            lines = [ln for ln in self._lines.values() if ln.watched]
        for ln in lines:
            try:
                with self._lock:
                    if ln.request is None:
                        self._open(ln)
                        self._add_reader(ln)
            except GpioError as e:
                failed.append(self._failed(ln.key, e, "COMM"))
                ln.push_alarm(self.aliases, str(e), "COMM")
                continue
            try:
                ln.push_state(self.aliases, force=not ln.synced)
            except OSError as e:
                err = self._io_failed(ln, e)
                failed.append(self._failed(ln.key, err, "COMM"))
                ln.push_alarm(self.aliases, str(err), "COMM")
        if failed:
            raise GpioError("; ".join(str(e) for e in failed))

    def _add_reader(self, ln: LineEntry) -> None:
        assert ln.request is not None
        self._reader.add(ln.request.fileno(), ln)

    def _read_edges(self, ln: LineEntry) -> None:
        """The reader thread's work on a readable line: push its newest edge."""
        try:
            ln.push_edges(self.aliases)
        except OSError as e:
            # drop the request (unregistering its fd) so a dead chip cannot keep
            # select() returning; sync() requests the line again
            err = self._failed(ln.key, self._io_failed(ln, e), "READ")
            ln.push_alarm(self.aliases, str(err), err.stat)

    # -- shutdown ----------------------------------------------------------------------------
    def park(self) -> None:
        """Set every output to its ``safe`` value (outputs with ``safe=None`` keep theirs)."""
        with self._lock:
            for ln in self._lines.values():
                with ln.lock:
                    req = ln.request
                    if req is None or ln.config.direction != "output" or ln.safe is None:
                        continue
                    try:
                        req.set_value(req.offsets[0], ln.safe)
                    except (GpioError, OSError) as e:
                        log.error("%s: cannot set %s to its safe value: %s", self.chip, ln.key, e)

    def close(self) -> None:
        """Stop the reader, set outputs to their safe value and release every line."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._reader.stop()
        self._reader.join(2.0)
        self.park()
        with self._lock:
            for ln in self._lines.values():
                with ln.lock:
                    if ln.request is not None:
                        ln.request.close()
                        ln.request = None
            self._reader.close()
            if self._device is not None:
                self._device.close()
                self._device = None
        log.info("%s: lines released", self.chip)
