# SPDX-License-Identifier: BSD-3-Clause
"""The generated Phoebus displays validate against phoebusgen's display model, name only
records of their database, and use the widget each kind of record needs."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.importorskip("phoebusgen", reason="phoebusgen is not installed (requirements-test.txt; "
                    "pip install 'pydevice[screens]')")

from bob_schema import problems  # noqa: E402
from screen_helpers import DEMO, DEMO_ARGS, ROOT  # noqa: E402

from pydevice.screens import dbtext  # noqa: E402


def _names(path: Path, **macros: str) -> set[str]:
    return {r.name for r in dbtext.parse(path.read_text(), macros)}


def _run(args: list[str], cwd: Path = ROOT) -> None:
    subprocess.run([sys.executable, "-m", *args], cwd=cwd, check=True, timeout=60,
                   capture_output=True)


def _types(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for el in ET.parse(path).getroot().iter("widget"):
        if el.findtext("pv_name"):
            out.setdefault(el.findtext("pv_name"), set()).add(el.get("type"))
    return out


@pytest.fixture(scope="module")
def revpi_bob(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bob") / "revpi.bob"
    _run(["pydevice.revpi", "screen", *DEMO_ARGS, "--format", "phoebus", "-o", str(out)], DEMO)
    return out


def test_the_revpi_display_validates_and_names_every_demo_record(revpi_bob):
    records = _names(DEMO / "revpi.db", P="RevPi:")
    pool = _names(ROOT / "pydevApp" / "Db" / "pydevStats.db", P="RevPi:pydev:")
    assert problems(revpi_bob, records | pool) == []
    assert set(_types(revpi_bob)) == records | pool


def test_each_kind_of_record_gets_its_phoebus_widget(revpi_bob):
    types = _types(revpi_bob)
    assert types["RevPi:I_1"] == {"led"}                        # bi
    assert types["RevPi:Status"] == {"byte_monitor"}            # mbbiDirect
    assert types["RevPi:InputValue_1"] == {"textupdate"}        # longin
    assert types["RevPi:BatchId"] == {"textupdate"}             # stringin
    assert types["RevPi:O_1"] == {"bool_button"}                # bo
    assert types["RevPi:Core:LED:A1"] == {"combo"}              # mbbo
    assert types["RevPi:OutputValue_1"] == {"spinner", "scrollbar"}  # longout, LOPR..HOPR
    assert types["RevPi:Setpoint"] == {"spinner"}               # ao without limits
    assert types["RevPi:Recipe"] == {"textentry"}               # stringout
    assert types["RevPi:ResetIoErrors"] == {"action_button"}    # a command
    root = ET.parse(revpi_bob).getroot()
    spinner = next(e for e in root.iter("widget")
                   if e.get("type") == "spinner" and e.findtext("pv_name") == "RevPi:Trim")
    assert (spinner.findtext("minimum"), spinner.findtext("maximum")) == ("-32768.0", "32767.0")
    assert all(e.findtext("border_alarm_sensitive") == "true" for e in root.iter("widget")
               if e.findtext("pv_name"))


def test_the_gpio_display_validates(tmp_path):
    out = tmp_path / "gpio.bob"
    _run(["pydevice.gpio", "screen", "--chip", "board-chip", "--lines", "GPIO17,GPIO27",
          "--inputs", "GPIO17", "--outputs", "GPIO27", "--prefix", "Demo:", "--format",
          "phoebus", "-o", str(out)])
    db = tmp_path / "gpio.db"
    _run(["pydevice.gpio", "db", "--chip", "board-chip", "--lines", "GPIO17,GPIO27",
          "--inputs", "GPIO17", "--outputs", "GPIO27", "--prefix", "Demo:", "-o", str(db)])
    assert problems(out, _names(db)) == []
    types = _types(out)
    assert types["Demo:GPIO17"] == {"led"} and types["Demo:GPIO27"] == {"bool_button"}


def test_a_generic_database_display_validates_with_its_macros(tmp_path):
    out = tmp_path / "stats.bob"
    stats = ROOT / "pydevApp" / "Db" / "pydevStats.db"
    _run(["pydevice", "screen", str(stats), str(DEMO / "demo.db"), "-m", "P=X:",
          "--format", "phoebus", "-o", str(out)])
    assert problems(out, _names(stats, P="X:") | _names(DEMO / "demo.db", P="X:")) == []


def test_the_check_rejects_unknown_types_stale_versions_foreign_pvs_and_properties(revpi_bob, tmp_path):
    text = revpi_bob.read_text()
    broken = tmp_path / "broken.bob"
    broken.write_text(text.replace('type="led"', 'type="gauge"', 1)
                      .replace('<widget type="spinner" version="2.0.0">',
                               '<widget type="spinner" version="1.0.0">', 1)
                      .replace("<pv_name>RevPi:I_2</pv_name>", "<pv_name>RevPi:Nope</pv_name>")
                      .replace("<pv_name>RevPi:I_3</pv_name>",
                               "<pv_name>RevPi:I_3</pv_name><flavour>x</flavour>"))
    records = _names(DEMO / "revpi.db", P="RevPi:") | _names(
        ROOT / "pydevApp" / "Db" / "pydevStats.db", P="RevPi:pydev:")
    found = "\n".join(problems(broken, records))
    assert "type unknown to Phoebus" in found
    assert "version 1.0.0, Phoebus has 2.0.0" in found
    assert "PV RevPi:Nope is no record of the database" in found
    # the same file without the unknown type: phoebusgen reads it, and checks its properties
    broken.write_text(broken.read_text().replace('type="gauge"', 'type="led"'))
    found = "\n".join(problems(broken, records))
    assert "property <flavour> is not one of LED" in found
