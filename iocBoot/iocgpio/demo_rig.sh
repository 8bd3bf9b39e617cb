#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Boot the gpio-sim rig and run the GPIO demo IOC on a simulated chip (see demo_rig.py).
cd "$(dirname "$0")/../.." || exit 1
RIG_PY="$PWD/.venv/bin/python" exec ../shared/tools/gpio-sim-rig/run.sh iocBoot/iocgpio/demo_rig.py
