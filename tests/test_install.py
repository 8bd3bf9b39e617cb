# SPDX-License-Identifier: BSD-3-Clause
"""make install PREFIX=...: a tree with no build or source path in it, that still runs after
it is moved (as when copied to a second board)."""
import os
import shutil
import subprocess

import pytest

from harness import ARCH, ROOT, Ioc


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    first, second = base / "first", base / "moved" / "elsewhere"
    subprocess.run(["make", "--no-print-directory", "install", f"PREFIX={first}"], cwd=ROOT,
                   check=True, timeout=900, capture_output=True)
    second.parent.mkdir(parents=True)
    shutil.move(str(first), str(second))
    return second


def test_no_installed_binary_names_a_build_or_source_path(moved):
    for binary in (moved / "bin" / ARCH / "pydevIoc", moved / "lib" / ARCH / "libpydev.so"):
        data = binary.read_bytes()
        assert str(ROOT).encode() not in data, f"{binary} names {ROOT}"
        runpath = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True).stdout
        assert "$ORIGIN" in runpath and str(ROOT) not in runpath


def test_the_moved_tree_serves_records_with_its_own_python_and_venv(moved, tmp_path):
    db = tmp_path / "t.db"
    db.write_text('record(ai, "INST:x") { field(DTYP, "pydev") field(INP, "@6 * 7") field(PINI, "YES") }\n')
    env = {"VIRTUAL_ENV": None, "PYDEV_VENV": None, "PYTHONPATH": None}
    with Ioc(argv=["-d", str(db)], program=moved / "bin" / ARCH / "pydevIoc", cwd=tmp_path, env=env) as ioc:
        assert ioc.caget("INST:x") == 42.0
        ioc.cmd('pydev("import sys, pydevice, numpy")')
        assert ioc.pyeval("pydevice.__file__").startswith(str(moved / "python"))
        assert ioc.pyeval("sys.prefix") == str(moved / "venv")
        assert ioc.pyeval("numpy.__file__").startswith(str(moved / "venv"))


def test_the_moved_trees_venv_activates_where_it_lies(moved, tmp_path):
    venv = moved / "venv"
    script = (f'. "{venv}/bin/activate" && echo "$VIRTUAL_ENV" && command -v python && '
              'python -c "import sys; print(sys.prefix)"')
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(venv), str(venv / "bin" / "python"), str(venv)]


def test_the_moved_trees_venv_scripts_run_where_they_lie(moved):
    pip = subprocess.run([str(moved / "venv" / "bin" / "pip"), "--version"], capture_output=True,
                         text=True, timeout=120)
    assert pip.returncode == 0 and str(moved / "venv") in pip.stdout, pip.stdout + pip.stderr
