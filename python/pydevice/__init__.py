# SPDX-License-Identifier: BSD-3-Clause
"""PyDevice: Python modules bundled with the EPICS ``pydev`` device support.

Sub-packages:

- :mod:`pydevice.snippet` -- turns a record link (``@<python>``) into code (used by the IOC).
- :mod:`pydevice.standin` -- the ``pydev`` stand-in used outside an IOC.
- :mod:`pydevice.revpi` -- a Revolution Pi process image behind records.
- :mod:`pydevice.gpio` -- Linux GPIO lines behind records.
"""

__version__ = "0.1.0"
