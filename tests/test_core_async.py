# SPDX-License-Identifier: BSD-3-Clause
"""Worker pool, put-callback completion, blocking snippets, pydev.iointr, PV Access."""
import threading
import time

import epics
import pytest

from harness import Ioc, poll

DB = """
record(ao, "$(P)slow") { field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }
record(ao, "$(P)slow1") { field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }
record(ao, "$(P)slow2") { field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }
record(longin, "$(P)counter") { field(DTYP, "pydev") field(INP, "@next(ticks)") field(SCAN, ".1 second") }
record(calc, "$(P)calc") { field(CALC, "A+1") field(INPA, "$(P)calc") field(SCAN, ".1 second") }
record(longin, "$(P)io:long") { field(DTYP, "pydev") field(INP, "@pydev.iointr('shared')") field(SCAN, "I/O Intr") }
record(ai, "$(P)io:ai") { field(DTYP, "pydev") field(INP, '@pydev.iointr("shared")') field(SCAN, "I/O Intr") field(TSE, "-2") }
record(stringin, "$(P)io:str") { field(DTYP, "pydev") field(INP, "@pydev.iointr('shared')") field(SCAN, "I/O Intr") }
record(waveform, "$(P)io:wf") { field(DTYP, "pydev") field(INP, "@pydev.iointr('arr')") field(SCAN, "I/O Intr") field(NELM, "4") field(FTVL, "FLOAT") }
record(longin, "$(P)io:fast") { field(DTYP, "pydev") field(INP, "@pydev.iointr('fast')") field(SCAN, "I/O Intr") }
record(longin, "$(P)io:expr") { field(DTYP, "pydev") field(INP, "@pydev.iointr(channel('shared'))") field(SCAN, "I/O Intr") }
record(longin, "$(P)io:badexpr") { field(DTYP, "pydev") field(INP, "@pydev.iointr(channel('nope'))") field(SCAN, "I/O Intr") }
record(longin, "$(P)io:early") { field(DTYP, "pydev") field(INP, "@pydev.iointr('early')") field(SCAN, "I/O Intr") }
record(stringin, "$(P)io:earlypini") { field(DTYP, "pydev") field(INP, "@pydev.iointr('early')") field(PINI, "YES") }
record(longin, "$(P)io:none") { field(DTYP, "pydev") field(INP, "@pydev.iointr('never')") field(SCAN, "I/O Intr") }
record(ao, "$(P)pva") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__('pva', VAL)") }
record(ai, "$(P)pvain") { field(DTYP, "pydev") field(INP, "@sink.get('pva', 0) * 2") field(SCAN, ".1 second") }
"""
SETUP = """
import time, itertools, threading
ticks = itertools.count()
sink = {}
channels = {'shared': 'shared'}
channel = channels.__getitem__
pydev.iointr('early', 11)   # before any record exists
import weakref
class Early(float): pass
early_value = Early(5.0)
early_ref = weakref.ref(early_value)
pydev.iointr('early:kept', early_value)   # kept until the IOC runs, for records attached late
del early_value
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py=SETUP) as ioc:
        yield ioc


def test_a_put_callback_completes_when_the_python_code_has_run(ioc):
    start = time.monotonic()
    ioc.caput("$(P)slow", 0.6)
    assert time.monotonic() - start >= 0.6
    assert ioc.caget("$(P)slow.PACT") == 0


def test_blocking_code_stalls_no_scan_thread(ioc):
    """While two workers sleep, scanned records (pydev and plain) keep processing."""
    c0, k0 = ioc.caget("$(P)counter"), ioc.caget("$(P)calc")
    for pv in ("slow1", "slow2"):
        ioc.caput(f"$(P){pv}", 2.0, wait=False)
    time.sleep(1.0)
    assert ioc.caget("$(P)slow1.PACT") == 1 and ioc.caget("$(P)slow2.PACT") == 1
    assert ioc.caget("$(P)counter") >= c0 + 5    # third worker still serves the 10 Hz record
    assert ioc.caget("$(P)calc") >= k0 + 5      # scan threads never waited on Python
    assert poll(lambda: ioc.caget("$(P)slow1.PACT") == 0, timeout=5)


def test_workers_run_slow_code_in_parallel(ioc):
    done = []
    start = time.monotonic()
    threads = [threading.Thread(target=lambda pv=pv: done.append(epics.caput(ioc.P + pv, 0.8, wait=True, timeout=10)))
               for pv in ("slow", "slow1", "slow2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert done == [1, 1, 1]
    assert elapsed < 2.0, f"three 0.8 s snippets took {elapsed:.2f} s: not parallel"


def test_one_iointr_push_reaches_every_record_type_with_its_timestamp(ioc):
    stamp = 1_700_000_000.25
    ioc.py(f"pydev.iointr('shared', 17, timestamp={stamp})")
    assert poll(lambda: ioc.caget("$(P)io:long") == 17)
    assert ioc.caget("$(P)io:ai") == 17.0
    assert ioc.caget("$(P)io:str") == "17"
    # TSE=-2: the record's TIME is the pushed timestamp
    pv = ioc.pv("$(P)io:ai", form="time")
    assert pv.get_timevars(timeout=5) is not None
    assert pv.timestamp == pytest.approx(stamp, abs=1e-3)
    ioc.py("pydev.iointr('arr', [1.5, 2.5])")
    assert poll(lambda: list(ioc.caget("$(P)io:wf")) == [1.5, 2.5])


def test_a_push_from_a_python_thread_reaches_a_monitor(ioc):
    updates = []
    pv = ioc.pv("$(P)io:long", callback=lambda value=None, **kw: updates.append(value))
    assert pv.wait_for_connection(5)
    time.sleep(0.3)
    ioc.py("threading.Thread(target=lambda: pydev.iointr('shared', 99)).start()")
    assert poll(lambda: 99 in updates)
    pv.clear_callbacks()


def test_the_last_value_pushed_wins(ioc):
    ioc.py("for i in range(20001):\n    pydev.iointr('fast', i)")
    assert poll(lambda: ioc.caget("$(P)io:fast") == 20000, timeout=5)
    assert ioc.alarm("$(P)io:fast")[1] == "NO_ALARM"


def test_concurrent_pushes_whose_conversion_releases_the_gil_never_hang(ioc):
    """Conversion may run Python (here __index__ sleeps); pushes from two threads never hang."""
    ioc.py("""
class Slow:
    def __init__(self, v):
        self.v = v

    def __index__(self):
        time.sleep(0.0005)
        return self.v

def push(k):
    for i in range(300):
        pydev.iointr('fast', Slow(1000 * k + i))

pushers = [threading.Thread(target=push, args=(k,)) for k in (1, 2)]
for t in pushers:
    t.start()
for t in pushers:
    t.join()
""", timeout=30)
    final = ioc.pyeval("pydev.iointr('fast', Slow(7)) or 7")
    assert poll(lambda: ioc.caget("$(P)io:fast") == final, timeout=5)


def test_a_pushed_alarm_or_bad_value_alarms_and_a_good_one_clears_it(ioc):
    ioc.py("pydev.iointr('shared', pydev.Alarm('sensor lost', 'COMM', 'INVALID'))")
    assert poll(lambda: ioc.alarm("$(P)io:long") == ("COMM", "INVALID", "sensor lost"))
    assert ioc.caget("$(P)io:long") == 99            # value kept
    ioc.py("pydev.iointr('shared', 'not a number')")
    assert poll(lambda: ioc.alarm("$(P)io:long")[:2] == ("READ", "INVALID"))
    assert poll(lambda: ioc.caget("$(P)io:str") == "not a number")  # strings still fine
    ioc.py("pydev.iointr('shared', 5)")
    assert poll(lambda: ioc.alarm("$(P)io:long")[1] == "NO_ALARM" and ioc.caget("$(P)io:long") == 5)


def test_an_iointr_name_may_be_an_expression_evaluated_at_init(ioc):
    ioc.py("pydev.iointr('shared', 314)")
    assert poll(lambda: ioc.caget("$(P)io:expr") == 314)
    # a name that cannot be computed disables just that record, at init, saying why
    assert f"pydev: {ioc.P}io:badexpr: 'nope' (KeyError)" in ioc.output
    assert ioc.alarm("$(P)io:badexpr") == ("UDF", "INVALID", "'nope' (KeyError)")


def test_values_pushed_before_iocinit_reach_the_records(ioc):
    assert poll(lambda: ioc.caget("$(P)io:early") == 11)       # I/O Intr: scanned once running
    assert ioc.caget("$(P)io:earlypini") == "11"               # PINI: slot primed at init
    assert ioc.alarm("$(P)io:early")[1] == "NO_ALARM"


def test_a_value_pushed_before_iocinit_is_let_go_once_the_ioc_runs(ioc):
    """Pushes before iocInit are kept for records that attach later; once the IOC runs no
    record can, so the IOC must not keep the pushed objects (multi-MB arrays) for good."""
    assert ioc.pyeval("__import__('gc').collect() >= 0 and early_ref() is None")


def test_an_iointr_record_nothing_was_pushed_to_is_udf(ioc):
    ioc.caput("$(P)io:none.PROC", 1)
    assert ioc.alarm("$(P)io:none")[:2] == ("UDF", "INVALID")


def test_pv_access_clients_read_and_write_pydev_records(ioc):
    from p4p.client.thread import Context
    ctx = Context("pva", nt=False)
    try:
        ctx.put(ioc.P + "pva", 21.5, wait=True)
        assert ioc.pyeval("sink['pva']") == 21.5
        assert poll(lambda: ctx.get(ioc.P + "pvain", timeout=5).value == 43.0, timeout=5)
    finally:
        ctx.close()
