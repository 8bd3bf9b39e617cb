# SPDX-License-Identifier: BSD-3-Clause
"""The shared database writer (pydevice.dbwriter): what it escapes, a real IOC reads back
exactly."""
import pytest

from pydevice.dbwriter import comment, quote, record

harness = pytest.importorskip("harness")

TRICKY = ['say "hi"', "back\\slash \\n not a newline", "tab\there", "two\nlines", "bell\a"]


def test_escaped_values_read_back_exactly_from_a_real_ioc():
    if not harness.IOC_BIN.exists():
        pytest.skip(f"{harness.IOC_BIN} not built (run make)")
    db = "".join(record("stringin", f"DW:S{i}", [("VAL", text), ("DESC", text[:40])])
                 for i, text in enumerate(TRICKY))
    with harness.Ioc(comment("written by\npydevice.dbwriter") + db) as ioc:
        for i, text in enumerate(TRICKY):
            assert ioc.caget(f"DW:S{i}", as_string=True) == text
            assert ioc.caget(f"DW:S{i}.DESC", as_string=True) == text[:40]


def test_quote_escapes_what_the_database_lexer_needs():
    assert quote('a"b\\c') == 'a\\"b\\\\c'
    assert quote("x\ny\tz\x01") == "x\\ny\\tz\\001"
    assert quote("$(P)pump") == "$(P)pump"  # macros stay macros
    assert quote(0.5) == "0.5"


def test_names_that_epics_cannot_load_are_refused():
    for bad in ('a"b', "a b", "a\\b", "", "a\nb"):
        with pytest.raises(ValueError, match="bad record name"):
            record("ai", bad, [])
    with pytest.raises(ValueError, match="bad field name"):
        record("ai", "P:x", [("val", 1)])
    with pytest.raises(ValueError, match="bad record type"):
        record("a i", "P:x", [])


def test_info_tags_are_written_escaped_and_a_real_ioc_uses_them():
    if not harness.IOC_BIN.exists():
        pytest.skip(f"{harness.IOC_BIN} not built (run make)")
    code = r'len("say \"hi\" \\")'  # quotes and backslashes inside the tag's value
    text = record("longout", "DW:Init", [("DTYP", "pydev"), ("OUT", "@None")],
                  info=[("pydev:init", code)])
    assert text.endswith(f'    info(pydev:init, "{quote(code)}")\n}}\n')
    with harness.Ioc(text) as ioc:
        assert ioc.caget("DW:Init") == eval(code)  # the IOC ran exactly this code at init
    with pytest.raises(ValueError, match="bad info tag"):
        record("longout", "DW:X", [], info=[("bad tag", "1")])
