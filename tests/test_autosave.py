# SPDX-License-Identifier: BSD-3-Clause
"""Setpoints survive a restart and a power cut (pydevAutosave, autosave's tags and format)."""
import os
import signal
import time

import pytest

from harness import Ioc, poll, random_prefix

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


def _ioc(directory, prefix: str, period: float = 30, db: str = DB) -> Ioc:
    """An IOC saving to ``directory``; its restart must serve the same names, so the test
    chooses the prefix."""
    return Ioc(db, prefix=prefix, py="driven = []",
               pre_init=[f'pydevAutosave("{directory}", "test", {period})'])


def saved(ioc: Ioc, directory, line: str) -> bool:
    """Whether the save file holds ``line`` ($(P) expanded); not before the first save."""
    sav = directory / "test.sav"
    return sav.exists() and ioc.expand(line) in sav.read_text()


def save_one_then_another(directory, prefix: str, first: int, second: int) -> None:
    """Run an IOC that saves count = first, then count = second: the save file holds the
    second and its backup the first."""
    with _ioc(directory, prefix) as ioc:
        for value in (first, second):
            ioc.caput("$(P)count", value)
            assert poll(lambda: saved(ioc, directory, f"$(P)count.VAL {value}"), timeout=3)


def test_values_written_come_back_at_the_next_start_before_records_initialise(tmp_path):
    prefix = random_prefix()
    with _ioc(tmp_path, prefix) as ioc:
        ioc.caput("$(P)sp", 12.5)
        ioc.caput("$(P)sp.DESC", "tank heater")
        ioc.caput("$(P)mode", "auto cycle")
        ioc.caput("$(P)count", 42)
        assert poll(lambda: saved(ioc, tmp_path, "$(P)count.VAL 42"), timeout=3)
    text = (tmp_path / "test.sav").read_text()
    assert text.rstrip().endswith("<END>") and f"{prefix}mode.VAL auto cycle" in text
    with _ioc(tmp_path, prefix) as ioc:
        assert "restored 4 values" in ioc.output
        assert float(dbgf(ioc, "$(P)sp")) == 12.5 and dbgf(ioc, "$(P)sp.DESC") == "tank heater"
        assert dbgf(ioc, "$(P)mode") == "auto cycle" and dbgf(ioc, "$(P)count") == "42"
        assert ioc.pyeval("driven") == []   # an output comes up at its value, not driven first


def test_the_last_values_survive_a_kill_while_they_change(tmp_path):
    prefix = random_prefix()
    written = []
    with _ioc(tmp_path, prefix) as ioc:
        stop = time.monotonic() + 2.0
        k = 0
        while time.monotonic() < stop:
            k += 1
            ioc.caput("$(P)count", k)
            written.append((k, time.monotonic()))
            time.sleep(0.01)
        os.kill(ioc.proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        ioc.proc.wait(5)
    with _ioc(tmp_path, prefix) as ioc:
        restored = int(dbgf(ioc, "$(P)count"))
    age = killed_at - dict(written)[restored]
    print(f"autosave after SIGKILL: restored {restored} of {written[-1][0]} values written, "
          f"{age:.2f} s old")
    assert restored > 0 and age < 1.0


@pytest.mark.parametrize("damage", ["torn", "corrupt"])
def test_a_damaged_save_file_is_reported_and_the_backup_used(tmp_path, damage):
    prefix = random_prefix()
    save_one_then_another(tmp_path, prefix, 7, 8)
    assert f"{prefix}count.VAL 7" in (tmp_path / "test.sav.bak").read_text()
    sav = tmp_path / "test.sav"
    text = sav.read_text()
    sav.write_text(text[: len(text) // 2] if damage == "torn" else text.replace("<END>", "garbage"))
    with _ioc(tmp_path, prefix) as ioc:
        assert f"{sav} is incomplete or corrupt (no <END> at its end): using the backup" in ioc.output
        assert dbgf(ioc, "$(P)count") == "7"


def test_a_missing_directory_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope"
    ioc = Ioc(pre_init=["on error break", f'pydevAutosave("{missing}", "test", 5)'])
    with pytest.raises(Exception):
        ioc.start()
    assert f"pydevAutosave: {missing} is not a writable directory" in ioc.output


def test_a_file_with_a_bad_line_is_reported_and_the_backup_used(tmp_path):
    """A file that ends with <END> but holds a line that is not "REC.FIELD value" (a damaged
    disk block) is as suspect as a torn one: the backup is restored, not half of this file."""
    prefix = random_prefix()
    save_one_then_another(tmp_path, prefix, 5, 6)
    sav = tmp_path / "test.sav"
    good = sav.read_text()
    sav.write_text(good.replace(f"{prefix}count.VAL 6", f"{prefix}count-VAL6"))
    with _ioc(tmp_path, prefix) as ioc:
        assert f"{sav} is corrupt (line " in ioc.output
        assert "is not \"RECORD.FIELD value\"): using the backup" in ioc.output
        assert dbgf(ioc, "$(P)count") == "5"
    # zeros where a block was not written before the power failed
    sav.write_text(good.replace(f"{prefix}count.VAL 6", "\x00" * 16))
    with _ioc(tmp_path, prefix) as ioc:
        assert f"{sav} is corrupt (it holds NUL bytes): using the backup" in ioc.output
        assert dbgf(ioc, "$(P)count") == "5"


PRECISE_DB = """
record(ao, "$(P)fine") { field(PREC, "1") info(autosaveFields, "VAL") }
record(ao, "$(P)pini") {
    field(DTYP, "pydev") field(OUT, "@driven.append(VAL)") field(PINI, "YES") field(VAL, "1")
    info(autosaveFields, "VAL")
}
"""


def test_floating_point_values_come_back_exactly_and_a_pini_output_drives_the_saved_value(tmp_path):
    """The saved text must not be rounded to PREC (12.3456789 with PREC 1 is not 12.3)."""
    prefix = random_prefix()
    with _ioc(tmp_path, prefix, db=PRECISE_DB) as first:
        assert poll(lambda: first.pyeval("driven") == [1.0], timeout=3)  # nothing saved yet
        first.caput("$(P)fine", 12.3456789)
        first.caput("$(P)pini", 0.1)
        assert poll(lambda: saved(first, tmp_path, "$(P)pini.VAL 0.1\n"), timeout=3)
    assert f"{prefix}fine.VAL 12.3456789\n" in (tmp_path / "test.sav").read_text()
    with _ioc(tmp_path, prefix, db=PRECISE_DB) as second:
        assert poll(lambda: second.pyeval("driven") != [], timeout=3)
        assert second.pyeval("driven") == [0.1]  # the saved value, never the db value first
        assert "12.3456789" in second.cmd("dbgf $(P)fine")
