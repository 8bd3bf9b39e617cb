# SPDX-License-Identifier: BSD-3-Clause
"""pydev.get / pydev.put: Python reads setpoints and writes status of this IOC's records.

Through dbAccess with the record's lock and without the GIL held meanwhile, so no pyepics
inside the IOC and no CA round trip.  The cases that could deadlock are here: a record that
reads or writes itself while it is being processed, a put that processes a pydev output (whose
code then runs in another worker), a put to a record that is busy, and calls from st.cmd
before and after iocInit.  Also the enum label macro FIELD_STR.
"""
import pathlib

import pytest

from harness import Ioc, poll

TESTS = pathlib.Path(__file__).resolve().parent
DB = """
record(ao, "$(P)setpoint") { field(VAL, "12.5") field(PREC, "2") }
record(longin, "$(P)count") { field(VAL, "7") }
record(stringin, "$(P)text") { field(VAL, "hello") }
record(bo, "$(P)switch") { field(ZNAM, "Off") field(ONAM, "On") field(VAL, "1") }
record(mbbi, "$(P)mode") { field(ZRST, "idle") field(ONST, "run") field(TWST, "fault") field(VAL, "2") }
record(waveform, "$(P)wave") { field(FTVL, "DOUBLE") field(NELM, "8") }
record(lsi, "$(P)long") { field(SIZV, "100") }
record(longout, "$(P)status") { }
record(ao, "$(P)locked") { field(DISP, "1") }

record(ai, "$(P)reader") { field(DTYP, "pydev") field(INP, "@pydev.get('$(P)setpoint') * 2") }
record(stringin, "$(P)label") { field(DTYP, "pydev") field(INP, "@pydev.get('$(P)mode', as_string=True)") }
record(longin, "$(P)self") { field(DTYP, "pydev") field(INP, "@pydev.get(NAME + '.VAL') + 1") }
record(longout, "$(P)selfput") { field(DTYP, "pydev")
    field(OUT, "@pydev.put(NAME, VAL + 1) if VAL < 5 else None") }
record(longout, "$(P)target") { field(DTYP, "pydev") field(OUT, "@seen.append(VAL)") }
record(longin, "$(P)writer") { field(DTYP, "pydev") field(INP, "@pydev.put('$(P)target', 41 + len(seen)) or len(seen)") }
record(longin, "$(P)waiter") { field(DTYP, "pydev")
    field(INP, "@pydev.put('$(P)target', 99) or int(poll(lambda: 99 in seen))") }
record(longout, "$(P)slow") { field(DTYP, "pydev") field(OUT, "@time.sleep(1.0)") }
record(longin, "$(P)poker") { field(DTYP, "pydev") field(INP, "@pydev.put('$(P)slow', 3) or pydev.get('$(P)slow.PACT')") }

record(longin, "$(P)ping") { field(DTYP, "pydev") field(SCAN, ".1 second")
    field(INP, "@pydev.put('$(P)pong', pydev.get('$(P)pong') + 1) or pydev.get('$(P)pong')") }
record(longout, "$(P)pong") { field(DTYP, "pydev") field(OUT, "@pydev.put('$(P)pang.DESC', str(pydev.get('$(P)ping')))") }
record(ai, "$(P)pang") { field(DTYP, "pydev") field(SCAN, ".1 second")
    field(INP, "@pydev.get('$(P)pong') + pydev.get('$(P)ping') + len(pydev.get(NAME + '.DESC'))") }

record(bo, "$(P)lamp") { field(DTYP, "pydev") field(ZNAM, "dark") field(ONAM, "lit")
    field(OUT, "@seen_labels.append((VAL, VAL_STR, '%VAL_STR%'))") }
record(mbbo, "$(P)pump") { field(DTYP, "pydev") field(ZRST, "stop") field(ONST, "slow") field(TWST, "fast")
    field(OUT, "@seen_labels.append((VAL, VAL_STR))") }
"""

# Run before iocInit (the records load after it): the tests' one wait, tests/polling.py, for the
# record that waits for its own put, and the first pydev.get, made too early on purpose.
SETUP = f"""
import sys, time
sys.path.insert(0, {str(TESTS)!r})
from polling import poll
seen = []
seen_labels = []

def attempt(call):
    try:
        call()
    except Exception as e:
        return f"{{type(e).__name__}}: {{e}}"
    return "no error"

print('BEFORE INIT:', attempt(lambda: pydev.get('$(P)count')))
"""


@pytest.fixture(scope="module")
def ioc():
    # an st.cmd line after iocInit, as a user writes it
    with Ioc(DB, py=SETUP, post_init=["pydev(\"pydev.put('$(P)status', 17)\")"]) as ioc:
        yield ioc


def process(ioc, record):
    ioc.caput(f"$(P){record}.PROC", 1, wait=True)
    return ioc.caget(f"$(P){record}")


@pytest.mark.parametrize("expr, expected", [
    ("pydev.get('$(P)setpoint')", 12.5),
    ("pydev.get('$(P)setpoint.VAL')", 12.5),
    ("pydev.get('$(P)count')", 7),
    ("pydev.get('$(P)text')", "hello"),
    ("pydev.get('$(P)switch')", 1),                    # an enum is its index...
    ("pydev.get('$(P)switch', as_string=True)", "On"),  # ...or its state string
    ("pydev.get('$(P)mode', as_string=True)", "fault"),
    ("pydev.get('$(P)setpoint.SCAN')", "Passive"),      # menus are their strings
    ("pydev.get('$(P)setpoint.PREC')", 2),
    ("pydev.get('$(P)setpoint.NAME')", "$(P)setpoint"),
])
def test_get_reads_a_field_as_a_client_sees_it(ioc, expr, expected):
    assert ioc.pyeval(expr) == (ioc.expand(expected) if isinstance(expected, str) else expected)


def test_get_of_an_array_gives_its_current_elements(ioc):
    ioc.caput("$(P)wave", [1.5, 2.5, 3.5])
    assert ioc.pyeval("pydev.get('$(P)wave').tolist()") == [1.5, 2.5, 3.5]


def test_get_and_put_of_a_long_string_with_dollar(ioc):
    text = " ".join(["a long string"] * 5)
    ioc.py(f"pydev.put('$(P)long.VAL$', {text!r})")
    assert ioc.pyeval("pydev.get('$(P)long.VAL$')") == text
    assert ioc.caget("$(P)long.VAL$", as_string=True) == text


def test_put_writes_and_a_client_sees_it(ioc):
    ioc.py("pydev.put('$(P)setpoint', 3.75)")
    assert ioc.caget("$(P)setpoint") == pytest.approx(3.75)
    ioc.py("pydev.put('$(P)switch', 'Off')")  # an enum by its state string
    assert ioc.caget("$(P)switch") == 0
    ioc.py("pydev.put('$(P)wave', [4, 5, 6, 7])")
    assert list(ioc.caget("$(P)wave")) == [4, 5, 6, 7]
    ioc.py("pydev.put('$(P)text', 'status: ok')")
    assert ioc.caget("$(P)text") == "status: ok"


def test_before_iocinit_get_says_the_ioc_is_not_running_and_after_put_works(ioc):
    assert ioc.expand("BEFORE INIT: RuntimeError: pydev.get('$(P)count'): the IOC is not running") \
        in ioc.output
    assert ioc.caget("$(P)status") == 17  # the post-iocInit put of st.cmd


def test_a_record_reads_a_setpoint_without_ca(ioc):
    ioc.caput("$(P)setpoint", 4.0)
    assert process(ioc, "reader") == pytest.approx(8.0)
    ioc.caput("$(P)mode", 1)
    assert process(ioc, "label") == "run"


def test_a_record_reads_itself_while_it_is_processing(ioc):
    first = process(ioc, "self")
    assert process(ioc, "self") == first + 1


def test_a_record_writes_itself_while_it_is_processing(ioc):
    # each put finds the record busy (PACT): RPRO, so it processes again until VAL is 5
    ioc.caput("$(P)selfput", 1, wait=True)
    assert poll(lambda: ioc.caget("$(P)selfput") == 5)
    assert ioc.alarm("$(P)selfput")[1] == "NO_ALARM"


def test_a_put_processes_a_pydev_output_whose_code_runs_meanwhile(ioc):
    before = ioc.pyeval("len(seen)")
    process(ioc, "writer")
    assert poll(lambda: ioc.pyeval("len(seen)") == before + 1)
    assert ioc.pyeval("seen[-1]") == 41 + before


def test_a_record_may_wait_for_the_output_it_put_to(ioc):
    # the output's job goes to another worker, not behind the waiting code in this one
    assert process(ioc, "waiter") == 1


def test_a_put_to_a_busy_record_does_not_wait_for_it(ioc):
    ioc.caput("$(P)slow", 1, wait=False)
    assert poll(lambda: ioc.caget("$(P)slow.PACT") == 1)
    assert process(ioc, "poker") == 1  # returned while slow still ran
    assert poll(lambda: ioc.caget("$(P)slow.PACT") == 0, timeout=5)
    assert ioc.caget("$(P)slow") == 3  # and the put's value was processed after it


@pytest.mark.parametrize("expr, error, words", [
    ("pydev.get('$(P)nothing')", "LookupError", ["$(P)nothing", "no such record"]),
    ("pydev.get('$(P)count.NOPE')", "LookupError", ["$(P)count.NOPE"]),
    ("pydev.put('$(P)nothing.VAL', 1)", "LookupError", ["$(P)nothing.VAL"]),
    ("pydev.put('$(P)locked', 1)", "PermissionError", ["$(P)locked", "disabled"]),
    ("pydev.put('$(P)setpoint', 'abc')", "ValueError", ["$(P)setpoint"]),
    ("pydev.put('$(P)switch', 'Maybe')", "ValueError", ["$(P)switch"]),
    ("pydev.put('$(P)wave', list(range(9)))", "ValueError", ["9 elements"]),
    ("pydev.put('$(P)text', 'x' * 40)", "ValueError", ["does not fit"]),
    ("pydev.put('$(P)count', object())", "ValueError", ["$(P)count"]),
])
def test_bad_names_and_refused_puts_raise_with_the_reason(ioc, expr, error, words):
    got = ioc.pyeval(f"attempt(lambda: {expr})")
    assert got.startswith(error + ":"), got
    assert all(ioc.expand(w) in got for w in words), got


def test_a_refused_put_leaves_the_value(ioc):
    ioc.caput("$(P)setpoint", 2.0)
    ioc.py("attempt(lambda: pydev.put('$(P)setpoint', 'abc'))")
    assert ioc.caget("$(P)setpoint") == pytest.approx(2.0)


@pytest.mark.parametrize("record, value, expected", [
    ("lamp", 1, [1, "lit", "lit"]),
    ("lamp", 0, [0, "dark", "dark"]),
    ("pump", 2, [2, "fast"]),
])
def test_val_str_gives_the_state_string_and_val_the_index(ioc, record, value, expected):
    ioc.caput(f"$(P){record}", value, wait=True)
    assert list(ioc.pyeval("seen_labels[-1]")) == expected


def test_the_standin_get_and_put_work_outside_an_ioc():
    from pydevice import standin

    standin.clear()
    standin.put("TANK:SETPOINT", 3.5)
    assert standin.get("TANK:SETPOINT.VAL") == 3.5
    with pytest.raises(LookupError, match="TANK:LEVEL"):
        standin.get("TANK:LEVEL")
    standin.clear()


def test_a_field_word_after_a_dot_in_a_string_is_a_pv_name_not_a_macro():
    from pydevice.snippet import compile_link

    link = compile_link("('OTHER.VAL', 'VAL', '%VAL_STR%', VAL_STR)", "rec", {"VAL"}, {}, "mbbo")
    assert link.macros == ("VAL", "VAL_STR")
    assert link.function(3, "run") == ("OTHER.VAL", "3", "run", "run")


def test_records_that_read_and_write_each_other_on_scans_keep_running(ioc):
    # three scanned or processed records reading and writing each other from three workers
    start = ioc.caget("$(P)ping")
    assert poll(lambda: ioc.caget("$(P)ping") >= start + 10, timeout=10)
    assert poll(lambda: int(ioc.caget("$(P)pang.DESC") or 0) >= start + 5, timeout=10)
    for record in ("ping", "pong", "pang"):
        assert ioc.alarm(f"$(P){record}")[1] == "NO_ALARM", record
