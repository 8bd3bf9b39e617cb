# SPDX-License-Identifier: BSD-3-Clause
"""Which interpreter environment the IOC uses: the build's .venv, or PYDEV_VENV."""
import subprocess
import sys

from harness import ROOT, Ioc


def test_the_ioc_uses_the_venv_it_was_built_with():
    venv = sys.prefix  # the tests run in that venv (.venv, or .venv-3.X for make test-pythons)
    with Ioc(py="import sys, numpy, pydevice", env={"VIRTUAL_ENV": None}) as ioc:
        assert ioc.pyeval("sys.prefix") == venv
        assert ioc.pyeval("numpy.__file__").startswith(venv)
        assert ioc.pyeval("pydevice.__file__") == str(ROOT / "python/pydevice/__init__.py")
        assert ioc.pyeval("pydev.in_ioc") is True


def test_pydev_venv_selects_another_virtualenv(tmp_path):
    other = tmp_path / "otherenv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    with Ioc(py="import sys", env={"PYDEV_VENV": str(other)}) as ioc:
        assert ioc.pyeval("sys.prefix") == str(other)
        assert ioc.pyeval(f"any(p.startswith({str(other)!r}) for p in sys.path)")
