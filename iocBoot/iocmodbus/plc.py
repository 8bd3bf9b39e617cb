# SPDX-License-Identifier: BSD-3-Clause
"""A Modbus TCP PLC behind EPICS records, with pymodbus: copy this file and adapt it.

Two classes with the same methods, one on pymodbus' sync client (modbus.db calls them) and
one on its asyncio client, whose methods are coroutines (modbus-async.db awaits them):

    plc = Plc("plc1.example", 502)            # nothing is sent yet: it connects on first use
    plc.read_register(0)                      # holding register 0 -> int
    plc.write_register(1, 1234)               # holding register 1 <- 1234
    plc.read_registers(10, 8)                 # holding registers 10..17 -> list of int
    plc.read_coil(0), plc.write_coil(0, True) # coils

What every call does, so that a record says what is wrong with the device:

- It connects on first use, and again after any failure (a PLC rebooted, a cable pulled): the
  IOC never needs a restart, and a PLC that is off at start-up is just an alarm.
- A failure raises ``pydev.Alarm``: COMM/INVALID when the PLC cannot be reached or closes the
  connection, TIMEOUT/INVALID when it does not answer within ``timeout``, READ or WRITE (for
  reads, writes) when it answers with a Modbus exception (a wrong address).
- After a COMM or TIMEOUT failure the connection is closed and, for ``retry`` seconds, calls
  fail at once with the same alarm instead of each waiting out the timeout: a PLC that hangs
  costs one ``timeout`` per ``retry`` period, not one per record.
- Records run on several pydev workers at once: the sync client is one TCP connection, so a
  lock keeps one request on it at a time (records of a lane need none, but a Poller thread
  shares the object too).
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable, Sequence

import pydev
from pymodbus.client import AsyncModbusTcpClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

# pymodbus logs every failed connect and unanswered request (with hex dumps): the records'
# alarms say it once per change, and the IOC console stays readable
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


class _Health:
    """When the PLC last failed, and the alarm to repeat until ``retry`` has passed."""

    def __init__(self, where: str, retry: float) -> None:
        self.where = where
        self.retry = retry
        self.down: pydev.Alarm | None = None
        self.until = 0.0

    def check(self) -> None:
        """Fail at once while the last failure is recent; let one call try again after it."""
        if self.down is not None:
            now = time.monotonic()
            if now < self.until:
                raise self.down
            self.until = now + self.retry  # this call probes; the others still fail fast

    def failed(self, error: Exception, what: str) -> pydev.Alarm:
        """The alarm for ``error``; COMM and TIMEOUT ones are repeated for ``retry`` s."""
        if isinstance(error, pydev.Alarm):
            return error
        # what the alarm says holds for every request until the PLC answers again: the device,
        # not the request that found out
        if isinstance(error, (ModbusIOException, TimeoutError)):
            alarm = pydev.Alarm(f"no answer from {self.where}", stat="TIMEOUT")
        elif isinstance(error, (ConnectionException, OSError)):
            alarm = pydev.Alarm(f"not connected to {self.where}", stat="COMM")
        else:
            return pydev.Alarm(f"{self.where}: {what}: {error}", stat="READ")
        self.down, self.until = alarm, time.monotonic() + self.retry
        return alarm

    def ok(self) -> None:
        self.down = None


def _answer(response: Any, what: str, where: str, write: bool) -> Any:
    """The response, or the alarm for a Modbus exception response."""
    if response.isError():
        code = getattr(response, "exception_code", "?")
        raise pydev.Alarm(f"{where}: {what}: Modbus exception {code}",
                          stat="WRITE" if write else "READ")
    return response


class Plc:
    """A Modbus TCP device on pymodbus' sync client (``ModbusTcpClient``), safe for threads."""

    def __init__(self, host: str, port: int = 502, *, device_id: int = 1,
                 timeout: float = 0.5, retry: float = 1.0) -> None:
        self.where = f"{host}:{port}"
        self.device_id = device_id
        # retries=0: one request, one timeout; our retry period replaces the client's own
        self._client = ModbusTcpClient(host, port=port, timeout=timeout, retries=0)
        self._lock = threading.Lock()
        self._health = _Health(self.where, retry)

    def _call(self, what: str, request: Callable[[], Any], write: bool = False) -> Any:
        with self._lock:   # waits for at most one request under way, bounded by its timeout
            self._health.check()
            try:
                if not self._client.connected and not self._client.connect():
                    raise ConnectionException("connect failed")
                response = request()
            except (ModbusException, OSError) as error:
                self._client.close()
                raise self._health.failed(error, what) from None
            self._health.ok()
            return _answer(response, what, self.where, write)

    def read_register(self, address: int) -> int:
        """Holding register ``address``."""
        return self.read_registers(address, 1)[0]

    def read_registers(self, address: int, count: int) -> list[int]:
        """``count`` holding registers from ``address``."""
        return self._call(f"read {count} at {address}", lambda: self._client.read_holding_registers(
            address, count=count, device_id=self.device_id)).registers

    def write_register(self, address: int, value: int) -> None:
        """Holding register ``address`` <- ``value`` (0..65535)."""
        self._call(f"write {address}", lambda: self._client.write_register(
            address, int(value), device_id=self.device_id), write=True)

    def write_registers(self, address: int, values: Sequence[int]) -> None:
        """Holding registers from ``address`` <- ``values``."""
        self._call(f"write {len(values)} at {address}", lambda: self._client.write_registers(
            address, [int(v) for v in values], device_id=self.device_id), write=True)

    def read_coil(self, address: int) -> bool:
        """Coil ``address``."""
        return self._call(f"read coil {address}", lambda: self._client.read_coils(
            address, count=1, device_id=self.device_id)).bits[0]

    def write_coil(self, address: int, value: bool) -> None:
        """Coil ``address`` <- ``value``."""
        self._call(f"write coil {address}", lambda: self._client.write_coil(
            address, bool(value), device_id=self.device_id), write=True)

    def close(self) -> None:
        """Close the connection (the next call opens it again)."""
        with self._lock:
            self._client.close()


class AsyncPlc:
    """The same device on pymodbus' asyncio client (``AsyncModbusTcpClient``).

    Its methods are coroutines that run on ``loop``: records ``await`` them
    (``@await plc.read_register(0)``); code in a thread of its own uses ``plc.run(coro)``.
    """

    def __init__(self, host: str, port: int = 502, *, device_id: int = 1,
                 timeout: float = 0.5, retry: float = 1.0,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.where = f"{host}:{port}"
        self.device_id = device_id
        self.loop = loop or _default_loop()
        self._host, self._port, self._timeout = host, port, timeout
        self._client: AsyncModbusTcpClient | None = None
        self._lock: asyncio.Lock | None = None   # made on the loop, where it is used
        self._health = _Health(self.where, retry)

    def run(self, coro: Any) -> Any:
        """Run a coroutine of this device on its loop from another thread; wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def _call(self, what: str, request: Callable[[AsyncModbusTcpClient], Any],
                    write: bool = False) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:   # one request at a time: answers are matched in order
            self._health.check()
            try:
                if self._client is None:
                    # reconnect_delay=0: no reconnecting behind our back; we do it on use
                    self._client = AsyncModbusTcpClient(self._host, port=self._port, timeout=self._timeout,
                                                        retries=0, reconnect_delay=0)
                if not self._client.connected and not await self._client.connect():
                    raise ConnectionException("connect failed")
                response = await request(self._client)
            except (ModbusException, OSError) as error:
                self._client.close()
                raise self._health.failed(error, what) from None
            self._health.ok()
            return _answer(response, what, self.where, write)

    async def read_register(self, address: int) -> int:
        """Holding register ``address``."""
        return (await self.read_registers(address, 1))[0]

    async def read_registers(self, address: int, count: int) -> list[int]:
        """``count`` holding registers from ``address``."""
        return (await self._call(f"read {count} at {address}", lambda c: c.read_holding_registers(
            address, count=count, device_id=self.device_id))).registers

    async def write_register(self, address: int, value: int) -> None:
        """Holding register ``address`` <- ``value`` (0..65535)."""
        await self._call(f"write {address}", lambda c: c.write_register(
            address, int(value), device_id=self.device_id), write=True)

    async def read_coil(self, address: int) -> bool:
        """Coil ``address``."""
        return (await self._call(f"read coil {address}", lambda c: c.read_coils(
            address, count=1, device_id=self.device_id))).bits[0]

    async def write_coil(self, address: int, value: bool) -> None:
        """Coil ``address`` <- ``value``."""
        await self._call(f"write coil {address}", lambda c: c.write_coil(
            address, bool(value), device_id=self.device_id), write=True)


def _default_loop() -> asyncio.AbstractEventLoop:
    """The IOC's event loop (``pydev.loop``) where there is one, else one in a thread."""
    loop = getattr(pydev, "loop", None)
    if loop is not None:
        return loop
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
        threading.Thread(target=_LOOP.run_forever, name="plc-asyncio", daemon=True).start()
    return _LOOP


_LOOP: asyncio.AbstractEventLoop | None = None
