# SPDX-License-Identifier: BSD-3-Clause
"""The state behind the RPIO functions: numbering, claimed pins, callbacks, the loop."""
from __future__ import annotations

import logging
import threading
import warnings
from typing import Any, Callable, Optional

from ..boards import PI_CHIP_LABELS, bcm_line_name, board_to_bcm, read_board_info
from ..device import Device, _gpio_paths, chip_path, find_line
from ..errors import GpioError, LineNotFoundError
from ..line_request import Request
from ..settings import LineConfig
from .loop import InterruptLoop

log = logging.getLogger("pydevice.gpio.rpio")

# RPi.GPIO / RPIO constant values
BOARD, BCM = 10, 11
OUT, IN, ALT0 = 0, 1, 4
LOW, HIGH = 0, 1
PUD_OFF, PUD_DOWN, PUD_UP = 20, 21, 22
_BIAS = {PUD_OFF: "disabled", PUD_DOWN: "pull-down", PUD_UP: "pull-up"}
_EDGES = ("rising", "falling", "both")


class _Pin:
    def __init__(self, channel: int, bcm: int, request: Request) -> None:
        self.channel = channel
        self.bcm = bcm
        self.request = request
        self.offset = request.offsets[0]
        self.setup_direction: Optional[int] = None   # IN/OUT when set up by setup()
        self.callbacks: list = []                      # (callback, edge, threaded)
        self.in_loop = False
        self.debounce_s = 0.0          # RPIO-style: after a dispatched edge, this long quiet
        self.last_dispatch: Optional[float] = None

    @property
    def config(self) -> LineConfig:
        return self.request.config[self.offset]


class Engine:
    """One RPIO instance (the module functions use a default one).

    thread safety: ``_lock`` guards the pins, the opened chips and the loop; the module
    functions may be called from any thread, also from callbacks.
    """

    def __init__(self, consumer: str = "RPIO") -> None:
        self.consumer = consumer
        self.mode = BCM
        self.warnings = True
        self.chip: Optional[str] = None
        self._devices: dict = {}
        self._pins: dict = {}
        self._lock = threading.RLock()
        self._loop: Optional[InterruptLoop] = None
        self._board = None

    # -- board and numbering ------------------------------------------------------------------
    @property
    def board(self):
        if self._board is None:
            self._board = read_board_info()
        return self._board

    def to_bcm(self, channel: int) -> int:
        if self.mode == BOARD:
            return board_to_bcm(int(channel), self.board.header_revision)
        return int(channel)

    def _device(self, path: str) -> Device:
        dev = self._devices.get(path)
        if dev is None:
            dev = self._devices[path] = Device(path, consumer=self.consumer)
        return dev

    def locate(self, channel: int) -> tuple:
        """``(Device, offset)`` of a channel in the current numbering."""
        bcm = self.to_bcm(channel)
        name = bcm_line_name(bcm)
        if self.chip is not None:
            dev = self._device(chip_path(self.chip))
            try:
                return dev, dev.offset(name)
            except LineNotFoundError:
                return dev, dev.offset(bcm)
        hit = find_line(name)
        if hit is not None:
            return self._device(hit[0]), hit[1]
        for p in _gpio_paths():
            dev = self._device(p)
            if dev.label in PI_CHIP_LABELS:
                return dev, dev.offset(bcm)
        raise LineNotFoundError(f"GPIO {channel} (BCM {bcm}): no line named '{name}' on any "
                                "chip; call setchip() to use line offsets of a chip")

    # -- pins --------------------------------------------------------------------------------
    def _claim(self, channel: int, config: LineConfig) -> _Pin:
        """The pin of ``channel``, requested with ``config`` or reconfigured to it."""
        with self._lock:
            pin = self._pins.get(channel)
            if pin is not None:
                if pin.config != config:
                    pin.request.configure(config)
                return pin
            dev, off = self.locate(channel)
            req = dev.request(off, line_config=config, consumer=self.consumer, event_buffer_size=1024)
            req.open()
            pin = self._pins[channel] = _Pin(channel, self.to_bcm(channel), req)
            log.debug("claimed GPIO %s: %s", channel, req.describe())
            return pin

    def setup(self, channel: int, direction: int, pull_up_down: int = PUD_OFF,
              initial: int = -1) -> None:
        if direction not in (IN, OUT):
            raise ValueError("direction must be IN or OUT")
        if pull_up_down not in _BIAS:
            raise ValueError("pull_up_down must be PUD_UP, PUD_DOWN or PUD_OFF")
        with self._lock:
            pin = self._pins.get(channel)
            if self.warnings and (pin is None or pin.setup_direction is None):
                self._warn_if_in_use(channel, pin)
            if direction == OUT:
                value = 0 if initial in (-1, None) else (1 if initial else 0)
                cfg = LineConfig(direction="output", value=value)
            else:
                edge = pin.config.edge if pin is not None else "none"
                debounce = pin.config.debounce if pin is not None else 0.0
                cfg = LineConfig(direction="input", bias=_BIAS[pull_up_down], edge=edge,
                                 debounce=debounce)
            pin = self._claim(channel, cfg)
            pin.setup_direction = direction
            log.debug("setup GPIO %s as %s", channel, "OUT" if direction == OUT else "IN")

    def _warn_if_in_use(self, channel: int, pin: Optional[_Pin]) -> None:
        """RPIO's setup() warning: the line is an output that no setup() of this program
        made (left so by another program, or driven by forceoutput).  A line another
        program holds is not warned about: the kernel refuses it, so setup() raises."""
        if pin is not None:
            output = pin.config.direction == "output"
        else:
            dev, off = self.locate(channel)
            info = dev.line_info(off)
            output = info.direction == "output" and not info.used
        if output:
            warnings.warn(f"GPIO channel {channel} is already in use (an output this program "
                          "did not set up), continuing anyway; RPIO.setwarnings(False) "
                          "disables warnings", RuntimeWarning, stacklevel=4)

    def input(self, channel: int) -> int:
        pin = self._pins.get(channel)
        if pin is None:
            raise RuntimeError(f"You must setup() GPIO {channel} first")
        return pin.request.get_value(pin.offset)

    def output(self, channel: int, value: Any) -> None:
        pin = self._pins.get(channel)
        # as RPIO: only a channel setup() made an output (forceoutput() does not set it up)
        if pin is None or pin.setup_direction != OUT or pin.config.direction != "output":
            raise RuntimeError(f"GPIO {channel} has not been set up as an OUTPUT")
        pin.request.set_value(pin.offset, 1 if value else 0)

    def forceinput(self, channel: int) -> int:
        pin = self._pins.get(channel)
        if pin is not None:
            return pin.request.get_value(pin.offset)
        dev, off = self.locate(channel)
        with dev.request(off, direction="as-is", consumer=self.consumer) as req:
            return req.get_value(off)

    def forceoutput(self, channel: int, value: Any) -> None:
        pin = self._pins.get(channel)
        if pin is not None:
            if pin.config.direction != "output":
                pin.request.configure(pin.config.replace(direction="output", edge="none",
                                                         value=1 if value else 0))
            pin.request.set_value(pin.offset, 1 if value else 0)
            return
        # held until cleanup(), as setup(OUT) would: the kernel leaves a released line's
        # level to the driver (gpio-sim drops it back to its pull), so the value would not stay
        self._claim(channel, LineConfig(direction="output", value=1 if value else 0))

    def set_pullupdn(self, channel: int, pud: int) -> None:
        if pud not in _BIAS:
            raise ValueError("pud must be PUD_UP, PUD_DOWN or PUD_OFF")
        with self._lock:
            pin = self._pins.get(channel)
            if pin is None:
                self._claim(channel, LineConfig(direction="input", bias=_BIAS[pud]))
            else:
                pin.request.configure(pin.config.replace(bias=_BIAS[pud]))

    def gpio_function(self, channel: int) -> int:
        pin = self._pins.get(channel)
        if pin is not None:
            return OUT if pin.config.direction == "output" else IN
        dev, off = self.locate(channel)
        info = dev.line_info(off)
        if info.used:
            return ALT0  # claimed by a kernel driver or another program
        return OUT if info.direction == "output" else IN

    # -- interrupts ----------------------------------------------------------------------------
    @property
    def loop(self) -> InterruptLoop:
        with self._lock:
            if self._loop is None:
                self._loop = InterruptLoop()
            return self._loop

    def add_interrupt_callback(self, channel: int, callback: Callable, edge: str = "both",
                               pull_up_down: int = PUD_OFF, threaded_callback: bool = False,
                               debounce_timeout_ms: Optional[float] = None,
                               debounce_kernel: bool = False) -> None:
        edge = str(edge).lower()
        if edge not in _EDGES:
            raise ValueError(f"edge must be one of {_EDGES}")
        if pull_up_down not in _BIAS:
            raise ValueError("pull_up_down must be PUD_UP, PUD_DOWN or PUD_OFF")
        with self._lock:
            pin = self._pins.get(channel)
            if pin is not None and pin.config.direction == "output":
                raise RuntimeError(f"GPIO {channel} is set up as an OUTPUT")
            edges = {edge} | {e for _, e, _ in (pin.callbacks if pin else [])}
            want = edges.pop() if len(edges) == 1 else "both"
            debounce = (debounce_timeout_ms or 0) / 1000.0
            cfg = LineConfig(direction="input", edge=want, bias=_BIAS[pull_up_down],
                             debounce=debounce if debounce_kernel else 0.0, clock="realtime")
            pin = self._claim(channel, cfg)
            pin.debounce_s = 0.0 if debounce_kernel else debounce
            pin.callbacks.append((callback, edge, bool(threaded_callback)))
            if not pin.in_loop:
                self.loop.add_fd(pin.request.fileno(),  # mypy cannot type the default p
                                 lambda fd, p=pin: self._on_edges(p))  # type: ignore[misc]
                pin.in_loop = True
            log.debug("interrupt callback on GPIO %s (%s edge, debounce %s ms)", channel, edge,
                      debounce_timeout_ms)

    def _on_edges(self, pin: _Pin) -> None:
        for ev in pin.request.read_events(0, max_events=64):
            log.debug("GPIO %s: %s edge, seqno %d", pin.channel, ev.kind, ev.line_seqno)
            if pin.debounce_s:
                # RPIO's debounce: the first edge at once, the rest of the window dropped
                if (pin.last_dispatch is not None
                        and ev.timestamp - pin.last_dispatch < pin.debounce_s):
                    continue
                pin.last_dispatch = ev.timestamp
            for cb, edge, threaded in list(pin.callbacks):
                if edge == "both" or edge == ev.kind:
                    # RPIO passes the GPIO (BCM) id, also in BOARD mode (channel_to_gpio)
                    self.loop.dispatch(cb, (pin.bcm, ev.value), threaded)

    def del_interrupt_callback(self, channel: int) -> None:
        with self._lock:
            pin = self._pins.get(channel)
            if pin is None or not pin.callbacks:
                return
            pin.callbacks.clear()
            if pin.in_loop:
                self.loop.remove_fd(pin.request.fileno())
                pin.in_loop = False
            if pin.setup_direction is None:
                pin.request.close()
                del self._pins[channel]
            else:
                pin.request.configure(pin.config.replace(edge="none", debounce=0.0))

    def wait_for_interrupts(self, threaded: bool = False, epoll_timeout: float = 1) -> None:
        if threaded:
            self.loop.start(epoll_timeout)
        else:
            self.loop.run(epoll_timeout)

    def stop_waiting_for_interrupts(self) -> None:
        if self._loop is not None:
            self._loop.stop()

    def cleanup(self) -> None:
        """Stop the loop, close TCP sockets, turn outputs back into inputs, release all."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.close()
        with self._lock:
            for pin in self._pins.values():
                try:
                    if pin.config.direction == "output":
                        pin.request.configure(LineConfig(direction="input"))
                except GpioError as e:
                    log.warning("GPIO %s: could not return to input: %s", pin.channel, e)
                except OSError as e:
                    log.warning("GPIO %s: could not return to input: %s", pin.channel, e)
                pin.request.close()
            self._pins.clear()
            for dev in self._devices.values():
                dev.close()
            self._devices.clear()
        log.debug("cleanup done")
