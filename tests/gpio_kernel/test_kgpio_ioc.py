# SPDX-License-Identifier: BSD-3-Clause
"""A real pydevIoc in the guest: records on gpio-sim lines, checked over Channel Access."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
import time

import pytest

harness = pytest.importorskip("harness")
if not harness.IOC_BIN.exists():
    pytest.skip(f"{harness.IOC_BIN} not built (run make)", allow_module_level=True)

from harness import IocError, Ioc, poll  # noqa: E402
from pydevice.gpio import Device  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
GPIO = "from pydevice import gpio"  # what the st.cmd of a GPIO IOC runs first


def gen_db(sim, path: pathlib.Path) -> str:
    """Run the database generator the way a user does (names start with $(P), its default)."""
    out = subprocess.run(
        [sys.executable, "-m", "pydevice.gpio", "db", "--chip", sim.name,
         "--lines", "GPIO17,GPIO27,GPIO22", "--outputs", "GPIO27", "-o", str(path)],
        cwd=str(REPO / "python"), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return path.read_text()


EXTRA = """
record(bi, "$(P)Bad") {
    field(DTYP, "pydev")
    field(INP, "@gpio.chip('%(chip)s').get('NOPE')")
}
record(bi, "$(P)NoChip") {
    field(DTYP, "pydev")
    field(INP, "@gpio.chip('gpiochip99').get(0)")
}
record(bi, "$(P)GPIO4") {
    field(DTYP, "pydev")
    field(INP, "@gpio.chip('%(chip)s').get('GPIO4')")
}
"""


def stamp(ioc: Ioc, pv: str) -> float:
    p = ioc.pv(pv, form="time", auto_monitor=False)
    md = p.get_with_metadata(use_monitor=False, timeout=5)
    p.disconnect()
    assert md is not None, pv
    return md["timestamp"]


def test_ioc_follows_and_drives_gpio_lines(sim):
    sim.pull(0, 0)
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "gpio.db"
        text = gen_db(sim, db)
        assert 'record(bo, "$(P)GPIO27")' in text and 'record(bi, "$(P)GPIO17")' in text
        with Device(sim.name) as dev, dev.request(2, consumer="other-app"):
            # GPIO22 is busy for the whole IOC run: only its records may fail
            with Ioc(EXTRA % {"chip": sim.name}, db_files=[db], py=GPIO) as ioc:
                # initial state arrives through the Sync record once the IOC runs
                assert poll(lambda: ioc.caget("$(P)GPIO17.UDF") == 0, 10), ioc.output
                assert ioc.caget("$(P)GPIO17") == 0

                # bi follows the simulated input, TIME = the kernel's edge timestamp
                t0 = time.time()
                sim.pull(0, 1)
                assert poll(lambda: ioc.caget("$(P)GPIO17") == 1, 10), ioc.output
                ts = stamp(ioc, "$(P)GPIO17")
                assert t0 - 0.5 < ts < time.time() + 0.5
                assert poll(lambda: ioc.caget("$(P)GPIO17:Count") == 1, 5)
                sim.pull(0, 0)
                assert poll(lambda: ioc.caget("$(P)GPIO17") == 0, 10)
                for i in range(10):  # each edge seen by the bi before the next
                    sim.pull(0, (i + 1) % 2)
                    assert poll(lambda: ioc.caget("$(P)GPIO17") == (i + 1) % 2, 10)
                assert poll(lambda: ioc.caget("$(P)GPIO17:Count") == 6, 10), \
                    ioc.caget("$(P)GPIO17:Count")
                assert ioc.caget("$(P)GPIO17:Lost") == 0

                # bo drives the simulated line (PINI drove it to 0 at start)
                assert sim.level(1) == 0
                ioc.caput("$(P)GPIO27", 1, wait=True)
                assert sim.wait_level(1, 1) == 1
                ioc.caput("$(P)GPIO27", 0, wait=True)
                assert sim.wait_level(1, 0) == 0

                # a periodic-free input record reads its line when processed
                sim.pull(3, 1)
                ioc.caput("$(P)GPIO4.PROC", 1, wait=True)
                assert ioc.caget("$(P)GPIO4") == 1

                # errors: clear, and only the affected records
                for pv in ("Bad", "NoChip"):
                    ioc.caput(f"$(P){pv}.PROC", 1, wait=True)
                stat, sevr, amsg = ioc.alarm("$(P)Bad")
                assert sevr == "INVALID" and "no line named 'NOPE'" in amsg, amsg
                stat, sevr, amsg = ioc.alarm("$(P)NoChip")
                assert sevr == "INVALID" and "gpiochip99" in amsg, amsg
                assert poll(lambda: ioc.alarm("$(P)GPIO22")[1] == "INVALID", 10)
                amsg = ioc.alarm("$(P)GPIO22")[2]
                assert "line 2 (GPIO22) is in use by" in amsg, amsg
                assert ioc.alarm("$(P)GPIO22:Count")[1] == "INVALID"
                assert ioc.alarm("$(P)GPIO17")[1] == "NO_ALARM"
                assert "other-app" in ioc.output  # the full message is on the console
            # IOC exit: every line released, the output at its defined (safe) state
            info = dev.get_info().lines
            assert not info[0].used and not info[1].used


def test_ioc_count_survives_kernel_buffer_overflow(sim, tmp_path):
    """Edges faster than the reader: the kernel drops events, the :Count record does not."""
    db = tmp_path / "gpio.db"
    with Device(sim.name) as dev:
        infos = dev.get_info().lines
    from pydevice.gpio.dbgen import generate_db
    db.write_text(generate_db(sim.name, infos, lines=["GPIO17"], count="both"))
    sim.pull(0, 0)
    with Ioc(db_files=[db], py=f"{GPIO}\ngpio.chip({sim.name!r}).event_buffer_size = 2") as ioc:
        assert poll(lambda: ioc.caget("$(P)GPIO17.UDF") == 0, 10), ioc.output
        # hold the IOC's reader thread off for 2 s (it takes the line's lock to read)
        ioc.py(f"""
import threading, time
_ln = gpio.chip({sim.name!r})._lines[0]
threading.Thread(target=lambda: (_ln.lock.acquire(), time.sleep(2), _ln.lock.release())).start()
""")
        for i in range(30):
            sim.pull(0, (i + 1) % 2)
            time.sleep(0.01)
        seqno = f"gpio.chip('{sim.name}').counts('GPIO17').last_seqno"

        def seqno_now() -> int:
            try:
                return ioc.pyeval(seqno)
            except IocError:  # the line may not be registered yet on a loaded emulator
                return -1
        assert poll(lambda: seqno_now() > 2, 10), ioc.output[-2000:]
        time.sleep(0.5)
        seen = ioc.pyeval(seqno)
        assert poll(lambda: ioc.caget("$(P)GPIO17:Count") == seen, 10), \
            (ioc.caget("$(P)GPIO17:Count"), seen)
        assert ioc.caget("$(P)GPIO17:Lost") > 0  # the kernel did drop events
        assert poll(lambda: ioc.caget("$(P)GPIO17") == 0, 5)  # the line ended low


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_ioc_in_order_releasing_every_line(sim, signame):
    """systemd/procServ (SIGTERM) and Ctrl-C (SIGINT) run the same exit as `exit`: the gpio
    module's exit handler sets outputs to their safe value and releases the lines."""
    import signal
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "gpio.db"
        gen_db(sim, db)
        with Device(sim.name) as dev:
            ioc = Ioc(db_files=[db], py=GPIO)
            with ioc:
                assert poll(lambda: ioc.caget("$(P)GPIO17.UDF") == 0, 10), ioc.output
                ioc.caput("$(P)GPIO27", 1, wait=True)
                assert sim.wait_level(1, 1) == 1
                assert dev.get_info().lines[1].used
                ioc.proc.send_signal(getattr(signal, signame))
                assert ioc.proc.wait(15) == 0, ioc.output[-2000:]
            info = dev.get_info().lines
            assert not info[0].used and not info[1].used and not info[2].used


def test_input_record_shows_the_in_use_alarm_and_leaves_it_once_sync_got_the_line(sim, tmp_path):
    """Issue 14.3: GPIO17 busy at start, released later: the input record itself shows
    "in use" (COMM/INVALID) and leaves the alarm once sync() requested the line."""
    from pydevice.gpio.dbgen import generate_db
    db = tmp_path / "gpio.db"
    with Device(sim.name) as dev:
        db.write_text(generate_db(sim.name, dev.get_info().lines, lines=["GPIO17"]))
        other = dev.request(0, consumer="other-app")
        other.open()
        try:
            with Ioc(db_files=[db], py=GPIO) as ioc:
                # UDF/INVALID until the first Sync pushes the line's trouble
                assert poll(lambda: ioc.alarm("$(P)GPIO17")[:2] == ("COMM", "INVALID"), 10), \
                    ioc.alarm("$(P)GPIO17")
                assert "in use" in ioc.alarm("$(P)GPIO17")[2]
                other.close()
                assert poll(lambda: ioc.alarm("$(P)GPIO17")[1] == "NO_ALARM", 15), \
                    ioc.alarm("$(P)GPIO17")
                sim.pull(0, 1)
                assert poll(lambda: ioc.caget("$(P)GPIO17") == 1, 10)
        finally:
            other.close()


def test_input_record_shows_a_vanished_chip_once_and_recovers(sim, tmp_path):
    """Issue 14.1 with records: the chip goes away (driver unbound) while the IOC runs; the
    input record goes COMM/INVALID, the console says so once, and when the chip is back
    the record follows its line again."""
    from pydevice.gpio.dbgen import generate_db
    db = tmp_path / "gpio.db"
    with Device(sim.name) as dev:
        db.write_text(generate_db(sim.name, dev.get_info().lines, lines=["GPIO17"]))
    sim.pull(0, 0)
    with Ioc(db_files=[db], py=GPIO) as ioc:
        assert poll(lambda: ioc.caget("$(P)GPIO17.UDF") == 0, 10), ioc.output
        sim.set_live(False)
        assert poll(lambda: ioc.alarm("$(P)GPIO17")[:2] == ("COMM", "INVALID"), 10), \
            ioc.alarm("$(P)GPIO17")
        time.sleep(3)  # a few Sync periods with the chip gone
        assert ioc.output.count("is gone") <= 2, ioc.output[-2000:]
        sim.set_live(True)
        if sim.name not in db.read_text():
            pytest.skip(f"kernel renumbered the chip (now {sim.name})")
        assert poll(lambda: ioc.alarm("$(P)GPIO17")[1] == "NO_ALARM", 15), ioc.alarm("$(P)GPIO17")
        sim.pull(0, 1)
        assert poll(lambda: ioc.caget("$(P)GPIO17") == 1, 10), ioc.output[-2000:]


def test_demo_ioc_follows_its_input_and_drives_its_output(sim):
    """iocBoot/iocgpio/st.cmd as a user runs it, on the simulated chip."""
    boot = REPO / "iocBoot" / "iocgpio"
    sim.pull(0, 0)
    with Ioc(st_cmd=boot / "st.cmd", cwd=boot, env={"GPIO_CHIP": sim.name}) as ioc:
        assert poll(lambda: ioc.caget("Demo:GPIO17.UDF") == 0, 10), ioc.output
        sim.pull(0, 1)
        assert poll(lambda: ioc.caget("Demo:GPIO17") == 1, 10), ioc.output[-2000:]
        assert poll(lambda: ioc.caget("Demo:GPIO17:Count") == 1, 10)
        ioc.caput("Demo:GPIO27", 1, wait=True)
        assert sim.wait_level(1, 1) == 1
        assert ioc.alarm("Demo:GPIO17")[1] == "NO_ALARM"


def _gpio_value_trace() -> pathlib.Path | None:
    """The kernel's gpio_value tracepoint (ftrace), mounting tracefs if needed; None if absent."""
    for root in (pathlib.Path("/sys/kernel/tracing"), pathlib.Path("/sys/kernel/debug/tracing")):
        if not (root / "events").exists():
            subprocess.run(["mount", "-t", "tracefs", "nodev", str(root)], capture_output=True)
        if (root / "events" / "gpio" / "gpio_value" / "enable").exists():
            return root
    return None


def test_sigterm_sets_outputs_to_their_safe_value_before_releasing(sim):
    """Issue 8.1 (GPIO part): SIGTERM to a running GPIO IOC drives every output to its safe
    value before the line is released.  gpio-sim puts a released line back to its pull, so
    the level after exit proves nothing: the kernel's gpio_value trace shows what was set."""
    import re
    import signal
    tracing = _gpio_value_trace()
    if tracing is None:
        pytest.skip("kernel has no gpio_value tracepoint")
    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "gpio.db"
        gen_db(sim, db)
        ioc = Ioc(db_files=[db], py=GPIO)
        with ioc:
            assert poll(lambda: ioc.caget("$(P)GPIO17.UDF") == 0, 10), ioc.output
            ioc.caput("$(P)GPIO27", 1, wait=True)
            assert sim.wait_level(1, 1) == 1
            (tracing / "trace").write_text("")
            (tracing / "events" / "gpio" / "gpio_value" / "enable").write_text("1")
            try:
                ioc.proc.send_signal(signal.SIGTERM)
                assert ioc.proc.wait(15) == 0, ioc.output[-2000:]
            finally:
                (tracing / "events" / "gpio" / "gpio_value" / "enable").write_text("0")
        sets = re.findall(r"gpio_value: (\d+) set (\d)", (tracing / "trace").read_text())
    assert [v for _, v in sets] == ["0"], sets  # GPIO27 (safe 0) set once, to 0, at exit
    with Device(sim.name) as dev:
        assert not any(li.used for li in dev.get_info().lines[:3])
