# SPDX-License-Identifier: BSD-3-Clause
"""libpydev loaded into a process that already runs Python uses that interpreter."""
import subprocess
import sys

import os

import pytest

from harness import ARCH, ROOT, TIME_SCALE, TREE, random_prefix, reserved_server_env

LIBPYDEV = TREE / "lib" / ARCH / "libpydev.so"

DB = """
record(longin, "$(P)answer") { field(DTYP, "pydev") field(INP, "@host_value + 1") field(PINI, "YES") }
record(longin, "$(P)pushed") { field(DTYP, "pydev") field(INP, "@pydev.iointr('pushed')") field(SCAN, "I/O Intr") }
"""


def test_libpydev_loaded_into_a_running_python_uses_that_interpreter(tmp_path):
    # embedded_ioc.py loads EPICS from the epicscorelibs wheel; a site build's libpydev is linked
    # against its own EPICS base, and two bases in one process do not work
    if LIBPYDEV.is_file() and b"epicscorelibs" not in LIBPYDEV.read_bytes():
        pytest.skip(f"{LIBPYDEV} is a site build (linked against an EPICS base, not epicscorelibs)")
    db = tmp_path / "e.db"
    db.write_text(DB)
    with reserved_server_env() as env:
        out = subprocess.run([sys.executable, str(ROOT / "tests/embedded_ioc.py"), str(TREE), ARCH, str(db),
                              random_prefix()],
                             capture_output=True, text=True, timeout=60 * TIME_SCALE,
                             env={**os.environ, **env})
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "RESULT in_ioc True" in text
    assert "DBF_LONG:           42" in text      # the record saw the host's __main__ namespace
    assert "DBF_LONG:           7" in text       # pushed from the host interpreter
