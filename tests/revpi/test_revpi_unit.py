# SPDX-License-Identifier: BSD-3-Clause
"""pydevice.revpi without an IOC: the stand-in pydev records the pushes.

Everything else is real: revpimodio2 refreshes a file-backed process image and a second
RevPiModIO instance (as another program would) stimulates and checks it.
"""
from __future__ import annotations

import os
import struct

import pydev
import pytest
from polling import poll
from revpi_helpers import image_byte, independent

from pydevice import revpi


def pushes(name):
    return [c.value for c in pydev.calls if c.name == name]


# ---------------------------------------------------------------- opening
def test_a_missing_process_image_is_a_clear_error(files):
    path = os.path.join(files["dir"], "missing.img")
    with pytest.raises(revpi.OpenError, match=f"process image {path} does not exist"):
        revpi.open(path, files["configrsc"])


@pytest.mark.skipif(os.path.exists("/dev/piControl0"), reason="runs on a real RevPi")
def test_a_missing_default_device_is_named(files):
    with pytest.raises(revpi.OpenError, match="/dev/piControl0 does not exist.*piControl"):
        revpi.open(configrsc=files["configrsc"])


def test_a_missing_config_or_replace_file_is_named(files):
    cfg = os.path.join(files["dir"], "nope.rsc")
    with pytest.raises(revpi.OpenError, match=f"piCtory configuration {cfg} does not exist"):
        revpi.open(files["procimg"], cfg)
    rep = os.path.join(files["dir"], "nope.conf")
    with pytest.raises(revpi.OpenError, match=f"replace_io file {rep} does not exist"):
        revpi.open(files["procimg"], files["configrsc"], replace_io_file=rep)


def test_create_makes_a_zero_filled_image(files):
    path = os.path.join(files["dir"], "new.img")
    _owner = revpi.open(path, files["configrsc"], create=True)
    try:
        assert os.path.getsize(path) == revpi.IMAGE_SIZE
    finally:
        revpi.close()


def test_an_ioc_has_one_process_image_owner(rpi, files):
    with pytest.raises(revpi.RevPiError, match="already owns a process image"):
        revpi.open(files["procimg"], files["configrsc"])
    assert revpi.current() is rpi


# ---------------------------------------------------------------- names
def test_an_unknown_io_is_an_error_naming_the_io_and_the_config(rpi, files):
    for call in (lambda: rpi.read("NoSuchIO"), lambda: rpi.watch("NoSuchIO"),
                 lambda: rpi.write("NoSuchIO", 1), lambda: rpi.every_cycle("NoSuchIO")):
        with pytest.raises(revpi.IoNotFoundError) as info:
            call()
        assert "NoSuchIO" in str(info.value) and files["configrsc"] in str(info.value)
    with pytest.raises(revpi.IoNotFoundError, match="core.bogus"):
        rpi.read("core.bogus")


def test_a_replaced_io_is_reported_as_replaced(rpi):
    with pytest.raises(revpi.IoNotFoundError, match="Input_1.*replaced"):
        rpi.read("Input_1")


# ---------------------------------------------------------------- outputs
def test_a_bit_output_reaches_the_image_alone(rpi, files):
    check = independent(files, monitoring=True)
    address = check.io.O_3.address
    rpi.write("O_3", 1)
    assert poll(lambda: image_byte(files["procimg"], address) & 0b100)
    check.readprocimg()
    assert check.io.O_3.value is True and check.io.O_2.value is False
    rpi.write("O_3", 0)
    assert poll(lambda: not image_byte(files["procimg"], address) & 0b100)


def test_word_float_and_string_outputs_reach_the_image(rpi, files):
    rpi.write("OutputValue_1", -1234)
    rpi.write("Setpoint", 3.5)
    rpi.write("Trim", -7)
    rpi.write("Recipe", "MIX-7")
    rpi.write("Output_17", 200)
    check = independent(files, monitoring=True)

    def settled():
        check.readprocimg()
        return (check.io.OutputValue_1.value == -1234 and check.io.Setpoint.value == 3.5
                and check.io.Trim.value == -7 and check.io.Output_17.value == 200
                and check.io.Recipe.value == b"MIX-7\x00\x00\x00")
    assert poll(settled)
    with open(files["procimg"], "rb") as fh:
        fh.seek(check.io.Setpoint.address)
        assert struct.unpack("<f", fh.read(4))[0] == 3.5


def test_out_of_range_and_read_only_writes_fail_clearly(rpi):
    with pytest.raises(ValueError, match=r"70000 not in -32768\.\.32767 for IO 'OutputValue_1' \(16-bit signed\)"):
        rpi.write("OutputValue_1", 70000)
    with pytest.raises(ValueError, match=r"-1 not in 0\.\.255 for IO 'Output_17' \(8-bit unsigned\)"):
        rpi.write("Output_17", -1)
    with pytest.raises(revpi.NotWritableError, match="'I_1': it is an input"):
        rpi.write("I_1", 1)
    with pytest.raises(revpi.NotWritableError, match="memory value"):
        rpi.write("Input1Range", 1)
    with pytest.raises(ValueError, match="do not fit IO 'Recipe'"):
        rpi.write("Recipe", "123456789")


# ---------------------------------------------------------------- inputs
def stimulate(files, **values):
    """Write inputs as a simulator program would (simulator=True swaps IOs)."""
    sim = independent(files, simulator=True)
    for name, value in values.items():
        getattr(sim.io, name).value = value
    assert sim.writeprocimg()
    sim.cleanup()


def test_inputs_read_the_latest_refreshed_values(rpi, files):
    stimulate(files, I_2=True, InputValue_1=-5, Flow=1.25, BatchId=b"LOT42\x00\x00\x00",
              Offset=-300, Status=0x8001, Counter_1=3_000_000_000, PumpRunning=True)
    assert poll(lambda: rpi.read("Flow") == 1.25)
    assert rpi.read("I_2") == 1 and rpi.read("I_1") == 0
    assert rpi.read("InputValue_1") == -5
    assert rpi.read("BatchId") == "LOT42"
    assert rpi.read("Offset") == -300
    assert rpi.read("Status") == 0x8001
    assert rpi.read("Counter_1") == 3_000_000_000
    assert rpi.read("PumpRunning") == 1 and rpi.read("DoorOpen") == 0
    assert rpi.read("Input1Range") == 1  # piCtory memory value


def test_watch_pushes_changes_with_edges(rpi, files):
    both, rising, falling = (rpi.watch("I_5"), rpi.watch("I_5", "rising"),
                             rpi.watch("I_5", "falling"))
    assert (both, rising, falling) == ("revpi:I_5", "revpi:I_5:rising", "revpi:I_5:falling")
    assert rpi.watch("I_5") == both  # idempotent
    word = rpi.watch("InputValue_2")
    stimulate(files, I_5=True, InputValue_2=1234)
    assert poll(lambda: 1234 in pushes(word))
    assert poll(lambda: pushes(rising) == [1])
    stimulate(files, I_5=False)
    assert poll(lambda: pushes(falling) == [0])
    assert pushes(rising) == [1]
    assert poll(lambda: pushes(both)[-2:] == [1, 0])
    with pytest.raises(ValueError, match="only for bit IOs"):
        rpi.watch("InputValue_2", "rising")


def test_every_cycle_pushes_a_rising_counter_and_the_value_each_cycle(rpi, files):
    counter, value = rpi.every_cycle(), rpi.every_cycle("InputValue_3")
    assert poll(lambda: len(pushes(counter)) >= 5)
    seen = pushes(counter)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert set(pushes(value)) == {0}
    stimulate(files, InputValue_3=42)
    assert poll(lambda: pushes(value)[-1:] == [42])


# ---------------------------------------------------------------- base module
def test_base_module_values_read_watch_and_write_leds(rpi, files):
    stimulate(files, Core_Temperature=47, Core_Frequency=150, RevPiStatus=0b1001)
    assert poll(lambda: rpi.read("core.temperature") == 47)
    assert rpi.read("core.frequency") == 1500
    assert rpi.read("core.status") == 0b1001
    assert rpi.read("core.picontrolrunning") == 1 and rpi.read("core.overunderflow") == 1
    assert rpi.read("core.unconfdevice") == 0
    name = rpi.watch("core.temperature")
    assert poll(lambda: pushes(name)[-1:] == [47])
    stimulate(files, Core_Temperature=51)
    assert poll(lambda: pushes(name)[-1:] == [51])
    check = independent(files, monitoring=True)
    rpi.write("core.A1", 2)      # red
    rpi.write("core.a2green", 1)
    led = check.io.RevPiLED.address
    assert poll(lambda: image_byte(files["procimg"], led) == 0b0110)
    with pytest.raises(PermissionError, match="read-only"):
        rpi.write("core.temperature", 1)


def test_the_io_error_count_is_watchable(rpi):
    name = rpi.watch("modio.ioerrors")
    assert poll(lambda: pushes(name) == [0])
    assert rpi.read("modio.cycletime") == 10


# ---------------------------------------------------------------- modes
def test_shared_procimg_keeps_outputs_of_other_programs(files):
    other = independent(files, shared_procimg=True)
    for shared in (False, True):
        pydev.clear()
        owner = revpi.open(files["procimg"], files["configrsc"], cycletime=10,
                           shared_procimg=shared, replace_io_file=files["replace_io_file"])
        try:
            address = owner.io("O_1").address
            owner.write("O_1", 1)
            assert poll(lambda: image_byte(files["procimg"], address) & 1)
            other.io.O_2.value = True
            other.writeprocimg()  # shared: writes only O_2, like another control program
            owner.write("O_3", 1)
            assert poll(lambda: image_byte(files["procimg"], address) & 0b100)
            kept = poll(lambda: image_byte(files["procimg"], address) & 0b010, timeout=0.3)
            # Without shared_procimg RevPiModIO rewrites all its outputs every cycle.
            assert bool(kept) == shared
        finally:
            revpi.close()
            other.io.O_2.value = False
            other.writeprocimg()
            with open(files["procimg"], "r+b") as fh:
                fh.seek(address)
                fh.write(b"\x00")


def test_monitoring_reads_outputs_and_refuses_writes(files):
    other = independent(files)
    other.io.O_4.value = True
    other.writeprocimg()
    owner = revpi.open(files["procimg"], files["configrsc"], monitoring=True, cycletime=10)
    try:
        assert poll(lambda: owner.read("O_4") == 1)
        with pytest.raises(revpi.NotWritableError, match="monitoring=True"):
            owner.write("O_4", 0)
    finally:
        revpi.close()


def test_devices_selects_which_modules_are_served(files):
    owner = revpi.open(files["procimg"], files["configrsc"], devices=["dio01", 33])
    try:
        assert owner.read("I_1") == 0 and owner.read("InputValue_1") == 0
        with pytest.raises(revpi.IoNotFoundError):
            owner.read("Output_1")
    finally:
        revpi.close()
    with pytest.raises(revpi.OpenError, match="could not find ALL given devices"):
        revpi.open(files["procimg"], files["configrsc"], devices=["dio01", "nodev"])


def test_driver_mode_writes_virtual_inputs(files):
    owner = revpi.open(files["procimg"], files["configrsc"], driver="virt01", cycletime=10)
    try:
        check = independent(files, monitoring=True)
        address = check.io.Input_20.address
        owner.write("Input_20", 99)
        assert poll(lambda: image_byte(files["procimg"], address) == 99)
        with pytest.raises(revpi.NotWritableError, match="simulator mode"):
            owner.write("Output_2", 1)
        with pytest.raises(revpi.IoNotFoundError):
            owner.read("I_1")
    finally:
        revpi.close()


def test_close_sets_piCtory_defaults_when_asked(files):
    owner = revpi.open(files["procimg"], files["configrsc"], cycletime=10)
    address = owner.io("Output_20").address
    owner.write("Output_20", 77)
    assert poll(lambda: image_byte(files["procimg"], address) == 77)
    revpi.close(defaults=True)
    assert image_byte(files["procimg"], address) == 0


# ---------------------------------------------------------------- faults
def run_probe(files, maxioerrors=0):
    import json
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    paths = [str(here.parents[1] / "python"), str(here.parent), str(here)]
    proc = subprocess.run(
        [sys.executable, str(here / "fault_probe.py"), files["procimg"], files["configrsc"],
         str(maxioerrors), *paths], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_io_errors_become_alarms_and_recover(files):
    result = run_probe(files)
    assert result["healthy_read"] == 0
    assert result["fault"].startswith(f"I/O error on process image {files['procimg']}")
    assert result["read_alarm"] == [result["fault"], "COMM", "INVALID"]
    assert result["write_alarm"] == "COMM"
    assert result["pushed_alarm"] == result["fault"]
    assert result["errors_pushed"] > 3
    assert result["recovered"] and result["fault_after"] is None
    assert result["pushed_value_after"] == [0]
    assert result["output_after"] == 1  # the write made during the fault landed afterwards


def test_maxioerrors_stops_refresh_with_a_lasting_alarm(files):
    result = run_probe(files, maxioerrors=5)
    assert "refresh stopped after" in result["fault"] and "maxioerrors=5" in result["fault"]
    assert result["read_alarm"][1:] == ["COMM", "INVALID"]
    assert not result["recovered"]
