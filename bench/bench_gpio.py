# SPDX-License-Identifier: BSD-3-Clause
"""GPIO benchmark: edge-to-monitor latency and the highest edge rate counted without loss.

    .venv/bin/python bench/bench_gpio.py [N] [BURST]   # on the host: re-runs itself in the rig

N edges per latency measurement (default 100), BURST edges per rate step (default 400).

Inside the rig it makes a gpio-sim chip, starts a real pydevIoc with a generated database,
and drives the simulated input from this process:

- latency: simulated edge (sysfs write) -> kernel edge timestamp -> CA monitor update of the
  ``bi`` record, and the same edge -> a ``Request`` event in plain Python, and -> an RPIO
  callback;
- rate: paced square waves at increasing rates; edges generated vs. seen by the kernel
  (``line_seqno``) vs. counted by the ``int64in`` ``:Count`` record (``count='both'``).

Prints markdown tables.
"""
from __future__ import annotations

import os
import pathlib
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
RIG = REPO.parent / "shared" / "tools" / "gpio-sim-rig" / "run.sh"
sys.path[:0] = [str(REPO / "tests" / "gpio_kernel"), str(REPO / "tests"), str(REPO / "python")]


def in_guest() -> bool:
    return pathlib.Path("/sys/kernel/config/gpio-sim").is_dir()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def row(name, xs):
    ms = [x * 1e3 for x in xs]
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.2f} | {pct(ms, 90):.2f} | "
            f"{max(ms):.2f} |")


def toggle_wait(sim, off, level):
    t = time.time()
    sim.pull(off, level)
    return t


def bench_python(sim, n):
    from pydevice.gpio import Device
    lat = []
    with Device(sim.name) as dev, dev.request(2, edge="both") as req:
        for i in range(n):
            t = toggle_wait(sim, 2, (i + 1) % 2)
            ev = req.wait_for_edge(2)
            lat.append(time.time() - t)
            assert ev is not None
            time.sleep(0.005)
    return lat


def bench_rpio(sim, n):
    import pydevice.gpio.rpio as RPIO
    got = queue.Queue()
    RPIO.add_interrupt_callback(22, lambda g, v: got.put(time.time()))
    RPIO.wait_for_interrupts(threaded=True)
    lat = []
    try:
        for i in range(n):
            t = toggle_wait(sim, 2, (i + 1) % 2)
            lat.append(got.get(timeout=5) - t)
            time.sleep(0.005)
    finally:
        RPIO.cleanup()
    return lat


def square_wave(sim, off, level, rate, burst):
    """``burst`` edges on line ``off`` paced at ``rate`` edges/s (0: as fast as possible);
    returns (new level, achieved rate)."""
    period = 1.0 / rate if rate else 0.0
    t0 = time.perf_counter()
    for i in range(burst):
        level ^= 1
        sim.pull(off, level)
        if period:
            # sleep, not spin: a spinning writer starves the kernel's IRQ thread
            left = t0 + (i + 1) * period - time.perf_counter()
            if left > 0:
                time.sleep(left)
    return level, burst / (time.perf_counter() - t0)


def bench_python_rates(sim, rates, burst):
    """The same square waves read by a plain Request (no IOC): gpio-sim's own limit."""
    from pydevice.gpio import Device
    rows = []
    with Device(sim.name) as dev, dev.request(1, edge="both", event_buffer_size=1024) as req:
        level = req[1]
        for rate in rates:
            level, achieved = square_wave(sim, 1, level, rate, burst)
            time.sleep(0.3)
            evs = list(req.events(timeout=0.2))
            seen = (evs[-1].line_seqno - evs[0].line_seqno + 1) if evs else 0
            rows.append((rate, achieved, burst, seen))
    return rows


def bench_ioc(sim, tiny, n, rates, burst):
    import epics
    from harness import Ioc, poll
    from pydevice.gpio.dbgen import generate_db
    from pydevice.gpio import Device

    tmp = pathlib.Path(tempfile.mkdtemp())
    for chip, prefix in ((sim, "B:"), (tiny, "T:")):
        with Device(chip.name) as dev:
            infos = dev.get_info().lines
        (tmp / f"{chip.name}.db").write_text(generate_db(chip.name, infos, prefix=prefix,
                                                         lines=["GPIO17"], count="both"))
    results = {}
    # `tiny`'s lines get a kernel buffer of 2 events: it overflows at once, on purpose
    pre = ['pydev("from pydevice import gpio")',
           f'pydev("gpio.chip(\'{tiny.name}\').event_buffer_size = 2")']
    with Ioc(db_files=[(tmp / f"{c.name}.db", "") for c in (sim, tiny)], pre_init=pre,
             startup_timeout=120) as ioc:
        assert poll(lambda: ioc.caget("B:GPIO17.UDF") == 0, 20), ioc.output
        updates = queue.Queue()
        pv = epics.PV("B:GPIO17", form="time", auto_monitor=True)
        pv.add_callback(lambda value, timestamp, **kw: updates.put((time.time(), value, timestamp)))
        time.sleep(1)
        while not updates.empty():
            updates.get()
        mon, kern, k2m = [], [], []
        level = ioc.caget("B:GPIO17")
        for i in range(n):
            level ^= 1
            t = toggle_wait(sim, 0, level)
            while True:
                t_cb, value, stamp = updates.get(timeout=10)
                if value == level:
                    break
            mon.append(t_cb - t)
            kern.append(stamp - t)
            k2m.append(t_cb - stamp)
            time.sleep(0.01)
        pv.clear_callbacks()
        results["latency"] = (mon, kern, k2m)

        rate_rows = []
        for rate in rates:
            start_count = int(ioc.caget("B:GPIO17:Count"))
            seq0 = ioc.pyeval(f"gpio.chip('{sim.name}').counts('GPIO17').last_seqno")
            level, achieved = square_wave(sim, 0, level, rate, burst)
            expect = start_count + burst
            poll(lambda: int(ioc.caget("B:GPIO17:Count")) >= expect, 5)
            time.sleep(0.5)
            counted = int(ioc.caget("B:GPIO17:Count")) - start_count
            seq = ioc.pyeval(f"gpio.chip('{sim.name}').counts('GPIO17').last_seqno") - seq0
            lost = int(ioc.caget("B:GPIO17:Lost"))
            rate_rows.append((rate, achieved, burst, seq, counted, lost))
            # resync: leave the line in a known state for the next burst
            time.sleep(0.2)
        results["rates"] = rate_rows

        tiny_rows = []
        level = ioc.caget("T:GPIO17")
        for rate in (1000, 0):
            start_count = int(ioc.caget("T:GPIO17:Count"))
            start_lost = int(ioc.caget("T:GPIO17:Lost"))
            seq0 = ioc.pyeval(f"gpio.chip('{tiny.name}').counts('GPIO17').last_seqno")
            level, achieved = square_wave(tiny, 0, level, rate, burst)
            time.sleep(1.0)
            counted = int(ioc.caget("T:GPIO17:Count")) - start_count
            seq = ioc.pyeval(f"gpio.chip('{tiny.name}').counts('GPIO17').last_seqno") - seq0
            lost = int(ioc.caget("T:GPIO17:Lost")) - start_lost
            tiny_rows.append((rate, achieved, burst, seq, counted, lost))
        results["tiny"] = tiny_rows
    return results


def guest_main() -> int:
    from simchip import SimChip
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    burst = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    rates = [20, 50, 100, 200, 500, 1000, 0]
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    print(f"Machine: QEMU TCG guest (Linux {platform.release()}, gpio-sim), {os.cpu_count()} vCPUs "
          f"({cpu}); host: 2-core x86_64 VM shared with other work.\n")
    names = {0: "GPIO17", 1: "GPIO27", 2: "GPIO22"}
    with SimChip(8, names=names, label="bench-sim") as sim:
        py = bench_python(sim, n)
        rp = bench_rpio(sim, n)
        plain = bench_python_rates(sim, rates, burst)
        with SimChip(2, names={0: "GPIO17"}, label="bench-tiny") as tiny:
            res = bench_ioc(sim, tiny, n, rates, burst)
    mon, kern, k2m = res["latency"]
    print("### Edge latency (ms)\n")
    print("| path | edges | median | p90 | max |")
    print("|---|---|---|---|---|")
    print(row("simulated edge -> `Request` event in Python", py))
    print(row("simulated edge -> RPIO callback", rp))
    print(row("simulated edge -> kernel edge timestamp (record TIME)", kern))
    print(row("kernel edge timestamp -> CA monitor of the `bi`", k2m))
    print(row("simulated edge -> CA monitor of the `bi` (total)", mon))
    print("\n### Edges gpio-sim delivers to a plain `Request` (no IOC; bursts of %d edges)\n" % burst)
    print("| paced at (edges/s) | achieved (edges/s) | generated | seen by kernel (seqno) |")
    print("|---|---|---|---|")
    for rate, achieved, gen, seen in plain:
        print(f"| {rate or 'as fast as possible'} | {achieved:.0f} | {gen} | {seen} |")
    print("\n### Edge rate counted by the `:Count` record (bursts of %d edges)\n" % burst)
    print("| paced at (edges/s) | achieved (edges/s) | generated | seen by kernel (seqno) "
          "| counted by record | kernel buffer drops recovered |")
    print("|---|---|---|---|---|---|")
    for rate, achieved, gen, seq, counted, lost in res["rates"]:
        print(f"| {rate or 'as fast as possible'} | {achieved:.0f} | {gen} | {seq} | {counted} | {lost} |")
    print("\n### Same, with the kernel's event buffer cut to 2 events (forced overflow)\n")
    print("| paced at (edges/s) | achieved (edges/s) | generated | seen by kernel (seqno) "
          "| counted by record | kernel buffer drops recovered |")
    print("|---|---|---|---|---|---|")
    for rate, achieved, gen, seq, counted, lost in res["tiny"]:
        print(f"| {rate or 'as fast as possible'} | {achieved:.0f} | {gen} | {seq} | {counted} | {lost} |")
    return 0


def host_main() -> int:
    if not RIG.exists():
        print(f"gpio-sim rig not found at {RIG}", file=sys.stderr)
        return 2
    env = {**os.environ, "RIG_PY": sys.executable, "RIG_TIMEOUT": "900"}
    proc = subprocess.run([str(RIG), str(pathlib.Path(__file__).resolve()), *sys.argv[1:]],
                          cwd=str(REPO), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout.splitlines():
        if not line.startswith("[ ") and "caRepeater" not in line and not line.startswith("****"):
            print(line)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(guest_main() if in_guest() else host_main())
