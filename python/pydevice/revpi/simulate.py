# SPDX-License-Identifier: BSD-3-Clause
"""A field-side simulator: drives a file-backed process image's inputs like wiring would.

It is a second RevPiModIO in ``simulator=True`` mode (inputs and outputs swapped), as
another program on a RevPi would be.  Used by the demo IOC and by hand::

    python -m pydevice.revpi simulate procimg.bin config.rsc --replace-io-file replace_io.conf
"""
from __future__ import annotations

import logging
import math
import threading

import revpimodio2

log = logging.getLogger(__name__)


class FieldSimulator:
    """Every ``period`` s: a counter on I_1..I_4, a sine on InputValue_1, a temperature.

    thread safety: start()/stop() from one thread; the values are written only by the
    simulator's own thread (a threading.Event, no lock, tells it to stop).
    """

    def __init__(self, procimg: str, configrsc: str, replace_io_file: str | None = None,
                 period: float = 0.5) -> None:
        self.modio = revpimodio2.RevPiModIO(procimg=procimg, configrsc=configrsc,
                                            replace_io_file=replace_io_file, simulator=True,
                                            shared_procimg=True, debug=False)
        self.period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self, n: int) -> None:
        """Write the inputs of step ``n``."""
        io = self.modio.io
        for bit in range(4):
            name = f"I_{bit + 1}"
            if name in io:
                getattr(io, name).value = bool(n >> bit & 1)
        if "InputValue_1" in io:
            io.InputValue_1.value = int(5000 * math.sin(n / 10))
        if "Core_Temperature" in io:
            io.Core_Temperature.value = 45 + n % 5
            io.Core_Frequency.value = 150
            io.RevPiStatus.value = 1
        if "Flow" in io:
            io.Flow.value = round(12.5 + math.cos(n / 7), 3)
        if "BatchId" in io:
            io.BatchId.value = f"LOT{n // 20:05d}".encode()[:8].ljust(8, b"\0")
        self.modio.writeprocimg()

    def run(self) -> None:
        """Step until :meth:`stop`."""
        n = 0
        while not self._stop.wait(self.period):
            n += 1
            try:
                self.step(n)
            except Exception:  # noqa: BLE001 - a demo keeps going
                log.exception("simulator step %d", n)

    def start(self) -> "FieldSimulator":
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="revpi-field-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        self.modio.cleanup()


def start(procimg: str, configrsc: str, replace_io_file: str | None = None,
          period: float = 0.5) -> FieldSimulator:
    """Start a :class:`FieldSimulator` thread (for st.cmd demos)."""
    return FieldSimulator(procimg, configrsc, replace_io_file, period).start()
