# SPDX-License-Identifier: BSD-3-Clause
"""RPi.GPIO's event detection, which RPIO promises as a drop-in, on RPIO's engine.

``add_event_detect`` registers an interrupt callback on the engine's loop (started in the
background as RPi.GPIO's own thread is), so RPIO callbacks, TCP callbacks and RPi.GPIO
events share one epoll loop and one line request per pin.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional

from ..settings import LineConfig
from .engine import Engine

RISING, FALLING, BOTH = 31, 32, 33
_EDGE_NAMES = {RISING: "rising", FALLING: "falling", BOTH: "both"}


def _edge_name(edge: int) -> str:
    if edge not in _EDGE_NAMES:
        raise ValueError("edge must be RISING, FALLING or BOTH")
    return _EDGE_NAMES[edge]


class EventDetect:
    """Per-channel event flags and callbacks (RPi.GPIO semantics: callbacks get the channel).

    thread safety: ``_lock`` guards the flags and callback lists (set from the loop thread).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._flags: dict = {}
        self._callbacks: dict = {}

    def add(self, channel: int, edge: int, callback: Optional[Callable[[int], object]] = None,
            bouncetime: Optional[float] = None) -> None:
        with self._lock:
            if channel in self._callbacks:
                raise RuntimeError("Conflicting edge detection already enabled for this GPIO channel")
            self._callbacks[channel] = [callback] if callback else []
            self._flags[channel] = False

        def on_edge(_gpio: int, _value: int, channel: int = channel) -> None:
            with self._lock:
                self._flags[channel] = True
                callbacks = list(self._callbacks.get(channel, ()))
            for cb in callbacks:
                cb(channel)

        try:
            self.engine.add_interrupt_callback(channel, on_edge, _edge_name(edge),
                                               debounce_timeout_ms=bouncetime)
        except Exception:
            with self._lock:
                del self._callbacks[channel], self._flags[channel]
            raise
        self.engine.wait_for_interrupts(threaded=True)

    def add_callback(self, channel: int, callback: Callable[[int], object]) -> None:
        with self._lock:
            if channel not in self._callbacks:
                raise RuntimeError("Add event detection using add_event_detect first before adding a callback")
            self._callbacks[channel].append(callback)

    def remove(self, channel: int) -> None:
        with self._lock:
            self._callbacks.pop(channel, None)
            self._flags.pop(channel, None)
        self.engine.del_interrupt_callback(channel)

    def detected(self, channel: int) -> bool:
        with self._lock:
            hit = self._flags.get(channel, False)
            if channel in self._flags:
                self._flags[channel] = False
            return hit

    def wait_for_edge(self, channel: int, edge: int, timeout_ms: Optional[float] = None) -> Optional[int]:
        with self._lock:
            busy = channel in self._callbacks
        pin = self.engine._pins.get(channel)
        if busy or (pin is not None and pin.callbacks):
            raise RuntimeError("Conflicting edge detection already enabled for this GPIO channel")
        pin = self.engine._claim(channel, LineConfig(direction="input", edge=_edge_name(edge),
                                                     clock="realtime"))
        try:
            ev = pin.request.wait_for_edge(None if timeout_ms is None else timeout_ms / 1000.0)
        finally:
            with self.engine._lock:
                if pin.setup_direction is None:  # claimed only for this wait: release it
                    pin.request.close()
                    self.engine._pins.pop(channel, None)
                else:
                    pin.request.configure(pin.config.replace(edge="none"))
        return channel if ev is not None else None
