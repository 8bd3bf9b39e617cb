# SPDX-License-Identifier: BSD-3-Clause
"""Take docs/images/gpio-screen.png: the generated PyDM screen of the GPIO demo IOC, connected
to the demo running on a real kernel GPIO chip (gpio-sim) inside the gpio-sim rig.

    .venv/bin/python tests/screens/gpio_rig_screenshot.py [-o docs/images/gpio-screen.png]

On the host this boots the rig (``../shared/tools/gpio-sim-rig/run.sh``, ``nice``, up to
``RIG_TIMEOUT`` seconds, 1200 by default: PyDM under the rig's software emulation takes
minutes) and runs itself there with ``--in-rig``.  In the guest it makes a simulated chip with
the demo's line names, starts ``iocBoot/iocgpio/st.cmd`` on it, generates the screen with the
command docs/gpio.md gives, opens it in PyDM under Xvfb, raises the input three times (the
screen must show the LED on and three rising edges counted), clicks ``High`` of the output on
the screen (the simulated line must go high), checks that no widget shows an alarm, and grabs
the window.  The rig deletes its files at exit and has no network, so the PNG comes back on
the console as base64 between two marker lines (with its SHA-256); the host checks and saves
it.  Any failed check ends the run without a picture.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RIG = ROOT.parent / "shared" / "tools" / "gpio-sim-rig" / "run.sh"
DEMO = ROOT / "iocBoot" / "iocgpio"
BEGIN, END = "----- gpio-screen.png base64 begin", "----- gpio-screen.png base64 end"
LINES = {0: "GPIO17", 1: "GPIO27"}  # the demo's default IN and OUT, as named on a Raspberry Pi
EDGES = 3  # rising edges of the input before the picture
NO_ALARM = 0
OPEN_ATTEMPTS = 4  # PyDM opens with a widget painted disconnected in about 1 run in 3

sys.path.insert(0, str(HERE))
from screen_helpers import Driver, start_xvfb  # noqa: E402


class Failed(RuntimeError):
    """A check in the guest failed: no picture is made."""


def check(ok: bool, what: str) -> None:
    if not ok:
        raise Failed(what)


def say(text: str) -> None:
    print(f"[screenshot] {text}", flush=True)


def open_screen(ui: Path, display: dict[str, str]) -> Driver:
    """The screen in PyDM with every widget connected and painted so.

    PyDM's pyepics plugin can miss a widget's connection signal (tests/screens/pydm_driver.py
    says how); such a widget stays painted as disconnected (a white LED) although its channel
    is up, which is not the picture of a connected screen: then the screen is opened again."""
    for attempt in range(1, OPEN_ATTEMPTS + 1):
        screen = Driver(ui, display)
        answer = screen("connected", 900)
        check(answer["disconnected"] == [], f"widgets not connected: {answer['disconnected']}")
        missed = answer.get("pydm_missed_signal", [])
        if not missed:
            return screen
        say(f"attempt {attempt}: PyDM missed the connection signal of {missed}; reopening")
        screen.close()
    raise Failed(f"PyDM missed a connection signal in each of {OPEN_ATTEMPTS} attempts")


def in_rig() -> None:
    """The guest side: demo IOC on a simulated chip, PyDM on Xvfb, checks, the PNG on stdout."""
    sys.path[:0] = [str(ROOT / "tests" / "gpio_kernel"), str(ROOT / "tests"),
                    str(ROOT / "python")]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)  # the guest boots with lo down
    from harness import Ioc, poll  # sets the CA environment PyDM inherits
    from simchip import SimChip

    xvfb, display = start_xvfb()
    try:
        with SimChip(8, names=LINES, label="demo-sim") as sim:
            sim.pull(0, 0)
            ui = Path(tempfile.mkdtemp()) / "gpio.ui"
            # the command docs/gpio.md and `make run-gpio` give, with the simulated chip's name
            command = [sys.executable, "-m", "pydevice", "screen", str(DEMO / "gpio.db"), "-m",
                       f"P=Demo:,CHIP={sim.name},IN=GPIO17,OUT=GPIO27", "-o", str(ui)]
            say("screen: " + shlex.join(command[1:]))
            subprocess.run(command, check=True, timeout=600,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
            with Ioc(st_cmd=DEMO / "st.cmd", cwd=DEMO, env={"GPIO_CHIP": sim.name},
                     prefix="Demo:", startup_timeout=300) as ioc:
                check(poll(lambda: ioc.caget("Demo:GPIO17.UDF") == 0, 60),
                      "the demo's input never read its line:\n" + ioc.output[-2000:])
                say(f"demo IOC up on {sim.name}; opening PyDM")
                screen = open_screen(ui, display)
                say("every widget connected; wiggling the input")
                for edge in range(EDGES):  # ends high: the LED on in the picture
                    for level in (1, 0) if edge < EDGES - 1 else (1,):
                        sim.pull(0, level)
                        check(poll(lambda: ioc.caget("Demo:GPIO17") == level, 30),
                              f"the demo's input did not follow the line to {level}")
                check(poll(lambda: screen("show", "Demo:GPIO17:Count")[0]["value"] == EDGES
                           and screen("show", "Demo:GPIO17")[0]["on"] == [1], 60),
                      f"the screen does not show the input: {screen('show', 'Demo:GPIO17')} "
                      f"{screen('show', 'Demo:GPIO17:Count')}")
                screen("click", "Demo:GPIO27", "High")
                check(sim.wait_level(1, 1, 30) == 1, "the click on High did not drive GPIO27")
                check(poll(lambda: screen("show", "Demo:GPIO27")[0]["checked"] == ["High"], 30),
                      f"the screen does not show the output: {screen('show', 'Demo:GPIO27')}")
                say(f"GPIO17 high after {EDGES} rising edges, GPIO27 driven high by a click")
                shown = {pv: screen("show", pv) for pv in screen("widgets")}
                alarms = {pv: [w["severity"] for w in ws] for pv, ws in shown.items()
                          if any(w["severity"] != NO_ALARM for w in ws)}
                check(alarms == {}, f"widgets in alarm: {alarms}")
                for pv, widgets in sorted(shown.items()):
                    say(f"  {pv}: " + "; ".join(f"{w['class']} value={w['value']!r} "
                                                 f"severity={w['severity']}" for w in widgets))
                png = ui.with_suffix(".png")
                check(screen("grab", png)["saved"], "the grab was not saved")
                screen.close()
    finally:
        xvfb.kill()
        xvfb.wait()
    data = png.read_bytes()
    print(BEGIN, hashlib.sha256(data).hexdigest(), flush=True)
    text = base64.b64encode(data).decode()
    for start in range(0, len(text), 76):
        print(text[start:start + 76], flush=True)
    print(END, flush=True)


def on_host(out: Path) -> int:
    """Boot the rig with this script, show the guest's output, save the PNG it sends back."""
    if not RIG.exists():
        print(f"gpio-sim rig not found at {RIG}", file=sys.stderr)
        return 2
    env = {**os.environ, "RIG_PY": sys.executable,
           "RIG_TIMEOUT": os.environ.get("RIG_TIMEOUT", "1200")}
    proc = subprocess.Popen(["nice", str(RIG), str(Path(__file__).resolve()), "--in-rig"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
                            errors="replace")
    digest, chunks, inside = None, [], False
    for line in proc.stdout:
        line = line.strip()
        if line.startswith(BEGIN):
            digest, inside = line.split()[-1], True
        elif line == END:
            inside = False
        elif inside:
            chunks.append(line)
        else:
            print(line, flush=True)
    rc = proc.wait()
    if digest is None:
        print(f"no picture came back from the rig (exit {rc})", file=sys.stderr)
        return rc or 1
    data = base64.b64decode("".join(chunks))
    if hashlib.sha256(data).hexdigest() != digest:
        print("the picture came back damaged (SHA-256 differs)", file=sys.stderr)
        return 1
    out.write_bytes(data)
    print(f"saved {out} ({len(data)} bytes)")
    return rc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs/images/gpio-screen.png")
    parser.add_argument("--in-rig", action="store_true", help="the guest side (run.sh runs it)")
    args = parser.parse_args()
    if args.in_rig:
        try:
            in_rig()
        except Failed as why:
            print(f"[screenshot] FAILED: {why}", flush=True)
            return 1
        return 0
    return on_host(args.output)


if __name__ == "__main__":
    sys.exit(main())
