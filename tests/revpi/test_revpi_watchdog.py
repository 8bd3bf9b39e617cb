# SPDX-License-Identifier: BSD-3-Clause
"""The hardware watchdog toggles only while the IOC runs Python for its records."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

harness = pytest.importorskip("harness")
from harness import Ioc, poll  # noqa: E402
from revpi_helpers import demo_files  # noqa: E402

import revpimodio2  # noqa: E402


def _toggles(modio: revpimodio2.RevPiModIO, seconds: float) -> tuple[int, float | None]:
    """How often the watchdog bit changed in the image in ``seconds``, and when last."""
    count, last_change, start = 0, None, time.monotonic()
    modio.readprocimg()
    value = modio.core.wd.value
    while time.monotonic() - start < seconds:
        time.sleep(0.02)
        modio.readprocimg()
        if modio.core.wd.value != value:
            value, count, last_change = modio.core.wd.value, count + 1, time.monotonic() - start
    return count, last_change


def test_the_watchdog_bit_toggles_while_healthy_and_stops_when_the_pool_hangs_or_the_ioc_stops(tmp_path):
    files = demo_files(tmp_path)
    db = tmp_path / "revpi.db"
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", files["configrsc"],
                    "--replace-io-file", files["replace_io_file"], "--watchdog", ".1 second",
                    "-o", str(db)], check=True, timeout=60)
    py = f"""
import time
from pydevice import revpi
rpi = revpi.open(procimg={files['procimg']!r}, configrsc={files['configrsc']!r},
                 replace_io_file={files['replace_io_file']!r}, cycletime=20)
"""
    hog = 'record(ao, "$(P)hog") { field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }'
    modio = revpimodio2.RevPiModIO(procimg=files["procimg"], configrsc=files["configrsc"],
                                   replace_io_file=files["replace_io_file"],
                                   monitoring=True, debug=False)
    ioc = Ioc(hog, py=py, db_files=[db], env={"PYDEV_NUM_THREADS": "1", "PYDEV_MAX_THREADS": "1"})
    with ioc:
        healthy, _ = _toggles(modio, 1.5)
        assert healthy >= 8, f"{healthy} toggles in 1.5 s at a 0.1 s scan"
        ioc.caput("$(P)hog", 3, wait=False)             # the only worker sleeps 3 s
        # at most a toggle already queued before the hog got the worker, then nothing
        hung, stopped_after = _toggles(modio, 2.3)
        assert hung <= 1 and (stopped_after is None or stopped_after < 0.3), (hung, stopped_after)
        assert poll(lambda: _toggles(modio, 0.5)[0] > 0, timeout=5)   # recovers with the pool
        after = "none" if stopped_after is None else f"the last {stopped_after:.2f} s"
        print(f"watchdog: {healthy} toggles in 1.5 s healthy; after the pool hung: {after}, "
              f"{hung} toggle(s) in 2.3 s")
    stopped, _ = _toggles(modio, 1.0)
    assert stopped == 0
    modio.cleanup()
