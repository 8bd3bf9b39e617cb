# SPDX-License-Identifier: BSD-3-Clause
"""A generated GPIO database in a real IOC on a machine without that chip: the affected
records go INVALID with a message naming the chip; everything else keeps working."""
import pytest

harness = pytest.importorskip("harness")
if not harness.IOC_BIN.exists():
    pytest.skip(f"{harness.IOC_BIN} not built (run make)", allow_module_level=True)

from harness import Ioc, poll  # noqa: E402
from pydevice.gpio import LineInfo  # noqa: E402
from pydevice.gpio.dbgen import generate_db  # noqa: E402

CHIP = "gpiochip97"  # no such chip here (the build machines have no GPIO at all)


def test_missing_chip_disables_only_its_records(tmp_path):
    infos = [LineInfo(0, "GPIO17", False, "", "input", False, "unknown", "push-pull", "none",
                      "monotonic", 0.0),
             LineInfo(1, "GPIO27", False, "", "output", False, "unknown", "push-pull", "none",
                      "monotonic", 0.0)]
    db = tmp_path / "gpio.db"
    db.write_text(generate_db(CHIP, infos))  # names start with $(P), as by default
    other = 'record(ai, "$(P)Other") { field(DTYP, "pydev") field(INP, "@6*7") }\n'
    with Ioc(other, db_files=[db], py="from pydevice import gpio") as ioc:
        ioc.caput("$(P)GPIO27", 1, wait=True)
        stat, sevr, amsg = ioc.alarm("$(P)GPIO27")
        assert (stat, sevr) == ("COMM", "INVALID") and f"'{CHIP}' not found" in amsg, amsg
        # the input records themselves get the error, pushed by the Sync record
        assert poll(lambda: ioc.alarm("$(P)GPIO17")[2] != "", 10)
        for pv in ("$(P)GPIO17", "$(P)GPIO17:Count", "$(P)GPIO17:Lost"):
            stat, sevr, amsg = ioc.alarm(pv)
            assert sevr == "INVALID" and CHIP in amsg, (pv, amsg)
        ioc.caput("$(P)Other.PROC", 1, wait=True)
        assert ioc.caget("$(P)Other") == 42 and ioc.alarm("$(P)Other")[1] == "NO_ALARM"
        assert f"GPIO chip '{CHIP}' not found" in ioc.output


def test_a_chip_spelled_with_quotes_and_backslashes_loads_as_written(tmp_path):
    """The generator escapes field values (pydevice.dbwriter): the IOC reads the link back
    exactly and the message names the chip as spelled."""
    chip = 'odd"chip\\9'
    infos = [LineInfo(0, "GPIO17", False, "", "input", False, "unknown", "push-pull", "none",
                      "monotonic", 0.0)]
    db = tmp_path / "gpio.db"
    db.write_text(generate_db(chip, infos))
    with Ioc(db_files=[db], py="from pydevice import gpio") as ioc:
        link = ioc.caget("$(P)GPIO17.INP$", as_string=True)
        assert link == f"@pydev.iointr(gpio.chip({chip!r}).watch('GPIO17'))", link
        assert poll(lambda: chip in ioc.alarm("$(P)GPIO17")[2], 10), ioc.alarm("$(P)GPIO17")
