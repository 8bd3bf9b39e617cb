# SPDX-License-Identifier: BSD-3-Clause
"""Line configuration: :class:`LineFlag` (the kernel's GPIO v2 flags) and :class:`LineConfig`.

A line's configuration can be given as flags (as in linuxpy), as keywords
(``bias="pull-up"``) or as a :class:`LineConfig`; all end up as a ``gpiod.LineSettings``.
"""
from __future__ import annotations

import dataclasses
import enum
from datetime import timedelta
from typing import Any, Mapping, Optional, Union

from gpiod import LineSettings
from gpiod.line import Bias, Clock, Direction, Drive, Edge, Value

__all__ = ["LineFlag", "LineConfig", "to_config"]


class LineFlag(enum.IntFlag):
    """The kernel's ``GPIO_V2_LINE_FLAG_*`` bits (same values as ``linux/gpio.h``)."""

    USED = 1 << 0
    ACTIVE_LOW = 1 << 1
    INPUT = 1 << 2
    OUTPUT = 1 << 3
    EDGE_RISING = 1 << 4
    EDGE_FALLING = 1 << 5
    OPEN_DRAIN = 1 << 6
    OPEN_SOURCE = 1 << 7
    BIAS_PULL_UP = 1 << 8
    BIAS_PULL_DOWN = 1 << 9
    BIAS_DISABLED = 1 << 10
    EVENT_CLOCK_REALTIME = 1 << 11
    EVENT_CLOCK_HTE = 1 << 12


_DIRECTIONS = {"as-is": Direction.AS_IS, "input": Direction.INPUT, "output": Direction.OUTPUT,
               "in": Direction.INPUT, "out": Direction.OUTPUT}
_BIASES = {"as-is": Bias.AS_IS, "disabled": Bias.DISABLED, "pull-up": Bias.PULL_UP,
           "pull-down": Bias.PULL_DOWN, "off": Bias.DISABLED, "up": Bias.PULL_UP,
           "down": Bias.PULL_DOWN}
_DRIVES = {"push-pull": Drive.PUSH_PULL, "open-drain": Drive.OPEN_DRAIN,
           "open-source": Drive.OPEN_SOURCE}
_EDGES = {"none": Edge.NONE, "rising": Edge.RISING, "falling": Edge.FALLING, "both": Edge.BOTH}
_CLOCKS = {"monotonic": Clock.MONOTONIC, "realtime": Clock.REALTIME, "hte": Clock.HTE}


def _enum(value: Any, table: Mapping[str, Any], kind: type, what: str) -> Any:
    if isinstance(value, kind):
        return value
    if value is None:
        return next(iter(table.values()))
    key = str(value).lower().replace("_", "-")
    if key not in table:
        raise ValueError(f"bad {what} {value!r}; use one of {sorted(set(table))}")
    return table[key]


def enum_name(value: enum.Enum) -> str:
    """``Bias.PULL_UP`` -> ``"pull-up"`` (the spelling :class:`LineConfig` accepts)."""
    return value.name.lower().replace("_", "-")


@dataclasses.dataclass
class LineConfig:
    """How one line is requested.

    ``direction``: input/output/as-is; ``bias``: as-is/disabled/pull-up/pull-down;
    ``drive``: push-pull/open-drain/open-source; ``edge``: none/rising/falling/both;
    ``debounce``: kernel debounce period in seconds (0 = off); ``clock``: event timestamp
    clock (realtime by default, so timestamps are POSIX time); ``value``: initial output
    value (logical, i.e. after ``active_low``).
    """

    direction: str = "input"
    active_low: bool = False
    bias: str = "as-is"
    drive: str = "push-pull"
    edge: str = "none"
    debounce: float = 0.0
    clock: str = "realtime"
    value: Optional[int] = None

    def __post_init__(self) -> None:
        # normalise and validate early so a bad keyword fails where it is written
        self.direction = enum_name(_enum(self.direction, _DIRECTIONS, Direction, "direction"))
        self.bias = enum_name(_enum(self.bias, _BIASES, Bias, "bias"))
        self.drive = enum_name(_enum(self.drive, _DRIVES, Drive, "drive"))
        self.edge = enum_name(_enum(self.edge, _EDGES, Edge, "edge"))
        self.clock = enum_name(_enum(self.clock, _CLOCKS, Clock, "clock"))
        if isinstance(self.debounce, timedelta):
            self.debounce = self.debounce.total_seconds()
        if self.debounce < 0:
            raise ValueError("debounce must be >= 0 seconds")
        if self.value is not None:
            self.value = 1 if self.value else 0

    @property
    def flags(self) -> LineFlag:
        """The configuration as kernel flags."""
        f = LineFlag(0)
        f |= {"input": LineFlag.INPUT, "output": LineFlag.OUTPUT}.get(self.direction, LineFlag(0))
        if self.active_low:
            f |= LineFlag.ACTIVE_LOW
        f |= {"pull-up": LineFlag.BIAS_PULL_UP, "pull-down": LineFlag.BIAS_PULL_DOWN,
              "disabled": LineFlag.BIAS_DISABLED}.get(self.bias, LineFlag(0))
        f |= {"open-drain": LineFlag.OPEN_DRAIN,
              "open-source": LineFlag.OPEN_SOURCE}.get(self.drive, LineFlag(0))
        f |= {"rising": LineFlag.EDGE_RISING, "falling": LineFlag.EDGE_FALLING,
              "both": LineFlag.EDGE_RISING | LineFlag.EDGE_FALLING}.get(self.edge, LineFlag(0))
        f |= {"realtime": LineFlag.EVENT_CLOCK_REALTIME,
              "hte": LineFlag.EVENT_CLOCK_HTE}.get(self.clock, LineFlag(0))
        return f

    @classmethod
    def from_flags(cls, flags: Union[int, LineFlag], **kw: Any) -> "LineConfig":
        """Build a configuration from kernel flags (plus ``debounce``/``value`` keywords)."""
        f = LineFlag(flags)
        direction = "output" if f & LineFlag.OUTPUT else "input" if f & LineFlag.INPUT else None
        if direction is None:
            # edges only make sense on inputs; plain flags such as ACTIVE_LOW mean input too
            direction = "input"
        bias = ("pull-up" if f & LineFlag.BIAS_PULL_UP else "pull-down" if f & LineFlag.BIAS_PULL_DOWN
                else "disabled" if f & LineFlag.BIAS_DISABLED else "as-is")
        drive = ("open-drain" if f & LineFlag.OPEN_DRAIN else "open-source"
                 if f & LineFlag.OPEN_SOURCE else "push-pull")
        rising, falling = bool(f & LineFlag.EDGE_RISING), bool(f & LineFlag.EDGE_FALLING)
        edge = "both" if rising and falling else "rising" if rising else "falling" if falling else "none"
        clock = ("hte" if f & LineFlag.EVENT_CLOCK_HTE else "realtime"
                 if f & LineFlag.EVENT_CLOCK_REALTIME else "monotonic")
        kw.setdefault("clock", clock)
        return cls(direction=direction, active_low=bool(f & LineFlag.ACTIVE_LOW), bias=bias,
                   drive=drive, edge=edge, **kw)

    def replace(self, **changes: Any) -> "LineConfig":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_gpiod(self) -> LineSettings:
        """The equivalent ``gpiod.LineSettings``."""
        return LineSettings(
            direction=_DIRECTIONS[self.direction],
            edge_detection=_EDGES[self.edge],
            bias=_BIASES[self.bias],
            drive=_DRIVES[self.drive],
            active_low=self.active_low,
            debounce_period=timedelta(seconds=self.debounce),
            event_clock=_CLOCKS[self.clock],
            output_value=Value.ACTIVE if self.value else Value.INACTIVE,
        )


def to_config(config: Union[None, LineConfig, int, Mapping[str, Any]] = None,
              **kw: Any) -> LineConfig:
    """Accept a :class:`LineConfig`, kernel flags, a dict of keywords or keywords alone."""
    if isinstance(config, LineConfig):
        return config.replace(**kw) if kw else config
    if isinstance(config, int):
        return LineConfig.from_flags(config, **kw)
    if isinstance(config, Mapping):
        return LineConfig(**{**dict(config), **kw})
    if config is None:
        return LineConfig(**kw)
    raise TypeError(f"cannot make a line configuration from {config!r}")
