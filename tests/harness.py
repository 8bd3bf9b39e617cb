"""Run a real ``pydevIoc`` for tests, and talk to it through Channel Access (pyepics).

Importing this module picks free CA and PVA ports on 127.0.0.1 for the whole pytest process
and sets the client environment (``EPICS_CA_AUTO_ADDR_LIST=NO``) before pyepics loads, so
tests never reach another IOC.  One IOC runs at a time; give each test module its own PV prefix.

    with Ioc(db_text='record(longin, "T:x") {...}', pre_init=['pydev("import math")']) as ioc:
        assert ioc.caget("T:x") == 1
        ioc.caput("T:y", 2, wait=True)
        ioc.cmd("dbl")                  # any iocsh command; returns its output
        ioc.pyeval("sink['y']")         # a Python value from the IOC's shared namespace
"""
from __future__ import annotations

import ast
import os
import pathlib
import platform
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any, Iterable, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[1]
_machine = platform.machine()
ARCH = f"{platform.system().lower()}-{'arm' if _machine.startswith('arm') else _machine}"
IOC_BIN = ROOT / "bin" / ARCH / "pydevIoc"
DBD = ROOT / "dbd" / "pydevIoc.dbd"


def _free_port_pair() -> int:
    """A port p with p and p+1 free for both TCP and UDP on loopback."""
    for _ in range(200):
        base = 20000 + int.from_bytes(os.urandom(2), "little") % 30000
        try:
            socks = []
            for port in (base, base + 1):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(socket.AF_INET, kind)
                    socks.append(s)
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port pair on 127.0.0.1")


CA_PORT = _free_port_pair()
PVA_PORT = _free_port_pair()
EPICS_ENV = {
    "EPICS_CA_AUTO_ADDR_LIST": "NO",
    "EPICS_CA_ADDR_LIST": "127.0.0.1",
    "EPICS_CA_SERVER_PORT": str(CA_PORT),
    "EPICS_CA_REPEATER_PORT": str(CA_PORT + 1),
    "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1",
    "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1",
    "EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO",
    "EPICS_PVA_AUTO_ADDR_LIST": "NO",
    "EPICS_PVA_ADDR_LIST": "127.0.0.1",
    "EPICS_PVA_SERVER_PORT": str(PVA_PORT),
    "EPICS_PVA_BROADCAST_PORT": str(PVA_PORT + 1),
    "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
    "EPICS_PVAS_SERVER_PORT": str(PVA_PORT),
    "EPICS_PVAS_BROADCAST_PORT": str(PVA_PORT + 1),
}
os.environ.update(EPICS_ENV)

import epics  # noqa: E402  (after the environment is set)

_READY = "PYDEV-HARNESS-READY"
STAT_NAMES = ["NO_ALARM", "READ", "WRITE", "HIHI", "HIGH", "LOLO", "LOW", "STATE", "COS", "COMM",
              "TIMEOUT", "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT", "BAD_SUB", "UDF", "DISABLE",
              "SIMM", "READ_ACCESS", "WRITE_ACCESS"]
SEVR_NAMES = ["NO_ALARM", "MINOR", "MAJOR", "INVALID"]


class IocError(RuntimeError):
    """The IOC failed to start, died, or did not answer."""


class Ioc:
    """A ``pydevIoc`` process running a generated st.cmd."""

    def __init__(
        self,
        db_text: str = "",
        *,
        pre_init: Iterable[str] = (),
        post_init: Iterable[str] = (),
        db_files: Sequence[tuple[str | os.PathLike, str]] = (),
        cwd: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        startup_timeout: float = 30.0,
        st_cmd: str | os.PathLike | None = None,
    ) -> None:
        """Generate an st.cmd from the arguments, or run the existing ``st_cmd`` (in ``cwd``)."""
        self._dir = tempfile.TemporaryDirectory(prefix="pydev-test-")
        tmp = pathlib.Path(self._dir.name)
        lines = [f'dbLoadDatabase("{DBD}")', "pydevIoc_registerRecordDeviceDriver(pdbbase)"]
        lines += list(pre_init)
        if db_text:
            (tmp / "test.db").write_text(db_text)
            lines.append(f'dbLoadRecords("{tmp / "test.db"}")')
        lines += [f'dbLoadRecords("{path}", "{macros}")' for path, macros in db_files]
        lines.append("iocInit()")
        lines += list(post_init)
        lines.append(f"pydev(\"print('{_READY}')\")")
        self.existing = st_cmd is not None
        if st_cmd is not None:
            self.st_cmd = pathlib.Path(st_cmd).resolve()
        else:
            self.st_cmd = tmp / "st.cmd"
            self.st_cmd.write_text("\n".join(lines) + "\n")
        self.cwd = str(cwd or tmp)
        self.env = {**os.environ, **EPICS_ENV, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._marker = 0

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> "Ioc":
        if not IOC_BIN.exists():
            raise IocError(f"{IOC_BIN} is missing: run `make` first")
        self.proc = subprocess.Popen(
            [str(IOC_BIN), str(self.st_cmd)], cwd=self.cwd, env=self.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if self.existing:  # iocsh reads its standard input once the st.cmd is done
            self.proc.stdin.write(f"pydev(\"print('{_READY}')\")\n")
            self.proc.stdin.flush()
        if not self.wait_for(_READY, self.startup_timeout):
            out = self.output
            self.stop()
            raise IocError(f"IOC did not start:\n{out}")
        return self

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout: float = 10.0) -> int | None:
        """Type `exit` at the prompt; kill the IOC if it does not leave."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("exit\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)  # it ends at EOF, after the last lines
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except (OSError, ValueError):
                pass
        self._dir.cleanup()
        return self.proc.returncode

    def __enter__(self) -> "Ioc":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- console ----------------------------------------------------------------------------
    @property
    def output(self) -> str:
        with self._cond:
            return "".join(self._lines)

    def wait_for(self, text: str, timeout: float = 5.0, start: int = 0) -> bool:
        """Wait until ``text`` appears in the console output (after character ``start``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while text not in "".join(self._lines)[start:]:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc and self.proc.poll() is not None and not self._pending()):
                    return text in "".join(self._lines)[start:]
                self._cond.wait(min(left, 0.1))
            return True

    def _pending(self) -> bool:
        return False

    def cmd(self, line: str, timeout: float = 10.0) -> str:
        """Run one iocsh command and return what it printed."""
        assert self.proc and self.proc.stdin
        if self.proc.poll() is not None:
            raise IocError(f"IOC exited with {self.proc.returncode}:\n{self.output}")
        self._marker += 1
        marker = f"PYDEV-HARNESS-DONE-{self._marker}"
        start = len(self.output)
        self.proc.stdin.write(f"{line}\npydev(\"print('{marker}')\")\n")
        self.proc.stdin.flush()
        if not self.wait_for(marker + "\n", timeout, start):
            raise IocError(f"no answer to {line!r}:\n{self.output[start:]}")
        text = self.output[start:]
        text = text[: text.index(marker + "\n")]
        # Bases before 7.0.10 echo every command read from a pipe ("epics> line"):
        # keep only what `line` printed.
        echo = f"epics> {line}\n"
        if echo in text:
            text = text[text.index(echo) + len(echo):]
        marker_cmd = text.rfind(f"pydev(\"print('{marker}')\")")
        if marker_cmd >= 0:
            text = text[: text.rfind("\n", 0, marker_cmd) + 1]
        return text

    def pyeval(self, expr: str, timeout: float = 10.0) -> Any:
        """The value of a Python expression in the IOC's shared namespace (via repr)."""
        out = self.cmd(f"pydev(\"print('<<<', repr({expr}), '>>>')\")", timeout)
        start = out.rindex("<<< ") + 4
        return ast.literal_eval(out[start : out.rindex(" >>>")])

    # -- Channel Access ----------------------------------------------------------------------
    def caget(self, pv: str, timeout: float = 5.0, **kw: Any) -> Any:
        """Read over CA; by default the value now (``use_monitor=False``)."""
        kw.setdefault("use_monitor", False)
        value = epics.caget(pv, timeout=timeout, **kw)
        if value is None:
            raise IocError(f"caget {pv} failed")
        return value

    def caput(self, pv: str, value: Any, wait: bool = True, timeout: float = 10.0) -> None:
        if epics.caput(pv, value, wait=wait, timeout=timeout) != 1:
            raise IocError(f"caput {pv} {value!r} failed")

    def alarm(self, pv: str) -> tuple[str, str, str]:
        """(STAT, SEVR, AMSG) as strings, read over CA."""
        stat = self.caget(pv + ".STAT")
        sevr = self.caget(pv + ".SEVR")
        return STAT_NAMES[stat], SEVR_NAMES[sevr], self.caget(pv + ".AMSG", as_string=True)


def poll(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Wait until ``predicate()`` is true; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
