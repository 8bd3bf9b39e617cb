"""GPIO lines behind EPICS records.

In ``st.cmd``: ``pydev("from pydevice import gpio")``; in the database
(``python -m pydevice.gpio db`` writes these)::

    record(bi, "P:GPIO17") {          # follows every edge; TIME = kernel edge timestamp
        field(DTYP, "pydev") field(SCAN, "I/O Intr") field(TSE, "-2")
        field(INP, "@pydev.iointr(gpio.chip('gpiochip0').watch('GPIO17', debounce=0.005))") }
    record(int64in, "P:GPIO17:Count") {  # edges counted, none lost (kernel seqno)
        field(DTYP, "pydev") field(SCAN, "I/O Intr") field(TSE, "-2")
        field(INP, "@pydev.iointr(gpio.chip('gpiochip0').watch('GPIO17', debounce=0.005, what='count'))") }
    record(bi, "P:GPIO22:Rd")  { field(DTYP, "pydev") field(SCAN, "1 second")
        field(INP, "@gpio.chip('gpiochip0').get('GPIO22')") }
    record(bo, "P:GPIO27")     { field(DTYP, "pydev")
        field(OUT, "@gpio.chip('gpiochip0').set('GPIO27', VAL)") }
    record(longout, "P:gpiochip0:Sync") { field(DTYP, "pydev") field(SCAN, "1 second")
        field(OUT, "@gpio.chip('gpiochip0').sync()") }

``watch`` runs once, when the record initialises, and returns the ``pydev.iointr`` name.
``get``/``set`` request their line on first use; an error (missing chip, bad name, line in
use) raises, so only that record goes INVALID with the message.  Watched lines are read by
one thread per chip which pushes values with the kernel's edge timestamps; ``sync()`` (run
by a periodic record) pushes the current state of watched lines once the IOC runs, retries
lines that failed and puts the I/O Intr records of a failed line into alarm with its error.
At IOC exit outputs are set to their ``safe`` value (default 0) and every line is released.
"""
from __future__ import annotations

import atexit
import dataclasses
import errno
import functools
import logging
import os
import selectors
import threading
import time
from typing import Any, Optional, Union

import pydev

from .device import Device, LineId, chip_path
from .errors import ChipNotFoundError, GpioError, LineNotFoundError
from .events import EdgeCounter, EdgeEvent
from .line_request import Request
from .settings import LineConfig

__all__ = ["chip", "Lines", "iointr_name", "close_all"]

log = logging.getLogger(__name__)


def iointr_name(chip: str, line: LineId, what: str = "") -> str:
    """The ``pydev.iointr`` name a watched line pushes to: ``gpio:<chip>:<line>[:<what>]``
    (``what`` = ``""`` value, ``"count"`` edges counted, ``"lost"`` events the kernel dropped)."""
    return f"gpio:{chip}:{line}" + (f":{what}" if what else "")


class _Line:
    """One requested line of a :class:`Lines` (one gpiod request per line, so one line's
    trouble never affects another).  ``key`` is the line's offset (its spelling while the
    chip is absent); ``names`` are the spellings it was watched under, which name its
    ``pydev.iointr`` pushes.

    thread safety: ``lock`` guards ``request`` (reads, writes, release) and the counter
    between the reader thread and record links; taken after ``Lines._lock``, never before.
    """

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


def _chip_gone(err: BaseException) -> bool:
    """True if ``err`` says the chip itself went away (driver unbound, adapter unplugged)."""
    return isinstance(err, ChipNotFoundError) or getattr(err, "errno", None) == errno.ENODEV


class _HandedOver(Exception):
    """The Lines just handed its lines over to the chip's owner: retry there."""


def _on_owner(method: Any) -> Any:
    """Run ``method`` on the Lines that owns the chip (:meth:`Lines.owner`); again on the
    owner when this Lines hands its lines over meanwhile (the chip appeared mid-call)."""
    @functools.wraps(method)
    def call(self: "Lines", *args: Any, **kwargs: Any) -> Any:
        while True:
            try:
                return method(self.owner(), *args, **kwargs)
            except _HandedOver:
                continue
    return call


class Lines:
    """The lines of one GPIO chip used by records; get one with :func:`chip`.

    A line is owned once whatever its spelling: entries are keyed by the line's offset, and
    the Lines :func:`chip` makes for spellings of one chip hand their lines to the first of
    them that opened it (also when some were made while the chip was missing).
    When the chip goes away every request is dropped (records alarm COMM/INVALID, the
    reader idles); :meth:`sync` and the next ``get``/``set`` request the lines again.

    thread safety: ``_lock`` guards the chip and the line table; each line's ``lock`` its
    request (taken after ``_lock``, never before it) and its pushes, so a line's pushes go
    out in the order its state was read.  ``_sync_lock`` runs :meth:`sync` one at a time
    (taken before ``_lock``).
    """

    # an edge's event reaches the reader within milliseconds (2 ms under emulation)
    EDGE_GRACE = 0.2

    def __init__(self, chip: Union[int, str] = "gpiochip0", consumer: str = "pydev",
                 event_buffer_size: int = 1024) -> None:
        self.chip = str(chip)
        self.consumer = consumer
        self.event_buffer_size = event_buffer_size
        self._device: Optional[Device] = None
        self._lines: dict = {}
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()
        self._sel: Optional[selectors.DefaultSelector] = None
        self._wake_r = self._wake_w = -1
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._closed = False
        self._logged: dict = {}
        self._offsets: dict = {}
        self.aliases: list = [self.chip]  # chip spellings records use (see chip())
        # the Lines that owns this chip when another spelling found it first (see _bind);
        # only chip()'s Lines are bound: a Lines made directly owns what it requests
        self._forward: Optional[Lines] = None
        self._registered = False

    # -- chip and lines ---------------------------------------------------------------------
    def device(self) -> Device:
        """The open chip; raises :class:`~pydevice.gpio.errors.ChipNotFoundError` if absent."""
        while True:
            try:
                return self.owner()._open_chip()
            except _HandedOver:
                continue  # another spelling owns the chip: ask it

    def owner(self) -> "Lines":
        """The Lines that owns this chip's lines: this one, or the one of the spelling that
        found the chip first when this one was made while the chip was missing."""
        lines = self
        while True:
            while lines._forward is not None:
                lines = lines._forward
            if lines._device is not None or lines._closed:
                return lines
            try:
                lines._open_chip()  # finding the chip binds it to one owner (_bind)
                return lines
            except _HandedOver:
                continue
            except (GpioError, OSError):
                return lines  # chip absent: lines are registered here, keyed by spelling

    def _open_chip(self) -> Device:
        """Open the chip if it is not; bind its path to this Lines, or hand this one's
        lines over to the Lines that has it already (raising :class:`_HandedOver`)."""
        with self._lock:
            if self._forward is not None:
                raise _HandedOver()
            if self._device is None:
                dev = Device(self.chip, consumer=self.consumer)
                owner = _bind(self, dev.path) if self._registered else self
                if owner is not self:
                    dev.close()
                    self._hand_over(owner)
                    raise _HandedOver()
                self._device = dev
            return self._device

    def _hand_over(self, owner: "Lines") -> None:
        """The chip is ``owner``'s (another spelling found it first): move the lines
        registered here to it, so each line has one request and one reader, and forward
        from now on (``_lock`` held; lock order: forwarder, then owner)."""
        self._forward = owner
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
        self._stop.set()  # this Lines' reader (if any) has nothing left to read
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")
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
                dev = self._open_chip()
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
                    if isinstance(e, GpioError) or not _chip_gone(e):
                        raise
                self._drop_device()
                off = self._open_chip().offset(line)
            self._offsets[line] = off
            return off

    def _entry(self, line: LineId, config: LineConfig) -> _Line:
        """The entry of ``line`` (created with ``config`` if new); ``_lock`` held."""
        key = self._key(line)
        ln = self._lines.get(key)
        if ln is None:
            ln = self._lines[key] = _Line(key, config)
        return ln

    def _line(self, key: LineId, config: LineConfig) -> _Line:
        """The line entry for ``key``, requested now if it is not yet (raises on error)."""
        if self._closed:
            raise GpioError(f"{self.chip}: closed (IOC exiting)")
        with self._lock:
            key = self._key(key)
            ln = self._lines.get(key)
            if ln is None:
                ln = self._lines[key] = _Line(key, config)
            if ln.request is None:
                self._open(ln)
            return ln

    def _open(self, ln: _Line) -> None:
        try:
            dev = self._open_chip()
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

    # -- plain inputs and outputs (record links) ------------------------------------------------
    @_on_owner
    def get(self, line: LineId, **config: Any) -> int:
        """Logical value of ``line`` (requested as input on first use with ``config``:
        ``bias``, ``active_low``, ``debounce``...); an output reads back what it drives."""
        try:
            ln = self._line(line, LineConfig(direction="input", **config))
        except GpioError as e:
            raise self._failed(line, e, "READ") from None
        try:
            with ln.lock:
                return ln.request.get_value(ln.request.offsets[0])
        except OSError as e:
            raise self._failed(line, self._io_failed(ln, e), "READ") from None

    @_on_owner
    def set(self, line: LineId, value: Any, **config: Any) -> None:
        """Drive ``line`` to ``value`` (requested as output on first use, starting at
        ``value`` so there is no glitch; ``config``: ``drive``, ``active_low``, ``bias``)."""
        v = 1 if value else 0
        try:
            with self._lock:
                known = self._lines.get(self._key(line))
                if known is not None and known.config.direction != "output":
                    raise GpioError(f"{self._open_chip().describe(self._open_chip().offset(line))} "
                                    "is an input here; cannot drive it")
                if known is not None and known.request is None:
                    # requested again (chip back): start at this value, not the first one
                    known.config = dataclasses.replace(known.config, value=v)
                ln = self._line(line, LineConfig(direction="output", value=v, **config))
        except GpioError as e:
            raise self._failed(line, e, "WRITE") from None
        try:
            with ln.lock:
                ln.request.set_value(ln.request.offsets[0], v)
        except OSError as e:
            raise self._failed(line, self._io_failed(ln, e), "WRITE") from None

    def _io_failed(self, ln: _Line, err: OSError) -> GpioError:
        """A requested line failed: drop its request (every line's, if the chip is gone)
        so the next use requests it again; the error to raise."""
        if _chip_gone(err):
            self._chip_lost()
            return GpioError(f"GPIO chip {self.chip} is gone ({os.strerror(errno.ENODEV)}); "
                             "its lines are requested again when it is back", stat="COMM")
        with ln.lock:
            self._release(ln)
        return GpioError(f"{self.chip} line {ln.key}: {err}")

    def _release(self, ln: _Line) -> None:
        """Close the line's request, ignoring a dead chip's errors (``ln.lock`` held)."""
        req, ln.request, ln.synced = ln.request, None, False
        if req is None:
            return
        if ln.watched and self._sel is not None:
            try:
                self._sel.unregister(req.fileno())
            except (KeyError, ValueError, OSError, GpioError):
                pass
        try:
            req.close()
        except OSError:
            pass

    def _chip_lost(self) -> None:
        """The chip went away: release every line and forget the chip."""
        with self._lock:
            for ln in self._lines.values():
                with ln.lock:
                    self._release(ln)
            self._drop_device()

    def _failed(self, line: LineId, err: GpioError, stat: str) -> GpioError:
        """Log a line's error once (until it changes) and set the alarm status to raise."""
        err.stat = "COMM" if _chip_gone(err) or err.stat == "COMM" else stat
        msg = str(err)
        if self._logged.get(line) != msg:
            self._logged[line] = msg
            log.error("%s", msg)
        return err

    @_on_owner
    def output(self, line: LineId, initial: int = 0, safe: Optional[int] = 0, **config: Any) -> None:
        """Request ``line`` as an output now, at ``initial``; at IOC exit it is set to
        ``safe`` (None: left as it is) before release.  Raises on error."""
        cfg = LineConfig(direction="output", value=initial, **config)
        with self._lock:
            ln = self._entry(line, cfg)
            if ln.request is None:
                ln.config = cfg
            ln.safe = safe
        self._line(line, cfg)

    # -- watched inputs (I/O Intr records) ---------------------------------------------------
    def watch(self, line: LineId, edge: str = "both", count: str = "rising", what: str = "",
              **config: Any) -> str:
        """Watch ``line`` for edges and push to the records registered under
        ``iointr_name(chip, line)`` (value), ``...:count`` (edges of kind ``count`` counted
        without loss) and ``...:lost`` (events the kernel dropped); returns the name of
        ``what`` (``""`` value, ``"count"``, ``"lost"``), so a record links
        ``@pydev.iointr(gpio.chip('gpiochip0').watch('GPIO17'))``.  ``config``: ``bias``,
        ``active_low``, ``debounce`` (s).  Watching a watched line only returns the name.

        A line that does not exist on a present chip, or a bad setting, raises (the record
        is disabled at init with the message).  A line that cannot be had now (chip missing,
        line in use) is logged and stays registered: :meth:`sync` retries it and meanwhile
        puts its I/O Intr records into alarm with the error."""
        # the name as spelled here, also when another spelling's Lines owns the chip
        return self._watch(self.chip, line, edge, count, what, **config)

    @_on_owner
    def _watch(self, spelling: str, line: LineId, edge: str, count: str, what: str,
               **config: Any) -> str:
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

    @_on_owner
    def counts(self, line: LineId) -> EdgeCounter:
        """The edge counter of a watched line."""
        ln = self._lines[self._key(line)]
        assert ln.counter is not None
        return ln.counter

    @_on_owner
    def sync(self) -> None:
        """Push the current state of every watched line, retry failed lines, and alarm the
        records of lines that still fail (raises a summary so the calling record alarms).

        One at a time per chip: the ``Sync`` records of every spelling call it at once, and
        a second sync requesting a line the first has just got found it busy -- by this
        IOC -- and pushed that alarm after the first pushed the line's state."""
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
                self._push(ln, pydev.Alarm(str(e), stat="COMM", sevr="INVALID"), None, None)
                continue
            try:
                self._push_state(ln, force=not ln.synced)
            except OSError as e:
                err = self._io_failed(ln, e)
                failed.append(self._failed(ln.key, err, "COMM"))
                self._push(ln, pydev.Alarm(str(err), stat="COMM", sevr="INVALID"), None, None)
        if failed:
            raise GpioError("; ".join(str(e) for e in failed))

    def _push_state(self, ln: _Line, force: bool) -> None:
        """Push the line's state now -- always when ``force``, else when an edge is pending
        or the level differs from what was last pushed with no edge to come (a kind of edge
        the request does not detect).  An edge's push carries the kernel's time of the edge,
        never the time the level was read; pushed under ``ln.lock``, so a reader's push of
        the same edge cannot overtake or follow it with another time."""
        with ln.lock:
            if ln.request is None:
                return
            last = self._drain(ln)  # pending events first, so the counter and the level agree
            level = ln.request.get_value(ln.request.offsets[0])
            later = self._drain(ln)  # an edge while the level was read: it is the newer state
            if later is not None:
                last = later
            if last is None and level == ln.last_pushed:
                ln.unreported = None  # back where it was: no change went unreported
            if last is not None:
                value, stamp = last.value, last.timestamp
            elif force or (level != ln.last_pushed and not self._edge_coming(ln, level)):
                value, stamp = level, time.time()
            else:
                return
            ln.synced = True
            self._push(ln, value, ln.counter, stamp)
            ln.last_pushed, ln.unreported = value, None

    def _edge_coming(self, ln: _Line, level: int) -> bool:
        """True while the change to ``level`` may be an edge whose event is on its way to
        the reader (which pushes it with the kernel's time): the request detects that kind
        of edge, and the level has differed for less than ``EDGE_GRACE`` s.  After that the
        kernel missed it (too short a pulse, under its debounce) and the level is pushed."""
        edge = ln.config.edge
        if not (edge == "both" or (edge == "rising" and level == 1) or
                (edge == "falling" and level == 0)):
            return False
        now = time.monotonic()
        if ln.unreported is None or ln.unreported[0] != level:
            ln.unreported = (level, now)
        return now - ln.unreported[1] < self.EDGE_GRACE

    def _push(self, ln: _Line, value: Any, counter: Optional[EdgeCounter],
              timestamp: Optional[float]) -> None:
        """Push ``value`` (or an alarm, to all three) to the records of ``ln`` under every
        spelling of the chip and the line."""
        for chip_name in list(self.aliases):
            for line_name in ln.names or [ln.key]:
                pydev.iointr(iointr_name(chip_name, line_name), value, timestamp=timestamp)
                if isinstance(value, pydev.Alarm):
                    pydev.iointr(iointr_name(chip_name, line_name, "count"), value)
                    pydev.iointr(iointr_name(chip_name, line_name, "lost"), value)
                elif counter is not None:
                    pydev.iointr(iointr_name(chip_name, line_name, "count"), counter.count,
                                 timestamp=timestamp)
                    pydev.iointr(iointr_name(chip_name, line_name, "lost"), counter.lost,
                                 timestamp=timestamp)

    # -- the reader thread -------------------------------------------------------------------
    def _add_reader(self, ln: _Line) -> None:
        if self._sel is None:
            self._sel = selectors.DefaultSelector()
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._sel.register(ln.request.fileno(), selectors.EVENT_READ, ln)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"gpio-{self.chip}", daemon=True)
            self._thread.start()

    def _drain(self, ln: _Line) -> Optional[EdgeEvent]:
        """Read all pending events of ``ln`` (its lock held); count them; return the last."""
        last = None
        while True:
            evs = ln.request.read_events(0, max_events=256)
            if not evs:
                return last
            for ev in evs:
                gap = ln.counter.update_event(ev) if ln.counter else 0
                if gap:
                    log.warning("%s: %d edge events dropped by the kernel (buffer overflow); "
                                "count corrected from seqno", ln.request.describe(), gap)
            last = evs[-1]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready = self._sel.select(1.0)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                raise
            for key, _ in ready:
                ln = key.data
                if ln is None:
                    try:
                        os.read(self._wake_r, 512)
                    except BlockingIOError:
                        pass
                    continue
                try:
                    with ln.lock:
                        if ln.request is None or not ln.request.is_open:
                            continue
                        last = self._drain(ln)
                        if last is not None:  # pushed under the lock: see _push_state
                            self._push(ln, last.value, ln.counter, last.timestamp)
                            ln.last_pushed, ln.unreported = last.value, None
                except OSError as e:
                    # drop the request (unregistering its fd) so a dead chip cannot keep
                    # select() returning; sync() requests the line again
                    err = self._failed(ln.key, self._io_failed(ln, e), "READ")
                    self._push(ln, pydev.Alarm(str(err), stat=err.stat, sevr="INVALID"), None, None)

    # -- shutdown ------------------------------------------------------------------------------
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
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            if self._wake_w >= 0:
                os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(2.0)
        self.park()
        with self._lock:
            for ln in self._lines.values():
                with ln.lock:
                    if ln.request is not None:
                        ln.request.close()
                        ln.request = None
            if self._sel is not None:
                self._sel.close()
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._sel = None
            if self._device is not None:
                self._device.close()
                self._device = None
        log.info("%s: lines released", self.chip)


_registry: dict = {}
_by_path: dict = {}
_made: list = []  # every Lines chip() made, handed-over ones too, for close_all()
_registry_lock = threading.Lock()


def _bind(lines: Lines, path: str) -> Lines:
    """The owner of the chip at ``path``, which ``lines`` has just opened: ``lines`` itself
    if no other Lines has it, else that one, which takes over ``lines``' spellings.

    A spelling that did not resolve when :func:`chip` was first called with it (the chip
    was missing) gets its own Lines; once the chip is there, this makes the first Lines
    to open it the one owner, whatever the spellings (label, name, number, path).
    """
    with _registry_lock:
        owner = _by_path.get(path)
        if owner is None or owner is lines or owner._closed:
            for p in [p for p, v in _by_path.items() if v is lines and p != path]:
                del _by_path[p]  # the chip came back under another number
            _by_path[path] = lines
            return lines
        for p in [p for p, v in _by_path.items() if v is lines]:
            del _by_path[p]
        for alias in lines.aliases:
            if alias not in owner.aliases:
                owner.aliases.append(alias)  # its records' iointr names get pushes too
            _registry[alias] = owner
        return owner


def chip(name: Union[int, str] = "gpiochip0", consumer: str = "pydev") -> Lines:
    """The :class:`Lines` of chip ``name`` (one per name and process; released at exit)."""
    key = str(name)
    with _registry_lock:
        lines = _registry.get(key)
        if lines is None:
            # one Lines per chip whatever its spelling (number, name, path, label)
            try:
                path = chip_path(name)
            except GpioError:
                path = None
            lines = _by_path.get(path) if path else None
            if lines is None:
                lines = Lines(name, consumer)
                lines._registered = True
                _made.append(lines)
                if path:
                    _by_path[path] = lines
            elif key not in lines.aliases:
                lines.aliases.append(key)
            _registry[key] = lines
        return lines


def close_all() -> None:
    """Release every chip's lines (runs at exit)."""
    with _registry_lock:
        items = list(_made)
        _made.clear()
        _registry.clear()
        _by_path.clear()
    for lines in items:
        try:
            lines.close()
        except Exception:
            log.exception("closing %s", lines.chip)


atexit.register(close_all)
