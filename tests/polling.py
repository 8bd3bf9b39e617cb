# SPDX-License-Identifier: BSD-3-Clause
"""The one way tests wait for something to become true: ``poll(predicate, timeout)``.

No EPICS, no side effects on import, so tests that run no IOC (the revpi unit tests, their
fault probe subprocess, the in-guest GPIO tests) wait the same way as the IOC tests.
"""
from __future__ import annotations

import os
import time
from typing import Callable

# Waits stretch by this factor where the machine is slow, e.g. under qemu-user emulation
# (tools/arm/check.sh sets it): a wait is a bound on a failure, never the thing tested.
TIME_SCALE = float(os.environ.get("PYDEV_TEST_TIME_SCALE", "1"))


def poll(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Call ``predicate`` until it returns something true: True then, False after ``timeout``
    seconds (stretched by ``PYDEV_TEST_TIME_SCALE``), having tried once more at the end."""
    deadline = time.monotonic() + timeout * TIME_SCALE
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
