"""``python -m pydevice [pydevIoc options]``: the same as the ``pydevIoc`` command.

``python -m pydevice screen FILE.db ...``: an operator screen for a database
(see :mod:`pydevice.screens.cli`).
"""
import sys

if sys.argv[1:2] == ["screen"]:
    from .screens.cli import main as screen

    sys.exit(screen(sys.argv[2:]))

from .ioc import main  # noqa: E402

main()
