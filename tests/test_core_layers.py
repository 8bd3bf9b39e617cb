# SPDX-License-Identifier: BSD-3-Clause
"""The C core's structure: files depend one way, both builds compile the same sources, and no
internal header is installed by either build or the wheel."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "pydevApp/src"
LAYERS = ["pydevSettings", "pydevValue", "pydevField", "pydevIointr", "pydevWorkers",
          "pydevLanes", "pydevStats", "pydevPython", "pydevRecord", "pycalcRecord", "pydevShell"]  # bottom up


def depgraph() -> str:
    run = subprocess.run([sys.executable, str(ROOT / "tools/depgraph.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_c_files_call_each_other_one_way():
    assert "cycles: none" in depgraph()


def test_each_layer_calls_only_layers_below_it():
    calls = dict(re.findall(r"^  (\w+) -> (.*)$", depgraph(), re.M))
    for i, layer in enumerate(LAYERS):
        callees = {c.strip() for c in calls[layer].split(",")} - {"-", "pydevPaths"}
        above = callees & set(LAYERS[i:])
        # Settings, Value and Field, Iointr and Workers, Stats and Python share a level: none
        # calls the other
        assert not above, f"{layer} calls {above}, which are not below it"


def test_the_layers_below_python_do_not_include_python():
    for name in ["pydevSettings", "pydevValue", "pydevField", "pydevIointr", "pydevWorkers",
                 "pydevLanes", "pydevStats"]:
        for path in SRC.glob(f"{name}.[ch]"):
            assert "Python.h" not in path.read_text(), path


def cmake_sources() -> set[str]:
    text = (ROOT / "CMakeLists.txt").read_text()
    blocks = re.findall(r"add_library\((?:pydevCore OBJECT|pydev SHARED)(.*?)\)\n", text, re.S)
    return set(re.findall(r"\$\{src\}/(\w+\.c)", " ".join(blocks)))


def test_both_builds_compile_the_same_library_sources():
    makefile = (SRC / "Makefile").read_text()
    site = set(re.findall(r"^pydev_SRCS \+= (\S+)$", makefile, re.M))
    assert site == cmake_sources()


def test_no_internal_header_is_installed():
    makefile = (SRC / "Makefile").read_text()
    assert not re.search(r"^\s*INC\s*\+?=", makefile, re.M), "the EPICS build installs a header"
    cmake = (ROOT / "CMakeLists.txt").read_text()
    assert not re.search(r"install\([^)]*\.h\b", cmake), "CMake installs a header"
    assert "target_include_directories(pydev PUBLIC ${src})" not in cmake
