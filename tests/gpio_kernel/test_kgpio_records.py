# SPDX-License-Identifier: BSD-3-Clause
"""The records binding (pydevice.gpio.records) on gpio-sim, with the pydev stand-in."""
from __future__ import annotations

import time

import pydev
import pytest
from simchip import wait_for

from pydevice.gpio import Device, GpioError, LineBusyError, Lines, iointr_name


def pushes(name):
    return [c for c in pydev.calls if c.name == name]


@pytest.fixture
def lines(sim):
    pydev.clear()
    ln = Lines(sim.name, consumer="pydev-test")
    yield ln
    ln.close()


def test_get_set_and_safe_state_at_close(sim, lines):
    sim.pull(0, 1)
    assert lines.get("GPIO17") == 1
    lines.set("GPIO27", 1)
    assert sim.level(1) == 1
    lines.set("GPIO27", 0)
    assert sim.level(1) == 0
    lines.output(2, initial=1, safe=0)
    assert sim.level(2) == 1
    lines.output(3, initial=1, safe=None)
    lines.set(3, 1)
    lines.set("GPIO27", 1)
    lines.park()  # what close() does first (gpio-sim returns released lines to their pull)
    assert sim.level(2) == 0          # safe value
    assert sim.level(3) == 1          # safe=None: left as it was
    assert sim.level(1) == 0          # set() outputs default to safe=0
    lines.close()
    with Device(sim.name) as dev:
        assert not any(li.used for li in dev.get_info().lines)


def test_errors_are_clear_and_per_line(sim, lines):
    with Device(sim.name) as dev, dev.request(4, consumer="other-app"):
        with pytest.raises(LineBusyError) as ei:
            lines.get("GPIO5")
        assert str(ei.value) == f"{sim.name} line 4 (GPIO5) is in use by 'other-app'"
        assert lines.get("GPIO6") in (0, 1)  # other lines unaffected
    with pytest.raises(GpioError, match=f"{sim.name}: no line named 'NOPE'"):
        lines.get("NOPE")
    with pytest.raises(GpioError, match="gpiochip77"):
        Lines("gpiochip77").get(0)
    lines.get(7)
    with pytest.raises(GpioError, match="is an input here"):
        lines.set(7, 1)


def test_watch_pushes_values_counts_with_kernel_timestamps(sim, lines):
    sim.pull(0, 0)
    lines.watch("GPIO17", bias="as-is")
    name = iointr_name(sim.name, "GPIO17")
    lines.sync()  # first sync pushes the initial state
    assert pushes(name)[-1].value == 0
    t0 = time.time()
    sim.pull(0, 1)
    assert wait_for(lambda: pushes(name)[-1].value == 1)
    ts = pushes(name)[-1].timestamp
    assert t0 - 0.5 < ts < time.time() + 0.5
    assert pushes(name + ":count")[-1].value == 1
    sim.pull(0, 0)
    assert wait_for(lambda: pushes(name)[-1].value == 0)
    assert pushes(name + ":count")[-1].value == 1  # counts rising edges by default
    lines.watch("GPIO17")  # watching again (st.cmd and a PINI record) keeps the count
    assert lines.counts("GPIO17").count == 1
    n = len(pydev.calls)
    lines.sync()
    assert len(pydev.calls) == n  # nothing changed: sync pushes nothing


def test_counter_loses_nothing_when_kernel_buffer_overflows(sim):
    pydev.clear()
    ln = Lines(sim.name, event_buffer_size=2)
    try:
        ln.watch(1, count="both")
        name = iointr_name(sim.name, 1)
        with ln._lines[1].lock:  # hold the reader thread off so the kernel buffer overflows
            for i in range(30):
                sim.pull(1, (i + 1) % 2)
                time.sleep(0.003)
            time.sleep(0.2)
        assert wait_for(lambda: pushes(name + ":lost") and pushes(name + ":lost")[-1].value > 0)
        time.sleep(0.2)
        c = ln.counts(1)
        assert c.count == c.last_seqno  # every edge the kernel saw is counted
        assert pushes(name + ":count")[-1].value == c.count
        ln.sync()  # pushes the level if the last edge was too quick for gpio-sim
        assert pushes(name)[-1].value == sim.level(1)
    finally:
        ln.close()


def test_watch_failure_alarms_records_and_sync_retries(sim, caplog):
    """A busy line at record init: watch() still names it (the record stays usable), logs
    why, and sync() alarms its records until the line is free."""
    pydev.clear()
    ln = Lines(sim.name)
    try:
        with Device(sim.name) as dev:
            holder = dev.request(2, consumer="holder").open()
            assert ln.watch("GPIO22") == iointr_name(sim.name, "GPIO22")
            assert "GPIO22) is in use by 'holder'" in caplog.text
            with pytest.raises(GpioError, match="in use by 'holder'"):
                ln.sync()
            pushed = pushes(iointr_name(sim.name, "GPIO22"))[-1].value
            assert isinstance(pushed, pydev.Alarm) and "GPIO22" in pushed.message
            holder.close()
        ln.sync()  # the line is free now: requested, and its state pushed
        assert pushes(iointr_name(sim.name, "GPIO22"))[-1].value in (0, 1)
        sim.pull(2, 1)
        assert wait_for(lambda: pushes(iointr_name(sim.name, "GPIO22"))[-1].value == 1)
    finally:
        ln.close()


def test_watch_of_a_line_the_chip_lacks_raises_so_the_record_is_disabled(sim):
    ln = Lines(sim.name)
    try:
        with pytest.raises(GpioError, match=f"{sim.name}: no line named 'GPIO99'"):
            ln.watch("GPIO99")
        with pytest.raises(ValueError, match="what="):
            ln.watch("GPIO17", what="edges")
        assert ln.watch("GPIO17", what="count") == iointr_name(sim.name, "GPIO17", "count")
        assert ln.watch(0, what="lost") == iointr_name(sim.name, 0, "lost")  # same line
    finally:
        ln.close()
