# SPDX-License-Identifier: BSD-3-Clause
"""Every record type through Channel Access: values in, values out, conversions, NORD/LEN."""
import numpy as np
import pytest

from harness import Ioc, poll

DB = """
record(longin, "$(P)longin") { field(DTYP, "pydev") field(INP, "@src['longin']") }
record(ai, "$(P)ai") { field(DTYP, "pydev") field(INP, "@src['ai']") field(PREC, "3") }
record(bi, "$(P)bi") { field(DTYP, "pydev") field(INP, "@src['bi']") field(ZNAM, "Off") field(ONAM, "On") }
record(mbbi, "$(P)mbbi") { field(DTYP, "pydev") field(INP, "@src['mbbi']") field(ZRST, "a") field(ONST, "b") field(TWST, "c") field(THST, "d") }
record(mbbiDirect, "$(P)mbbiDirect") { field(DTYP, "pydev") field(INP, "@src['mbbiDirect']") }
record(stringin, "$(P)stringin") { field(DTYP, "pydev") field(INP, "@src['stringin']") }
record(lsi, "$(P)lsi") { field(DTYP, "pydev") field(INP, "@src['lsi']") field(SIZV, "100") }
record(int64in, "$(P)int64in") { field(DTYP, "pydev") field(INP, "@src['int64in']") }
record(waveform, "$(P)waveform") { field(DTYP, "pydev") field(INP, "@src['waveform']") field(NELM, "8") field(FTVL, "DOUBLE") }
record(waveform, "$(P)wfshort") { field(DTYP, "pydev") field(INP, "@src['wfshort']") field(NELM, "8") field(FTVL, "SHORT") }
record(waveform, "$(P)wfstring") { field(DTYP, "pydev") field(INP, "@src['wfstring']") field(NELM, "4") field(FTVL, "STRING") }
record(waveform, "$(P)wfchar") { field(DTYP, "pydev") field(INP, "@src['wfchar']") field(NELM, "64") field(FTVL, "CHAR") }
record(aai, "$(P)aai") { field(DTYP, "pydev") field(INP, "@src['aai']") field(NELM, "6") field(FTVL, "LONG") }

record(longout, "$(P)longout") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") }
record(ao, "$(P)ao") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") }
record(bo, "$(P)bo") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") }
record(mbbo, "$(P)mbbo") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") field(ZRST, "a") field(ONST, "b") field(TWST, "c") }
record(mbboDirect, "$(P)mbboDirect") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") }
record(stringout, "$(P)stringout") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") }
record(lso, "$(P)lso") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") field(SIZV, "200") }
record(int64out, "$(P)int64out") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL)") }
record(aao, "$(P)aao") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__(NAME, VAL.tolist())") field(NELM, "5") field(FTVL, "DOUBLE") }
record(ao, "$(P)aoback") { field(DTYP, "pydev") field(OUT, "@VAL * 2") }
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py="import numpy\nsrc = {}\nsink = {}") as ioc:
        yield ioc


def read(ioc, record, value, **kw):
    """Set the source value in Python, process the record, read it back over CA."""
    ioc.py(f"src[{record!r}] = {value}")
    ioc.caput(f"$(P){record}.PROC", 1)
    return ioc.caget(f"$(P){record}", **kw)


@pytest.mark.parametrize("record, code, expected", [
    ("longin", "-123", -123),
    ("longin", "7.9", 7),            # floats truncate, as EPICS converts
    ("longin", "True", 1),
    ("ai", "3.25", 3.25),
    ("ai", "numpy.float32(1.5)", 1.5),
    ("ai", "2", 2.0),
    ("bi", "True", 1),
    ("bi", "0", 0),
    ("bi", "5", 1),                  # any true number is state 1
    ("mbbi", "3", 3),
    ("mbbiDirect", "0b1010", 10),
    ("mbbiDirect", "0xFFFFFFFF", -1),  # raw 32 bits (CA shows DBF_LONG)
    ("int64in", "2**62 + 1", 2**62 + 1),
    ("int64in", "numpy.int64(-5)", -5),
])
def test_a_python_value_becomes_the_scalar_input_as_epics_converts(ioc, record, code, expected):
    if record == "int64in":
        # CA has no 64-bit type: check the exact value inside the IOC
        read(ioc, record, code)
        assert int(ioc.cmd(f"dbgf $(P){record}").split(":")[1].split("=")[0]) == expected
        return
    assert read(ioc, record, code) == expected
    assert ioc.alarm(f"$(P){record}")[1] == "NO_ALARM"


def test_enum_inputs_show_their_state_strings(ioc):
    assert read(ioc, "mbbi", "2", as_string=True) == "c"
    assert read(ioc, "bi", "1", as_string=True) == "On"


def test_string_inputs_take_str_of_any_value_in_utf8(ioc):
    assert read(ioc, "stringin", "'x' * 39") == "x" * 39
    assert read(ioc, "stringin", "42") == "42"                       # str() of non-strings
    assert read(ioc, "stringin", "'\u00e9t\u00e9'") == "\u00e9t\u00e9"   # UTF-8
    long_text = "y" * 99
    read(ioc, "lsi", repr(long_text))
    assert ioc.caget("$(P)lsi.VAL$", as_string=True) == long_text
    assert ioc.caget("$(P)lsi.LEN") == 100


def test_array_inputs_take_any_sequence_and_set_nord(ioc):
    value = read(ioc, "waveform", "numpy.linspace(0, 1, 5)")
    assert np.allclose(value, np.linspace(0, 1, 5))
    assert ioc.caget("$(P)waveform.NORD") == 5
    assert list(read(ioc, "waveform", "[1, 2.5, 3]")) == [1, 2.5, 3]
    assert list(read(ioc, "wfshort", "numpy.array([-3, 0, 300], dtype='int64')")) == [-3, 0, 300]
    assert list(read(ioc, "wfshort", "numpy.array([1.9, -2.9])")) == [1, -2]
    assert list(read(ioc, "aai", "range(6)")) == list(range(6))
    assert list(read(ioc, "aai", "bytearray(b'ab')")) == [97, 98]
    assert read(ioc, "wfchar", "'hello'", as_string=True) == "hello"
    strings = read(ioc, "wfstring", "['a', 'bc', 'def']")
    assert list(strings)[:3] == ["a", "bc", "def"]


@pytest.mark.parametrize("record, value, expected", [
    ("longout", 12345, 12345),
    ("ao", 2.5, 2.5),
    ("bo", 1, 1),
    ("mbbo", 2, 2),
    ("mbboDirect", 0x81, 0x81),
    ("stringout", "It's \"quoted\"", "It's \"quoted\""),
    ("int64out", 123456789, 123456789),
])
def test_an_output_passes_val_to_python_as_written(ioc, record, value, expected):
    ioc.caput(f"$(P){record}", value)
    assert ioc.pyeval(f"sink['$(P){record}']") == expected


def test_int64out_passes_an_exact_python_int(ioc):
    ioc.cmd("dbpf $(P)int64out 9007199254740993")   # 2**53 + 1: not a double
    assert ioc.pyeval("sink['$(P)int64out']") == 2**53 + 1
    assert ioc.pyeval("type(sink['$(P)int64out']).__name__") == "int"


def test_long_string_and_array_outputs_pass_their_whole_value(ioc):
    text = "z" * 150
    ioc.caput("$(P)lso.VAL$", text)
    assert ioc.pyeval("sink['$(P)lso']") == text
    ioc.caput("$(P)aao", [1.5, 2.5, 3.5])
    assert ioc.pyeval("sink['$(P)aao']") == [1.5, 2.5, 3.5]


def test_an_outputs_result_becomes_its_val(ioc):
    ioc.caput("$(P)aoback", 4)
    assert poll(lambda: ioc.caget("$(P)aoback") == 8)


def test_direct_types_keep_their_bit_fields(ioc):
    read(ioc, "mbbiDirect", "0b1010")
    assert [ioc.caget(f"$(P)mbbiDirect.B{i}") for i in range(4)] == [0, 1, 0, 1]
    ioc.caput("$(P)mbboDirect.B2", 1)
    assert ioc.pyeval("sink['$(P)mbboDirect']") & 0b100
