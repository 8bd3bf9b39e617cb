# SPDX-License-Identifier: BSD-3-Clause
"""sync() against itself and against the reader thread (issue #23), on gpio-sim with the
pydev stand-in: the :Sync records of every spelling of a chip run sync() at once, and the
reader pushes edges while they do."""
from __future__ import annotations

import logging
import sys
import threading

import pydev
from simchip import wait_for

from pydevice.gpio import Device, GpioError, Lines, iointr_name


def pushes(name):
    return [c for c in pydev.calls if c.name == name]


def _spinning(fn, n):
    """``n`` threads calling ``fn`` until the returned event is set (GpioError ignored: a
    busy line raises, as the calling record alarms)."""
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                fn()
            except GpioError:
                pass
    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    return stop, threads


def test_a_line_released_while_syncs_run_comes_back_requested_once(sim, caplog):
    """The Sync records of every spelling run sync() at once; the line another process held
    is released meanwhile: the IOC requests it once and its records get its state."""
    caplog.set_level(logging.ERROR)
    name = iointr_name(sim.name, "GPIO22")
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often, as the IOC's workers run the syncs
    try:
        for _ in range(4):
            pydev.clear()
            caplog.clear()
            ln = Lines(sim.name)  # consumer 'pydev', as the IOC's
            try:
                with Device(sim.name) as dev:
                    holder = dev.request(2, consumer="holder").open()
                    ln.watch("GPIO22", bias="as-is")
                    stop, threads = _spinning(ln.sync, 4)
                    assert wait_for(lambda: len(pushes(name)) >= 8)  # busy: alarms
                    holder.close()
                assert wait_for(lambda: any(c.value in (0, 1) for c in pushes(name)))
                stop.set()
                for t in threads:
                    t.join(10)
                ln.sync()  # the next period's: nothing changed
                assert "in use by 'pydev'" not in caplog.text
                assert pushes(name)[-1].value in (0, 1), pushes(name)[-1]
                assert pushes(name + ":count")[-1].value == 0
            finally:
                ln.close()
    finally:
        sys.setswitchinterval(interval)


def test_an_edge_is_never_stamped_with_another_time_while_sync_runs(sim):
    pydev.clear()
    sim.pull(0, 0)
    ln = Lines(sim.name)
    name = iointr_name(sim.name, "GPIO17")
    stop = threading.Event()

    def syncing():
        while not stop.is_set():
            ln.sync()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often: the reader is caught mid-push
    try:
        ln.watch("GPIO17", count="both", bias="as-is")  # every edge counted: count N is edge N
        ln.sync()
        thread = threading.Thread(target=syncing)
        thread.start()
        for i in range(40):
            sim.pull(0, (i + 1) % 2)
            assert wait_for(lambda: sim.level(0) == (i + 1) % 2)
        # every edge the kernel reported is pushed (under emulation gpio-sim misses some)
        assert wait_for(lambda: pushes(name + ":count")[-1].value == ln.counts("GPIO17").count)
        stop.set()
        thread.join(10)
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        ln.close()
    pushed = [c for c in pydev.calls if c.name in (name, name + ":count")]
    stamps, order = {}, []
    for value, count in zip(pushed[0::2], pushed[1::2]):  # a value and its count, together
        assert (value.name, count.name) == (name, name + ":count") and \
            value.timestamp == count.timestamp, (value, count)
        if count.value:  # count 0: the first sync's state, stamped when it was read
            stamps.setdefault((count.value, value.value), set()).add(value.timestamp)
            order.append(value.timestamp)
    assert all(len(s) == 1 for s in stamps.values()), {k: s for k, s in stamps.items() if len(s) > 1}
    assert order == sorted(order)  # pushed in the order the edges came
    assert len(stamps) >= 5  # enough edges seen (a read may drain several: it pushes the last)
