# SPDX-License-Identifier: BSD-3-Clause
"""A simulated PLC for trying iocmodbus without one: pymodbus' own Modbus TCP server on loopback.

    python simplc.py 5020

The tests (tests/test_devices_modbus.py) run it too.

Holding registers 0..31 and coils 0..15, all starting at 0 except holding register 10..17
(1, 2, ... 8, the waveform's block).  It prints ``listening`` once the port is open.
"""
import asyncio
import sys

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


async def main(port: int) -> None:
    registers = [0] * 32
    registers[10:18] = range(1, 9)
    device = SimDevice(id=0, simdata=(
        [SimData(0, values=[False] * 16, datatype=DataType.BITS)],      # coils
        [SimData(0, values=[False] * 16, datatype=DataType.BITS)],      # discrete inputs
        [SimData(0, values=registers, datatype=DataType.REGISTERS)],    # holding registers
        [SimData(0, values=[0] * 8, datatype=DataType.REGISTERS)],      # input registers
    ))
    server = ModbusTcpServer(device, address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    print("listening", flush=True)
    await server.serving


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
