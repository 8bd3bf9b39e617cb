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
from harness import IOC_BIN, Ioc, poll  # noqa: E402

import revpimodio2  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIGS = sorted((HERE / "fixtures" / "configs").glob("*.rsc"))


def _generate(config: Path, out: Path, *extra: str) -> Path:
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", str(config), "-o", str(out), *extra],
                   check=True, timeout=60)
    return out


@pytest.mark.parametrize("all_ios", [False, True], ids=["exported", "all"])
@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_the_generated_database_of_a_real_config_loads_with_no_error(tmp_path, config, all_ios):
    db = _generate(config, tmp_path / "revpi.db", *(["--all"] if all_ios else []))
    image = tmp_path / "procimg.bin"
    image.write_bytes(bytes(revpimodio2.PROCESS_IMAGE_SIZE))
    prefix = f"CF{CONFIGS.index(config)}{int(all_ios)}:"
    pre = ["on error break", 'pydev("from pydevice import revpi")',
           f'pydev("rpi = revpi.open(procimg=\'{image}\', configrsc=\'{config}\', cycletime=50)")']
    with Ioc(pre_init=pre, db_files=[(db, f"P={prefix}")], cwd=tmp_path) as ioc:
        startup = ioc.output.split("iocRun: All initialization complete")[0]
        assert "ERROR" not in startup and "pydev:" not in startup, startup[-3000:]
        names = [line.split('"')[1].replace("$(P)", prefix) for line in db.read_text().splitlines()
                 if line.startswith("record(")]
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
    pre = ['pydev("from pydevice import revpi")',
           f'pydev("rpi = revpi.open(procimg=\'{image}\', configrsc=\'{config}\', cycletime=50)")']
    with Ioc(pre_init=pre, db_files=[(db, "P=GW:")], cwd=tmp_path) as ioc:
        data = np.arange(492, dtype=np.uint8) ^ 0x5A
        ioc.caput("GW:Dummy_out", data)
        modio = revpimodio2.RevPiModIO(procimg=str(image), configrsc=str(config), monitoring=True,
                                       debug=False)

        def landed():
            modio.readprocimg()
            return modio.io.Dummy_out.get_value() == bytes(data)
        assert poll(landed, timeout=5)
        ioc.caput("GW:Dummy_out", data[:10])            # too short: refused, nothing changes
        assert ioc.alarm("GW:Dummy_out")[:2] == ("WRITE", "INVALID")
        time.sleep(0.2)
        assert landed()
        modio.cleanup()
        # an input area: what another program writes into the image shows in the record
        sim = revpimodio2.RevPiModIO(procimg=str(image), configrsc=str(config), simulator=True,
                                     debug=False)
        sim.io.Dummy_in.set_value(bytes(range(246)) * 2)
        sim.writeprocimg()
        sim.cleanup()
        assert poll(lambda: bytes(ioc.caget("GW:Dummy_in").astype(np.uint8)) == bytes(range(246)) * 2,
                    timeout=5)


# The three silent clamps issue 8 found, each on the generated (--all) database of a real config.
OUT_OF_RANGE = [("PWM_1", 77, 300, "0..255"), ("OutputValue_1", 1000, 40000, "-32768..32767"),
                ("RS485ErrorLimit1", 10, 70000, "0..65535")]


@contextlib.contextmanager
def _core12_ioc(tmp_path: Path, prefix: str, *db_options: str):
    """A real IOC on core12's generated ``db --all`` (plus options); yields the IOC and a
    function reading an IO from the image file with an independent RevPiModIO."""
    config = next(c for c in CONFIGS if "core12" in c.name)
    db = _generate(config, tmp_path / "revpi.db", "--all", *db_options)
    image = tmp_path / "procimg.bin"
    image.write_bytes(bytes(revpimodio2.PROCESS_IMAGE_SIZE))
    pre = ['pydev("from pydevice import revpi")',
           f'pydev("rpi = revpi.open(procimg=\'{image}\', configrsc=\'{config}\', cycletime=20)")']
    with Ioc(pre_init=pre, db_files=[(db, f"P={prefix}")], cwd=tmp_path) as ioc:
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
    with _core12_ioc(tmp_path, "OR:") as (ioc, image_value, _):
        for io, good, bad, span in OUT_OF_RANGE:
            assert (ioc.caget(f"OR:{io}.DRVL"), ioc.caget(f"OR:{io}.DRVH")) == (0, 0)
            ioc.caput(f"OR:{io}", good)
            assert poll(lambda: image_value(io) == good, timeout=5), io
            ioc.caput(f"OR:{io}", bad)
            stat, sevr, amsg = ioc.alarm(f"OR:{io}")
            assert (stat, sevr) == ("WRITE", "INVALID"), (io, stat, sevr)
            assert amsg.startswith(f"{bad} not in {span} for IO"), amsg
            time.sleep(0.1)                               # five refresh cycles
            assert image_value(io) == good, f"{io}: the image changed after a refused {bad}"
            ioc.caput(f"OR:{io}", good)                   # a good value clears the alarm
            assert ioc.alarm(f"OR:{io}")[:2] == ("NO_ALARM", "NO_ALARM")


def test_clamp_mode_writes_the_nearest_limit_with_a_minor_alarm(tmp_path):
    with _core12_ioc(tmp_path, "CL:", "--clamp") as (ioc, image_value, db_text):
        assert "@rpi.write('PWM_1', VAL, clamp=True)" in db_text
        for io, written, expected in [("PWM_1", 300, 255), ("OutputValue_1", -40000, -32768),
                                      ("RS485ErrorLimit1", 70000, 65535)]:
            ioc.caput(f"CL:{io}", written)
            assert poll(lambda: image_value(io) == expected, timeout=5), (io, image_value(io))
            stat, sevr, amsg = ioc.alarm(f"CL:{io}")
            assert (stat, sevr) == ("HWLIMIT", "MINOR"), (io, stat, sevr)
            # AMSG keeps the start of "<value> clamped to <limit> for IO '<name>'"
            assert amsg.startswith(f"{written} clamped to {expected} for IO"), amsg
            ioc.caput(f"CL:{io}", 7)                     # in range: written as is, no alarm
            assert poll(lambda: image_value(io) == 7, timeout=5)
            assert ioc.alarm(f"CL:{io}")[:2] == ("NO_ALARM", "NO_ALARM")
