# SPDX-License-Identifier: BSD-3-Clause
"""What the performance work of issue #12 must not change, and the choices it adds.

No timing is asserted here (speed is measured in bench/): coalescing keeps the last push,
queueing delivers every push in order up to its bound and counts and alarms what it drops,
array results arrive whole and equal (the record's buffer is traded, not copied), a push is
sized by what it carries, records whose code one worker runs as a batch each get their own
result and a record that ran slow holds back no batch, workers running GIL-free code all
complete and a snippet can wait for a job it queued, and the workers run at the priority
PYDEV_PRIORITY names.
"""
from __future__ import annotations

import re

import pytest

from harness import ROOT, Ioc, poll

N = 2000      # pushes in a burst
BOUND = 10    # the small queue

DB = f"""
record(longin, "$(P)co") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('co')") field(SCAN, "I/O Intr") }}
record(ai, "$(P)co:ai") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('co')") field(SCAN, "I/O Intr") }}
record(longin, "$(P)q") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('q')") field(SCAN, "I/O Intr")
    info(pydev:queue, "{N * 2}") field(FLNK, "$(P)q:log") }}
record(compress, "$(P)q:log") {{ field(ALG, "Circular Buffer") field(INP, "$(P)q NPP") field(NSAM, "{N * 2}") }}
record(longin, "$(P)q2") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('q')") field(SCAN, "I/O Intr")
    info(pydev:queue, "{N * 2}") }}
record(longin, "$(P)small") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('small')") field(SCAN, "I/O Intr")
    info(pydev:queue, "{BOUND}") field(FLNK, "$(P)small:log") }}
record(compress, "$(P)small:log") {{ field(ALG, "Circular Buffer") field(INP, "$(P)small NPP") field(NSAM, "100")
    field(FLNK, "$(P)small:sevr") }}
record(longin, "$(P)q:early") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('qearly')") field(SCAN, "I/O Intr")
    info(pydev:queue, "5") }}
record(compress, "$(P)small:sevr") {{ field(ALG, "Circular Buffer") field(INP, "$(P)small.SEVR NPP") field(NSAM, "100") }}
record(waveform, "$(P)wave") {{ field(DTYP, "pydev") field(INP, "@arrays[which]") field(NELM, "100000") field(FTVL, "DOUBLE") }}
record(waveform, "$(P)wave:long") {{ field(DTYP, "pydev") field(INP, "@arrays[which]") field(NELM, "100000") field(FTVL, "LONG") }}
record(aai, "$(P)aai") {{ field(DTYP, "pydev") field(INP, "@arrays[which]") field(NELM, "100000") field(FTVL, "DOUBLE") }}
record(waveform, "$(P)wave:acc") {{ field(DTYP, "pydev") field(INP, "@VAL + 1 if len(VAL) else numpy.zeros(5)")
    field(NELM, "5") field(FTVL, "DOUBLE") }}
record(waveform, "$(P)wave:push") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('wp')") field(SCAN, "I/O Intr")
    field(NELM, "100000") field(FTVL, "DOUBLE") }}
record(waveform, "$(P)wave:push2") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('wp')") field(SCAN, "I/O Intr")
    field(NELM, "100") field(FTVL, "DOUBLE") }}
record(waveform, "$(P)wave:twinA") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('twins')") field(SCAN, "I/O Intr")
    field(NELM, "100000") field(FTVL, "DOUBLE") }}
record(waveform, "$(P)wave:twinB") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr('twins')") field(SCAN, "I/O Intr")
    field(NELM, "100000") field(FTVL, "DOUBLE") }}
"""
SETUP = """
import numpy
rng = numpy.random.default_rng(12)
arrays = {'big': rng.random(100000), 'short': rng.random(7), 'mid': rng.random(5000) * 1000,
          'ints': numpy.arange(-50000, 50000, dtype=numpy.int32)}
which = 'big'
pydev.iointr('qearly', 5)   # before the record exists
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py=SETUP, db_files=[(ROOT / "db" / "pydevStats.db", "P=$(P)pool:")]) as ioc:
        yield ioc


def burst(ioc: Ioc, name: str, first: int, count: int) -> None:
    """``count`` pushes of first, first+1, ... to ``name`` from one Python loop."""
    ioc.py(f"for i in range({first}, {first + count}): pydev.iointr('{name}', i)", timeout=60)


def logged(ioc: Ioc, pv: str) -> list[int]:
    """The values a compress (circular buffer) record collected, oldest first."""
    return [int(v) for v in ioc.pyeval(f"pydev.get('{ioc.expand(pv)}').tolist()")]


# ---------------------------------------------------------------- coalescing (the default)
def test_coalescing_keeps_the_last_push_in_every_record(ioc):
    for first in (1, 10_001):
        burst(ioc, "co", first, N)
        last = first + N - 1
        assert poll(lambda: ioc.caget("$(P)co") == last and ioc.caget("$(P)co:ai") == last)
        assert ioc.alarm("$(P)co")[1] == "NO_ALARM"


# ---------------------------------------------------------------- queueing
def test_queueing_delivers_every_push_in_order(ioc):
    burst(ioc, "q", 0, N)
    assert poll(lambda: ioc.caget("$(P)q:log.NUSE") == N, timeout=30), \
        f"{ioc.caget('$(P)q:log.NUSE')} of {N} values delivered"
    assert logged(ioc, "$(P)q:log") == list(range(N))
    assert ioc.caget("$(P)q2") == N - 1        # the other record of the name got them too
    assert ioc.alarm("$(P)q")[1] == "NO_ALARM"
    out = ioc.cmd("pydevReport 1")
    assert re.search(r"iointr 'q': 2 records, \d+ pushes, \d+ scans, queue of 4000 per record, "
                     r"0 values dropped", out), out


def test_a_queueing_record_gets_what_was_pushed_before_it_existed(ioc):
    assert poll(lambda: ioc.caget("$(P)q:early") == 5)
    assert ioc.alarm("$(P)q:early")[1] == "NO_ALARM"
    burst(ioc, "qearly", 6, 3)
    assert poll(lambda: ioc.caget("$(P)q:early") == 8)


def test_a_full_queue_drops_the_oldest_counts_and_alarms(ioc):
    # a disabled record takes nothing: the pushes wait in its queue, which holds BOUND
    ioc.caput("$(P)small.DISA", 1)
    burst(ioc, "small", 1, 25)
    assert ioc.caget("$(P)small:log.NUSE") == 0
    ioc.caput("$(P)small.DISA", 0)
    burst(ioc, "small", 26, 1)              # the next push scans again
    assert poll(lambda: ioc.caget("$(P)small:log.NUSE") == BOUND, timeout=10)
    # values 1..16 were dropped (the oldest first); 17..26 arrive in order
    assert logged(ioc, "$(P)small:log") == list(range(17, 27))
    # the first value after the gap carries the alarm, the others none
    assert logged(ioc, "$(P)small:sevr") == [1] + [0] * (BOUND - 1)
    out = ioc.cmd("pydevReport 1")
    assert "iointr 'small': 1 records, 26 pushes" in out and "16 values dropped" in out, out
    assert poll(lambda: ioc.caget("$(P)pool:Dropped") == 16, timeout=5)
    assert ioc.alarm("$(P)pool:Dropped")[1] == "MINOR"


@pytest.mark.parametrize("tag, why", [
    ('info(pydev:queue, "many")', "pydev:queue must be a count 1..100000"),
    ('info(pydev:queue, "0")', "pydev:queue must be a count 1..100000"),
])
def test_a_bad_queue_tag_disables_the_record_saying_why(tag, why):
    db = (f'record(longin, "$(P)bad") {{ field(DTYP, "pydev") field(INP, "@pydev.iointr(\'b\')") '
          f'field(SCAN, "I/O Intr") {tag} }}')
    with Ioc(db) as ioc:
        assert ioc.alarm("$(P)bad") == ("UDF", "INVALID", why)


def test_records_of_one_name_must_agree_on_queueing():
    db = """
record(longin, "$(P)a") { field(DTYP, "pydev") field(INP, "@pydev.iointr('x')") field(SCAN, "I/O Intr") }
record(longin, "$(P)b") { field(DTYP, "pydev") field(INP, "@pydev.iointr('x')") field(SCAN, "I/O Intr")
    info(pydev:queue, "5") }
record(longin, "$(P)c") { field(DTYP, "pydev") field(INP, "@VAL") info(pydev:queue, "5") }
"""
    with Ioc(db) as ioc:
        stat, sevr, msg = ioc.alarm("$(P)b")
        assert (stat, sevr) == ("UDF", "INVALID") and msg.startswith("pydev:queue differs")
        assert f"pydev: {ioc.P}b: pydev:queue differs from other records of its iointr name" \
            in ioc.output
        assert ioc.alarm("$(P)c")[2] == "pydev:queue needs @pydev.iointr('name')"


# ---------------------------------------------------------------- arrays
def equal_in_ioc(ioc: Ioc, pv: str, key: str) -> bool:
    return ioc.pyeval(f"bool(numpy.array_equal(pydev.get('{ioc.expand(pv)}'), arrays['{key}']))")


@pytest.mark.parametrize("pv", ["$(P)wave", "$(P)aai"])
def test_array_results_arrive_whole_and_equal(ioc, pv):
    # alternating lengths: the buffers the record trades with the result never mix
    for key in ("big", "short", "mid", "big", "big", "short"):
        ioc.py(f"which = '{key}'")
        ioc.caput(pv + ".PROC", 1)
        assert ioc.caget(pv + ".NORD") == len(ioc.pyeval(f"arrays['{key}'].tolist()"))
        assert equal_in_ioc(ioc, pv, key), f"{pv} after {key}"
        assert ioc.alarm(pv)[1] == "NO_ALARM"
    ioc.py("which = 'big'")


def test_a_converted_array_result_is_equal(ioc):
    ioc.py("which = 'ints'")
    ioc.caput("$(P)wave:long.PROC", 1)
    assert equal_in_ioc(ioc, "$(P)wave:long", "ints")
    ioc.py("which = 'big'")


def test_an_array_code_reads_its_own_last_result(ioc):
    for _ in range(4):
        ioc.caput("$(P)wave:acc.PROC", 1)
    assert list(ioc.caget("$(P)wave:acc")) == [3.0] * 5


def test_pushed_arrays_of_any_length_arrive_whole(ioc):
    """A push is converted into a buffer sized by what it carries, reused from push to push."""
    for key in ("big", "short", "mid", "short", "big"):
        ioc.py(f"pydev.iointr('wp', arrays['{key}'])")
        n = len(ioc.pyeval(f"arrays['{key}'].tolist()"))
        assert poll(lambda: ioc.caget("$(P)wave:push.NORD") == n)
        assert equal_in_ioc(ioc, "$(P)wave:push", key), key
        small = ioc.alarm("$(P)wave:push2")
        if n <= 100:
            assert small[1] == "NO_ALARM" and equal_in_ioc(ioc, "$(P)wave:push2", key)
        else:   # too long for NELM 100: an alarm, never a cut array
            assert small[:2] == ("READ", "INVALID") and "do not fit NELM=100" in small[2]
        # processed again without a new push (the record took the pushed buffer): unchanged
        ioc.caput("$(P)wave:push.PROC", 1)
        assert equal_in_ioc(ioc, "$(P)wave:push", key), f"{key}, processed again"


def test_a_push_never_writes_into_the_array_a_record_holds(ioc):
    """A push converts into the buffer the record gave back when it took the last value (two
    buffers alternate), never into the one the record holds: with the record disabled, so
    that it takes nothing, a push leaves what clients read as it was."""
    pv = "$(P)wave:push"
    for key in ("big", "mid", "big"):
        ioc.py(f"pydev.iointr('wp', arrays['{key}'])")
        assert poll(lambda: equal_in_ioc(ioc, pv, key)), key
    ioc.caput(pv + ".DISA", 1)
    try:
        for key in ("mid", "short", "ints", "mid"):
            ioc.py(f"pydev.iointr('wp', arrays['{key}'])")
            assert equal_in_ioc(ioc, pv, "big"), f"a push of {key} changed a disabled record"
    finally:
        ioc.caput(pv + ".DISA", 0)
    ioc.caput(pv + ".PROC", 1)   # takes the last value pushed while it was disabled
    assert equal_in_ioc(ioc, pv, "mid")


def test_records_sharing_a_pushed_array_each_get_it_whole(ioc):
    for key in ("big", "mid", "big"):
        ioc.py(f"pydev.iointr('twins', arrays['{key}'])")
        n = len(ioc.pyeval(f"arrays['{key}'].tolist()"))
        for pv in ("$(P)wave:twinA", "$(P)wave:twinB"):
            assert poll(lambda: ioc.caget(pv + ".NORD") == n)
            assert equal_in_ioc(ioc, pv, key), f"{pv} after {key}"


# ---------------------------------------------------------------- workers
SLEEPERS = 16
WORKERS_DB = "\n".join(
    f'record(longin, "$(P)s{i}") {{ field(DTYP, "pydev") field(INP, "@time.sleep(0.05) or VAL + 1") '
    f'field(SCAN, "Event") field(EVNT, "5") }}' for i in range(SLEEPERS)) + """
record(longin, "$(P)waiter") { field(DTYP, "pydev") field(INP, "@(pydev.put('$(P)helper.PROC', 1), done.wait(20))[1]") }
record(longin, "$(P)helper") { field(DTYP, "pydev") field(INP, "@done.set() or 7") }
"""


def test_workers_in_gil_free_code_all_complete_side_by_side():
    with Ioc(WORKERS_DB, py="import time, threading; done = threading.Event()",
             env={"PYDEV_NUM_THREADS": "4"}) as ioc:
        for round_ in (1, 2):
            ioc.cmd("postEvent 5")
            assert poll(lambda: all(ioc.caget(f"$(P)s{i}") == round_ for i in range(SLEEPERS)),
                        timeout=30)
        # a worker asleep in time.sleep takes no job: the others were woken for them
        counts = [int(n) for n in re.findall(r"pydev\d: idle, (\d+) jobs run",
                                              ioc.cmd("pydevReport 1"))]
        assert len(counts) == 4 and sum(1 for n in counts if n > 0) >= 2, counts


def test_a_snippet_can_wait_for_a_job_it_queued():
    """The job waits in the queue while the only awake worker waits for it: another wakes."""
    with Ioc(WORKERS_DB, py="import time, threading; done = threading.Event()",
             env={"PYDEV_NUM_THREADS": "2"}) as ioc:
        ioc.caput("$(P)waiter.PROC", 1, timeout=30)
        assert ioc.caget("$(P)waiter") == 1 and ioc.caget("$(P)helper") == 7


BATCH = 300
BATCH_DB = "\n".join(
    f'record(longin, "$(P)b{i}") {{ field(DTYP, "pydev") field(INP, "@VAL + {i + 1}") '
    f'field(SCAN, "Event") field(EVNT, "6") }}' for i in range(BATCH))


def test_records_whose_code_runs_in_one_batch_each_get_their_own_result():
    """One worker runs the code of many queued records under one hold of the GIL, then
    completes them: every record gets its own result, every time."""
    with Ioc(BATCH_DB, env={"PYDEV_NUM_THREADS": "1"}) as ioc:
        for round_ in (1, 2, 3):
            ioc.cmd("postEvent 6")
            assert poll(lambda: all(ioc.caget(f"$(P)b{i}") == round_ * (i + 1)
                                    for i in range(0, BATCH, 7)), timeout=30)
        assert all(ioc.caget(f"$(P)b{i}") == 3 * (i + 1) for i in range(BATCH))
        assert all(ioc.alarm(f"$(P)b{i}")[1] == "NO_ALARM" for i in range(0, BATCH, 7))


def around_a_slow_record(slow_seconds: float) -> str:
    """fast0..fast9, slow, fast10..fast19 on one event, in that order."""
    fast = 'record(longin, "$(P)fast{}") {{ field(DTYP, "pydev") field(INP, "@VAL + 1") ' \
           'field(SCAN, "Event") field(EVNT, "4") }}'
    slow = (f'record(longin, "$(P)slow") {{ field(DTYP, "pydev") '
            f'field(INP, "@time.sleep({slow_seconds}) or VAL + 1") field(SCAN, "Event") field(EVNT, "4") }}')
    return "\n".join([fast.format(i) for i in range(10)] + [slow] +
                      [fast.format(i) for i in range(10, 20)])


def test_a_record_that_ran_slow_holds_back_no_batch():
    """A record whose last run was long is not taken into another record's batch: the
    records queued before and after it complete while it still runs.  (Its first slow run
    may hold back the records batched before it: nothing told yet that it is slow.)"""
    with Ioc(around_a_slow_record(4), py="import time", env={"PYDEV_NUM_THREADS": "2"}) as ioc:
        ioc.cmd("postEvent 4")
        assert poll(lambda: ioc.caget("$(P)slow") == 1, timeout=30)
        ioc.cmd("postEvent 4")
        assert poll(lambda: all(ioc.caget(f"$(P)fast{i}") == 2 for i in range(20)), timeout=3)
        assert ioc.caget("$(P)slow") == 1, "the fast records waited for the slow one"
        assert poll(lambda: ioc.caget("$(P)slow") == 2, timeout=30)


# ---------------------------------------------------------------- priority
def thread_priorities(ioc: Ioc) -> dict[str, int]:
    """EPICS priority (OSIPRI) of each thread, from epicsThreadShowAll's
    ``NAME  EPICS-ID  LWP-ID  OSIPRI  OSSPRI  STATE`` lines (a name may hold spaces)."""
    row = re.compile(r"^\s*(\S.*?)\s+0x[0-9a-f]+\s+\d+\s+(\d+)\s+\d+\s+\S+\s*$")
    found = {}
    for line in ioc.cmd("epicsThreadShowAll").splitlines():
        match = row.match(line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


@pytest.mark.parametrize("env, want", [({}, 11), ({"PYDEV_PRIORITY": "9"}, 9),
                                       ({"PYDEV_PRIORITY": "high"}, 11)])
def test_workers_run_at_the_configured_priority_below_the_ca_server(env, want):
    db = 'record(longin, "$(P)x") { field(DTYP, "pydev") field(INP, "@1") }'
    with Ioc(db, env=env) as ioc:
        prio = thread_priorities(ioc)
        workers = {name: p for name, p in prio.items() if re.fullmatch(r"pydev\d+", name)}
        assert workers and set(workers.values()) == {want}, prio
        assert prio["pydevWake"] == want + 1
        cas = [p for name, p in prio.items() if name.startswith("CAS-")]
        assert cas and min(cas) > want, prio
        assert f"priority {want}," in ioc.cmd("pydevReport")
        if "high" in env.values():
            assert "PYDEV_PRIORITY=high is not an EPICS priority from 0 to 99; using 11" in ioc.output
