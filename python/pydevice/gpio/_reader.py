# SPDX-License-Identifier: BSD-3-Clause
"""The thread that reads the edge events of one chip's watched lines (for
:mod:`pydevice.gpio.records`)."""
from __future__ import annotations

import os
import selectors
import threading
from typing import Any, Callable, Optional

from .errors import GpioError

__all__ = ["EdgeReader"]


class EdgeReader:
    """One thread waiting on the request files of a chip's watched lines; calls
    ``on_ready(line)`` in that thread for each line whose file is readable.  Made idle (no
    thread, no file) and started by the first :meth:`add`.

    thread safety: no lock of its own; :meth:`add` and :meth:`stop` run under the owner's
    lock, :meth:`remove` under the line's (epoll takes registrations while the thread
    waits), and :meth:`close` once the thread has ended.
    """

    def __init__(self, name: str, on_ready: Callable[[Any], None]) -> None:
        self.name = name
        self._on_ready = on_ready
        self._sel: Optional[selectors.DefaultSelector] = None
        self._wake_r = self._wake_w = -1
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()

    def add(self, fd: int, line: Any) -> None:
        """Wait on ``fd`` too; ``line`` is what ``on_ready`` gets when it is readable."""
        if self._sel is None:
            self._sel = selectors.DefaultSelector()
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._sel.register(fd, selectors.EVENT_READ, line)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def remove(self, request: Any) -> None:
        """Stop waiting on ``request``'s file (a closed or dead one's too: errors ignored)."""
        if self._sel is None:
            return
        try:
            self._sel.unregister(request.fileno())
        except (KeyError, ValueError, OSError, GpioError):
            pass

    def stop(self) -> None:
        """Make the thread end (it is woken at once)."""
        self._stop.set()
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the thread to end (after :meth:`stop`)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def close(self) -> None:
        """Close the selector and the wake-up pipe."""
        if self._sel is not None:
            self._sel.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._sel = None

    def _run(self) -> None:
        assert self._sel is not None
        while not self._stop.is_set():
            try:
                ready = self._sel.select(1.0)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                raise
            for key, _ in ready:
                if key.data is None:
                    try:
                        os.read(self._wake_r, 512)
                    except BlockingIOError:
                        pass
                    continue
                self._on_ready(key.data)
