"""Raw values, the EPICS way: a record that asks for its own conversion gets RVAL from the code.

ai/ao with LINR other than NO CONVERSION or with ASLO/AOFF/ROFF, bi/bo with MASK, mbbi/mbbo
with ZRVL..FFVL, MASK (NOBT) or SHFT, mbbiDirect/mbboDirect with SHFT: an input's result is
its RVAL and the record converts it to VAL; an output hands the record's RVAL to the code (the
RVAL macro) and a result is its raw readback, RBV.  Every expected VAL below is computed from
the record's own fields, read back over Channel Access - the conversion is the record's.
"""
import pytest

from harness import Ioc, poll

P = "RAW:"
DB = f"""
record(ai, "{P}ai:linear") {{ field(DTYP, "pydev") field(INP, "@src['ai:linear']")
    field(LINR, "LINEAR") field(ESLO, "0.5") field(EOFF, "10") field(PREC, "3") }}
record(ai, "{P}ai:aslo") {{ field(DTYP, "pydev") field(INP, "@src['ai:aslo']")
    field(ASLO, "0.25") field(AOFF, "-3") field(ROFF, "2") field(PREC, "3") }}
record(ai, "{P}ai:plain") {{ field(DTYP, "pydev") field(INP, "@src['ai:plain']") field(ESLO, "0.5") field(PREC, "3") }}
record(ai, "{P}ai:iointr") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('raw')") field(SCAN, "I/O Intr")
    field(LINR, "SLOPE") field(ESLO, "0.1") field(EOFF, "-5") field(PREC, "3") }}
record(bi, "{P}bi:mask") {{ field(DTYP, "pydev") field(INP, "@src['bi:mask']") field(MASK, "4") }}
record(mbbi, "{P}mbbi:states") {{ field(DTYP, "pydev") field(INP, "@src['mbbi:states']")
    field(ZRVL, "10") field(ONVL, "20") field(TWVL, "30") field(ZRST, "low") field(ONST, "mid") field(TWST, "high") }}
record(mbbi, "{P}mbbi:shft") {{ field(DTYP, "pydev") field(INP, "@src['mbbi:shft']") field(NOBT, "2") field(SHFT, "4") }}
record(mbbiDirect, "{P}mbbiDirect:shft") {{ field(DTYP, "pydev") field(INP, "@src['mbbiDirect:shft']") field(SHFT, "4") }}
record(mbbiDirect, "{P}mbbiDirect:nobt") {{ field(DTYP, "pydev") field(INP, "@src['mbbiDirect:nobt']") field(SHFT, "4") field(NOBT, "4") }}

record(ao, "{P}ao:linear") {{ field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)")
    field(LINR, "LINEAR") field(ESLO, "0.5") field(EOFF, "10") }}
record(ao, "{P}ao:readback") {{ field(DTYP, "pydev") field(OUT, "@RVAL + 1") field(ASLO, "2") }}
record(bo, "{P}bo:mask") {{ field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)") field(MASK, "8") }}
record(mbbo, "{P}mbbo:states") {{ field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)")
    field(ZRVL, "10") field(ONVL, "20") field(TWVL, "30") field(ZRST, "low") field(ONST, "mid") field(TWST, "high") }}
record(mbboDirect, "{P}mbboDirect:shft") {{ field(DTYP, "pydev") field(OUT, "@sent.__setitem__(NAME, RVAL)") field(SHFT, "2") }}
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, pre_init=['pydev("src = {}; sent = {}")']) as ioc:
        yield ioc


def read(ioc, record, raw):
    """The code returns raw; process the record; (VAL, RVAL) over CA."""
    ioc.cmd(f'pydev("src[{record!r}] = {raw}")')
    ioc.caput(P + record + ".PROC", 1, wait=True)
    return ioc.caget(P + record), int(ioc.caget(P + record + ".RVAL"))  # CA: ULONG as double


def fields(ioc, record, *names):
    """Numbers as the record holds them (CA sends ULONG fields such as MASK as doubles)."""
    values = [ioc.caget(f"{P}{record}.{name}") for name in names]
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
    assert ioc.alarm(P + record)[1] == "NO_ALARM"


def test_linear_ai_converts_100_to_60(ioc):
    assert read(ioc, "ai:linear", 100)[0] == pytest.approx(60.0)  # 100 * 0.5 + 10


def test_an_ai_without_conversion_stores_val_as_before(ioc):
    # ESLO alone does nothing under LINR "NO CONVERSION", in EPICS as here
    val, rval = read(ioc, "ai:plain", 3.25)
    assert val == pytest.approx(3.25) and rval == 0


def test_a_raw_ai_on_iointr_converts_each_pushed_value(ioc):
    ioc.cmd('pydev("pydev.iointr(\'raw\', 250)")')
    assert poll(lambda: ioc.caget(P + "ai:iointr.RVAL") == 250)
    assert ioc.caget(P + "ai:iointr") == pytest.approx(analog(ioc, "ai:iointr", 250))


def test_a_raw_result_must_fit_rval(ioc):
    before = ioc.caget(P + "ai:linear.RVAL")
    ioc.cmd('pydev("src[\'ai:linear\'] = 2**40")')
    ioc.caput(P + "ai:linear.PROC", 1, wait=True)
    stat, sevr, amsg = ioc.alarm(P + "ai:linear")
    assert (stat, sevr) == ("READ", "INVALID") and "out of range" in amsg
    assert ioc.caget(P + "ai:linear.RVAL") == before


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
    assert ioc.caget(P + "mbbi:states", as_string=True) == ["low", "mid", "high"][state]


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
    assert ioc.caget(P + record + ".B1") == 1 and ioc.caget(P + record + ".B0") == 0


def sent(ioc, record, value):
    ioc.caput(P + record, value, wait=True)
    return ioc.pyeval(f"sent[{P + record!r}]"), ioc.caget(P + record + ".RVAL")


def test_an_ao_with_conversion_hands_the_records_rval_to_the_code(ioc):
    got, rval = sent(ioc, "ao:linear", 60)
    roff, aslo, aoff, eslo, eoff = fields(ioc, "ao:linear", "ROFF", "ASLO", "AOFF", "ESLO", "EOFF")
    assert got == rval == round(((60 - eoff) / eslo - aoff) / (aslo or 1) - roff) == 100


def test_a_raw_output_result_is_its_readback_rbv(ioc):
    ioc.caput(P + "ao:readback", 20, wait=True)
    assert ioc.caget(P + "ao:readback.RVAL") == 10  # 20 / ASLO 2, by the record
    assert ioc.caget(P + "ao:readback.RBV") == 11  # the code's result: RVAL + 1
    assert ioc.caget(P + "ao:readback") == pytest.approx(20)  # the setpoint stays


@pytest.mark.parametrize("value, rval", [(1, 8), (0, 0)])
def test_a_bo_with_mask_hands_the_mask_to_the_code(ioc, value, rval):
    assert sent(ioc, "bo:mask", value) == (rval, rval)


@pytest.mark.parametrize("state, rval", [(0, 10), (2, 30)])
def test_an_mbbo_with_state_values_hands_the_state_value(ioc, state, rval):
    assert sent(ioc, "mbbo:states", state) == (rval, rval)


def test_an_mbbodirect_with_shft_hands_the_shifted_value(ioc):
    assert sent(ioc, "mbboDirect:shft", 5) == (20, 20)
