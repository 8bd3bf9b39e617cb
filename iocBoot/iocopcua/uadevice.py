# SPDX-License-Identifier: BSD-3-Clause
"""An OPC UA server behind EPICS records, with asyncua's asyncio client: copy and adapt.

    tank = UaDevice("opc.tcp://plc1.example:4840/")      # nothing is sent yet
    await tank.read("ns=2;s=Tank.Level")                   # in a link: @await tank.read('...')
    await tank.write("ns=2;s=Tank.Setpoint", 21.5)         # written as the variable's own type
    tank.subscribe("ns=2;s=Tank.Counter", "tank:counter")  # data changes -> pydev.iointr

What it does, so that a record says what is wrong with the server:

- It connects on first use, and again after any failure: an IOC whose server is off starts
  all the same, and recovers without a restart when the server is back.
- A failure raises ``pydev.Alarm``: COMM/INVALID when the server cannot be reached or the
  connection is lost, TIMEOUT/INVALID when it does not answer within ``timeout``, READ/WRITE
  when it answers with a bad status (an unknown node id, a value of the wrong type).
- Subscriptions live as long as the device: while the server is gone their records are in
  COMM alarm (pushed when the connection is lost, not at the next poll), and once it is back
  they are made again and the next data change clears the alarm.
- After a COMM or TIMEOUT failure calls fail at once with the same alarm for ``retry`` seconds,
  then one tries again: a server that hangs costs one ``timeout`` per ``retry`` period.
- Everything runs on one asyncio event loop (``pydev.loop`` in an IOC that has one), so the
  client is used by one thread only, as asyncio wants; threads call ``tank.run(coro)``.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pydev
from asyncua import Client, ua

# asyncua logs each lost connection and failed request with a traceback: the records' alarms
# say it, once per change
logging.getLogger("asyncua").setLevel(logging.CRITICAL)


class UaDevice:
    """One OPC UA server, reached with asyncua's ``Client`` on ``loop``."""

    def __init__(self, url: str, *, timeout: float = 1.0, retry: float = 1.0,
                 period_ms: int = 50, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.retry = retry
        self.period_ms = period_ms           # the subscription's publishing interval
        self.loop = loop or _default_loop()
        self._client: Client | None = None
        self._down: pydev.Alarm | None = None
        self._until = 0.0
        self._types: dict[str, ua.VariantType] = {}
        self._subscribed: dict[str, str] = {}   # node id -> iointr name
        self._lock: asyncio.Lock | None = None
        self._supervisor: asyncio.Future | None = None

    # -- for records ---------------------------------------------------------------------
    async def read(self, nodeid: str) -> Any:
        """The value of the variable ``nodeid``."""
        client = await self._connected()
        return await self._request(f"read {nodeid}", client.get_node(nodeid).read_value(), write=False)

    async def write(self, nodeid: str, value: Any) -> None:
        """Write ``value`` to ``nodeid``, as the variable's data type (read once)."""
        client = await self._connected()
        node = client.get_node(nodeid)
        if nodeid not in self._types:
            self._types[nodeid] = await self._request(
                f"type of {nodeid}", node.read_data_type_as_variant_type(), write=True)
        vtype = self._types[nodeid]
        if vtype == ua.VariantType.Boolean:
            value = bool(value)
        elif vtype in _INTEGERS:
            value = int(value)
        await self._request(f"write {nodeid}", node.write_value(value, vtype), write=True)

    def subscribe(self, nodeid: str, name: str) -> None:
        """Push every data change of ``nodeid`` to the I/O Intr records of ``name``, for as
        long as the IOC runs (callable from any thread; connects in the background)."""
        self._subscribed[ua.NodeId.from_string(nodeid).to_string()] = name
        if self._supervisor is None:
            self._supervisor = asyncio.run_coroutine_threadsafe(self._keep_subscribed(), self.loop)

    def run(self, coro: Any) -> Any:
        """Run a coroutine of this device on its loop from another thread; wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    # -- the connection ------------------------------------------------------------------
    async def _connected(self) -> Client:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:   # one connect at a time; requests then share the connection
            if self._client is not None:
                return self._client
            if self._down is not None and time.monotonic() < self._until:
                raise self._down
            client = Client(self.url, timeout=self.timeout)
            client.connection_lost_callback = self._lost
            try:
                await asyncio.wait_for(client.connect(), self.timeout)
            except (OSError, asyncio.TimeoutError, ua.UaError) as error:
                await _close(client)
                raise self._failed(error) from None
            self._client, self._down = client, None
            return client

    async def _request(self, what: str, request: Any, write: bool) -> Any:
        try:
            return await asyncio.wait_for(request, self.timeout)
        except ua.UaStatusCodeError as error:   # the server answered: no reconnect
            raise pydev.Alarm(f"{what}: {error}", stat="WRITE" if write else "READ") from None
        except (OSError, asyncio.TimeoutError, ua.UaError) as error:
            await self._drop()
            raise self._failed(error) from None

    def _failed(self, error: BaseException) -> pydev.Alarm:
        # it holds for every request until the server answers again: it names the server,
        # not the request that found out
        if isinstance(error, asyncio.TimeoutError):
            alarm = pydev.Alarm(f"no answer from {self.url}", stat="TIMEOUT")
        else:
            alarm = pydev.Alarm(f"not connected to {self.url}", stat="COMM")
        self._down, self._until = alarm, time.monotonic() + self.retry
        return alarm

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _close(client)

    async def _lost(self, error: Exception) -> None:
        """asyncua saw the connection go (the server closed it, or stopped answering)."""
        alarm = self._failed(error)
        if self._client is not None:
            self._client = None
            for name in self._subscribed.values():
                pydev.iointr(name, alarm)

    async def _keep_subscribed(self) -> None:
        """Connect, subscribe every node, wait until the connection is lost; again."""
        while True:
            try:
                client = await self._connected()
                handler = _Push(self._subscribed)
                sub = await client.create_subscription(self.period_ms, handler)
                await sub.subscribe_data_change([client.get_node(n) for n in self._subscribed])
                while self._client is client:
                    await asyncio.sleep(self.period_ms / 1000)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # each failure is an alarm on the records, then retry
                alarm = error if isinstance(error, pydev.Alarm) else self._failed(error)
                for name in self._subscribed.values():
                    pydev.iointr(name, alarm)
                await self._drop()
            await asyncio.sleep(max(self.retry, self.period_ms / 1000))   # never a busy loop


class _Push:
    """asyncua's subscription handler: a data change is a push to the node's iointr name."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def datachange_notification(self, node: Any, value: Any, data: Any) -> None:
        name = self.names.get(node.nodeid.to_string())
        if name is not None:
            pydev.iointr(name, value)


_INTEGERS = {ua.VariantType.SByte, ua.VariantType.Byte, ua.VariantType.Int16, ua.VariantType.UInt16,
             ua.VariantType.Int32, ua.VariantType.UInt32, ua.VariantType.Int64, ua.VariantType.UInt64}


async def _close(client: Client) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 0.5)
    except Exception:  # a client whose server is gone cannot say goodbye
        pass


def _default_loop() -> asyncio.AbstractEventLoop:
    """The IOC's event loop (``pydev.loop``) where there is one, else one in a thread."""
    loop = getattr(pydev, "loop", None)
    if loop is not None:
        return loop
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
        threading.Thread(target=_LOOP.run_forever, name="uadevice-asyncio", daemon=True).start()
    return _LOOP


_LOOP: asyncio.AbstractEventLoop | None = None
