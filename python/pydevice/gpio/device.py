# SPDX-License-Identifier: BSD-3-Clause
"""GPIO chips: finding them, their info, and making line requests.

    from pydevice.gpio import find
    with find(label="pinctrl-bcm2711") as chip:     # or Device("gpiochip0")
        print(chip.get_info())
        with chip["GPIO17", "GPIO27"] as lines:       # lazy Request, opened by `with`
            print(lines[:])
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import glob
import logging
import os
import pathlib
import re
import threading
from typing import Any, AsyncIterator, Collection, Iterator, Optional, Union

import gpiod

from .errors import ChipNotFoundError, GpioError, LineNotFoundError
from .info import Info, LineInfo, LineInfoEvent, info_event_from_gpiod, line_info_from_gpiod
from .line_request import Request
from .settings import LineConfig, to_config

__all__ = ["Device", "find", "iter_devices", "iter_gpio_files", "chip_path", "find_line",
           "expand_from_list", "LineId", "LineKey"]

log = logging.getLogger(__name__)

LineId = Union[int, str]
LineKey = Union[LineId, slice, tuple, list]

_DEFAULT = object()  # "not given" (linuxpy's sentinel): a request's blocking follows the Device's


def expand_from_list(key: Union[int, slice, tuple, list], minimum: int, maximum: int) -> list:
    """linuxpy's key expansion: an int, a slice (its start defaulting to ``minimum``, its
    stop to ``maximum``) or a tuple/list of those, as a list of line numbers."""
    if isinstance(key, int):
        return [key]
    if isinstance(key, slice):
        start = minimum if key.start is None else key.start
        return list(range(maximum)[slice(start, key.stop, key.step)])
    return [line for item in key for line in expand_from_list(item, minimum, maximum)]


def _gpio_paths(path: Union[str, os.PathLike] = "/dev") -> Iterator[str]:
    """Paths (str) of the GPIO character devices under ``path`` that this user may open."""
    for p in sorted(glob.glob(os.path.join(str(path), "gpiochip*")),
                    key=lambda s: (len(s), s)):
        if os.access(p, os.R_OK | os.W_OK) and gpiod.is_gpiochip_device(p):
            yield p


def iter_gpio_files(path: Union[str, os.PathLike] = "/dev") -> Iterator[pathlib.Path]:
    """The GPIO character devices under ``path`` that this user may open, as
    :class:`pathlib.Path` (as linuxpy's ``iter_gpio_files``)."""
    for p in _gpio_paths(path):
        yield pathlib.Path(p)


def _chip_label(path: str) -> str:
    try:
        with gpiod.Chip(path) as c:
            return c.get_info().label
    except OSError:
        return "?"


def chip_path(chip: Union[int, str]) -> str:
    """Resolve a chip number, name (``gpiochip0``), path or label to its device path.

    Raises :class:`ChipNotFoundError` (listing the chips there are) when nothing matches.
    """
    candidates = []
    if isinstance(chip, int) or (isinstance(chip, str) and chip.isdigit()):
        candidates.append(f"/dev/gpiochip{int(chip)}")
    elif isinstance(chip, str) and chip.startswith("/"):
        candidates.append(chip)
    elif isinstance(chip, str) and re.fullmatch(r"gpiochip\d+", chip):
        candidates.append("/dev/" + chip)
    for c in candidates:
        if os.path.exists(c):
            if not gpiod.is_gpiochip_device(c):
                raise ChipNotFoundError(f"GPIO chip '{chip}': {c} is not a GPIO character device")
            return c
    if not candidates:
        for p in _gpio_paths():
            if _chip_label(p) == chip:
                return p
    have = ", ".join(f"{os.path.basename(p)} [{_chip_label(p)}]" for p in _gpio_paths())
    raise ChipNotFoundError(f"GPIO chip '{chip}' not found (chips here: {have or 'none'})")


class Device:
    """An open GPIO chip (``/dev/gpiochipN``), as linuxpy's ``Device``.

    ``chip`` is a number, ``gpiochipN``, a path (``str`` or :class:`pathlib.Path`) or the
    chip's label.  Use it as a context manager or call :meth:`close`.  Indexing (``dev[5]``,
    ``dev[5, 6]``, ``dev["GPIO17"]``, ``dev[0:4]``) returns a lazy
    :class:`~pydevice.gpio.line_request.Request` for input lines; :meth:`request` takes linuxpy's
    configurations.  Iterating (``for event in dev``, ``async for``) yields the
    :class:`~pydevice.gpio.info.LineInfoEvent` of the lines watched with :meth:`watch_lines`
    or :meth:`watching`.  ``blocking`` (as linuxpy, default False) is the mode of the chip's
    file and of the requests' files unless a request says otherwise.

    thread safety: ``_lock`` serialises use of the underlying ``gpiod.Chip``; a Device may be
    shared between threads.
    """

    def __init__(self, chip: Union[int, str, os.PathLike] = 0, consumer: str = "pydevice",
                 blocking: bool = False) -> None:
        if isinstance(chip, os.PathLike):
            chip = os.fspath(chip)
        self.path = chip_path(chip)  # type: ignore[arg-type]  # os.fspath made it a str
        self.consumer = consumer
        self.blocking = bool(blocking)
        self._lock = threading.RLock()
        self._chip: Optional[gpiod.Chip] = None
        self.open()
        info = self.gpiod_chip.get_info()
        self.name: str = info.name
        self.label: str = info.label
        self.num_lines: int = info.num_lines

    @classmethod
    def from_id(cls, number: int, **kwargs: Any) -> "Device":
        """``Device.from_id(0)`` is ``/dev/gpiochip0`` (as linuxpy)."""
        return cls(f"/dev/gpiochip{int(number)}", **kwargs)

    # -- lifetime ---------------------------------------------------------------------------
    def open(self) -> "Device":
        """Open the chip's file (done by the constructor; again after :meth:`close`)."""
        with self._lock:
            if self._chip is None:
                try:
                    self._chip = gpiod.Chip(self.path)
                except OSError as e:
                    raise GpioError(f"GPIO chip {self.path}: cannot open: {e.strerror}") from e
                os.set_blocking(self._chip.fd, self.blocking)
        return self

    def close(self) -> None:
        """Close the chip's file (requests already made stay valid)."""
        with self._lock:
            if self._chip is not None:
                self._chip.close()
                self._chip = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._chip is None

    def __enter__(self) -> "Device":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Device {self.name} [{self.label}] lines={self.num_lines}>"

    @property
    def gpiod_chip(self) -> gpiod.Chip:
        """The underlying ``gpiod.Chip`` (raises when closed)."""
        if self._chip is None:
            raise GpioError(f"GPIO chip {self.describe()} is closed")
        return self._chip

    def fileno(self) -> int:
        """The chip's file descriptor (readable when a watched line's info changes)."""
        return self.gpiod_chip.fd

    @property
    def is_blocking(self) -> bool:
        """True if the chip's file is in blocking mode (as linuxpy)."""
        return os.get_blocking(self.fileno())

    def describe(self, line: Optional[LineId] = None) -> str:
        """``gpiochip0`` or ``gpiochip0 line 17 (GPIO17)``, short enough for AMSG."""
        s = self.name
        if line is None:
            return s
        if isinstance(line, int):
            try:
                nm = self.line_name(line)
            except GpioError:
                nm = ""
            return f"{s} line {line}" + (f" ({nm})" if nm else "")
        return f"{s} line '{line}'"

    # -- lines ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.num_lines

    def offset(self, line: LineId) -> int:
        """Offset of a line given by offset or name; :class:`LineNotFoundError` if none."""
        if isinstance(line, bool) or not isinstance(line, (int, str)):
            raise TypeError(f"a line is an offset (int) or a name (str), not {line!r}")
        if isinstance(line, int):
            if not 0 <= line < self.num_lines:
                raise LineNotFoundError(f"{self.describe()}: no line {line} "
                                        f"(the chip has lines 0..{self.num_lines - 1})")
            return line
        with self._lock:
            try:
                return self.gpiod_chip.line_offset_from_id(line)
            except (OSError, ValueError):
                raise LineNotFoundError(f"{self.describe()}: no line named '{line}'") from None

    def offsets(self, key: LineKey) -> list:
        """Expand a key (offset, name, slice, or a tuple/list of those) to offsets."""
        if isinstance(key, slice):
            return expand_from_list(key, 0, self.num_lines)
        if isinstance(key, (tuple, list)):
            out: list = []
            for k in key:
                out.extend(self.offsets(k))
            return out
        return [self.offset(key)]

    def line_name(self, offset: int) -> str:
        """The line's name ('' when unnamed)."""
        return self.line_info(offset).name

    def line_info(self, line: LineId) -> LineInfo:
        """A snapshot of one line's state (consumer, direction, bias, ...)."""
        off = self.offset(line)
        with self._lock:
            return line_info_from_gpiod(self.gpiod_chip.get_line_info(off))

    def get_info(self) -> Info:
        """Chip name, label and every line's info (linuxpy's ``Info``)."""
        return Info(self.name, self.label, [self.line_info(i) for i in range(self.num_lines)])

    def names(self) -> dict:
        """``{name: offset}`` of the named lines."""
        return {li.name: li.offset for li in self.get_info().lines if li.name}

    # -- line info events -------------------------------------------------------------------
    def watch_line_info(self, line: LineId) -> LineInfo:
        """Start watching a line's info: iterating the device (or :meth:`info_events`) then
        reports when it is requested, released or reconfigured (by anyone).  Returns its
        current info."""
        off = self.offset(line)
        with self._lock:
            return line_info_from_gpiod(self.gpiod_chip.watch_line_info(off))

    def unwatch_line_info(self, line: LineId) -> None:
        """Stop watching a line's info."""
        off = self.offset(line)
        with self._lock:
            self.gpiod_chip.unwatch_line_info(off)

    def watch_line(self, line: LineId) -> None:
        """linuxpy's name for :meth:`watch_line_info`."""
        self.watch_line_info(line)

    def unwatch_line(self, line: LineId) -> None:
        """linuxpy's name for :meth:`unwatch_line_info`."""
        self.unwatch_line_info(line)

    def watch_lines(self, lines: Collection[LineId]) -> None:
        """Watch the info of each of ``lines``."""
        for line in lines:
            self.watch_line_info(line)

    def unwatch_lines(self, lines: Collection[LineId]) -> None:
        """Stop watching the info of each of ``lines``."""
        for line in lines:
            self.unwatch_line_info(line)

    @contextlib.contextmanager
    def watching(self, lines: Collection[LineId]) -> Iterator[None]:
        """Watch ``lines`` for the duration of a ``with`` block."""
        self.watch_lines(lines)
        try:
            yield
        finally:
            self.unwatch_lines(lines)

    def line_info_events(self, timeout: Optional[float] = None) -> Iterator[LineInfoEvent]:
        """:class:`LineInfoEvent` of watched lines as they come; ends after ``timeout`` s
        without any (None: never)."""
        while True:
            if not self.gpiod_chip.wait_info_event(timeout):
                return
            with self._lock:
                try:
                    ev = self.gpiod_chip.read_info_event()
                except BlockingIOError:
                    continue  # another reader took it
            yield info_event_from_gpiod(ev)

    def info_events(self, timeout: Optional[float] = None) -> Iterator[tuple]:
        """``(kind, LineInfo, timestamp_ns)`` of watched lines as they come, ``kind`` being
        ``"requested"``, ``"released"`` or ``"reconfigured"``; ends after ``timeout`` s
        without any (None: never)."""
        for ev in self.line_info_events(timeout):
            yield ev.kind, ev.info, ev.timestamp_ns

    def info_stream(self, lines: Collection[LineId]) -> Iterator[LineInfoEvent]:
        """Watch ``lines`` and yield their info events (endless; unwatches when closed)."""
        with self.watching(lines):
            yield from self

    def __iter__(self) -> Iterator[LineInfoEvent]:
        """Endless stream of the watched lines' :class:`LineInfoEvent` (as linuxpy)."""
        return self.line_info_events(None)

    async def async_line_info_events(self) -> AsyncIterator[LineInfoEvent]:
        """The watched lines' info events as an async iterator (the event loop never blocks
        on the chip)."""
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        ready = asyncio.Event()
        loop.add_reader(fd, ready.set)
        try:
            while True:
                await ready.wait()
                ready.clear()
                for ev in self.line_info_events(0):
                    yield ev
        finally:
            loop.remove_reader(fd)

    def __aiter__(self) -> AsyncIterator[LineInfoEvent]:
        """Asynchronous stream of the watched lines' :class:`LineInfoEvent` (as linuxpy)."""
        return self.async_line_info_events()

    # -- requests ---------------------------------------------------------------------------
    def request(self, config: Any = None, blocking: Any = _DEFAULT, *,
                line_config: Union[None, LineConfig, int, dict] = None,
                consumer: Optional[str] = None, event_buffer_size: Optional[int] = None,
                values: Optional[dict] = None, **settings: Any) -> Request:
        """A lazy request (open it with ``with`` or :meth:`Request.open`), as linuxpy's
        ``Device.request(config=None, blocking=...)``.

        ``config`` is linuxpy's: None (every line), a line, a list of lines and line
        configurations, or ``{"name": consumer, "lines": ...}`` (see
        :mod:`pydevice.gpio.request_config`); lines may be offsets, names or slices.
        ``blocking`` defaults to the Device's.  Settings for every line (a line's own
        configuration overrides them): keywords ``direction``, ``active_low``, ``bias``,
        ``drive``, ``edge``, ``debounce`` (s), ``clock``, ``value`` (initial output), or
        ``line_config=LineFlag....``; ``values={line: v}`` gives per-line initial outputs.
        """
        return Request(self, config, self.blocking if blocking is _DEFAULT else blocking,
                       consumer=consumer, event_buffer_size=event_buffer_size,
                       base=to_config(line_config, **settings), values=values)

    def __getitem__(self, key: LineKey) -> Request:
        """A lazy input request for ``key`` (equivalent to ``device.request(key)``)."""
        return self.request(list(key) if isinstance(key, tuple) else key)


def iter_devices(path: str = "/dev", **kwargs: Any) -> Iterator[Device]:
    """Open every GPIO chip under ``path`` in turn (close each one you keep)."""
    for p in _gpio_paths(path):
        yield Device(p, **kwargs)


def find(label: Optional[str] = None, name: Optional[str] = None, line: Optional[str] = None,
         path: str = "/dev", find_all: bool = False, custom_match: Any = None,
         **kwargs: Any) -> Any:
    """The first chip matching all given criteria (``label``, chip ``name``, having a line
    named ``line``, ``custom_match(device)`` true); the first chip at all when none is given.
    ``find_all=True`` (as linuxpy): an iterator over every matching chip instead (possibly
    empty; close the devices you keep)."""
    def matches() -> Iterator[Device]:
        for p in _gpio_paths(path):
            dev = Device(p, **kwargs)
            if ((label is None or dev.label == label) and (name is None or dev.name == name)
                    and (line is None or line in dev.names())
                    and (custom_match is None or custom_match(dev))):
                yield dev
            else:
                dev.close()
    if find_all:
        return matches()
    for dev in matches():
        return dev
    crit = ", ".join(f"{k}={v!r}" for k, v in (("label", label), ("name", name), ("line", line))
                     if v is not None) or "any"
    raise ChipNotFoundError(f"no GPIO chip with {crit} under {path}")


def find_line(name: str, path: str = "/dev") -> Optional[tuple]:
    """``(chip_path, offset)`` of the first line called ``name`` on any chip, or None."""
    for p in _gpio_paths(path):
        try:
            with gpiod.Chip(p) as c:
                return p, c.line_offset_from_id(name)
        except OSError as e:
            if e.errno != errno.ENOENT:
                log.debug("looking for %s on %s: %s", name, p, e)
    return None
