# SPDX-License-Identifier: BSD-3-Clause
"""The first hour of a new user: every error readable, their own code runs the obvious way."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from harness import IOC_BIN, ROOT, VENV, Ioc

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "firsthour"
VENV_BIN = VENV / "bin"
DB = """
record(ao, "$(P)pwm") { field(DTYP, "pydev") field(OUT, "@tank.check(VAL)") }
record(ai, "$(P)level") { field(DTYP, "pydev") field(INP, "@ tank.level()") }
record(ai, "$(P)syntax") { field(DTYP, "pydev") field(INP, "@tank.level(") }
record(ai, "$(P)noat") { field(DTYP, "pydev") field(INP, "tank.level()") }
record(ai, "$(P)nointr") { field(DTYP, "pydev") field(INP, "@tank.level()") field(SCAN, "I/O Intr") }
record(ao, "$(P)pinifail") { field(DTYP, "pydev") field(OUT, "@1/0") field(PINI, "YES") }
record(ai, "$(P)gone") { field(DTYP, "pydev") field(INP, "@gone()") }
record(ai, "$(P)badname") { field(DTYP, "pydev") field(INP, "@badname()") }
record(longin, "$(P)count") { field(DTYP, "pydev") field(INP, "@counter.next()") }
"""
ST_CMD = ['pydev("import tank")', 'pydevFile("init.py")']  # as the tutorial's st.cmd has them
SETUP = """
def gone():
    raise pydev.Alarm('sensor gone', stat='COMM', sevr='MAJOR')

def badname():
    raise pydev.Alarm('x', stat='COMMS')
"""


@pytest.fixture(scope="module")
def ioc(tmp_path_factory):
    boot = tmp_path_factory.mktemp("iocBoot")
    for name in ("tank.py", "init.py"):
        shutil.copy(FIXTURES / name, boot / name)
    with Ioc(DB, pre_init=ST_CMD, py=SETUP, cwd=boot) as ioc:
        yield ioc


# ---- 1. full error text ------------------------------------------------------------------

def test_a_traceback_reaches_the_console_whole_starting_with_record_and_link(ioc):
    ioc.caput("$(P)pwm", 256)
    assert ioc.wait_for("END-OF-MESSAGE", 5)
    out = ioc.output
    start = out.index(f"pydev: {ioc.P}pwm: @tank.check(VAL)")
    end = out.index("END-OF-MESSAGE", out.index("ValueError: 256.0", start))  # 3.13 also shows the source
    block = out[start:end + 15]
    assert "Traceback" in block and 'tank.py", line' in block
    assert "ValueError: 256.0 out of range for IO 'PWM_1'" in block and "details " * 40 in block


def test_amsg_leads_with_the_message(ioc):
    stat, sevr, amsg = ioc.alarm("$(P)pwm")
    assert (stat, sevr) == ("WRITE", "INVALID") and amsg.startswith("256.0 out of range for IO 'PWM_1'")


# ---- 2. init failures visible where users look --------------------------------------------

@pytest.mark.parametrize("record, amsg", [
    ("syntax", "'(' was never closed at column 11"),
    ("noat", 'link must be "@<python code>"'),
    ("nointr", "I/O Intr needs @pydev.iointr('name')"),
])
def test_a_record_that_cannot_start_says_why_in_amsg_and_pydevreport(ioc, record, amsg):
    stat, sevr, text = ioc.alarm(f"$(P){record}")
    assert (stat, sevr) == ("UDF", "INVALID") and text.startswith(amsg[:39]), text
    report = ioc.cmd("pydevReport 1")
    line = next(line for line in report.splitlines() if f"{ioc.P}{record} " in line)
    assert "DISABLED" in line and amsg[:30] in line


def test_a_syntax_error_shows_the_link_with_a_caret_on_the_console(ioc):
    out = ioc.output
    block = out[out.index(f"pydev: {ioc.P}syntax: @tank.level(: the link cannot be used"):]
    assert "^" in block.split("SyntaxError")[0]


def test_blanks_after_the_at_sign_are_allowed(ioc):
    ioc.caput("$(P)level.PROC", 1)
    assert ioc.caget("$(P)level") == 3.25


def test_an_output_whose_pini_run_fails_shows_the_error(ioc):
    assert ioc.alarm("$(P)pinifail") == ("WRITE", "INVALID", "division by zero (ZeroDivisionError)")


def test_a_pydev_alarm_on_a_record_without_a_value_keeps_stat_and_message(ioc):
    ioc.caput("$(P)gone.PROC", 1)
    assert ioc.alarm("$(P)gone") == ("COMM", "INVALID", "sensor gone")   # UDF: INVALID
    assert ioc.wait_for(f"pydev: {ioc.P}gone: pydev.Alarm COMM/MAJOR: sensor gone", 3)


def test_an_unknown_alarm_name_is_an_error_naming_the_valid_ones(ioc):
    ioc.caput("$(P)badname.PROC", 1)
    stat, sevr, amsg = ioc.alarm("$(P)badname")
    assert (stat, sevr) == ("READ", "INVALID") and amsg.startswith("unknown alarm status 'COMMS'")
    assert ioc.wait_for("use one of NO_ALARM, READ, WRITE", 3)


def test_the_standin_alarm_checks_names_the_same_way():
    import pydev
    with pytest.raises(ValueError, match="use one of NO_ALARM, MINOR, MAJOR, INVALID"):
        pydev.Alarm("x", sevr="severe")
    assert pydev.Alarm("x", stat="comm", sevr="major").sevr == "MAJOR"


# ---- 3. your own code, the obvious way -----------------------------------------------------

def test_a_module_next_to_st_cmd_imports_and_a_python_file_runs(ioc):
    assert ioc.pyeval("here").endswith("init.py")
    ioc.caput("$(P)count.PROC", 1)
    ioc.caput("$(P)count.PROC", 1)
    assert ioc.caget("$(P)count") == 2


def test_pydev_with_the_wrong_quoting_says_how_to_quote(ioc):
    out = ioc.cmd('pydev("print(", "hi", ")")')
    assert "put the whole code in double quotes and use single quotes inside" in out


def test_help_pydev_shows_quoting_that_works(ioc):
    out = ioc.cmd("help pydev")
    example = next(line.strip() for line in out.splitlines() if "MyDevice('127.0.0.1'" in line)
    assert example.startswith('pydev("') and example.count('"') == 2


# ---- 4. a command line that fits EPICS habits ----------------------------------------------

def test_pydevioc_h_prints_usage():
    out = subprocess.run([str(IOC_BIN), "-h"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "-d file.db" in out.stdout and "-m macros" in out.stdout


def test_pydevioc_d_and_m_serve_records_like_softioc(tmp_path):
    db = tmp_path / "t.db"
    db.write_text('record(ai, "$(P)x") { field(DTYP, "pydev") field(INP, "@6 * 7") field(PINI, "YES") }\n')
    with Ioc(cwd=tmp_path, argv=["-m", "P=$(P)", "-d", str(db)]) as ioc:
        assert ioc.caget("$(P)x") == 42.0


@pytest.mark.parametrize("command", ["caget", "caput", "camonitor", "pvget", "pvput", "pvmonitor"])
def test_the_client_commands_the_docs_show_exist_in_the_venv(command):
    assert (VENV_BIN / command).exists()


def test_caget_and_caput_of_the_venv_talk_to_the_ioc_without_a_repeater_warning(ioc):
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    put = subprocess.run([str(VENV_BIN / "caput"), "-c", ioc.P + "pwm", "12"], capture_output=True,
                         text=True, timeout=30, env=env)
    get = subprocess.run([str(VENV_BIN / "caget"), ioc.P + "pwm"], capture_output=True, text=True,
                         timeout=30, env=env)
    assert put.returncode == 0 and get.returncode == 0, put.stderr + get.stderr
    assert get.stdout.split() == [ioc.P + "pwm", "12.0"]
    assert "caRepeater" not in put.stderr + get.stderr
    pv = subprocess.run([str(VENV_BIN / "pvget"), ioc.P + "pwm"], capture_output=True, text=True,
                        timeout=30, env=env)
    assert pv.returncode == 0 and pv.stdout.split() == [ioc.P + "pwm", "12.0"], pv.stderr


def test_import_pydev_and_pydevice_work_in_the_venv():
    out = subprocess.run([str(VENV_BIN / "python"), "-c", "import pydev, pydevice.revpi; print(pydev.in_ioc)"],
                         capture_output=True, text=True, timeout=60, cwd="/")
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr


# ---- 5. honest build and runtime -----------------------------------------------------------

def test_a_virtualenv_of_another_python_is_named_and_not_used(tmp_path):
    other = tmp_path / "venv39"
    other.mkdir()
    (other / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.9.18\n")
    with Ioc(py="import numpy", env={"VIRTUAL_ENV": str(other)}) as ioc:
        me = f"{sys.version_info.major}.{sys.version_info.minor}"
        assert f"VIRTUAL_ENV={other} is a Python 3.9 virtualenv, but this IOC embeds Python {me}" in ioc.output
        assert "not using it" in ioc.output
    ioc = Ioc(pre_init=["on error break", 'pydev("1")'], env={"PYDEV_VENV": str(other)})
    with pytest.raises(Exception):
        ioc.start()
    assert "PYDEV_VENV" in ioc.output and "3.9" in ioc.output


def test_dbior_pydev_reports_the_pool_and_records(ioc):
    out = ioc.cmd("dbior pydev 1")
    assert "pydev workers:" in out and f"{ioc.P}pwm" in out


def test_a_compile_error_fails_make_build(tmp_path):
    tree = tmp_path / "p"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:  # the sources as they are now, committed or not
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    env = {**os.environ, "MAKEFLAGS": ""}
    # the project's venv, taken as it is (-o: never remade from the clone's requirements)
    venv = [f"VENV={VENV}", "-o", f"{VENV / '.installed'}"]
    ok = subprocess.run(["make", "build", *venv], cwd=tree, capture_output=True, text=True, timeout=600, env=env)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    with open(tree / "pydevApp/src/pydevShell.c", "a") as source:
        source.write("\nthis is not C;\n")
    bad = subprocess.run(["make", "build", *venv], cwd=tree, capture_output=True, text=True, timeout=600, env=env)
    assert bad.returncode != 0 and "make build: failed" in bad.stdout + bad.stderr
