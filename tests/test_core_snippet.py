"""pydevice.snippet and the pydev stand-in, without an IOC."""
import pytest

from pydevice.snippet import compile_link

FIELDS = {"VAL", "NAME", "EGU", "HIGH", "DESC"}


def run(text, *values, namespace=None):
    link = compile_link(text, "R:x", FIELDS, {} if namespace is None else namespace)
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
    import pydev
    from mydevice import EchoServer, MyDevice
    pydev.clear()
    server = EchoServer()
    device = MyDevice("127.0.0.1", server.port)
    device.connect()
    device.send("test")
    assert device.sent == 4 and pydev.last_value("bytes_sent") == 4
    device.disconnect()
    server.shutdown()
