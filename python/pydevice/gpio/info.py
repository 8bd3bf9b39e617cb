# SPDX-License-Identifier: BSD-3-Clause
"""What a chip tells about itself and its lines, in linuxpy's shapes.

- :class:`ChipInfo` (``name label lines``; ``lines`` is the number of lines) and
  :class:`Info` (``name label lines``; ``lines`` the :class:`LineInfo` of each) are
  namedtuples, as linuxpy's.
- :class:`LineInfo` is a snapshot of one line: linuxpy's fields (``name consumer line flags
  attributes``, also by unpacking) and ours (``offset``, ``used``, ``direction``, ``bias``...).
- :class:`LineInfoEvent` is a line being requested, released or reconfigured (by anyone),
  with linuxpy's fields (``name consumer line flags attributes timestamp type``).
"""
from __future__ import annotations

import dataclasses
import enum
from typing import NamedTuple, Optional

import gpiod

from .events import monotonic_to_posix
from .settings import LineConfig, LineFlag, enum_name
from .tuples import LinuxpyTuple

__all__ = ["ChipInfo", "Info", "LineInfo", "LineAttributes", "LineChangedType", "LineInfoEvent",
           "line_info_from_gpiod", "info_event_from_gpiod"]


class ChipInfo(NamedTuple):
    """A chip's name (``gpiochipN``), label (driver) and number of lines (linuxpy's
    ``ChipInfo``; see :func:`pydevice.gpio.raw.get_chip_info`)."""

    name: str
    label: str
    lines: int


class LineChangedType(enum.IntEnum):
    """Why a watched line's info changed (the kernel's ``GPIO_V2_LINE_CHANGED_*``)."""

    REQUESTED = 1
    RELEASED = 2
    CONFIG = 3


@dataclasses.dataclass(frozen=True)
class LineAttributes:
    """linuxpy's ``LineAttributes`` of a line info: the kernel reports only the debounce
    period (seconds, None when off) in a line's info; ``flags`` and ``indexes`` stay empty."""

    flags: LineFlag = LineFlag(0)
    indexes: tuple = ()
    debounce_period: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class LineInfo(LinuxpyTuple):
    """A snapshot of one line's state (see :meth:`Device.line_info`).

    Unpacks as linuxpy's ``LineInfo`` namedtuple: ``name, consumer, line, flags, attributes``.
    """

    _fields = ("name", "consumer", "line", "flags", "attributes")

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
    def line(self) -> int:
        """linuxpy's ``LineInfo.line``: the line offset."""
        return self.offset

    @property
    def flags(self) -> LineFlag:
        """The line's state as kernel flags (``USED`` included)."""
        cfg = LineConfig(direction=self.direction, active_low=self.active_low,
                         bias="as-is" if self.bias == "unknown" else self.bias, drive=self.drive,
                         edge=self.edge, clock=self.clock)
        return cfg.flags | (LineFlag.USED if self.used else LineFlag(0))

    @property
    def attributes(self) -> LineAttributes:
        """linuxpy's ``LineInfo.attributes`` (the debounce period)."""
        return LineAttributes(debounce_period=self.debounce or None)


def line_info_from_gpiod(li: gpiod.LineInfo) -> LineInfo:
    """Convert a ``gpiod.LineInfo``."""
    return LineInfo(offset=li.offset, name=li.name or "", used=li.used,
                    consumer=li.consumer or "", direction=enum_name(li.direction),
                    active_low=li.active_low, bias=enum_name(li.bias), drive=enum_name(li.drive),
                    edge=enum_name(li.edge_detection), clock=enum_name(li.event_clock),
                    debounce=li.debounce_period.total_seconds())


class Info(NamedTuple):
    """A chip's name, label and every line's :class:`LineInfo` (linuxpy's ``Info``;
    :meth:`Device.get_info`)."""

    name: str
    label: str
    lines: list


_KINDS = {LineChangedType.REQUESTED: "requested", LineChangedType.RELEASED: "released",
          LineChangedType.CONFIG: "reconfigured"}


@dataclasses.dataclass(frozen=True)
class LineInfoEvent(LinuxpyTuple):
    """A watched line was requested, released or reconfigured.

    linuxpy's fields: ``name consumer line flags attributes`` (the line's info after the
    change), ``timestamp`` (POSIX seconds, converted from the kernel's monotonic stamp) and
    ``type`` (:class:`LineChangedType`); it unpacks in that order.  Ours: ``info``,
    ``kind`` (``"requested"``, ``"released"``, ``"reconfigured"``), ``timestamp_ns`` (the
    kernel's ``CLOCK_MONOTONIC`` stamp).
    """

    _fields = ("name", "consumer", "line", "flags", "attributes", "timestamp", "type")

    info: LineInfo
    type: LineChangedType
    timestamp_ns: int

    @property
    def kind(self) -> str:
        return _KINDS[self.type]

    @property
    def timestamp(self) -> float:
        return monotonic_to_posix(self.timestamp_ns)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def consumer(self) -> str:
        return self.info.consumer

    @property
    def line(self) -> int:
        return self.info.offset

    @property
    def flags(self) -> LineFlag:
        return self.info.flags

    @property
    def attributes(self) -> LineAttributes:
        return self.info.attributes


_GPIOD_TYPES = {gpiod.InfoEvent.Type.LINE_REQUESTED: LineChangedType.REQUESTED,
                gpiod.InfoEvent.Type.LINE_RELEASED: LineChangedType.RELEASED,
                gpiod.InfoEvent.Type.LINE_CONFIG_CHANGED: LineChangedType.CONFIG}


def info_event_from_gpiod(ev: gpiod.InfoEvent) -> LineInfoEvent:
    """Convert a ``gpiod.InfoEvent``."""
    return LineInfoEvent(line_info_from_gpiod(ev.line_info), _GPIOD_TYPES[ev.event_type],
                         ev.timestamp_ns)
