# SPDX-License-Identifier: BSD-3-Clause
"""`await` in links (issue #22): one asyncio event loop in the IOC, records that wait on it
without holding a worker, time limits that cancel, top-level await at the iocsh, exit."""
import signal

import epics
import pytest

from harness import TIME_SCALE, Ioc, poll

DB = """
record(ai, "$(P)await") { field(DTYP, "pydev") field(INP, "@await asyncio.sleep(0.05, result=42)") }
record(ai, "$(P)coro") { field(DTYP, "pydev") field(INP, "@seven()") }
record(ao, "$(P)echo") { field(DTYP, "pydev") field(OUT, "@await store(VAL)") }
record(ai, "$(P)macro") { field(DTYP, "pydev") field(INP, "@await double(EGU, HOPR)") field(EGU, "mm") field(HOPR, "21") }
record(ai, "$(P)raises") { field(DTYP, "pydev") field(INP, "@await broken()") }
record(ao, "$(P)wraises") { field(DTYP, "pydev") field(OUT, "@await broken()") }
record(ai, "$(P)forever") { field(DTYP, "pydev") field(INP, "@await forever()") info(pydev:timeout, "0.5") }
record(ai, "$(P)plain") { field(DTYP, "pydev") field(INP, "@1.5") }
record(longin, "$(P)io") { field(DTYP, "pydev") field(INP, "@pydev.iointr('fromtask')") field(SCAN, "I/O Intr") }
record(ai, "$(P)refused") { field(DTYP, "pydev") field(INP, "@fail(ConnectionRefusedError(111, 'Connection refused'))") }
record(ao, "$(P)wrefused") { field(DTYP, "pydev") field(OUT, "@fail(ConnectionResetError(104, 'Connection reset by peer'))") }
record(ai, "$(P)oserror") { field(DTYP, "pydev") field(INP, "@fail(OSError(113, 'No route to host'))") }
record(ai, "$(P)timeout") { field(DTYP, "pydev") field(INP, "@fail(TimeoutError('the device did not answer'))") }
record(ao, "$(P)wtimeout") { field(DTYP, "pydev") field(OUT, "@fail(TimeoutError('the device did not answer'))") }
record(ai, "$(P)arefused") { field(DTYP, "pydev") field(INP, "@await afail(ConnectionRefusedError(111, 'Connection refused'))") }
record(ai, "$(P)ftimeout") { field(DTYP, "pydev") field(INP, "@fail(concurrent.futures.TimeoutError('no answer'))") }
record(ai, "$(P)atimeout") { field(DTYP, "pydev") field(INP, "@await asyncio.wait_for(asyncio.sleep(10), 0.05)") }
record(longin, "$(P)iolost") { field(DTYP, "pydev") field(INP, "@pydev.iointr('lost')") field(SCAN, "I/O Intr") }
record(ai, "$(P)longalarm") { field(DTYP, "pydev") field(INP, "@fail(pydev.Alarm(LONG, stat='HWLIMIT', sevr='MAJOR'))") }
record(ai, "$(P)longexc") { field(DTYP, "pydev") field(INP, "@await afail(RuntimeError(LONG))") }
record(ai, "$(P)pushes") { field(DTYP, "pydev") field(INP, "@await push_later(5)") }
"""
SLEEPERS = "".join(
    f'record(ai, "$(P)sleep{i}") {{ field(DTYP, "pydev") field(INP, "@await asyncio.sleep(nap, result={i})") }}\n'
    for i in range(12))
SETUP = """
import asyncio, concurrent.futures, threading
sink = {}
nap = 1.0
cancelled = []
async def seven():
    await asyncio.sleep(0.01)
    return 7
async def store(value):
    await asyncio.sleep(0.3)
    sink['echo'] = (value, threading.current_thread().name)
async def double(egu, hopr):
    await asyncio.sleep(0)
    return hopr * 2 if egu == 'mm' else -1
async def broken():
    await asyncio.sleep(0)
    raise ValueError('the device said no')
async def forever():
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        cancelled.append(True)
        raise
async def push_later(value):
    await asyncio.sleep(0.01)
    pydev.iointr('fromtask', value)
    return value
LONG = 'the pressure gauge on the north beamline reports a fault: ' + 'x' * 60 + ' END'
def fail(exc):
    raise exc
async def afail(exc):
    await asyncio.sleep(0)
    raise exc
async def where():
    await asyncio.sleep(0)
    return threading.current_thread().name
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB + SLEEPERS, py=SETUP.replace("nap = 1.0", f"nap = {3.0 * TIME_SCALE}")) as ioc:
        yield ioc


def test_a_link_may_await(ioc):
    ioc.caput("$(P)await.PROC", 1)
    assert ioc.caget("$(P)await") == 42
    assert ioc.caget("$(P)await.SEVR") == 0


def test_a_link_whose_value_is_a_coroutine_is_awaited(ioc):
    ioc.caput("$(P)coro.PROC", 1)
    assert ioc.caget("$(P)coro") == 7
    assert "never awaited" not in ioc.output


def test_a_put_callback_completes_when_the_coroutine_does(ioc):
    ioc.caput("$(P)echo", 3.25)
    # the put-callback returned after the coroutine stored the value, on the loop's thread
    assert ioc.pyeval("sink.get('echo')") == (3.25, "pydevLoop")


def test_field_macros_of_an_awaiting_link_are_values(ioc):
    ioc.caput("$(P)macro.PROC", 1)
    assert ioc.caget("$(P)macro") == 42


@pytest.mark.parametrize("pv,stat", [("raises", "READ"), ("wraises", "WRITE")])
def test_an_exception_in_an_awaited_link_alarms_like_any_other(ioc, pv, stat):
    ioc.caput(f"$(P){pv}.PROC", 1)
    assert ioc.caget(f"$(P){pv}.STAT", as_string=True) == stat
    assert ioc.caget(f"$(P){pv}.SEVR", as_string=True) == "INVALID"
    assert "the device said no" in ioc.caget(f"$(P){pv}.AMSG", as_string=True)
    assert ioc.wait_for("ValueError: the device said no")


def test_an_awaiting_record_holds_no_worker(ioc):
    """12 records awaiting at once (the pool has 3 workers, at most 12): a plain record's
    put-callback completes while every one of them still waits."""
    for i in range(12):
        ioc.caput(f"$(P)sleep{i}.PROC", 1, wait=False)
    assert poll(lambda: all(ioc.caget(f"$(P)sleep{i}.PACT") == 1 for i in range(12)), timeout=5)
    ioc.caput("$(P)plain.PROC", 1)
    assert ioc.caget("$(P)plain") == 1.5
    still = [ioc.caget(f"$(P)sleep{i}.PACT") for i in range(12)]
    report = ioc.cmd("pydevReport")
    assert still == [1] * 12, "the plain record waited for the sleepers"
    assert "(0 busy" in report, report
    assert "12 records awaiting" in report, report
    assert poll(lambda: all(ioc.caget(f"$(P)sleep{i}.PACT") == 0 for i in range(12)), timeout=10)
    assert [ioc.caget(f"$(P)sleep{i}") for i in range(12)] == list(range(12))


def test_a_time_limit_cancels_the_awaiting_task(ioc):
    ioc.caput("$(P)forever.PROC", 1, timeout=5)
    assert ioc.caget("$(P)forever.STAT", as_string=True) == "TIMEOUT"
    assert ioc.caget("$(P)forever.SEVR", as_string=True) == "INVALID"
    assert "no result within 0.5 s" in ioc.caget("$(P)forever.AMSG", as_string=True)
    assert poll(lambda: ioc.pyeval("cancelled") == [True], timeout=5)


def test_pydev_iointr_works_from_a_task(ioc):
    ioc.caput("$(P)pushes.PROC", 1)
    assert poll(lambda: ioc.caget("$(P)io") == 5, timeout=5)


def test_top_level_await_at_the_iocsh_runs_on_the_loop(ioc):
    out = ioc.cmd('pydev("loop_thread = await where()")')
    assert "Error" not in out, out
    assert ioc.pyeval("loop_thread") == "pydevLoop"
    assert ioc.pyeval("pydev.loop.is_running()") is True


def test_pydevfile_with_top_level_await_runs_on_the_loop(ioc, tmp_path):
    script = tmp_path / "setup.py"
    script.write_text("file_thread = await where()\nfile_value = await seven()\n")
    out = ioc.cmd(f'pydevFile("{script}")')
    assert "Error" not in out, out
    assert ioc.pyeval("(file_thread, file_value)") == ("pydevLoop", 7)


@pytest.mark.parametrize("pv,stat", [
    ("refused", "COMM"), ("wrefused", "COMM"), ("oserror", "COMM"), ("arefused", "COMM"),
    ("timeout", "TIMEOUT"), ("wtimeout", "TIMEOUT"), ("atimeout", "TIMEOUT"),
    ("ftimeout", "TIMEOUT"),
])
def test_connection_errors_are_comm_and_timeouts_timeout(ioc, pv, stat):
    ioc.caput(f"$(P){pv}.PROC", 1)
    assert ioc.alarm(f"$(P){pv}")[:2] == (stat, "INVALID")


def test_a_pushed_connection_error_is_comm(ioc):
    ioc.py("pydev.iointr('lost', ConnectionAbortedError('server went away'))")
    assert poll(lambda: ioc.alarm("$(P)iolost")[:2] == ("COMM", "INVALID"))


LONG = "the pressure gauge on the north beamline reports a fault: " + "x" * 60 + " END"


def test_a_long_alarm_message_fills_amsg_and_reaches_the_console_whole(ioc):
    ioc.caput("$(P)longalarm.PROC", 1)
    stat, _, amsg = ioc.alarm("$(P)longalarm")
    assert stat == "HWLIMIT"
    assert LONG.startswith(amsg) and len(amsg) >= 38  # what AMSG holds
    assert ioc.wait_for(f"pydev.Alarm HWLIMIT/MAJOR: {LONG}\n"), ioc.output[-1000:]


def test_a_long_message_of_an_awaited_exception_fills_amsg_and_reaches_the_console_whole(ioc):
    ioc.caput("$(P)longexc.PROC", 1)
    amsg = ioc.alarm("$(P)longexc")[2]
    assert LONG.startswith(amsg) and len(amsg) >= 38
    assert ioc.wait_for(f"RuntimeError: {LONG}\n"), ioc.output[-1000:]


EXIT_DB = """
record(ao, "$(P)hang") { field(DTYP, "pydev") field(OUT, "@await hang(VAL)") }
"""
EXIT_PY = """
import asyncio, atexit
seen = []
async def hang(value):
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        print('TASK-CANCELLED')
        raise
async def safe_state():
    await asyncio.sleep(0.01)
    print('SAFE-STATE-WRITTEN')
atexit.register(lambda: asyncio.run_coroutine_threadsafe(safe_state(), pydev.loop).result(2))
"""


def test_on_exit_tasks_are_cancelled_and_exit_handlers_still_use_the_loop():
    with Ioc(EXIT_DB, py=EXIT_PY, env={"PYDEV_EXIT_TIMEOUT": "5"}) as ioc:
        epics.caput(ioc.P + "hang", 1, wait=False)
        assert poll(lambda: ioc.caget("$(P)hang.PACT") == 1, timeout=5)

        ioc.proc.send_signal(signal.SIGTERM)
        status = ioc.proc.wait(15 * TIME_SCALE)

        assert status == 0, ioc.output[-2000:]
        assert ioc.wait_for("TASK-CANCELLED", 2), ioc.output[-2000:]
        assert ioc.wait_for("SAFE-STATE-WRITTEN", 2), ioc.output[-2000:]
        assert "did not finish within" not in ioc.output

