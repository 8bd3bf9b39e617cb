# SPDX-License-Identifier: BSD-3-Clause
"""What a newcomer meets first (issue #23): the command lines the README and ``-h`` print run
as printed, a failure's reason is in AMSG and leaves with the alarm, and the IOC says which
Python it embeds."""
import pathlib
import platform
import re
import shlex
import subprocess
import sys

import pytest

from harness import ARCH, DBD, IOC_BIN, ROOT, TREE, Ioc, poll

TANK_DB = 'record(ai, "$(P)level") { field(DTYP, "pydev") field(INP, "@6 * 7") field(PINI, "YES") }\n'
ST_CMD = f'dbLoadDatabase("{DBD}")\npydevIoc_registerRecordDeviceDriver(pdbbase)\n' \
         'dbLoadRecords("tank.db", "P=Tank:")\niocInit()\n'


def _readme_command_lines() -> list:
    """The pydevIoc lines of the README's "The command line" code block, as printed."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### The command line"):]
    block = section[section.index("```") + 3:]
    block = block[:block.index("```")]
    return [line.split("#")[0].strip() for line in block.splitlines() if "pydevIoc" in line]


def _help_command_lines() -> list:
    """The example lines of ``pydevIoc -h``, as printed."""
    out = subprocess.run([str(IOC_BIN), "-h"], capture_output=True, text=True, timeout=10).stdout
    examples = out[out.index("Examples:"):].splitlines()[1:]
    return [line.split("#")[0].strip() for line in examples if line.strip()]


def _run_as_printed(line: str, where: pathlib.Path):
    """Run ``line`` (program path as the docs give it) in ``where`` with tank.db and st.cmd.

    A relative program path is the docs' path in the tree under test: the source tree, or the
    tree of its own that make test-pythons builds for another Python (PYDEV_TREE)."""
    words = shlex.split(line)
    program = words[0].replace("$EPICS_HOST_ARCH", ARCH)
    program = TREE / program if not program.startswith("/") else pathlib.Path(program)
    assert program.resolve() == IOC_BIN.resolve(), line
    (where / "tank.db").write_text(TANK_DB)
    (where / "st.cmd").write_text(ST_CMD)
    if "-h" in words or "-V" in words:
        out = subprocess.run([str(IOC_BIN), *words[1:]], cwd=where, capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr
        return
    with Ioc(argv=words[1:], cwd=where) as ioc:
        assert poll(lambda: re.search(r"VAL\s*:\s*42\b", ioc.cmd("dbpr Tank:level")), timeout=3), ioc.output
        assert "undefined" not in ioc.output and "Bad character" not in ioc.output, ioc.output


def test_the_readme_and_help_show_command_lines():
    assert any("-d" in line and "-m" in line for line in _readme_command_lines())
    assert any("-d" in line and "-m" in line for line in _help_command_lines())


@pytest.mark.parametrize("line", _readme_command_lines())
def test_every_command_line_of_the_readme_runs_as_printed(line, tmp_path):
    _run_as_printed(line, tmp_path)


@pytest.mark.parametrize("line", _help_command_lines())
def test_every_command_line_of_help_runs_as_printed(line, tmp_path):
    _run_as_printed(line.replace(str(IOC_BIN), str(IOC_BIN.relative_to(TREE)), 1)
                    if line.startswith(str(IOC_BIN)) else line, tmp_path)


def test_m_applies_to_the_d_files_before_and_after_it_and_softioc_order_still_works(tmp_path):
    for name, prefix in (("a.db", "A"), ("b.db", "B"), ("c.db", "C")):
        (tmp_path / name).write_text(f'record(ai, "$(P){prefix}") {{}}\n')
    argv = ["-d", "a.db", "-m", "P=$(P)1:", "-d", "b.db", "-m", "P=$(P)2:", "-d", "c.db"]
    with Ioc(argv=argv, cwd=tmp_path) as ioc:
        names = set(re.findall(r"T[0-9a-f]{6}:\d:[ABC]", ioc.cmd("dbl")))
        assert names == {f"{ioc.P}1:A", f"{ioc.P}1:B", f"{ioc.P}2:C"}, names


# ---- alarms keep their reason, and lose it with the alarm --------------------------------

DB = """
record(longout, "$(P)lo") { field(DTYP, "pydev") field(OUT, "@1/0") field(PINI, "YES") }
record(bo, "$(P)bo") { field(DTYP, "pydev") field(OUT, "@undefined_name(VAL)") field(PINI, "YES") }
record(ai, "$(P)flaky") { field(DTYP, "pydev") field(INP, "@flaky()") }
record(ai, "$(P)pushed") { field(DTYP, "pydev") field(INP, "@pydev.iointr('nc:pushed')")
    field(SCAN, "I/O Intr") }
"""
SETUP = """
calls = [0]
def flaky():
    calls[0] += 1
    if calls[0] <= 2:
        raise pydev.Alarm('boom')
    return 5.0
"""


@pytest.fixture(scope="module")
def ioc():
    with Ioc(DB, py=SETUP) as ioc:
        yield ioc


@pytest.mark.parametrize("record, reason", [
    ("lo", "division by zero (ZeroDivisionError)"),
    ("bo", "name 'undefined_name' is not defined"),
])
def test_an_output_whose_pini_run_fails_says_why_in_amsg(ioc, record, reason):
    assert poll(lambda: ioc.alarm(f"$(P){record}")[2] != "", timeout=3), ioc.alarm(f"$(P){record}")
    stat, sevr, amsg = ioc.alarm(f"$(P){record}")
    assert (stat, sevr) == ("WRITE", "INVALID") and amsg.startswith(reason), amsg


def test_a_record_back_to_no_alarm_has_no_alarm_message(ioc):
    for _ in range(2):
        ioc.caput("$(P)flaky.PROC", 1)
        assert ioc.alarm("$(P)flaky")[2] == "boom"
    ioc.caput("$(P)flaky.PROC", 1)
    assert ioc.caget("$(P)flaky") == 5.0
    assert ioc.alarm("$(P)flaky") == ("NO_ALARM", "NO_ALARM", "")


def test_a_pushed_value_after_pushed_alarms_clears_the_alarm_message(ioc):
    for _ in range(2):
        ioc.py("pydev.iointr('nc:pushed', pydev.Alarm('line busy', stat='COMM', sevr='INVALID'))")
        assert poll(lambda: ioc.alarm("$(P)pushed")[2] == "line busy", timeout=3)
    ioc.py("pydev.iointr('nc:pushed', 3.0)")
    assert poll(lambda: ioc.caget("$(P)pushed") == 3.0, timeout=3)
    assert ioc.alarm("$(P)pushed") == ("NO_ALARM", "NO_ALARM", "")


# ---- which Python ----------------------------------------------------------------------

def _python_named(text: str) -> bool:
    """``text`` names this Python's version, its executable and its virtualenv."""
    return (f"Python {platform.python_version()} " in text and
            f"virtualenv {sys.prefix}" in text and "executable " in text)


ENV = {"VIRTUAL_ENV": None, "PYDEV_VENV": None}


def test_the_startup_banner_names_the_embedded_python_and_its_virtualenv():
    with Ioc(env=ENV) as ioc:
        banner = next((line for line in ioc.output.splitlines() if line.startswith("PyDevice: Python")), "")
        assert _python_named(banner), ioc.output


def test_pydevioc_v_names_the_embedded_python_and_its_virtualenv():
    out = subprocess.run([str(IOC_BIN), "-V"], capture_output=True, text=True, timeout=30,
                         env={k: v for k, v in __import__("os").environ.items() if k not in ENV})
    assert out.returncode == 0 and _python_named(out.stdout), out.stdout + out.stderr
    assert re.search(r"EPICS \d+\.\d+", out.stdout), out.stdout


def test_pydevreport_names_the_embedded_python_and_its_virtualenv(ioc):
    assert _python_named(ioc.cmd("pydevReport 0"))
