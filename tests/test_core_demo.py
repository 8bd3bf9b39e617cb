# SPDX-License-Identifier: BSD-3-Clause
"""The demo IOC of `make run` (iocBoot/iocpydev/st.cmd): the tutorial, end to end over CA."""
import re

import pytest

from harness import ROOT, Ioc, poll



@pytest.fixture(scope="module")
def ioc():
    with Ioc(st_cmd=ROOT / "iocBoot/iocpydev/st.cmd", cwd=ROOT / "iocBoot/iocpydev",
             prefix="PyDev:") as ioc:  # the prefix its st.cmd gives
        yield ioc


def test_the_demo_starts_without_a_warning(ioc):
    start = ioc.output
    assert "Warning" not in start and "warning" not in start, start


def test_hello_world_prints_on_the_console(ioc):
    ioc.caput("$(P)Test:HelloWorld", 1)
    assert poll(lambda: "Hello world!" in ioc.output)


def test_the_device_counts_what_it_sends_and_pushes_the_count(ioc):
    assert ioc.alarm("$(P)Device1:Connect")[1] == "NO_ALARM"   # PINI connected to the echo service
    updates = []
    monitor = ioc.pv("$(P)Device1:SentCb", callback=lambda value=None, **kw: updates.append(value))
    assert monitor.wait_for_connection(5)
    before = ioc.pyeval("device1.sent")
    ioc.caput("$(P)Device1:Send", "hello")
    assert ioc.pyeval("device1.sent") == before + 5
    assert poll(lambda: before + 5 in updates)                 # I/O Intr, no polling
    assert poll(lambda: ioc.caget("$(P)Device1:Sent") == before + 5, timeout=3)  # 1 second scan
    monitor.clear_callbacks()


def test_the_device_module_uses_the_builtin_pydev_as_the_tutorials_does(ioc):
    """python/mydevice.py never imports pydev: the push above reached SentCb through the
    built-in, and the module's namespace has no pydev of its own."""
    source = (ROOT / "python" / "mydevice.py").read_text()
    assert not re.search(r"^\s*(import pydev|from pydev import)\b", source, re.M)
    assert ioc.pyeval("'pydev' in vars(__import__('mydevice'))") is False


def test_a_connect_failure_is_an_alarm_and_a_retry_clears_it(ioc):
    ioc.py("device1.port = 1")   # nothing listens there
    ioc.caput("$(P)Device1:Connect", 1)
    stat, sevr, amsg = ioc.alarm("$(P)Device1:Connect")
    assert (stat, sevr) == ("COMM", "INVALID") and "Connection refused" in amsg
    ioc.py("device1.port = echo.port")
    ioc.caput("$(P)Device1:Connect", 1)
    assert ioc.alarm("$(P)Device1:Connect") == ("NO_ALARM", "NO_ALARM", "")  # no stale AMSG


@pytest.mark.parametrize("name", ["Ai", "Longin", "Bi", "Mbbi", "MbbiDirect", "Stringin", "Lsi",
                                  "Int64in", "Waveform", "Aai"])
def test_every_input_type_serves_a_value(ioc, name):
    assert poll(lambda: ioc.caget(f"$(P){name}.UDF") == 0, timeout=3)
    assert ioc.alarm(f"$(P){name}")[1] == "NO_ALARM"


@pytest.mark.parametrize("name, value, key, expected", [
    ("Ao", 1.25, "ao", 1.25), ("Longout", -3, "longout", -3), ("Bo", 1, "bo", 1),
    ("MbboDirect", 5, "bits", "0b101"), ("Int64out", 77, "int64", 77),
])
def test_every_output_type_reaches_its_setpoint(ioc, name, value, key, expected):
    ioc.caput(f"$(P){name}", value)
    assert ioc.pyeval(f"setpoints[{key!r}]") == expected
