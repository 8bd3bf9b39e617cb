# SPDX-License-Identifier: BSD-3-Clause
"""Build piCtory configurations (config.rsc JSON) for simulation, tests and benchmarks.

The layouts follow the piCtory device descriptions of the real modules (byte addresses of
inputs, outputs and memory values, as RevPiModIO expects them).  Each IO entry is
``[name, default, bit length, byte address in device, export, index, bmk, bit address]``.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

_GUID = "00000000-0000-4000-8000-{0:012x}"


class _Builder:
    """Accumulates devices, assigning consecutive offsets like piCtory does."""

    def __init__(self) -> None:
        self.devices: list[dict[str, Any]] = []
        self.offset = 0
        self.index = 0

    def add(self, name: str, dev_id: str, dev_type: str, product: int, position: int,
            inp: list, out: list, mem: list, length: int, comment: str = "") -> None:
        def table(rows: list) -> dict[str, list]:
            return {str(i): row for i, row in enumerate(rows)}

        self.devices.append({
            "catalogNr": dev_id.split("_")[1], "GUID": _GUID.format(len(self.devices) + 1),
            "id": f"device_{dev_id}_001", "type": dev_type, "productType": str(product),
            "position": str(position), "name": name, "bmk": name, "inpVariant": 0,
            "outVariant": 0, "comment": comment, "offset": self.offset, "extend": {},
            "inp": table(inp), "out": table(out), "mem": table(mem),
        })
        self.offset += length

    def io(self, name: str, bits: int, address: int, *, default: Any = "0",
           export: bool = True, bit: int | None = None, bmk: str = "") -> list:
        self.index += 1
        return [name, str(default), str(bits), str(address), export,
                str(self.index).rjust(4, "0"), bmk, "" if bit is None else str(bit)]


def connect(b: _Builder, name: str = "RevPi Connect") -> None:
    """RevPi Connect base module (11 bytes: status, cycle, errors, temperature, LEDs)."""
    io = b.io
    inp = [io("RevPiStatus", 8, 0), io("RevPiIOCycle", 8, 1), io("RS485ErrorCnt", 16, 2),
           io("Core_Temperature", 8, 4), io("Core_Frequency", 8, 5)]
    out = [io("RevPiLED", 8, 6), io("RS485ErrorLimit1", 16, 7, default=10, export=False),
           io("RS485ErrorLimit2", 16, 9, default=1000, export=False)]
    b.add(name, "RevPiConnect_20171023_1_0", "BASE", 105, 0, inp, out, [], 11,
          "RevPi Connect base module")


def dio(b: _Builder, name: str, position: int, suffix: str = "") -> None:
    """RevPi DIO: 16 inputs, 16 outputs, status words, 16 counters, 16 PWM, settings."""
    io, s = b.io, suffix
    inp = [io(f"I_{n + 1}{s}", 1, 0, bit=n) for n in range(16)]
    inp += [io(f"Output_Status{s}", 16, 2, export=False), io(f"Status{s}", 16, 4)]
    inp += [io(f"Counter_{n + 1}{s}", 32, 6 + 4 * n, export=False) for n in range(16)]
    out = [io(f"O_{n + 1}{s}", 1, 70, bit=n) for n in range(16)]
    out += [io(f"PWM_{n + 1}{s}", 8, 72 + n, export=False) for n in range(16)]
    mem = [io(f"InputMode_{n + 1}{s}", 8, 88 + n, export=False) for n in range(16)]
    mem += [io(f"InputDebounce{s}", 16, 104, export=False),
            io(f"OutputPushPull{s}", 16, 106, export=False),
            io(f"OutputOpenLoadDetect{s}", 16, 108, export=False),
            io(f"OutputPWMActive{s}", 16, 110, export=False),
            io(f"OutputPWMFrequency{s}", 8, 112, default=1, export=False)]
    b.add(name, "RevPiDIO_20160818_1_0", "LEFT_RIGHT", 96, position, inp, out, mem, 113)


def aio(b: _Builder, name: str, position: int) -> None:
    """RevPi AIO: 4 analog inputs, 2 RTD, 2 analog outputs (signed words), settings."""
    io = b.io
    inp = [io(f"InputValue_{n + 1}", 16, 2 * n) for n in range(4)]
    inp += [io(f"InputStatus_{n + 1}", 8, 8 + n, export=False) for n in range(4)]
    inp += [io("RTDValue_1", 16, 12), io("RTDValue_2", 16, 14),
            io("RTDStatus_1", 8, 16, export=False), io("RTDStatus_2", 8, 17, export=False),
            io("OutputStatus_1", 8, 18, export=False), io("OutputStatus_2", 8, 19, export=False)]
    out = [io("OutputValue_1", 16, 20), io("OutputValue_2", 16, 22)]
    mem = []
    address = 24
    for n in range(4):
        mem += [io(f"Input{n + 1}Range", 8, address, default=1, export=False),
                io(f"Input{n + 1}Multiplier", 16, address + 1, default=1, export=False),
                io(f"Input{n + 1}Divisor", 16, address + 3, default=1, export=False),
                io(f"Input{n + 1}Offset", 16, address + 5, export=False)]
        address += 7
    mem += [io("ADC_DataRate", 8, 52, export=False)]
    address = 53
    for n in range(2):
        mem += [io(f"RTD{n + 1}Type", 8, address, export=False),
                io(f"RTD{n + 1}Wiring", 8, address + 1, export=False),
                io(f"RTD{n + 1}Multiplier", 16, address + 2, default=1, export=False),
                io(f"RTD{n + 1}Divisor", 16, address + 4, default=1, export=False),
                io(f"RTD{n + 1}Offset", 16, address + 6, export=False)]
        address += 8
    for n in range(2):
        mem += [io(f"Output{n + 1}Range", 8, address, export=False),
                io(f"Output{n + 1}EnableSlew", 8, address + 1, export=False),
                io(f"Output{n + 1}SlewStepSize", 8, address + 2, export=False),
                io(f"Output{n + 1}SlewClock", 8, address + 3, export=False),
                io(f"Output{n + 1}Multiplier", 16, address + 4, default=1, export=False),
                io(f"Output{n + 1}Divisor", 16, address + 6, default=1, export=False),
                io(f"Output{n + 1}Offset", 16, address + 8, export=False)]
        address += 10
    b.add(name, "RevPiAIO_20170301_1_0", "LEFT_RIGHT", 103, position, inp, out, mem, 89)


def virtual(b: _Builder, name: str, position: int, size: int = 32, prefix: str = "",
            bits: bool = False) -> None:
    """Virtual device: ``size`` input and ``size`` output bytes (or bits if ``bits``)."""
    io = b.io
    if bits:
        inp = [io(f"{prefix}In_{n + 1}", 1, n // 8, bit=n % 8) for n in range(size * 8)]
        out = [io(f"{prefix}Out_{n + 1}", 1, size + n // 8, bit=n % 8) for n in range(size * 8)]
    else:
        inp = [io(f"{prefix}Input_{n + 1}", 8, n) for n in range(size)]
        out = [io(f"{prefix}Output_{n + 1}", 8, size + n) for n in range(size)]
    b.add(name, "Virtual01_20160818_1_0", "VIRTUAL", 32768, position, inp, out, [], 2 * size,
          "Virtual device to exchange data with other programs")


def document(devices: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Wrap devices into a piCtory configuration document."""
    devices = list(devices)
    return {
        "App": {"name": "PiCtory", "version": "2.10.0", "saveTS": "20260101120000",
                "language": "en", "layout": {}},
        "Summary": {"inpTotal": sum(len(d["inp"]) for d in devices),
                    "outTotal": sum(len(d["out"]) for d in devices)},
        "Devices": devices,
        "Connections": [],
    }


def demo() -> dict[str, Any]:
    """RevPi Connect + DIO + AIO + 32-byte virtual device (the shipped demo)."""
    b = _Builder()
    connect(b)
    dio(b, "dio01", 32)
    aio(b, "aio01", 33)
    virtual(b, "virt01", 64)
    return document(b.devices)


def bench(bit_inputs: int = 1000) -> dict[str, Any]:
    """RevPi Connect + virtual devices holding ``bit_inputs`` bit inputs (benchmark)."""
    b = _Builder()
    connect(b)
    per_device = 512  # 64 bytes of bits per virtual device
    position, left = 64, bit_inputs
    while left > 0:
        size = min(per_device, left) // 8 or 1
        virtual(b, f"virt{position}", position, size=size, prefix=f"v{position}", bits=True)
        left -= size * 8
        position += 1
    return document(b.devices)


def write(config: dict[str, Any], path: str) -> str:
    """Write ``config`` as a config.rsc file; returns ``path``."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=1)
        fh.write("\n")
    return path
