# SPDX-License-Identifier: BSD-3-Clause
"""Raw values, the EPICS way: a record that asks for its own conversion gets RVAL from the code.

ai/ao with LINR other than NO CONVERSION or with ASLO/AOFF/ROFF, bi/bo with MASK, mbbi/mbbo
with ZRVL..FFVL, MASK (NOBT) or SHFT, mbbiDirect/mbboDirect with SHFT: an input's result is
its RVAL and the record converts it to VAL; an output hands the record's RVAL to the code (the
RVAL macro) and a result is its raw readback, RBV.  The conversion is the record's: the first
tests compute each expected VAL from the record's own fields, read back over Channel Access;
the twin tests at the end set each pydev record beside a record of base's own raw device
support ("Raw Soft Channel") with the same fields, and the two must agree.
"""
import pathlib

import epicscorelibs.path
import pytest

from harness import Ioc, poll

DB = """
record(ai, "$(P)ai:linear") { field(DTYP, "pydev") field(INP, "@src['ai:linear']")
    field(LINR, "LINEAR") field(ESLO, "0.5") field(EOFF, "10") field(PREC, "3") }
record(ai, "$(P)ai:aslo") { field(DTYP, "pydev") field(INP, "@src['ai:aslo']")
    field(ASLO, "0.25") field(AOFF, "-3") field(ROFF, "2") field(PREC, "3") }
record(ai, "$(P)ai:plain") { field(DTYP, "pydev") field(INP, "@src['ai:plain']") field(ESLO, "0.5") field(PREC, "3") }
record(ai, "$(P)ai:iointr") { field(DTYP, "pydev") field(INP, "@pydev.iointr('raw')") field(SCAN, "I/O Intr")
    field(LINR, "SLOPE") field(ESLO, "0.1") field(EOFF, "-5") field(PREC, "3") }
record(bi, "$(P)bi:mask") { field(DTYP, "pydev") field(INP, "@src['bi:mask']") field(MASK, "4") }
record(mbbi, "$(P)mbbi:states") { field(DTYP, "pydev") field(INP, "@src['mbbi:states']")
    field(ZRVL, "10") field(ONVL, "20") field(TWVL, "30") field(ZRST, "low") field(ONST, "mid") field(TWST, "high") }
record(mbbi, "$(P)mbbi:shft") { field(DTYP, "pydev") field(INP, "@src['mbbi:shft']") field(NOBT, "2") field(SHFT, "4") }
record(mbbiDirect, "$(P)mbbiDirect:shft") { field(DTYP, "pydev") field(INP, "@src['mbbiDirect:shft']") field(SHFT, "4") }
record(mbbiDirect, "$(P)mbbiDirect:nobt") { field(DTYP, "pydev") field(INP, "@src['mbbiDirect:nobt']") field(SHFT, "4") field(NOBT, "4") }

record(ao, "$(P)ao:linear") { field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)")
    field(LINR, "LINEAR") field(ESLO, "0.5") field(EOFF, "10") }
record(ao, "$(P)ao:readback") { field(DTYP, "pydev") field(OUT, "@RVAL + 1") field(ASLO, "2") }
record(bo, "$(P)bo:mask") { field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)") field(MASK, "8") }
record(mbbo, "$(P)mbbo:states") { field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)")
    field(ZRVL, "10") field(ONVL, "20") field(TWVL, "30") field(ZRST, "low") field(ONST, "mid") field(TWST, "high") }
record(mbboDirect, "$(P)mbboDirect:shft") { field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)") field(SHFT, "2") }
"""

# Twins: "$(P)pydev:NAME" and "$(P)base:NAME", one record type with the same fields, the second
# with base's raw soft device support.  Inputs both read the raw number in $(P)raw (the pydev one
# through pydev.get); outputs get the same VAL, and the base one writes its raw value to
# "$(P)base:NAME:wrote".  Nothing is computed here: base's record is the expected answer.
KDEGF = pathlib.Path(epicscorelibs.path.base_path) / "dbd" / "bptTypeKdegF.dbd"  # base's table
INPUTS = {"ai", "bi", "mbbi", "mbbiDirect"}
TWINS = {  # NAME: (record type, the fields that make it convert)
    "ai:linear": ("ai", 'field(LINR, "LINEAR") field(ESLO, "0.5") field(EOFF, "10")'),
    "ai:slope": ("ai", 'field(LINR, "SLOPE") field(ESLO, "0.1") field(EOFF, "-5") '
                       'field(ASLO, "0.25") field(AOFF, "-3") field(ROFF, "2")'),
    "ai:aslo": ("ai", 'field(ASLO, "0.25") field(AOFF, "-3") field(ROFF, "2")'),
    "ai:typeKdegF": ("ai", 'field(LINR, "typeKdegF")'),  # a breakpoint table
    "bi:mask": ("bi", 'field(MASK, "4")'),
    "mbbi:states": ("mbbi", 'field(ZRVL, "10") field(ONVL, "20") field(TWVL, "30")'),
    "mbbi:nobt": ("mbbi", 'field(NOBT, "2") field(SHFT, "4")'),
    "mbbi:states:nobt": ("mbbi", 'field(NOBT, "3") field(SHFT, "2") '
                                 'field(ZRVL, "1") field(ONVL, "5") field(TWVL, "7")'),
    "mbbiDirect:shft": ("mbbiDirect", 'field(SHFT, "4")'),
    "mbbiDirect:nobt": ("mbbiDirect", 'field(SHFT, "4") field(NOBT, "4")'),
    "ao:linear": ("ao", 'field(LINR, "LINEAR") field(ESLO, "0.5") field(EOFF, "10")'),
    "ao:aslo": ("ao", 'field(ASLO, "0.25") field(AOFF, "-3") field(ROFF, "2")'),
    "ao:typeKdegF": ("ao", 'field(LINR, "typeKdegF")'),
    "bo:mask": ("bo", 'field(MASK, "8")'),
    "mbbo:states": ("mbbo", 'field(ZRVL, "10") field(ONVL, "20") field(TWVL, "30")'),
    "mbbo:states:nobt": ("mbbo", 'field(NOBT, "3") field(SHFT, "2") '
                                 'field(ZRVL, "1") field(ONVL, "5") field(TWVL, "7")'),
    "mbbo:shft": ("mbbo", 'field(NOBT, "4") field(SHFT, "4")'),  # no states: VAL << SHFT
    "mbboDirect:shft": ("mbboDirect", 'field(SHFT, "2")'),
    # state values with bits outside NOBT: RVAL has them, what is written only MASK's
    "mbbo:wide": ("mbbo", 'field(NOBT, "2") field(SHFT, "2") field(ZRVL, "5") field(ONVL, "1")'),
    "mbboDirect:nobt": ("mbboDirect", 'field(SHFT, "2") field(NOBT, "4")'),
}


def twins(name: str, rtype: str, fields: str) -> str:
    """The db text of the pydev record NAME and of its twin, base's raw soft device support."""
    if rtype in INPUTS:
        pydev, base = "field(INP, \"@pydev.get('$(P)raw')\")", 'field(INP, "$(P)raw")'
        sink = ""
    else:
        pydev = 'field(OUT, "@sent.__setitem__(NAME, RVAL)")'
        base = f'field(OUT, "$(P)base:{name}:wrote")'
        sink = f'record(longin, "$(P)base:{name}:wrote") {{ }}\n'
    return (f'record({rtype}, "$(P)pydev:{name}") {{ field(DTYP, "pydev") {pydev} {fields} }}\n'
            f'record({rtype}, "$(P)base:{name}") {{\n'
            f'    field(DTYP, "Raw Soft Channel") {base} {fields} }}\n' + sink)


TWINS_DB = 'record(longout, "$(P)raw") { }\n' + "".join(twins(n, *c) for n, c in TWINS.items())


@pytest.fixture(scope="module")
def ioc():
    # the breakpoint tables are not in pydevIoc.dbd: an st.cmd loads the one it uses
    with Ioc(DB + TWINS_DB, py="src = {}; sent = {}",
             pre_init=[f'dbLoadDatabase("{KDEGF}")']) as ioc:
        yield ioc


def read(ioc, record, raw):
    """The code returns raw; process the record; (VAL, RVAL) over CA."""
    ioc.py(f"src[{record!r}] = {raw}")
    ioc.caput(f"$(P){record}.PROC", 1, wait=True)
    return ioc.caget(f"$(P){record}"), int(ioc.caget(f"$(P){record}.RVAL"))  # CA: ULONG as double


def fields(ioc, record, *names):
    """Numbers as the record holds them (CA sends ULONG fields such as MASK as doubles)."""
    values = [ioc.caget(f"$(P){record}.{name}") for name in names]
    return [int(v) if float(v).is_integer() else v for v in values]


def analog(ioc, record, rval):
    """VAL as the ai record computes it from RVAL (LINEAR/SLOPE; NO CONVERSION skips ESLO)."""
    roff, aslo, aoff, eslo, eoff, linr = fields(ioc, record, "ROFF", "ASLO", "AOFF", "ESLO", "EOFF", "LINR")
    value = (rval + roff) * (aslo or 1) + aoff
    return value * eslo + eoff if linr else value


@pytest.mark.parametrize("record, raw", [("ai:linear", 100), ("ai:linear", -37), ("ai:aslo", 14)])
def test_an_ai_asking_for_conversion_gets_rval_and_converts_it(ioc, record, raw):
    val, rval = read(ioc, record, raw)
    assert rval == raw
    assert val == pytest.approx(analog(ioc, record, raw))
    assert ioc.alarm(f"$(P){record}")[1] == "NO_ALARM"


def test_linear_ai_converts_100_to_60(ioc):
    assert read(ioc, "ai:linear", 100)[0] == pytest.approx(60.0)  # 100 * 0.5 + 10


def test_an_ai_without_conversion_stores_val_as_before(ioc):
    # ESLO alone does nothing under LINR "NO CONVERSION", in EPICS as here
    val, rval = read(ioc, "ai:plain", 3.25)
    assert val == pytest.approx(3.25) and rval == 0


def test_a_raw_ai_on_iointr_converts_each_pushed_value(ioc):
    ioc.py("pydev.iointr('raw', 250)")
    assert poll(lambda: ioc.caget("$(P)ai:iointr.RVAL") == 250)
    assert ioc.caget("$(P)ai:iointr") == pytest.approx(analog(ioc, "ai:iointr", 250))


def test_a_raw_result_must_fit_rval(ioc):
    before = ioc.caget("$(P)ai:linear.RVAL")
    ioc.py("src['ai:linear'] = 2**40")
    ioc.caput("$(P)ai:linear.PROC", 1, wait=True)
    stat, sevr, amsg = ioc.alarm("$(P)ai:linear")
    assert (stat, sevr) == ("READ", "INVALID") and "out of range" in amsg
    assert ioc.caget("$(P)ai:linear.RVAL") == before


@pytest.mark.parametrize("raw, rval, val", [(6, 4, 1), (3, 0, 0), (4, 4, 1)])
def test_a_bi_with_mask_keeps_the_mask_bits_of_rval(ioc, raw, rval, val):
    (mask,) = fields(ioc, "bi:mask", "MASK")
    assert read(ioc, "bi:mask", raw) == (val, rval)
    assert rval == raw & mask


@pytest.mark.parametrize("raw, state", [(10, 0), (20, 1), (30, 2)])
def test_an_mbbi_with_state_values_finds_the_state_of_rval(ioc, raw, state):
    values = fields(ioc, "mbbi:states", "ZRVL", "ONVL", "TWVL")
    val, rval = read(ioc, "mbbi:states", raw)
    assert rval == raw and val == values.index(raw) == state
    assert ioc.caget("$(P)mbbi:states", as_string=True) == ["low", "mid", "high"][state]


def test_an_mbbi_raw_value_of_no_state_is_the_unknown_state(ioc):
    val, rval = read(ioc, "mbbi:states", 25)
    assert rval == 25 and val == 65535  # the record's "unknown state"


def test_an_mbbi_with_nobt_and_shft_masks_and_shifts(ioc):
    mask, shft = fields(ioc, "mbbi:shft", "MASK", "SHFT")
    val, rval = read(ioc, "mbbi:shft", 0x3A5)
    assert rval == 0x3A5 & (mask << shft) == 0x20
    assert val == rval >> shft == 2


@pytest.mark.parametrize("record, raw", [("mbbiDirect:shft", 0xA5), ("mbbiDirect:nobt", 0x1A5)])
def test_an_mbbidirect_with_shft_shifts_rval(ioc, record, raw):
    shft, nobt, mask = fields(ioc, record, "SHFT", "NOBT", "MASK")
    keep = (mask if nobt else 0xFFFFFFFF) << shft
    val, rval = read(ioc, record, raw)
    assert rval == raw & keep
    assert val == rval >> shft == 0xA
    assert ioc.caget(f"$(P){record}.B1") == 1 and ioc.caget(f"$(P){record}.B0") == 0


def sent(ioc, record, value):
    ioc.caput(f"$(P){record}", value, wait=True)
    return ioc.pyeval(f"sent['$(P){record}']"), ioc.caget(f"$(P){record}.RVAL")


def test_an_ao_with_conversion_hands_the_records_rval_to_the_code(ioc):
    got, rval = sent(ioc, "ao:linear", 60)
    roff, aslo, aoff, eslo, eoff = fields(ioc, "ao:linear", "ROFF", "ASLO", "AOFF", "ESLO", "EOFF")
    assert got == rval == round(((60 - eoff) / eslo - aoff) / (aslo or 1) - roff) == 100


def test_a_raw_output_result_is_its_readback_rbv(ioc):
    ioc.caput("$(P)ao:readback", 20, wait=True)
    assert ioc.caget("$(P)ao:readback.RVAL") == 10  # 20 / ASLO 2, by the record
    assert ioc.caget("$(P)ao:readback.RBV") == 11  # the code's result: RVAL + 1
    assert ioc.caget("$(P)ao:readback") == pytest.approx(20)  # the setpoint stays


@pytest.mark.parametrize("value, rval", [(1, 8), (0, 0)])
def test_a_bo_with_mask_hands_the_mask_to_the_code(ioc, value, rval):
    assert sent(ioc, "bo:mask", value) == (rval, rval)


@pytest.mark.parametrize("state, rval", [(0, 10), (2, 30)])
def test_an_mbbo_with_state_values_hands_the_state_value(ioc, state, rval):
    assert sent(ioc, "mbbo:states", state) == (rval, rval)


def test_an_mbbodirect_with_shft_hands_the_shifted_value(ioc):
    assert sent(ioc, "mbboDirect:shft", 5) == (20, 20)


def both(name):
    """The names of a twin pair: the pydev record, base's record."""
    return f"$(P)pydev:{name}", f"$(P)base:{name}"


@pytest.mark.parametrize("name, raw", [
    ("ai:linear", 100), ("ai:linear", -37), ("ai:slope", 250), ("ai:aslo", 14),
    ("ai:typeKdegF", 0), ("ai:typeKdegF", 1000), ("ai:typeKdegF", 2500), ("ai:typeKdegF", 4000),
    ("ai:typeKdegF", 5000),  # past the table's last breakpoint: the record's alarm
    ("bi:mask", 6), ("bi:mask", 3),
    ("mbbi:states", 10), ("mbbi:states", 30), ("mbbi:states", 25),  # 25: no state has it
    ("mbbi:nobt", 0x3A5), ("mbbi:states:nobt", 0x15), ("mbbi:states:nobt", 0x7F),
    ("mbbiDirect:shft", 0xA5), ("mbbiDirect:nobt", 0x1A5),
])
def test_an_input_converts_a_raw_value_as_its_raw_soft_channel_twin(ioc, name, raw):
    ioc.caput("$(P)raw", raw)
    pydev, base = both(name)
    for record in (pydev, base):
        ioc.caput(record + ".PROC", 1, wait=True)
    rval = int(ioc.caget(base + ".RVAL"))
    assert rval & raw == rval  # bits of this raw number: the twins read it, not an older one
    assert ioc.caget(pydev + ".RVAL") == rval
    assert ioc.caget(pydev) == ioc.caget(base)  # VAL, by the same conversion of the record
    assert ioc.alarm(pydev)[:2] == ioc.alarm(base)[:2]


@pytest.mark.parametrize("name, value", [
    ("ao:linear", 60), ("ao:linear", 13.3), ("ao:linear", -7.6), ("ao:aslo", 20),
    ("ao:typeKdegF", 500), ("ao:typeKdegF", 1000.5),
    ("bo:mask", 1), ("bo:mask", 0),
    ("mbbo:states", 0), ("mbbo:states", 2),
    ("mbbo:states:nobt", 1), ("mbbo:states:nobt", 2), ("mbbo:shft", 11),
    ("mbboDirect:shft", 5),
    ("mbbo:wide", 0), ("mbbo:wide", 1), ("mbboDirect:nobt", 0xFF),
])
def test_an_output_hands_the_code_the_rval_its_raw_soft_channel_twin_writes(ioc, name, value):
    pydev, base = both(name)
    for record in (pydev, base):
        ioc.caput(record, value, wait=True)
    rval = ioc.caget(pydev + ".RVAL")  # computed by the record from VAL
    assert rval == ioc.caget(base + ".RVAL")
    # what base writes is RVAL & MASK (the state value's bits outside NOBT are not sent)
    assert ioc.pyeval(f"sent['{pydev}']") == ioc.caget(base + ":wrote")
    assert ioc.alarm(pydev)[:2] == ioc.alarm(base)[:2]
