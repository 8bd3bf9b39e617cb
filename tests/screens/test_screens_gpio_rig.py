# SPDX-License-Identifier: BSD-3-Clause
"""The GPIO screen against the GPIO demo on a real kernel GPIO chip (gpio-sim, in the rig).

gpio_rig_screenshot.py does the work in the guest: every widget connects, an input raised on
the simulated chip shows as the LED on and three edges counted, a click on High drives the
line high, no widget is in alarm; only then is the window grabbed.  With PYDEV_SCREENSHOTS set
the picture is docs/gpio.md's (as test_screens_pydm takes revpi-screen.png).
"""
from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

import gpio_rig_screenshot as rig_screenshot
from screen_helpers import SCREENSHOTS


def _rig_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.environ.get("RIG_CACHE") or Path(base) / "gpio-sim-rig")


def test_the_gpio_screen_shows_live_lines_of_a_real_chip(tmp_path):
    for module in ("PyQt5", "pydm", "qtpy"):
        pytest.importorskip(module, reason=f"{module} is not installed (pydevice[screens])")
    if not rig_screenshot.RIG.exists():
        pytest.skip(f"gpio-sim rig not found at {rig_screenshot.RIG}")
    if platform.machine() != "x86_64":
        pytest.skip(f"the gpio-sim rig boots an amd64 kernel; this is {platform.machine()}")
    if not (_rig_cache() / "vmlinuz").exists():
        pytest.skip(f"gpio-sim rig not built in {_rig_cache()} (tests/gpio/test_kernel_rig.py "
                    "builds it where root and apt are at hand)")
    shot = Path(SCREENSHOTS) / "gpio-screen.png" if SCREENSHOTS else tmp_path / "gpio-screen.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert rig_screenshot.on_host(shot) == 0, "a check in the rig failed (output above)"
    assert shot.read_bytes().startswith(b"\x89PNG")
