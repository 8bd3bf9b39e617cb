"""Fixtures for the screen tests: an X server (Xvfb), a PyDM screen driven through
pydm_driver.py, and a copy of the RevPi demo IOC (iocBoot/iocrevpi) running."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT / "python", ROOT / "tests", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from screen_helpers import DEMO, Driver  # noqa: E402


def _display_packages() -> None:
    for module in ("PyQt5", "pydm", "qtpy"):
        pytest.importorskip(module, reason=f"{module} is not installed: the display packages "
                            "come with requirements-test.txt (pip install 'pydevice[screens]')")


@pytest.fixture(scope="session")
def xdisplay():
    """The environment of a client on a private Xvfb server."""
    _display_packages()
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.skip("Xvfb is not installed (tools/display-deps.sh installs it with apt-get "
                    "as root; on Debian: apt-get install xvfb)")
    read, write = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "2400x1600x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()
    if not number:
        proc.kill()
        pytest.skip("Xvfb did not start")
    runtime = tempfile.mkdtemp(prefix="pydev-xdg-")
    os.chmod(runtime, 0o700)
    env = {"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb", "XDG_RUNTIME_DIR": runtime,
           "PYDM_DEFAULT_PROTOCOL": "ca"}
    # Qt's xcb plugin loads only with its system libraries (tools/display-deps.sh)
    probe = subprocess.run([sys.executable, "-c", "from PyQt5.QtWidgets import QApplication; "
                            "QApplication([])"], env={**os.environ, **env},
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        proc.kill()
        pytest.skip("Qt cannot open a window on Xvfb (system libraries missing? "
                    f"tools/display-deps.sh): {probe.stderr.strip()[-400:]}")
    yield env
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(runtime, ignore_errors=True)


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
    with harness.Ioc(st_cmd=work / "st.cmd", cwd=work) as ioc:
        ioc.work = work
        yield ioc
