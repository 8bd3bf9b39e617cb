# SPDX-License-Identifier: BSD-3-Clause
"""The demo of `make run-revpi` (iocBoot/iocrevpi/st.cmd) in a real pydevIoc."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest

harness = pytest.importorskip("harness")
from harness import ROOT, Ioc, poll  # noqa: E402

import revpimodio2  # noqa: E402

DEMO = ROOT / "iocBoot" / "iocrevpi"


def test_the_shipped_demo_config_is_what_the_config_builder_makes_today(tmp_path):
    # the revpi tests run on piconfig.demo() written afresh; the demo must be the same layout
    out = tmp_path / "config.rsc"
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "config", "demo", str(out)],
                   check=True, timeout=60)
    assert json.loads((DEMO / "config.rsc").read_text()) == json.loads(out.read_text())


def test_the_shipped_demo_database_is_what_the_generator_makes_today(tmp_path):
    # a stale revpi.db kept drive limits (DRVH 255) that clamp silently; regenerate it with the
    # command in st.cmd when the generator changes
    out = tmp_path / "revpi.db"
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", "config.rsc",
                    "--replace-io-file", "replace_io.conf", "-o", str(out)],
                   cwd=DEMO, check=True, timeout=60)
    assert (DEMO / "revpi.db").read_text() == out.read_text()
    assert "DRVH" not in out.read_text()


def test_the_demo_runs_refuses_a_bad_output_and_ends_on_sigterm_with_piCtory_defaults(tmp_path):
    # a copy, so the demo's procimg.bin is not written into the source tree
    work = tmp_path / "iocBoot" / "iocrevpi"
    shutil.copytree(DEMO, work, ignore=shutil.ignore_patterns("procimg.bin", "O.*", "envPaths"))
    (tmp_path / "dbd").symlink_to(ROOT / "dbd")
    (tmp_path / "db").symlink_to(ROOT / "db")
    with Ioc(st_cmd=work / "st.cmd", cwd=work, prefix="RevPi:") as ioc:  # its st.cmd's prefix
        startup = ioc.output.split("iocRun: All initialization complete")[0]
        assert "ERROR" not in startup and "Error" not in startup, startup[-3000:]
        # the field simulator drives the inputs through the image
        first = ioc.caget("$(P)InputValue_1")
        assert poll(lambda: ioc.caget("$(P)InputValue_1") != first, timeout=5)
        ioc.caput("$(P)OutputValue_1", 77)
        modio = revpimodio2.RevPiModIO(procimg=str(work / "procimg.bin"),
                                       configrsc=str(work / "config.rsc"),
                                       replace_io_file=str(work / "replace_io.conf"),
                                       monitoring=True, debug=False)

        def output():
            modio.readprocimg()
            return modio.io.OutputValue_1.value
        assert poll(lambda: output() == 77, timeout=5)
        ioc.caput("$(P)OutputValue_1", 40000)
        assert ioc.alarm("$(P)OutputValue_1")[:2] == ("WRITE", "INVALID")
        time.sleep(0.2)
        assert output() == 77
        start = time.monotonic()
        ioc.proc.send_signal(signal.SIGTERM)
        assert ioc.proc.wait(15) == 0
        print(f"demo IOC ended by SIGTERM in {time.monotonic() - start:.2f} s")
    assert output() == modio.io.OutputValue_1.defaultvalue == 0
    modio.cleanup()
