# SPDX-License-Identifier: BSD-3-Clause
"""GPIO screens in the real PyDM against a real GPIO IOC on this machine, which has no GPIO
chip: every widget connects, each line's record shows its INVALID alarm on the widget's
border, and a toggle clicked on the screen writes the output record (whose write then fails,
as it must without the chip).  The lines themselves move on the board or in the gpio-sim rig
(tests/gpio_kernel)."""
from __future__ import annotations

import subprocess
import sys

import pytest

harness = pytest.importorskip("harness")
from harness import TIME_SCALE, Ioc, poll, random_prefix  # noqa: E402
from screen_helpers import ROOT  # noqa: E402

GPIO_DEMO = ROOT / "iocBoot" / "iocgpio"
CHIP = "gpiochip97"  # no such chip here
INVALID = 3


def _run(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", *args], cwd=ROOT, check=True, timeout=60,
                   capture_output=True)


def test_the_gpio_demo_screen_connects_and_shows_the_missing_chip_as_alarms(
        pydm_screen, tmp_path):
    ui = tmp_path / "gpio.ui"
    _run(["pydevice", "screen", str(GPIO_DEMO / "gpio.db"), "-m",
          f"P=Demo:,CHIP={CHIP},IN=GPIO17,OUT=GPIO27", "-o", str(ui)])  # as the demo says
    with Ioc(st_cmd=GPIO_DEMO / "st.cmd", cwd=GPIO_DEMO, env={"GPIO_CHIP": CHIP},
             prefix="Demo:") as ioc:  # the st.cmd's prefix
        screen = pydm_screen(ui)
        assert screen("connected", 30 * TIME_SCALE)["disconnected"] == []
        assert poll(lambda: screen("show", "Demo:GPIO17")[0]["severity"] == INVALID, 10)
        assert screen("show", "Demo:GPIO27")[0]["severity"] == INVALID
        screen("click", "Demo:GPIO27", "High")
        assert poll(lambda: ioc.caget("Demo:GPIO27") == 1)
        assert ioc.alarm("Demo:GPIO27")[:2] == ("COMM", "INVALID")
        # no picture from here: docs/gpio.md shows the screen on a real chip, taken in the
        # gpio-sim rig by gpio_rig_screenshot.py


def test_the_generated_gpio_screen_names_the_records_of_the_generated_database(
        pydm_screen, tmp_path):
    P = random_prefix()  # the screen names records, not macros: this IOC's prefix, given to both
    lines = ["--chip", CHIP, "--lines", "GPIO17,GPIO22,GPIO27", "--inputs", "GPIO17,GPIO22",
             "--outputs", "GPIO27", "--prefix", P]
    db, ui = tmp_path / "gpio.db", tmp_path / "gpio.ui"
    _run(["pydevice.gpio", "db", *lines, "-o", str(db)])
    _run(["pydevice.gpio", "screen", *lines, "--pool", P + "pydev:", "-o", str(ui)])
    stats = ROOT / "db" / "pydevStats.db"
    with Ioc(db_files=[db, (stats, "P=$(P)pydev:")], prefix=P, py="from pydevice import gpio"):
        screen = pydm_screen(ui)
        assert screen("connected", 30 * TIME_SCALE)["disconnected"] == []
        widgets = screen("widgets")
        assert widgets[P + "GPIO17"] == ["PyDMByteIndicator"]
        assert widgets[P + "GPIO27"] == ["PyDMEnumButton"]
        assert widgets[P + "pydev:Busy"] == ["PyDMLabel"]
