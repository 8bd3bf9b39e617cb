"""``python -m pydevice [pydevIoc options]``: the same as the ``pydevIoc`` command."""
from .ioc import main

main()
