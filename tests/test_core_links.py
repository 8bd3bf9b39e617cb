# SPDX-License-Identifier: BSD-3-Clause
"""Link semantics: field macros, the shared namespace, errors as alarms, safety of client values."""
import getpass
import os
import pathlib
import socket
import tempfile

import pytest

from harness import ROOT, Ioc, poll

import epics  # noqa: E402  (after the harness set the CA environment)

SENTINEL = pathlib.Path(tempfile.gettempdir()) / f"pydev-hostile-{os.getpid()}"
DB = """
record(longout, "$(P)macros") { field(DTYP, "pydev") field(EGU, "mm") field(HOPR, "99") field(LOPR, "-9")
    field(HIGH, "50") field(HIHI, "70") field(LOW, "-5") field(LOLO, "-7")
    field(OUT, "@seen.update(val=VAL, name=NAME, egu=EGU, hopr=HOPR, lopr=LOPR, high=HIGH, hihi=HIHI, low=LOW, lolo=LOLO, desc=DESC)") field(DESC, "a desc") }
record(ai, "$(P)aimac") { field(DTYP, "pydev") field(PREC, "4") field(EGU, "V") field(INP, "@VAL + PREC + RVAL + ORAW") }
record(bo, "$(P)bomac") { field(DTYP, "pydev") field(ZNAM, "Low") field(ONAM, "High") field(OUT, "@seen.update(bo=ONAM if VAL else ZNAM)") }
record(mbbo, "$(P)mbbomac") { field(DTYP, "pydev") field(ZRST, "zero") field(ONST, "one") field(ZRVL, "10") field(ONVL, "11")
    field(OUT, "@seen.update(mbbo=(VAL, [ZRST, ONST][VAL], [ZRVL, ONVL][VAL], RVAL))") }
record(lso, "$(P)lsomac") { field(DTYP, "pydev") field(SIZV, "64") field(OUT, "@seen.update(lso=(VAL, SIZV, LEN))") }
record(aao, "$(P)aaomac") { field(DTYP, "pydev") field(NELM, "4") field(FTVL, "LONG") field(OUT, "@seen.update(aao=(type(VAL).__name__, VAL.dtype.str, VAL.tolist(), NORD))") }
record(stringout, "$(P)strmac") { field(DTYP, "pydev") field(OUT, "@seen.update(text='RecordNameIs%NAME%, VAL, %VAL%')") }
record(longin, "$(P)scopes") { field(DTYP, "pydev") field(INP, "@sum([k * VAL for k in range(3)]) + (lambda: k0)() + sum(k0 for _ in range(2)) + helper()") field(VAL, "2") }
record(longout, "$(P)assign") { field(DTYP, "pydev") field(OUT, "@shared_x = VAL * 10") }
record(longin, "$(P)useassign") { field(DTYP, "pydev") field(INP, "@shared_x + 1") }
record(stringout, "$(P)quote") { field(DTYP, "pydev") field(OUT, "@seen.update(q='VAL')") }
record(lso, "$(P)lquote") { field(DTYP, "pydev") field(SIZV, "200") field(OUT, "@seen.update(lq=\\"VAL\\")") }
record(stringout, "$(P)plain") { field(DTYP, "pydev") field(OUT, "@VAL") }
record(stringout, "$(P)exec") { field(DTYP, "pydev") field(OUT, "@exec(VAL)") field(ASG, "PYDEV_EXEC") }
record(longin, "$(P)syntax") { field(DTYP, "pydev") field(INP, "@1 +* 2") }
record(longin, "$(P)raise") { field(DTYP, "pydev") field(INP, "@{}['missing']") }
record(longout, "$(P)raiseout") { field(DTYP, "pydev") field(OUT, "@1/0") }
record(longin, "$(P)alarm") { field(DTYP, "pydev") field(INP, "@raise_alarm() if failing else 5") }
record(stringin, "$(P)toolong") { field(DTYP, "pydev") field(INP, "@'x' * 40") }
record(waveform, "$(P)wftoolong") { field(DTYP, "pydev") field(NELM, "3") field(FTVL, "DOUBLE") field(INP, "@wf_value") }
record(mbbi, "$(P)badstate") { field(DTYP, "pydev") field(INP, "@16") }
record(longin, "$(P)none") { field(DTYP, "pydev") field(INP, "@None") }
record(longin, "$(P)badtype") { field(DTYP, "pydev") field(INP, "@'abc'") }
record(longin, "$(P)overflow") { field(DTYP, "pydev") field(INP, "@2**40") }
record(longout, "$(P)hello") { field(DTYP, "pydev") field(OUT, "@print('Hello world!')") }
record(longin, "$(P)alive") { field(DTYP, "pydev") field(INP, "@123") field(PINI, "YES") }
record(longin, "$(P)traced") { field(DTYP, "pydev") field(INP, "@6 * 7") }
"""

ACCESS = [  # the exec record's writers: this user on this host
    f'asSetSubstitutions("EXEC_USERS={getpass.getuser()},EXEC_HOSTS={socket.gethostname()}")',
    f'asSetFilename("{ROOT / "db" / "pydevExec.acf"}")',
]
SETUP = """
seen = {}
k0 = 100
wf_value = [1.0, 2.0]
failing = False

def helper():
    return 1000

def raise_alarm():
    raise pydev.Alarm('link down', 'COMM', 'MAJOR')
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, pre_init=ACCESS, py=SETUP) as ioc:
        yield ioc


def seen(ioc, key):
    return ioc.pyeval(f"seen.get({key!r})")


def test_field_names_in_the_code_are_the_records_fields(ioc):
    ioc.caput("$(P)macros", 42)
    assert ioc.pyeval("seen") == {"val": 42, "name": ioc.P + "macros", "egu": "mm", "hopr": 99,
                                  "lopr": -9, "high": 50, "hihi": 70, "low": -5, "lolo": -7,
                                  "desc": "a desc"}


def test_ai_fields_read_their_values_at_each_run(ioc):
    ioc.caput("$(P)aimac.PROC", 1)
    assert ioc.caget("$(P)aimac") == pytest.approx(4.0)  # VAL 0 + PREC 4 + RVAL 0 + ORAW 0
    ioc.caput("$(P)aimac.PROC", 1)
    assert ioc.caget("$(P)aimac") == pytest.approx(8.0)


def test_enum_fields_give_states_strings_and_raw_values(ioc):
    ioc.caput("$(P)bomac", 1)
    assert seen(ioc, "bo") == "High"
    ioc.caput("$(P)mbbomac", 1)
    assert seen(ioc, "mbbo") == (1, "one", 11, 11)


def test_long_string_and_array_fields_give_their_whole_value(ioc):
    ioc.caput("$(P)lsomac.VAL$", "a long string " * 3)
    assert seen(ioc, "lso") == ("a long string " * 3, 64, len("a long string " * 3) + 1)
    ioc.caput("$(P)aaomac", [5, 6, 7])
    assert seen(ioc, "aao") == ("ndarray", "<i4", [5, 6, 7], 3)


def test_only_percent_fields_expand_inside_string_literals(ioc):
    ioc.caput("$(P)strmac", "v1")
    assert seen(ioc, "text") == f"RecordNameIs{ioc.P}strmac, v1, v1"


def test_globals_visible_in_comprehensions_lambdas_generators_functions(ioc):
    ioc.caput("$(P)scopes.PROC", 1)
    assert ioc.caget("$(P)scopes") == (0 + 2 + 4) + 100 + 200 + 1000


def test_an_assignment_in_a_link_sets_a_shared_global(ioc):
    ioc.caput("$(P)assign", 5)
    assert ioc.pyeval("shared_x") == 50
    ioc.caput("$(P)useassign.PROC", 1)
    assert ioc.caget("$(P)useassign") == 51


HOSTILE = [
    f"'); open('{SENTINEL}', 'w'); ('",
    "\"); __import__('os').system('touch " + str(SENTINEL) + "'); (\"",
    "__import__('os').system('touch " + str(SENTINEL) + "')",
    "a\\nb'''\"\"\"",
    "%NAME% VAL ' \" \\\\",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_strings_clients_write_are_data_and_never_run(ioc, text):
    text = text[:39]
    ioc.caput("$(P)quote", text)
    assert seen(ioc, "q") == text
    ioc.caput("$(P)lquote.VAL$", text + " padding so it is a long string")
    assert seen(ioc, "lq") == text + " padding so it is a long string"
    ioc.caput("$(P)plain", text)     # the old `@VAL` now just evaluates to the string
    assert ioc.alarm("$(P)plain")[1] == "NO_ALARM"
    assert not SENTINEL.exists()


def test_running_client_text_needs_an_explicit_exec(ioc):
    ioc.caput("$(P)exec", "seen['executed'] = 1 + 1")
    assert seen(ioc, "executed") == 2


def test_syntax_error_disables_only_that_record(ioc):
    assert f"pydev: {ioc.P}syntax: invalid syntax at column 4 (SyntaxError)" in ioc.output
    stat, sevr, amsg = ioc.alarm("$(P)syntax")
    assert (stat, sevr) == ("UDF", "INVALID") and amsg.startswith("invalid syntax at column 4")
    assert ioc.caget("$(P)alive") == 123


def test_an_exception_alarms_the_record_and_prints_its_traceback(ioc):
    ioc.caput("$(P)raise.PROC", 1)
    assert ioc.alarm("$(P)raise") == ("READ", "INVALID", "'missing' (KeyError)")
    assert "Traceback" in ioc.output and f"File \"{ioc.P}raise\", line 1" in ioc.output
    ioc.caput("$(P)raiseout", 1)
    assert ioc.alarm("$(P)raiseout") == ("WRITE", "INVALID", "division by zero (ZeroDivisionError)")


def test_a_repeated_traceback_is_printed_once(ioc):
    before = ioc.output.count(f"pydev: {ioc.P}raise: @")
    for _ in range(20):
        ioc.caput("$(P)raise.PROC", 1)
    assert ioc.output.count(f"pydev: {ioc.P}raise: @") - before <= 1


def test_a_raised_pydev_alarm_sets_its_alarm_and_keeps_the_value(ioc):
    ioc.caput("$(P)alarm.PROC", 1)
    assert ioc.caget("$(P)alarm") == 5
    ioc.py("failing = True")
    ioc.caput("$(P)alarm.PROC", 1)
    assert ioc.alarm("$(P)alarm") == ("COMM", "MAJOR", "link down")
    assert ioc.caget("$(P)alarm") == 5   # an alarm keeps the last good value


@pytest.mark.parametrize("record, message", [
    ("toolong", "40-byte string does not fit (at most 39) (ValueError)"),
    ("badstate", "16 out of range 0..15 (OverflowError)"),
    ("none", "the code returned None, a value is required (TypeError)"),
    ("badtype", "'str' object cannot be interpreted as an integer (TypeError)"),
    ("overflow", "1099511627776 out of range -2147483648..2147483647 (OverflowError)"),
])
def test_a_value_that_cannot_convert_alarms_saying_why(ioc, record, message):
    ioc.caput(f"$(P){record}.PROC", 1)
    stat, sevr, amsg = ioc.alarm(f"$(P){record}")
    assert (stat, sevr) == ("READ", "INVALID")
    assert len(amsg) >= 35 and message.startswith(amsg)  # AMSG: the message first, what fits


def test_array_too_long_is_not_half_written(ioc):
    ioc.caput("$(P)wftoolong.PROC", 1)
    assert list(ioc.caget("$(P)wftoolong")) == [1.0, 2.0]
    ioc.py("wf_value = [7.0, 8.0, 9.0, 10.0]")
    ioc.caput("$(P)wftoolong.PROC", 1)
    assert ioc.alarm("$(P)wftoolong")[:2] == ("READ", "INVALID")
    assert ioc.alarm("$(P)wftoolong")[2].startswith("4 elements do not fit NELM=3")
    assert list(ioc.caget("$(P)wftoolong")) == [1.0, 2.0]
    assert ioc.caget("$(P)wftoolong.NORD") == 2


def test_print_in_a_link_reaches_the_console(ioc):
    ioc.caput("$(P)hello", 1)
    assert poll(lambda: "Hello world!" in ioc.output)


def test_tpro_traces_the_code_and_its_result(ioc):
    ioc.caput("$(P)traced.TPRO", 1)
    ioc.caput("$(P)traced.PROC", 1)
    assert poll(lambda: f"pydev: {ioc.P}traced: @6 * 7 -> 42" in ioc.output)


def test_the_pydev_command_prints_values_and_exceptions(ioc):
    out = ioc.cmd('pydev("1/0")')
    assert "ZeroDivisionError" in out
    assert "\n42\n" in "\n" + ioc.cmd('pydev("6*7")').replace("\x1b[0m", "\n")


def test_pydevreport_dbior_and_help_name_the_records_and_errors(ioc):
    out = ioc.cmd("pydevReport 1")
    assert "pydev workers: 3" in out and f"{ioc.P}raise" in out and "KeyError" in out
    out = ioc.cmd('dbior "" 1')
    assert f"{ioc.P}hello" in out
    assert "Run Python code" in ioc.cmd("help pydev")


def test_clients_cannot_rewrite_the_code(ioc):
    """Writing INP, or switching DTYP away and back, never changes the compiled code."""
    evil = "@__import__('os').getpid()"
    epics.caput(ioc.P + "alive.INP", evil, wait=True, timeout=5)
    epics.caput(ioc.P + "alive.DTYP", "Soft Channel", wait=True, timeout=5)
    epics.caput(ioc.P + "alive.INP", evil, wait=True, timeout=5)
    epics.caput(ioc.P + "alive.DTYP", "pydev", wait=True, timeout=5)
    epics.caput(ioc.P + "alive.INP", evil, wait=True, timeout=5)
    assert ioc.caget("$(P)alive.INP", as_string=True) == "@123"
    ioc.caput("$(P)alive.PROC", 1)
    assert ioc.caget("$(P)alive") == 123 and not SENTINEL.exists()
