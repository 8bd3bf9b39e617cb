# SPDX-License-Identifier: BSD-3-Clause
"""``import pydev`` outside an IOC: the stand-in (inside pydevIoc the built-in module wins)."""
from pydevice.standin import *  # noqa: F401,F403
from pydevice.standin import __all__  # noqa: F401
