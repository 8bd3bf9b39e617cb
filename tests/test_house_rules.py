# SPDX-License-Identifier: BSD-3-Clause
"""Habits of the source tree: every source file the project owns names its licence."""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPDX = "SPDX-License-Identifier: BSD-3-Clause"
SUFFIXES = {".py", ".c", ".h", ".sh", ".db", ".dbd", ".cmd"}
NAMES = {"CMakeLists.txt", "Makefile", ".ci/run", "configure/CONFIG.PyDevice",
         "configure/CONFIG_SITE"}
# Not checked: configure/CONFIG, RULES* are EPICS base's makeBaseApp templates, not our text;
# the fixtures under tests/revpi/fixtures/configs are revpimodio2's (LGPL, see PROVENANCE.md);
# iocBoot/iocrevpi/revpi.db is the generator's output, byte for byte
# (tests/revpi/test_revpi_demo.py checks it).
GENERATED = {"iocBoot/iocrevpi/revpi.db"}
HEAD_LINES = 3  # after a shebang and an encoding line


def source_files() -> list[str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return [f for f in tracked
            if (Path(f).suffix in SUFFIXES or Path(f).name in NAMES or f in NAMES)
            and f not in GENERATED]


def test_every_source_file_names_its_licence():
    files = source_files()
    assert len(files) > 100  # git ls-files saw the tree
    missing = [f for f in files
               if SPDX not in "".join((ROOT / f).read_text(encoding="utf-8")
                                      .splitlines(keepends=True)[:HEAD_LINES])]
    assert not missing, f"no '{SPDX}' in the first {HEAD_LINES} lines of: " + ", ".join(missing)
