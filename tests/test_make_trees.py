# SPDX-License-Identifier: BSD-3-Clause
"""Each Python's build writes its own tree: make test-pythons never replaces make run's IOC."""
import os
import pathlib
import shutil
import subprocess

from harness import ARCH, ROOT, VENV


def _copy_sources(tree: pathlib.Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:  # the sources as they are now, committed or not
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)


def _runpath(binary: pathlib.Path) -> str:
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return next(line for line in out.splitlines() if "RUNPATH" in line or "RPATH" in line)


def test_a_second_pythons_build_leaves_the_default_trees_ioc_alone(tmp_path):
    tree = tmp_path / "p"
    _copy_sources(tree)
    env = {**os.environ, "MAKEFLAGS": ""}
    # the project's venv, taken as it is (-o: never remade from the clone's requirements)
    venv = [f"VENV={VENV}", "-o", f"{VENV / '.installed'}"]

    def make(*args: str) -> None:
        done = subprocess.run(["make", *args, *venv], cwd=tree, capture_output=True, text=True,
                              timeout=600, env=env)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    make("build")
    ioc = tree / "bin" / ARCH / "pydevIoc"
    lib = tree / "lib" / ARCH / "libpydev.so"
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (ioc, lib)}
    # what make test-pythons does for each other Python: its own build directory and tree
    make("build", "BUILD=build-other", "TREE=build-other/tree")
    other = tree / "build-other" / "tree"
    assert (other / "bin" / ARCH / "pydevIoc").is_file()
    assert f"{other}/lib/{ARCH}" in _runpath(other / "bin" / ARCH / "pydevIoc")
    for path, (mtime, data) in before.items():
        assert (path.stat().st_mtime_ns, path.read_bytes()) == (mtime, data), f"{path} was rewritten"
    # and make run's IOC is still the one of the default venv, linked against the default tree
    assert f"{tree}/lib/{ARCH}" in _runpath(ioc) and str(VENV) in _runpath(ioc)
