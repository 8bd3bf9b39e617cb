# SPDX-License-Identifier: BSD-3-Clause
"""Faults of issue 14 in the records binding, on gpio-sim with the pydev stand-in:
a chip that vanishes and comes back, one line owned once whatever its spelling."""
from __future__ import annotations

import logging
import time

import pydev
import pytest
from simchip import wait_for

from pydevice.gpio import Device, GpioError, Lines, iointr_name
from pydevice.gpio import records


def alarms(name):
    return [c.value for c in pydev.calls if c.name == name and isinstance(c.value, pydev.Alarm)]


def values(name):
    return [c.value for c in pydev.calls if c.name == name and not isinstance(c.value, pydev.Alarm)]


def test_vanishing_chip_alarms_once_idles_and_recovers(sim, caplog):
    pydev.clear()
    lines = Lines(sim.name, consumer="pydev-test")
    try:
        sim.pull(0, 0)
        lines.watch("GPIO17")
        lines.sync()
        lines.set("GPIO27", 1)
        assert sim.level(1) == 1
        name = iointr_name(sim.name, "GPIO17")
        caplog.clear()
        sim.set_live(False)
        assert wait_for(lambda: alarms(name)), pydev.calls[-5:]
        al = alarms(name)[-1]
        assert al.stat == "COMM" and al.sevr == "INVALID", (al.stat, al.sevr)
        # the reader thread idles: no busy loop, no stream of tracebacks
        t0 = time.process_time()
        time.sleep(1.5)
        cpu = time.process_time() - t0
        assert cpu < 0.3, f"{cpu:.2f} s CPU in 1.5 s with the chip gone"
        with caplog.at_level(logging.ERROR):
            for _ in range(3):
                with pytest.raises(GpioError):
                    lines.sync()
                with pytest.raises(GpioError) as ei:
                    lines.set("GPIO27", 0)
                assert ei.value.stat == "COMM", ei.value.stat
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and not r.exc_info]
        tracebacks = [r for r in caplog.records if r.exc_info]
        assert not tracebacks, tracebacks[0].getMessage()
        assert len({r.getMessage() for r in errors}) <= 3, [r.getMessage() for r in errors]
        assert len(alarms(name)) <= 4 + 1  # one from the reader, one per sync()

        sim.set_live(True)
        if sim.name != lines.chip:
            pytest.skip(f"kernel renumbered the chip ({lines.chip} -> {sim.name})")
        lines.sync()  # requests the watched line again and pushes its state
        assert values(name)[-1] == 0
        sim.pull(0, 1)
        assert wait_for(lambda: values(name)[-1] == 1), values(name)[-3:]
        lines.set("GPIO27", 1)  # no "no line named": the chip is opened again
        assert sim.wait_level(1, 1) == 1
        lines.set("GPIO27", 0)
        assert sim.wait_level(1, 0) == 0
    finally:
        lines.close()


def test_one_line_one_owner_whatever_its_spelling(sim):
    pydev.clear()
    try:
        by_name = records.chip(sim.name)
        by_label = records.chip("pinctrl-sim")
        by_path = records.chip(sim.path)
        assert by_name is by_label is by_path
        by_name.output(2, initial=0, safe=1)      # st.cmd, by offset
        by_label.set("GPIO22", 1)                 # a record, by name (offset 2)
        assert sim.wait_level(2, 1) == 1
        by_path.set(2, 0)
        assert sim.wait_level(2, 0) == 0
        # a watched line by name and by offset is one watch
        by_name.watch("GPIO17")
        by_label.watch(0)
        assert by_name.get("GPIO17") in (0, 1)
        with pytest.raises(GpioError, match="input here"):
            by_path.set("GPIO17", 1)
        by_name.park()  # what exit does first (gpio-sim returns released lines to their pull)
        assert sim.level(2) == 1  # st.cmd's safe value, not the record's default 0
    finally:
        records.close_all()


def _used(sim):
    """The lines the kernel shows requested, with their consumers: the ground truth."""
    with Device(sim.name) as dev:
        return {li.offset: li.consumer for li in dev.get_info().lines if li.used}


def test_one_owner_also_for_spellings_used_while_the_chip_was_missing(sim):
    """A chip missing at the first gpio.chip(label) (st.cmd ran before the driver bound)
    and spelled by name or path once it is there: one owner per line all the same, and
    the label's records get their pushes."""
    pydev.clear()
    name = sim.name
    sim.set_live(False)
    try:
        by_label = records.chip("pinctrl-sim")
        by_name = records.chip(name)  # both spellings made while nothing resolves them
        assert by_label.watch("GPIO17") == iointr_name("pinctrl-sim", "GPIO17")
        sim.set_live(True)
        if sim.name != name:
            pytest.skip(f"kernel renumbered the chip ({name} -> {sim.name})")
        sim.pull(0, 0)
        by_path = records.chip(sim.path)  # resolves at once: the first to hold the chip
        by_path.set("GPIO27", 1)
        by_label.set(1, 0)  # same line by offset, through the label: no "in use by 'pydev'"
        assert sim.wait_level(1, 0) == 0
        by_name.output(2, initial=1, safe=0)
        by_label.set("GPIO22", 0)
        assert sim.wait_level(2, 0) == 0
        by_label.sync()  # the watch made while the chip was missing: requested by the owner
        assert values(iointr_name("pinctrl-sim", "GPIO17"))[-1] == 0
        assert by_path.get("GPIO17") == 0  # read through that one request
        with pytest.raises(GpioError, match="input here"):
            by_name.set(0, 1)
        sim.pull(0, 1)
        assert wait_for(lambda: values(iointr_name("pinctrl-sim", "GPIO17"))[-1] == 1)
        assert _used(sim) == {0: "pydev", 1: "pydev", 2: "pydev"}
        assert records.chip("pinctrl-sim") is records.chip(name) is by_path
    finally:
        records.close_all()
    assert _used(sim) == {}
