# SPDX-License-Identifier: BSD-3-Clause
"""Check a Phoebus ``.bob`` file against the display model phoebusgen carries: the widget
types and versions of its widget definitions (``phoebusgen/config/<phoebus>_widgets.def``),
the properties its widget classes declare, the file read back by phoebusgen itself, geometry
inside each group, and PV names that are records of the database."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

STRUCTURE_TAGS = {"widget"}


def _declared(cls: type) -> set[str]:
    """The property tags a phoebusgen widget class writes."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names |= set(getattr(klass, "__annotations__", {}))
        tags = getattr(klass, "_property_tag_names", None)
        if isinstance(tags, dict):
            names |= set(tags.values())
    return names


def problems(path: Path, records: set[str]) -> list[str]:
    """What is wrong with the display in ``path`` (empty: it validates)."""
    import phoebusgen
    from phoebusgen.v4.screen import Screen

    out: list[str] = []
    root = ET.parse(path).getroot()
    if root.tag != "display" or root.get("version") != "2.0.0":
        out.append(f"root is <{root.tag} version={root.get('version')}>, not <display 2.0.0>")
    if not (root.findtext("name") or "").strip():
        out.append("the display has no name")
    elements = list(root.iter("widget"))
    try:
        parsed = Screen(f_name=str(path)).get_all_widgets()  # phoebusgen reads it back
    except (ValueError, KeyError, TypeError) as exc:
        out.append(f"phoebusgen cannot read it: {exc}")
        parsed = [None] * len(elements)
    if None not in parsed and [w.name for w in parsed] != [e.findtext("name") for e in elements]:
        out.append("phoebusgen reads back other widgets than the file holds")
        return out
    parent_of = {child: parent for parent in root.iter() for child in parent.findall("widget")}
    for el, widget in zip(elements, parsed):
        name, kind = el.findtext("name"), el.get("type")
        where = f"widget {name!r} ({kind})"
        want = phoebusgen.widget_versions.get(kind)
        if want is None:
            out.append(f"{where}: type unknown to Phoebus {phoebusgen.phoebus_version}")
        elif el.get("version") != want:
            out.append(f"{where}: version {el.get('version')}, Phoebus has {want}")
        declared = _declared(type(widget)) if widget is not None else set()
        for child in el:
            if widget is not None and child.tag not in declared | STRUCTURE_TAGS:
                out.append(f"{where}: property <{child.tag}> is not one of {type(widget).__name__}")
        try:
            x, y, w, h = (int(el.findtext(t)) for t in ("x", "y", "width", "height"))
        except (TypeError, ValueError):
            out.append(f"{where}: x, y, width and height must be integers")
            continue
        parent = parent_of.get(el)
        if parent is not None and parent.tag == "widget":
            pw, ph = int(parent.findtext("width")), int(parent.findtext("height"))
            if x < 0 or y < 0 or x + w > pw or y + h > ph:
                out.append(f"{where}: outside its group {parent.findtext('name')!r}")
        needs_pv = "pv_name" in declared
        pv = el.findtext("pv_name")
        if needs_pv and not pv:
            out.append(f"{where}: no PV")
        if pv and pv not in records:
            out.append(f"{where}: PV {pv} is no record of the database")
        for action in el.iter("action"):
            target = action.findtext("pv_name")
            if action.get("type") == "write_pv" and target not in records:
                out.append(f"{where}: action writes {target}, no record of the database")
    return out
