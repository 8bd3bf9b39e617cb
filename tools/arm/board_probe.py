# SPDX-License-Identifier: BSD-3-Clause
"""Start the pydevIoc that a fresh board userland installed from the wheelhouse, and read it
from this host over Channel Access and PV Access (a chroot shares the host's loopback).

    board_probe.py ROOTFS        (tools/arm/check.sh ARCH board runs it)

Prints the time from starting the IOC to the first value read, and exits non-zero when any
check fails.
"""
from __future__ import annotations

import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from harness import Ioc  # noqa: E402  (sets the isolated CA/PVA client environment)

from p4p.client.thread import Context  # noqa: E402

DB = 'record(ai, "Board:answer") { field(DTYP, "pydev") field(INP, "@6 * 7") field(PINI, "YES") }\n'


def main(rootfs: str) -> int:
    root = pathlib.Path(rootfs)
    (root / "tmp" / "board.db").write_text(DB)
    argv = [str(root), "/opt/ioc/bin/pydevIoc", "-d", "/tmp/board.db"]
    env = {"VIRTUAL_ENV": None, "PYDEV_VENV": None, "PYTHONPATH": None, "HOME": "/root",
           "PATH": "/opt/ioc/bin:/usr/bin:/bin"}
    t0 = time.perf_counter()
    with Ioc(argv=argv, program="/usr/sbin/chroot", cwd="/", env=env, startup_timeout=60) as ioc:
        started = time.perf_counter() - t0
        value = ioc.caget("Board:answer")
        first = time.perf_counter() - t0
        ioc.cmd('pydev("import pydevice, pydevice.revpi, platform")')
        machine = ioc.pyeval("platform.machine()")
        where = ioc.pyeval("pydevice.__file__")
        with Context("pva", nt=False) as ctx:
            pva = ctx.get("Board:answer", timeout=10)["value"]
    print(f"board IOC: {machine}, pydevice from {where}; started in {started:.1f} s, "
          f"first CA value {value} at {first:.1f} s, PVA value {pva}")
    ok = value == 42.0 and pva == 42.0 and where.startswith("/opt/ioc/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
