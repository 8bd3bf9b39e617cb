# SPDX-License-Identifier: BSD-3-Clause
"""The pycalc record (issue #21 point 4): Python code (CALC) of inputs A..J, run by the worker
pool, its result in VAL and OUT; CALC is code, so only access security lets clients change it.

The first records are the examples of the original PyDevice's pycalcRecord.md, as it writes
them (names and values), with this IOC's prefix.
"""
import getpass
import socket

import epics
import pytest

from harness import ROOT, Ioc, poll

ACF = ROOT / "db" / "pydevExec.acf"

EXAMPLES = """
record(ai, "$(P)PyCalcTest:Input1") { field(INP, "1") }
record(ai, "$(P)PyCalcTest:Input2") { field(INP, "6.4") }
record(pycalc, "$(P)PyCalcTest:MathExpr") {
    field(INPA, "17")
    field(INPB, "3")
    field(CALC, "A*B")
}
record(pycalc, "$(P)PyCalcTest:AdaptiveTypes") {
    field(INPA, "$(P)PyCalcTest:Input1 CP")
    field(INPB, "$(P)PyCalcTest:Input2 CP")
    field(FTA,  "LONG")
    field(FTB,  "DOUBLE")
    field(CALC, "pow(max([A, B]), 2)")
    field(FTVL, "LONG")
}
record(pycalc, "$(P)PyCalcTest:InvalidAlarm") {
    field(CALC, "unknown_function()")
}
record(waveform, "$(P)PyCalcTest:InputNumbers") {
    field(FTVL, "DOUBLE")
    field(NELM, "3")
    field(INP,  [1.7, 2.3, 14.91])
}
record(waveform, "$(P)PyCalcTest:InputStrings") {
    field(FTVL, "STRING")
    field(NELM, "3")
    field(INP,  [one, two, three])
}
record(pycalc, "$(P)PyCalcTest:MergeArrays") {
    field(INPA, "$(P)PyCalcTest:InputNumbers")
    field(INPB, "$(P)PyCalcTest:InputStrings")
    field(FTA,  "DOUBLE")
    field(FTB,  "STRING")
    field(MEA,  "10")
    field(MEB,  "10")
    field(CALC, "list(map(lambda tuple: tuple[1]+':'+str(tuple[0]), zip(A,B)))")
    field(FTVL, "STRING")
    field(MEVL, "10")
    field(PINI, "1")
}
"""

DB = EXAMPLES + """
record(longin, "$(P)out") { field(VAL, "-1") }
record(pycalc, "$(P)toOut") {
    field(INPA, "5") field(FTA, "LONG") field(CALC, "A * 3") field(FTVL, "LONG")
    field(OUT, "$(P)out PP")
}
record(waveform, "$(P)wf") { field(FTVL, "LONG") field(NELM, "8") }
record(pycalc, "$(P)arrays") {
    field(INPA, "$(P)wf CP") field(FTA, "LONG") field(MEA, "8")
    field(INPB, "[4, 5]") field(FTB, "SHORT") field(MEB, "4")
    field(CALC, "[type(A).__name__, len(A), sum(A), len(B), sum(B)]")
    field(FTVL, "STRING") field(MEVL, "5")
}
record(pycalc, "$(P)cut") {
    field(INPA, "100") field(CALC, "range(int(A))") field(FTVL, "LONG") field(MEVL, "4")
}
record(pycalc, "$(P)text") {
    field(INPA, {const: "pump"}) field(FTA, "STRING") field(INPB, "2") field(FTB, "UCHAR")
    field(CALC, "f'{A} {B} on'") field(FTVL, "STRING")
}
record(pycalc, "$(P)types") {
    field(INPA, "-3") field(FTA, "CHAR") field(INPB, "70000") field(FTB, "ULONG")
    field(INPC, "9007199254740993") field(FTC, "INT64") field(INPD, "0.5") field(FTD, "FLOAT")
    field(CALC, "[' '.join(type(v).__name__ for v in (A, B, C, D)), A, B, C, D]")
    field(FTVL, "STRING") field(MEVL, "5")
}
record(pycalc, "$(P)slow") {
    field(INPA, "0.5") field(CALC, "__import__('time').sleep(A) or sink.append(A) or len(sink)")
}
record(pycalc, "$(P)stuck") {
    field(CALC, "__import__('time').sleep(3)")
    info(pydev:timeout, "0.3")
}
record(pycalc, "$(P)code") { field(INPA, "2") field(CALC, "A + 1") }
record(stringout, "$(P)pointer") { field(VAL, "A * 100") }
record(stringout, "$(P)pointerCA") { field(VAL, "A * 200") }
record(pycalc, "$(P)targetCA") { field(INPA, "2") field(CALC, "A - 2") }
record(pycalc, "$(P)linked") { field(INPA, "2") field(CALC, "A - 1") }
record(stringout, "$(P)setter") { field(VAL, "A * 5") field(OUT, "$(P)linked.CALC PP") }
"""

SETUP = """
import pydevice.pycalc as _pycalc
sink = []
compiled = []
_compile = _pycalc.compile_calc
def _counting(text, *args):
    compiled.append(text)
    return _compile(text, *args)
_pycalc.compile_calc = _counting
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py=SETUP) as ioc:
        yield ioc


def test_the_examples_of_the_original_give_its_results(ioc):
    ioc.caput("$(P)PyCalcTest:MathExpr.PROC", 1)
    assert ioc.caget("$(P)PyCalcTest:MathExpr") == 51.0
    # CP inputs processed it at init; max(1, 6.4) ** 2 as a LONG
    assert poll(lambda: ioc.caget("$(P)PyCalcTest:AdaptiveTypes") == 40)
    ioc.caput("$(P)PyCalcTest:InvalidAlarm.PROC", 1)
    assert ioc.alarm("$(P)PyCalcTest:InvalidAlarm")[:2] == ("CALC", "INVALID")
    merged = ioc.caget("$(P)PyCalcTest:MergeArrays")   # PINI
    assert list(merged) == ["one:1.7", "two:2.3", "three:14.91"]
    assert ioc.caget("$(P)PyCalcTest:MergeArrays.NEVL") == 3


def test_the_manual_way_of_the_merge_example_gives_the_same(ioc):
    epics.caput(ioc.P + "PyCalcTest:InputNumbers", [3.5, 4.0], wait=True)
    epics.caput(ioc.P + "PyCalcTest:InputStrings", ["x", "y"], wait=True)
    ioc.caput("$(P)PyCalcTest:MergeArrays.PROC", 1)
    assert list(ioc.caget("$(P)PyCalcTest:MergeArrays")) == ["x:3.5", "y:4.0"]
    assert ioc.caget("$(P)PyCalcTest:MergeArrays.NEVL") == 2


def test_a_constant_input_takes_a_put_value(ioc):
    ioc.caput("$(P)PyCalcTest:MathExpr.A", 4)   # A is pp: the put processes the record
    assert ioc.caget("$(P)PyCalcTest:MathExpr") == 12.0


def test_cp_links_update_the_result_when_their_source_changes(ioc):
    ioc.caput("$(P)PyCalcTest:Input1", 9.9)
    assert poll(lambda: ioc.caget("$(P)PyCalcTest:AdaptiveTypes") == 81)
    assert ioc.caget("$(P)PyCalcTest:AdaptiveTypes.A") == 9   # FTA LONG


def test_the_result_is_written_to_out(ioc):
    ioc.caput("$(P)toOut.PROC", 1)
    assert ioc.caget("$(P)toOut") == 15
    assert ioc.caget("$(P)out") == 15


def test_array_inputs_are_lists_of_their_count(ioc):
    epics.caput(ioc.P + "wf", [1, 2, 3], wait=True)
    assert poll(lambda: list(ioc.caget("$(P)arrays")) == ["list", "3", "6", "2", "9"])
    assert ioc.caget("$(P)arrays.NEA") == 3
    assert ioc.caget("$(P)arrays.NEB") == 2
    assert list(ioc.caget("$(P)arrays.A")) == [1, 2, 3]


def test_an_array_result_is_cut_to_mevl(ioc):
    ioc.caput("$(P)cut.PROC", 1)
    assert list(ioc.caget("$(P)cut")) == [0, 1, 2, 3]
    assert ioc.caget("$(P)cut.NEVL") == 4
    assert ioc.alarm("$(P)cut")[:2] == ("NO_ALARM", "NO_ALARM")


def test_a_string_result_and_string_inputs(ioc):
    ioc.caput("$(P)text.PROC", 1)
    assert ioc.caget("$(P)text") == "pump 2 on"


def test_each_input_type_reaches_the_code_as_its_python_type(ioc):
    ioc.caput("$(P)types.PROC", 1)
    assert list(ioc.caget("$(P)types")) == ["int int int float", "-3", "70000",
                                            "9007199254740993", "0.5"]


def test_a_failing_calc_raises_calc_invalid_with_the_reason(ioc):
    ioc.caput("$(P)PyCalcTest:InvalidAlarm.PROC", 1)
    stat, sevr, msg = ioc.alarm("$(P)PyCalcTest:InvalidAlarm")
    assert (stat, sevr) == ("CALC", "INVALID")
    assert "name 'unknown_function' is not defined" in msg


def test_tpro_prints_the_code_and_the_exception(ioc):
    start = len(ioc.output)
    ioc.caput("$(P)PyCalcTest:InvalidAlarm.TPRO", 1)
    ioc.caput("$(P)PyCalcTest:InvalidAlarm.PROC", 1)
    ioc.caput("$(P)PyCalcTest:InvalidAlarm.TPRO", 0)
    assert ioc.wait_for("unknown_function() -> name 'unknown_function' is not defined",
                        start=start)


def test_a_put_callback_completes_after_the_code_ran(ioc):
    before = ioc.pyeval("len(sink)")
    ioc.caput("$(P)slow.PROC", 1)           # waits for the put-callback
    assert ioc.pyeval("len(sink)") == before + 1
    assert ioc.caget("$(P)slow") == before + 1
    assert ioc.caget("$(P)slow.PACT") == 0


def test_a_run_past_pydev_timeout_raises_timeout(ioc):
    ioc.caput("$(P)stuck.PROC", 1)
    stat, sevr, msg = ioc.alarm("$(P)stuck")
    assert (stat, sevr) == ("TIMEOUT", "INVALID")
    assert "0.3" in msg


def test_calc_changed_by_dbpf_is_recompiled_once(ioc):
    ioc.caput("$(P)code.PROC", 1)
    assert ioc.caget("$(P)code") == 3.0
    ioc.cmd('dbpf $(P)code.CALC "A * 10"')    # CALC is pp: this processes the record
    assert poll(lambda: ioc.caget("$(P)code") == 20.0)
    for _ in range(3):
        ioc.caput("$(P)code.PROC", 1)
    assert ioc.pyeval("[compiled.count('A + 1'), compiled.count('A * 10')]") == [1, 1]


def test_a_ca_client_cannot_change_calc_under_the_default_group(ioc):
    pv = ioc.pv("$(P)code.CALC")
    assert pv.wait_for_connection(5)
    assert pv.write_access is False
    with pytest.raises(epics.ca.CASeverityException, match="Write access denied"):
        epics.caput(ioc.P + "code.CALC", "__import__('os').getpid()", wait=True, timeout=3)
    assert ioc.caget("$(P)code.CALC") == "A * 10"
    ioc.caput("$(P)code.PROC", 1)
    assert ioc.caget("$(P)code") == 20.0


def test_a_pva_client_cannot_change_calc_under_the_default_group(ioc):
    from p4p.client.thread import Context
    ctx = Context("pva", nt=False)
    try:
        ctx.put(ioc.P + "code.CALC", "A * 1000", wait=True, timeout=3)   # undone, not failed:
        ctx.put(ioc.P + "code.CALC", "A * 1000", wait=False, timeout=3)  # see calcAddress()
    finally:
        ctx.close()
    assert ioc.caget("$(P)code.CALC") == "A * 10"
    assert ioc.wait_for("a client's put to CALC was undone")
    ioc.caput("$(P)code.PROC", 1)
    assert ioc.caget("$(P)code") == 20.0


def test_a_client_cannot_write_calc_through_a_link_it_points_at_calc(ioc):
    epics.caput(ioc.P + "pointer.OUT", ioc.P + "code.CALC", wait=True)
    epics.caput(ioc.P + "pointer.PROC", 1, wait=True)
    assert ioc.caget("$(P)code.CALC") == "A * 10"


def _guarded_ioc(users: str, calc: str = "A + 1") -> Ioc:
    db = ('record(pycalc, "$(P)calc") { field(ASG, "PYDEV_EXEC") field(INPA, "2") '
          f'field(FTA, "STRING") field(FTVL, "STRING") field(CALC, "{calc}") }}')
    pre = [f'asSetSubstitutions("EXEC_USERS=\'{users}\',EXEC_HOSTS=\'{socket.gethostname()},localhost\'")',
           f'asSetFilename("{ACF}")']
    return Ioc(db, pre_init=pre)


def test_a_client_access_security_allows_may_change_calc():
    with _guarded_ioc(getpass.getuser(), "len(A)") as ioc:
        ioc.caput("$(P)calc.CALC", "A + '!'")
        assert ioc.caget("$(P)calc.CALC") == "A + '!'"
        ioc.caput("$(P)calc.PROC", 1)
        assert ioc.caget("$(P)calc") == "2!"
        assert "cannot be compiled" not in ioc.output
        longer = "A + '?' if len(A) > 1000 else A + '!' + str(len(A)) + 'chars'"
        epics.caput(ioc.P + "calc.CALC$", longer, wait=True)   # more than 40: the long form
        assert ioc.caget("$(P)calc.CALC$", as_string=True) == longer
        assert ioc.caget("$(P)calc") == "2!1chars"


def test_exec_of_an_input_runs_only_where_access_security_guards_the_record():
    db = 'record(pycalc, "$(P)x") { field(INPA, {const: "ran.append(1)"}) field(FTA, "STRING") field(CALC, "exec(A)") }'
    with Ioc(db, py="ran = []") as ioc:
        assert "runs code that clients write; refused" in ioc.output
        ioc.caput("$(P)x.PROC", 1)
        assert ioc.pyeval("ran") == []
        assert ioc.alarm("$(P)x") == ("CALC", "INVALID", "exec of an input needs an ASG")
    with _guarded_ioc(getpass.getuser(), "exec(A) or 5") as ioc:
        ioc.caput("$(P)calc.A", "globals()['y'] = 7")   # A is pp: the put runs it
        assert ioc.pyeval("y") == 7
        assert ioc.caget("$(P)calc") == "5"


def test_the_demo_database_of_the_docs_gives_what_the_docs_show():
    with Ioc(db_files=[ROOT / "db" / "pycalcDemo.db"]) as ioc:
        assert poll(lambda: ioc.caget("$(P)Volume") == 3.77)
        assert poll(lambda: ioc.caget("$(P)State") == "full")
        ioc.caput("$(P)Level", 0.5)
        assert poll(lambda: ioc.caget("$(P)Volume") == 1.57)
        assert poll(lambda: ioc.caget("$(P)State") == "filling")
        ioc.caput("$(P)Readings", [1, 2, 3, 6])
        assert poll(lambda: list(ioc.caget("$(P)Summary")) == [1.0, 6.0, 3.0])
        assert ioc.caget("$(P)Summary.NEVL") == 3
        ioc.cmd('dbpf $(P)Volume.CALC "A * 1000"')
        assert poll(lambda: ioc.caget("$(P)Volume") == 500.0)


def test_pydev_report_lists_pycalc_records_with_their_last_error_and_calc(ioc):
    ioc.caput("$(P)PyCalcTest:InvalidAlarm.PROC", 1)
    report = ioc.cmd("pydevReport 2")
    line = next(row for row in report.splitlines() if "PyCalcTest:InvalidAlarm " in row)
    assert "pycalc" in line and "last error: name 'unknown_function'" in line
    assert "CALC unknown_function()" in report


def test_a_client_cannot_write_calc_through_a_ca_link_it_points_at_calc(ioc):
    start = len(ioc.output)
    epics.caput(ioc.P + "pointerCA.OUT", ioc.P + "targetCA.CALC CA", wait=True)
    assert poll(lambda: (epics.caput(ioc.P + "pointerCA.PROC", 1, wait=True),
                         "targetCA: a client's put to CALC was undone" in ioc.output[start:])[1])
    assert ioc.caget("$(P)targetCA.CALC") == "A - 2"


def test_a_link_of_the_database_changes_calc_even_when_a_client_processes_it(ioc):
    ioc.caput("$(P)setter.PROC", 1)    # the link writes in the client's thread of the CA server
    assert ioc.caget("$(P)linked.CALC") == "A * 5"
    assert ioc.caget("$(P)linked") == 10.0
