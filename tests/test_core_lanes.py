# SPDX-License-Identifier: BSD-3-Clause
"""Lanes (issue #22): info(pydev:lane, "name") runs a device's records one at a time, in order,
on at most one worker, so a device that hangs cannot starve the other records; time limits
count from when a record was queued."""
import epics
import pytest

from harness import TIME_SCALE, Ioc, poll

HANG = 2.5 * TIME_SCALE

DB = "".join(
    f'record(ao, "$(P)seq{i}") {{ field(DTYP, "pydev") field(OUT, "@step({i})") info(pydev:lane, "seq") }}\n'
    for i in range(4)) + "".join(
    f'record(ao, "$(P)aseq{i}") {{ field(DTYP, "pydev") field(OUT, "@await astep({i})") info(pydev:lane, "aseq") }}\n'
    for i in range(3)) + "".join(
    f'record(ao, "$(P)hung{i}") {{ field(DTYP, "pydev") field(OUT, "@time.sleep(hang)") info(pydev:lane, "plc") }}\n'
    for i in range(4)) + "".join(
    f'record(ao, "$(P)late{i}") {{ field(DTYP, "pydev") field(OUT, "@late_ran.append({i})") info(pydev:lane, "slow") info(pydev:timeout, "1") }}\n'
    for i in range(3)) + """
record(ao, "$(P)slowhead") { field(DTYP, "pydev") field(OUT, "@time.sleep(hang)") info(pydev:lane, "slow") }
record(ao, "$(P)busy0") { field(DTYP, "pydev") field(OUT, "@time.sleep(hang)") }
record(ao, "$(P)busy1") { field(DTYP, "pydev") field(OUT, "@time.sleep(hang)") }
record(ao, "$(P)busy2") { field(DTYP, "pydev") field(OUT, "@time.sleep(hang)") }
record(ao, "$(P)queued") { field(DTYP, "pydev") field(OUT, "@queued_ran.append(1)") info(pydev:timeout, "1") }
record(ai, "$(P)plain") { field(DTYP, "pydev") field(INP, "@2.5") }
record(ai, "$(P)nolane") { field(DTYP, "pydev") field(INP, "@1") info(pydev:lane, "") }
"""
SETUP = f"""
import asyncio, threading, time
hang = {HANG}
log = []
running = [0, 0]   # now, most at once
late_ran = []
queued_ran = []
lock = threading.Lock()
def step(i):
    with lock:
        running[0] += 1
        running[1] = max(running)
        log.append(('start', i))
    time.sleep(0.1)
    with lock:
        running[0] -= 1
        log.append(('end', i))
alog = []
async def astep(i):
    alog.append(('start', i))
    await asyncio.sleep(0.2)
    alog.append(('end', i))
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py=SETUP) as ioc:
        yield ioc


def test_records_of_a_lane_run_one_at_a_time_in_the_order_queued(ioc):
    for i in range(4):
        ioc.caput(f"$(P)seq{i}", 1, wait=False)
    assert poll(lambda: len(ioc.pyeval("log")) == 8, timeout=10)
    assert ioc.pyeval("log") == [(kind, i) for i in range(4) for kind in ("start", "end")]
    assert ioc.pyeval("running[1]") == 1


def test_an_awaiting_record_holds_its_lane_until_its_task_ends(ioc):
    for i in range(3):
        ioc.caput(f"$(P)aseq{i}", 1, wait=False)
    assert poll(lambda: len(ioc.pyeval("alog")) == 6, timeout=10)
    assert ioc.pyeval("alog") == [(kind, i) for i in range(3) for kind in ("start", "end")]


def test_a_time_limit_counts_from_when_the_record_was_queued(ioc):
    """Records behind a hung one on their lane time out at their limit without running."""
    ioc.caput("$(P)slowhead", 1, wait=False)
    assert poll(lambda: ioc.caget("$(P)slowhead.PACT") == 1, timeout=5)
    for i in range(3):
        ioc.caput(f"$(P)late{i}", 1, wait=False)
    assert poll(lambda: all(ioc.caget(f"$(P)late{i}.PACT") == 0 for i in range(3)), timeout=HANG)
    assert ioc.caget("$(P)slowhead.PACT") == 1  # the head still hangs: they never ran
    for i in range(3):
        stat, sevr, amsg = ioc.alarm(f"$(P)late{i}")
        assert (stat, sevr) == ("TIMEOUT", "INVALID") and "no result within 1 s" in amsg
    assert ioc.pyeval("late_ran") == []
    assert "3 timed out waiting" in ioc.cmd("pydevReport")
    assert poll(lambda: ioc.caget("$(P)slowhead.PACT") == 0, timeout=HANG + 10)


def test_a_time_limit_bounds_the_wait_in_a_congested_pool(ioc):
    """No lanes: every worker sleeps; a record with a 1 s limit queued behind them completes
    with TIMEOUT at its limit, without running."""
    for i in range(3):
        ioc.caput(f"$(P)busy{i}", 1, wait=False)
    assert poll(lambda: all(ioc.caget(f"$(P)busy{i}.PACT") == 1 for i in range(3)), timeout=5)
    ioc.caput("$(P)queued", 1, timeout=HANG)
    still = [ioc.caget(f"$(P)busy{i}.PACT") for i in range(3)]
    assert still == [1] * 3, "the record waited for a worker instead of its limit"
    stat, sevr, amsg = ioc.alarm("$(P)queued")
    assert (stat, sevr) == ("TIMEOUT", "INVALID") and "no result within 1 s" in amsg
    assert ioc.pyeval("queued_ran") == []
    assert poll(lambda: all(ioc.caget(f"$(P)busy{i}.PACT") == 0 for i in range(3)), timeout=HANG + 10)


def test_a_lane_without_a_name_disables_the_record(ioc):
    stat, sevr, amsg = ioc.alarm("$(P)nolane")
    assert (stat, sevr) == ("UDF", "INVALID") and "pydev:lane" in amsg


def test_a_hung_device_on_its_lane_does_not_stall_other_records(ioc):
    """Four records of a device that hangs (more than the pool's three workers): an unrelated
    record's put-callback completes while they all still wait, and the lane shows its
    backlog."""
    for i in range(4):
        epics.caput(ioc.P + f"hung{i}", 1, wait=False)
    assert poll(lambda: ioc.caget("$(P)hung3.PACT") == 1, timeout=5)
    ioc.caput("$(P)plain.PROC", 1)
    assert ioc.caget("$(P)plain") == 2.5
    report = ioc.cmd("pydevReport 1")
    still = [ioc.caget(f"$(P)hung{i}.PACT") for i in range(4)]
    assert still == [1] * 4, "the unrelated record waited for the hung device"
    assert "pydev lane 'plc': held for" in report and "backlog 3" in report, report
    assert "lane 'plc'" in report  # the records' lines name their lane
