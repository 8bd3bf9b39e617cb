"""The demo IOC of `make run` (iocBoot/iocpydev/st.cmd): the tutorial, end to end over CA."""
import time

import epics
import pytest

from harness import ROOT, Ioc, poll

P = "PyDev:"


@pytest.fixture(scope="module")
def ioc():
    with Ioc(st_cmd=ROOT / "iocBoot/iocpydev/st.cmd", cwd=ROOT / "iocBoot/iocpydev") as ioc:
        yield ioc


def test_hello_world(ioc):
    ioc.caput(P + "Test:HelloWorld", 1)
    assert poll(lambda: "Hello world!" in ioc.output)


def test_device_send_counts_and_pushes(ioc):
    assert ioc.alarm(P + "Device1:Connect")[1] == "NO_ALARM"   # PINI connected to the echo service
    updates = []
    monitor = epics.PV(P + "Device1:SentCb", callback=lambda value=None, **kw: updates.append(value))
    assert monitor.wait_for_connection(5)
    before = ioc.pyeval("device1.sent")
    ioc.caput(P + "Device1:Send", "hello", wait=True)
    assert ioc.pyeval("device1.sent") == before + 5
    assert poll(lambda: before + 5 in updates)                 # I/O Intr, no polling
    assert poll(lambda: ioc.caget(P + "Device1:Sent") == before + 5, timeout=3)  # 1 second scan
    monitor.clear_callbacks()


def test_connect_failure_is_an_alarm(ioc):
    ioc.cmd('pydev("device1.port = 1")')   # nothing listens there
    ioc.caput(P + "Device1:Connect", 1)
    stat, sevr, amsg = ioc.alarm(P + "Device1:Connect")
    assert (stat, sevr) == ("WRITE", "INVALID") and "Connection refused" in amsg
    ioc.cmd('pydev("device1.port = echo.port")')
    ioc.caput(P + "Device1:Connect", 1)
    assert ioc.alarm(P + "Device1:Connect")[1] == "NO_ALARM"


@pytest.mark.parametrize("name", ["Ai", "Longin", "Bi", "Mbbi", "MbbiDirect", "Stringin", "Lsi",
                                  "Int64in", "Waveform", "Aai"])
def test_every_input_type_serves_a_value(ioc, name):
    assert poll(lambda: ioc.caget(P + name + ".UDF") == 0, timeout=3)
    assert ioc.alarm(P + name)[1] == "NO_ALARM"


@pytest.mark.parametrize("name, value, key, expected", [
    ("Ao", 1.25, "ao", 1.25), ("Longout", -3, "longout", -3), ("Bo", 1, "bo", 1),
    ("MbboDirect", 5, "bits", "0b101"), ("Int64out", 77, "int64", 77),
])
def test_outputs(ioc, name, value, key, expected):
    ioc.caput(P + name, value, wait=True)
    assert ioc.pyeval(f"setpoints[{key!r}]") == expected
