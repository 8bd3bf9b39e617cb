"""Shared by the screen tests: the demo's screen command line and the PyDM driver process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEMO = ROOT / "iocBoot" / "iocrevpi"
DEMO_ARGS = ["config.rsc", "--replace-io-file", "replace_io.conf", "--prefix", "RevPi:",
             "--pool", "RevPi:pydev:"]
SCREENSHOTS = os.environ.get("PYDEV_SCREENSHOTS")
"""A folder (e.g. docs/images) where the screen tests also save their screenshots."""


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
