# SPDX-License-Identifier: BSD-3-Clause
"""Build once, deploy to many boards: the binary wheel and a wheelhouse give a working IOC on
a machine without a compiler or the source tree (here: a fresh venv in another directory)."""
import pathlib
import re
import subprocess
import sys

import pytest

from harness import ROOT, Ioc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    house = base / "wheelhouse"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(house), str(ROOT)], check=True,
                   timeout=900, capture_output=True)
    subprocess.run([*pip, "wheel", "-w", str(house), "-r", str(ROOT / "requirements.txt")],
                   check=True, timeout=900, capture_output=True)
    venv = base / "board"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
                    "install", "--no-index", "-f", str(house), "pydevice[revpi]"],
                   check=True, timeout=600, capture_output=True, cwd=base)
    return venv, house


def test_the_wheel_pins_the_epicscorelibs_it_was_built_with(installed):
    pin = re.search(r"^epicscorelibs==(\S+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert pyproject.count(f"epicscorelibs=={pin}") == 2   # to build with, and to run with
    wheel = next(installed[1].glob("pydevice-*.whl"))
    print(f"wheel: {wheel.name}, {wheel.stat().st_size / 1024:.0f} KiB; wheelhouse "
          f"{sum(f.stat().st_size for f in installed[1].iterdir()) / 2**20:.1f} MiB")


def test_the_wheel_ships_the_type_hint_marker(installed):
    """PEP 561: type checkers use pydevice's hints only if py.typed is installed with it."""
    import zipfile
    wheel = next(installed[1].glob("pydevice-*.whl"))
    assert "pydevice/py.typed" in zipfile.ZipFile(wheel).namelist()
    venv, _ = installed
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import pathlib, pydevice; print(pathlib.Path(pydevice.__file__).parent)"],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert (pathlib.Path(site) / "py.typed").is_file()


@pytest.mark.parametrize("how", ["pydevIoc", "python -m pydevice"])
def test_the_installed_ioc_serves_over_ca_and_pva_without_the_source_tree(installed, tmp_path, how):
    venv, _ = installed
    prefix = "WHa:" if how == "pydevIoc" else "WHb:"
    db = tmp_path / "t.db"
    db.write_text(f'record(ai, "{prefix}x") {{ field(DTYP, "pydev") field(INP, "@6 * 7") field(PINI, "YES") }}\n')
    program = venv / "bin" / "pydevIoc"
    argv = ["-d", str(db)]
    if how != "pydevIoc":
        program, argv = venv / "bin" / "python", ["-m", "pydevice", *argv]
    env = {"VIRTUAL_ENV": None, "PYDEV_VENV": None, "PYTHONPATH": None,
           "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    with Ioc(argv=argv, program=program, cwd=tmp_path, env=env) as ioc:
        assert ioc.caget(prefix + "x") == 42.0
        ioc.cmd('pydev("import sys, pydevice, pydevice.revpi")')
        assert ioc.pyeval("pydevice.__file__").startswith(str(venv))
        assert str(ROOT) not in ioc.pyeval("' '.join(sys.path)")
        from p4p.client.thread import Context
        with Context("pva", nt=False) as ctx:
            assert ctx.get(prefix + "x", timeout=5)["value"] == 42.0


def test_the_wheels_binaries_name_no_build_source_or_temporary_path(installed):
    """The wheel is built in a temporary pip build env and this tree: neither may leak into it."""
    import zipfile
    wheel = next(installed[1].glob("pydevice-*.whl"))
    with zipfile.ZipFile(wheel) as whl:
        binaries = [n for n in whl.namelist() if n.endswith(("/pydevIoc", "/libpydev.so"))]
        assert len(binaries) == 2, binaries
        for name in binaries:
            data = whl.read(name)
            for leak in (str(ROOT), "/pip-build-env-", "/.pyenv/"):
                assert leak.encode() not in data, f"{name} in {wheel.name} names {leak}"
            assert b"$ORIGIN/" in data, f"{name}: RUNPATH not relative to $ORIGIN"
