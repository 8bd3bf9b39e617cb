"""Linux GPIO lines (GPIO v2 character device, via libgpiod) for Python code and records.

Line API (in the spirit of linuxpy's GPIO ``Device``/``Request``)::

    from pydevice.gpio import Device, find, iter_devices, LineFlag
    with Device("gpiochip0") as chip:
        print(chip.get_info())
        with chip.request(["GPIO17", 5], edge="both", bias="pull-up") as req:
            print(req[:])
            for event in req.events(timeout=5):
                print(event)

Records: :func:`chip` (see :mod:`pydevice.gpio.records`).  RPIO-compatible API:
:mod:`pydevice.gpio.rpio`.  Database generator: ``python -m pydevice.gpio db --help``.
"""
from .chip import ChipInfo, Device, LineInfo, chip_path, find, iter_devices, iter_gpio_files
from .errors import ChipNotFoundError, GpioError, LineBusyError, LineNotFoundError
from .events import EdgeCounter, EdgeEvent
from .records import Lines, chip, iointr_name
from .request import Request
from .settings import LineConfig, LineFlag

__all__ = [
    "Device", "Request", "ChipInfo", "LineInfo", "LineConfig", "LineFlag", "EdgeEvent",
    "EdgeCounter", "find", "iter_devices", "iter_gpio_files", "chip_path", "GpioError",
    "ChipNotFoundError", "LineNotFoundError", "LineBusyError", "Lines", "chip", "iointr_name",
]
