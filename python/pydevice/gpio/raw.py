# SPDX-License-Identifier: BSD-3-Clause
"""linuxpy's file-descriptor level functions, on libgpiod where libgpiod can do the job.

These take a chip's file (``get_chip_info``, ``get_line_info``, ``get_info``, ``request``:
an ``int`` fd or anything with ``fileno()``, such as a :class:`~pydevice.gpio.device.Device`)
or a line request's file (``get_values``, ``set_values``, ``read_one_event``: an fd from
:func:`request` or ``Request.filenos()``).

How each maps to the kernel:

- ``get_chip_info``, ``get_line_info``, ``get_info``, ``request`` open the chip the fd
  refers to (``/proc/self/fd``) with libgpiod and ask it (``GPIO_GET_CHIPINFO_IOCTL``,
  ``GPIO_V2_GET_LINEINFO_IOCTL``, ``GPIO_V2_GET_LINE_IOCTL`` inside libgpiod).  ``request``
  hands back its own duplicate of the new request's fd: the lines stay reserved until the
  caller closes it (``os.close(result.fd)``), as with linuxpy.
- ``get_values``, ``set_values`` and ``read_one_event`` work on a bare request fd, which
  libgpiod's bindings cannot adopt, so they are the kernel interface itself:
  ``GPIO_V2_LINE_GET_VALUES_IOCTL`` / ``GPIO_V2_LINE_SET_VALUES_IOCTL`` on a
  ``struct gpio_v2_line_values`` and one ``read`` of a ``struct gpio_v2_line_event``
  (``linux/gpio.h``).
"""
from __future__ import annotations

import dataclasses
import fcntl
import os
import platform
import struct
from typing import Any, NamedTuple, Protocol, Union

import gpiod

from .device import Device, expand_from_list
from .errors import GpioError
from .events import EdgeEvent
from .info import ChipInfo, Info, LineInfo, line_info_from_gpiod
from .line_request import MAX_LINES_PER_REQUEST

__all__ = ["get_chip_info", "get_line_info", "get_info", "request", "get_values",
           "set_values", "read_one_event", "expand_from_list", "LineRequestResult",
           "LineValues"]


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


FDLike = Union[int, _HasFileno]


def _fd(fd: FDLike) -> int:
    return fd if isinstance(fd, int) else fd.fileno()


def _chip_path(fd: FDLike) -> str:
    """The GPIO character device an fd refers to."""
    n = _fd(fd)
    try:
        path = os.readlink(f"/proc/self/fd/{n}")
    except OSError as e:
        raise GpioError(f"fd {n}: {e.strerror}") from None
    if not os.path.exists(path) or not gpiod.is_gpiochip_device(path):
        raise GpioError(f"fd {n} ({path}) is not an open GPIO chip")
    return path


def get_chip_info(fd: FDLike) -> ChipInfo:
    """The chip's name, label and number of lines (linuxpy's ``ChipInfo``)."""
    with gpiod.Chip(_chip_path(fd)) as chip:
        info = chip.get_info()
    return ChipInfo(info.name, info.label, info.num_lines)


def get_line_info(fd: FDLike, line: int) -> LineInfo:
    """One line's information (:class:`~pydevice.gpio.info.LineInfo`)."""
    with gpiod.Chip(_chip_path(fd)) as chip:
        return line_info_from_gpiod(chip.get_line_info(line))


def get_info(fd: FDLike) -> Info:
    """The chip's information with every line's (linuxpy's ``Info``)."""
    with gpiod.Chip(_chip_path(fd)) as chip:
        info = chip.get_info()
        lines = [line_info_from_gpiod(chip.get_line_info(i)) for i in range(info.num_lines)]
    return Info(info.name, info.label, lines)


@dataclasses.dataclass(frozen=True)
class LineRequestResult:
    """What :func:`request` made (the fields of linuxpy's ``raw.gpio_v2_line_request`` that
    say it): ``fd`` is the new request's file, ``offsets`` its lines in index order (bit
    ``i`` of :func:`get_values`' mask is ``offsets[i]``)."""

    fd: int
    offsets: tuple
    consumer: str
    num_lines: int
    event_buffer_size: int


def request(fd: FDLike, config: Any, blocking: bool = False) -> LineRequestResult:
    """Reserve lines of the chip behind ``fd`` with linuxpy's request ``config`` (see
    :mod:`pydevice.gpio.request_config`); the result's ``fd`` holds them until closed.
    ``blocking``: the mode of that fd (linuxpy's default: non-blocking)."""
    with Device(_chip_path(fd)) as dev:
        req = dev.request(config, blocking=blocking)
        if len(req) > MAX_LINES_PER_REQUEST:
            raise GpioError(f"{dev.describe()}: a raw request holds at most "
                            f"{MAX_LINES_PER_REQUEST} lines, not {len(req)}")
        with req:
            inner = req.gpiod_requests[0]
            new_fd = os.dup(inner.fd)
            result = LineRequestResult(new_fd, tuple(inner.offsets), req.name,
                                       inner.num_lines, req.event_buffer_size or 0)
        os.set_blocking(new_fd, bool(blocking))
    return result


# -- the kernel interface on a bare request fd (linux/gpio.h) -------------------------------

def _iowr(nr: int, size: int) -> int:
    """``_IOWR(0xB4, nr, size)``: the generic encoding (x86, arm, arm64, riscv...), or the
    one of powerpc, mips, sparc and alpha (13 size bits, read=2, write=4)."""
    if platform.machine().startswith(("ppc", "powerpc", "mips", "sparc", "alpha")):
        return (6 << 29) | (size << 16) | (0xB4 << 8) | nr
    return (3 << 30) | (size << 16) | (0xB4 << 8) | nr


_VALUES = struct.Struct("=QQ")                # struct gpio_v2_line_values {bits; mask;}
_EVENT = struct.Struct("=QIIII24x")           # struct gpio_v2_line_event
_GET_VALUES = _iowr(0x0E, _VALUES.size)       # GPIO_V2_LINE_GET_VALUES_IOCTL
_SET_VALUES = _iowr(0x0F, _VALUES.size)       # GPIO_V2_LINE_SET_VALUES_IOCTL


class LineValues(NamedTuple):
    """``struct gpio_v2_line_values``: bit ``i`` is the line at index ``i`` of the request."""

    bits: int
    mask: int


def get_values(req_fd: FDLike, mask: int) -> LineValues:
    """The logical values of the request's lines selected by ``mask`` (bit ``i`` = the
    request's ``i``-th line); other bits of ``bits`` are 0."""
    buf = bytearray(_VALUES.pack(0, mask))
    fcntl.ioctl(_fd(req_fd), _GET_VALUES, buf)
    bits, _ = _VALUES.unpack(buf)
    return LineValues(bits & mask, mask)


def set_values(req_fd: FDLike, mask: int, bits: int) -> LineValues:
    """Drive the request's lines selected by ``mask`` to ``bits`` (1 = active); returns what
    was sent."""
    buf = bytearray(_VALUES.pack(bits & mask, mask))
    fcntl.ioctl(_fd(req_fd), _SET_VALUES, buf)
    return LineValues(*_VALUES.unpack(buf))


def read_one_event(req_fd: FDLike) -> EdgeEvent:
    """Read one edge event (blocks on a blocking fd; ``BlockingIOError`` on a non-blocking
    one without pending events).  The fd does not tell its line's name or event clock, so
    ``name`` is ``""`` and ``timestamp`` is the raw clock's seconds, as linuxpy's."""
    data = os.read(_fd(req_fd), _EVENT.size)
    if len(data) != _EVENT.size:
        raise GpioError(f"fd {_fd(req_fd)}: short read of an edge event ({len(data)} bytes)")
    ts, ev_id, offset, seqno, line_seqno = _EVENT.unpack(data)
    kind = {1: "rising", 2: "falling"}.get(ev_id)
    if kind is None:
        raise GpioError(f"fd {_fd(req_fd)}: unknown edge event id {ev_id}")
    return EdgeEvent(offset, "", kind, ts, seqno, line_seqno, clock="")
