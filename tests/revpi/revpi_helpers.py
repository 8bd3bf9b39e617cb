"""Helpers shared by the pydevice.revpi tests (polling, independent image access)."""
from __future__ import annotations

import time
from typing import Callable


def wait_for(predicate: Callable[[], object], timeout: float = 3.0, step: float = 0.005):
    """Poll ``predicate`` until truthy (returns it) or ``timeout`` s pass (returns last)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(step)


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


