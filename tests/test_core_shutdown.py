# SPDX-License-Identifier: BSD-3-Clause
"""How pydevIoc ends: every way runs the same orderly exit (Python's atexit handlers included).

systemd and procServ stop an IOC with SIGTERM, a person with Ctrl-C (SIGINT), st.cmd or the
console with `exit`.  Safe output states are set by exit handlers, so each path must run them,
within a bound, even while workers are busy or hung.
"""
import signal
import time

import pytest

from harness import Ioc

MARK = "PY-ATEXIT-RAN"
ATEXIT = f"import atexit\natexit.register(print, {MARK!r})\n"


def _ended_in_order(ioc: Ioc, sig: int, timeout: float = 15.0) -> float:
    """Send sig; the exit status, and the time the IOC took to end."""
    start = time.monotonic()
    ioc.proc.send_signal(sig)
    status = ioc.proc.wait(timeout)
    elapsed = time.monotonic() - start
    assert status == 0, ioc.output[-2000:]
    assert ioc.wait_for(MARK, 2), ioc.output[-2000:]
    return elapsed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_runs_the_orderly_exit(sig):
    with Ioc(py=ATEXIT) as ioc:
        _ended_in_order(ioc, sig)
        assert "shutting down" in ioc.output


def test_ctrl_c_still_ends_the_ioc_after_python_imports_signal():
    with Ioc(py="import signal\n" + ATEXIT) as ioc:
        _ended_in_order(ioc, signal.SIGINT)


def test_a_python_signal_handler_does_not_take_the_signal_away():
    code = "import signal\nsignal.signal(signal.SIGTERM, lambda *a: None)\n"
    with Ioc(py=code + ATEXIT) as ioc:
        assert "replaced the Terminated handler" in ioc.output
        _ended_in_order(ioc, signal.SIGTERM)


def test_a_signal_waits_for_exit_handlers_as_long_as_st_cmd_allows():
    # the environment says 1 s (a 6 s bound on the whole shutdown); st.cmd's 20 s counts
    slow = ATEXIT + "import time\natexit.register(time.sleep, 7)\n"
    with Ioc(py=slow, pre_init=['epicsEnvSet("PYDEV_EXIT_TIMEOUT", "20")'],
             env={"PYDEV_EXIT_TIMEOUT": "1"}) as ioc:
        elapsed = _ended_in_order(ioc, signal.SIGTERM, timeout=30)
        assert elapsed >= 7


def test_a_second_signal_exits_at_once():
    slow = "import atexit, time\natexit.register(time.sleep, 30)"
    with Ioc(py=slow, env={"PYDEV_EXIT_TIMEOUT": "60"}) as ioc:
        ioc.proc.send_signal(signal.SIGTERM)
        assert ioc.wait_for("shutting down", 5)
        time.sleep(0.5)
        start = time.monotonic()
        ioc.proc.send_signal(signal.SIGTERM)
        assert ioc.proc.wait(5) == 128 + signal.SIGTERM
        assert time.monotonic() - start < 2


def test_sigterm_ends_the_ioc_in_bounded_time_while_every_worker_is_busy():
    db = "\n".join(f'record(ao, "$(P)busy{i}") {{ field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }}'
                   for i in range(4))
    with Ioc(db, py="import time\n" + ATEXIT, env={"PYDEV_NUM_THREADS": "3"}) as ioc:
        for i in range(4):
            ioc.caput(f"$(P)busy{i}", 600, wait=False)
        time.sleep(0.5)
        assert ioc.caget("$(P)busy0.PACT") == 1
        elapsed = _ended_in_order(ioc, signal.SIGTERM)
        print(f"shutdown with 3 of 3 workers in a 600 s sleep: {elapsed:.2f} s")
        assert elapsed < 5
