"""PyDevice core benchmark: prints a markdown table next to the targets of the issue.

    make bench            (or: .venv/bin/python bench/bench_core.py [--quick])

1. a chain of 2000 longin records linked by FLNK, each `@VAL+1`: microseconds per record
2. 10,000 independent records processed from one trigger (SCAN Event): records per second
3. pydev.iointr(name, value) calls per second from one Python thread, and how many updates a
   CA monitor received
4. a 1,000,000-element float64 numpy array returned into a waveform: ms per processing,
   against a plain copy of the same bytes
Timing uses the records' own timestamps (TIME) where the work happens inside the IOC.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import pathlib
import platform
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from harness import Ioc, poll  # noqa: E402  (sets the EPICS environment first)

import epics  # noqa: E402
import numpy as np  # noqa: E402
from p4p.client.thread import Context  # noqa: E402

CHAIN = 2000
MANY = 10_000
PUSHES = 200_000
WAVE = 1_000_000


def chain_db() -> str:
    recs = []
    for i in range(CHAIN):
        flnk = f'field(FLNK, "B:chain{i + 1}")' if i + 1 < CHAIN else ""
        recs.append(f'record(longin, "B:chain{i}") {{ field(DTYP, "pydev") field(INP, "@VAL+1") {flnk} }}')
    return "\n".join(recs)


def many_db() -> str:
    return "\n".join(f'record(longin, "B:many{i}") {{ field(DTYP, "pydev") field(INP, "@VAL+1") '
                     f'field(SCAN, "Event") field(EVNT, "7") }}' for i in range(MANY))


OTHER_DB = f"""
record(longin, "B:io") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('bench')") field(SCAN, "I/O Intr") }}
record(longin, "B:nop") {{ field(DTYP, "pydev") field(INP, "@0") }}
record(waveform, "B:wave") {{ field(DTYP, "pydev") field(INP, "@big") field(NELM, "{WAVE}") field(FTVL, "DOUBLE") }}
"""


def timestamps(ctx: Context, names: list[str]) -> list[float]:
    values = ctx.get(names, timeout=60)
    return [v.timestamp for v in values]


def bench_chain(ioc: Ioc, ctx: Context, runs: int) -> float:
    """Best of `runs`: (TIME of the last record - TIME of the first) / (records - 1)."""
    per_record = []
    first, last = "B:chain0", f"B:chain{CHAIN - 1}"
    for _ in range(runs):
        ioc.caput(first + ".PROC", 1, wait=True, timeout=30)
        t0, t1 = timestamps(ctx, [first, last])
        per_record.append((t1 - t0) / (CHAIN - 1) * 1e6)
    values = ctx.get([first, last], timeout=10)
    assert values == [runs, runs], f"chain did not run through: {values}"
    return min(per_record)


def bench_many(ioc: Ioc, ctx: Context, runs: int) -> float:
    names = [f"B:many{i}" for i in range(MANY)]
    rates = []
    for run in range(1, runs + 1):
        ioc.cmd("postEvent 7")
        assert poll(lambda: ctx.get(names[-1], timeout=10) >= run, timeout=60)
        time.sleep(0.2)
        values = ctx.get(names, timeout=60)
        assert all(v == run for v in values), "not every record processed"
        stamps = [v.timestamp for v in values]
        rates.append(MANY / (max(stamps) - min(stamps)))
    return max(rates)


def bench_iointr(ioc: Ioc) -> tuple[float, int]:
    received = []
    pv = epics.PV("B:io", auto_monitor=True, callback=lambda value=None, **kw: received.append(value))
    assert pv.wait_for_connection(5)
    time.sleep(0.5)
    received.clear()
    out = ioc.cmd(
        'pydev("t0 = time.perf_counter(); [pydev.iointr(\'bench\', i) for i in range(1, %d)]; '
        'print(\'RA\' + \'TE=\', %d / (time.perf_counter() - t0))")' % (PUSHES + 1, PUSHES),
        timeout=120)
    if "RATE= " not in out:
        raise RuntimeError(f"no rate printed:\n{out}")
    rate = float(out.split("RATE= ")[1].split()[0])  # the echoed command line has no "RATE="

    assert poll(lambda: received and received[-1] == PUSHES, timeout=10), "last value not delivered"
    time.sleep(0.5)
    pv.clear_callbacks()
    return rate, len(received)


def round_trip(ioc: Ioc, pv: str, runs: int) -> float:
    """Median seconds of a put-callback PROC of ``pv``."""
    ioc.caput(pv + ".PROC", 1, wait=True, timeout=30)  # warm up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        ioc.caput(pv + ".PROC", 1, wait=True, timeout=30)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_wave(ioc: Ioc, runs: int) -> tuple[float, float, float]:
    """(round trip, round trip of a trivial record, memcpy of the same bytes), in ms."""
    wave = round_trip(ioc, "B:wave", runs)
    nop = round_trip(ioc, "B:nop", runs * 4)
    got = ioc.caget("B:wave", count=WAVE, timeout=30)
    assert len(got) == WAVE and np.allclose(got[:5], ioc.pyeval("big[:5].tolist()"))
    src = np.random.random(WAVE)
    dst = np.empty_like(src)
    dst[:] = 0.0  # touch every page first
    copies = []
    for _ in range(runs):
        t0 = time.perf_counter()
        ctypes.memmove(dst.ctypes.data, src.ctypes.data, src.nbytes)
        copies.append(time.perf_counter() - t0)
    return wave * 1e3, nop * 1e3, statistics.median(copies) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", default=os.environ.get("PYDEV_NUM_THREADS", "3"))
    args = parser.parse_args()
    pre = ['pydev("import time, numpy; big = numpy.random.random(%d)")' % WAVE]
    with Ioc(chain_db() + "\n" + many_db() + OTHER_DB, pre_init=pre,
             env={"PYDEV_NUM_THREADS": args.threads, "EPICS_CA_MAX_ARRAY_BYTES": "100000000"},
             startup_timeout=120) as ioc:
        ctx = Context("pva")
        try:
            chain = bench_chain(ioc, ctx, args.runs)
            many = bench_many(ioc, ctx, args.runs)
            rate, received = bench_iointr(ioc)
            wave, nop, copy = bench_wave(ioc, args.runs)
        finally:
            ctx.close()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"\nPyDevice core benchmark - {cpu}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, PYDEV_NUM_THREADS={args.threads}, best/median of {args.runs}\n")
    print("| # | measurement | result | target |")
    print("|---|---|---|---|")
    print(f"| 1 | FLNK chain of {CHAIN} longin `@VAL+1` | {chain:.2f} us/record | < 8 us |")
    print(f"| 2 | {MANY:,} records from one event | {many:,.0f} records/s | > 100,000 |")
    print(f"| 3 | `pydev.iointr` from one thread | {rate:,.0f} calls/s; CA monitor got "
          f"{received:,} of {PUSHES:,} (last value always) | > 100,000 |")
    net = wave - nop
    print(f"| 4 | 1M float64 array into a waveform | {net:.2f} ms/processing = {net / copy:.1f}x memcpy "
          f"({copy:.2f} ms); {wave:.2f} ms as a CA put-callback round trip, of which "
          f"{nop:.2f} ms is CA itself | within 5x memcpy |")


if __name__ == "__main__":
    main()
