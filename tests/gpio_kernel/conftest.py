# SPDX-License-Identifier: BSD-3-Clause
"""In-guest GPIO tests: they need a real kernel with gpio-sim, i.e. the gpio-sim rig.

On any other machine (the host's ``make test``) nothing here is collected; the host test
``tests/gpio/test_kernel_rig.py`` boots the rig and runs this directory inside it.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(REPO / "python")]  # HERE.parent: polling

from simchip import SimChip, available  # noqa: E402

if not available():
    collect_ignore_glob = ["test_*.py"]
else:
    # the guest boots with `lo` down; CA, the harness's port choice and TCP tests need it
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)


@pytest.fixture
def sim():
    """An 8-line simulated chip named like a Raspberry Pi's (GPIO17 at offset 0, ...)."""
    names = {0: "GPIO17", 1: "GPIO27", 2: "GPIO22", 3: "GPIO4", 4: "GPIO5", 5: "GPIO6"}
    with SimChip(8, names=names, label="pinctrl-sim") as chip:
        yield chip


@pytest.fixture
def sim_factory():
    """Make extra chips; all are removed after the test."""
    chips = []

    def make(*args, **kw):
        chips.append(SimChip(*args, **kw))
        return chips[-1]

    yield make
    for c in reversed(chips):
        c.close()
