# SPDX-License-Identifier: BSD-3-Clause
"""The test harness keeps its promises: its own $(P) per IOC, Python without iocsh quoting,
an exception in that Python raised in the test with its traceback."""
import pytest

from harness import Ioc, IocPythonError

DB = 'record(stringin, "$(P)name") { field(DTYP, "pydev") field(INP, "@NAME") field(PINI, "YES") }'


def test_each_ioc_serves_its_db_under_a_prefix_of_its_own():
    with Ioc(DB) as first, Ioc(DB) as second:
        assert first.P != second.P
        assert first.caget("$(P)name") == first.P + "name"
        assert second.caget("$(P)name") == second.P + "name"
        assert first.P + "name" in first.cmd("dbl")
        assert first.P + "name" not in second.cmd("dbl")


def test_a_given_prefix_is_used_for_names_db_files_and_iocsh_lines(tmp_path):
    db = tmp_path / "more.db"
    db.write_text('record(longin, "$(P)more") { field(VAL, "7") }\n')
    with Ioc(DB, db_files=[db], prefix="HT:", post_init=['dbpf("$(P)more", "8")']) as ioc:
        assert ioc.P == "HT:" and ioc.expand("$(P)x") == "HT:x"
        assert ioc.caget("HT:more") == 8
        assert '"HT:name"' in ioc.cmd("dbgf $(P)name")


def test_python_code_runs_as_written_quotes_backslashes_and_lines_included():
    code = '''
text = "it's \\\\ a \\"quote\\""
def twice(x):
    return 2 * x
print(twice(21))
print(text)
'''
    with Ioc(py="start = 'ran before the records loaded'") as ioc:
        assert ioc.pyeval("start") == "ran before the records loaded"
        assert ioc.py(code) == "42\n" + 'it\'s \\ a "quote"' + "\n"
        assert ioc.pyeval("text") == 'it\'s \\ a "quote"'      # names stay in the namespace
        assert ioc.pyeval("twice(2)") == 4


def test_an_exception_in_python_code_is_raised_with_its_traceback_and_the_ioc_runs_on():
    with Ioc() as ioc:
        with pytest.raises(IocPythonError) as err:
            ioc.py("def inner():\n    raise KeyError('the key')\ninner()")
        assert "Traceback" in str(err.value) and "in inner" in str(err.value)
        assert "KeyError: 'the key'" in str(err.value)
        with pytest.raises(IocPythonError, match="SyntaxError"):
            ioc.py("1 +")
        assert ioc.pyeval("6 * 7") == 42


def test_start_up_code_that_raises_fails_the_start_with_its_traceback():
    with pytest.raises(IocPythonError, match="NameError: name 'nowhere' is not defined"):
        Ioc(py="nowhere.open()").start()


def test_long_python_code_runs_whole():
    # one iocsh line carries all of it (here over 300 kB, encoded)
    code = "".join(f"v{i} = {i}\n" for i in range(20000)) + "print(v0 + v19999)"
    with Ioc() as ioc:
        # the last line: under load the start-up marker's line can arrive late in the output
        assert ioc.py(code, timeout=60).splitlines()[-1] == "19999"  # 60 s: a bound on a failure
