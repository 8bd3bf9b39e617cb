# SPDX-License-Identifier: BSD-3-Clause
"""The C unit test of the layers below Python (tests/unit/iointrTest.c), run as it is built.

It links only EPICS and PyDevice's values, iointr registry and worker pool - no Python - and
runs a real IOC database whose records read iointr names: coalescing, ordering, the pool's
thread-init callback.  Its output is TAP; every planned check must pass.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("PYDEV_BUILD_DIR", ROOT / "build"))


def test_the_iointr_registry_coalesces_and_orders_without_python():
    program = BUILD / "pydevIointrTest"
    assert program.is_file(), f"{program} is missing: `make build` builds it"
    run = subprocess.run([str(program)], capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    plan = re.search(r"^1\.\.(\d+)$", out, re.M)
    assert plan, out
    passed = re.findall(r"^ok +\d+ ", out, re.M)
    failed = re.findall(r"^not ok +\d+ .*$", out, re.M)
    assert not failed and run.returncode == 0, out
    assert len(passed) == int(plan.group(1)), out


def test_the_unit_test_links_no_python():
    program = BUILD / "pydevIointrTest"
    libs = subprocess.run(["ldd", str(program)], capture_output=True, text=True).stdout
    assert "libpython" not in libs and "libpydev" not in libs, libs

