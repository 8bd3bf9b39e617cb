# SPDX-License-Identifier: BSD-3-Clause
"""Code the benchmark's IOCs import (bench/ is put on their sys.path)."""
import time


def spin(seconds: float) -> int:
    """Hold the GIL for ``seconds``, as a snippet doing pure-Python work would."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return 1
