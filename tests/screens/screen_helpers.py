# SPDX-License-Identifier: BSD-3-Clause
"""Shared by the screen tests: the demo's screen command line and the PyDM driver process."""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEMO = ROOT / "iocBoot" / "iocrevpi"
DEMO_ARGS = ["config.rsc", "--replace-io-file", "replace_io.conf", "--prefix", "RevPi:",
             "--pool", "RevPi:pydev:"]
SCREENSHOTS = os.environ.get("PYDEV_SCREENSHOTS")
"""A folder (e.g. docs/images) where the screen tests also save their screenshots."""


class NoDisplay(RuntimeError):
    """No X server could be started here; the message says why."""


def start_xvfb() -> tuple[subprocess.Popen, dict[str, str]]:
    """A private Xvfb server and the environment of a Qt client on it.

    Where ``/tmp`` is read-only (the gpio-sim rig's guest), the server gets a tmpfs ``/tmp`` of
    its own (``unshare --mount``, as root) and is reached through its abstract socket."""
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        raise NoDisplay("Xvfb is not installed (tools/test-deps.sh installs it with apt-get "
                        "as root; on Debian: apt-get install xvfb)")
    read, write = os.pipe()
    argv = [xvfb, "-displayfd", str(write), "-screen", "0", "2400x1600x24", "-nolisten", "tcp",
            "-noreset"]
    if not os.access("/tmp", os.W_OK):
        if os.geteuid() != 0 or not shutil.which("unshare"):
            raise NoDisplay("/tmp is read-only and a private one needs root and unshare")
        argv = ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs xtmp /tmp && exec "$@"',
                "sh", *argv, "-nolock"]
    proc = subprocess.Popen(argv, pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):  # all of it: Xvfb dies if the pipe closes mid-line
        ready, _, _ = select.select([read], [], [], 120)
        chunk = os.read(read, 64) if ready else b""
        if not chunk:
            break
        number += chunk
    os.close(read)
    number = number.decode().strip()
    if not number:
        proc.kill()
        raise NoDisplay(f"Xvfb did not start: {proc.communicate()[1][-400:]}")
    runtime = tempfile.mkdtemp(prefix="pydev-xdg-")
    os.chmod(runtime, 0o700)
    return proc, {"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb", "XDG_RUNTIME_DIR": runtime,
                  "PYDM_DEFAULT_PROTOCOL": "ca"}


def probe_qt(env: dict[str, str]) -> None:
    """Raise NoDisplay unless Qt opens a window on the display of ``env``."""
    probe = subprocess.run([sys.executable, "-c", "from PyQt5.QtWidgets import QApplication; "
                            "QApplication([])"], env={**os.environ, **env},
                           capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        raise NoDisplay("Qt cannot open a window on Xvfb (system libraries missing? "
                        f"tools/test-deps.sh): {probe.stderr.strip()[-400:]}")


class Driver:
    """A PyDM screen in its own process (pydm_driver.py), one command at a time."""

    def __init__(self, screen: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "pydm_driver.py"), str(screen)],
                                     env={**os.environ, **env}, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     bufsize=1)
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError("PyDM did not open the screen:\n" + self.proc.stderr.read())
        self.widgets = json.loads(first)["ready"]

    def __call__(self, *words: object) -> object:
        self.proc.stdin.write(" ".join(map(str, words)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("PyDM ended:\n" + self.proc.stderr.read())
        return json.loads(line)["answer"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
