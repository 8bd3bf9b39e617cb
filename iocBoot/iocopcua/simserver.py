# SPDX-License-Identifier: BSD-3-Clause
"""A simulated OPC UA server for trying iocopcua without one: asyncua's own Server on loopback.

    python simserver.py 4840

The tests (tests/test_devices_opcua.py) run it too.

Namespace ``urn:pydevice:sim`` (index 2) holds the variables the IOC uses, by string node ids:
``Tank.Level`` (Double), ``Tank.Setpoint`` (Double), ``Tank.Pump`` (Boolean), all writable, and
``Tank.Counter`` (Int32), which the server counts up every 0.1 s while ``Tank.Pump`` is true.
It prints ``listening`` once clients can connect.
"""
import asyncio
import logging
import sys

from asyncua import Server, ua

logging.getLogger("asyncua").setLevel(logging.ERROR)   # its INFO lines are about itself


async def main(port: int) -> None:
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    ns = await server.register_namespace("urn:pydevice:sim")
    tank = await server.nodes.objects.add_object(ua.NodeId("Tank", ns), "Tank")
    variables = {}
    for name, value, vtype in (("Level", 0.0, ua.VariantType.Double),
                               ("Setpoint", 0.0, ua.VariantType.Double),
                               ("Pump", False, ua.VariantType.Boolean),
                               ("Counter", 0, ua.VariantType.Int32)):
        node = await tank.add_variable(ua.NodeId(f"Tank.{name}", ns), name, value, vtype)
        await node.set_writable()
        variables[name] = node
    async with server:
        print("listening", flush=True)
        while True:
            await asyncio.sleep(0.1)
            if await variables["Pump"].read_value():
                count = await variables["Counter"].read_value()
                await variables["Counter"].write_value(count + 1, ua.VariantType.Int32)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
