# SPDX-License-Identifier: BSD-3-Clause
"""The PYDEV_* environment settings: each read through one table (pydevSettings.c), a bad
value named in one message with its allowed range and replaced by the default (the IOC keeps
serving), and every setting listed by `pydevReport 1` with its value and where it came from."""
import signal

import pytest

from harness import Ioc

DB = """
record(longin, "$(P)x") { field(DTYP, "pydev") field(INP, "@40 + 2") field(PINI, "YES") }
record(longin, "$(P)y") { field(DTYP, "pydev") field(INP, "@7") field(PINI, "YES") }
record(pycalc, "$(P)c") { field(CALC, "A + 1") field(INPA, "1") }
"""
BAD = {"PYDEV_NUM_THREADS": "abc", "PYDEV_MAX_THREADS": "-3", "PYDEV_TIMEOUT": "nan",
       "PYDEV_EXIT_TIMEOUT": "0", "PYDEV_STACK_SIZE": "12x", "PYDEV_PRIORITY": "200"}
RANGES = {"PYDEV_NUM_THREADS": "a count of threads from 1 to 1000; using 3",
          "PYDEV_MAX_THREADS": "a count of threads from 1 to 10000; using the default",
          "PYDEV_TIMEOUT": "a number of seconds from 0 to 1e+09; using 0",
          "PYDEV_EXIT_TIMEOUT": "a number of seconds from 0.001 to 1e+09; using 5",
          "PYDEV_STACK_SIZE": "a size (k, M) from 65536 to 4e+09; using the default",
          "PYDEV_PRIORITY": "an EPICS priority from 0 to 99; using 11"}
NAMES = ["PYDEV_NUM_THREADS", "PYDEV_MAX_THREADS", "PYDEV_TIMEOUT", "PYDEV_EXIT_TIMEOUT",
         "PYDEV_STACK_SIZE", "PYDEV_PRIORITY", "PYDEV_DBD", "PYDEV_PYTHON_DIR", "PYDEV_VENV"]


def test_a_bad_value_of_each_numeric_setting_is_named_once_and_its_default_used():
    with Ioc(DB, env=BAD) as ioc:
        assert ioc.caget("$(P)x") == 42 and ioc.caget("$(P)y") == 7
        ioc.caput("$(P)c.PROC", 1)
        assert ioc.caget("$(P)c") == 2
        assert ioc.alarm("$(P)x")[:2] == ("NO_ALARM", "NO_ALARM")
        report = ioc.cmd("pydevReport")
        assert "pydev workers: 3 (" in report and "priority 11," in report
        ioc.proc.send_signal(signal.SIGTERM)  # the exit bound is read when the signal comes
        assert ioc.wait_for("PYDEV_EXIT_TIMEOUT=0 is not", 10), ioc.output
        ioc.proc.wait(15)
        for name, why in RANGES.items():
            line = f"pydev: {name}={BAD[name]} is not {why}"
            assert ioc.output.count(line) == 1, (line, ioc.output)


@pytest.mark.parametrize("threads", ["0", "-3", "2.5"])
def test_a_thread_count_that_is_not_a_whole_number_from_1_gives_the_default_pool(threads):
    with Ioc(DB, env={"PYDEV_NUM_THREADS": threads}) as ioc:
        assert ioc.caget("$(P)x") == 42
        assert "pydev workers: 3 (" in ioc.cmd("pydevReport")
        assert f"PYDEV_NUM_THREADS={threads} is not a count of threads" in ioc.output


def test_pydev_report_lists_every_setting_with_its_value_and_where_it_came_from():
    with Ioc(DB, env={"PYDEV_NUM_THREADS": "2", "PYDEV_MAX_THREADS": "many"},
             pre_init=['epicsEnvSet("PYDEV_TIMEOUT", "2.5")']) as ioc:
        report = ioc.cmd("pydevReport 1")
        assert "pydev settings:" in report
        lines = {line.split()[0]: line for line in report.splitlines()
                 if line.strip().startswith("PYDEV_")}
        assert set(NAMES) <= set(lines), report
        assert lines["PYDEV_NUM_THREADS"].split()[1:] == ["2", "(environment)"]
        assert lines["PYDEV_TIMEOUT"].split()[1:] == ["2.5", "(environment)"]
        assert lines["PYDEV_PRIORITY"].split()[1:] == ["11", "(default)"]
        assert "many (environment, not valid: 4 x PYDEV_NUM_THREADS used)" in lines["PYDEV_MAX_THREADS"]
        assert "PYDEV_NUM_THREADS" not in ioc.cmd("pydevReport 0")
