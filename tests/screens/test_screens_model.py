# SPDX-License-Identifier: BSD-3-Clause
"""What the screen model makes of database records, without a display: the db reader, the
widget each record gets, the panels, and the command lines."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from screen_helpers import DEMO, DEMO_ARGS, ROOT

from pydevice.screens import dbtext, model, pydm_ui
from pydevice.screens.model import Kind

DB = r'''
# a comment, then two records, fields sharing a line
record(bo, "$(P)Pump") {
    field(DTYP, "pydev") field(OUT, "@tank.pump(VAL)")
    field(ZNAM, "Off") field(ONAM, "On")
    field(DESC, "pump \"main\"")
}
record(longout, "$(P)Speed") {
    field(DTYP, "pydev")
    field(OUT, "@tank.speed(VAL)")
    field(LOPR, "0") field(HOPR, "$(MAX=1500)") field(EGU, "rpm")
    info(autosaveFields, "VAL")
}
record(ai, "$(P)Level") {
    field(DTYP, "pydev") field(SCAN, "I/O Intr")
    field(INP, "@pydev.iointr('tank:level')") field(EGU, "m") field(PREC, "2")
}
record(calc, "$(P)Sum") { field(CALC, "A+B") }
record(fanout, "$(P)Fan") { }
'''


def test_the_db_reader_expands_macros_and_their_defaults_and_keeps_unknown_ones():
    recs = dbtext.parse(DB, {"P": "T:"})
    assert [r.name for r in recs] == ["T:Pump", "T:Speed", "T:Level", "T:Sum", "T:Fan"]
    assert recs[0].get("DESC") == 'pump "main"'
    assert recs[1].get("HOPR") == "1500" and recs[1].info == {"autosaveFields": "VAL"}
    assert dbtext.parse(DB)[0].name == "$(P)Pump"


def test_the_db_reader_names_the_line_of_a_syntax_error():
    with pytest.raises(dbtext.DbSyntaxError, match="line 3: expected '\\)'"):
        dbtext.parse('record(ai, "x") {\n  field(DESC, "a")\n  field(EGU, "m" }\n')


def test_each_record_type_gets_the_widget_its_direction_and_type_need():
    screen = model.build(dbtext.parse(DB, {"P": "T:"}), "tank")
    items = {i.pv: i for i in screen.items}
    assert items["T:Pump"].kind == Kind.TOGGLE and items["T:Pump"].states == ["Off", "On"]
    speed = items["T:Speed"]
    assert (speed.kind, speed.low, speed.high, speed.slider) == (Kind.SPINNER, 0, 1500, True)
    assert speed.limits_text == "0 … 1500"
    level = items["T:Level"]
    assert (level.kind, level.egu, level.prec, level.integer) == (Kind.NUMBER, "m", 2, False)
    assert "T:Fan" not in items  # nothing a screen shows
    assert [p.title for p in screen.panels] == ["tank", "Records"]


def test_a_command_button_and_a_self_scanning_output_are_not_state_controls():
    recs = dbtext.parse('record(bo, "R") { field(ZNAM, "Reset") field(ONAM, "Reset") }\n'
                        'record(longout, "S") { field(SCAN, "1 second") }\n')
    assert [model.item_for(r).kind for r in recs] == [Kind.BUTTON, Kind.NUMBER]


@pytest.mark.parametrize("link, group", [
    ("@rpi.write('O_1', VAL)", "rpi"),
    ("@pydev.iointr(rpi.watch('I_1'))", "rpi"),
    ("@gpio.chip('gpiochip0').set('GPIO27', VAL)", "GPIO gpiochip0"),
    ("@pydev.iointr('gpio:gpiochip0:GPIO17:count')", "GPIO gpiochip0"),
    ("@pydev.iointr(gpio.chip('gpiochip0').watch('GPIO17'))", "GPIO gpiochip0"),
    ("@pydev.iointr('pydev:busy')", model.POOL_PANEL),
])
def test_records_are_grouped_by_the_device_their_link_talks_to(link, group):
    rec = dbtext.Record("longin", "X", {"DTYP": "pydev", "INP": link})
    assert model.link_group(rec) == group


def test_the_pool_panel_comes_last_with_short_labels():
    stats = (ROOT / "pydevApp" / "Db" / "pydevStats.db").read_text()
    screen = model.build(dbtext.parse(DB + stats, {"P": "T:"}), "tank")
    assert screen.panels[-1].title == model.POOL_PANEL
    assert [i.label for i in screen.panels[-1].items][:3] == ["Workers", "Busy", "Stuck"]


def test_the_revpi_screen_has_a_panel_per_module_and_the_core_first():
    from pydevice.revpi import dbgen, screen

    built = screen.build(str(DEMO / "config.rsc"),
                         dbgen.Options(prefix="RevPi:", replace_io_file=str(DEMO / "replace_io.conf")),
                         pool="RevPi:pydev:")
    titles = [p.title for p in built.panels]
    assert titles == ["Core", "RevPi Connect", "dio01", "aio01", "virt01", model.POOL_PANEL]
    core = {i.label for i in built.panels[0].items}
    assert {"Core:Temperature", "Core:IoCycle", "IoErrors", "Core:LED:A1", "CycleTime"} <= core
    dio = {i.pv: i.kind for i in built.panels[2].items}
    assert dio["RevPi:I_1"] == Kind.LED and dio["RevPi:O_1"] == Kind.TOGGLE


def test_a_pydm_macro_replaces_the_db_macro_in_channels():
    ui = pydm_ui.render(model.build(dbtext.parse(DB), "tank"))
    assert "ca://${P}Speed" in set(f"ca://{pv}" for pv in pydm_ui.pv_names(ui))
    ET.fromstring(ui)


def test_split_writes_one_screen_per_module(tmp_path):
    subprocess.run([sys.executable, "-m", "pydevice.revpi", "screen", *DEMO_ARGS, "--split",
                    "-o", str(tmp_path)], cwd=DEMO, check=True, timeout=60,
                   capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Core.ui", "RevPi_Connect.ui", "Worker_pool.ui", "aio01.ui", "dio01.ui", "virt01.ui"]


def test_bad_input_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text('record(ai, "x") {\n  feld(DESC, "a")\n}\n')
    run = subprocess.run([sys.executable, "-m", "pydevice", "screen", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "error: line 2: unexpected 'feld' in record x" in run.stderr
    run = subprocess.run([sys.executable, "-m", "pydevice.revpi", "screen", "missing.rsc"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "missing.rsc does not exist" in run.stderr
