# SPDX-License-Identifier: BSD-3-Clause
"""The systemd unit's command, run as systemd would run it, serves the IOC and stops it in order.

systemd itself is not available in a test, so this takes ExecStart from
tools/systemd/pydevioc@.service, fills in %i and the EnvironmentFile's variables, runs it,
and sends KillSignal to it as `systemctl stop` does.  The IOC runs longer than procServ's
--holdoff first, as on a board: procServ restarts a child that ran that long at once.
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import time

import pytest

from harness import DBD, IOC_BIN, ROOT, poll, reserved_server_env

UNIT = ROOT / "tools" / "systemd" / "pydevioc@.service"


def _unit() -> dict[str, str]:
    text = UNIT.read_text().replace("\\\n", " ")
    return dict(re.findall(r"^(\w+)=(.*)$", text, re.M))


@pytest.mark.skipif(not shutil.which("procServ"), reason="procServ is not installed "
                    "(Debian: apt-get install procserv); the unit runs the IOC under it")
def test_the_unit_serves_the_ioc_and_sigterm_runs_the_orderly_exit(tmp_path):
    unit = _unit()
    assert unit["KillSignal"] == "SIGTERM" and unit["Restart"] == "on-failure"
    (tmp_path / "st.cmd").write_text(
        f'dbLoadDatabase("{DBD}")\npydevIoc_registerRecordDeviceDriver(pdbbase)\n'
        'pydev("import atexit; atexit.register(lambda: open(\'exited\', \'w\').write(\'yes\'))")\n'
        'pydev("open(\'starts\', \'a\').write(\'+\')")\n'           # one + per start
        'dbLoadRecords("svc.db")\niocInit()\n')
    (tmp_path / "svc.db").write_text('record(ai, "SVC:x") { field(DTYP, "pydev") field(INP, "@6 * 7") field(PINI, "YES") }\n')
    conf = {"IOC_DIR": str(tmp_path), "PYDEVIOC": str(IOC_BIN)}
    command = unit["ExecStart"].replace("%i", "svctest").replace("/run/pydevioc", str(tmp_path))
    argv = [re.sub(r"\$\{(\w+)\}", lambda m: conf[m.group(1)], word) for word in shlex.split(command)]
    with reserved_server_env() as server:
        proc = subprocess.Popen(argv, env={**os.environ, **server}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            import epics
            started = time.monotonic()
            assert poll(lambda: epics.caget("SVC:x", timeout=1) == 42.0, timeout=20)
            assert (tmp_path / "svctest.sock").exists()          # the console socket
            holdoff = float(re.search(r"--holdoff[= ](\d+)", unit["ExecStart"]).group(1))
            time.sleep(max(0.0, holdoff + 1 - (time.monotonic() - started)))
            # systemctl stop: ExecStop (with $MAINPID), then KillSignal to what is left
            start = time.monotonic()
            stop = shlex.split(unit["ExecStop"])
            subprocess.run(stop, env={**os.environ, "MAINPID": str(proc.pid)},
                           timeout=float(unit["TimeoutStopSec"]), check=True)
            assert (tmp_path / "exited").exists(), "the IOC did not run its exit handlers"
            proc.send_signal(getattr(signal, unit["KillSignal"]))
            proc.wait(float(unit["TimeoutStopSec"]))
            print(f"service stop: {time.monotonic() - start:.2f} s")
            assert (tmp_path / "starts").read_text() == "+", "procServ started the IOC again"
        finally:
            if proc.poll() is None:
                proc.kill()
