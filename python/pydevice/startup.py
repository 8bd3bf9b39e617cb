# SPDX-License-Identifier: BSD-3-Clause
"""What ``pydevFile("init.py")`` runs at the iocsh: a Python file in the records' namespace."""
from __future__ import annotations

import ast
import inspect
import os

from . import aio

__all__ = ["run_file"]


def run_file(path: str, namespace: dict) -> None:
    """Run the Python file ``path`` with ``namespace`` as its globals.

    Names it defines are visible to every record's code and to ``pydev("...")``.  While it
    runs, ``__file__`` is its path, so it can find files next to itself.  A file with
    top-level ``await`` runs on the IOC's event loop (``pydev.loop``) until it ends.
    """
    with open(path, "rb") as source:
        code = compile(source.read(), os.path.abspath(path), "exec", dont_inherit=True,
                       flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    saved = namespace.get("__file__", _MISSING)
    namespace["__file__"] = os.path.abspath(path)
    try:
        if code.co_flags & inspect.CO_COROUTINE:
            aio.run(eval(code, namespace))
        else:
            exec(code, namespace)
    finally:
        if saved is _MISSING:
            namespace.pop("__file__", None)
        else:
            namespace["__file__"] = saved


_MISSING = object()
