"""The hardware watchdog toggles only while the IOC runs Python for its records."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

harness = pytest.importorskip("harness")
from harness import Ioc, poll  # noqa: E402

import epics  # noqa: E402
import revpimodio2  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
P = "RPiW:"


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
    for name in ("config.rsc", "replace_io.conf"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    db = tmp_path / "revpi.db"
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", str(tmp_path / "config.rsc"),
                    "--replace-io-file", str(tmp_path / "replace_io.conf"), "--watchdog", ".1 second",
                    "-o", str(db)], check=True, timeout=60)
    img = tmp_path / "procimg.bin"
    img.write_bytes(bytes(4096))
    pre = ['pydev("import time; from pydevice import revpi")',
           f'pydev("rpi = revpi.open(procimg=\'{img}\', configrsc=\'{tmp_path / "config.rsc"}\', '
           f'replace_io_file=\'{tmp_path / "replace_io.conf"}\', cycletime=20)")']
    hog = f'record(ao, "{P}hog") {{ field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }}'
    modio = revpimodio2.RevPiModIO(procimg=str(img), configrsc=str(tmp_path / "config.rsc"),
                                   replace_io_file=str(tmp_path / "replace_io.conf"),
                                   monitoring=True, debug=False)
    ioc = Ioc(hog, pre_init=pre, db_files=[(db, f"P={P}")],
              env={"PYDEV_NUM_THREADS": "1", "PYDEV_MAX_THREADS": "1"})
    with ioc:
        healthy, _ = _toggles(modio, 1.5)
        assert healthy >= 8, f"{healthy} toggles in 1.5 s at a 0.1 s scan"
        epics.caput(P + "hog", 3, wait=False)           # the only worker sleeps 3 s
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
