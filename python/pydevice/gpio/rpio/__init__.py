# SPDX-License-Identifier: BSD-3-Clause
"""RPIO's API on today's GPIO character device (``import pydevice.gpio.rpio as RPIO``).

    import pydevice.gpio.rpio as RPIO

    def gpio_callback(gpio_id, value):
        print("gpio %s: %s" % (gpio_id, value))

    def socket_callback(socket, msg):
        socket.send("echo: %s\\n" % msg)

    RPIO.add_interrupt_callback(17, gpio_callback, edge="rising",
                                pull_up_down=RPIO.PUD_UP, debounce_timeout_ms=20)
    RPIO.add_tcp_callback(8080, socket_callback)
    RPIO.wait_for_interrupts()

Differences from RPIO on ``/sys/class/gpio`` (gone from current kernels):

- BCM numbers are found by line name (``GPIO17``) on any chip, so the same code runs on
  every Raspberry Pi including the Pi 5; on other boards call :func:`setchip` to use line
  offsets (or names ``GPIOn``) of that chip.
- ``debounce_timeout_ms`` works as RPIO's: the first edge is passed at once, further edges
  within the window are dropped.  ``debounce_kernel=True`` uses the kernel's debounce instead
  (an edge is reported once the line has been stable that long, so glitches never arrive).
- ``gpio_function`` cannot see the pin mux: a line claimed by a kernel driver or another
  program reports ``ALT0``.
- Threaded callbacks run on a bounded pool (4 threads, 64 queued calls) instead of one new
  thread per event.  TCP callbacks receive ``str`` messages; the socket's ``send`` takes
  ``str`` or ``bytes``.  ``add_tcp_callback(..., bind_address="127.0.0.1")`` limits the port
  to loopback.
- Log output goes to the ``logging`` logger ``pydevice.gpio.rpio``.
"""
from __future__ import annotations

import atexit
from typing import Any, Callable, Optional

import gpiod

from ..boards import BoardInfo
from .engine import (ALT0, BCM, BOARD, HIGH, IN, LOW, OUT, PUD_DOWN, PUD_OFF, PUD_UP, Engine)
from .events import BOTH, FALLING, RISING, EventDetect

__all__ = [
    "BOARD", "BCM", "IN", "OUT", "ALT0", "HIGH", "LOW", "PUD_OFF", "PUD_DOWN", "PUD_UP",
    "VERSION", "RPI_REVISION", "RPI_REVISION_HEX", "setmode", "getmode", "setwarnings",
    "setchip", "setup", "input", "output", "forceinput", "forceoutput", "set_pullupdn",
    "gpio_function", "cleanup", "add_interrupt_callback", "del_interrupt_callback",
    "add_tcp_callback", "close_tcp_client", "wait_for_interrupts",
    "stop_waiting_for_interrupts", "sysinfo", "version", "Engine",
    "RISING", "FALLING", "BOTH", "add_event_detect", "add_event_callback",
    "remove_event_detect", "event_detected", "wait_for_edge",
]

VERSION = "2.0.0-pydevice"
_engine = Engine()
_events = EventDetect(_engine)


def __getattr__(name: str) -> Any:
    # read lazily: importing the module must not need /proc access on build machines
    if name == "RPI_REVISION":  # RPIO: 1 for the first boards (codes 0002/0003), else 2
        return 1 if _engine.board.header_revision == 1 else 2
    if name == "RPI_REVISION_HEX":
        return _engine.board.hex_rev
    raise AttributeError(name)


def setmode(mode: int) -> None:
    """Choose ``BCM`` (default) or ``BOARD`` (physical header pin) numbering."""
    if mode not in (BCM, BOARD):
        raise ValueError("mode must be BCM or BOARD")
    _engine.mode = mode


def getmode() -> int:
    """The current numbering mode."""
    return _engine.mode


def setwarnings(enabled: bool) -> None:
    """Warn (through logging) when a channel is set up twice."""
    _engine.warnings = bool(enabled)


def setchip(chip: Optional[str]) -> None:
    """Use this chip (``gpiochipN``, path or label) for channels: line ``GPIOn`` if the chip
    has it, else offset n.  None: search all chips for ``GPIOn`` (the default)."""
    _engine.chip = chip


def setup(channel: int, direction: int, pull_up_down: int = PUD_OFF, initial: int = -1) -> None:
    """Claim a channel as ``IN`` (with ``pull_up_down``) or ``OUT`` (at ``initial``, 0 if
    not given)."""
    _engine.setup(channel, direction, pull_up_down, initial)


def input(channel: int) -> int:  # noqa: A001 - RPIO's name
    """Value (0/1) of a channel set up before."""
    return _engine.input(channel)


def output(channel: int, value: Any) -> None:
    """Drive a channel set up as ``OUT``."""
    _engine.output(channel, value)


def forceinput(channel: int) -> int:
    """Read any channel without setting it up."""
    return _engine.forceinput(channel)


def forceoutput(channel: int, value: Any) -> None:
    """Drive any channel without setting it up (careful: it may be wired as an input)."""
    _engine.forceoutput(channel, value)


def set_pullupdn(channel: int, pud: int) -> None:
    """Set a channel's pull resistor (``PUD_UP``, ``PUD_DOWN``, ``PUD_OFF``)."""
    _engine.set_pullupdn(channel, pud)


def gpio_function(channel: int) -> int:
    """``IN``, ``OUT`` or ``ALT0`` (used by a driver or another program)."""
    return _engine.gpio_function(channel)


def cleanup() -> None:
    """Stop waiting for interrupts, close TCP sockets, return outputs to inputs and release
    every channel (also done automatically at exit)."""
    _engine.cleanup()


def add_interrupt_callback(gpio_id: int, callback: Callable[[int, int], Any], edge: str = "both",
                           pull_up_down: int = PUD_OFF, threaded_callback: bool = False,
                           debounce_timeout_ms: Optional[float] = None,
                           debounce_kernel: bool = False) -> None:
    """Call ``callback(gpio_id, value)`` on ``edge`` (rising, falling, both) of ``gpio_id``,
    while :func:`wait_for_interrupts` runs; ``gpio_id`` is the BCM GPIO number also in
    BOARD mode, as in RPIO.  ``debounce_timeout_ms``: RPIO's (first edge at once, later ones
    in the window dropped), or the kernel's with ``debounce_kernel=True``."""
    _engine.add_interrupt_callback(gpio_id, callback, edge, pull_up_down, threaded_callback,
                                   debounce_timeout_ms, debounce_kernel)


def del_interrupt_callback(gpio_id: int) -> None:
    """Remove all callbacks of ``gpio_id``."""
    _engine.del_interrupt_callback(gpio_id)


def add_tcp_callback(port: int, callback: Callable[[Any, str], Any],
                     threaded_callback: bool = False, bind_address: str = "") -> None:
    """Listen on TCP ``port``; call ``callback(socket, message)`` for each message a client
    sends (an empty message closes that client)."""
    _engine.loop.add_tcp_server(port, callback, threaded_callback, bind_address)


def close_tcp_client(fileno: int) -> None:
    """Close the TCP client with this file number (e.g. ``socket.fileno()``)."""
    _engine.loop.close_tcp_client(fileno)


def wait_for_interrupts(threaded: bool = False, epoll_timeout: float = 1) -> None:
    """Dispatch GPIO and TCP callbacks until :func:`stop_waiting_for_interrupts` (in the
    background with ``threaded=True``)."""
    _engine.wait_for_interrupts(threaded, epoll_timeout)


def stop_waiting_for_interrupts() -> None:
    """Make :func:`wait_for_interrupts` return."""
    _engine.stop_waiting_for_interrupts()


def add_event_detect(channel: int, edge: int, callback: Optional[Callable[[int], Any]] = None,
                     bouncetime: Optional[float] = None) -> None:
    """RPi.GPIO: detect ``edge`` (RISING, FALLING, BOTH) on ``channel`` in the background;
    ``callback(channel)`` runs per edge; ``bouncetime`` ms as RPIO's debounce."""
    _events.add(channel, edge, callback, bouncetime)


def add_event_callback(channel: int, callback: Callable[[int], Any]) -> None:
    """RPi.GPIO: another ``callback(channel)`` for a channel with event detection."""
    _events.add_callback(channel, callback)


def remove_event_detect(channel: int) -> None:
    """RPi.GPIO: stop event detection on ``channel``."""
    _events.remove(channel)


def event_detected(channel: int) -> bool:
    """RPi.GPIO: True once if an edge was detected since the last call."""
    return _events.detected(channel)


def wait_for_edge(channel: int, edge: int, timeout: Optional[float] = None) -> Optional[int]:
    """RPi.GPIO: block until ``edge`` on ``channel``; the channel, or None after ``timeout``
    milliseconds."""
    return _events.wait_for_edge(channel, edge, timeout)


def sysinfo() -> tuple:
    """``(hex_rev, model, revision, mb_ram, maker)`` of this board."""
    b: BoardInfo = _engine.board
    return (b.hex_rev, b.model, b.revision, b.mb_ram, b.maker)


def version() -> tuple:
    """``(version of this module, version of libgpiod's Python bindings)``."""
    return (VERSION, gpiod.__version__)


atexit.register(cleanup)
