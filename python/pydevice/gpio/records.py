# SPDX-License-Identifier: BSD-3-Clause
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
import logging
import threading
from typing import Any, Callable, Optional, TypeVar, Union

from ._line import iointr_name
from ._linetable import HandedOver, LineTable
from .device import Device, LineId, chip_path
from .errors import GpioError
from .events import EdgeCounter

__all__ = ["chip", "Lines", "iointr_name", "close_all"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class Lines:
    """The lines of one GPIO chip used by records, as one spelling of the chip sees them;
    get one with :func:`chip`.  The work is done by the chip's
    :class:`~pydevice.gpio._linetable.LineTable`; this front finds the table that owns the
    chip and calls it.

    A line is owned once whatever its spelling: entries are keyed by the line's offset, and
    the Lines :func:`chip` makes for spellings of one chip hand their lines to the first of
    them that opened it (also when some were made while the chip was missing).
    When the chip goes away every request is dropped (records alarm COMM/INVALID, the
    reader idles); :meth:`sync` and the next ``get``/``set`` request the lines again.

    thread safety: no lock of its own; its table's locks (see ``LineTable``) order every
    call, and a call that meets a hand-over is run again on the owner.
    """

    def __init__(self, chip: Union[int, str] = "gpiochip0", consumer: str = "pydev",
                 event_buffer_size: int = 1024) -> None:
        self.chip = str(chip)
        self._table = LineTable(self.chip, consumer, event_buffer_size)
        # the Lines that owns this chip when another spelling found it first (see _bind);
        # only chip()'s Lines are bound: a Lines made directly owns what it requests
        self._forward: Optional[Lines] = None

    @property
    def consumer(self) -> str:
        """The consumer name the kernel shows for this chip's requests."""
        return self._table.consumer

    @consumer.setter
    def consumer(self, value: str) -> None:
        self._table.consumer = value

    @property
    def event_buffer_size(self) -> int:
        """The kernel's edge event buffer of each watched line (set before it is requested)."""
        return self._table.event_buffer_size

    @event_buffer_size.setter
    def event_buffer_size(self, value: int) -> None:
        self._table.event_buffer_size = value

    @property
    def aliases(self) -> list:
        """The chip spellings records use; a watched line pushes under each (see chip())."""
        return self._table.aliases

    @property
    def _lines(self) -> dict:
        return self._table._lines  # the line entries (offset -> entry), for tests and debugging

    def _bind_path(self, path: str) -> LineTable:
        """The table that owns the chip at ``path`` (this one's, or the owner's: then this
        Lines forwards to the owner from now on)."""
        owner = _bind(self, path)
        if owner is not self:
            self._forward = owner
        return owner._table

    # -- the owner ---------------------------------------------------------------------------
    def owner(self) -> "Lines":
        """The Lines that owns this chip's lines: this one, or the one of the spelling that
        found the chip first when this one was made while the chip was missing."""
        lines = self
        while True:
            while lines._forward is not None:
                lines = lines._forward
            table = lines._table
            if table.is_open or table.closed:
                return lines
            try:
                table.open_chip()  # finding the chip binds it to one owner (_bind)
                return lines
            except HandedOver:
                continue
            except (GpioError, OSError):
                return lines  # chip absent: lines are registered here, keyed by spelling

    def _on_owner(self, method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """``method`` (of :class:`LineTable`) run on the owner's table; again on the owner
        when this one hands its lines over meanwhile (the chip appeared mid-call)."""
        while True:
            try:
                return method(self.owner()._table, *args, **kwargs)
            except HandedOver:
                continue

    def device(self) -> Device:
        """The open chip; raises :class:`~pydevice.gpio.errors.ChipNotFoundError` if absent."""
        return self._on_owner(LineTable.open_chip)

    # -- plain inputs and outputs (record links) ------------------------------------------------
    def get(self, line: LineId, **config: Any) -> int:
        """Logical value of ``line`` (requested as input on first use with ``config``:
        ``bias``, ``active_low``, ``debounce``...); an output reads back what it drives."""
        return self._on_owner(LineTable.get, line, **config)

    def set(self, line: LineId, value: Any, **config: Any) -> None:
        """Drive ``line`` to ``value`` (requested as output on first use, starting at
        ``value`` so there is no glitch; ``config``: ``drive``, ``active_low``, ``bias``)."""
        self._on_owner(LineTable.set, line, value, **config)

    def output(self, line: LineId, initial: int = 0, safe: Optional[int] = 0, **config: Any) -> None:
        """Request ``line`` as an output now, at ``initial``; at IOC exit it is set to
        ``safe`` (None: left as it is) before release.  Raises on error."""
        self._on_owner(LineTable.output, line, initial, safe, **config)

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
        return self._on_owner(LineTable.watch, self.chip, line, edge, count, what, **config)

    def counts(self, line: LineId) -> EdgeCounter:
        """The edge counter of a watched line."""
        return self._on_owner(LineTable.counts, line)

    def sync(self) -> None:
        """Push the current state of every watched line, retry failed lines, and alarm the
        records of lines that still fail (raises a summary so the calling record alarms).

        One at a time per chip: the ``Sync`` records of every spelling call it at once, and
        a second sync requesting a line the first has just got found it busy -- by this
        IOC -- and pushed that alarm after the first pushed the line's state."""
        self._on_owner(LineTable.sync)

    # -- shutdown ------------------------------------------------------------------------------
    def park(self) -> None:
        """Set every output to its ``safe`` value (outputs with ``safe=None`` keep theirs)."""
        self._table.park()

    def close(self) -> None:
        """Stop the reader, set outputs to their safe value and release every line."""
        self._table.close()


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
        if owner is None or owner is lines or owner._table.closed:
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
                lines._table.bind = lines._bind_path
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
