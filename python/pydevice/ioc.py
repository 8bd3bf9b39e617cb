# SPDX-License-Identifier: BSD-3-Clause
"""``pydevIoc`` (and ``python -m pydevice``): start the PyDevice IOC program.

The IOC is a C program linked with this Python.  From a wheel it lives in
``pydevice/_ioc/bin/<arch>/``; in a source checkout, after ``make``, in ``bin/<arch>/``.
This wrapper finds it, tells it which virtualenv it runs in and where libpython is, and
replaces itself with it (same process: signals and exit status are the IOC's own).
"""
from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from typing import NoReturn, Sequence

__all__ = ["program", "main"]


def program() -> Path:
    """The pydevIoc executable of this installation (wheel) or checkout (make)."""
    here = Path(__file__).resolve().parent
    for bindir in (here / "_ioc" / "bin", here.parents[1] / "bin"):
        found = sorted(bindir.glob("*/pydevIoc"))
        if found:
            return found[0]
    raise FileNotFoundError(f"no pydevIoc under {here / '_ioc' / 'bin'} or {here.parents[1] / 'bin'}:"
                            " install the pydevice wheel, or run make in the source tree")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run pydevIoc with ``argv`` (default: this command's own arguments)."""
    exe = program()
    env = dict(os.environ)
    if sys.prefix != sys.base_prefix:          # a virtualenv: the IOC's Python uses it too
        env.setdefault("PYDEV_VENV", sys.prefix)
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:                                 # libpython, wherever this Python keeps it
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [libdir, env.get("LD_LIBRARY_PATH")]))
    args = list(sys.argv[1:] if argv is None else argv)
    os.execve(exe, [str(exe), *args], env)


if __name__ == "__main__":
    main()
