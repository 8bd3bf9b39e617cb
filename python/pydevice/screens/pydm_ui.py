# SPDX-License-Identifier: BSD-3-Clause
"""Write a :class:`~pydevice.screens.model.Screen` as a PyDM display (Qt Designer ``.ui``).

The file is plain Qt Designer XML with PyDM's custom widgets; it needs no PyDM to write.
Every PyDM widget gets ``ca://`` channel, an alarm-sensitive border and the record's DESC as
tool tip; panels are ``QGroupBox`` es laid out by Qt, so the screen follows the font size.
A macro left in a PV name (``$(P)``) is written as PyDM's ``${P}``: ``pydm -m P=...``.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Iterator, Optional

from .layout import chunks, columns
from .model import Item, Kind, Screen

__all__ = ["render", "CUSTOM_WIDGETS"]

CUSTOM_WIDGETS = {  # class: (Qt base class, module)
    "PyDMLabel": ("QLabel", "pydm.widgets.label"),
    "PyDMByteIndicator": ("QWidget", "pydm.widgets.byte"),
    "PyDMEnumButton": ("QWidget", "pydm.widgets.enum_button"),
    "PyDMEnumComboBox": ("QComboBox", "pydm.widgets.enum_combo_box"),
    "PyDMSpinbox": ("QDoubleSpinBox", "pydm.widgets.spinbox"),
    "PyDMSlider": ("QFrame", "pydm.widgets.slider"),
    "PyDMLineEdit": ("QLineEdit", "pydm.widgets.line_edit"),
    "PyDMPushButton": ("QPushButton", "pydm.widgets.pushbutton"),
}
_UNLIMITED = 1e15  # a spinner without LOPR/HOPR: wide open, the IOC refuses what is out of range


def _channel(pv: str) -> str:
    return "ca://" + re.sub(r"\$\(([^)]+)\)", r"${\1}", pv)


class _Writer:
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.used: set[str] = set()

    def name(self, hint: str) -> str:
        base = re.sub(r"\W", "_", hint).strip("_") or "w"
        if base[0].isdigit():
            base = "w_" + base
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name

    def widget(self, cls: str, hint: str, **props: object) -> ET.Element:
        if cls in CUSTOM_WIDGETS:
            self.used.add(cls)
        el = ET.Element("widget", {"class": cls, "name": self.name(hint)})
        for key, value in props.items():
            _prop(el, key, value)
        return el


def _prop(el: ET.Element, key: str, value: object) -> None:
    prop = ET.SubElement(el, "property", {"name": key})
    if isinstance(value, bool):
        ET.SubElement(prop, "bool").text = "true" if value else "false"
    elif isinstance(value, int):
        ET.SubElement(prop, "number").text = str(value)
    elif isinstance(value, float):
        ET.SubElement(prop, "double").text = repr(value)
    elif isinstance(value, (list, tuple)):
        lst = ET.SubElement(prop, "stringlist")
        for v in value:
            ET.SubElement(lst, "string").text = str(v)
    elif isinstance(value, str) and value.startswith("Qt::"):
        ET.SubElement(prop, "enum").text = value
    elif isinstance(value, dict) and "vsizetype" in value:
        policy = ET.SubElement(prop, "sizepolicy", {k: str(v) for k, v in value.items()})
        ET.SubElement(policy, "horstretch").text = "0"
        ET.SubElement(policy, "verstretch").text = "0"
    elif isinstance(value, dict):
        size = ET.SubElement(prop, "size")
        for k in ("width", "height"):
            ET.SubElement(size, k).text = str(value[k])
    else:
        ET.SubElement(prop, "string").text = str(value)


def _control(w: _Writer, item: Item) -> ET.Element:
    """The widget showing or writing ``item``."""
    common = {"channel": _channel(item.pv), "alarmSensitiveBorder": True}
    if item.desc:
        common["toolTip"] = f"{item.pv}: {item.desc}"
    hint = item.label
    if item.kind == Kind.LED:
        return w.widget("PyDMByteIndicator", hint, numBits=1, showLabels=False, circles=True,
                        minimumSize={"width": 22, "height": 22},
                        maximumSize={"width": 22, "height": 22}, **common)
    if item.kind == Kind.BITS:
        return w.widget("PyDMByteIndicator", hint, numBits=item.bits, showLabels=False,
                        circles=True, orientation="Qt::Horizontal",
                        minimumSize={"width": 16 * item.bits, "height": 22},
                        maximumSize={"width": 16 * item.bits, "height": 22}, **common)
    if item.kind in (Kind.NUMBER, Kind.TEXT):
        return w.widget("PyDMLabel", hint, showUnits=bool(item.egu), precisionFromPV=True,
                        minimumSize={"width": 90, "height": 22}, **common)
    if item.kind == Kind.TOGGLE:
        return w.widget("PyDMEnumButton", hint, orientation="Qt::Horizontal",
                        marginTop=0, marginBottom=0, marginLeft=0, marginRight=0,
                        horizontalSpacing=2, maximumSize={"width": 200, "height": 24},
                        **common)
    if item.kind == Kind.CHOICE:
        return w.widget("PyDMEnumComboBox", hint, **common)
    if item.kind == Kind.ENTRY:
        return w.widget("PyDMLineEdit", hint, minimumSize={"width": 110, "height": 22},
                        **common)
    if item.kind == Kind.BUTTON:
        return w.widget("PyDMPushButton", hint, text=item.label, pressValue="1", **common)
    # (item.limited: low and high are set)
    low, high = (item.low, item.high) if item.limited else (-_UNLIMITED, _UNLIMITED)
    return w.widget("PyDMSpinbox", hint, userDefinedLimits=True,
                    userMinimum=float(low),  # type: ignore[arg-type]
                    userMaximum=float(high),  # type: ignore[arg-type]
                    precisionFromPV=not item.integer,
                    precision=0 if item.integer else max(item.prec, 3), showUnits=bool(item.egu),
                    showStepExponent=False, minimumSize={"width": 110, "height": 22},
                    **common)


def _slider(w: _Writer, item: Item) -> ET.Element:
    return w.widget("PyDMSlider", item.label + "_slider", channel=_channel(item.pv),
                    alarmSensitiveBorder=True, orientation="Qt::Horizontal",
                    # (a slider is for a limited item: low and high are set)
                    userDefinedLimits=True, userMinimum=float(item.low),  # type: ignore[arg-type]
                    userMaximum=float(item.high),  # type: ignore[arg-type]
                    showLimitLabels=False, showValueLabel=False,
                    minimumSize={"width": 110, "height": 22})


def _cell(layout: ET.Element, row: int, col: int, widget: ET.Element) -> None:
    ET.SubElement(layout, "item", {"row": str(row), "column": str(col)}).append(widget)


def _rows(w: _Writer, grid: ET.Element, items: list[Item], col0: int) -> None:
    for row, item in enumerate(items):
        label = w.widget("QLabel", item.label + "_label", text=item.label)
        if item.desc:
            _prop(label, "toolTip", item.desc)
        _cell(grid, row, col0, label)
        _cell(grid, row, col0 + 1, _control(w, item))
        if item.slider:
            _cell(grid, row, col0 + 2, _slider(w, item))
        if item.limits_text:
            _cell(grid, row, col0 + 3, w.widget("QLabel", item.label + "_limits",
                                                 text=item.limits_text, enabled=False))


def render(screen: Screen) -> str:
    """The ``.ui`` text of ``screen``."""
    w = _Writer()
    ui = ET.Element("ui", {"version": "4.0"})
    ET.SubElement(ui, "class").text = "Form"
    form = w.widget("QWidget", "Form", windowTitle=screen.title)
    ui.append(form)
    outer = ET.SubElement(form, "layout", {"class": "QHBoxLayout", "name": w.name("screen")})
    for c, col_panels in enumerate(columns(screen)):
        column = ET.Element("layout", {"class": "QVBoxLayout", "name": w.name(f"column_{c}")})
        ET.SubElement(outer, "item").append(column)
        for panel in col_panels:
            box = w.widget("QGroupBox", "panel_" + panel.title, title=panel.title,
                           sizePolicy={"hsizetype": "Preferred", "vsizetype": "Maximum"})
            grid = ET.SubElement(box, "layout", {"class": "QGridLayout",
                                                  "name": w.name("grid_" + panel.title)})
            _prop(grid, "horizontalSpacing", 6)
            _prop(grid, "verticalSpacing", 2)
            parts = chunks(panel)
            for n, items in enumerate(parts):
                _rows(w, grid, items, 4 * n)
            end = ET.SubElement(grid, "item", {"row": str(max(map(len, parts))), "column": "0"})
            _prop(ET.SubElement(end, "spacer", {"name": w.name(f"{panel.title}_end")}),
                  "orientation", "Qt::Vertical")
            ET.SubElement(column, "item", {"alignment": "Qt::AlignTop"}).append(box)
        spacer = ET.SubElement(ET.SubElement(column, "item"), "spacer",
                               {"name": w.name(f"column_{c}_end")})
        _prop(spacer, "orientation", "Qt::Vertical")
    custom = ET.SubElement(ui, "customwidgets")
    for cls in sorted(w.used):
        extends, header = CUSTOM_WIDGETS[cls]
        cw = ET.SubElement(custom, "customwidget")
        ET.SubElement(cw, "class").text = cls
        ET.SubElement(cw, "extends").text = extends
        ET.SubElement(cw, "header").text = header
    ET.SubElement(ui, "resources")
    ET.SubElement(ui, "connections")
    ET.indent(ui)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(ui, encoding="unicode") + "\n"


def pv_names(ui_text: str) -> Iterator[Optional[str]]:
    """The PV of each PyDM widget's channel in ``ui_text`` (for checks)."""
    root = ET.fromstring(ui_text)
    for prop in root.iter("property"):
        if prop.get("name") == "channel":
            yield (prop.findtext("string") or "").removeprefix("ca://")
