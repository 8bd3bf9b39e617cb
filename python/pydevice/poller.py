# SPDX-License-Identifier: BSD-3-Clause
"""Push a function's value to I/O Intr records every period, and an alarm while it raises.

    from pydevice.poller import Poller
    counter = Poller("plc_counter", lambda: plc.read_register(2), period=0.2)

with ``field(INP, "@pydev.iointr('plc_counter')") field(SCAN, "I/O Intr")`` on the records.
The function runs in the poller's own thread (never in a pydev worker), so a device that hangs
holds that thread only.  What it returns is pushed with ``pydev.iointr``; when it raises, the
records of the name get an alarm instead (the exception's own for a ``pydev.Alarm``, else
COMM for an ``OSError``, TIMEOUT for a ``TimeoutError``, READ otherwise, all INVALID) and keep
their last good value; the next value that comes clears it.  For a function that is ``async``
give the poller an event loop: ``Poller("plc_counter", plc.read_counter, 0.2, loop=pydev.loop)``
runs the same loop as a task there (``Poller.apoll``), and holds no thread at all.
"""
from __future__ import annotations

import asyncio
import atexit
import inspect
import threading
import time
from typing import Any, Awaitable, Callable, Union

import pydev

Read = Callable[[], Union[Any, Awaitable[Any]]]


def alarm_for(error: BaseException) -> pydev.Alarm:
    """The alarm that stands for ``error`` on a record: a ``pydev.Alarm`` as it is; COMM for
    ``OSError``/``ConnectionError``, TIMEOUT for ``TimeoutError``, READ for anything else."""
    if isinstance(error, pydev.Alarm):
        return error
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):   # two classes before 3.11
        stat = "TIMEOUT"
    elif isinstance(error, OSError):
        stat = "COMM"
    else:
        stat = "READ"
    return pydev.Alarm(f"{error} ({type(error).__name__})", stat=stat, sevr="INVALID")


class Poller:
    """Calls ``read()`` every ``period`` seconds and pushes its value (or an alarm) to ``name``.

    Started at once unless ``start=False``; ``stop()`` ends it (also at exit).  The period is
    kept from one call's start to the next, so a slow call is not followed by a burst.
    """

    def __init__(self, name: str, read: Read, period: float, *, start: bool = True,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        if period <= 0:
            raise ValueError(f"Poller {name!r}: period must be > 0, not {period!r}")
        self.name = name
        self.read = read
        self.period = float(period)
        self.errors = 0          # calls that raised, for a look from the iocsh
        self.last_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.loop = loop
        self._task: Any = None   # the apoll task's future, on a loop
        if start:
            self.start()

    def start(self) -> None:
        """Start polling: a task on ``loop`` if one was given, else a daemon thread named after
        the iointr name."""
        if self.loop is not None:
            if self._task is None:
                self._task = asyncio.run_coroutine_threadsafe(self.apoll(), self.loop)
        elif self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"poll:{self.name}", daemon=True)
            self._thread.start()
            atexit.register(self.stop)

    def stop(self) -> None:
        """Stop polling; a call under way in the thread finishes first (not waited for
        here), a task is cancelled."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()

    def poll_once(self) -> None:
        """One call and one push: the value, or the alarm for what the call raised."""
        try:
            value = self.read()
            if inspect.isawaitable(value):
                raise TypeError(f"Poller {self.name!r}: read() returned an awaitable; "
                                "run Poller.apoll on an event loop for async functions")
        except Exception as error:  # every failure of the device becomes the records' alarm
            self._failed(error)
            return
        pydev.iointr(self.name, value)

    async def apoll(self) -> None:
        """The polling loop as a coroutine (``read`` may be ``async``): what ``loop=`` runs."""
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                value = self.read()
                if inspect.isawaitable(value):
                    value = await value
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._failed(error)
            else:
                pydev.iointr(self.name, value)
            await asyncio.sleep(max(0.0, self.period - (time.monotonic() - started)))

    def _failed(self, error: BaseException) -> None:
        self.errors += 1
        self.last_error = error
        pydev.iointr(self.name, alarm_for(error))

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll_once()
            self._stop.wait(max(0.0, self.period - (time.monotonic() - started)))
