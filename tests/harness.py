# SPDX-License-Identifier: BSD-3-Clause
"""Run a real ``pydevIoc`` for tests, and talk to it through Channel Access (pyepics).

Importing this module picks free CA and PVA ports on 127.0.0.1 for the whole pytest process
and sets the client environment (``EPICS_CA_AUTO_ADDR_LIST=NO``) before pyepics loads, so
tests never reach another IOC.  Up to ``SLOTS`` IOCs may run at once, each on its own ports.

Tests read like the tutorial: plain db text with ``$(P)``, loaded with ``P=`` a prefix of
its own for each IOC (``ioc.P``), so no two IOCs of a pytest process serve the same name (a
channel whose name an earlier IOC served would reconnect only after the client's search
back-off).  ``$(P)`` means that prefix in every text the harness takes: PV names, iocsh
lines, ``db_files`` macros and Python code.  Python runs through ``ioc.py`` and ``py=``,
written as in a .py file (the harness encodes it for iocsh; no quoting by the caller):

    DB = '''
    record(longin, "$(P)x") { field(DTYP, "pydev") field(INP, "@sink['x']") }
    record(ao, "$(P)y") { field(DTYP, "pydev") field(OUT, "@sink.__setitem__('y', VAL)") }
    '''
    with Ioc(DB, py="sink = {'x': 1}") as ioc:
        ioc.caput("$(P)x.PROC", 1)
        assert ioc.caget("$(P)x") == 1
        ioc.caput("$(P)y", 2)
        assert ioc.pyeval("sink['y']") == 2     # a Python value from the shared namespace
        ioc.py("print('hello')")                # returns "hello\n"; raises if the code raises
        ioc.cmd("dbgf $(P)x")                   # any iocsh command; returns its output
        assert poll(lambda: ioc.caget("$(P)x") == 1)   # the one way to wait (tests/polling.py)
"""
from __future__ import annotations

import ast
import atexit
import base64
import contextlib
import os
import pathlib
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Iterable, Iterator, Sequence, Union

from polling import TIME_SCALE, poll  # noqa: F401  (poll: the tests' one way to wait)

ROOT = pathlib.Path(__file__).resolve().parents[1]
_machine = platform.machine()
ARCH = f"{platform.system().lower()}-{'arm' if _machine.startswith('arm') else _machine}"
# the build under test: the source tree's (make build), or the tree of one Python of
# make test-pythons (PYDEV_TREE), which writes each Python's pydevIoc and libpydev apart
TREE = pathlib.Path(os.environ.get("PYDEV_TREE") or ROOT).resolve()
IOC_BIN = TREE / "bin" / ARCH / "pydevIoc"
DBD = TREE / "dbd" / "pydevIoc.dbd"
# the venv of the tests' clients: the one running them (make test-pythons runs each Python's
# suite from its own venv, whose interpreter may exist only where that suite runs)
VENV = pathlib.Path(sys.prefix) if sys.prefix != sys.base_prefix else ROOT / ".venv"


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
os.environ["PATH"] = str(VENV / "bin") + os.pathsep + os.environ.get("PATH", "")


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

from pydevice.clients import use_epicscorelibs_libca  # noqa: E402

use_epicscorelibs_libca()  # pyepics has no libca of its own for aarch64
import epics  # noqa: E402  (after the environment is set)


_READERS: dict[str, epics.PV] = {}


def _reader(name: str, timeout: float) -> epics.PV:
    """A PV without a monitor, for reads of the value now.  epics.caget's shared PV asks a
    get for as many elements as its monitor's last update carried, so right after a write of
    4 elements over 3 it can read the new values cut to 3 (seen once in CI)."""
    if name not in _READERS:
        _READERS[name] = epics.PV(name, auto_monitor=False, connection_timeout=timeout)
    _READERS[name].wait_for_connection(timeout)
    return _READERS[name]


_READY = "PYDEV-HARNESS-READY"
_RAISED = "PYDEV-HARNESS-RAISED "
_PROMPT = re.compile(r"(?:\x1b\[[0-9;]*m)?epics> (?:\x1b\[0m)?")  # iocsh's, amid the output
STAT_NAMES = ["NO_ALARM", "READ", "WRITE", "HIHI", "HIGH", "LOLO", "LOW", "STATE", "COS", "COMM",
              "TIMEOUT", "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT", "BAD_SUB", "UDF", "DISABLE",
              "SIMM", "READ_ACCESS", "WRITE_ACCESS"]
SEVR_NAMES = ["NO_ALARM", "MINOR", "MAJOR", "INVALID"]

DbFile = Union[str, os.PathLike, tuple[Union[str, os.PathLike], str]]


class IocError(RuntimeError):
    """The IOC failed to start, died, or did not answer."""


class IocPythonError(IocError):
    """Python code run by ``Ioc.py`` (or ``py=``) raised; the message is its traceback."""


def random_prefix() -> str:
    """A record name prefix no other IOC of this pytest process uses, e.g. ``T3f9a0c:``."""
    return f"T{os.urandom(3).hex()}:"


class Ioc:
    """A ``pydevIoc`` process running a generated st.cmd (or a given one), with its prefix.

    Thread safety: one test thread drives it (``cmd``/``py`` interleave otherwise); a reader
    thread collects the console, which ``output`` and ``wait_for`` read under its condition.
    """

    def __init__(
        self,
        db_text: str = "",
        *,
        py: str = "",
        pre_init: Iterable[str] = (),
        post_init: Iterable[str] = (),
        db_files: Sequence[DbFile] = (),
        prefix: str | None = None,
        cwd: str | os.PathLike | None = None,
        env: dict[str, str | None] | None = None,
        startup_timeout: float = 30.0,
        st_cmd: str | os.PathLike | None = None,
        argv: Sequence[str] | None = None,
        program: str | os.PathLike | None = None,
    ) -> None:
        """Generate an st.cmd from the arguments, or run the existing ``st_cmd`` (in ``cwd``),
        or run ``pydevIoc *argv`` (its command line, e.g. ``["-d", "x.db"]``).

        The generated st.cmd runs the ``pre_init`` iocsh lines, then the Python code ``py``,
        loads ``db_text`` and each of ``db_files`` (a path, loaded with ``P=$(P)``, or a pair
        (path, macros)), runs iocInit and the ``post_init`` lines.  ``$(P)`` in any of them is
        ``prefix``: by default a random one for this IOC (``argv`` may use it too, as in
        ``["-m", "P=$(P)", "-d", "x.db"]``); an IOC run from ``st_cmd`` serves the names its
        st.cmd gives, so ``$(P)`` means something there only if ``prefix`` names it.
        """
        self._dir = tempfile.TemporaryDirectory(prefix="pydev-test-")
        tmp = pathlib.Path(self._dir.name)
        self.existing = st_cmd is not None or argv is not None
        self.P: str | None = prefix if prefix is not None or st_cmd is not None else random_prefix()
        lines = [f'dbLoadDatabase("{DBD}")', "pydevIoc_registerRecordDeviceDriver(pdbbase)"]
        lines += [self.expand(line) for line in pre_init]
        if py:
            lines.append(self._pydev_line(py))
        if db_text:
            (tmp / "test.db").write_text(db_text)
            lines.append(f'dbLoadRecords("{tmp / "test.db"}", "P={self.P}")')
        for item in db_files:
            path, macros = item if isinstance(item, tuple) else (item, "P=$(P)")
            lines.append(f'dbLoadRecords("{path}", "{self.expand(macros)}")')
        lines.append("iocInit()")
        lines += [self.expand(line) for line in post_init]
        lines.append(f"pydev(\"print('{_READY}')\")")
        self.argv = (None if argv is None else
                     [self.expand(arg) if isinstance(arg, str) else arg for arg in argv])
        self.program = pathlib.Path(program) if program else IOC_BIN
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

    def expand(self, text: str) -> str:
        """``text`` with ``$(P)`` replaced by this IOC's prefix."""
        if "$(P)" not in text:
            return text
        if self.P is None:
            raise ValueError(f"{text!r} uses $(P), but this IOC was given no prefix "
                             "(Ioc(..., prefix='X:'))")
        return text.replace("$(P)", self.P)

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
        if _RAISED in self.output:  # the py= code raised
            out = self.output
            self.stop()
            raise IocPythonError(f"the py= code raised:\n{self._traceback(out)}\n{out}")
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
        text = self.expand(text)
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
        line = self.expand(line)
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

    # -- Python in the IOC -----------------------------------------------------------------
    def _pydev_line(self, code: str) -> str:
        """The iocsh line that runs ``code`` in the shared namespace.

        The code travels base64-encoded inside ``pydev("...")`` (no quotes, backslashes,
        newlines or ``$`` for iocsh to read, no file the IOC must see, so it also works for
        an IOC in a chroot), wrapped so that an exception prints its traceback in one marked
        line instead of failing the command: the harness tells it from printed text.
        """
        wrapper = ("try:\n"
                   f"    exec(compile({self.expand(code)!r}, '<ioc.py>', 'exec', dont_inherit=True),"
                   " globals())\n"
                   "except Exception:\n"
                   f"    print({_RAISED!r} + repr(__import__('traceback').format_exc()))\n")
        encoded = base64.b64encode(wrapper.encode()).decode("ascii")
        return f"pydev(\"exec(__import__('base64').b64decode('{encoded}').decode())\")"

    @staticmethod
    def _traceback(out: str) -> str:
        line = out[out.index(_RAISED) + len(_RAISED):].splitlines()[0]
        return ast.literal_eval(line)

    def py(self, code: str, timeout: float = 10.0) -> str:
        """Run Python ``code`` (any number of lines, quoted as in a .py file) in the IOC's
        shared namespace; return what it printed.  Raises IocPythonError with the traceback
        if the code raised."""
        out = _PROMPT.sub("", self.cmd(self._pydev_line(code), timeout))
        if _RAISED in out:
            raise IocPythonError(self._traceback(out))
        return out

    def pyeval(self, expr: str, timeout: float = 10.0) -> Any:
        """The value of a Python expression in the IOC's shared namespace (via repr)."""
        # one string, one write: the IOC's other threads print too, between print()'s pieces
        out = self.py(f"print('<<< ' + repr({expr}) + ' >>>')", timeout)
        if "<<< " not in out:
            raise IocError(f"{expr} did not evaluate in the IOC:\n{out}")
        start = out.rindex("<<< ") + 4
        return ast.literal_eval(out[start : out.rindex(" >>>")])

    # -- Channel Access ----------------------------------------------------------------------
    def caget(self, pv: str, timeout: float = 5.0, use_monitor: bool = False, **kw: Any) -> Any:
        """Read over CA; by default the value now (``use_monitor=False``)."""
        pv = self.expand(pv)
        if use_monitor:
            value = epics.caget(pv, timeout=timeout * TIME_SCALE, use_monitor=True, **kw)
        else:
            value = _reader(pv, timeout * TIME_SCALE).get(
                timeout=timeout * TIME_SCALE, use_monitor=False, **kw)
        if value is None:
            raise IocError(f"caget {pv} failed; IOC console ends:\n{self.output[-1500:]}")
        return value

    def caput(self, pv: str, value: Any, wait: bool = True, timeout: float = 10.0) -> None:
        """Write over CA; by default wait for the put-callback (processing done)."""
        pv = self.expand(pv)
        if epics.caput(pv, value, wait=wait, timeout=timeout * TIME_SCALE) != 1:
            raise IocError(f"caput {pv} {value!r} failed; IOC console ends:\n{self.output[-1500:]}")

    def pv(self, name: str, **kw: Any) -> epics.PV:
        """A pyepics PV (monitors, access rights, time stamps) for ``name``."""
        return epics.PV(self.expand(name), **kw)

    def alarm(self, pv: str) -> tuple[str, str, str]:
        """(STAT, SEVR, AMSG) as strings, read over CA."""
        stat = self.caget(pv + ".STAT")
        sevr = self.caget(pv + ".SEVR")
        return STAT_NAMES[stat], SEVR_NAMES[sevr], self.caget(pv + ".AMSG", as_string=True)
