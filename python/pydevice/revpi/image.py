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

from . import core as corevalues
from . import values
from .errors import IoNotFoundError, NotWritableError

log = logging.getLogger(__name__)

EDGES = {"both": BOTH, "rising": RISING, "falling": FALLING}
MODIO_NAMES = ("modio.ioerrors", "modio.cycletime", "modio.cycle")
"""Owner-level pseudo-IOs: error count, cycle time in ms, refresh-cycle counter."""

# Pushes of the current values after the last watch(): records registered during iocInit
# only accept pushes once scanning runs, which Python cannot observe.
_SETTLE_DELAYS = (0.2, 1.0, 3.0, 10.0)


class ProcessImage:
    """A running RevPiModIO instance (autorefresh + event loop) exposed to records.

    Create it with :func:`pydevice.revpi.open`; records then use, for example::

        field(INP, "@rpi.read('I_1')")                       # passive / periodic input
        field(INP, "@pydev.iointr(rpi.watch('I_1'))")        # SCAN "I/O Intr"
        field(OUT, "@rpi.write('O_1', VAL)")                 # output
    """

    def __init__(self, modio: revpimodio2.RevPiModIO, *, name: str = "revpi",
                 stall_ms: int | None = None) -> None:
        """Take over ``modio`` (autorefresh must not be running yet) and start serving.

        :param modio: a configured RevPiModIO (any of the three classes)
        :param name: prefix of this owner's I/O Intr names
        :param stall_ms: declare a fault when no refresh succeeded for this long
                         (default: 10 cycles, at least 500 ms)
        """
        self.modio = modio
        self.name = name
        self._lock = threading.RLock()
        self._fault: str | None = None
        self._watched: dict[str, Callable[[], Any]] = {}   # name -> current value getter
        self._events: set[tuple[str, int]] = set()
        self._specials: dict[str, Any] = {}                 # core/modio names -> last pushed
        self._per_cycle: dict[str, Callable[[], Any]] = {}
        self._cycle = 0
        self._settle_at: list[float] = []
        self._stop = threading.Event()
        self._stall_s = (stall_ms / 1000) if stall_ms else max(10 * modio.cycletime / 1000, 0.5)
        self.overruns = 0
        """Refresh cycles that took longer than 1.5 cycle times (seen by the supervisor)."""

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
            f"no IO named '{name}' in piCtory configuration {self.modio.configrsc}"
            + (" (replaced by replace_io)" if hasattr(self.modio.io, name) else "")
        )

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
        if name == "modio.cycle":
            return lambda: self._cycle
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

    def write(self, name: str, value: Any) -> None:
        """Set output ``name``; the autorefresh thread writes it within one cycle.

        With ``shared_procimg`` only this IO is written (outputs of other programs stay).
        Raises ``pydev.Alarm`` while the process image is faulted (the value is kept and
        reaches the image when the I/O recovers).
        """
        if self.modio.monitoring:
            raise NotWritableError(f"cannot write '{name}': process image opened with monitoring=True")
        if corevalues.is_core_name(name):
            try:
                corevalues.write(self.modio.core, name, value)
            except KeyError as exc:
                raise IoNotFoundError(str(exc.args[0])) from None
        else:
            io = self.io(name)
            if io._read_only_io:
                what = "input" if io.type == revpimodio2.INP else "memory value"
                mode = " (simulator mode swaps inputs and outputs)" if self.modio.simulator else ""
                raise NotWritableError(f"cannot write '{name}': it is an {what}{mode}")
            io.value = values.from_record(io, value)
        fault = self._fault
        if fault is not None:
            raise pydev.Alarm(fault)

    def watch(self, name: str, edge: str = "both") -> str:
        """Register for change pushes of ``name``; returns the I/O Intr name to use.

        ``edge`` ('both', 'rising', 'falling') applies to bit IOs: 'rising' pushes 1 when
        the bit turns on, 'falling' pushes 0 when it turns off.  ``core.*`` and
        ``modio.*`` values are compared once per refresh cycle.
        """
        edge_code = EDGES.get(edge)
        if edge_code is None:
            raise ValueError(f"edge must be one of {', '.join(EDGES)}, not {edge!r}")
        getter = self._getter(name)
        iname = f"{self.name}:{name}" + ("" if edge == "both" else f":{edge}")
        with self._lock:
            if iname not in self._watched:
                if corevalues.is_core_name(name) or name in MODIO_NAMES:
                    if edge != "both":
                        raise ValueError(f"edge '{edge}' is only for bit IOs, not '{name}'")
                    self._specials[iname] = None
                else:
                    io = self.io(name)
                    if edge != "both" and values.io_kind(io) != values.BIT:
                        raise ValueError(f"edge '{edge}' is only for bit IOs, not '{name}'")
                    io.reg_event(self._make_pusher(iname), edge=edge_code)
                self._watched[iname] = getter
            self._settle_from(time.monotonic())
        return iname

    def every_cycle(self, name: str | None = None) -> str:
        """I/O Intr name pushed after every refresh cycle.

        Without ``name`` the pushed value is the cycle counter; with an IO name it is that
        IO's value, every cycle whether it changed or not.
        """
        if name is None:
            iname, getter = f"{self.name}:cycle", (lambda: self._cycle)
        else:
            iname, getter = f"{self.name}:cycle:{name}", self._getter(name)
        with self._lock:
            self._per_cycle[iname] = getter
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

    # ------------------------------------------------------------------ life cycle
    def close(self, defaults: bool = False) -> None:
        """Stop refreshing; optionally set outputs to their piCtory defaults first."""
        if self._stop.is_set():
            return
        self._stop.set()
        modio = self.modio
        if defaults and not modio.monitoring:
            try:
                modio.setdefaultvalues()
            except Exception:  # noqa: BLE001 - leaving anyway, say why
                log.exception("could not set piCtory default values on %s", modio.procimg)
        # exit(full=True) stops the loops and writes the outputs one last time.
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
    def _make_pusher(self, iname: str) -> Callable[[str, Any], None]:
        def on_change(_ioname: str, value: Any) -> None:
            # Runs in RevPiModIO's mainloop thread: an exception would end that loop.
            try:
                with self._lock:
                    if self._fault is None:
                        pydev.iointr(iname, values.to_record(value), time.time())
            except Exception:  # noqa: BLE001
                log.exception("push of %s failed", iname)
        return on_change

    def _settle_from(self, now: float) -> None:
        self._settle_at = [now + d for d in _SETTLE_DELAYS]

    def _push_all(self, now: float) -> None:
        """Push every watched name's current value (or the fault) to its records."""
        with self._lock:
            names = list(self._watched.items()) + list(self._per_cycle.items())
            for iname, getter in names:
                try:
                    if self._fault is not None and not iname.endswith(":modio.ioerrors"):
                        pydev.iointr(iname, pydev.Alarm(self._fault), now)
                    elif iname.endswith((":rising", ":falling")):
                        continue  # edge names only carry edges, never levels
                    else:
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

    def _per_cycle_pushes(self, now: float) -> None:
        with self._lock:
            for iname, getter in self._per_cycle.items():
                pydev.iointr(iname, getter(), now)
            for iname in self._specials:
                value = self._watched[iname]()
                if value != self._specials[iname]:
                    self._specials[iname] = value
                    pydev.iointr(iname, value, now)

    def _supervise(self) -> None:
        modio = self.modio
        # RevPiModIO has no public per-cycle hook besides cycleloop(), which excludes the
        # event system; its refresh thread sets this Event after every good cycle and, with
        # mainloop() running, nobody else clears it.
        writer = modio._imgwriter
        last_errors = modio.ioerrors
        last_good = time.monotonic()
        wait = max(3 * modio.cycletime / 1000, 0.05)
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
                fault = (f"I/O error on process image {modio.procimg} "
                         f"({errors} errors counted)")
            elif refreshed:
                fault = None
            elif now - last_good > self._stall_s:
                fault = (f"process image {modio.procimg}: no refresh for "
                         f"{int((now - last_good) * 1000)} ms")
            else:
                fault = self._fault
            last_errors = errors
            self._set_fault(fault)
            if f"{self.name}:modio.ioerrors" in self._specials:
                self._push_ioerrors(errors)
            if refreshed and self._fault is None:
                try:
                    self._per_cycle_pushes(time.time())
                except Exception:  # noqa: BLE001
                    log.exception("per-cycle push failed")
            if self._settle_at and now >= self._settle_at[0]:
                self._settle_at.pop(0)
                self._push_all(time.time())
            if not writer.is_alive():
                self._stop.wait(wait)

    def _push_ioerrors(self, errors: int) -> None:
        iname = f"{self.name}:modio.ioerrors"
        with self._lock:
            if self._specials.get(iname) != errors:
                self._specials[iname] = errors
                pydev.iointr(iname, errors, time.time())
