# SPDX-License-Identifier: BSD-3-Clause
"""pytest setup: tests/ and python/ on sys.path (the harness and the bundled modules)."""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
for path in (HERE, HERE.parent / "python"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
