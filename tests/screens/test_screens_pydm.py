# SPDX-License-Identifier: BSD-3-Clause
"""The generated RevPi screen in the real PyDM, under Xvfb, against the running demo IOC:
every widget connects, the process image shows on the screen, and the screen's controls
write the process image."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


from screen_helpers import DEMO_ARGS, SCREENSHOTS

from harness import TIME_SCALE, poll  # noqa: E402


def _image(work: Path, **kwargs):
    """The demo's process image, opened next to the IOC as another program would."""
    import revpimodio2

    return revpimodio2.RevPiModIO(procimg=str(work / "procimg.bin"),
                                  configrsc=str(work / "config.rsc"),
                                  replace_io_file=str(work / "replace_io.conf"), debug=False,
                                  **kwargs)


def _screen(work: Path, out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "screen", *DEMO_ARGS,
                    "-o", str(out)], cwd=work, check=True, timeout=60)
    return out


def test_every_widget_of_the_revpi_screen_connects_and_shows_the_process_image(
        revpi_demo, pydm_screen, tmp_path):
    screen = pydm_screen(_screen(revpi_demo.work, tmp_path / "revpi.ui"))
    assert screen.widgets > 100  # every record of the demo database, and the pool panel
    assert screen("connected", 30 * TIME_SCALE)["disconnected"] == []

    # an input written into the process image by another program appears on the screen
    field = _image(revpi_demo.work, simulator=True, shared_procimg=True)
    try:
        field.io.Offset.value = -1234
        field.io.DoorOpen.value = True
        field.writeprocimg()
        assert poll(lambda: screen("show", "RevPi:Offset")[0]["text"] == "-1234", timeout=5)
        assert poll(lambda: screen("show", "RevPi:DoorOpen")[0]["on"] == [1], timeout=5)
    finally:
        field.cleanup()

    # the core status and the pool panel are live too
    assert poll(lambda: screen("show", "RevPi:Core:Temperature")[0]["text"].endswith("degC"))
    assert poll(lambda: (screen("show", "RevPi:pydev:Workers")[0]["value"] or 0) >= 1)

    if SCREENSHOTS:  # the picture in docs/revpi.md: the screen as the demo runs
        shot = Path(SCREENSHOTS) / "revpi-screen.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert screen("grab", shot)["saved"]


def test_the_screens_controls_write_the_process_image(revpi_demo, pydm_screen, tmp_path):
    screen = pydm_screen(_screen(revpi_demo.work, tmp_path / "revpi.ui"))
    assert screen("connected", 30 * TIME_SCALE)["disconnected"] == []
    image = _image(revpi_demo.work, monitoring=True)

    def output(name: str):
        image.readprocimg()
        return getattr(image.io, name).value
    try:
        assert output("O_3") is False
        screen("click", "RevPi:O_3", "On")
        assert poll(lambda: output("O_3") is True, timeout=5)
        assert poll(lambda: screen("show", "RevPi:O_3")[0]["checked"] == ["On"])
        screen("click", "RevPi:O_3", "Off")
        assert poll(lambda: output("O_3") is False, timeout=5)

        screen("spin", "RevPi:OutputValue_1", 4321)
        assert poll(lambda: output("OutputValue_1") == 4321, timeout=5)
        # written, the record has a value: its widgets' alarm borders clear
        assert poll(lambda: [w["severity"] for w in screen("show", "RevPi:OutputValue_1")]
                    == [0, 0])
        screen("spin", "RevPi:Trim", -17)
        assert poll(lambda: output("Trim") == -17, timeout=5)
    finally:
        image.cleanup()


def test_the_screen_file_names_only_records_of_the_demo_database(tmp_path):
    from pydevice.screens import dbtext, pydm_ui

    demo = Path(__file__).resolve().parents[2] / "iocBoot" / "iocrevpi"
    ui = _screen(demo, tmp_path / "revpi.ui").read_text()
    records = {r.name for r in dbtext.parse((demo / "revpi.db").read_text(), {"P": "RevPi:"})}
    pvs = set(pydm_ui.pv_names(ui))
    pool = {pv for pv in pvs if pv.startswith("RevPi:pydev:")}
    stats = (demo.parents[1] / "db" / "pydevStats.db").read_text()
    assert pvs - pool == records
    assert pool == {r.name for r in dbtext.parse(stats, {"P": "RevPi:pydev:"})}  # st.cmd's P

