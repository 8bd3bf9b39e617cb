"""GPIO chips: finding them, their info, and making line requests.

    from pydevice.gpio import find
    with find(label="pinctrl-bcm2711") as chip:     # or Device("gpiochip0")
        print(chip.get_info())
        with chip["GPIO17", "GPIO27"] as lines:       # lazy Request, opened by `with`
            print(lines[:])
"""
from __future__ import annotations

import dataclasses
import errno
import glob
import logging
import os
import pathlib
import re
import threading
from typing import Any, Iterator, Mapping, Optional, Union

import gpiod

from .errors import ChipNotFoundError, GpioError, LineNotFoundError
from .settings import LineConfig, LineFlag, enum_name, to_config

__all__ = ["Device", "ChipInfo", "LineInfo", "find", "iter_devices", "iter_gpio_files",
           "chip_path", "line_info_from_gpiod"]

log = logging.getLogger(__name__)

LineId = Union[int, str]
LineKey = Union[LineId, slice, tuple, list]


@dataclasses.dataclass(frozen=True)
class LineInfo:
    """A snapshot of one line's state (see :meth:`Device.line_info`)."""

    offset: int
    name: str
    used: bool
    consumer: str
    direction: str
    active_low: bool
    bias: str
    drive: str
    edge: str
    clock: str
    debounce: float

    @property
    def flags(self) -> LineFlag:
        """The line's state as kernel flags (``USED`` included)."""
        cfg = LineConfig(direction=self.direction, active_low=self.active_low,
                         bias="as-is" if self.bias == "unknown" else self.bias, drive=self.drive,
                         edge=self.edge, clock=self.clock)
        return cfg.flags | (LineFlag.USED if self.used else LineFlag(0))


def line_info_from_gpiod(li: gpiod.LineInfo) -> LineInfo:
    """Convert a ``gpiod.LineInfo``."""
    return LineInfo(offset=li.offset, name=li.name or "", used=li.used,
                    consumer=li.consumer or "", direction=enum_name(li.direction),
                    active_low=li.active_low, bias=enum_name(li.bias), drive=enum_name(li.drive),
                    edge=enum_name(li.edge_detection), clock=enum_name(li.event_clock),
                    debounce=li.debounce_period.total_seconds())


@dataclasses.dataclass(frozen=True)
class ChipInfo:
    """A chip's name (``gpiochipN``), label (driver) and its lines."""

    name: str
    label: str
    path: str
    lines: tuple

    def __len__(self) -> int:
        return len(self.lines)


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
    """An open GPIO chip (``/dev/gpiochipN``).

    ``chip`` is a number, ``gpiochipN``, a path or the chip's label.  Use it as a context
    manager or call :meth:`close`.  Indexing (``dev[5]``, ``dev[5, 6]``, ``dev["GPIO17"]``,
    ``dev[0:4]``) returns a lazy :class:`~pydevice.gpio.request.Request` for input lines.
    """

    def __init__(self, chip: Union[int, str] = 0, consumer: str = "pydevice") -> None:
        self.path = chip_path(chip)
        self.consumer = consumer
        self._lock = threading.RLock()
        try:
            self._chip: Optional[gpiod.Chip] = gpiod.Chip(self.path)
        except OSError as e:
            raise GpioError(f"GPIO chip '{chip}' ({self.path}): cannot open: {e.strerror}") from e
        info = self._chip.get_info()
        self.name: str = info.name
        self.label: str = info.label
        self.num_lines: int = info.num_lines

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the chip's file (requests already made stay valid)."""
        with self._lock:
            if self._chip is not None:
                self._chip.close()
                self._chip = None

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
            return list(range(self.num_lines))[key]
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

    def get_info(self) -> ChipInfo:
        """Chip name, label and every line's info."""
        return ChipInfo(self.name, self.label, self.path,
                        tuple(self.line_info(i) for i in range(self.num_lines)))

    def watch_line_info(self, line: LineId) -> LineInfo:
        """Start watching a line's info: :meth:`info_events` then reports when it is
        requested, released or reconfigured (by anyone).  Returns its current info."""
        off = self.offset(line)
        with self._lock:
            return line_info_from_gpiod(self.gpiod_chip.watch_line_info(off))

    def unwatch_line_info(self, line: LineId) -> None:
        """Stop watching a line's info."""
        off = self.offset(line)
        with self._lock:
            self.gpiod_chip.unwatch_line_info(off)

    def info_events(self, timeout: Optional[float] = None) -> Iterator[tuple]:
        """``(kind, LineInfo, timestamp_ns)`` of watched lines as they come, ``kind`` being
        ``"requested"``, ``"released"`` or ``"reconfigured"``; ends after ``timeout`` s
        without any (None: never)."""
        kinds = {gpiod.InfoEvent.Type.LINE_REQUESTED: "requested",
                 gpiod.InfoEvent.Type.LINE_RELEASED: "released",
                 gpiod.InfoEvent.Type.LINE_CONFIG_CHANGED: "reconfigured"}
        while True:
            if not self.gpiod_chip.wait_info_event(timeout):
                return
            with self._lock:
                ev = self.gpiod_chip.read_info_event()
            yield kinds[ev.event_type], line_info_from_gpiod(ev.line_info), ev.timestamp_ns

    def names(self) -> dict:
        """``{name: offset}`` of the named lines."""
        return {li.name: li.offset for li in self.get_info().lines if li.name}

    # -- requests ---------------------------------------------------------------------------
    def request(self, lines: Union[LineKey, Mapping[LineId, Any]],
                config: Union[None, LineConfig, int, Mapping[str, Any]] = None, *,
                consumer: Optional[str] = None, event_buffer_size: Optional[int] = None,
                **settings: Any) -> "Request":
        """A lazy request for ``lines`` (open it with ``with`` or :meth:`Request.open`).

        ``lines`` is an offset, a name, a slice, a tuple/list of those, or a mapping of
        line -> configuration (per-line settings).  ``config``/keywords configure all lines:
        ``direction``, ``active_low``, ``bias``, ``drive``, ``edge``, ``debounce`` (s),
        ``clock``, ``value`` (initial output), or ``config=LineFlag....``.
        ``values={line: v}`` gives per-line initial outputs.
        """
        from .request import Request

        values = settings.pop("values", None) or {}
        per_line: dict = {}
        if isinstance(lines, Mapping):
            for k, v in lines.items():
                for off in self.offsets(k):
                    per_line[off] = to_config(v if v is not None else config, **settings)
        else:
            base = to_config(config, **settings)
            for off in self.offsets(lines):
                per_line[off] = base
        if not per_line:
            raise ValueError(f"{self.describe()}: request for no lines")
        for k, v in values.items():
            for off in self.offsets(k):
                if off not in per_line:
                    raise ValueError(f"{self.describe(off)}: value given for a line not requested")
                per_line[off] = per_line[off].replace(value=v)
        return Request(self, per_line, consumer=consumer or self.consumer,
                       event_buffer_size=event_buffer_size)

    def __getitem__(self, key: LineKey) -> "Request":
        return self.request(key)

    def __iter__(self) -> Iterator[LineInfo]:
        return iter(self.get_info().lines)


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


def find_line(name: str, path: str = "/dev") -> tuple:
    """``(chip_path, offset)`` of the first line called ``name`` on any chip, or None."""
    for p in _gpio_paths(path):
        try:
            with gpiod.Chip(p) as c:
                return p, c.line_offset_from_id(name)
        except OSError as e:
            if e.errno != errno.ENOENT:
                log.debug("looking for %s on %s: %s", name, p, e)
    return None
