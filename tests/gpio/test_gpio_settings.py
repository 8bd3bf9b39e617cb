# SPDX-License-Identifier: BSD-3-Clause
"""LineConfig <-> kernel flags <-> gpiod settings (no hardware)."""
from datetime import timedelta

import pytest
from gpiod.line import Bias, Clock, Direction, Drive, Edge, Value

from pydevice.gpio import LineConfig, LineFlag
from pydevice.gpio.settings import to_config


def test_flags_round_trip():
    f = (LineFlag.INPUT | LineFlag.ACTIVE_LOW | LineFlag.BIAS_PULL_UP | LineFlag.EDGE_RISING
         | LineFlag.EDGE_FALLING | LineFlag.EVENT_CLOCK_REALTIME)
    cfg = LineConfig.from_flags(f)
    assert (cfg.direction, cfg.active_low, cfg.bias, cfg.edge, cfg.clock) == \
        ("input", True, "pull-up", "both", "realtime")
    assert cfg.flags == f
    out = LineConfig.from_flags(LineFlag.OUTPUT | LineFlag.OPEN_DRAIN, value=1)
    assert (out.direction, out.drive, out.value) == ("output", "open-drain", 1)
    assert out.flags == LineFlag.OUTPUT | LineFlag.OPEN_DRAIN


def test_kernel_flag_values():
    # the uapi values of linux/gpio.h: other tools and linuxpy use the same numbers
    assert (LineFlag.ACTIVE_LOW, LineFlag.INPUT, LineFlag.OUTPUT, LineFlag.BIAS_DISABLED,
            LineFlag.EVENT_CLOCK_REALTIME) == (2, 4, 8, 1024, 2048)


def test_to_gpiod_settings():
    s = LineConfig(direction="output", drive="open-source", bias="pull-down", value=1,
                   debounce=0.02, clock="monotonic").to_gpiod()
    assert (s.direction, s.drive, s.bias, s.output_value, s.event_clock) == \
        (Direction.OUTPUT, Drive.OPEN_SOURCE, Bias.PULL_DOWN, Value.ACTIVE, Clock.MONOTONIC)
    assert s.debounce_period == timedelta(milliseconds=20)
    assert LineConfig(edge="falling").to_gpiod().edge_detection == Edge.FALLING


def test_spellings_and_validation():
    assert LineConfig(bias="PULL_UP", direction="in").bias == "pull-up"
    assert LineConfig(debounce=timedelta(milliseconds=5)).debounce == 0.005
    with pytest.raises(ValueError, match="bias"):
        LineConfig(bias="sideways")
    with pytest.raises(ValueError):
        LineConfig(debounce=-1)
    assert to_config({"edge": "both"}, active_low=True) == LineConfig(edge="both", active_low=True)
    assert to_config(LineFlag.OUTPUT).direction == "output"
