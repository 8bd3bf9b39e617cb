# SPDX-License-Identifier: BSD-3-Clause
"""Make a virtualenv work wherever its directory is moved (``make install``'s ``PREFIX/venv``).

A venv names its own absolute path in ``bin/activate*`` (``VIRTUAL_ENV=...``) and in the
``#!`` line of every script pip wrote (``pip``, ``caget``...).  Once the installed tree is
moved or copied to another board, activating it would set the old ``VIRTUAL_ENV`` and put
the old ``bin`` on ``PATH``, and the scripts would look for an interpreter that is not there.

``python venv_relocate.py VENV`` rewrites them to find the venv from their own location:
``activate`` (bash, zsh) and ``activate.fish`` from the script's path, the scripts through a
``/bin/sh`` line that runs the ``python3`` next to them (as pip's own launcher does for long
paths).  ``activate.csh`` cannot learn its own path, so it is rewritten to the directory the
venv is in now: run this again after moving the tree if you use csh.  ``Activate.ps1``
already finds itself.  Running it again is harmless.  Standard library only: it runs with
the venv's own Python, before anything is installed in it.
"""
from __future__ import annotations

import os
import pathlib
import re
import sys

__all__ = ["relocate"]

MARK = "# made relocatable by pydevice.venv_relocate"

_SH_PREAMBLE = MARK + """: the venv is the directory above this script
if [ -n "${BASH_SOURCE-}" ]; then
    _PYDEV_VENV=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
elif [ -n "${ZSH_VERSION-}" ]; then
    eval '_PYDEV_VENV=$(cd "$(dirname -- "${(%):-%x}")/.." && pwd)'
else
    _PYDEV_VENV="@OLD@"  # a plain sh cannot tell where a sourced file is
fi
"""

_LAUNCHER = f"""#!/bin/sh
{MARK}: run the python3 next to this script, wherever the venv is
'''exec' "$(dirname -- "$(realpath -- "$0")")/python3" "$0" "$@"
' '''
"""


def _old_path(venv: pathlib.Path) -> str:
    """The path the venv was made at, as its activate script names it."""
    text = (venv / "bin" / "activate").read_text()
    found = re.search(r'^\s*(?:export\s+)?VIRTUAL_ENV=["\']?([^"\'\n]+?)["\']?\s*$', text, re.M)
    if found and found.group(1).startswith("/"):
        return found.group(1)
    found = re.search(r'^_PYDEV_VENV="([^"]+)"', text, re.M)  # rewritten before
    return found.group(1) if found else str(venv)


def _activate_sh(path: pathlib.Path, old: str) -> None:
    text = path.read_text()
    if MARK in text:
        return
    body = text.replace(f'"{old}"', '"$_PYDEV_VENV"').replace(old, '"$_PYDEV_VENV"')
    path.write_text(_SH_PREAMBLE.replace("@OLD@", old) + body + "unset _PYDEV_VENV\n")


def _activate_fish(path: pathlib.Path, old: str) -> None:
    text = path.read_text()
    if MARK in text:
        return
    here = "(dirname (dirname (realpath (status filename))))"
    path.write_text(f"{MARK}\n" + text.replace(f'"{old}"', here).replace(old, here))


def _activate_csh(path: pathlib.Path, venv: pathlib.Path) -> None:
    text = path.read_text()
    found = re.search(r'^setenv VIRTUAL_ENV "?([^"\n]+?)"?\s*$', text, re.M)
    if found:  # the venv's place when this last ran: now it is here
        path.write_text(text.replace(found.group(1), str(venv)))


def _scripts(bin_dir: pathlib.Path, old: str) -> None:
    """Scripts whose ``#!`` names the venv's python get the relative launcher."""
    for path in sorted(bin_dir.iterdir()):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            first, _, rest = path.read_bytes().partition(b"\n")
        except OSError:
            continue
        if not first.startswith(b"#!") or not first[2:].strip().startswith(old.encode() + b"/bin/python"):
            continue
        mode = path.stat().st_mode
        path.write_bytes(_LAUNCHER.encode() + rest)
        os.chmod(path, mode)


def relocate(venv: str | os.PathLike) -> None:
    """Rewrite ``venv``'s activate scripts and console scripts to work wherever it lies."""
    venv = pathlib.Path(venv).resolve()
    bin_dir = venv / "bin"
    old = _old_path(venv)
    _scripts(bin_dir, old)
    _scripts(bin_dir, str(venv))
    if (bin_dir / "activate").is_file():
        _activate_sh(bin_dir / "activate", old)
    if (bin_dir / "activate.fish").is_file():
        _activate_fish(bin_dir / "activate.fish", old)
    if (bin_dir / "activate.csh").is_file():
        _activate_csh(bin_dir / "activate.csh", venv)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} VENV")
    relocate(sys.argv[1])
