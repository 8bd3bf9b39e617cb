# SPDX-License-Identifier: BSD-3-Clause
"""An output's starting value read from the device at init: info(pydev:init, "code").

EPICS' readback convention: an output's device support reads the hardware's current value in
init_record, so the record starts with it - no UDF/INVALID, nothing written.  The code is run
once, then; its value is VAL, or RVAL for a record that converts (which converts it).  Each
IOC here is real; values and alarms are read over Channel Access.
"""
import pytest

from harness import Ioc, poll, random_prefix

DEVICE = {"lo": 42, "i64": 2**40 + 3, "ao": 2.5, "bo": 1, "mbbo": 2, "mbboD": 0b1010,
          "so": "hello", "lso": "x" * 60, "aao": [7, 8, 9], "ao:raw": 100, "bo:raw": 8,
          "mbbo:raw": 30}
OUTPUTS = """
record(longout, "$(P)lo") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") info(pydev:init, "device['lo']") }
record(int64out, "$(P)i64") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") info(pydev:init, "device['i64']") }
record(ao, "$(P)ao") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") field(PREC, "3") info(pydev:init, "device['ao']") }
record(bo, "$(P)bo") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") field(ZNAM, "Off") field(ONAM, "On") info(pydev:init, "device['bo']") }
record(mbbo, "$(P)mbbo") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") info(pydev:init, "device['mbbo']") }
record(mbboDirect, "$(P)mbboD") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") info(pydev:init, "device['mbboD']") }
record(stringout, "$(P)so") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") info(pydev:init, "device['so']") }
record(lso, "$(P)lso") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") field(SIZV, "80") info(pydev:init, "device['lso']") }
record(aao, "$(P)aao") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") field(FTVL, "LONG") field(NELM, "5") info(pydev:init, "device['aao']") }
record(ao, "$(P)ao:raw") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") field(LINR, "LINEAR") field(ESLO, "0.5") field(EOFF, "10") info(pydev:init, "device['ao:raw']") }
record(bo, "$(P)bo:raw") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") field(MASK, "8") info(pydev:init, "device['bo:raw']") }
record(mbbo, "$(P)mbbo:raw") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)")
    field(ZRVL, "10") field(ONVL, "20") field(TWVL, "30") field(ZRST, "low") field(ONST, "mid") field(TWST, "high")
    info(pydev:init, "device['mbbo:raw']") }
record(longout, "$(P)plain") { field(DTYP, "pydev") field(OUT, "@sent.append(NAME)") }
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(OUTPUTS, py=f"device = {DEVICE!r}; sent = []") as ioc:
        yield ioc


def test_outputs_start_with_the_value_the_device_has_and_no_alarm(ioc):
    for name in ("lo", "i64", "ao", "bo", "mbbo", "mbboD", "so", "lso"):
        value = ioc.caget(f"$(P){name}.VAL$", as_string=True) if name == "lso" else \
            ioc.caget(f"$(P){name}")
        assert value == DEVICE[name], name
        assert ioc.alarm(f"$(P){name}")[:2] == ("NO_ALARM", "NO_ALARM"), name
        assert ioc.caget(f"$(P){name}.UDF") == 0, name
    assert list(ioc.caget("$(P)aao")) == DEVICE["aao"]
    assert ioc.caget("$(P)aao.NORD") == len(DEVICE["aao"])
    assert ioc.alarm("$(P)aao")[:2] == ("NO_ALARM", "NO_ALARM")


def test_nothing_is_written_at_init_and_a_write_still_goes_out(ioc):
    assert ioc.pyeval("sent") == []
    ioc.caput("$(P)lo", 7)
    assert ioc.pyeval("sent") == [ioc.expand("$(P)lo")]
    assert ioc.caget("$(P)lo") == 7


def test_an_output_without_the_tag_starts_undefined_as_before(ioc):
    assert ioc.alarm("$(P)plain")[:2] == ("UDF", "INVALID")
    assert ioc.caget("$(P)plain.UDF") == 1


def test_a_converting_output_gets_its_raw_value_and_the_record_converts_it(ioc):
    # the record's own conversion, from its own fields read back over CA
    eslo, eoff = ioc.caget("$(P)ao:raw.ESLO"), ioc.caget("$(P)ao:raw.EOFF")
    assert ioc.caget("$(P)ao:raw.RVAL") == DEVICE["ao:raw"]
    assert ioc.caget("$(P)ao:raw") == pytest.approx(DEVICE["ao:raw"] * eslo + eoff)
    assert ioc.caget("$(P)bo:raw.RVAL") == DEVICE["bo:raw"] and ioc.caget("$(P)bo:raw") == 1
    states = [ioc.caget(f"$(P)mbbo:raw.{f}VL") for f in ("ZR", "ON", "TW")]
    assert ioc.caget("$(P)mbbo:raw") == states.index(DEVICE["mbbo:raw"])
    for name in ("ao:raw", "bo:raw", "mbbo:raw"):
        assert ioc.alarm(f"$(P){name}")[:2] == ("NO_ALARM", "NO_ALARM"), name


def test_init_code_that_fails_is_printed_and_the_record_starts_without_a_value():
    db = """
record(longout, "$(P)bad") { field(DTYP, "pydev") field(OUT, "@None") info(pydev:init, "1/0") }
record(longout, "$(P)none") { field(DTYP, "pydev") field(OUT, "@None") info(pydev:init, "None") }
record(longout, "$(P)syntax") { field(DTYP, "pydev") field(OUT, "@None") info(pydev:init, "1 +") }
record(longout, "$(P)push") { field(DTYP, "pydev") field(OUT, "@None") info(pydev:init, "pydev.iointr('x')") }
"""
    with Ioc(db) as ioc:
        assert "ZeroDivisionError" in ioc.output
        for name in ("bad", "none", "push"):
            assert ioc.expand(f"$(P){name}: info(pydev:init) gave no value") in ioc.output, name
        assert ioc.expand("$(P)syntax: info(pydev:init) cannot be used") in ioc.output
        for name in ("bad", "none", "syntax", "push"):
            assert ioc.alarm(f"$(P){name}")[:2] == ("UDF", "INVALID"), name
        ioc.caput("$(P)bad", 5)  # the record works: only its starting value is missing
        assert poll(lambda: ioc.alarm("$(P)bad")[:2] == ("NO_ALARM", "NO_ALARM"))


def test_init_code_on_an_input_disables_it_saying_why():
    db = 'record(longin, "$(P)in") { field(DTYP, "pydev") field(INP, "@1") field(PINI, "YES") ' \
         'info(pydev:init, "1") }'
    with Ioc(db) as ioc:
        assert ioc.expand("$(P)in: info(pydev:init) is for output records") in ioc.output
        assert ioc.alarm("$(P)in") == ("UDF", "INVALID", "info(pydev:init) is for output records")


def test_the_device_value_wins_over_an_autosave_restore(tmp_path):
    # pydevAutosave restores before records initialise; init_record's readback comes after it,
    # so the record starts with what the device has (a restored setpoint the device lost is
    # written again only by a client or a PINI output)
    db = """
record(longout, "$(P)sp") { field(DTYP, "pydev") field(OUT, "@None")
    info(autosaveFields, "VAL") info(pydev:init, "device") }
"""
    prefix = random_prefix()

    def start(device: int) -> Ioc:
        return Ioc(db, prefix=prefix, py=f"device = {device}",
                   pre_init=[f'pydevAutosave("{tmp_path}", "init", 30)'])
    with start(3) as ioc:
        ioc.caput("$(P)sp", 12)
        assert poll(lambda: f"{prefix}sp.VAL 12" in (tmp_path / "init.sav").read_text()
                    if (tmp_path / "init.sav").exists() else False, timeout=3)
    with start(5) as ioc:
        assert "restored 1 values" in ioc.output
        assert ioc.caget("$(P)sp") == 5
