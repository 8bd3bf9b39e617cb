# SPDX-License-Identifier: BSD-3-Clause
"""Hang protection: a snippet that runs past its time limit never holds its record, its
put-callback or the pool hostage; the pool's state is visible in pydevReport and as records."""
import time

import pytest

from harness import ROOT, Ioc, poll

DB = """
record(ao, "$(P)hang") {
    field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)")
    info(pydev:timeout, "0.5")
}
record(ai, "$(P)late") {
    field(DTYP, "pydev") field(INP, "@(time.sleep(2), 42)[1]")
    info(pydev:timeout, "0.3")
}
record(ai, "$(P)quick") { field(DTYP, "pydev") field(INP, "@21 * 2") }
record(ai, "$(P)badlimit") { field(DTYP, "pydev") field(INP, "@1") info(pydev:timeout, "soon") }
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py="import time",
             db_files=[(ROOT / "db" / "pydevStats.db", "P=$(P)pool:")],
             env={"PYDEV_NUM_THREADS": "1"}) as ioc:
        yield ioc


def test_a_run_past_its_time_limit_completes_the_record_with_timeout(ioc):
    start = time.monotonic()
    ioc.caput("$(P)hang", 30, timeout=10)   # the put-callback returns
    elapsed = time.monotonic() - start
    print(f"hang to TIMEOUT: {elapsed:.2f} s for a 0.5 s limit")
    assert 0.4 < elapsed < 1.5
    assert ioc.alarm("$(P)hang") == ("TIMEOUT", "INVALID", "no result within 0.5 s")
    assert ioc.caget("$(P)hang.PACT") == 0


def test_the_pool_keeps_its_size_while_a_worker_is_stuck(ioc):
    # the only configured worker is stuck in the 30 s sleep above: a replacement serves this
    ioc.caput("$(P)quick.PROC", 1)
    assert poll(lambda: ioc.caget("$(P)quick") == 42.0, timeout=3)
    assert "STUCK" in ioc.cmd("pydevReport 1")


def test_a_record_whose_run_is_stuck_refuses_new_runs_with_an_alarm(ioc):
    start = time.monotonic()
    ioc.caput("$(P)hang", 1, timeout=5)
    assert time.monotonic() - start < 1
    assert ioc.alarm("$(P)hang")[:2] == ("TIMEOUT", "INVALID")
    assert "still busy" in ioc.alarm("$(P)hang")[2]


def test_a_late_result_is_dropped(ioc):
    ioc.caput("$(P)late.PROC", 1)
    assert ioc.alarm("$(P)late") == ("TIMEOUT", "INVALID", "no result within 0.3 s")
    time.sleep(2.5)                                       # the code has returned 42 by now
    assert ioc.caget("$(P)late") != 42.0


def test_the_pool_state_is_served_as_records(ioc):
    assert poll(lambda: ioc.caget("$(P)pool:Stuck") >= 1, timeout=3)
    assert ioc.caget("$(P)pool:Workers") >= 2              # 1 configured + its replacement
    assert ioc.caget("$(P)pool:Timeouts") >= 2
    assert ioc.caget("$(P)pool:OldestJobAge") > 0.5
    assert ioc.alarm("$(P)pool:Stuck")[1] == "MINOR"


def test_a_bad_time_limit_disables_its_record_saying_why(ioc):
    assert "pydev:timeout" in ioc.alarm("$(P)badlimit")[2]
    assert "badlimit" in ioc.cmd("pydevReport 1")
