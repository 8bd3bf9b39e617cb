"""Setpoints survive a restart and a power cut (pydevAutosave, autosave's tags and format)."""
import os
import signal
import threading
import time

import epics
import pytest

from harness import Ioc, poll

DB = """
record(ao, "$(P)sp") {
    field(DTYP, "pydev") field(OUT, "@driven.append(VAL)") field(PREC, "3")
    info(autosaveFields, "VAL DESC")
}
record(stringout, "$(P)mode") { field(DTYP, "pydev") field(OUT, "@VAL") info(autosaveFields, "VAL") }
record(longout, "$(P)count") { field(VAL, "0") info(autosaveFields_pass0, "VAL") }
"""


def dbgf(ioc: Ioc, pv: str) -> str:
    """A field's value as the IOC prints it (no CA: the restarted IOC serves the same names,
    which a client would find again only after its search back-off)."""
    out = ioc.cmd(f"dbgf {pv}")
    line = out[out.index("DBF_"):].splitlines()[0]
    return line.split(":", 1)[1].split(" = 0x")[0].strip().strip('"')


def _ioc(directory, prefix: str, period: float = 30) -> Ioc:
    db = DB.replace("$(P)", prefix)
    return Ioc(db, pre_init=['pydev("driven = []")', f'pydevAutosave("{directory}", "test", {period})'])


def test_values_written_come_back_at_the_next_start_before_records_initialise(tmp_path):
    with _ioc(tmp_path, "AS1:") as ioc:
        ioc.caput("AS1:sp", 12.5)
        ioc.caput("AS1:sp.DESC", "tank heater")
        ioc.caput("AS1:mode", "auto cycle")
        ioc.caput("AS1:count", 42)
        assert poll(lambda: "AS1:count.VAL 42" in (tmp_path / "test.sav").read_text(), timeout=3)
    text = (tmp_path / "test.sav").read_text()
    assert text.rstrip().endswith("<END>") and "AS1:mode.VAL auto cycle" in text
    with _ioc(tmp_path, "AS1:") as ioc:
        assert "restored 4 values" in ioc.output
        assert float(dbgf(ioc, "AS1:sp")) == 12.5 and dbgf(ioc, "AS1:sp.DESC") == "tank heater"
        assert dbgf(ioc, "AS1:mode") == "auto cycle" and dbgf(ioc, "AS1:count") == "42"
        assert ioc.pyeval("driven") == []   # an output comes up at its value, not driven first


def test_the_last_values_survive_a_kill_while_they_change(tmp_path):
    written = []
    with _ioc(tmp_path, "AS2:") as ioc:
        stop = time.monotonic() + 2.0
        k = 0
        while time.monotonic() < stop:
            k += 1
            epics.caput("AS2:count", k, wait=True)
            written.append((k, time.monotonic()))
            time.sleep(0.01)
        os.kill(ioc.proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        ioc.proc.wait(5)
    with _ioc(tmp_path, "AS2:") as ioc:
        restored = int(dbgf(ioc, "AS2:count"))
    age = killed_at - dict(written)[restored]
    print(f"autosave after SIGKILL: restored {restored} of {written[-1][0]} values written, "
          f"{age:.2f} s old")
    assert restored > 0 and age < 1.0


@pytest.mark.parametrize("damage", ["torn", "corrupt"])
def test_a_damaged_save_file_is_reported_and_the_backup_used(tmp_path, damage):
    prefix = f"AS3{damage[0]}:"
    with _ioc(tmp_path, prefix) as ioc:
        ioc.caput(prefix + "count", 7)
        assert poll(lambda: f"{prefix}count.VAL 7" in (tmp_path / "test.sav").read_text(), timeout=3)
        ioc.caput(prefix + "count", 8)
        assert poll(lambda: f"{prefix}count.VAL 8" in (tmp_path / "test.sav").read_text(), timeout=3)
    assert f"{prefix}count.VAL 7" in (tmp_path / "test.sav.bak").read_text()
    sav = tmp_path / "test.sav"
    text = sav.read_text()
    sav.write_text(text[: len(text) // 2] if damage == "torn" else text.replace("<END>", "garbage"))
    with _ioc(tmp_path, prefix) as ioc:
        assert f"{sav} is incomplete or corrupt (no <END> at its end): using the backup" in ioc.output
        assert dbgf(ioc, prefix + "count") == "7"


def test_a_missing_directory_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope"
    ioc = Ioc(pre_init=["on error break", f'pydevAutosave("{missing}", "test", 5)'])
    with pytest.raises(Exception):
        ioc.start()
    assert f"pydevAutosave: {missing} is not a writable directory" in ioc.output


def test_a_file_with_a_bad_line_is_reported_and_the_backup_used(tmp_path):
    """A file that ends with <END> but holds a line that is not "REC.FIELD value" (a damaged
    disk block) is as suspect as a torn one: the backup is restored, not half of this file."""
    with _ioc(tmp_path, "AS4:") as ioc:
        ioc.caput("AS4:count", 5)
        assert poll(lambda: "AS4:count.VAL 5" in (tmp_path / "test.sav").read_text(), timeout=3)
        ioc.caput("AS4:count", 6)
        assert poll(lambda: "AS4:count.VAL 6" in (tmp_path / "test.sav").read_text(), timeout=3)
    sav = tmp_path / "test.sav"
    good = sav.read_text()
    sav.write_text(good.replace("AS4:count.VAL 6", "AS4:count-VAL6"))
    with _ioc(tmp_path, "AS4:") as ioc:
        assert f"{sav} is corrupt (line " in ioc.output
        assert "is not \"RECORD.FIELD value\"): using the backup" in ioc.output
        assert dbgf(ioc, "AS4:count") == "5"
    # zeros where a block was not written before the power failed
    sav.write_text(good.replace("AS4:count.VAL 6", "\x00" * 16))
    with _ioc(tmp_path, "AS4:") as ioc:
        assert f"{sav} is corrupt (it holds NUL bytes): using the backup" in ioc.output
        assert dbgf(ioc, "AS4:count") == "5"


PRECISE_DB = """
record(ao, "$(P)fine") { field(PREC, "1") info(autosaveFields, "VAL") }
record(ao, "$(P)pini") {
    field(DTYP, "pydev") field(OUT, "@driven.append(VAL)") field(PINI, "YES") field(VAL, "1")
    info(autosaveFields, "VAL")
}
"""


def test_floating_point_values_come_back_exactly_and_a_pini_output_drives_the_saved_value(tmp_path):
    """The saved text must not be rounded to PREC (12.3456789 with PREC 1 is not 12.3)."""
    def ioc():
        return Ioc(PRECISE_DB.replace("$(P)", "AS5:"),
                   pre_init=['pydev("driven = []")', f'pydevAutosave("{tmp_path}", "test", 30)'])
    with ioc() as first:
        assert poll(lambda: first.pyeval("driven") == [1.0], timeout=3)  # nothing saved yet
        first.caput("AS5:fine", 12.3456789)
        first.caput("AS5:pini", 0.1)
        assert poll(lambda: "AS5:pini.VAL 0.1\n" in (tmp_path / "test.sav").read_text(), timeout=3)
    assert "AS5:fine.VAL 12.3456789\n" in (tmp_path / "test.sav").read_text()
    with ioc() as second:
        assert poll(lambda: second.pyeval("driven") != [], timeout=3)
        assert second.pyeval("driven") == [0.1]  # the saved value, never the db value first
        assert "12.3456789" in second.cmd("dbgf AS5:fine")
