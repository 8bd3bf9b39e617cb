# SPDX-License-Identifier: BSD-3-Clause
"""Raspberry Pi header maps and board identification (pure logic, no hardware needed).

- :func:`board_to_bcm` maps a physical header pin (BOARD numbering) to a BCM GPIO number,
  for the original 26-pin header (revision 1 and 2) and the 40-pin header (revision 3).
- :func:`bcm_line_name` gives the GPIO chip line name the kernel uses on Raspberry Pi
  boards (``GPIO17``), which is how BCM numbers are found on today's kernels.
- :func:`decode_revision` decodes the revision code of ``/proc/cpuinfo``/device tree.
"""
from __future__ import annotations

import os
import re
from typing import NamedTuple, Optional

__all__ = ["board_to_bcm", "bcm_to_board", "bcm_line_name", "decode_revision", "BoardInfo",
           "read_board_info", "PI_CHIP_LABELS"]

# physical pin -> BCM GPIO; pins not listed are power, ground or ID EEPROM pins
_HEADER_REV1 = {3: 0, 5: 1, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 21, 15: 22, 16: 23,
                18: 24, 19: 10, 21: 9, 22: 25, 23: 11, 24: 8, 26: 7}
_HEADER_REV2 = {**_HEADER_REV1, 3: 2, 5: 3, 13: 27}
_HEADER_40 = {**_HEADER_REV2, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19, 36: 16,
              37: 26, 38: 20, 40: 21}
_HEADERS = {1: _HEADER_REV1, 2: _HEADER_REV2, 3: _HEADER_40}

PI_CHIP_LABELS = ("pinctrl-bcm2835", "pinctrl-bcm2711", "pinctrl-bcm2712", "pinctrl-rp1",
                  "raspberrypi-exp-gpio")
"""Labels of the SoC GPIO chips of Raspberry Pi boards (lines named ``GPIOn``)."""


def board_to_bcm(pin: int, revision: int = 3) -> int:
    """BCM GPIO number on physical header ``pin`` (``revision`` 1, 2 = 26 pins, 3 = 40 pins)."""
    header = _HEADERS.get(revision)
    if header is None:
        raise ValueError(f"unknown header revision {revision} (1, 2 or 3)")
    if pin not in header:
        raise ValueError(f"header pin {pin} is not a GPIO on a revision {revision} board "
                         f"(GPIO pins: {sorted(header)})")
    return header[pin]


def bcm_to_board(gpio: int, revision: int = 3) -> int:
    """Physical header pin of BCM GPIO ``gpio``."""
    for pin, bcm in _HEADERS[revision].items():
        if bcm == gpio:
            return pin
    raise ValueError(f"BCM GPIO {gpio} is not on the header of a revision {revision} board")


def bcm_line_name(gpio: int) -> str:
    """Line name of BCM GPIO ``gpio`` on Raspberry Pi kernels."""
    if not 0 <= int(gpio) <= 53:
        raise ValueError(f"BCM GPIO {gpio} out of range 0..53")
    return f"GPIO{int(gpio)}"


class BoardInfo(NamedTuple):
    """What :func:`decode_revision` finds out (RPIO's ``sysinfo()`` fields)."""

    hex_rev: str
    model: str
    revision: str
    mb_ram: int
    maker: str
    header_revision: int  # 1/2: 26-pin header, 3: 40-pin header


_OLD_CODES = {  # code: (model, pcb revision, MB, maker, header revision)
    0x2: ("B", "1.0", 256, "Egoman", 1), 0x3: ("B", "1.0", 256, "Egoman", 1),
    0x4: ("B", "2.0", 256, "Sony", 2), 0x5: ("B", "2.0", 256, "Qisda", 2),
    0x6: ("B", "2.0", 256, "Egoman", 2), 0x7: ("A", "2.0", 256, "Egoman", 2),
    0x8: ("A", "2.0", 256, "Sony", 2), 0x9: ("A", "2.0", 256, "Qisda", 2),
    0xd: ("B", "2.0", 512, "Egoman", 2), 0xe: ("B", "2.0", 512, "Sony", 2),
    0xf: ("B", "2.0", 512, "Egoman", 2), 0x10: ("B+", "1.2", 512, "Sony", 3),
    0x11: ("CM1", "1.0", 512, "Sony", 3), 0x12: ("A+", "1.1", 256, "Sony", 3),
    0x13: ("B+", "1.2", 512, "Embest", 3), 0x14: ("CM1", "1.0", 512, "Embest", 3),
    0x15: ("A+", "1.1", 256, "Embest", 3),
}
_NEW_TYPES = {0x0: "A", 0x1: "B", 0x2: "A+", 0x3: "B+", 0x4: "2B", 0x6: "CM1", 0x8: "3B",
              0x9: "Zero", 0xa: "CM3", 0xc: "Zero W", 0xd: "3B+", 0xe: "3A+", 0x10: "CM3+",
              0x11: "4B", 0x12: "Zero 2 W", 0x13: "400", 0x14: "CM4", 0x15: "CM4S",
              0x17: "5", 0x18: "CM5", 0x19: "500", 0x1a: "CM5 Lite"}
_NEW_MAKERS = {0: "Sony UK", 1: "Egoman", 2: "Embest", 3: "Sony Japan", 4: "Embest",
               5: "Stadium"}


def decode_revision(code: str) -> BoardInfo:
    """Decode a Raspberry Pi revision code such as ``"000e"`` or ``"c03111"``."""
    s = code.strip().lower()
    value = int(s, 16)
    if value & (1 << 23):  # new-style: NOQuuuWuFMMMCCCCPPPPTTTTTTTTRRRR
        rev = value & 0xF
        typ = (value >> 4) & 0xFF
        maker = (value >> 16) & 0xF
        mem = 256 << ((value >> 20) & 0x7)
        model = _NEW_TYPES.get(typ, f"type 0x{typ:x}")
        header = 2 if typ in (0x0, 0x1) else 3
        return BoardInfo(s, model, f"1.{rev}", mem, _NEW_MAKERS.get(maker, f"maker {maker}"), header)
    # old-style; bit 24 (warranty voided by overclocking) may be set
    old = value & 0xFFFFFF
    if old in _OLD_CODES:
        model, pcb, mb, made_by, header = _OLD_CODES[old]
        return BoardInfo(s, model, pcb, mb, made_by, header)
    raise ValueError(f"unknown Raspberry Pi revision code {code!r}")


def _read(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace").strip("\x00\n ")
    except OSError:
        return None


def read_board_info(root: str = "/") -> BoardInfo:
    """This board's info: a Raspberry Pi's decoded revision, else the device-tree or DMI
    model with ``hex_rev == ""`` and a 40-pin header assumed for BOARD numbering."""
    code = None
    cpuinfo = _read(os.path.join(root, "proc/cpuinfo")) or ""
    m = re.search(r"^Revision\s*:\s*([0-9a-fA-F]+)", cpuinfo, re.M)
    if m:
        code = m.group(1)
    else:
        raw = None
        try:
            with open(os.path.join(root, "proc/device-tree/system/linux,revision"), "rb") as f:
                raw = f.read(4)
        except OSError:
            pass
        if raw and len(raw) == 4:
            # as the kernel writes it in /proc/cpuinfo ("%04x"), the form RPIO reports
            code = format(int.from_bytes(raw, "big"), "04x")
    if code:
        try:
            return decode_revision(code)
        except ValueError:
            pass
    model = (_read(os.path.join(root, "proc/device-tree/model"))
             or _read(os.path.join(root, "sys/class/dmi/id/product_name")) or "unknown")
    maker = _read(os.path.join(root, "sys/class/dmi/id/sys_vendor")) or ""
    meminfo = _read(os.path.join(root, "proc/meminfo")) or ""
    m = re.search(r"^MemTotal:\s*(\d+)\s*kB", meminfo, re.M)
    mb = int(m.group(1)) // 1024 if m else 0
    return BoardInfo(code or "", model, "", mb, maker, 3)
