# SPDX-License-Identifier: BSD-3-Clause
"""A gpio-sim chip made through configfs, for the in-guest tests.

``SimChip(lines=8, names={0: "GPIO17"})`` makes a live simulated chip; ``pull(off, 1)``
drives the outside world of a line (an input follows it), ``level(off)`` reads what the
line is at (what a user-space output drives).
"""
from __future__ import annotations

import itertools
import os
import pathlib
from typing import Mapping, Optional

from polling import poll

CONFIGFS = pathlib.Path("/sys/kernel/config/gpio-sim")
_ids = itertools.count()


def available() -> bool:
    """True inside the rig (gpio-sim loaded, configfs mounted, root)."""
    return CONFIGFS.is_dir() and os.access(CONFIGFS, os.W_OK)


wait_for = poll  # the tests' one way to wait (tests/polling.py), by its older name here


class SimChip:
    """A live gpio-sim chip with one bank; use as a context manager."""

    def __init__(self, lines: int = 8, names: Optional[Mapping[int, str]] = None,
                 label: Optional[str] = None) -> None:
        self.dir = CONFIGFS / f"t{os.getpid()}_{next(_ids)}"
        self.bank = self.dir / "bank0"
        self.dir.mkdir()
        self.bank.mkdir()
        (self.bank / "num_lines").write_text(str(lines))
        if label:
            (self.bank / "label").write_text(label)
        for off, name in (names or {}).items():
            (self.bank / f"line{off}").mkdir()
            (self.bank / f"line{off}" / "name").write_text(name)
        (self.dir / "live").write_text("1")
        self.dev_name = (self.dir / "dev_name").read_text().strip()
        self.name = (self.bank / "chip_name").read_text().strip()
        self.path = "/dev/" + self.name
        self.sysfs = pathlib.Path("/sys/devices/platform") / self.dev_name / self.name

    def pull(self, offset: int, up: int) -> None:
        """Drive the outside of line ``offset`` high (1) or low (0)."""
        (self.sysfs / f"sim_gpio{offset}" / "pull").write_text("pull-up" if up else "pull-down")

    def level(self, offset: int) -> int:
        """The line's physical level."""
        return int((self.sysfs / f"sim_gpio{offset}" / "value").read_text())

    def wait_level(self, offset: int, want: int, timeout: float = 5.0) -> int:
        """Poll until the level is ``want`` (or ``timeout``); returns the last level."""
        poll(lambda: self.level(offset) == want, timeout)
        return self.level(offset)

    def set_live(self, live: bool) -> None:
        """Take the chip away (``False``: as a driver unbind or an unplugged adapter does)
        or bring it back; the chip's name is read again (the kernel may renumber it)."""
        (self.dir / "live").write_text("1" if live else "0")
        if live:
            self.dev_name = (self.dir / "dev_name").read_text().strip()
            self.name = (self.bank / "chip_name").read_text().strip()
            self.path = "/dev/" + self.name
            self.sysfs = pathlib.Path("/sys/devices/platform") / self.dev_name / self.name

    def close(self) -> None:
        if (self.dir / "live").read_text().strip() == "1":  # writing 0 twice is EPERM
            (self.dir / "live").write_text("0")
        for d in sorted(self.bank.glob("line*")):
            d.rmdir()
        self.bank.rmdir()
        self.dir.rmdir()

    def __enter__(self) -> "SimChip":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
