# SPDX-License-Identifier: BSD-3-Clause
"""Operator screens for pydev databases: PyDM (``.ui``), Phoebus (``.bob``) and ophyd devices.

One model for every source: the screen is worked out from database records
(:mod:`~pydevice.screens.dbtext`, :mod:`~pydevice.screens.model`), so
``python -m pydevice screen FILE.db`` and the RevPi and GPIO ``screen`` commands, which make
their database in memory, draw the same widgets for the same records.  Writing PyDM needs
nothing extra; Phoebus needs ``phoebusgen``; showing the screens needs ``pydm`` and ``PyQt5``
(``pip install 'pydevice[screens]'``), never on the board.
"""
from .dbtext import Record, parse
from .model import Item, Kind, Panel, Screen, build

__all__ = ["Record", "parse", "Item", "Kind", "Panel", "Screen", "build"]
