#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark pydevice.revpi: 1,000 watched bit inputs at a 5 ms refresh cycle.

Starts a real pydevIoc (through tests/harness.py, isolated CA ports) on a file-backed
process image with a generated configuration (RevPi Connect + virtual devices holding
1,000 bit inputs, all on SCAN "I/O Intr"), then measures:

- refresh cycles achieved vs. expected, cycle overruns (gaps > 1.5 cycles) and the IOC's
  CPU use, idle and while inputs change;
- latency from an input change written to the image file to the CA monitor update.

Prints a markdown table.  Usage: .venv/bin/python bench/bench_revpi.py [--seconds 10]
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "python")]

from harness import Ioc  # noqa: E402  (sets the isolated CA environment)

import epics  # noqa: E402

from pydevice.revpi import dbgen, piconfig  # noqa: E402

CYCLE_MS = 5
P = "RB:"


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bit_addresses(configrsc: str) -> dict[str, tuple[int, int]]:
    """IO name -> (byte address in image, bit) for the virtual bit inputs."""
    modio = dbgen.load(configrsc)
    out = {io.name: (io.address, io._bitaddress) for io in modio.io
           if io.name.startswith("v") and io.type == 300}
    modio.cleanup()
    return out


def measure(ioc: Ioc, seconds: float, stimulus=None) -> dict[str, float]:
    pid = ioc.proc.pid
    stop = threading.Event()
    thread = threading.Thread(target=stimulus, args=(stop,), daemon=True) if stimulus else None
    c0, o0, w0 = ioc.pyeval("(rpi._cycle, rpi.overruns, bench_warn['n'])")
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    if thread:
        thread.start()
    time.sleep(seconds)
    stop.set()
    if thread:
        thread.join()
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    c1, o1, w1 = ioc.pyeval("(rpi._cycle, rpi.overruns, bench_warn['n'])")
    elapsed = t1 - t0
    return {"elapsed": elapsed, "cycles": c1 - c0, "expected": elapsed * 1000 / CYCLE_MS,
            "overruns": o1 - o0, "exceeded": w1 - w0, "cpu": 100 * (cpu1 - cpu0) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bits", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-revpi-"))
    try:
        config = piconfig.write(piconfig.bench(args.bits), str(tmp / "config.rsc"))
        img = tmp / "procimg.bin"
        img.write_bytes(bytes(4096))
        (tmp / "bench.db").write_text(dbgen.generate(config, dbgen.Options(prefix="$(P)")))
        addresses = bit_addresses(config)
        names = sorted(addresses)
        pre = ['pydev("from pydevice import revpi")',
               f'pydev("rpi = revpi.open(procimg=\'{img}\', configrsc=\'{config}\', '
               f'cycletime={CYCLE_MS})")',
               # count RevPiModIO's own "io refresh time of 5 ms exceeded!" warnings
               'pydev("import warnings; bench_warn = {\'n\': 0}")',
               'pydev("warnings.showwarning = lambda m, *a, **k: bench_warn.__setitem__(\'n\', '
               'bench_warn[\'n\'] + (\'exceeded\' in str(m)))")',
               'pydev("warnings.simplefilter(\'always\')")']
        with Ioc(pre_init=pre, db_files=[(tmp / "bench.db", f"P={P}")], cwd=tmp,
                 startup_timeout=60) as ioc:
            time.sleep(3)  # discovery + initial pushes
            served = ioc.pyeval("len(rpi.served())")
            fd = os.open(img, os.O_RDWR)
            rows = []
            rows.append(("idle (no input changes)", measure(ioc, args.seconds)))

            def toggler(count: int, period: float):
                def run(stop: threading.Event) -> None:
                    state = bytearray(4096)
                    while not stop.is_set():
                        for name in random.sample(names, count):
                            address, bit = addresses[name]
                            state[address] ^= 1 << bit
                            os.pwrite(fd, bytes(state[address:address + 1]), address)
                        stop.wait(period)
                return run
            rows.append(("10 inputs change every 10 ms (1,000 changes/s)",
                         measure(ioc, args.seconds, toggler(10, 0.010))))
            rows.append(("100 inputs change every 20 ms (5,000 changes/s)",
                         measure(ioc, args.seconds, toggler(100, 0.020))))

            # latency: one bit, written to the file, seen by a CA monitor
            name = names[len(names) // 2]
            address, bit = addresses[name]
            arrived: list[float] = []
            event = threading.Event()

            def on_update(value=None, **_):
                arrived.append(time.time())
                event.set()
            pv = epics.PV(P + name, callback=on_update, auto_monitor=True)
            pv.wait_for_connection(5)
            time.sleep(0.5)
            latencies = []
            current = os.pread(fd, 1, address)[0]
            for _ in range(args.samples):
                event.clear()
                arrived.clear()
                current ^= 1 << bit
                written = time.time()
                os.pwrite(fd, bytes([current]), address)
                if event.wait(2):
                    latencies.append((arrived[0] - written) * 1000)
                time.sleep(random.uniform(0.01, 0.03))
            pv.clear_callbacks()
            os.close(fd)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cpu = platform.processor() or platform.machine()
    print(f"\n### pydevice.revpi: {args.bits} watched bit inputs, {CYCLE_MS} ms cycle\n")
    print(f"Machine: {os.cpu_count()}-core {platform.machine()} ({cpu}), Linux "
          f"{platform.release()}, Python {platform.python_version()}; "
          f"{served} I/O Intr names served, {args.seconds:.0f} s per row.\n")
    print("| load | refreshes seen / expected | gaps > 1.5 cycles | refresh overruns "
          "(RevPiModIO warnings) | IOC CPU |")
    print("|---|---|---|---|---|")
    for label, r in rows:
        print(f"| {label} | {r['cycles']} / {r['expected']:.0f} ({100 * r['cycles'] / r['expected']:.0f} %)"
              f" | {r['overruns']} | {r['exceeded']} | {r['cpu']:.0f} % of one core |")
    print()
    if latencies:
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print("| input change -> CA monitor | samples | median | p95 | max |")
        print("|---|---|---|---|---|")
        print(f"| file write to monitor callback | {len(latencies)}/{args.samples} | "
              f"{statistics.median(latencies):.1f} ms | {p95:.1f} ms | {latencies[-1]:.1f} ms |")


if __name__ == "__main__":
    main()
