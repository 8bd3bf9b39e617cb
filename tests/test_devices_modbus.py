# SPDX-License-Identifier: BSD-3-Clause
"""iocBoot/iocmodbus, run from its own st.cmd against pymodbus' own server (its simplc.py) on
loopback: values, writes, polled pushes, a PLC killed and back, a PLC that never answers."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from device_helpers import Silent, free_port, put_pending
from harness import ROOT, TIME_SCALE, Ioc, poll, random_prefix

pytest.importorskip("pymodbus", reason="pymodbus is in requirements-test.txt (make venv)")
from pymodbus.client import ModbusTcpClient  # noqa: E402

BOOT = ROOT / "iocBoot" / "iocmodbus"
KINDS = ["Sync", "Async"]            # plc.Plc (sync client) and plc.AsyncPlc (asyncio client)
DEVICE_RECORDS = ["Temp", "Running", "Block", "Counter"]


class SimPlc:
    """simplc.py in a subprocess on ``port``; ``kill()`` it and ``start()`` it again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen | None = None

    def start(self) -> "SimPlc":
        self.proc = subprocess.Popen([sys.executable, str(BOOT / "simplc.py"), str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()   # "listening" once the port is open
        assert line.strip() == "listening", line + self.proc.stdout.read()
        self.client = ModbusTcpClient("127.0.0.1", port=self.port, timeout=2 * TIME_SCALE)
        assert self.client.connect()
        return self

    def kill(self) -> None:
        self.client.close()
        self.proc.kill()
        self.proc.wait()

    def registers(self, address: int, count: int = 1) -> list[int]:
        return self.client.read_holding_registers(address, count=count).registers

    def coil(self, address: int) -> bool:
        return self.client.read_coils(address, count=1).bits[0]


def modbus_ioc(port: int, timeout: float = 0.5, retry: float = 1.0) -> Ioc:
    prefix = random_prefix()
    return Ioc(st_cmd=BOOT / "st.cmd", cwd=BOOT, prefix=prefix,
               env={"PREFIX": prefix, "PLC_PORT": str(port), "PLC_TIMEOUT": str(timeout),
                    "PLC_RETRY": str(retry)})


@pytest.fixture(scope="module")
def plc():
    sim = SimPlc(free_port()).start()
    yield sim
    sim.kill()


@pytest.fixture(scope="module")
def ioc(plc):
    with modbus_ioc(plc.port) as ioc:
        yield ioc


@pytest.mark.parametrize("kind", KINDS)
def test_inputs_show_the_plc_registers_and_coils(ioc, plc, kind):
    plc.client.write_register(0, 215)
    plc.client.write_coil(0, True)
    plc.client.write_registers(10, [3, 1, 4, 1, 5, 9, 2, 6])
    assert poll(lambda: ioc.caget(f"$(P){kind}:Temp") == 21.5, timeout=3)
    assert poll(lambda: ioc.caget(f"$(P){kind}:Running") == 1, timeout=3)
    assert poll(lambda: list(ioc.caget(f"$(P){kind}:Block")) == [3, 1, 4, 1, 5, 9, 2, 6], timeout=3)
    assert ioc.alarm(f"$(P){kind}:Temp")[1] == "NO_ALARM"
    plc.client.write_coil(0, False)
    assert poll(lambda: ioc.caget(f"$(P){kind}:Running") == 0, timeout=3)


@pytest.mark.parametrize("kind, setpoint", [("Sync", 12.5), ("Async", 33.3)])
def test_outputs_are_written_to_the_plc(ioc, plc, kind, setpoint):
    ioc.caput(f"$(P){kind}:Setpoint", setpoint)
    assert plc.registers(1) == [round(setpoint * 10)]
    ioc.caput(f"$(P){kind}:Run", 1)
    assert plc.coil(1) is True
    ioc.caput(f"$(P){kind}:Run", 0)
    assert plc.coil(1) is False
    assert ioc.alarm(f"$(P){kind}:Setpoint")[1] == "NO_ALARM"


@pytest.mark.parametrize("kind", KINDS)
def test_the_poller_pushes_a_register_to_io_intr_records(ioc, plc, kind):
    for value in (7, 8):
        plc.client.write_register(2, value)
        updates: list = []
        pv = ioc.pv(f"$(P){kind}:Counter", callback=lambda value=None, **kw: updates.append(value))
        assert poll(lambda: value in updates, timeout=3)
        pv.clear_callbacks()


def test_a_killed_plc_is_a_comm_alarm_within_a_second_and_records_recover_without_a_restart(ioc, plc):
    for kind in KINDS:   # every record good before
        for name in DEVICE_RECORDS:
            assert poll(lambda: ioc.alarm(f"$(P){kind}:{name}")[1] == "NO_ALARM", timeout=3)
    plc.kill()
    for kind in KINDS:
        for name in DEVICE_RECORDS:
            assert poll(lambda: ioc.alarm(f"$(P){kind}:{name}")[:2] == ("COMM", "INVALID"), timeout=1), \
                (kind, name, ioc.alarm(f"$(P){kind}:{name}"))
        ioc.caput(f"$(P){kind}:Setpoint", 1.0)   # a write to a PLC that is gone: an alarm too
        assert ioc.alarm(f"$(P){kind}:Setpoint")[:2] == ("COMM", "INVALID")
    assert ioc.alarm("$(P)Uptime")[1] == "NO_ALARM"
    plc.start()
    plc.client.write_register(0, 99)
    for kind in KINDS:
        assert poll(lambda: ioc.caget(f"$(P){kind}:Temp") == 9.9, timeout=4)
        for name in DEVICE_RECORDS:
            assert poll(lambda: ioc.alarm(f"$(P){kind}:{name}")[1] == "NO_ALARM", timeout=4)
        ioc.caput(f"$(P){kind}:Setpoint", 4.5)
        assert plc.registers(1) == [45]


# ---- a PLC that accepts the connection and never answers ----------------------------------

HUNG_TIMEOUT = 4.0 * TIME_SCALE   # the device's own request timeout (PLC_TIMEOUT)


@pytest.fixture(scope="module")
def silent():
    port = Silent()
    yield port
    port.close()


@pytest.fixture(scope="module")
def hung(silent):
    """An IOC whose PLC never answers.  PLC_RETRY=0: every request waits out HUNG_TIMEOUT (by
    default the device fails at once for a second after a failure, and a put made then
    completes at once, alarmed, however loaded the machine)."""
    with modbus_ioc(silent.port, timeout=HUNG_TIMEOUT, retry=0) as ioc:
        yield ioc


def test_a_plc_that_never_answers_leaves_the_other_records_their_workers(hung):
    pending = put_pending(hung, [f"$(P){kind}:{name}" for kind in KINDS for name in ("Setpoint", "Run")])
    hung.caput("$(P)Uptime.PROC", 1)   # waits for its processing, while the PLC's requests hang
    assert [pv.pvname for pv in pending if pv.put_complete] == []
    assert hung.alarm("$(P)Uptime")[1] == "NO_ALARM"


def test_sigterm_with_a_request_pending_exits_within_a_second(hung):
    # the last test of this IOC: the PLC's requests keep hanging, one of them always under way
    assert poll(lambda: hung.caget("$(P)Sync:Temp.PACT") == 1 and hung.caget("$(P)Async:Temp.PACT") == 1,
                timeout=2 * HUNG_TIMEOUT + 2)
    started = time.monotonic()
    hung.proc.send_signal(signal.SIGTERM)
    hung.proc.wait(timeout=10 * TIME_SCALE)
    assert time.monotonic() - started < 1.0 * TIME_SCALE, hung.output[-2000:]


def test_a_plc_that_never_answers_times_out_its_records(silent):
    # PLC_RETRY as by default: after the first TIMEOUT every record fails at once for a second
    with modbus_ioc(silent.port, timeout=HUNG_TIMEOUT) as hung:
        for kind in KINDS:
            for name in ("Temp", "Running", "Counter"):
                assert poll(lambda: hung.alarm(f"$(P){kind}:{name}")[:2] == ("TIMEOUT", "INVALID"),
                            timeout=2 * HUNG_TIMEOUT + 2), (kind, name, hung.alarm(f"$(P){kind}:{name}"))
            hung.caput(f"$(P){kind}:Setpoint", 1, timeout=3 * HUNG_TIMEOUT)
            assert hung.alarm(f"$(P){kind}:Setpoint")[:2] == ("TIMEOUT", "INVALID")
        assert hung.alarm("$(P)Uptime")[1] == "NO_ALARM"
