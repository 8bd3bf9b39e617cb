# SPDX-License-Identifier: BSD-3-Clause
"""``python -m pydevice [pydevIoc options]``: the same as the ``pydevIoc`` command.

``python -m pydevice screen FILE.db ...``: an operator screen for a database
(see :mod:`pydevice.screens.cli`).

``python -m pydevice check FILE.db ... [-m macros]``: compile a database's pydev links without
an IOC, and say what would disable a record and where it differs from the original PyDevice
(see :mod:`pydevice.check`).
"""
import sys

if sys.argv[1:2] == ["screen"]:
    from .screens.cli import main as screen

    sys.exit(screen(sys.argv[2:]))

if sys.argv[1:2] == ["check"]:
    from .check import main as check

    sys.exit(check(sys.argv[2:]))

from .ioc import main  # noqa: E402

main()
