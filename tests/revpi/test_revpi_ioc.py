# SPDX-License-Identifier: BSD-3-Clause
"""pydevice.revpi end to end: a real pydevIoc, Channel Access, revpimodio2 on both sides.

The IOC owns a file-backed process image; a second process (tests/revpi/stimulus.py,
RevPiModIO in simulator mode) writes inputs as the field would, and an independent
RevPiModIO reads back what the IOC's outputs did to the image.
"""
from __future__ import annotations

import math
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

harness = pytest.importorskip("harness")
from harness import IOC_BIN, Ioc, poll  # noqa: E402
from revpi_helpers import demo_files  # noqa: E402

import revpimodio2  # noqa: E402

if not IOC_BIN.exists():
    pytest.skip(f"{IOC_BIN} not built (run make)", allow_module_level=True)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CYCLE_MS = 100
EXTRA_DB = """
record(longin, "$(P)Cycle") {
    field(DTYP, "pydev") field(SCAN, "I/O Intr") field(MDEL, "-1")
    field(INP, "@pydev.iointr('revpi:cycle')")
}
record(bi, "$(P)I_6:Rising") {
    field(DTYP, "pydev") field(SCAN, "I/O Intr")
    field(INP, "@pydev.iointr('revpi:I_6:rising')")
}
record(longin, "$(P)Bogus") {
    field(DTYP, "pydev") field(SCAN, "I/O Intr")
    field(INP, "@pydev.iointr('revpi:NoSuchInput')")
}
record(longin, "$(P)BogusAtInit") {
    field(DTYP, "pydev") field(SCAN, "I/O Intr")
    field(INP, "@pydev.iointr(rpi.watch('NoSuchInput'))")
}
record(longin, "$(P)BogusPolled") {
    field(DTYP, "pydev") field(PINI, "YES")
    field(INP, "@rpi.read('NoSuchInput')")
}
record(longin, "$(P)InputValue_2:Polled") {
    field(DTYP, "pydev")
    field(INP, "@rpi.read('InputValue_2')")
}
"""


def generate_db(files) -> Path:
    out = Path(files["dir"]) / "revpi.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", files["configrsc"],
                    "--replace-io-file", files["replace_io_file"], "-o", str(out)],
                   check=True, env=env, timeout=60)
    return out


def open_image(files, **options) -> str:
    """The st.cmd's Python: the IOC owns the image (revpi.open on these files)."""
    args = "".join(f", {k}={v!r}" for k, v in options.items())
    return ("import time\nfrom pydevice import revpi\n"
            f"rpi = revpi.open(procimg={files['procimg']!r}, configrsc={files['configrsc']!r}, "
            f"replace_io_file={files['replace_io_file']!r}{args})\n")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    files = demo_files(tmp_path_factory.mktemp("revpi-ioc"))
    extra = Path(files["dir"]) / "extra.db"
    extra.write_text(EXTRA_DB)
    files["db"] = generate_db(files)
    # a test makes writes fail with RLIMIT_FSIZE: an error to handle, not a signal to die of
    py = "import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
    with Ioc(py=py + open_image(files, cycletime=CYCLE_MS), db_files=[files["db"], extra],
             cwd=files["dir"]) as ioc:
        files["ioc"] = ioc
        yield files


def stimulate(files, **values) -> float:
    """Write inputs from another process; returns the POSIX time of the write."""
    args = [f"{k}={v!r}" for k, v in values.items()]
    out = subprocess.run([sys.executable, str(HERE / "stimulus.py"), files["procimg"],
                          files["configrsc"], files["replace_io_file"] or "", *args],
                         check=True, capture_output=True, text=True, timeout=60)
    return float(out.stdout.strip().splitlines()[-1])


def readback(files) -> revpimodio2.RevPiModIO:
    modio = revpimodio2.RevPiModIO(procimg=files["procimg"], configrsc=files["configrsc"],
                                   replace_io_file=files["replace_io_file"], monitoring=True,
                                   debug=False)
    return modio


def db_inputs(text: str) -> dict[str, tuple[str, str]]:
    """record name ($(P)...) -> (record type, IO name) for the generated I/O Intr input records."""
    found = {}
    for m in re.finditer(r'record\((\w+), "([^"]+)"\) \{(.*?)\n\}', text, re.S):
        io = re.search(r"pydev\.iointr\(rpi\.watch\('([^']+)'\)\)", m.group(3))
        if io:
            found[m.group(2)] = (m.group(1), io.group(1))
    return found


# ------------------------------------------------------------------------------ tests
def test_generated_database_loads_cleanly(setup):
    ioc, text = setup["ioc"], setup["db"].read_text()
    records = re.findall(r'^record\(\w+, "([^"]+)"\)', text, re.M)
    listed = re.sub(r"\x1b\[[0-9;]*m|epics> ", " ", ioc.cmd("dbl")).split()
    for name in records:
        assert ioc.expand(name) in listed
    start = ioc.output.index("iocInit")
    before_init = ioc.output[:start]
    assert "Error" not in before_init and "error" not in before_init.lower().replace(
        "ioerrors", ""), before_init
    assert "disabled" not in ioc.output.lower()


def test_caput_outputs_reach_the_image(setup):
    ioc = setup["ioc"]
    ioc.caput("$(P)O_2", 1)
    ioc.caput("$(P)OutputValue_1", -1234)
    ioc.caput("$(P)Setpoint", 2.5)
    ioc.caput("$(P)Trim", -300)
    ioc.caput("$(P)Recipe", "MIX-7")
    ioc.caput("$(P)Core:LED:A1", 1)
    modio = readback(setup)

    def landed():
        modio.readprocimg()
        io = modio.io
        return (io.O_2.value is True and io.O_1.value is False
                and io.OutputValue_1.value == -1234 and io.Setpoint.value == 2.5
                and io.Trim.value == -300 and io.Recipe.value == b"MIX-7\0\0\0"
                and modio.core.A1 == 1)
    assert poll(landed, timeout=5), "outputs did not reach the process image"
    with open(setup["procimg"], "rb") as fh:
        fh.seek(modio.io.O_2.address)
        assert fh.read(1)[0] & 0b10
    modio.cleanup()
    ioc.caput("$(P)O_2", 0)
    assert ioc.alarm("$(P)O_2")[:2] == ("NO_ALARM", "NO_ALARM")


def test_an_out_of_range_output_alarms_and_changes_nothing(setup):
    ioc = setup["ioc"]
    # display limits show the range; no drive limits, which would clamp silently
    assert (ioc.caget("$(P)OutputValue_2.LOPR"), ioc.caget("$(P)OutputValue_2.HOPR")) == (-32768, 32767)
    assert (ioc.caget("$(P)OutputValue_2.DRVL"), ioc.caget("$(P)OutputValue_2.DRVH")) == (0, 0)
    ioc.caput("$(P)OutputValue_2", 1000)
    modio = readback(setup)

    def image_value():
        modio.readprocimg()
        return modio.io.OutputValue_2.value
    assert poll(lambda: image_value() == 1000, timeout=5)
    ioc.caput("$(P)OutputValue_2", 40000)
    stat, sevr, amsg = ioc.alarm("$(P)OutputValue_2")
    assert (stat, sevr) == ("WRITE", "INVALID") and amsg.startswith("40000 not in -32768..32767 for IO"), amsg
    time.sleep(3 * CYCLE_MS / 1000)
    assert image_value() == 1000      # not 0x7FFF: the image keeps the last good value
    modio.cleanup()


def test_io_intr_monitor_updates_within_two_cycles(setup):
    ioc = setup["ioc"]
    stimulate(setup, I_5=0)
    assert poll(lambda: ioc.caget("$(P)I_5") == 0, timeout=5)
    seen: list[tuple[float, int]] = []
    event = threading.Event()

    def on_update(value=None, **_):
        seen.append((time.time(), value))
        if value == 1:
            event.set()
    pv = ioc.pv("$(P)I_5", callback=on_update, auto_monitor=True)
    assert pv.wait_for_connection(5)
    time.sleep(0.3)
    written = stimulate(setup, I_5=1)
    assert event.wait(5), f"no monitor update for I_5: {seen}"
    latency = next(t for t, v in seen if v == 1) - written
    pv.clear_callbacks()
    pv.disconnect()
    assert latency < 2 * CYCLE_MS / 1000, f"monitor came {latency * 1000:.0f} ms after the write"


def test_the_cycle_counter_counts_cycles_and_a_rising_edge_record_waits_for_the_edge(setup):
    ioc = setup["ioc"]
    stimulate(setup, I_6=0)
    first = ioc.caget("$(P)Cycle")
    time.sleep(1.0)
    cycles = ioc.caget("$(P)Cycle") - first
    assert 0.5 * 1000 / CYCLE_MS <= cycles <= 1.5 * 1000 / CYCLE_MS + 2
    assert ioc.caget("$(P)I_6:Rising.UDF") == 1  # no rising edge yet
    stimulate(setup, I_6=1)
    assert poll(lambda: ioc.caget("$(P)I_6:Rising") == 1, timeout=5)


def test_every_input_record_reads_what_revpimodio2_reads(setup):
    ioc = setup["ioc"]
    stim = dict(I_1=1, I_4=1, I_16=1, Status=0x8002, Counter_3=3_000_000_000,
                InputValue_1=-12000, InputValue_4=7, RTDValue_2=2345, Flow=3.25,
                Offset=-2, PumpRunning=1, DoorOpen=0, BatchId="LOT42", Input_17=99,
                Input_32=255, Core_Temperature=52, Core_Frequency=150, RevPiStatus=0b1000001)
    stimulate(setup, **stim)
    modio = readback(setup)
    inputs = db_inputs(setup["db"].read_text())
    assert len(inputs) > 40

    def expected(io_name):
        modio.readprocimg()
        if io_name.startswith("core."):
            value = getattr(modio.core, io_name[5:])
            return value.value if hasattr(value, "value") else value
        if io_name == "modio.ioerrors":
            return None
        value = getattr(modio.io, io_name).value
        return value.rstrip(b"\0").decode() if isinstance(value, bytes) else value

    def all_match():
        bad = []
        for pv, (rtype, io_name) in inputs.items():
            want = expected(io_name)
            if want is None:
                continue
            got = ioc.caget(pv)
            same = math.isclose(got, want, rel_tol=1e-6) if isinstance(want, float) else got == want
            if not same:
                bad.append((pv, rtype, got, want))
        return bad
    assert poll(lambda: not all_match(), timeout=5), all_match()  # I/O Intr updates may be on their way
    assert ioc.caget("$(P)Flow") == pytest.approx(3.25)
    assert ioc.caget("$(P)Core:Frequency") == 1500
    assert ioc.caget("$(P)Core:Status") == 0b1000001 and ioc.caget("$(P)Core:X2In") == 1
    modio.cleanup()


def test_unknown_io_names_alarm_their_records(setup):
    ioc = setup["ioc"]
    stat, sevr, amsg = ioc.alarm("$(P)Bogus")
    assert sevr == "INVALID" and "NoSuchInput" in amsg, (stat, sevr, amsg)
    stat, sevr, amsg = ioc.alarm("$(P)BogusPolled")
    assert sevr == "INVALID" and "no IO 'NoSuchInput'" in amsg, (stat, sevr, amsg)
    assert f"{ioc.P}Bogus: no IO 'NoSuchInput'" in ioc.output


def test_unknown_io_in_a_watch_link_disables_the_record_at_init(setup):
    ioc = setup["ioc"]
    out = ioc.output
    assert f"pydev: {ioc.P}BogusAtInit: @" in out and "IoNotFoundError: " in out and "NoSuchInput" in out
    assert out.index(f"{ioc.P}BogusAtInit: @") < out.index("iocRun: All initialization complete")
    stat, sevr, amsg = ioc.alarm("$(P)BogusAtInit")
    assert (stat, sevr) == ("UDF", "INVALID") and "NoSuchInput" in amsg, (stat, sevr, amsg)


def test_io_errors_alarm_records_and_recover(setup):
    ioc = setup["ioc"]
    pid = ioc.proc.pid
    assert ioc.caget("$(P)IoErrors") == 0
    limits = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, limits[1]))  # writes now fail: EFBIG
    try:
        assert poll(lambda: ioc.alarm("$(P)I_1")[1] == "INVALID", timeout=5)
        stat, sevr, amsg = ioc.alarm("$(P)I_1")
        assert (stat, sevr) == ("COMM", "INVALID") and "I/O error on process image" in amsg
        assert ioc.alarm("$(P)Core:Temperature")[:2] == ("COMM", "INVALID")
        assert poll(lambda: ioc.caget("$(P)IoErrors") > 2, timeout=5)
        ioc.caput("$(P)InputValue_2:Polled.PROC", 1)
        assert ioc.alarm("$(P)InputValue_2:Polled")[:2] == ("COMM", "INVALID")
        ioc.caput("$(P)O_3", 1, wait=True)
        assert ioc.alarm("$(P)O_3")[:2] == ("COMM", "INVALID")
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, limits)
    assert poll(lambda: ioc.alarm("$(P)I_1")[1] == "NO_ALARM", timeout=5), ioc.alarm("$(P)I_1")
    assert ioc.alarm("$(P)Core:Temperature")[1] == "NO_ALARM"
    modio = readback(setup)
    assert poll(lambda: modio.readprocimg() and modio.io.O_3.value is True, timeout=5)
    modio.cleanup()
    ioc.caput("$(P)ResetIoErrors", 1)
    assert poll(lambda: ioc.caget("$(P)IoErrors") == 0, timeout=5)


def test_missing_process_image_fails_at_st_cmd_naming_the_path(tmp_path):
    missing = tmp_path / "nope" / "procimg.bin"
    config = demo_files(tmp_path)["configrsc"]
    # each as the one line of an st.cmd: the IOC runs on, and the console says what is missing
    pre = ['pydev("from pydevice import revpi")',
           f'pydev("rpi = revpi.open(procimg=\'{missing}\', configrsc=\'{config}\')")',
           f'pydev("rpi2 = revpi.open(configrsc=\'{tmp_path / "none.rsc"}\', procimg=\'{config}\')")']
    with Ioc(pre_init=pre) as ioc:
        out = ioc.output
    assert f"process image {missing} does not exist" in out
    assert f"piCtory configuration {tmp_path / 'none.rsc'} does not exist" in out


ENDS_DB = """
record(bo, "$(P)O_5") { field(DTYP, "pydev") field(OUT, "@rpi.write('O_5', VAL)") }
record(longout, "$(P)OutputValue_1") { field(DTYP, "pydev") field(OUT, "@rpi.write('OutputValue_1', VAL)") }
record(ao, "$(P)busy0") { field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }
record(ao, "$(P)busy1") { field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }
record(ao, "$(P)busy2") { field(DTYP, "pydev") field(OUT, "@time.sleep(VAL)") }
"""


@pytest.mark.parametrize("how", ["exit", "SIGTERM", "SIGINT", "SIGTERM-busy"])
def test_every_way_the_ioc_ends_leaves_outputs_at_piCtory_defaults(tmp_path, how):
    files = {**demo_files(tmp_path), "replace_io_file": None}
    os.remove(files["procimg"])  # create=True makes it
    with Ioc(ENDS_DB, py=open_image(files, create=True, cycletime=20)) as ioc:
        ioc.caput("$(P)O_5", 1)
        ioc.caput("$(P)OutputValue_1", 77)
        modio = readback(files)
        assert poll(lambda: modio.readprocimg() and modio.io.O_5.value is True
                    and modio.io.OutputValue_1.value == 77, timeout=5)
        modio.cleanup()
        if how.endswith("busy"):
            for i in range(3):
                ioc.caput(f"$(P)busy{i}", 600, wait=False)
            assert poll(lambda: ioc.caget("$(P)busy2.PACT") == 1)
        start = time.monotonic()
        if how == "exit":
            ioc.proc.stdin.write("exit\n")
            ioc.proc.stdin.flush()
        else:
            ioc.proc.send_signal(getattr(signal, how.split("-")[0]))
        assert ioc.proc.wait(15) == 0
        print(f"revpi IOC ended by {how} in {time.monotonic() - start:.2f} s")
    modio = readback(files)
    modio.readprocimg()
    # atexit set the piCtory defaults (0 for both in this configuration)
    assert modio.io.O_5.value is False and modio.io.OutputValue_1.value == 0
    modio.cleanup()


def test_a_shared_procimg_ioc_keeps_the_outputs_of_another_program(tmp_path):
    files = {**demo_files(tmp_path), "replace_io_file": None}
    db = """
record(bo, "$(P)O_1") { field(DTYP, "pydev") field(OUT, "@rpi.write('O_1', VAL)") }
record(bi, "$(P)O_2") { field(DTYP, "pydev") field(SCAN, "I/O Intr") field(INP, "@pydev.iointr('revpi:O_2')") }
"""
    with Ioc(db, py=open_image(files, shared_procimg=True, cycletime=20)) as ioc:
        other = f"""
import revpimodio2
m = revpimodio2.RevPiModIO(procimg={files['procimg']!r}, configrsc={files['configrsc']!r},
                           shared_procimg=True, debug=False)
m.io.O_2.value = True
assert m.writeprocimg()
"""
        subprocess.run([sys.executable, "-c", other], check=True, timeout=60)
        # shared: the IOC reads outputs too, so it sees the other program's O_2 ...
        assert poll(lambda: ioc.caget("$(P)O_2") == 1, timeout=5)
        ioc.caput("$(P)O_1", 1)
        modio = readback(files)
        assert poll(lambda: modio.readprocimg() and modio.io.O_1.value is True, timeout=5)
        time.sleep(0.2)  # ten more refresh cycles
        modio.readprocimg()
        assert modio.io.O_2.value is True  # ... and never writes it back to 0
        modio.cleanup()
    # at exit only what the IOC wrote returns to its piCtory default
    modio = readback(files)
    modio.readprocimg()
    assert modio.io.O_1.value is False and modio.io.O_2.value is True
    modio.cleanup()


def test_generated_outputs_start_with_the_values_in_the_process_image(tmp_path):
    """EPICS' readback at init (info(pydev:init)): every generated output record starts with
    what the image holds when the IOC starts - here written by revpimodio2 beforehand - with
    no alarm, instead of UDF/INVALID until a client writes it."""
    files = demo_files(tmp_path)
    db = generate_db(files)
    before = revpimodio2.RevPiModIO(procimg=files["procimg"], configrsc=files["configrsc"],
                                    replace_io_file=files["replace_io_file"], debug=False)
    before.io.O_2.value = True
    before.io.OutputValue_1.value = -1234
    before.io.Setpoint.value = 2.5
    before.io.Trim.value = -300
    before.io.Recipe.value = b"MIX-7\0\0\0"
    before.core.A1 = 2  # red
    assert before.writeprocimg()
    before.cleanup()
    outputs = re.findall(r'^record\(\w+, "([^"]+)"\) \{[^}]*info\(pydev:init', db.read_text(),
                         re.M)
    assert len(outputs) > 40  # every output of the demo configuration, LEDs included
    with Ioc(py=open_image(files, cycletime=CYCLE_MS), db_files=[db]) as ioc:
        expected = {"O_2": 1, "O_1": 0, "OutputValue_1": -1234, "Setpoint": 2.5, "Trim": -300,
                    "Recipe": "MIX-7", "Core:LED:A1": 2}
        for name, value in expected.items():
            assert ioc.caget(f"$(P){name}") == value, name
        for name in outputs:
            assert ioc.alarm(name)[1] == "NO_ALARM", (name, ioc.alarm(name))
        time.sleep(5 * CYCLE_MS / 1000)  # refresh cycles: the IOC keeps what the image had
        modio = readback(files)
        modio.readprocimg()
        assert modio.io.O_2.value is True and modio.io.OutputValue_1.value == -1234
        assert modio.io.Setpoint.value == 2.5 and modio.core.A1 == 2
        modio.cleanup()
