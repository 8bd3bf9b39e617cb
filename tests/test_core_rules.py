# SPDX-License-Identifier: BSD-3-Clause
"""EPICS rules the core keeps under load and at its edges (issue: core correctness).

Each test states one rule; each reproduced a defect before the fix it guards.
"""
import time

import numpy as np
import pytest

from harness import Ioc, IocError, poll

DB = """
record(ao, "$(P)slowset") { field(DTYP, "pydev") field(OUT, "@slowset(VAL)") }
record(longin, "$(P)one:long") { field(DTYP, "pydev") field(INP, "@pydev.iointr('one')") field(SCAN, "I/O Intr") }
record(ai, "$(P)one:ai") { field(DTYP, "pydev") field(INP, "@pydev.iointr('one')") field(SCAN, "I/O Intr") }
record(stringin, "$(P)one:str") { field(DTYP, "pydev") field(INP, "@pydev.iointr('one')") field(SCAN, "I/O Intr") }
record(waveform, "$(P)gen:a") { field(DTYP, "pydev") field(INP, "@pydev.iointr('gen')") field(SCAN, "I/O Intr") field(NELM, "8") field(FTVL, "DOUBLE") }
record(waveform, "$(P)gen:b") { field(DTYP, "pydev") field(INP, "@pydev.iointr('gen')") field(SCAN, "I/O Intr") field(NELM, "8") field(FTVL, "LONG") }
record(ai, "$(P)deep") { field(DTYP, "pydev") field(INP, "@depth(8000)") }
record(ai, "$(P)toodeep") { field(DTYP, "pydev") field(INP, "@depth(10 ** 6)") }
record(ao, "$(P)broken") { field(DTYP, "pydev") field(OUT, "@1 +") }
record(stringout, "$(P)echo") { field(DTYP, "pydev") field(OUT, "@VAL") }
record(stringout, "$(P)seen") { field(DTYP, "pydev") field(OUT, "@seen.append(VAL.encode('utf-8', 'surrogateescape'))") }
record(waveform, "$(P)arr") { field(DTYP, "pydev") field(INP, "@result") field(NELM, "6") field(FTVL, "DOUBLE") }
record(waveform, "$(P)arrl") { field(DTYP, "pydev") field(INP, "@result") field(NELM, "6") field(FTVL, "LONG") }
record(waveform, "$(P)chars") { field(DTYP, "pydev") field(INP, "@result") field(NELM, "16") field(FTVL, "CHAR") }
record(longin, "$(P)chain") { field(DTYP, "pydev") field(INP, "@CHAIN") }
""".replace("CHAIN", "+".join(["1"] * 450))

SETUP = """
import time, threading, sys, numpy
applied = []
seen = []
result = None
sys.setrecursionlimit(20000)

def slowset(v):
    time.sleep(0.3)
    applied.append(v)
    return v

def depth(n):  # C recursion too (map calls back into Python)
    return 0 if n == 0 else 1 + sum(map(depth, [n - 1]))
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py=SETUP) as ioc:
        yield ioc


def test_the_last_plain_write_reaches_the_device_when_the_output_returns_a_value(ioc):
    ioc.caput("$(P)slowset", 5, wait=False)
    time.sleep(0.1)                        # the first run is busy in slowset(5)
    ioc.caput("$(P)slowset", 7, wait=False)
    assert poll(lambda: ioc.pyeval("applied") == [5.0, 7.0], timeout=5), ioc.pyeval("applied")
    assert poll(lambda: ioc.caget("$(P)slowset.PACT") == 0)
    assert ioc.caget("$(P)slowset") == 7.0


def test_one_push_gives_every_record_type_the_same_value(ioc):
    # conversions run Python that releases the GIL, so two pushes interleave
    ioc.py("""
def nap(result):
    time.sleep(0.002)
    return result

class Slow:
    def __init__(self, v):
        self.v = v
    def __index__(self):
        return nap(self.v)
    def __float__(self):
        return nap(float(self.v))
    def __str__(self):
        return nap(str(self.v))

def push_three():
    ts = [threading.Thread(target=pydev.iointr, args=('one', Slow(k))) for k in (1, 2, 3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
""")
    for trial in range(20):
        ioc.py("push_three()")
        time.sleep(0.2)
        values = (ioc.caget("$(P)one:long"), ioc.caget("$(P)one:ai"), ioc.caget("$(P)one:str"))
        assert values[0] == values[1] == int(values[2]), f"trial {trial}: {values}"


def test_a_generator_pushed_to_two_array_records_fills_both(ioc):
    ioc.py("pydev.iointr('gen', (x * 2 for x in range(3)))")
    assert poll(lambda: list(ioc.caget("$(P)gen:a")) == [0.0, 2.0, 4.0])
    assert poll(lambda: list(ioc.caget("$(P)gen:b")) == [0, 2, 4])
    assert ioc.alarm("$(P)gen:b")[1] == "NO_ALARM"


def test_deep_recursion_in_a_link_is_a_value_or_an_alarm_never_a_crash(ioc):
    # what a plain Python thread in the same interpreter makes of it is the rule
    ioc.py("""
outcome = []
t = threading.Thread(target=lambda: outcome.append(depth(8000)))
t.start()
t.join()
""")
    thread_ok = ioc.pyeval("outcome") == [8000]
    ioc.caput("$(P)deep.PROC", 1)
    if thread_ok:      # Python up to 3.12: deep C recursion needs a big enough stack
        assert poll(lambda: ioc.caget("$(P)deep") == 8000.0)
    else:              # 3.13 limits C recursion itself: the same RecursionError, as an alarm
        # (3.13: "maximum recursion depth exceeded"; 3.14 measures the C stack: "Stack overflow")
        assert poll(lambda: any(w in ioc.alarm("$(P)deep")[2] for w in ("recursion", "Stack overflow")))
    ioc.py("sys.setrecursionlimit(1000)")   # Python's default: an error, not a crash
    ioc.caput("$(P)toodeep.PROC", 1)
    assert poll(lambda: ioc.alarm("$(P)toodeep")[1] == "INVALID")
    assert "RecursionError" in ioc.alarm("$(P)toodeep")[2] or "recursion" in ioc.alarm("$(P)toodeep")[2]
    assert ioc.proc.poll() is None


def test_a_put_callback_to_a_record_disabled_at_init_completes_with_its_alarm(ioc):
    start = time.monotonic()
    ioc.caput("$(P)broken", 1, timeout=5)
    assert time.monotonic() - start < 4
    stat, sevr, amsg = ioc.alarm("$(P)broken")
    assert sevr == "INVALID" and "SyntaxError" in amsg or "invalid syntax" in amsg


def _put_bytes(ioc: Ioc, pv: str, data: bytes) -> None:
    ioc.caput(pv + ".VAL$", np.frombuffer(data + b"\0", dtype=np.uint8))


def _get_bytes(ioc: Ioc, pv: str) -> bytes:
    raw = ioc.caget(pv + ".VAL$", as_numpy=True, as_string=False)
    return bytes(np.asarray(raw, dtype=np.uint8)).split(b"\0")[0]


def test_client_bytes_that_are_not_utf8_round_trip_exactly(ioc):
    data = b"\xffab\xc3(\xfe"
    _put_bytes(ioc, "$(P)seen", data)
    assert ioc.pyeval("seen[-1]") == data
    _put_bytes(ioc, "$(P)echo", data)
    assert _get_bytes(ioc, "$(P)echo") == data


@pytest.mark.parametrize("dtype", [">f8", ">i4", "<f2", ">f2", ">u2"])
def test_any_byte_order_and_float16_arrays_convert(ioc, dtype):
    ioc.py(f"result = numpy.array([1, 2, 3, 250], dtype={dtype!r})")
    ioc.caput("$(P)arr.PROC", 1)
    assert list(ioc.caget("$(P)arr")) == [1.0, 2.0, 3.0, 250.0]
    ioc.caput("$(P)arrl.PROC", 1)
    assert list(ioc.caget("$(P)arrl")) == [1, 2, 3, 250]


def test_a_bytes_result_fills_a_char_array_exactly(ioc):
    ioc.py("result = bytes([97, 98, 0, 99])")
    ioc.caput("$(P)chars.PROC", 1)
    assert ioc.caget("$(P)chars.NORD") == 4
    assert list(ioc.caget("$(P)chars")) == [97, 98, 0, 99]
    ioc.py("result = 'hi'")   # a str is a C string: NUL-terminated, as caput -S writes
    ioc.caput("$(P)chars.PROC", 1)
    assert ioc.caget("$(P)chars.NORD") == 3


def test_a_link_python_compiles_is_compiled(ioc):
    assert "chain" not in ioc.output.split("iocInit")[0] or "RecursionError" not in ioc.output
    ioc.caput("$(P)chain.PROC", 1)
    assert ioc.caget("$(P)chain") == 450
    assert ioc.alarm("$(P)chain")[1] == "NO_ALARM"


# ---- how an IOC ends: each needs its own process ------------------------------------------

@pytest.mark.parametrize("code, status", [("raise SystemExit", 0), ("import sys; sys.exit(3)", 3)])
def test_system_exit_from_python_ends_the_ioc_in_order(code, status):
    ioc = Ioc(py="import atexit\natexit.register(print, 'PY-ATEXIT-RAN')")
    ioc.start()
    try:
        ioc.proc.stdin.write(f'pydev("{code}")\n')
        ioc.proc.stdin.flush()
        assert ioc.proc.wait(10) == status
        assert ioc.wait_for("PY-ATEXIT-RAN", 5)
    finally:
        ioc.stop()


def test_an_exception_at_the_iocsh_fails_the_command_and_stops_st_cmd_under_on_error_break():
    ioc = Ioc(pre_init=["on error break", 'pydev("1/0")', 'pydev("print(\'NOT-REACHED\')")'])
    with pytest.raises(IocError):
        ioc.start()
    assert "ZeroDivisionError" in ioc.output
    assert "NOT-REACHED" not in ioc.output
    assert ioc.proc.returncode not in (-6, 134)


def test_exit_is_bounded_while_a_snippet_holds_the_gil_in_c():
    db = 'record(ao, "$(P)hog") { field(DTYP, "pydev") field(OUT, "@sum(range(10 ** 12))") }'
    ioc = Ioc(db, env={"PYDEV_EXIT_TIMEOUT": "2"})
    ioc.start()
    try:
        ioc.caput("$(P)hog", 1, wait=False)
        time.sleep(0.5)
        start = time.monotonic()
        ioc.proc.stdin.write("exit\n")
        ioc.proc.stdin.flush()
        ioc.proc.wait(15)
        assert time.monotonic() - start < 8
        assert ioc.wait_for("Python exit handlers did not finish", 2)
    finally:
        if ioc.proc.poll() is None:
            ioc.proc.kill()
        ioc.stop()
