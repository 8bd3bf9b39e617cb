# SPDX-License-Identifier: BSD-3-Clause
"""Run the GPIO demo IOC (st.cmd) on a simulated chip, inside the gpio-sim rig.

    ./demo_rig.sh        # from iocBoot/iocgpio; boots the rig and runs this script there

Makes a gpio-sim chip whose lines are named like a Raspberry Pi's, starts ``st.cmd`` with
``GPIO_CHIP`` set to it, wiggles the simulated input, writes the output over Channel Access
and prints what happens.
"""
import os
import pathlib
import subprocess
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "tests" / "gpio_kernel"), str(REPO / "python")]
subprocess.run(["ip", "link", "set", "lo", "up"], check=False)  # the guest boots with lo down

from simchip import SimChip  # noqa: E402

os.environ.update({"EPICS_CA_AUTO_ADDR_LIST": "NO", "EPICS_CA_ADDR_LIST": "127.0.0.1",
                   "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1", "EPICS_PVA_AUTO_ADDR_LIST": "NO",
                   "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1"})
import epics  # noqa: E402

with SimChip(8, names={0: "GPIO17", 1: "GPIO27"}, label="demo-sim") as sim:
    env = {**os.environ, "GPIO_CHIP": sim.name}
    ioc = subprocess.Popen([str(next((REPO / "bin").glob("*/pydevIoc"))), "st.cmd"], cwd=HERE,
                           env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()

    def console():
        for line in ioc.stdout:
            print("  ioc> " + line, end="", flush=True)
            if "iocRun: All initialization complete" in line:
                ready.set()

    threading.Thread(target=console, daemon=True).start()
    try:
        if not ready.wait(60):
            sys.exit("the IOC did not start")
        time.sleep(1.5)  # the Sync record pushes the initial state within a second
        pv = epics.PV("Demo:GPIO17", form="time")
        pv.add_callback(lambda value, timestamp, **kw: print(
            f"  monitor Demo:GPIO17 = {value}  (TIME {timestamp:.6f})", flush=True))
        time.sleep(1)
        for level in (1, 0, 1, 0):
            print(f"simulated input GPIO17 -> {level}", flush=True)
            sim.pull(0, level)
            time.sleep(0.5)
        print(f"Demo:GPIO17:Count = {int(epics.caget('Demo:GPIO17:Count'))} rising edges, "
              f"Demo:GPIO17:Lost = {epics.caget('Demo:GPIO17:Lost')}", flush=True)
        for v in (1, 0):
            epics.caput("Demo:GPIO27", v, wait=True)
            print(f"caput Demo:GPIO27 {v} -> simulated line level {sim.level(1)}", flush=True)
        print("The operator screen of this IOC (on a board, next to `make run-gpio`; needs pip "
              "install 'pydevice[screens]'):\n  .venv/bin/python -m pydevice screen "
              f"iocBoot/iocgpio/gpio.db -m P=Demo:,CHIP={sim.name},IN=GPIO17,OUT=GPIO27 "
              "-o gpio.ui && .venv/bin/pydm gpio.ui", flush=True)
    finally:
        ioc.stdin.write("exit\n")
        ioc.stdin.flush()
        ioc.wait(10)
        print(flush=True)  # the IOC's last prompt has no newline; the rig wants whole lines
