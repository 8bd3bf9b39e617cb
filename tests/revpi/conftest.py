"""Fixtures for pydevice.revpi tests: a file-backed process image and the shipped config."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = HERE / "fixtures"
for path in (ROOT / "python", ROOT / "tests", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Copies of the fixtures plus a zero-filled process image, in a private directory."""
    for name in ("config.rsc", "replace_io.conf"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    img = tmp_path / "procimg.bin"
    img.write_bytes(bytes(4096))
    return {"procimg": str(img), "configrsc": str(tmp_path / "config.rsc"),
            "replace_io_file": str(tmp_path / "replace_io.conf"), "dir": str(tmp_path)}


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
