# SPDX-License-Identifier: BSD-3-Clause
"""What the original PyDevice runs, runs here (issue #21): its ways of writing links and module
code, each over a real pydevIoc with db text and module code of our own that does what the
original's test material does.  docs/moving-from-original.md lists what differs on purpose."""
import os
import subprocess
import sys
import textwrap

import pytest

from harness import DBD, Ioc, poll

# Module code as the original's users write it: it never imports pydev (a built-in there).
MODULE = '''
class Counter:
    def __init__(self):
        self.total = 0

    def add(self, n):
        self.total += n
        pydev.iointr('orig_total', self.total)   # no import: pydev is a built-in
        return self.total

    def pydev_everywhere(self):
        import pydev as imported
        import builtins
        return imported is builtins.pydev is globals().get('pydev', builtins.pydev)


if __name__ == "__main__":   # the tutorial's way to run it outside an IOC
    class pydev(object):
        @staticmethod
        def iointr(param, value=None):
            pass

def push_from_tutorial_module(v):
    pydev.iointr('orig_trick', v)
'''

DB = r"""
record(longout, "$(P)add") { field(DTYP, "pydev") field(OUT, "@counter.add(VAL)") }
record(longin, "$(P)total") { field(DTYP, "pydev") field(INP, "@pydev.iointr('orig_total')") field(SCAN, "I/O Intr") }
record(longin, "$(P)trick") { field(DTYP, "pydev") field(INP, "@pydev.iointr('orig_trick')") field(SCAN, "I/O Intr") }
record(bi, "$(P)same") { field(DTYP, "pydev") field(INP, "@counter.pydev_everywhere()") }

record(waveform, "$(P)upper") { field(DTYP, "pydev") field(FTVL, "STRING") field(NELM, "4")
    field(INP, "@[v.upper() for v in %VAL%]") }
record(stringout, "$(P)pct") { field(DTYP, "pydev") field(OUT, "@seen.update(pct=(%VAL%, %NAME%.split(':')[-1], len(%VAL%)))") }
record(longout, "$(P)pctmod") { field(DTYP, "pydev") field(OUT, "@seen.update(mod=VAL %HOPR% 7)") field(HOPR, "10") }

record(longout, "$(P)hello") { field(DTYP, "pydev") field(OUT, "@print('Hello\nworld!')") }
record(stringout, "$(P)escapes") { field(DTYP, "pydev") field(OUT, "@seen.update(esc=('a\tb', 'c\rd', b'\x01e', '''f\ng'''))") }

record(stringout, "$(P)scpi") { field(DTYP, "pydev") field(OUT, "@inst.write(':OUTP:STAT ON;:DISP:TEXT;:SCAN?;:INP:COUP DC;%SCAN%;VAL')") }
record(ai, "$(P)scpiin") { field(DTYP, "pydev") field(INP, "@inst.ask(':MEAS:VOLT? EGU PREC HIGH %HIGH%', PREC)") field(PREC, "3") field(EGU, "V") field(HIGH, "9") }
record(waveform, "$(P)wfname") { field(DTYP, "pydev") field(FTVL, "STRING") field(NELM, "2") field(INP, "@['NAME', '%NAME%']") }
"""

SETUP = '''
import sys
sys.path.insert(0, {moddir!r})
import origmod
counter = origmod.Counter()
seen = {{}}

class Instrument:
    def __init__(self):
        self.sent = []
    def write(self, text):
        self.sent.append(text)
    def ask(self, text, prec):
        self.sent.append(text)
        return prec + 0.5

inst = Instrument()
'''


@pytest.fixture(scope="module")
def ioc(tmp_path_factory):
    moddir = tmp_path_factory.mktemp("origmod")
    (moddir / "origmod.py").write_text(MODULE)
    with Ioc(DB, py=SETUP.format(moddir=str(moddir))) as ioc:
        yield ioc


# -- 1. pydev is a built-in ------------------------------------------------------------------

def test_module_code_calls_pydev_iointr_without_importing_it(ioc):
    ioc.caput("$(P)add", 3)
    ioc.caput("$(P)add", 4)
    assert ioc.alarm("$(P)add")[1] == "NO_ALARM"
    assert poll(lambda: ioc.caget("$(P)total") == 7)


def test_import_pydev_still_gives_the_same_module(ioc):
    ioc.caput("$(P)same.PROC", 1)
    assert ioc.caget("$(P)same") == 1
    assert ioc.pyeval("__import__('builtins').pydev is pydev and pydev.in_ioc") is True


def test_the_tutorials_dummy_class_does_not_shadow_the_ioc_pydev(ioc):
    ioc.py("origmod.push_from_tutorial_module(11)")
    assert poll(lambda: ioc.caget("$(P)trick") == 11)


# -- 2. %FIELD% in code ----------------------------------------------------------------------

def test_percent_field_in_code_is_the_fields_value(ioc):
    ioc.caput("$(P)upper", ["ab", "cd", "ef"])
    assert poll(lambda: list(ioc.caget("$(P)upper")) == ["AB", "CD", "EF"])
    assert ioc.alarm("$(P)upper")[1] == "NO_ALARM"


def test_percent_field_values_are_passed_not_spliced(ioc):
    hostile = "__import__('os').getpid()"
    ioc.caput("$(P)pct", hostile)
    assert ioc.pyeval("seen['pct']") == (hostile, "pct", len(hostile))


def test_percent_between_operands_stays_pythons_operator(ioc):
    ioc.caput("$(P)pctmod", 45)
    assert ioc.pyeval("seen['mod']") == 45 % 10 % 7


# -- 3. escapes the db parser turned into control characters -------------------------------

def test_newline_escape_in_a_string_literal_prints_two_lines(ioc):
    ioc.caput("$(P)hello", 1)
    assert ioc.alarm("$(P)hello")[1] == "NO_ALARM"
    assert poll(lambda: "Hello\nworld!\n" in ioc.output)


def test_control_characters_in_literals_are_their_escapes(ioc):
    ioc.caput("$(P)escapes", "x")
    assert ioc.pyeval("seen['esc']") == ("a\tb", "c\rd", b"\x01e", "f\ng")


# -- 6. words in string literals that are not the tutorial's macros -------------------------

def test_scpi_words_in_a_literal_reach_the_instrument_unchanged(ioc):
    ioc.caput("$(P)scpi", "on")
    assert ioc.pyeval("inst.sent[-1]") == ":OUTP:STAT ON;:DISP:TEXT;:SCAN?;:INP:COUP DC;Passive;on"
    ioc.caput("$(P)scpiin.PROC", 1)
    assert ioc.pyeval("inst.sent[-1]") == ":MEAS:VOLT? V 3 HIGH 9.0"  # ai: EGU, PREC listed
    assert ioc.caget("$(P)scpiin") == pytest.approx(3.5)


def test_only_the_types_listed_words_expand_in_literals(ioc):
    ioc.caput("$(P)wfname.PROC", 1)
    assert list(ioc.caget("$(P)wfname")) == ["NAME", ioc.P + "wfname"]  # waveform: VAL only


def test_pydevreport_2_and_tpro_show_the_words_taken_as_macros(ioc):
    report = ioc.cmd("pydevReport 2")
    assert ("in strings: %SCAN%, VAL; words in strings, not macros: STAT, DISP, SCAN (%STAT% for "
            "the field)" in report)
    assert "macros: PREC; in strings: EGU, PREC, %HIGH%; words in strings, not macros: HIGH" in report
    ioc.caput("$(P)scpi.TPRO", 1)
    ioc.caput("$(P)scpi", "t")
    assert poll(lambda: f"pydev: {ioc.P}scpi: @inst.write(" in ioc.output)
    assert poll(lambda: "-> None" in ioc.output and "[in strings: %SCAN%, VAL; words in strings, "
                "not macros: STAT, DISP, SCAN (%STAT% for the field)]" in ioc.output)


# -- 5. the original's st.cmd -----------------------------------------------------------------

def test_the_originals_st_cmd_boots_unchanged(tmp_path):
    """Its shape: envPaths, PYTHONPATH set in the st.cmd, its dbd name, and
    pydevioc_registerRecordDeviceDriver without parentheses."""
    (tmp_path / "dbd").mkdir()
    (tmp_path / "dbd" / "pydevioc.dbd").symlink_to(DBD)
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "test.db").write_text(
        'record(longin, "$(P=Orig:)answer") { field(DTYP, "pydev") field(INP, "@origst.answer()") '
        'field(PINI, "YES") }\n')
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "origst.py").write_text("def answer():\n    return 42\n")
    boot = tmp_path / "iocBoot" / "iocpydev"
    boot.mkdir(parents=True)
    (boot / "envPaths").write_text(f'epicsEnvSet("IOC","iocpydev")\nepicsEnvSet("TOP","{tmp_path}")\n')
    prefix = f"Orig{os.getpid()}:"
    (boot / "st.cmd").write_text(textwrap.dedent(f"""\
        #!../../bin/linux-x86_64/pydevioc

        < envPaths

        epicsEnvSet("PYTHONPATH","$(TOP)/python")

        cd ${{TOP}}

        dbLoadDatabase "${{TOP}}/dbd/pydevioc.dbd"
        pydevioc_registerRecordDeviceDriver pdbbase

        dbLoadRecords("${{TOP}}/db/test.db", "P={prefix}")

        cd ${{TOP}}/iocBoot/${{IOC}}

        pydev("import time")
        pydev("import origst")

        iocInit
        """))
    with Ioc(st_cmd=boot / "st.cmd", cwd=boot, prefix=prefix) as ioc:
        assert "Command pydevioc_registerRecordDeviceDriver not found" not in ioc.output
        assert ioc.caget("$(P)answer") == 42
        assert ioc.alarm("$(P)answer")[1] == "NO_ALARM"
        assert "pydevioc_registerRecordDeviceDriver" in ioc.cmd("help pydevioc_registerRecordDeviceDriver")


# -- 7. python -m pydevice check ------------------------------------------------------------

CHECKED = r"""
record(waveform, "$(P)upper") { field(DTYP, "pydev") field(FTVL, "STRING") field(NELM, "4") field(INP, "@[v.upper() for v in %VAL%]") }
record(longout, "$(P)hello") { field(DTYP, "pydev") field(OUT, "@print('Hello\nworld!')") }
record(stringout, "$(P)plain") { field(DTYP, "pydev") field(OUT, "@VAL") }
record(stringout, "$(P)runs") { field(DTYP, "pydev") field(OUT, "@exec(VAL)") }
record(stringout, "$(P)scpi") { field(DTYP, "pydev") field(OUT, "@inst.write(':OUTP:STAT ON;VAL')") }
record(longin, "$(P)syntax") { field(DTYP, "pydev") field(INP, "@1 +* 2") }
record(longin, "$(P)noat") { field(DTYP, "pydev") field(INP, "dev.read()") }
record(longin, "$(P)intr") { field(DTYP, "pydev") field(INP, "@dev.read()") field(SCAN, "I/O Intr") }
record(longin, "$(P)queue") { field(DTYP, "pydev") field(INP, "@dev.read()") info(pydev:queue, "5") }
record(longin, "$(P)badtime") { field(DTYP, "pydev") field(INP, "@1") info(pydev:timeout, "soon") }
record(longin, "$(P)initin") { field(DTYP, "pydev") field(INP, "@1") info(pydev:init, "2") }
record(ao, "$(P)global") { field(DTYP, "pydev") field(OUT, "@dev.set(VAL, HIGH)") }
record(longout, "$(P)glued") { field(DTYP, "pydev") field(OUT, "@dev%VAL%.go()") }
record(longin, "$(P)good") { field(DTYP, "pydev") field(INP, "@6 * 7") }
"""
CHECKED_DISABLED = {"runs", "syntax", "noat", "intr", "queue", "badtime", "initin", "glued"}


def run_check(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pydevice", "check", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def records_of(output, prefix):
    """record name (without prefix) -> its findings, from the checker's output."""
    found, current = {}, None
    for line in output.splitlines():
        if line.startswith(prefix):
            current = line.split(" ")[0][len(prefix):]
            found[current] = []
        elif line.startswith("  ") and current:
            found[current].append(line.strip())
    return found


def test_check_finds_what_the_ioc_disables_and_what_differs(tmp_path):
    (tmp_path / "links.db").write_text(CHECKED)
    run = run_check("links.db", "-m", "P=Chk:", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    found = records_of(run.stdout, "Chk:")
    disabled = {name for name, lines in found.items() if any(text.startswith("DISABLED") for text in lines)}
    assert disabled == CHECKED_DISABLED
    assert "DISABLED: invalid syntax at column 4 (SyntaxError)" in found["syntax"]
    assert any(text.startswith("differs: @VAL: the original ran") for text in found["plain"])
    assert any(text.startswith("differs: HIGH outside quotes") for text in found["global"])
    assert any(text.startswith("differs: %VAL% joined to a word") for text in found["glued"])
    assert any("STAT" in text and text.startswith("note:") for text in found["scpi"])
    assert "upper" not in found and "hello" not in found and "good" not in found
    assert "14 records with Python code: 8 would be disabled" in run.stdout

    # the IOC disables exactly those records (the pydev ones it can load)
    with Ioc(CHECKED) as ioc:
        report = ioc.cmd("pydevReport 1")
        ioc_disabled = {line.split()[0][len(ioc.P):] for line in report.splitlines()
                        if "DISABLED" in line and line.strip().startswith(ioc.P)}
        assert ioc_disabled == CHECKED_DISABLED
        assert ioc.alarm("$(P)runs")[2] == "exec of a field needs an ASG (see log)"


def test_check_passes_a_clean_database_and_compiles_pycalc_calc(tmp_path):
    (tmp_path / "good.db").write_text(
        'record(longin, "$(P)a") { field(DTYP, "pydev") field(INP, "@6 * 7") }\n'
        'record(pycalc, "$(P)c") { field(CALC, "max(A, B) + len([x for x in (A, J)])") }\n')
    run = run_check("good.db", "-m", "P=G:", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 records with Python code: 0 would be disabled" in run.stdout
    (tmp_path / "bad.db").write_text('record(pycalc, "c") { field(CALC, "A +") }\n'
                                     'record(longin, "$(Q)x") { field(DTYP, "pydev") field(INP, "@1") }\n')
    run = run_check("good.db", "bad.db", "-m", "P=G:", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.count("DISABLED") == 2
    assert "\nc (pycalc, bad.db:1)\n  DISABLED: invalid syntax" in "\n" + run.stdout
    assert "$(Q)x (longin, bad.db:2)" in run.stdout and "macro $(Q) has no value" in run.stdout
