# SPDX-License-Identifier: BSD-3-Clause
"""Database generation from line info (no hardware), checked with the core's link compiler."""
import ast
import re

import pytest

from pydevice.gpio import LineInfo, iointr_name
from pydevice.gpio.dbgen import generate_db
from pydevice.snippet import compile_link


def info(off, name, direction="input", used=False):
    return LineInfo(off, name, used, "x" if used else "", direction, False, "unknown",
                    "push-pull", "none", "monotonic", 0.0)


INFOS = [info(0, "ID_SDA", used=True), info(1, "GPIO17"), info(2, "GPIO27", "output"),
         info(3, ""), info(4, "dup"), info(5, "dup"), info(6, "odd name/1")]


def records(text):
    """{name: (type, {field: value})}"""
    out = {}
    for m in re.finditer(r'record\((\w+), "([^"]+)"\) \{(.*?)\n\}', text, re.S):
        fields = dict(re.findall(r'field\((\w+), "((?:[^"\\]|\\.)*)"\)', m.group(3)))
        out[m.group(2)] = (m.group(1), fields)
    return out


def test_inputs_outputs_by_direction_and_override():
    recs = records(generate_db("gpiochip0", INFOS, prefix="P:", lines=["GPIO17", "GPIO27"]))
    assert recs["P:GPIO17"][0] == "bi" and recs["P:GPIO27"][0] == "bo"
    assert set(recs) == {"P:GPIO17", "P:GPIO17:Count", "P:GPIO17:Lost", "P:GPIO27",
                         "P:gpiochip0:Sync"}
    bi = recs["P:GPIO17"][1]
    assert (bi["SCAN"], bi["TSE"]) == ("I/O Intr", "-2")
    assert bi["INP"] == "@pydev.iointr(gpio.chip('gpiochip0').watch('GPIO17'))"
    assert recs["P:GPIO17:Count"][0] == "int64in"
    assert recs["P:GPIO17:Count"][1]["INP"] == \
        "@pydev.iointr(gpio.chip('gpiochip0').watch('GPIO17', what='count'))"
    assert recs["P:GPIO27"][1]["OUT"] == "@gpio.chip('gpiochip0').set('GPIO27', VAL)"
    assert recs["P:GPIO27"][1]["PINI"] == "YES"
    recs = records(generate_db("gpiochip0", INFOS, prefix="P:", lines=["GPIO17", "GPIO27"],
                               outputs=["GPIO17"], inputs=["GPIO27"]))
    assert recs["P:GPIO17"][0] == "bo" and recs["P:GPIO27"][0] == "bi"


def test_default_lines_unnamed_duplicates_and_options():
    text = generate_db("gpiochip1", INFOS, bias="pull-up", debounce=0.01, count="both")
    recs = records(text)
    assert "$(P)ID_SDA" not in recs  # used by a driver: not chosen by default
    assert "$(P)L3" in recs  # unnamed line: by offset
    assert recs["$(P)L3"][1]["INP"] == ("@pydev.iointr(gpio.chip('gpiochip1').watch(3, "
                                        "count='both', bias='pull-up', debounce=0.01))")
    assert recs["$(P)L3:Lost"][1]["INP"].endswith("debounce=0.01, what='lost'))")
    assert recs["$(P)dup_L4"][1]["INP"].startswith("@pydev.iointr(gpio.chip('gpiochip1').watch(4,")
    assert recs["$(P)dup_L5"][1]["INP"].startswith("@pydev.iointr(gpio.chip('gpiochip1').watch(5,")
    assert "$(P)odd_name_1" in recs
    for name, (rtype, fields) in recs.items():
        assert len(fields.get("DESC", "")) <= 40, name


def test_bad_line_is_an_error():
    with pytest.raises(ValueError, match="no line named 'GPIO99'"):
        generate_db("gpiochip0", INFOS, lines=["GPIO99"])
    with pytest.raises(ValueError, match="no line 42"):
        generate_db("gpiochip0", INFOS, lines=[42])


def test_links_compile_and_io_intr_names_match_runtime():
    """The core evaluates each input's watch(...) once at record init; the name it returns
    is the one the reader pushes to (here without the chip: watch() registers the line for
    sync() to retry and still names it)."""
    import pydev
    from pydevice import gpio
    from pydevice.gpio import records as gpio_records
    recs = records(generate_db("gpiochip0", INFOS, prefix="P:"))
    n_iointr = 0
    try:
        for name, (rtype, fields) in recs.items():
            link = (fields.get("INP") or fields["OUT"])[1:]
            compiled = compile_link(link, name, ["VAL", "NAME"], {"gpio": gpio, "pydev": pydev})
            if fields.get("SCAN") != "I/O Intr":
                assert compiled.iointr is None
                continue
            n_iointr += 1
            base, _, what = name[2:].partition(":")
            key = ast.literal_eval(ast.parse(link, mode="eval").body.args[0].args[0])
            assert compiled.iointr == iointr_name("gpiochip0", key, what.lower()), name
        assert gpio.chip("gpiochip0")._lines  # the lines are registered for sync()
    finally:
        gpio_records.close_all()
    assert n_iointr == 3 * 5  # 5 unused input lines (GPIO27 is an output)


def test_a_database_for_a_chip_not_on_this_machine_follows_the_given_directions(tmp_path):
    """A Pi's database prepared on a laptop: every line named, with its direction."""
    import subprocess
    import sys
    out = tmp_path / "pi.db"
    cmd = [sys.executable, "-m", "pydevice.gpio", "db", "--chip", "no-such-chip-here", "--prefix", "Pi:",
           "--lines", "GPIO17,GPIO27", "--inputs", "GPIO17", "--outputs", "GPIO27", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "is not on this machine" in done.stderr
    recs = records(out.read_text())
    assert recs["Pi:GPIO17"][0] == "bi" and recs["Pi:GPIO27"][0] == "bo"
    assert recs["Pi:GPIO27"][1]["OUT"] == "@gpio.chip('no-such-chip-here').set('GPIO27', VAL)"
    assert recs["Pi:GPIO17"][1]["DESC"] == "no-such-chip-here line GPIO17"
    cmd[cmd.index("--outputs"):cmd.index("--outputs") + 2] = []     # GPIO27's direction missing
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "no direction for GPIO27" in bad.stderr


def test_the_docs_db_example_runs_as_written(tmp_path):
    """Issue 14.6: the command in docs/gpio.md runs from a clone after `make build`
    (here a directory with the clone's python/ and .venv; no GPIO chip needed)."""
    import pathlib
    import subprocess
    repo = pathlib.Path(__file__).resolve().parents[2]
    doc = (repo / "docs" / "gpio.md").read_text()
    cmds = [ln for ln in doc.splitlines() if "-m pydevice.gpio db " in ln and not ln.startswith("`")]
    assert len(cmds) == 1, cmds
    (tmp_path / "python").symlink_to(repo / "python")
    # the venv running this suite: make test-pythons runs it from .venv-3.X, whose Python may
    # exist only where that suite runs (a Debian sid userland)
    import sys
    venv = pathlib.Path(sys.prefix) if sys.prefix != sys.base_prefix else repo / ".venv"
    (tmp_path / ".venv").symlink_to(venv)
    done = subprocess.run(cmds[0], shell=True, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    recs = records((tmp_path / "gpio.db").read_text())
    assert recs["P:GPIO17"][0] == "bi" and recs["P:GPIO27"][0] == "bo"
    assert recs["P:GPIO17"][1]["SCAN"] == "I/O Intr"
    assert recs["P:gpiochip0:Sync"][1]["SCAN"] == "1 second"
