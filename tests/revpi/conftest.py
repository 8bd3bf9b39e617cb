# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures for pydevice.revpi tests: a file-backed process image and the demo config."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT / "python", ROOT / "tests", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from revpi_helpers import demo_files  # noqa: E402


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """The demo configuration (generated), its replace_io file and a zero-filled process
    image, in a private directory."""
    return demo_files(tmp_path)


@pytest.fixture
def rpi(files):
    """The process-image owner opened on the file image with a 10 ms cycle."""
    import pydev
    from pydevice import revpi

    pydev.clear()
    owner = revpi.open(files["procimg"], files["configrsc"], cycletime=10,
                       replace_io_file=files["replace_io_file"])
    yield owner
    revpi.close()
