# SPDX-License-Identifier: BSD-3-Clause
"""What a screen shows, worked out from database records, independent of the display format.

Each record becomes one :class:`Item`: inputs are indicators (a ``bi`` an LED, an
``mbbiDirect`` a row of LEDs, numbers with units and limits, strings as text), outputs are
controls (a ``bo`` a pair of toggle buttons, an ``mbbo`` a choice, numbers a spinner within
the record's LOPR..HOPR plus a slider where both limits are set, strings an entry).  Items are
grouped into :class:`Panel` s, one per device or module; the worker pool's diagnostic records
(``db/pydevStats.db``) form a small panel of their own.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from .dbtext import Record

__all__ = ["Kind", "Item", "Panel", "Screen", "item_for", "link_group", "build", "POOL_PANEL"]

POOL_PANEL = "Worker pool"


class Kind(str, enum.Enum):
    """The kind of widget an item needs."""

    LED = "led"            # one bit, read
    BITS = "bits"          # a row of bits, read
    NUMBER = "number"      # a number with units, read
    TEXT = "text"          # a string or enum state, read
    TOGGLE = "toggle"      # one bit, written: two buttons
    CHOICE = "choice"      # an enum state, written
    SPINNER = "spinner"    # a number, written
    ENTRY = "entry"        # a string, written
    BUTTON = "button"      # a command: writes 1 when pressed

    @property
    def writes(self) -> bool:
        """True for the controls."""
        return self in (Kind.TOGGLE, Kind.CHOICE, Kind.SPINNER, Kind.ENTRY, Kind.BUTTON)


@dataclass
class Item:
    """One record on the screen."""

    pv: str
    label: str
    kind: Kind
    rtype: str
    desc: str = ""
    egu: str = ""
    low: Optional[float] = None
    high: Optional[float] = None
    prec: int = 0
    bits: int = 1
    states: list[str] = field(default_factory=list)
    integer: bool = True

    @property
    def slider(self) -> bool:
        """A number written within a known range also gets a slider."""
        return self.kind == Kind.SPINNER and self.limited

    @property
    def limited(self) -> bool:
        """Both display limits are set and form a range."""
        return self.low is not None and self.high is not None and self.low < self.high

    @property
    def limits_text(self) -> str:
        """``0 … 255`` when the range is known, else empty."""
        if not self.limited:
            return ""
        fmt = (lambda v: f"{v:.0f}") if self.integer else (lambda v: f"{v:.{self.prec}f}")
        return f"{fmt(self.low)} … {fmt(self.high)}"


@dataclass
class Panel:
    """The items of one device or module."""

    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Screen:
    """A titled set of panels."""

    title: str
    panels: list[Panel] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        """Every item of every panel."""
        return [item for panel in self.panels for item in panel.items]


_NUMBER_IN = {"longin", "int64in", "ai", "calc", "calcout", "sel", "sub", "aSub"}
_NUMBER_OUT = {"longout", "int64out", "ao"}
_TEXT_IN = {"stringin", "lsi", "mbbi", "aai", "waveform", "subArray"}
_TEXT_OUT = {"stringout", "lso"}
_STATE_FIELDS = ("ZRST", "ONST", "TWST", "THST", "FRST", "FVST", "SXST", "SVST", "EIST",
                 "NIST", "TEST", "ELST", "TVST", "TTST", "FTST", "FFST")


def _number(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


def _periodic(rec: Record) -> bool:
    return "second" in rec.get("SCAN")


def _kind(rec: Record) -> Optional[Kind]:
    rtype = rec.rtype
    if _periodic(rec) and rtype in ("bo", "longout", "int64out", "ao", "mbbo"):
        # it processes itself (a sync or keep-alive record): what it wrote is shown, not set
        return Kind.LED if rtype == "bo" else Kind.NUMBER
    if rtype == "bi":
        return Kind.LED
    if rtype == "mbbiDirect":
        return Kind.BITS
    if rtype == "bo":
        same = rec.get("ZNAM") and rec.get("ZNAM") == rec.get("ONAM")
        return Kind.BUTTON if same else Kind.TOGGLE  # "Reset"/"Reset": a command, not a state
    if rtype == "mbbo":
        return Kind.CHOICE
    if rtype in _NUMBER_IN:
        return Kind.NUMBER
    if rtype in _NUMBER_OUT:
        return Kind.SPINNER
    if rtype in _TEXT_IN:
        return Kind.TEXT
    if rtype in _TEXT_OUT:
        return Kind.ENTRY
    return None


def item_for(rec: Record, prefix: str = "") -> Optional[Item]:
    """The item for ``rec``, or None for a record a screen does not show (fanout, seq, ...).
    ``prefix`` is cut from the name for the item's label."""
    kind = _kind(rec)
    if kind is None:
        return None
    label = rec.name[len(prefix):] if prefix and rec.name.startswith(prefix) else rec.name
    states: list[str] = []
    if rec.rtype in ("bi", "bo"):
        states = [rec.get("ZNAM"), rec.get("ONAM")]
    elif rec.rtype in ("mbbi", "mbbo"):
        states = [rec.get(f) for f in _STATE_FIELDS if rec.get(f)]
    bits = 1
    if rec.rtype == "mbbiDirect":
        bits = int(_number(rec.get("NOBT", "16")) or 16)
    analog = rec.rtype in ("ai", "ao") or rec.rtype.startswith("calc")
    return Item(pv=rec.name, label=label, kind=kind, rtype=rec.rtype, desc=rec.get("DESC"),
                egu=rec.get("EGU"), low=_number(rec.get("LOPR", "x")),
                high=_number(rec.get("HOPR", "x")),
                prec=int(_number(rec.get("PREC", "0")) or 0), bits=bits, states=states,
                integer=not analog)


_GPIO_CALL = re.compile(r"""gpio\.chip\(\s*(['"])(.*?)\1""")
_GPIO_NAME = re.compile(r"""pydev\.iointr\(\s*(['"])gpio:([^:'"]+)""")
_IOINTR_NAME = re.compile(r"""^@?\s*pydev\.iointr\(\s*(['"])(.*?)\1""")
_IOINTR_CALL = re.compile(r"^@?\s*pydev\.iointr\(\s*(.*)\)\s*$")
_CALL = re.compile(r"^@?\s*(.*?)\.\w+\(")


def link_group(rec: Record) -> str:
    """The device a pydev record talks to, from its link: ``GPIO <chip>`` for the lines of a
    chip (``gpio.chip('gpiochip0')`` calls and ``gpio:gpiochip0:...`` I/O Intr names alike),
    :data:`POOL_PANEL` for the worker pool's records, else the Python object whose method it
    calls (``rpi``) or an I/O Intr name without its last part; "" for other records."""
    if rec.get("DTYP") != "pydev":
        return ""
    link = rec.link.strip()
    gpio = _GPIO_CALL.search(link) or _GPIO_NAME.search(link)
    if gpio:
        return f"GPIO {gpio.group(2)}"
    named = _IOINTR_NAME.match(link)
    if named:
        name = named.group(2)
        if name.startswith("pydev:"):
            return POOL_PANEL
        return name.rsplit(":", 1)[0] if ":" in name else name
    inner = _IOINTR_CALL.match(link)
    if inner:
        link = inner.group(1)
    call = _CALL.match(link)
    return call.group(1) if call else ""


def _common_prefix(names: list[str]) -> str:
    """The longest prefix ending in ':' that all names share."""
    if not names:
        return ""
    first, last = min(names), max(names)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n].rsplit(":", 1)[0] + ":" if ":" in first[:n] else ""


def build(records: Iterable[Record], title: str,
          group_of: Optional[Callable[[Record], str]] = None,
          fallback: str = "Records") -> Screen:
    """The screen for ``records``: one panel per group (``group_of``, default
    :func:`link_group`), in the order groups first appear, the worker pool panel last.
    Records of no group go to a panel named ``fallback``."""
    records = list(records)
    group_of = group_of or link_group
    prefix = _common_prefix([r.name for r in records])
    panels: dict[str, Panel] = {}
    for rec in records:
        item = item_for(rec, prefix)
        if item is None:
            continue
        group = group_of(rec) or fallback
        panels.setdefault(group, Panel(group)).items.append(item)
    ordered = [p for name, p in panels.items() if name != POOL_PANEL]
    if POOL_PANEL in panels:
        pool = panels[POOL_PANEL]
        pool_prefix = _common_prefix([i.pv for i in pool.items])
        for i in pool.items:  # "Busy", not "pydev:Busy"
            i.label = i.pv[len(pool_prefix):] if pool_prefix else i.label
        ordered.append(pool)
    return Screen(title, ordered)
