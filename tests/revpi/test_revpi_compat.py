# SPDX-License-Identifier: BSD-3-Clause
"""revpimodio2's private attributes are read in one module, behind a tested-version bound."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pydevice.revpi import _compat

PACKAGE = Path(_compat.__file__).resolve().parent


@pytest.mark.parametrize("version", ["2.9.0", "2.9.7", "2.9.1rc1"])
def test_tested_revpimodio2_versions_are_accepted(version):
    _compat.check_version(version)


@pytest.mark.parametrize("version", ["2.8.3", "2.10.0", "3.0.0", "0"])
def test_untested_revpimodio2_versions_are_refused_with_the_range_and_the_fix(version):
    with pytest.raises(ImportError, match=rf"needs revpimodio2 >= 2\.9\.0, < 2\.10\.0 .*found "
                                          rf"revpimodio2 {re.escape(version)}\. .*pip install"):
        _compat.check_version(version)


def test_importing_pydevice_revpi_with_an_untested_revpimodio2_fails_at_import():
    # the real package, only its version string changed before pydevice.revpi is imported
    code = ("import revpimodio2; revpimodio2.__version__ = '2.10.0'\n"
            "import pydevice.revpi")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "needs revpimodio2 >= 2.9.0, < 2.10.0" in run.stderr and "found revpimodio2 2.10.0" in run.stderr


def test_the_revpi_extra_asks_for_the_versions_the_import_accepts():
    # pip install 'pydevice[revpi]' must not bring a revpimodio2 that pydevice.revpi refuses
    low, high = (".".join(map(str, v)) for v in (_compat.TESTED_MIN, _compat.TESTED_BELOW))
    pyproject = (PACKAGE.parents[2] / "pyproject.toml").read_text()
    assert f'revpi = ["revpimodio2>={low},<{high}"]' in pyproject


def test_only_the_compat_module_reads_private_revpimodio2_attributes():
    private = re.compile(r"\b(?!self\b|_compat\b)\w+\._(?!_)[a-z]\w*")
    offenders = [f"{path.name}:{n}: {line.strip()}"
                 for path in sorted(PACKAGE.glob("*.py")) if path.name != "_compat.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if not line.lstrip().startswith("#") and private.search(line)]
    assert offenders == []


def test_the_accessors_answer_for_a_real_configuration(rpi):
    io = rpi.io("O_1")
    assert _compat.device_name(io) and _compat.is_read_only(rpi.io("I_1"))
    assert not _compat.is_read_only(io) and _compat.default_value(io) is False
    assert _compat.refresh_thread(rpi.modio).is_alive()
