# SPDX-License-Identifier: BSD-3-Clause
"""Where panels and rows go: the one arrangement both display formats draw.

A panel longer than :data:`ROWS` items wraps into side-by-side sub-columns; panels stack in
screen columns until a column holds about two panels' worth of rows.
"""
from __future__ import annotations

from .model import Item, Panel, Screen

__all__ = ["ROWS", "chunks", "columns"]

ROWS = 18
"""Rows of items in one sub-column of a panel."""


def _split(items: list[Item], rows: int) -> list[list[Item]]:
    return [items[i:i + rows] for i in range(0, len(items), rows)]


def chunks(panel: Panel, rows: int = ROWS) -> list[list[Item]]:
    """The panel's items in sub-columns of at most ``rows``; a panel too long for one
    sub-column starts its outputs in a sub-column of their own."""
    if len(panel.items) <= rows:
        return [panel.items]
    inputs = [i for i in panel.items if not i.kind.writes]
    outputs = [i for i in panel.items if i.kind.writes]
    return _split(inputs, rows) + _split(outputs, rows)


def _height(panel: Panel, rows: int) -> int:
    return min(len(panel.items), rows) + 2  # + title and margins


def columns(screen: Screen, rows: int = ROWS) -> list[list[Panel]]:
    """The screen's panels stacked into columns, in order."""
    out: list[list[Panel]] = []
    used = 0
    limit = 2 * rows + 4
    for panel in screen.panels:
        h = _height(panel, rows)
        if not out or used + h > limit:
            out.append([])
            used = 0
        out[-1].append(panel)
        used += h
    return out
