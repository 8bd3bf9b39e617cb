# SPDX-License-Identifier: BSD-3-Clause
"""pydevice.snippet and the pydev stand-in, without an IOC."""
import subprocess
import sys

import pytest

from pydevice.snippet import compile_link

FIELDS = {"VAL", "NAME", "EGU", "HIGH", "DESC"}


def run(text, *values, namespace=None, rtype="longout"):
    link = compile_link(text, "R:x", FIELDS, {} if namespace is None else namespace, rtype)
    return link, link.function(*values)


def test_macros_become_parameters():
    link = compile_link("VAL * 2 if EGU == 'mm' else 0", "R:x", FIELDS, {})
    assert sorted(link.macros) == ["EGU", "VAL"]
    values = {"VAL": 21, "EGU": "mm"}
    assert link.function(*(values[m] for m in link.macros)) == 42


def test_non_fields_and_attributes_are_left_alone():
    ns = {"OTHER": 5, "obj": type("O", (), {"VAL": 7})()}
    link, result = run("OTHER + obj.VAL", namespace=ns)
    assert link.macros == () and result == 12


def test_string_macros_are_data():
    hostile = "'); import os; ('"
    _, result = run("'VAL and %NAME% and HIGHER'", hostile, "R:x")
    assert result == hostile + " and R:x and HIGHER"


def test_fstrings_and_nested_scopes():
    ns = {"k": 10}
    _, result = run("[f'{VAL}-{i}' for i in range(2)] + [(lambda: k + VAL)()]", 1, namespace=ns)
    assert result == ["1-0", "1-1", 11]


def test_top_level_bindings_are_globals():
    ns = {}
    run("import math; y = VAL; z = [w := 3]", 4, namespace=ns)
    assert ns["y"] == 4 and ns["math"].pi > 3 and ns["w"] == 3


def test_statements_return_none():
    _, result = run("x = 1")
    assert result is None


def test_iointr_detection():
    for text in ("pydev.iointr('a')", 'pydev.iointr("a")'):
        assert compile_link(text, "R", FIELDS, {}).iointr == "a"
    assert compile_link("pydev.iointr('a', 1)", "R", FIELDS, {}).iointr is None


def test_iointr_name_expression_is_evaluated_once_at_init():
    calls = []
    ns = {"watch": lambda io: calls.append(io) or f"dev:{io}"}
    assert compile_link("pydev.iointr(watch('X1'))", "R", FIELDS, ns).iointr == "dev:X1"
    assert calls == ["X1"]
    with pytest.raises(KeyError):
        compile_link("pydev.iointr(names['missing'])", "R", FIELDS, {"names": {}})
    with pytest.raises(TypeError, match="must be a str"):
        compile_link("pydev.iointr(42)", "R", FIELDS, {})


def test_syntax_errors_name_the_record():
    with pytest.raises(SyntaxError) as err:
        compile_link("1 +", "Rec:Name", FIELDS, {})
    assert err.value.filename == "Rec:Name"
    with pytest.raises(SyntaxError):
        compile_link("yield 1", "Rec:Name", FIELDS, {})


def test_tracebacks_name_the_record():
    link = compile_link("1/0", "Rec:Name", FIELDS, {})
    with pytest.raises(ZeroDivisionError) as err:
        link.function()
    tb = err.value.__traceback__
    while tb.tb_next:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_filename == "Rec:Name"


def test_standin_records_pushes():
    import pydev
    pydev.clear()
    assert pydev.in_ioc is False
    pydev.iointr("n")             # registration: nothing recorded
    pydev.iointr("n", 5, timestamp=1.5)
    assert pydev.calls == [pydev.IointrCall("n", 5, 1.5)]
    assert pydev.last_value("n") == 5 and pydev.last_value("other", 0) == 0
    err = pydev.Alarm("down", "COMM", "MAJOR")
    assert isinstance(err, Exception) and (err.stat, err.sevr, err.message) == ("COMM", "MAJOR", "down")


def test_tutorial_device_runs_outside_an_ioc():
    """mydevice.py calls pydev.iointr without importing pydev, as the tutorial's does: the
    stand-in, installed as the built-in, takes the pushes."""
    import pydev
    from pydevice import standin
    standin.install()
    from mydevice import EchoServer, MyDevice
    pydev.clear()
    server = EchoServer()
    device = MyDevice("127.0.0.1", server.port)
    device.connect()
    device.send("test")
    assert device.sent == 4 and pydev.last_value("bytes_sent") == 4
    device.disconnect()
    server.shutdown()


def test_tutorial_device_runs_as_a_script_with_the_tutorials_dummy_pydev(tmp_path):
    from harness import ROOT
    run = subprocess.run([sys.executable, str(ROOT / "python" / "mydevice.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "pydev.iointr('bytes_sent', 4)\nsent 4 bytes\n"


def test_install_keeps_a_real_builtin_pydev():
    import builtins
    from pydevice import standin
    standin.install()
    assert builtins.pydev is standin
    real = builtins.pydev = object()
    try:
        standin.install()
        assert builtins.pydev is real
    finally:
        builtins.pydev = standin


def test_percent_field_outside_literals_is_the_value_where_percent_is_no_operator():
    _, result = run("[v.upper() for v in %VAL%] + [%NAME%]", ["a", "b"], "n", rtype="waveform")
    assert result == ["A", "B", "n"]
    link, result = run("VAL %HIGH% 7", 45, 10)        # between operands: Python's %
    assert link.macros == ("VAL", "HIGH") and result == 45 % 10 % 7
    link = compile_link("%VAL%.upper()", "R", FIELDS, {}, "stringout")
    assert link.function("x") == "X" and link.usage.code == ("VAL",)


def test_percent_field_joined_to_a_word_is_listed():
    link = compile_link("dev%VAL%x", "R", FIELDS, {"dev": 7, "x": 4}, "longout")
    assert link.usage.glued == ("%VAL%",) and link.function(5) == 7 % 5 % 4


def test_control_characters_in_one_line_literals_are_escapes():
    # as EPICS' db parser hands them over: \n, \t, \x01 already turned into the characters
    _, result = run("('a\nb', r'c\nd', b'\x01', '''e\nf''', f'{VAL}\t')", 1)
    assert result == ("a\nb", "c\\nd", b"\x01", "e\nf", "1\t")
    with pytest.raises(SyntaxError) as err:     # columns count the escapes as written
        compile_link("'a\nb' +* 1", "R", FIELDS, {}, "longout")
    assert err.value.offset == 9


def test_only_the_tutorials_words_for_the_type_expand_in_literals():
    fields = {"VAL", "NAME", "EGU", "STAT", "DISP", "SCAN", "INP", "HIGH", "PREC"}
    text = "':OUTP:STAT ON;:DISP:TEXT;:SCAN?;:INP:COUP DC;%SCAN%;VAL;EGU;HIGH;%HIGH%'"
    link = compile_link(text, "R", fields, {}, "ai")
    values = {"SCAN": "Passive", "VAL": 1.5, "EGU": "V", "HIGH": 9.0}
    assert link.function(*(values[m] for m in link.macros)) == (
        ":OUTP:STAT ON;:DISP:TEXT;:SCAN?;:INP:COUP DC;Passive;1.5;V;HIGH;9.0")
    assert link.usage.strings == ("%SCAN%", "VAL", "EGU", "%HIGH%")
    assert link.usage.kept == ("STAT", "DISP", "SCAN", "INP", "HIGH")
    assert link.words == ("in strings: %SCAN%, VAL, EGU, %HIGH%; words in strings, not macros: "
                          "STAT, DISP, SCAN, INP, HIGH (%STAT% for the field)")
    assert compile_link("'VAL'", "R", fields, {}, None).function() == "VAL"  # type unknown
    assert compile_link("STAT", "R", fields, {}, "ai").macros == ("STAT",)    # code: any field
