# SPDX-License-Identifier: BSD-3-Clause
"""Write a :class:`~pydevice.screens.model.Screen` as a Phoebus display (``.bob``) with
phoebusgen.

Panels are ``group`` widgets placed as :mod:`~pydevice.screens.layout` arranges them; rows
are a label, the widget (alarm-sensitive border, DESC as tool tip), a slider for a number
written within known limits, and the limits.  Macros in PV names (``$(P)``) stay as Phoebus
reads them.
"""
from __future__ import annotations

from .layout import chunks, columns
from .model import Item, Kind, Screen

__all__ = ["render"]

ROW_H = 24
LABEL_W, WIDGET_W, SLIDER_W, LIMITS_W = 140, 130, 110, 100
CELL_W = LABEL_W + WIDGET_W + SLIDER_W + LIMITS_W + 20
TITLE_H = 30


def _widget(item: Item, x: int, y: int):
    """The phoebusgen widget for ``item`` at (x, y)."""
    from phoebusgen.v4.properties.types import WritePvAction
    from phoebusgen.v4.widgets import controls, monitors

    name, pv, h = item.label, item.pv, ROW_H - 4
    if item.kind == Kind.LED:
        w = monitors.LED(name, pv, x, y, h, h)
        w.labels_from_pv = True
    elif item.kind == Kind.BITS:
        w = monitors.ByteMonitor(name, pv, x, y, min(WIDGET_W, 14 * item.bits), h)
        w.num_bits = item.bits
    elif item.kind in (Kind.NUMBER, Kind.TEXT):
        w = monitors.TextUpdate(name, pv, x, y, WIDGET_W, h)
        w.show_units = bool(item.egu)
    elif item.kind == Kind.TOGGLE:
        w = controls.BooleanButton(name, pv, x, y, WIDGET_W, h)
        w.labels_from_pv = True
    elif item.kind == Kind.CHOICE:
        w = controls.ComboBox(name, pv, x, y, WIDGET_W, h)
        w.items_from_pv = True
    elif item.kind == Kind.ENTRY:
        w = controls.TextEntry(name, pv, x, y, WIDGET_W, h)
    elif item.kind == Kind.BUTTON:
        w = controls.ActionButton(name, item.label, pv, x, y, WIDGET_W, h)
        w.actions.append(WritePvAction(description=item.label, pv_name=pv, value="1"))
    else:
        w = controls.Spinner(name, pv, x, y, WIDGET_W, h)
        w.show_units = bool(item.egu)
        if item.limited:
            w.limits_from_pv = False
            w.minimum, w.maximum = item.low, item.high
    w.border_alarm_sensitive = True
    if item.desc:
        w.tooltip = f"{item.pv}: {item.desc}"
    return w


def _slider(item: Item, x: int, y: int):
    from phoebusgen.v4.widgets import controls

    w = controls.Scrollbar(item.label + "_slider", item.pv, x, y, SLIDER_W, ROW_H - 4)
    w.limits_from_pv = False
    w.minimum, w.maximum = item.low, item.high
    w.border_alarm_sensitive = True
    return w


def _group(panel, x: int, y: int):
    from phoebusgen.v4.widgets.graphics import Label
    from phoebusgen.v4.widgets.structure import Group

    parts = chunks(panel)
    height = TITLE_H + ROW_H * max(len(c) for c in parts) + 10
    group = Group(panel.title, x, y, CELL_W * len(parts) + 10, height)
    children = []
    for n, items in enumerate(parts):
        cx = 5 + n * CELL_W
        for row, item in enumerate(items):
            ry = 5 + row * ROW_H
            label = Label(item.label + "_label", item.label, cx, ry, LABEL_W, ROW_H - 4)
            if item.desc:
                label.tooltip = item.desc
            children += [label, _widget(item, cx + LABEL_W, ry)]
            if item.slider:
                children.append(_slider(item, cx + LABEL_W + WIDGET_W + 5, ry))
            if item.limits_text:
                children.append(Label(item.label + "_limits", item.limits_text,
                                      cx + LABEL_W + WIDGET_W + SLIDER_W + 10, ry, LIMITS_W,
                                      ROW_H - 4))
    group.add_widget(children)
    return group, group.width, height


def render(screen: Screen) -> str:
    """The ``.bob`` text of ``screen`` (needs phoebusgen)."""
    from phoebusgen.v4.screen import Screen as BobScreen

    bob = BobScreen(screen.title)
    x, total_w, total_h = 10, 0, 0
    for col_panels in columns(screen):
        y, col_w = 10, 0
        for panel in col_panels:
            group, w, h = _group(panel, x, y)
            bob.add_widget(group)
            y += h + 10
            col_w = max(col_w, w)
        x += col_w + 10
        total_w, total_h = x, max(total_h, y)
    bob.width, bob.height = total_w, total_h
    return str(bob)
