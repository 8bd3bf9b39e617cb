# SPDX-License-Identifier: BSD-3-Clause
"""Every real piCtory configuration we have gives databases that load and serve.

The configurations are real PiCtory files (tests/revpi/fixtures/configs/PROVENANCE.md),
among them a PROFINET gateway whose 492-byte areas are wider than any integer record.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

harness = pytest.importorskip("harness")
from harness import Ioc, poll  # noqa: E402

import revpimodio2  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIGS = sorted((HERE / "fixtures" / "configs").glob("*.rsc"))


def _generate(config: Path, out: Path, *extra: str) -> Path:
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", str(config), "-o", str(out), *extra],
                   check=True, timeout=60)
    return out


def _open_image(image: Path, config: Path, cycletime: int) -> str:
    """The st.cmd's Python: the IOC owns ``image`` laid out by ``config``."""
    return ("from pydevice import revpi\n"
            f"rpi = revpi.open(procimg={str(image)!r}, configrsc={str(config)!r}, cycletime={cycletime})\n")


@pytest.mark.parametrize("all_ios", [False, True], ids=["exported", "all"])
@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_the_generated_database_of_a_real_config_loads_with_no_error(tmp_path, config, all_ios):
    db = _generate(config, tmp_path / "revpi.db", *(["--all"] if all_ios else []))
    image = tmp_path / "procimg.bin"
    image.write_bytes(bytes(revpimodio2.PROCESS_IMAGE_SIZE))
    with Ioc(pre_init=["on error break"], py=_open_image(image, config, 50), db_files=[db],
             cwd=tmp_path) as ioc:
        startup = ioc.output.split("iocRun: All initialization complete")[0]
        assert "ERROR" not in startup and "pydev:" not in startup, startup[-3000:]
        names = [line.split('"')[1] for line in db.read_text().splitlines() if line.startswith("record(")]
        assert ioc.caget(names[0]) is not None
        report = ioc.cmd("pydevReport 1")
        assert "DISABLED" not in report


def test_a_gateway_area_wider_than_64_bits_is_a_byte_array_both_ways(tmp_path):
    config = next(c for c in CONFIGS if "gateprofinet" in c.name)
    db = _generate(config, tmp_path / "revpi.db", "--all")
    text = db.read_text()
    assert 'record(aao, "$(P)Dummy_out")' in text and 'field(NELM, "492")' in text
    image = tmp_path / "procimg.bin"
    image.write_bytes(bytes(revpimodio2.PROCESS_IMAGE_SIZE))
    with Ioc(py=_open_image(image, config, 50), db_files=[db], cwd=tmp_path) as ioc:
        data = np.arange(492, dtype=np.uint8) ^ 0x5A
        ioc.caput("$(P)Dummy_out", data)
        modio = revpimodio2.RevPiModIO(procimg=str(image), configrsc=str(config), monitoring=True,
                                       debug=False)

        def landed():
            modio.readprocimg()
            return modio.io.Dummy_out.get_value() == bytes(data)
        assert poll(landed, timeout=5)
        ioc.caput("$(P)Dummy_out", data[:10])           # too short: refused, nothing changes
        assert ioc.alarm("$(P)Dummy_out")[:2] == ("WRITE", "INVALID")
        time.sleep(0.2)
        assert landed()
        modio.cleanup()
        # an input area: what another program writes into the image shows in the record
        sim = revpimodio2.RevPiModIO(procimg=str(image), configrsc=str(config), simulator=True,
                                     debug=False)
        sim.io.Dummy_in.set_value(bytes(range(246)) * 2)
        sim.writeprocimg()
        sim.cleanup()
        assert poll(lambda: bytes(ioc.caget("$(P)Dummy_in").astype(np.uint8)) == bytes(range(246)) * 2,
                    timeout=5)


# The three silent clamps issue 8 found, each on the generated (--all) database of a real config.
OUT_OF_RANGE = [("PWM_1", 77, 300, "0..255"), ("OutputValue_1", 1000, 40000, "-32768..32767"),
                ("RS485ErrorLimit1", 10, 70000, "0..65535")]


@contextlib.contextmanager
def _core12_ioc(tmp_path: Path, *db_options: str):
    """A real IOC on core12's generated ``db --all`` (plus options); yields the IOC and a
    function reading an IO from the image file with an independent RevPiModIO."""
    config = next(c for c in CONFIGS if "core12" in c.name)
    db = _generate(config, tmp_path / "revpi.db", "--all", *db_options)
    image = tmp_path / "procimg.bin"
    image.write_bytes(bytes(revpimodio2.PROCESS_IMAGE_SIZE))
    with Ioc(py=_open_image(image, config, 20), db_files=[db], cwd=tmp_path) as ioc:
        modio = revpimodio2.RevPiModIO(procimg=str(image), configrsc=str(config), monitoring=True,
                                       debug=False)

        def image_value(io):
            modio.readprocimg()
            return getattr(modio.io, io).value
        try:
            yield ioc, image_value, db.read_text()
        finally:
            modio.cleanup()


def test_out_of_range_writes_to_generated_records_alarm_and_leave_the_image_alone(tmp_path):
    with _core12_ioc(tmp_path) as (ioc, image_value, _):
        for io, good, bad, span in OUT_OF_RANGE:
            assert (ioc.caget(f"$(P){io}.DRVL"), ioc.caget(f"$(P){io}.DRVH")) == (0, 0)
            ioc.caput(f"$(P){io}", good)
            assert poll(lambda: image_value(io) == good, timeout=5), io
            ioc.caput(f"$(P){io}", bad)
            stat, sevr, amsg = ioc.alarm(f"$(P){io}")
            assert (stat, sevr) == ("WRITE", "INVALID"), (io, stat, sevr)
            assert amsg.startswith(f"{bad} not in {span} for IO"), amsg
            time.sleep(0.1)                               # five refresh cycles
            assert image_value(io) == good, f"{io}: the image changed after a refused {bad}"
            ioc.caput(f"$(P){io}", good)                   # a good value clears the alarm
            assert ioc.alarm(f"$(P){io}")[:2] == ("NO_ALARM", "NO_ALARM")


def test_clamp_mode_writes_the_nearest_limit_with_a_minor_alarm(tmp_path):
    with _core12_ioc(tmp_path, "--clamp") as (ioc, image_value, db_text):
        assert "@rpi.write('PWM_1', VAL, clamp=True)" in db_text
        for io, written, expected in [("PWM_1", 300, 255), ("OutputValue_1", -40000, -32768),
                                      ("RS485ErrorLimit1", 70000, 65535)]:
            ioc.caput(f"$(P){io}", written)
            assert poll(lambda: image_value(io) == expected, timeout=5), (io, image_value(io))
            stat, sevr, amsg = ioc.alarm(f"$(P){io}")
            assert (stat, sevr) == ("HWLIMIT", "MINOR"), (io, stat, sevr)
            # AMSG keeps the start of "<value> clamped to <limit> for IO '<name>'"
            assert amsg.startswith(f"{written} clamped to {expected} for IO"), amsg
            ioc.caput(f"$(P){io}", 7)                     # in range: written as is, no alarm
            assert poll(lambda: image_value(io) == 7, timeout=5)
            assert ioc.alarm(f"$(P){io}")[:2] == ("NO_ALARM", "NO_ALARM")


def _layout(modio: revpimodio2.RevPiModIO, position: int) -> list[list[tuple]]:
    """Each IO of the device at ``position`` as (byte address in the device, length in
    bytes, bit shift), for its inputs, outputs and memory values."""
    from pydevice.revpi import _compat

    device = modio.device[position]
    return [[(io.address - device.offset, len(io), _compat.bit_shift(io)) for io in ios]
            for ios in (device.get_inputs(), device.get_outputs(), device.get_memories())]


def test_the_generated_demo_config_lays_out_its_modules_as_real_piCtory_files_do(tmp_path):
    # the other revpi tests run on this generated configuration instead of a copied file
    from revpi_helpers import demo_files

    image = tmp_path / "procimg.bin"
    image.write_bytes(bytes(revpimodio2.PROCESS_IMAGE_SIZE))

    def modio(config):
        return revpimodio2.RevPiModIO(procimg=str(image), configrsc=str(config), monitoring=True,
                                      debug=False)
    (tmp_path / "demo").mkdir()
    demo = modio(demo_files(tmp_path / "demo")["configrsc"])
    connect_left = modio(next(c for c in CONFIGS if "connect_dio-left" in c.name))
    core12 = modio(next(c for c in CONFIGS if "core12" in c.name))
    try:
        assert [d.name for d in demo.device] == ["RevPi Connect", "dio01", "aio01", "virt01"]
        assert _layout(demo, 0) == _layout(connect_left, 0)      # RevPi Connect
        assert _layout(demo, 32) == _layout(connect_left, 31)    # DIO
        assert _layout(demo, 33) == _layout(core12, 36)          # AIO
        assert _layout(demo, 64) == _layout(connect_left, 64)    # 32-byte virtual device
        assert [demo.device[p].offset for p in (0, 32, 33, 64)] == [0, 11, 124, 213]
    finally:
        for m in (demo, connect_left, core12):
            m.cleanup()
