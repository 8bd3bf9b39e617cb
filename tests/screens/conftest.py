# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures for the screen tests: an X server (Xvfb), a PyDM screen driven through
pydm_driver.py, and a copy of the RevPi demo IOC (iocBoot/iocrevpi) running."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT / "python", ROOT / "tests", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from screen_helpers import DEMO, Driver, NoDisplay, probe_qt, start_xvfb  # noqa: E402


def _display_packages() -> None:
    for module in ("PyQt5", "pydm", "qtpy"):
        pytest.importorskip(module, reason=f"{module} is not installed: the display packages "
                            "come with requirements-test.txt (pip install 'pydevice[screens]')")


@pytest.fixture(scope="session")
def xdisplay():
    """The environment of a client on a private Xvfb server."""
    _display_packages()
    try:
        proc, env = start_xvfb()
    except NoDisplay as why:
        pytest.skip(str(why))
    try:
        probe_qt(env)
    except NoDisplay as why:
        proc.kill()
        pytest.skip(str(why))
    yield env
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(env["XDG_RUNTIME_DIR"], ignore_errors=True)


@pytest.fixture
def pydm_screen(xdisplay):
    """Opens a screen file in PyDM: ``driver = pydm_screen(path)``."""
    opened: list[Driver] = []

    def open_screen(path: Path) -> Driver:
        opened.append(Driver(path, xdisplay))
        return opened[-1]
    yield open_screen
    for driver in opened:
        driver.close()


@pytest.fixture
def revpi_demo(tmp_path):
    """The RevPi demo (iocBoot/iocrevpi/st.cmd) running in a copy of its folder."""
    harness = pytest.importorskip("harness")
    work = tmp_path / "iocBoot" / "iocrevpi"
    shutil.copytree(DEMO, work, ignore=shutil.ignore_patterns("procimg.bin", "O.*", "envPaths"))
    for name in ("dbd", "db"):
        (tmp_path / name).symlink_to(ROOT / name)
    with harness.Ioc(st_cmd=work / "st.cmd", cwd=work, prefix="RevPi:") as ioc:  # its prefix
        ioc.work = work
        yield ioc
