# SPDX-License-Identifier: BSD-3-Clause
"""Linux GPIO lines (GPIO v2 character device, via libgpiod) for Python code and records.

Line API (linuxpy's GPIO ``Device``/``Request``, see docs/gpio.md "Conformance")::

    from pydevice.gpio import Device, find, iter_devices, LineFlag
    with Device("gpiochip0") as chip:
        print(chip.get_info())
        with chip.request(["GPIO17", 5], edge="both", bias="pull-up") as req:
            print(req[:])
            for event in req.events(timeout=5):
                print(event)

linuxpy's fd-level functions (``get_chip_info``, ``request``, ``read_one_event``...) are
in :mod:`pydevice.gpio.raw` and here.  Records: :func:`chip` (see
:mod:`pydevice.gpio.records`).  RPIO-compatible API: :mod:`pydevice.gpio.rpio`.
Database generator: ``python -m pydevice.gpio db --help``.
"""
from .device import Device, chip_path, expand_from_list, find, iter_devices, iter_gpio_files
from .errors import ChipNotFoundError, GpioError, LineBusyError, LineNotFoundError
from .events import EdgeCounter, EdgeEvent, LineEventId
from .info import (ChipInfo, Info, LineAttributes, LineChangedType, LineInfo, LineInfoEvent)
from .raw import (get_chip_info, get_info, get_line_info, get_values, read_one_event, request,
                  set_values)
from .records import Lines, chip, iointr_name
from .line_request import Request
from .settings import LineConfig, LineFlag

LineEvent = EdgeEvent  # linuxpy's name for an edge event

__all__ = [
    "Device", "Request", "ChipInfo", "Info", "LineInfo", "LineAttributes", "LineInfoEvent",
    "LineChangedType", "LineConfig", "LineFlag", "EdgeEvent", "LineEvent", "LineEventId",
    "EdgeCounter", "find", "iter_devices", "iter_gpio_files", "chip_path", "GpioError",
    "ChipNotFoundError", "LineNotFoundError", "LineBusyError", "Lines", "chip", "iointr_name",
    "get_chip_info", "get_line_info", "get_info", "request", "get_values", "set_values",
    "read_one_event", "expand_from_list",
]
