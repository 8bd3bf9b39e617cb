# SPDX-License-Identifier: BSD-3-Clause
"""PyDevice core benchmark: medians with their spread, beside native records measured in the same IOC.

    make bench            (or: .venv/bin/python bench/bench_core.py [--runs 5] [--threads 3])

Every figure is the median of ``--runs`` rounds, with the min-max over those rounds; nothing is
best-of.  Native EPICS records doing the same work run in the same IOC in the same rounds, so
the ratio to them is what this machine gives, not a number from another day.

1. chain: 2000 longin records linked by FLNK, each `@VAL+1`, against 2000 `calc` records doing
   `VAL+1`.  Per record from the records' own TIME stamps (last - first) and from the wall
   clock of a put-callback that processes the whole chain.
2. event: 10,000 independent `@VAL+1` records processed from one event, against 10,000 `calc`
   records on another event; records/s from the spread of their TIME stamps.
3. threads: the same event test in an IOC per PYDEV_NUM_THREADS (1..4), and 24 records whose
   link releases the GIL (`time.sleep(0.05)`): speed-up against one worker.
4. iointr: `pydev.iointr(name, i)` calls/s from one Python thread, and the updates a CA monitor
   received (delivered/s beside pushed/s); the record processings (delivered values) per second
   for 100,000 pushes to a coalescing name and to a queueing one (info(pydev:queue)); a push of
   10 doubles to a name whose waveform has NELM 10 and NELM 1,000,000.
5. arrays: a 1,000,000-element float64 numpy result into a waveform, and the same array pushed
   through `pydev.iointr`, against a memcpy of the same 8 MB measured in the IOC's own Python,
   into one buffer and into two in turn (the record's one copy goes to the buffer its clients
   are not reading: BPTR and the result buffer trade places).
6. CA latency: a caget of a native record while the worker pool is idle and while every worker
   runs a GIL-holding snippet.  6p: the same with the IOC's threads on one core (so the
   saturated pool and the CA server compete for it), workers at PYDEV_PRIORITY 50 (what they
   had before, above the CA server) and at the default 11; as root EPICS threads are real-time.
7. await (issue #22): 10,000 records each `@await asyncio.sleep(0.1)` from one event with the
   default pool (seconds from the event to the last record's TIME); 10,000 `@await nop(VAL)` (a coroutine)
   against 10,000 `@VAL+1` from one event (µs per record, event to last TIME / 10,000); the
   put-callback latency of an unrelated record with the IOC idle, beside a device whose
   records all hang 1 s per call, and beside the same device on a lane of its own.
   `--only await` runs these rows alone.
"""
from __future__ import annotations

import argparse
import ast
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import threading
import time
from typing import Callable, Sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from harness import Ioc, poll  # noqa: E402  (sets the EPICS environment first)

import epics  # noqa: E402
from p4p.client.thread import Context  # noqa: E402

CHAIN = 2000
MANY = 10_000
SLEEPERS = 24
PUSHES = 200_000
QPUSHES = 100_000   # the largest queue a record may ask for
WAVE = 1_000_000
THREADS = (1, 2, 3, 4)


# ---------------------------------------------------------------- databases
def chain_db(prefix: str, record: str, fields: str) -> str:
    recs = []
    for i in range(CHAIN):
        flnk = f'field(FLNK, "{prefix}{i + 1}")' if i + 1 < CHAIN else ""
        recs.append(f'record({record}, "{prefix}{i}") {{ {fields} {flnk} }}')
    return "\n".join(recs)


def event_db(prefix: str, count: int, record: str, fields: str, event: int) -> str:
    return "\n".join(f'record({record}, "{prefix}{i}") {{ {fields} field(SCAN, "Event") '
                     f'field(EVNT, "{event}") }}' for i in range(count))


PYDEV_VAL1 = 'field(DTYP, "pydev") field(INP, "@VAL+1")'
CALC_VAL1 = 'field(CALC, "VAL+1")'

MAIN_DB = "\n".join([
    chain_db("B:chain", "longin", PYDEV_VAL1),
    chain_db("B:nchain", "calc", CALC_VAL1),
    event_db("B:many", MANY, "longin", PYDEV_VAL1, 7),
    event_db("B:nmany", MANY, "calc", CALC_VAL1, 8),
    f"""
record(longin, "B:io") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('bench')") field(SCAN, "I/O Intr") }}
record(longin, "B:co") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('co')") field(SCAN, "I/O Intr")
    field(FLNK, "B:co:n") }}
record(calc, "B:co:n") {{ field(CALC, "A+1") field(INPA, "B:co:n NPP") }}
record(longin, "B:q") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('q')") field(SCAN, "I/O Intr")
    field(FLNK, "B:q:n") info(pydev:queue, "{QPUSHES}") }}
record(calc, "B:q:n") {{ field(CALC, "A+1") field(INPA, "B:q:n NPP") }}
record(waveform, "B:small10") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('small10')")
    field(SCAN, "I/O Intr") field(NELM, "10") field(FTVL, "DOUBLE") }}
record(waveform, "B:small1M") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('small1M')")
    field(SCAN, "I/O Intr") field(NELM, "{WAVE}") field(FTVL, "DOUBLE") }}
record(longin, "B:nop") {{ field(DTYP, "pydev") field(INP, "@0") }}
record(waveform, "B:wave") {{ field(DTYP, "pydev") field(INP, "@big") field(NELM, "{WAVE}") field(FTVL, "DOUBLE") }}
record(waveform, "B:wavepush") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('wave')")
    field(SCAN, "I/O Intr") field(NELM, "{WAVE}") field(FTVL, "DOUBLE") }}
record(ai, "B:native") {{ field(VAL, "1") }}
"""]) + event_db("B:busy", 8, "longin", 'field(DTYP, "pydev") field(INP, "@spin(0.2)")', 9)
MAIN_PRE = [
    'pydev("import time, numpy; big = numpy.random.random(%d); dst = numpy.empty_like(big); '
    'dst2 = numpy.empty_like(big); dst3 = numpy.empty_like(big)")' % WAVE,
    'pydev("small = numpy.arange(10.0)")',
    'pydev("import sys; sys.path.insert(0, \'%s\'); from benchlib import spin")'
    % pathlib.Path(__file__).resolve().parent,
]


def scaling_db() -> str:
    return "\n".join([
        event_db("S:many", MANY, "longin", PYDEV_VAL1, 7),
        event_db("S:sleep", SLEEPERS, "longin",
                 'field(DTYP, "pydev") field(INP, "@time.sleep(0.05) or VAL+1")', 8),
    ])


# ---------------------------------------------------------------- statistics
class Figure:
    """The rounds of one measurement: median and min-max."""

    def __init__(self, values: Sequence[float]) -> None:
        self.values = list(values)
        self.median = statistics.median(self.values)
        self.lo, self.hi = min(self.values), max(self.values)

    def fmt(self, spec: str, unit: str = "") -> str:
        return (f"**{self.median:{spec}}**{unit} ({self.lo:{spec}}–{self.hi:{spec}})")


def ratio(a: Figure, b: Figure) -> Figure:
    """Round-by-round ratio of two figures measured in the same rounds."""
    return Figure([x / y for x, y in zip(a.values, b.values)])


# ---------------------------------------------------------------- measurements
def stamps(ctx: Context, names: Sequence[str]) -> list[float]:
    return [v.timestamp for v in ctx.get(list(names), timeout=60)]


def chain_round(ioc: Ioc, ctx: Context, prefix: str) -> tuple[float, float]:
    """(us/record from TIME stamps, us/record from the wall clock of a put-callback)."""
    first, last = f"{prefix}0", f"{prefix}{CHAIN - 1}"
    before = ctx.get(last, timeout=10)
    t0 = time.perf_counter()
    ioc.caput(first + ".PROC", 1, wait=True, timeout=60)
    wall = time.perf_counter() - t0
    assert ctx.get(last, timeout=10) == before + 1, f"{prefix} chain did not run through"
    s0, s1 = stamps(ctx, [first, last])
    return (s1 - s0) / (CHAIN - 1) * 1e6, wall / CHAIN * 1e6


def event_round(ioc: Ioc, ctx: Context, prefix: str, count: int, event: int) -> float:
    """Records per second of ``count`` records processed from one event."""
    names = [f"{prefix}{i}" for i in range(count)]
    before = ctx.get(names[-1], timeout=10)
    ioc.cmd(f"postEvent {event}")
    assert poll(lambda: all(v == before + 1 for v in ctx.get(names, timeout=60)), timeout=120), \
        f"not every {prefix} record processed"
    ts = stamps(ctx, names)
    return count / (max(ts) - min(ts))


def sleepers_round(ioc: Ioc, ctx: Context) -> float:
    """Seconds from the event to the last of the GIL-releasing records."""
    names = [f"S:sleep{i}" for i in range(SLEEPERS)]
    before = ctx.get(names[-1], timeout=10)
    t0 = time.perf_counter()
    ioc.cmd("postEvent 8")
    assert poll(lambda: all(v == before + 1 for v in ctx.get(names, timeout=60)),
                timeout=60, interval=0.005)
    return time.perf_counter() - t0


def push_round(ioc: Ioc) -> tuple[float, float, float]:
    """(pushes/s, CA monitor updates received, updates/s over the pushing time)."""
    received: list = []
    pv = epics.PV("B:io", auto_monitor=True,
                  callback=lambda value=None, **kw: received.append(value))
    assert pv.wait_for_connection(5)
    time.sleep(0.3)
    start = int(ioc.caget("B:io"))
    received.clear()
    seconds = ioc.pyeval(
        f"(lambda t0: ([pydev.iointr('bench', {start} + i) for i in range(1, {PUSHES + 1})],"
        f" time.perf_counter() - t0)[1])(time.perf_counter())", timeout=120)
    assert poll(lambda: received and received[-1] == start + PUSHES, timeout=10), \
        "the last value was not delivered"
    time.sleep(0.3)
    pv.clear_callbacks()
    pv.disconnect()
    return PUSHES / seconds, float(len(received)), len(received) / seconds


def delivered_round(ioc: Ioc, ctx: Context, name: str, record: str) -> tuple[float, float, float]:
    """(pushes/s, values delivered = processings of ``record``, delivered/s): QPUSHES pushes
    from one Python loop; delivered/s from the first push to the TIME of the last processing."""
    counter = record + ":n"
    before = ctx.get(counter, timeout=10)
    t0, seconds = ioc.pyeval(
        f"(lambda t0, p0: (t0, [pydev.iointr('{name}', i) for i in range({QPUSHES})] and "
        f"time.perf_counter() - p0))(time.time(), time.perf_counter())", timeout=120)
    assert poll(lambda: ctx.get(record, timeout=10) == QPUSHES - 1, timeout=120), \
        f"{record} did not get the last value"
    time.sleep(0.5)  # the counter's last processing follows its record's
    got = ctx.get(counter, timeout=10)
    delivered = got - before
    return QPUSHES / seconds, float(delivered), delivered / (got.timestamp - t0)


def iointr_rate(ioc: Ioc, name: str, value: str, count: int) -> float:
    """pydev.iointr(name, value) calls per second, in the IOC's Python."""
    seconds = ioc.pyeval(
        f"(lambda t0: ([pydev.iointr('{name}', {value}) for i in range({count})],"
        f" time.perf_counter() - t0)[1])(time.perf_counter())", timeout=120)
    return count / seconds


def put_callback_ms(ioc: Ioc, pv: str) -> float:
    t0 = time.perf_counter()
    ioc.caput(pv + ".PROC", 1, wait=True, timeout=30)
    return (time.perf_counter() - t0) * 1e3


def loop_ms(ioc: Ioc, stmt: str, count: int = 20) -> float:
    """ms per ``stmt`` (an expression of the loop index i) run ``count`` times in one loop in
    the IOC's Python: the mean, as a push's rate is (a best-of would flatter the floor)."""
    return ioc.pyeval(f"(lambda t0: ([{stmt} for i in range({count})],"
                      f" time.perf_counter() - t0)[1])(time.perf_counter())") / count * 1e3


def paced_ms(ioc: Ioc, stmt: str, count: int = 20, gap: float = 0.002) -> float:
    """ms per ``stmt`` run ``count`` times ``gap`` s apart, each timed alone: the mean."""
    times = ioc.pyeval(
        f"(lambda ts: ([(lambda t0: ({stmt}, ts.append(time.perf_counter() - t0), "
        f"time.sleep({gap})))(time.perf_counter()) for i in range({count})], ts)[1])([])")
    return statistics.mean(times) * 1e3


# what one copy into a record must cost: its clients read BPTR while the next value is
# written, so the destination is one of two buffers in turn (those the record trades); a push
# made before the record took the last one needs a third: the record's, the last push's, its own
COPY = {1: "numpy.copyto(dst, big)", 2: "numpy.copyto((dst, dst2)[i % 2], big)",
        3: "numpy.copyto((dst, dst2, dst3)[i % 3], big)"}


def wave_round(ioc: Ioc) -> dict[str, float]:
    """ms per processing of a 1M-element result, per 1M-element push (back to back, and 2 ms
    apart), and per memcpy of the same into 1, 2 and 3 buffers in turn (back to back, and 2 ms
    apart)."""
    reps = 5
    wave = statistics.median(put_callback_ms(ioc, "B:wave") for _ in range(reps))
    nop = statistics.median(put_callback_ms(ioc, "B:nop") for _ in range(reps * 2))
    out = {"wave": wave - nop, "wavepush": loop_ms(ioc, "pydev.iointr('wave', big)"),
           "wavepaced": paced_ms(ioc, "pydev.iointr('wave', big)")}
    for n, stmt in COPY.items():
        out[f"memcpy{n}"] = loop_ms(ioc, stmt)
        out[f"memcpy{n}paced"] = paced_ms(ioc, stmt)
    return out


def ca_latency_ms(pv: str, count: int = 50, timeout: float = 10.0) -> float:
    """Median ms of ``count`` CA gets; a get with no answer within timeout counts as timeout."""
    chan = epics.PV(pv, auto_monitor=False)
    if not chan.wait_for_connection(max(5.0, timeout)):
        chan.disconnect()
        return timeout * 1e3  # no connection at all: the CA server does not get to run
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        try:
            answered = chan.get(use_monitor=False, timeout=timeout) is not None
        except (epics.ca.ChannelAccessException, epics.ca.ChannelAccessGetFailure):  # starved server
            answered = False
        times.append(time.perf_counter() - t0 if answered else timeout)
    chan.disconnect()
    return statistics.median(times) * 1e3


ONE_CORE_DB = """
record(ai, "P:native") { field(VAL, "1") }
""" + "\n".join(f'record(longin, "P:spin{i}") {{ field(DTYP, "pydev") field(INP, "@spin(0.2)") '
                  f'field(SCAN, ".1 second") }}' for i in range(4))


def pin_to_one_core(pid: int) -> None:
    """Every thread of the process on the first CPU (threads made later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), {min(os.sched_getaffinity(0))})


def one_core_round(prio: int, runs: int) -> None:
    """(--one-core PRIO) Print the rounds of CA latency in ms, as a Python list."""
    with Ioc(ONE_CORE_DB, pre_init=[MAIN_PRE[2]], startup_timeout=60,
             env={"PYDEV_PRIORITY": str(prio), "PYDEV_NUM_THREADS": "3"}) as ioc:
        assert ioc.caget("P:native") == 1
        pin_to_one_core(ioc.proc.pid)
        time.sleep(1.0)  # the pool is saturated: 4 records of 0.2 s every 0.1 s
        print(collect(runs, lambda: ca_latency_ms("P:native", 10, 2.0)))
        # a starved IOC may not even end in time: the harness kills it


def one_core_latency(runs: int) -> dict[int, Figure]:
    """Each priority in a client process of its own (libca keeps a channel per name)."""
    out = {}
    for prio in (50, 11):
        run = subprocess.run([sys.executable, __file__, "--one-core", str(prio), "--runs", str(runs)],
                             capture_output=True, text=True, timeout=300)
        lines = [line for line in run.stdout.splitlines() if line.startswith("[")]
        if not lines:
            raise RuntimeError(f"--one-core {prio} failed:\n{run.stdout}\n{run.stderr}")
        out[prio] = Figure(ast.literal_eval(lines[-1]))
    return out


# ---------------------------------------------------------------- the runs
def collect(runs: int, fn: Callable[[], object]) -> list:
    return [fn() for _ in range(runs)]


def main_ioc(runs: int, threads: str) -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    with Ioc(MAIN_DB, pre_init=MAIN_PRE, startup_timeout=180,
             env={"PYDEV_NUM_THREADS": threads, "EPICS_CA_MAX_ARRAY_BYTES": "100000000"}) as ioc:
        ctx = Context("pva")
        try:
            ioc.caput("B:chain0.PROC", 1, wait=True, timeout=60)  # warm up both chains
            ioc.caput("B:nchain0.PROC", 1, wait=True, timeout=60)
            chain, native_chain = [], []
            for _ in range(runs):  # interleaved: both see the same machine
                chain.append(chain_round(ioc, ctx, "B:chain"))
                native_chain.append(chain_round(ioc, ctx, "B:nchain"))
            out["chain"] = Figure([c[0] for c in chain])
            out["chain_wall"] = Figure([c[1] for c in chain])
            out["nchain"] = Figure([c[0] for c in native_chain])
            out["nchain_wall"] = Figure([c[1] for c in native_chain])

            many, native_many = [], []
            for _ in range(runs):
                many.append(event_round(ioc, ctx, "B:many", MANY, 7))
                native_many.append(event_round(ioc, ctx, "B:nmany", MANY, 8))
            out["many"], out["nmany"] = Figure(many), Figure(native_many)

            pushes = collect(runs, lambda: push_round(ioc))
            out["push"] = Figure([p[0] for p in pushes])
            out["delivered"] = Figure([p[1] for p in pushes])
            out["delivered_rate"] = Figure([p[2] for p in pushes])
            coalesced = collect(runs, lambda: delivered_round(ioc, ctx, "co", "B:co"))
            queued = collect(runs, lambda: delivered_round(ioc, ctx, "q", "B:q"))
            for key, rounds in (("co", coalesced), ("q", queued)):
                out[key + "_push"] = Figure([r[0] for r in rounds])
                out[key + "_n"] = Figure([r[1] for r in rounds])
                out[key + "_rate"] = Figure([r[2] for r in rounds])
            out["push10"] = Figure(collect(runs, lambda: iointr_rate(ioc, "small10", "small", 20000)))
            out["push1M"] = Figure(collect(runs, lambda: iointr_rate(ioc, "small1M", "small", 2000)))

            waves = collect(runs, lambda: wave_round(ioc))
            for key in waves[0]:
                out[key] = Figure([w[key] for w in waves])

            out["lat_idle"] = Figure(collect(runs, lambda: ca_latency_ms("B:native")))
            busy = []
            for _ in range(runs):
                stop = threading.Event()

                def load() -> None:  # keep every worker busy with a GIL-holding snippet
                    while not stop.is_set():
                        ioc.cmd("postEvent 9")
                        time.sleep(0.05)
                feeder = threading.Thread(target=load, daemon=True)
                feeder.start()
                time.sleep(0.3)
                busy.append(ca_latency_ms("B:native"))
                stop.set()
                feeder.join()
            out["lat_busy"] = Figure(busy)
        finally:
            ctx.close()
    return out


def scaling(runs: int) -> dict[int, tuple[Figure, Figure]]:
    out = {}
    for n in THREADS:
        with Ioc(scaling_db(), pre_init=['pydev("import time")'], startup_timeout=180,
                 env={"PYDEV_NUM_THREADS": str(n)}) as ioc:
            ctx = Context("pva")
            try:
                event_round(ioc, ctx, "S:many", MANY, 7)  # warm up
                out[n] = (Figure(collect(runs, lambda: event_round(ioc, ctx, "S:many", MANY, 7))),
                          Figure(collect(runs, lambda: sleepers_round(ioc, ctx))))
            finally:
                ctx.close()
    return out


HUNG = 6          # records of the hung device: more than the pool's workers
AWAIT_DB = "\n".join([
    event_db("A:sleep", MANY, "longin",
             'field(DTYP, "pydev") field(INP, "@await asyncio.sleep(0.1) or VAL+1")', 7),
    event_db("A:await", MANY, "longin", 'field(DTYP, "pydev") field(INP, "@await nop(VAL)")', 8),
    event_db("A:plain", MANY, "longin", PYDEV_VAL1, 9),
    event_db("A:hung", HUNG, "longin", 'field(DTYP, "pydev") field(INP, "@time.sleep(1.0) or 1")', 10),
    event_db("A:lane", HUNG, "longin", 'field(DTYP, "pydev") field(INP, "@time.sleep(1.0) or 1") '
             'info(pydev:lane, "dev")', 11),
    'record(longin, "A:unrelated") { field(DTYP, "pydev") field(INP, "@0") }',
])
AWAIT_PRE = ['pydev("import asyncio, time")',
             'pydev("nop = lambda v: asyncio.sleep(0, result=v + 1)")']  # a coroutine


def since_event_round(ioc: Ioc, ctx: Context, prefix: str, count: int, event: int) -> float:
    """Seconds from just before ``postEvent`` to the TIME of the last of ``count`` records."""
    names = [f"{prefix}{i}" for i in range(count)]
    before = ctx.get(names[-1], timeout=10)
    ends = [names[0], names[count // 2], names[-1]]
    t0 = time.time()
    ioc.cmd(f"postEvent {event}")
    # a few records first: a get of all 10,000 keeps the IOC's PVA server busy on the cores
    # the records are processed on
    assert poll(lambda: all(v == before + 1 for v in ctx.get(ends, timeout=60)), timeout=120,
                interval=0.02)
    assert poll(lambda: all(v == before + 1 for v in ctx.get(names, timeout=60)), timeout=120,
                interval=0.5), f"not every {prefix} record processed"
    return max(stamps(ctx, names)) - t0


def unrelated_ms(ioc: Ioc, event: int | None, count: int = 10) -> float:
    """Median put-callback ms of A:unrelated, the hung device's records processed by ``event``
    every 0.25 s (None: the IOC idle)."""
    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():
            ioc.cmd(f"postEvent {event}")
            stop.wait(0.25)
    feeder = threading.Thread(target=feed, daemon=True)
    if event is not None:
        feeder.start()
        time.sleep(1.5)  # the device's records have taken what they can
    try:
        times = [put_callback_ms(ioc, "A:unrelated") for _ in range(count)]
    finally:
        stop.set()
        if event is not None:
            feeder.join()
            names = [f"A:{'hung' if event == 10 else 'lane'}{i}.PACT" for i in range(HUNG)]
            assert poll(lambda: not any(ioc.caget(n) for n in names), timeout=60)
    return statistics.median(times)


def await_ioc(runs: int, threads: str) -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    with Ioc(AWAIT_DB, pre_init=AWAIT_PRE, startup_timeout=180,
             env={"PYDEV_NUM_THREADS": threads}) as ioc:
        ctx = Context("pva")
        try:
            since_event_round(ioc, ctx, "A:await", MANY, 8)  # warm up
            since_event_round(ioc, ctx, "A:plain", MANY, 9)
            out["asleep"] = Figure(collect(runs, lambda: since_event_round(ioc, ctx, "A:sleep", MANY, 7)))
            aw, plain = [], []
            for _ in range(runs):  # interleaved: both see the same machine
                aw.append(since_event_round(ioc, ctx, "A:await", MANY, 8) / MANY * 1e6)
                plain.append(since_event_round(ioc, ctx, "A:plain", MANY, 9) / MANY * 1e6)
            out["await_us"], out["plain_us"] = Figure(aw), Figure(plain)
            out["await_cost"] = Figure([a - p for a, p in zip(aw, plain)])
            idle, hung, lane = [], [], []
            for _ in range(runs):
                idle.append(unrelated_ms(ioc, None))
                hung.append(unrelated_ms(ioc, 10))
                lane.append(unrelated_ms(ioc, 11))
            out["idle_ms"], out["hung_ms"], out["lane_ms"] = Figure(idle), Figure(hung), Figure(lane)
        finally:
            ctx.close()
    return out


def report_await(f: dict[str, Figure]) -> None:
    print(f"| 7a | {MANY:,} records `@await asyncio.sleep(0.1)` from one event, default pool: "
          f"event to the last record's TIME | {f['asleep'].fmt('.3f', ' s')} | 3 workers in "
          f"`time.sleep(0.1)`: {MANY * 0.1 / 3:.0f} s | | ≤ 0.5 s |")
    print(f"| 7b | {MANY:,} `@await nop(VAL)` (a coroutine giving VAL+1) vs `@VAL+1` from "
          f"one event: event to the last TIME / {MANY:,} | {f['await_us'].fmt('.2f', ' µs/rec')} "
          f"| {f['plain_us'].fmt('.2f', ' µs/rec')} | +{f['await_cost'].fmt('.2f', ' µs/rec')}, "
          f"{ratio(f['await_us'], f['plain_us']).fmt('.1f', '×')} | |")
    print(f"| 7c | put-callback of an unrelated record (median of 10): IOC idle / beside a "
          f"device whose {HUNG} records hang 1 s per call / the same device on a lane | "
          f"{f['idle_ms'].fmt('.2f', ' ms')} / {f['hung_ms'].fmt('.1f', ' ms')} / "
          f"{f['lane_ms'].fmt('.2f', ' ms')} | | lane: {ratio(f['lane_ms'], f['idle_ms']).fmt('.2f', '×')} "
          f"idle | lane within 2× idle |")


def load() -> str:
    """The load averages (1, 5, 15 min): the machine may be shared."""
    return " ".join(open("/proc/loadavg").read().split()[:3])


def commit() -> str:
    root = pathlib.Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        rev = ""
    return rev or "unknown"


def report(args: argparse.Namespace, f: dict[str, Figure], scale: dict[int, tuple[Figure, Figure]],
           wall: float, load_before: str) -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"\nPyDevice core benchmark, {time.strftime('%Y-%m-%d %H:%M')}, commit {commit()} - "
          f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PYDEV_NUM_THREADS={args.threads}; median (min–max) of {args.runs} rounds; "
          f"{wall:.0f} s in all; load average {load_before} at the start, {load()} at the end\n")
    print("| # | measurement | PyDevice | native / floor, same IOC | ratio | goal (issue #12) |")
    print("|---|---|---|---|---|---|")
    print(f"| 1 | FLNK chain of {CHAIN} longin `@VAL+1` vs `calc` `VAL+1`, TIME stamps | "
          f"{f['chain'].fmt('.2f', ' µs/rec')} | {f['nchain'].fmt('.2f', ' µs/rec')} | "
          f"{ratio(f['chain'], f['nchain']).fmt('.2f', '×')} | at the floor |")
    print(f"| 1w | the same, wall clock of a put-callback | {f['chain_wall'].fmt('.2f', ' µs/rec')} | "
          f"{f['nchain_wall'].fmt('.2f', ' µs/rec')} | "
          f"{ratio(f['chain_wall'], f['nchain_wall']).fmt('.2f', '×')} | |")
    print(f"| 2 | {MANY:,} records from one event | {f['many'].fmt(',.0f', '/s')} | "
          f"{f['nmany'].fmt(',.0f', '/s')} | {ratio(f['many'], f['nmany']).fmt('.0%')} | "
          f"≥ 1.2 M/s, ≥ 70 % of native |")
    base_many, base_sleep = scale[THREADS[0]]
    row_many = " / ".join(f"{scale[n][0].median / 1e6:.2f}" for n in THREADS)
    row_sleep = " / ".join(f"{base_sleep.median / scale[n][1].median:.1f}" for n in THREADS)
    print(f"| 3a | the event test with {'/'.join(map(str, THREADS))} workers | {row_many} M/s "
          f"| | | no loss with more workers |")
    print(f"| 3b | {SLEEPERS} records `@time.sleep(0.05)` from one event, "
          f"{'/'.join(map(str, THREADS))} workers | {row_sleep}× one worker "
          f"({base_sleep.median * 1e3:.0f} ms with 1) | | | 1.0/2.0/3.0/4.0× |")
    print(f"| 4 | `pydev.iointr` pushes from one thread | {f['push'].fmt(',.0f', '/s')} | | | |")
    print(f"| 4d | CA monitor updates delivered for {PUSHES:,} pushes | "
          f"{f['delivered'].fmt(',.0f')} = {f['delivered_rate'].fmt(',.0f', '/s')} | | | "
          f"every push, when asked |")
    for key, what in (("co", "coalescing (default)"), ("q", f"queueing, info(pydev:queue, \"{QPUSHES}\")")):
        print(f"| 4{key[0]} | {QPUSHES:,} pushes to a {what} name: values delivered (record "
              f"processings) | {f[key + '_n'].fmt(',.0f')} = {f[key + '_rate'].fmt(',.0f', '/s')} "
              f"| pushed at {f[key + '_push'].fmt(',.0f', '/s')} | | "
              f"{'the last one' if key == 'co' else 'every push'} |")
    print(f"| 4n | a push of 10 doubles, waveform NELM 10 vs NELM {WAVE:,} | "
          f"{f['push1M'].fmt(',.0f', '/s')} (NELM {WAVE:,}) | {f['push10'].fmt(',.0f', '/s')} "
          f"(NELM 10) | {ratio(f['push1M'], f['push10']).fmt('.2f', '×')} the rate | "
          f"a push costs what it carries |")

    def floors(value: str, paced: str = "") -> str:  # "ratio to 1; 2; 3 buffers" cells
        return "; ".join(ratio(f[value], f[f"memcpy{n}{paced}"]).fmt(".1f", "×")
                         for n in (1, 2, 3))

    def copies(paced: str = "") -> str:
        return "memcpy " + " / ".join(f[f"memcpy{n}{paced}"].fmt(".2f", "") for n in (1, 2, 3)) + \
            " ms into 1 / 2 / 3 buffers in turn"
    print(f"| 5 | a 1M float64 result into a waveform | {f['wave'].fmt('.2f', ' ms')} | "
          f"{copies()} | {floors('wave')} | ≤ 1.2× memcpy |")
    print(f"| 5p | the same array through `pydev.iointr`, back to back | "
          f"{f['wavepush'].fmt('.2f', ' ms')} | | {floors('wavepush')} | ≤ 1.2× memcpy |")
    print(f"| 5q | the same, pushes 2 ms apart | {f['wavepaced'].fmt('.2f', ' ms')} | "
          f"{copies('paced')}, 2 ms apart | {floors('wavepaced', 'paced')} | ≤ 1.2× memcpy |")
    print(f"| 6 | CA get of a native record, pool idle / every worker busy | "
          f"{f['lat_idle'].fmt('.2f', ' ms')} / {f['lat_busy'].fmt('.2f', ' ms')} | | | "
          f"clients not starved |")
    print(f"| 6p | the same, pool saturated, IOC on one core: workers at priority 50 / 11 (default) | "
          f"{f['core50'].fmt('.2f', ' ms')} / {f['core11'].fmt('.2f', ' ms')} | | | "
          f"clients not starved |")
    report_await(f)
    print()
    print("1: (TIME of the last record - TIME of the first) / 1999; 1w: put-callback wall time / 2000, "
          "CA round trip included. 2, 3a: records / spread of their TIME stamps. 3b: wall time from "
          "postEvent to the last value seen over PVA, as a speed-up. 4: pushes / seconds in the IOC's "
          "Python; 4d: monitor callbacks a pyepics client got; 4c, 4q: processings of the record (a calc "
          "on its FLNK counts them) / seconds from the first push to the TIME of the last. 5: median put-callback time minus that "
          "of a trivial record; memcpy is numpy.copyto of the same 8 MB in the IOC's Python into one "
          "buffer, into two in turn (as a record's one copy must: clients read the other) and into "
          "three (as a push must when it comes before the record took the last one: the record's, "
          "the last push's, its own), the mean of 20 in a loop, as 5p times 20 pushes; 5q: the "
          "same 20 each timed alone, 2 ms apart (the record takes each push before the next: "
          "two buffers alternate). "
          "6: median of 50 pyepics gets; 6p: of 10, a get unanswered within 2 s counts as 2000 ms.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds per figure (default 5)")
    parser.add_argument("--threads", default=os.environ.get("PYDEV_NUM_THREADS", "3"),
                        help="PYDEV_NUM_THREADS of the main IOC (default 3, the IOC's default)")
    parser.add_argument("--one-core", type=int, metavar="PRIO", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["await"], help="run only these rows (7a-7c)")
    args = parser.parse_args()
    if args.one_core is not None:
        one_core_round(args.one_core, args.runs)
        return
    load_before = load()
    t0 = time.perf_counter()
    if args.only == "await":
        figures = await_ioc(args.runs, args.threads)
        print(f"\nPyDevice core benchmark, rows 7 only, {time.strftime('%Y-%m-%d %H:%M')}, "
              f"commit {commit()}, PYDEV_NUM_THREADS={args.threads}; median (min–max) of "
              f"{args.runs} rounds; {time.perf_counter() - t0:.0f} s; load average "
              f"{load_before} at the start, {load()} at the end\n")
        print("| # | measurement | PyDevice | native / floor, same IOC | ratio | goal (issue #22) |")
        print("|---|---|---|---|---|---|")
        report_await(figures)
        return
    figures = main_ioc(args.runs, args.threads)
    figures.update(await_ioc(args.runs, args.threads))
    scale = scaling(args.runs)
    one_core = one_core_latency(args.runs)
    figures["core50"], figures["core11"] = one_core[50], one_core[11]
    report(args, figures, scale, time.perf_counter() - t0, load_before)


if __name__ == "__main__":
    main()
