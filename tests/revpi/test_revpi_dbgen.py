# SPDX-License-Identifier: BSD-3-Clause
"""The database generator and link parsing (pure Python, no IOC)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from revpi_helpers import demo_files

from pydevice.revpi import dbgen, links, piconfig

HERE = Path(__file__).resolve().parent


def records(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    found = {}
    for m in re.finditer(r'record\((\w+), "([^"]+)"\) \{(.*?)\n\}', text, re.S):
        fields = dict(re.findall(r'field\((\w+), "((?:[^"\\]|\\.)*)"\)', m.group(3)))
        found[m.group(2)] = (m.group(1), fields)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo configuration and its replace_io file (generated once for the module)."""
    return demo_files(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def db(demo):
    opts = dbgen.Options(prefix="P:", replace_io_file=demo["replace_io_file"])
    return records(dbgen.generate(demo["configrsc"], opts))


def test_a_record_per_exported_io_with_the_right_type(db):
    expect = {
        "P:I_1": ("bi", "@pydev.iointr(rpi.watch('I_1'))"),
        "P:O_16": ("bo", "@rpi.write('O_16', VAL)"),
        "P:InputValue_1": ("longin", "@pydev.iointr(rpi.watch('InputValue_1'))"),
        "P:OutputValue_2": ("longout", "@rpi.write('OutputValue_2', VAL)"),
        "P:Status": ("mbbiDirect", "@pydev.iointr(rpi.watch('Status'))"),
        "P:Flow": ("ai", "@pydev.iointr(rpi.watch('Flow'))"),
        "P:Setpoint": ("ao", "@rpi.write('Setpoint', VAL)"),
        "P:BatchId": ("stringin", "@pydev.iointr(rpi.watch('BatchId'))"),
        "P:Recipe": ("stringout", "@rpi.write('Recipe', VAL)"),
        "P:PumpRunning": ("bi", "@pydev.iointr(rpi.watch('PumpRunning'))"),
        "P:Offset": ("longin", "@pydev.iointr(rpi.watch('Offset'))"),
    }
    for name, (rtype, link) in expect.items():
        assert db[name][0] == rtype, name
        assert db[name][1].get("INP", db[name][1].get("OUT")) == link
        if link.startswith("@pydev.iointr"):
            assert db[name][1]["SCAN"] == "I/O Intr"
    assert db["P:Status"][1]["NOBT"] == "16"
    assert (db["P:OutputValue_2"][1]["LOPR"], db["P:OutputValue_2"][1]["HOPR"]) == ("-32768", "32767")
    assert "DRVH" not in db["P:OutputValue_2"][1]  # EPICS would clamp before the module refuses
    assert (db["P:Output_20"][1]["LOPR"], db["P:Output_20"][1]["HOPR"]) == ("0", "255")
    # not exported in piCtory, replaced by replace_io, or a memory setting
    for absent in ("P:Counter_1", "P:PWM_1", "P:Input_1", "P:Output_1", "P:Input1Range"):
        assert absent not in db


def test_core_and_owner_records(db):
    assert db["P:Core:Temperature"][1]["INP"] == "@pydev.iointr(rpi.watch('core.temperature'))"
    assert db["P:Core:Status"][0] == "mbbiDirect"
    assert db["P:Core:LED:A1"][0] == "mbbo" and db["P:Core:LED:A1"][1]["TWST"] == "Red"
    assert db["P:Core:LED:A3"][1]["OUT"] == "@rpi.write('core.A3', VAL)"  # a Connect has A3
    assert db["P:IoErrors"][1]["INP"] == "@pydev.iointr(rpi.watch('modio.ioerrors'))"
    assert db["P:ResetIoErrors"][1]["OUT"] == "@rpi.resetioerrors()"


def test_every_generated_name_is_a_real_io(db, demo):
    modio = dbgen.load(demo["configrsc"], demo["replace_io_file"])
    names = {io.name for io in modio.io}
    for rtype, fields in db.values():
        link = fields.get("INP", fields.get("OUT", ""))
        m = re.search(r"'revpi:([^':]+)'|rpi\.(?:read|write)\('([^']+)'", link)
        if m:
            name = m.group(1) or m.group(2)
            assert name in names or name.startswith(("core.", "modio.")), name
    modio.cleanup()


def test_options_all_simulator_analog_var(demo):
    opts = dbgen.Options(prefix="S:", var="pi", name="rp", all_ios=True, simulator=True,
                         words_as_analog=True, replace_io_file=demo["replace_io_file"])
    db = records(dbgen.generate(demo["configrsc"], opts))
    assert db["S:I_1"] == ("bo", {"DTYP": "pydev", "DESC": "dio01 I_1",
                                  "OUT": "@pi.write('I_1', VAL)", "ZNAM": "Off", "ONAM": "On"})
    assert db["S:O_1"][1]["INP"] == "@pydev.iointr(pi.watch('O_1'))"
    assert db["S:Counter_1"][0] == "ao"  # inputs become outputs in simulator mode
    assert db["S:InputValue_1"][0] == "ao"
    assert db["S:Input1Range"][0] == "longin" and db["S:Input1Range"][1]["PINI"] == "YES"
    assert "S:Core:Temperature" not in db  # the simulator writes the base module's inputs


def test_bench_config_has_the_requested_bits():
    config = piconfig.bench(1000)
    bits = sum(1 for d in config["Devices"] if d["type"] == "VIRTUAL" for _ in d["inp"].values())
    assert bits == 1000


def test_cli_writes_a_database_and_reports_errors(tmp_path, demo):
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "python")}
    out = tmp_path / "x.db"
    run = subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", demo["configrsc"],
                          "--prefix", "Q:", "-o", str(out)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert 'record(bi, "Q:I_1")' in out.read_text()
    missing = tmp_path / "none.rsc"
    run = subprocess.run([sys.executable, "-m", "pydevice.revpi", "db", str(missing)], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and f"piCtory configuration {missing} does not exist" in run.stderr


def test_link_parsing():
    assert links.iointr_name("pydev.iointr('revpi:I_1')") == "revpi:I_1"
    assert links.iointr_name(' pydev.iointr( "revpi:I_1:rising" ) ') == "revpi:I_1:rising"
    assert links.iointr_name("pydev.iointr('a') + 1") is None
    assert links.calls("rpi.write('O_1', VAL); x.read(\"A\")") == [
        ("rpi", "write", "O_1"), ("x", "read", "A")]


def test_outside_an_ioc_there_are_no_links():
    assert links.ioc_running() is False
    assert links.pydev_links() == []


def test_io_comments_are_escaped_by_the_shared_writer(tmp_path):
    """A piCtory comment (bmk, the record's DESC) with quotes, a backslash and a tab still
    gives a loadable database: the generator writes through pydevice.dbwriter."""
    import json
    config = json.loads(Path(demo_files(tmp_path)["configrsc"]).read_text())
    comment = 'pump "A"\\B\tleft'
    for dev in config["Devices"]:
        for io in dev.get("inp", {}).values():
            if io[0] == "I_1":
                io[6] = comment
    rsc = tmp_path / "edited.rsc"
    rsc.write_text(json.dumps(config))
    text = dbgen.generate(str(rsc), dbgen.Options(prefix="P:"))
    assert '    field(DESC, "pump \\"A\\"\\\\B\\tleft")\n' in text
    assert "\t" not in text
