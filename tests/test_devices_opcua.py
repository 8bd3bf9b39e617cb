# SPDX-License-Identifier: BSD-3-Clause
"""iocBoot/iocopcua, run from its own st.cmd against asyncua's own Server (its simserver.py) on
loopback: reads, writes, a data-change subscription, a server killed and back, one that hangs."""
from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import pytest

from device_helpers import Silent, free_port, put_pending
from harness import ROOT, TIME_SCALE, Ioc, poll, random_prefix

pytest.importorskip("asyncua", reason="asyncua is in requirements-test.txt (make venv)")
from asyncua import Client, ua  # noqa: E402

BOOT = ROOT / "iocBoot" / "iocopcua"
RECORDS = ["Level", "Counter", "SetpointRbv"]


class SimServer:
    """simserver.py in a subprocess on ``port``, and an asyncua client of the test's own."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"opc.tcp://127.0.0.1:{port}/"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "SimServer":
        self.proc = subprocess.Popen([sys.executable, str(BOOT / "simserver.py"), str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "listening", line + self.proc.stdout.read()
        return self

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    async def _session(self, nodeid: str, value=None, vtype=None):
        client = Client(self.url, timeout=2 * TIME_SCALE)
        async with client:
            node = client.get_node(nodeid)
            if vtype is not None:
                await node.write_value(value, vtype)
            return await node.read_value()

    def read(self, name: str):
        return asyncio.run(self._session(f"ns=2;s=Tank.{name}"))

    def write(self, name: str, value, vtype) -> None:
        asyncio.run(self._session(f"ns=2;s=Tank.{name}", value, vtype))


def opcua_ioc(url: str, timeout: float = 1.0, retry: float = 1.0) -> Ioc:
    prefix = random_prefix()
    return Ioc(st_cmd=BOOT / "st.cmd", cwd=BOOT, prefix=prefix,
               env={"PREFIX": prefix, "OPCUA_URL": url, "OPCUA_TIMEOUT": str(timeout),
                    "OPCUA_RETRY": str(retry)})


@pytest.fixture(scope="module")
def server():
    sim = SimServer(free_port()).start()
    yield sim
    sim.kill()


@pytest.fixture(scope="module")
def ioc(server):
    with opcua_ioc(server.url) as ioc:
        yield ioc


def test_a_read_shows_the_server_value(ioc, server):
    server.write("Level", 2.75, ua.VariantType.Double)
    assert poll(lambda: ioc.caget("$(P)Tank:Level") == 2.75, timeout=3)
    assert ioc.alarm("$(P)Tank:Level")[1] == "NO_ALARM"


def test_a_write_reaches_the_server_and_comes_back_through_the_subscription(ioc, server):
    ioc.caput("$(P)Tank:Setpoint", 42.5)
    assert server.read("Setpoint") == 42.5
    assert poll(lambda: ioc.caget("$(P)Tank:SetpointRbv") == 42.5, timeout=3)
    ioc.caput("$(P)Tank:Pump", 1)
    assert server.read("Pump") is True


def test_data_changes_reach_io_intr_records(ioc, server):
    ioc.caput("$(P)Tank:Pump", 1)     # the server counts while the pump runs
    updates: list = []
    pv = ioc.pv("$(P)Tank:Counter", callback=lambda value=None, **kw: updates.append(value))
    assert poll(lambda: len(set(updates)) >= 3, timeout=3)
    assert updates == sorted(updates)
    pv.clear_callbacks()
    ioc.caput("$(P)Tank:Pump", 0)


def test_a_killed_server_is_a_comm_alarm_within_a_second_and_records_recover_without_a_restart(ioc, server):
    for name in RECORDS:
        assert poll(lambda: ioc.alarm(f"$(P)Tank:{name}")[1] == "NO_ALARM", timeout=3), name
    server.kill()
    for name in RECORDS:
        assert poll(lambda: ioc.alarm(f"$(P)Tank:{name}")[:2] == ("COMM", "INVALID"), timeout=1), \
            (name, ioc.alarm(f"$(P)Tank:{name}"))
    ioc.caput("$(P)Tank:Setpoint", 1.0)
    assert ioc.alarm("$(P)Tank:Setpoint")[:2] == ("COMM", "INVALID")
    server.start()   # a new server, its variables at their start values
    for name in RECORDS:   # the read reconnects; the subscription is made again
        assert poll(lambda: ioc.alarm(f"$(P)Tank:{name}")[1] == "NO_ALARM", timeout=5), \
            (name, ioc.alarm(f"$(P)Tank:{name}"))
    ioc.caput("$(P)Tank:Setpoint", 7.25)
    assert server.read("Setpoint") == 7.25
    assert poll(lambda: ioc.caget("$(P)Tank:SetpointRbv") == 7.25, timeout=3)


HUNG_TIMEOUT = 4.0 * TIME_SCALE


@pytest.fixture(scope="module")
def silent():
    port = Silent()
    yield port
    port.close()


@pytest.fixture(scope="module")
def hung(silent):
    """An IOC whose server never answers; OPCUA_RETRY=0: every request waits out HUNG_TIMEOUT
    (see test_devices_modbus.hung)."""
    with opcua_ioc(f"opc.tcp://127.0.0.1:{silent.port}/", timeout=HUNG_TIMEOUT, retry=0) as ioc:
        yield ioc


def test_a_server_that_never_answers_leaves_the_other_records_their_workers(hung):
    pending = put_pending(hung, ["$(P)Tank:Setpoint", "$(P)Tank:Pump"])
    hung.caput("$(P)Uptime.PROC", 1)   # completes while the server's requests hang
    assert [pv.pvname for pv in pending if pv.put_complete] == []
    assert hung.alarm("$(P)Uptime")[1] == "NO_ALARM"


def test_sigterm_with_a_request_pending_exits_within_a_second(hung):
    # the last test of this IOC: its connects keep hanging, one of them always under way
    assert poll(lambda: hung.caget("$(P)Tank:Level.PACT") == 1, timeout=2 * HUNG_TIMEOUT + 2)
    started = time.monotonic()
    hung.proc.send_signal(signal.SIGTERM)
    hung.proc.wait(timeout=10 * TIME_SCALE)
    assert time.monotonic() - started < 1.0 * TIME_SCALE, hung.output[-2000:]


def test_a_server_that_never_answers_times_out_its_records(silent):
    # OPCUA_RETRY as by default: after the first TIMEOUT every record fails at once for a second
    with opcua_ioc(f"opc.tcp://127.0.0.1:{silent.port}/", timeout=HUNG_TIMEOUT) as hung:
        for name in ("Level", "Counter", "SetpointRbv"):
            assert poll(lambda: hung.alarm(f"$(P)Tank:{name}")[:2] == ("TIMEOUT", "INVALID"),
                        timeout=2 * HUNG_TIMEOUT + 2), (name, hung.alarm(f"$(P)Tank:{name}"))
        hung.caput("$(P)Tank:Setpoint", 1, timeout=3 * HUNG_TIMEOUT)
        assert hung.alarm("$(P)Tank:Setpoint")[:2] == ("TIMEOUT", "INVALID")
        assert hung.alarm("$(P)Uptime")[1] == "NO_ALARM"
