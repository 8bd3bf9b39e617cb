# SPDX-License-Identifier: BSD-3-Clause
"""A bluesky user's view of the RevPi demo: the ophyd devices generated for its records
(python -m pydevice.revpi screen --format ophyd), driven through ophyd against the running
demo IOC, read back in the process image."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ophyd", reason="ophyd is not installed (requirements-test.txt; "
                    "pip install 'pydevice[ophyd]')")

from harness import poll  # noqa: E402
from screen_helpers import DEMO_ARGS  # noqa: E402


def _devices(work: Path, out: Path):
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "screen", *DEMO_ARGS,
                    "--format", "ophyd", "-o", str(out)], cwd=work, check=True, timeout=60)
    spec = importlib.util.spec_from_file_location("revpi_devices", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _connected_device(module, tries: int = 3):
    """The generated device, connected.  pyepics drops the connection callback of a channel
    that connects before ca.create_channel has filed its id (pyepics#253), and that channel then
    never reports connected; pyepics and ophyd cache channels by name, so only a device whose
    channels were released (destroy) gets new ones (CI: 2 of ~200 signals, a loaded run)."""
    for attempt in range(tries):
        rpi = module.RevolutionPi("RevPi:", name="rpi")
        try:
            rpi.wait_for_connection(timeout=20)
            return rpi
        except TimeoutError:
            rpi.destroy()
            if attempt == tries - 1:
                raise


def test_ophyd_devices_read_and_write_the_demo_process_image(revpi_demo, tmp_path):
    import revpimodio2

    module = _devices(revpi_demo.work, tmp_path / "revpi_devices.py")
    rpi = _connected_device(module)
    image = revpimodio2.RevPiModIO(procimg=str(revpi_demo.work / "procimg.bin"),
                                   configrsc=str(revpi_demo.work / "config.rsc"),
                                   replace_io_file=str(revpi_demo.work / "replace_io.conf"),
                                   monitoring=True, debug=False)

    def output(name: str):
        image.readprocimg()
        return getattr(image.io, name).value
    try:
        rpi.dio01.O_5.set(1).wait(timeout=5)
        assert poll(lambda: output("O_5") is True, timeout=5)
        rpi.aio01.OutputValue_2.set(1500).wait(timeout=5)
        assert poll(lambda: output("OutputValue_2") == 1500, timeout=5)
        rpi.virt01.Recipe.set("MIX-7").wait(timeout=5)
        assert poll(lambda: output("Recipe") == b"MIX-7\0\0\0", timeout=5)

        # a bluesky reading: the simulated field's inputs, with their record names
        reading = rpi.virt01.read()
        assert "rpi_virt01_Flow" in reading and 10 < reading["rpi_virt01_Flow"]["value"] < 15
        assert rpi.Core.Core_Temperature.get() >= 45
        assert poll(lambda: rpi.Worker_pool.Workers.get() >= 1)  # updated once a second
        # an input never written to
        assert rpi.dio01.I_16.get() == 0
    finally:
        image.cleanup()
        rpi.destroy()
