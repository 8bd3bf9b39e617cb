# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the pydevice.revpi tests: the demo configuration, image access.

The piCtory configuration the tests run on is generated, not kept as a copy: it is the
demo's compact description (``pydevice.revpi.piconfig.demo()``: a RevPi Connect, a DIO at
position 32, an AIO at 33 and a 32-byte virtual device at 64), written as piCtory JSON.
test_revpi_configs checks that layout against real PiCtory files.  The replace_io file
(IOs over the virtual device's bytes) is a fixture: it is what a user writes by hand.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from pydevice.revpi import piconfig

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def demo_files(directory: str | Path) -> dict[str, str]:
    """config.rsc (generated), replace_io.conf and a zero-filled 4 KiB procimg.bin in
    ``directory``; their paths by the names revpi.open takes, and ``dir``."""
    directory = Path(directory)
    config = piconfig.write(piconfig.demo(), str(directory / "config.rsc"))
    replace = shutil.copy(FIXTURES / "replace_io.conf", directory / "replace_io.conf")
    img = directory / "procimg.bin"
    img.write_bytes(bytes(4096))
    return {"procimg": str(img), "configrsc": config, "replace_io_file": str(replace),
            "dir": str(directory)}


def image_byte(path: str, address: int) -> int:
    """One byte of the process image file, read without RevPiModIO."""
    with open(path, "rb") as fh:
        fh.seek(address)
        return fh.read(1)[0]


def independent(files, **kwargs):
    """A second RevPiModIO on the same image (no autorefresh), for checks and stimuli."""
    import revpimodio2

    return revpimodio2.RevPiModIO(procimg=files["procimg"], configrsc=files["configrsc"],
                                  replace_io_file=files["replace_io_file"], debug=False,
                                  **kwargs)
