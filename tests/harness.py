"""Run a real ``pydevIoc`` for tests, and talk to it through Channel Access (pyepics).

Importing this module picks free CA and PVA ports on 127.0.0.1 for the whole pytest process
and sets the client environment (``EPICS_CA_AUTO_ADDR_LIST=NO``) before pyepics loads, so
tests never reach another IOC.  Up to ``SLOTS`` IOCs may run at once, each on its own ports.
Give every IOC of a pytest process its own PV names: a channel whose name an earlier IOC
served reconnects only after the client's search back-off (seconds).

    with Ioc(db_text='record(longin, "T:x") {...}', pre_init=['pydev("import math")']) as ioc:
        assert ioc.caget("T:x") == 1
        ioc.caput("T:y", 2, wait=True)
        ioc.cmd("dbl")                  # any iocsh command; returns its output
        ioc.pyeval("sink['y']")         # a Python value from the IOC's shared namespace
"""
from __future__ import annotations

import ast
import atexit
import contextlib
import os
import pathlib
import platform
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any, Iterable, Iterator, Sequence

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


# Waits stretch by this factor where the machine is slow, e.g. under qemu-user emulation
# (tools/arm/check.sh sets it): a wait is a bound on a failure, never the thing tested.
TIME_SCALE = float(os.environ.get("PYDEV_TEST_TIME_SCALE", "1"))

SLOTS = 4  # IOCs that may run at the same time, each on its own ports
CA_PORTS = [_free_port_pair() for _ in range(SLOTS)]   # p: CA server; p+1 unused
PVA_PORTS = [_free_port_pair() for _ in range(SLOTS)]  # p: PVA server (TCP), p+1: searches (UDP)
CA_PORT, PVA_PORT = CA_PORTS[0], PVA_PORTS[0]
REPEATER_PORT = _free_port_pair()
EPICS_ENV = {  # the client side: searches reach every slot, and nothing else
    "EPICS_CA_AUTO_ADDR_LIST": "NO",
    "EPICS_CA_ADDR_LIST": " ".join(f"127.0.0.1:{p}" for p in CA_PORTS),
    "EPICS_CA_SERVER_PORT": str(CA_PORT),
    "EPICS_CA_REPEATER_PORT": str(REPEATER_PORT),
    "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1",
    "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1",
    "EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO",
    "EPICS_PVA_AUTO_ADDR_LIST": "NO",
    "EPICS_PVA_ADDR_LIST": " ".join(f"127.0.0.1:{p + 1}" for p in PVA_PORTS),
    "EPICS_PVA_SERVER_PORT": str(PVA_PORT),
    "EPICS_PVA_BROADCAST_PORT": str(PVA_PORT + 1),
    "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
    "EPICS_PVAS_SERVER_PORT": str(PVA_PORT),
    "EPICS_PVAS_BROADCAST_PORT": str(PVA_PORT + 1),
}


def server_env(slot: int) -> dict[str, str]:
    """The environment of an IOC in ``slot``: its own CA and PVA ports."""
    ca, pva = CA_PORTS[slot], PVA_PORTS[slot]
    return {**EPICS_ENV, "EPICS_CA_SERVER_PORT": str(ca),
            "EPICS_PVA_SERVER_PORT": str(pva), "EPICS_PVA_BROADCAST_PORT": str(pva + 1),
            "EPICS_PVAS_SERVER_PORT": str(pva), "EPICS_PVAS_BROADCAST_PORT": str(pva + 1)}


_free_slots = list(range(SLOTS))
_slots_lock = threading.Lock()


@contextlib.contextmanager
def reserved_server_env() -> Iterator[dict[str, str]]:
    """Ports for an IOC the test starts by other means (e.g. inside a Python process)."""
    with _slots_lock:
        slot = _free_slots.pop(0)
    try:
        yield server_env(slot)
    finally:
        with _slots_lock:
            _free_slots.insert(0, slot)
os.environ.update(EPICS_ENV)
# libca (pyepics) starts a program named caRepeater from PATH: make writes one into .venv/bin
os.environ["PATH"] = str(ROOT / ".venv" / "bin") + os.pathsep + os.environ.get("PATH", "")


def _start_repeater() -> subprocess.Popen:
    """A CA repeater on our repeater port (libca's ca_repeater(); the wheel has no binary).

    It relays the beacons of each new IOC to the client, so channels whose names a previous
    IOC served reconnect at once instead of after the client's search back-off.
    """
    code = ("import ctypes; from epicscorelibs.path import get_lib; "
            "ctypes.CDLL(get_lib('ca')).caRepeaterThread(None)")
    import sys
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **EPICS_ENV},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(proc.kill)
    return proc


_repeater = _start_repeater()

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
        env: dict[str, str | None] | None = None,
        startup_timeout: float = 30.0,
        st_cmd: str | os.PathLike | None = None,
        argv: Sequence[str] | None = None,
        program: str | os.PathLike | None = None,
    ) -> None:
        """Generate an st.cmd from the arguments, or run the existing ``st_cmd`` (in ``cwd``),
        or run ``pydevIoc *argv`` (its command line, e.g. ``["-d", "x.db"]``)."""
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
        self.argv = list(argv) if argv is not None else None
        self.program = pathlib.Path(program) if program else IOC_BIN
        self.existing = st_cmd is not None or argv is not None
        if st_cmd is not None:
            self.st_cmd = pathlib.Path(st_cmd).resolve()
        else:
            self.st_cmd = tmp / "st.cmd"
            self.st_cmd.write_text("\n".join(lines) + "\n")
        self.cwd = str(cwd or tmp)
        self.extra_env = env or {}
        self.slot: int | None = None
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._marker = 0

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> "Ioc":
        if not self.program.exists():
            raise IocError(f"{self.program} is missing: run `make` first")
        with _slots_lock:
            if not _free_slots:
                raise IocError(f"more than {SLOTS} IOCs at once")
            self.slot = _free_slots.pop(0)
        env = {**os.environ, **server_env(self.slot), "PYTHONUNBUFFERED": "1", **self.extra_env}
        self.env = {k: v for k, v in env.items() if v is not None}  # env={"X": None} unsets X
        self.proc = subprocess.Popen(
            [str(self.program), *(self.argv if self.argv is not None else [str(self.st_cmd)])],
            cwd=self.cwd, env=self.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if self.existing:  # iocsh reads its standard input once the st.cmd is done
            self.proc.stdin.write(f"pydev(\"print('{_READY}')\")\n")
            self.proc.stdin.flush()
        if not self.wait_for(_READY, self.startup_timeout):  # scaled in wait_for
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
                self.proc.wait(timeout * TIME_SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)  # it ends at EOF, after the last lines
        with _slots_lock:
            if self.slot is not None:
                _free_slots.insert(0, self.slot)
                self.slot = None
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
        deadline = time.monotonic() + timeout * TIME_SCALE
        with self._cond:
            while text not in "".join(self._lines)[start:]:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc and self.proc.poll() is not None):
                    return text in "".join(self._lines)[start:]
                self._cond.wait(min(left, 0.1))
            return True

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
        # one string, one write: the IOC's other threads print too, between print()'s pieces
        out = self.cmd(f"pydev(\"print('<<< ' + repr({expr}) + ' >>>')\")", timeout)
        if "<<< " not in out:
            raise IocError(f"{expr} did not evaluate in the IOC:\n{out}")
        start = out.rindex("<<< ") + 4
        return ast.literal_eval(out[start : out.rindex(" >>>")])

    # -- Channel Access ----------------------------------------------------------------------
    def caget(self, pv: str, timeout: float = 5.0, **kw: Any) -> Any:
        """Read over CA; by default the value now (``use_monitor=False``)."""
        kw.setdefault("use_monitor", False)
        value = epics.caget(pv, timeout=timeout * TIME_SCALE, **kw)
        if value is None:
            raise IocError(f"caget {pv} failed; IOC console ends:\n{self.output[-1500:]}")
        return value

    def caput(self, pv: str, value: Any, wait: bool = True, timeout: float = 10.0) -> None:
        if epics.caput(pv, value, wait=wait, timeout=timeout * TIME_SCALE) != 1:
            raise IocError(f"caput {pv} {value!r} failed; IOC console ends:\n{self.output[-1500:]}")

    def alarm(self, pv: str) -> tuple[str, str, str]:
        """(STAT, SEVR, AMSG) as strings, read over CA."""
        stat = self.caget(pv + ".STAT")
        sevr = self.caget(pv + ".SEVR")
        return STAT_NAMES[stat], SEVR_NAMES[sevr], self.caget(pv + ".AMSG", as_string=True)


def poll(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Wait until ``predicate()`` is true; False on timeout."""
    deadline = time.monotonic() + timeout * TIME_SCALE
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
