# SPDX-License-Identifier: BSD-3-Clause
"""The IOC's one owner of a Revolution Pi process image, serving records.

RevPiModIO does the work: its autorefresh thread copies inputs from and outputs to the
process image every cycle, its event system detects input changes (with edges), and
``replace_io``/``shared_procimg``/``ioerrors`` behave as documented by the library.
:class:`ProcessImage` adds what an IOC needs on top:

- IO access by name for record links (:meth:`read`, :meth:`write`), with clear errors;
- I/O Intr names (:meth:`watch`, :meth:`every_cycle`) fed through ``pydev.iointr``;
- a supervisor that turns I/O errors and a stalled refresh into record alarms
  (``pydev.Alarm``) and pushes fresh values when the I/O recovers.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import pydev
import revpimodio2
from revpimodio2 import BOTH, FALLING, RISING
from revpimodio2.io import IOBase

from . import _compat
from . import core as corevalues
from . import links, values
from .errors import IoNotFoundError, NotWritableError

log = logging.getLogger(__name__)

EDGES = {"both": BOTH, "rising": RISING, "falling": FALLING}
MODIO_NAMES = ("modio.ioerrors", "modio.cycletime")
"""Owner-level pseudo-IOs: I/O error count, cycle time in ms."""

# Pushes of every current value this long after a name is first served (and right after
# iocInit), so records start with values rather than waiting for the first change.
_SETTLE_DELAYS = (0.2, 1.0, 3.0)


class ProcessImage:
    """A running RevPiModIO instance (autorefresh + event loop) exposed to records.

    Create it with :func:`pydevice.revpi.open`; records then use, for example::

        field(INP, "@rpi.read('I_1')")                 # passive / periodic input
        field(INP, "@pydev.iointr('revpi:I_1')")       # SCAN "I/O Intr", on change
        field(INP, "@pydev.iointr('revpi:I_1:rising')")
        field(INP, "@pydev.iointr('revpi:cycle:InputValue_1')")   # every refresh cycle
        field(OUT, "@rpi.write('O_1', VAL)")           # output

    I/O Intr names are ``<name>:<IO>`` (changes), ``<name>:<IO>:rising|falling`` (bit
    edges), ``<name>:cycle`` (cycle counter) and ``<name>:cycle:<IO>`` (every cycle);
    ``<IO>`` may also be ``core.<value>`` or ``modio.ioerrors``/``modio.cycletime``.

    thread safety: read/write/watch/watchdog_kick may be called from any number of pydev
    workers at once; one RLock serialises access to the RevPiModIO values, and revpimodio2's
    own refresh thread exchanges the image with the file under revpimodio2's lock.
    """

    def __init__(self, modio: revpimodio2.RevPiModIO, *, name: str = "revpi",
                 watch: str | list[str] = "auto", stall_ms: int | None = None) -> None:
        """Take over ``modio`` (autorefresh must not be running yet) and start serving.

        :param modio: a configured RevPiModIO (any of the three classes)
        :param name: prefix of this owner's I/O Intr names
        :param watch: 'auto' serves the names the IOC's records use (found after iocInit)
                      plus :meth:`watch` calls; 'all' every readable IO; or a list of IOs
        :param stall_ms: declare a fault when no refresh succeeded for this long
                         (default: 10 cycles, at least 500 ms)
        """
        self.modio = modio
        self.name = name
        self._lock = threading.RLock()
        self._fault: str | None = None
        self._served: dict[str, Callable[[], Any] | None] = {}  # iname -> level getter
        self._edges: dict[str, dict[str, str]] = {}   # IO name -> {edge: iname}
        self._specials: dict[str, Any] = {}           # core/modio inames -> last pushed
        self._per_cycle: dict[str, Callable[[], Any]] = {}
        self._bad: dict[str, str] = {}                # unknown inames used by records
        self._written: set[IOBase] = set()            # outputs records wrote (shared exit)
        self._cycle = 0
        self._settle_at: list[float] = []
        self._discovered = False
        self._stop = threading.Event()
        self._stall_s = (stall_ms / 1000) if stall_ms else max(10 * modio.cycletime / 1000, 0.5)
        self.overruns = 0
        """Refresh cycles that took longer than 1.5 cycle times (seen by the supervisor)."""

        if watch == "all":
            for io in self.readable_ios():
                self.watch(io.name)
        elif watch != "auto":
            for io_name in watch:
                self.watch(io_name)
        modio.autorefresh_all()
        # The event loop runs in RevPiModIO's own thread; our callbacks only push values.
        modio.mainloop(blocking=False)
        self._supervisor = threading.Thread(target=self._supervise, name=f"{name}-supervisor",
                                            daemon=True)
        self._supervisor.start()

    # ------------------------------------------------------------------ lookup
    def io(self, name: str) -> IOBase:
        """The RevPiModIO IO object called ``name``; :class:`IoNotFoundError` if none."""
        if not isinstance(name, str):
            raise TypeError(f"IO name must be a str, not {type(name).__name__}")
        if name in self.modio.io:
            return getattr(self.modio.io, name)
        raise IoNotFoundError(
            f"no IO '{name}' in piCtory configuration {self.modio.configrsc}"
            + (" (replaced by replace_io)" if hasattr(self.modio.io, name) else "")
        )

    def readable_ios(self) -> list[IOBase]:
        """IOs whose value can change from outside: inputs (and outputs when shared)."""
        shared = self.modio.monitoring or any(_compat.is_shared(d) for d in self.modio.device)
        kinds = (revpimodio2.INP, revpimodio2.OUT) if shared else (revpimodio2.INP,)
        return [io for io in self.modio.io if io.type in kinds]

    def _getter(self, name: str) -> Callable[[], Any]:
        """A function returning the record value of ``name`` (IO, core.* or modio.*)."""
        if corevalues.is_core_name(name):
            try:
                corevalues.check(self.modio.core, name)
            except KeyError as exc:
                raise IoNotFoundError(str(exc.args[0])) from None
            return lambda: corevalues.read(self.modio.core, name)
        if name == "modio.ioerrors":
            return lambda: self.modio.ioerrors
        if name == "modio.cycletime":
            return lambda: self.modio.cycletime
        if name.startswith("modio."):
            raise IoNotFoundError(f"'{name}' is not a value; known: {', '.join(MODIO_NAMES)}")
        io = self.io(name)
        return lambda: values.read(io)

    # ------------------------------------------------------------------ record API
    def read(self, name: str) -> Any:
        """Latest refreshed value of IO ``name`` (bits 0/1, words int, strings str).

        Raises ``pydev.Alarm`` (COMM/INVALID) while the process image is faulted.
        """
        getter = self._getter(name)
        fault = self._fault
        if fault is not None and name != "modio.ioerrors":
            raise pydev.Alarm(fault)
        return getter()

    def write(self, name: str, value: Any, *, clamp: bool = False) -> None:
        """Set output ``name``; the autorefresh thread writes it within one cycle.

        An integer outside the IO's range raises ValueError and changes nothing; with
        ``clamp=True`` the nearest limit is written instead and ``pydev.Alarm`` (HWLIMIT/MINOR,
        saying so) is raised, so a clamp is never silent.
        With ``shared_procimg`` only this IO is written (outputs of other programs stay).
        Raises ``pydev.Alarm`` while the process image is faulted (the value is kept and
        reaches the image when the I/O recovers).
        """
        clamped = None
        if self.modio.monitoring:
            raise NotWritableError(f"cannot write '{name}': process image opened with monitoring=True")
        if corevalues.is_core_name(name):
            try:
                corevalues.write(self.modio.core, name, value)
            except KeyError as exc:
                raise IoNotFoundError(str(exc.args[0])) from None
        else:
            io = self.io(name)
            if _compat.is_read_only(io):
                what = "input" if io.type == revpimodio2.INP else "memory value"
                mode = " (simulator mode swaps inputs and outputs)" if self.modio.simulator else ""
                raise NotWritableError(f"cannot write '{name}': it is an {what}{mode}")
            if values.io_kind(io) == values.BYTES:
                io.set_value(values.bytes_from_record(io, value))
            else:
                try:
                    io.value = values.from_record(io, value)
                except values.OutOfRange as exc:
                    if not clamp:
                        raise
                    io.value = exc.nearest
                    clamped = f"{exc.number} clamped to {exc.nearest} for IO '{name}'"
            self._written.add(io)
        fault = self._fault
        if fault is not None:
            raise pydev.Alarm(fault)
        if clamped:
            raise pydev.Alarm(clamped, stat="HWLIMIT", sevr="MINOR")

    def watchdog_kick(self) -> int:
        """Toggle the base module's watchdog bit (revpimodio2 ``core.wd_toggle()``); return it.

        Call it from a periodic record only (``python -m pydevice.revpi db --watchdog``), never
        from a thread of its own: the bit then toggles only while the IOC's scan thread, its
        pydev worker pool and Python all make progress, so the RevPi's hardware watchdog
        resets the system when the IOC hangs or stops.  (revpimodio2's ``wdautotoggle`` would
        keep toggling from its own thread whatever the IOC does.)
        """
        core = self.modio.core
        if core is None or not hasattr(core, "wd_toggle"):
            raise IoNotFoundError("this configuration has no base module with a watchdog bit")
        if self._stop.is_set():
            raise NotWritableError("the process image is closed (the IOC is ending)")
        with self._lock:
            core.wd_toggle()
            value = int(core.wd.value)
        fault = self._fault
        if fault is not None:
            raise pydev.Alarm(fault)
        return value

    def watch(self, name: str, edge: str = "both") -> str:
        """Serve change pushes of ``name``; returns its I/O Intr name.

        ``edge`` ('both', 'rising', 'falling') applies to bit IOs: 'rising' pushes 1 when
        the bit turns on, 'falling' pushes 0 when it turns off.  ``core.*`` and
        ``modio.*`` values are compared once per refresh cycle.
        """
        if edge not in EDGES:
            raise ValueError(f"edge must be one of {', '.join(EDGES)}, not {edge!r}")
        return self.serve(f"{self.name}:{name}" + ("" if edge == "both" else f":{edge}"))

    def every_cycle(self, name: str | None = None) -> str:
        """Serve an I/O Intr name pushed after every refresh cycle; returns it.

        Without ``name`` the pushed value is the cycle counter; with an IO name it is that
        IO's value, every cycle whether it changed or not.
        """
        return self.serve(f"{self.name}:cycle" + ("" if name is None else f":{name}"))

    def serve(self, iname: str) -> str:
        """Start pushing I/O Intr name ``iname`` (see the class doc for the forms).

        Raises :class:`IoNotFoundError` naming the IO if the name cannot be served.
        """
        prefix = self.name + ":"
        if not iname.startswith(prefix):
            raise IoNotFoundError(f"I/O Intr name '{iname}' does not start with '{prefix}'")
        rest = iname[len(prefix):]
        with self._lock:
            if iname in self._served or iname in self._per_cycle:
                return iname
            if rest == "cycle":
                self._per_cycle[iname] = lambda: self._cycle
            elif rest.startswith("cycle:"):
                self._per_cycle[iname] = self._getter(rest[len("cycle:"):])
            else:
                io_name, _, edge = rest.partition(":")
                edge = edge or "both"
                if edge not in EDGES:
                    raise IoNotFoundError(
                        f"I/O Intr name '{iname}': '{edge}' is not an edge (rising, falling)")
                getter = self._getter(io_name)
                if corevalues.is_core_name(io_name) or io_name.startswith("modio."):
                    if edge != "both":
                        raise ValueError(f"edge '{edge}' is only for bit IOs, not '{io_name}'")
                    self._specials[iname] = None
                else:
                    io = self.io(io_name)
                    if edge != "both" and values.io_kind(io) != values.BIT:
                        raise ValueError(f"edge '{edge}' is only for bit IOs, not '{io_name}'")
                    if io_name not in self._edges:
                        self._edges[io_name] = {}
                        io.reg_event(self._make_pusher(io_name), edge=BOTH)
                    self._edges[io_name][edge] = iname
                self._served[iname] = getter if edge == "both" else None
            self._settle_at = [time.monotonic() + d for d in _SETTLE_DELAYS]
        return iname

    @property
    def fault(self) -> str | None:
        """Why records are in alarm now (None when the I/O is healthy)."""
        return self._fault

    @property
    def ioerrors(self) -> int:
        """RevPiModIO's count of read/write errors on the process image."""
        return self.modio.ioerrors

    def resetioerrors(self) -> None:
        """Reset RevPiModIO's I/O error counter to 0."""
        self.modio.resetioerrors()

    def names(self) -> list[str]:
        """Every IO name of the configuration plus the available core.* values."""
        return [io.name for io in self.modio.io] + corevalues.available(self.modio.core)

    def served(self) -> list[str]:
        """The I/O Intr names this owner pushes."""
        with self._lock:
            return sorted(list(self._served) + list(self._per_cycle))

    # ------------------------------------------------------------------ life cycle
    def close(self, defaults: bool = False) -> None:
        """Stop refreshing; optionally set outputs to their piCtory defaults first.

        With ``shared_procimg`` only the outputs that records wrote are reset.
        """
        if self._stop.is_set():
            return
        self._stop.set()
        modio = self.modio
        if defaults and not modio.monitoring:
            try:
                if any(_compat.is_shared(dev) for dev in modio.device):
                    # Other programs own the other outputs: reset only what records wrote.
                    for io in self._written:
                        io.set_value(_compat.default_value(io))
                else:
                    modio.setdefaultvalues()
            except Exception:  # noqa: BLE001 - leaving anyway, say why
                log.exception("could not set piCtory default values on %s", modio.procimg)
        # exit(full=True) ends the loops and writes the outputs one last time.
        modio.exit(full=True)
        modio.cleanup()
        self._supervisor.join(2)

    def __enter__(self) -> "ProcessImage":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<ProcessImage {self.modio.procimg} config={self.modio.configrsc} "
                f"cycletime={self.modio.cycletime}ms fault={self._fault!r}>")

    # ------------------------------------------------------------------ internals
    def _make_pusher(self, io_name: str) -> Callable[[str, Any], None]:
        edges = self._edges.setdefault(io_name, {})

        def on_change(_ioname: str, value: Any) -> None:
            # Runs in RevPiModIO's mainloop thread: an exception would end that loop.
            try:
                now = time.time()
                value = values.to_record(value)
                with self._lock:
                    if self._fault is not None:
                        return
                    if "both" in edges:
                        pydev.iointr(edges["both"], value, now)
                    if value and "rising" in edges:
                        pydev.iointr(edges["rising"], 1, now)
                    elif not value and "falling" in edges:
                        pydev.iointr(edges["falling"], 0, now)
            except Exception:  # noqa: BLE001
                log.exception("push of %s failed", io_name)
        return on_change

    def _discover(self) -> None:
        """After iocInit: serve the names records use, alarm records naming unknown IOs."""
        self._discovered = True
        me = {var for var, obj in vars(__import__("__main__")).items() if obj is self}
        for link in links.pydev_links():
            iname = links.iointr_name(link.text)
            try:
                if iname is not None:
                    if iname.startswith(self.name + ":"):
                        self.serve(iname)
                    continue
                for var, _method, io_name in links.calls(link.text):
                    if var in me:
                        self._getter(io_name)
            except (IoNotFoundError, ValueError) as exc:
                message = f"{link.record}: {exc}"
                log.error("%s", message)
                print(f"pydevice.revpi: {message}", flush=True)
                if iname is not None:
                    self._bad[iname] = str(exc)
        for iname, message in self._bad.items():
            pydev.iointr(iname, pydev.Alarm(message, "READ", "INVALID"))

    def _push_all(self, now: float) -> None:
        """Push every served name's current value (or the fault) to its records."""
        with self._lock:
            names = list(self._served.items()) + list(self._per_cycle.items())
            for iname, getter in names:
                try:
                    if self._fault is not None and not iname.endswith(":modio.ioerrors"):
                        pydev.iointr(iname, pydev.Alarm(self._fault), now)
                    elif getter is not None:  # edge names carry edges, never levels
                        pydev.iointr(iname, getter(), now)
                except Exception:  # noqa: BLE001
                    log.exception("push of %s failed", iname)

    def _set_fault(self, fault: str | None) -> None:
        if fault == self._fault:
            return
        with self._lock:
            if fault is None:
                log.warning("process image %s recovered", self.modio.procimg)
            else:
                log.error("%s", fault)
            self._fault = fault
            self._push_all(time.time())

    def _cycle_pushes(self, now: float, errors: int) -> None:
        with self._lock:
            for iname, getter in self._per_cycle.items():
                pydev.iointr(iname, getter(), now)
            for iname in self._specials:
                # a special is served on both edges, so its getter is set
                value = (errors if iname.endswith(":modio.ioerrors")
                         else self._served[iname]())  # type: ignore[misc]
                if value != self._specials[iname]:
                    self._specials[iname] = value
                    pydev.iointr(iname, value, now)

    def _supervise(self) -> None:
        modio = self.modio
        # RevPiModIO has no public per-cycle hook besides cycleloop(), which excludes the
        # event system; its refresh thread sets this Event after every good cycle and, with
        # mainloop() running, nobody else clears it.
        writer: Any = _compat.refresh_thread(modio)  # revpimodio2's, with a newdata Event
        last_errors = modio.ioerrors
        last_good = time.monotonic()
        wait = max(3 * modio.cycletime / 1000, 0.05)
        in_ioc = bool(getattr(pydev, "in_ioc", False))
        while not self._stop.is_set():
            refreshed = writer.newdata.wait(wait)
            if self._stop.is_set():
                break
            now = time.monotonic()
            if refreshed:
                writer.newdata.clear()
                if now - last_good > 1.5 * modio.cycletime / 1000:
                    self.overruns += 1
                last_good = now
                self._cycle += 1
            errors = modio.ioerrors
            if not writer.is_alive():
                fault = (f"process image {modio.procimg}: refresh stopped after {errors} "
                         f"I/O errors (maxioerrors={modio.maxioerrors})")
            elif errors > last_errors:
                fault = f"I/O error on process image {modio.procimg} ({errors} errors counted)"
            elif refreshed:
                fault = None
            elif now - last_good > self._stall_s:
                fault = (f"process image {modio.procimg}: no refresh for "
                         f"{int((now - last_good) * 1000)} ms")
            else:
                fault = self._fault
            last_errors = errors
            try:
                self._set_fault(fault)
                if in_ioc and not self._discovered and links.ioc_running():
                    self._discover()
                    self._settle_at = [now + d for d in (0.0,) + _SETTLE_DELAYS]
                if self._fault is None and refreshed:
                    self._cycle_pushes(time.time(), errors)
                elif self._fault is not None:
                    self._push_ioerrors(errors)
                if self._settle_at and now >= self._settle_at[0]:
                    self._settle_at.pop(0)
                    self._push_all(time.time())
            except Exception:  # noqa: BLE001 - the supervisor must survive
                log.exception("revpi supervisor")
            if not writer.is_alive():
                self._stop.wait(wait)

    def _push_ioerrors(self, errors: int) -> None:
        iname = f"{self.name}:modio.ioerrors"
        with self._lock:
            if iname in self._specials and self._specials[iname] != errors:
                self._specials[iname] = errors
                pydev.iointr(iname, errors, time.time())
