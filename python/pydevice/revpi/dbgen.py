# SPDX-License-Identifier: BSD-3-Clause
"""Generate an EPICS database for a piCtory configuration.

RevPiModIO itself parses the configuration (and the replace_io file) against a scratch
zero-filled process image, so the records match exactly the IOs an IOC will see.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

import revpimodio2
from revpimodio2.io import IOBase

from ..dbwriter import comment
from ..dbwriter import record as _record
from . import _compat
from . import core as corevalues
from . import values

MAX_NAME = 60
MAX_STRING = 39  # stringin/stringout VAL without the terminating NUL


@dataclass
class Options:
    """What :func:`generate` emits."""

    prefix: str = "$(P)"
    var: str = "rpi"
    """Python name of the ProcessImage in st.cmd (``rpi = revpi.open(...)``)."""
    name: str = "revpi"
    """Prefix of the I/O Intr names (``revpi.open(name=...)``)."""
    all_ios: bool = False
    """Include IOs not marked 'export' in piCtory (counters, settings, ...)."""
    simulator: bool = False
    """Database for an IOC opened with simulator=True (inputs and outputs swapped)."""
    words_as_analog: bool = False
    """ai/ao instead of longin/longout for integer words."""
    replace_io_file: str | None = None
    core: bool = True
    watchdog: str | None = None
    """SCAN period of a record that toggles the hardware watchdog (e.g. "1 second"); None: no
    such record (the RevPi's watchdog stays off unless something else toggles it)."""
    clamp: bool = False
    """Integer outputs write the nearest limit with a MINOR alarm instead of refusing."""
    skipped: list[str] = field(default_factory=list)


def _record_name(prefix: str, io_name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_:\-\[\]<>;.]", "_", io_name)


def _desc(io: IOBase) -> str:
    text = io.bmk or f"{_compat.device_name(io)} {io.name}"
    return text[:40]


def _status_like(io: IOBase) -> bool:
    return "status" in io.name.lower()


def io_record(io: IOBase, opts: Options) -> str | None:
    """The record text for one IO (None if the IO cannot be represented)."""
    kind = values.io_kind(io)
    name = _record_name(opts.prefix, io.name)
    if len(name) > MAX_NAME:
        opts.skipped.append(f"{io.name}: record name longer than {MAX_NAME} characters")
        return None
    is_input = io.type == revpimodio2.INP
    if opts.simulator:
        is_input = not is_input
    v, n = opts.var, io.name
    # the name is computed once at record init: an unknown IO disables the record right there
    watch = ("SCAN", "I/O Intr"), ("INP", f"@pydev.iointr({v}.watch('{n}'))")
    write = ("OUT", f"@{v}.write('{n}', VAL{', clamp=True' if opts.clamp else ''})"),
    common = [("DTYP", "pydev"), ("DESC", _desc(io))]
    # an output starts with the value the image has when the IOC starts (read at record
    # init, EPICS' readback convention), not UDF/INVALID until a client writes it
    start = () if is_input else (("pydev:init", f"{v}.read('{n}')"),)

    def rec(rtype: str, fields: list) -> str:
        return _record(rtype, name, common + fields, info=start)

    if kind == values.MEMORY:
        value = io.value
        rtype = "stringin" if isinstance(value, str) else "longin"
        return _record(rtype, name, common + [("PINI", "YES"), ("INP", f"@{v}.read('{n}')")])
    if kind == values.BIT:
        if is_input:
            return rec("bi", [*watch, ("ZNAM", "Off"), ("ONAM", "On")])
        return rec("bo", [*write, ("ZNAM", "Off"), ("ONAM", "On")])
    if kind == values.FLOAT:
        rtype = "ai" if is_input else "ao"
        return rec(rtype, [*(watch if is_input else write), ("PREC", "3")])
    if kind == values.STRING:
        size = len(io)
        long_ = size > MAX_STRING
        if is_input:
            rtype = "lsi" if long_ else "stringin"
            extra = [("SIZV", size + 1)] if long_ else []
            return rec(rtype, [*watch, *extra])
        rtype = "lso" if long_ else "stringout"
        extra = [("SIZV", size + 1)] if long_ else []
        return rec(rtype, [*write, *extra])
    if kind == values.BYTES:
        # wider than any integer record: the raw bytes, in a UCHAR array
        rtype = "aai" if is_input else "aao"
        return rec(rtype, [*(watch if is_input else write), ("FTVL", "UCHAR"),
                           ("NELM", len(io))])
    low, high = values.int_range(io)
    bits = len(io) * 8
    # Display limits, not drive limits: EPICS would clamp at DRVL/DRVH before the module can
    # refuse the value, so a client's 300 for an 8-bit IO would silently write 255.
    limits = ("LOPR", low), ("HOPR", high)
    if is_input:
        if _status_like(io) and bits <= 32 and low == 0:
            return rec("mbbiDirect", [*watch, ("NOBT", bits)])
        if opts.words_as_analog:
            return rec("ai", [*watch, *limits])
        rtype = "longin" if high <= 2**31 - 1 else "int64in"
        return rec(rtype, [*watch, *limits])
    if opts.words_as_analog:
        return rec("ao", [*write, *limits])
    rtype = "longout" if high <= 2**31 - 1 else "int64out"
    return rec(rtype, [*write, *limits])


_CORE_INPUTS: tuple[tuple[str, str, str, list[tuple[str, Any]], str], ...] = (
    ("Core:Status", "mbbiDirect", "core.status", [("NOBT", 8)], "base module status byte"),
    ("Core:PiControlRunning", "bi", "core.picontrolrunning",
     [("ZNAM", "Stopped"), ("ONAM", "Running")], "piControl driver running"),
    ("Core:UnconfDevice", "bi", "core.unconfdevice",
     [("ZNAM", "OK"), ("ONAM", "Unconfigured"), ("OSV", "MAJOR")], "unconfigured module"),
    ("Core:MissingDevice", "bi", "core.missingdeviceorgate",
     [("ZNAM", "OK"), ("ONAM", "Missing"), ("OSV", "MAJOR")], "module missing or piGate"),
    ("Core:OverUnderflow", "bi", "core.overunderflow",
     [("ZNAM", "OK"), ("ONAM", "Size error"), ("OSV", "MAJOR")], "module memory size wrong"),
    ("Core:IoCycle", "longin", "core.iocycle", [("EGU", "ms")], "piBridge cycle time"),
    ("Core:Temperature", "longin", "core.temperature", [("EGU", "degC")], "CPU temperature"),
    ("Core:Frequency", "longin", "core.frequency", [("EGU", "MHz")], "CPU frequency"),
    ("Core:RS485Errors", "longin", "core.ioerrorcount", [], "piBridge RS485 errors"),
    ("Core:X2In", "bi", "core.x2in", [("ZNAM", "Off"), ("ONAM", "On")], "Connect X2 input"),
)
_LED_STATES = [("ZRST", "Off"), ("ONST", "Green"), ("TWST", "Red"), ("THST", "Orange")]
_CORE_OUTPUTS = (
    ("Core:LED:A1", "mbbo", "core.A1", _LED_STATES, "LED A1"),
    ("Core:LED:A2", "mbbo", "core.A2", _LED_STATES, "LED A2"),
    ("Core:LED:A3", "mbbo", "core.A3", _LED_STATES, "LED A3"),
    ("Core:X2Out", "bo", "core.x2out", [("ZNAM", "Off"), ("ONAM", "On")], "Connect X2 output"),
)


def core_records(modio: revpimodio2.RevPiModIO, opts: Options) -> list[str]:
    """Base-module status, LED and owner (ioerrors, cycle time) records."""
    v, p = opts.var, opts.prefix
    out = []
    available = set(corevalues.available(modio.core))
    if opts.core and not opts.simulator:
        for suffix, rtype, cname, extra, desc in _CORE_INPUTS:
            if cname in available:
                out.append(_record(rtype, p + suffix, [
                    ("DTYP", "pydev"), ("DESC", desc), ("SCAN", "I/O Intr"),
                    ("INP", f"@pydev.iointr({v}.watch('{cname}'))"), *extra]))
        if not modio.monitoring:
            for suffix, rtype, cname, extra, desc in _CORE_OUTPUTS:
                if cname in available:
                    out.append(_record(rtype, p + suffix, [
                        ("DTYP", "pydev"), ("DESC", desc),
                        ("OUT", f"@{v}.write('{cname}', VAL)"), *extra],
                        info=[("pydev:init", f"{v}.read('{cname}')")]))
    if opts.watchdog and not opts.simulator and not modio.monitoring and \
            "core.wd" in available:
        # toggled through the scan thread, the worker pool and Python: stops when any stalls
        out.append(_record("bi", p + "Core:Watchdog", [
            ("DTYP", "pydev"), ("DESC", "hardware watchdog toggle"), ("SCAN", opts.watchdog),
            ("INP", f"@{v}.watchdog_kick()"), ("ZNAM", "Low"), ("ONAM", "High")]))
    out.append(_record("longin", p + "IoErrors", [
        ("DTYP", "pydev"), ("DESC", "process image read/write errors"), ("SCAN", "I/O Intr"),
        ("INP", f"@pydev.iointr({v}.watch('modio.ioerrors'))"),
        ("HIGH", 1), ("HSV", "MINOR")]))
    out.append(_record("bo", p + "ResetIoErrors", [
        ("DTYP", "pydev"), ("DESC", "reset the I/O error count"),
        ("OUT", f"@{v}.resetioerrors()"), ("ZNAM", "Reset"), ("ONAM", "Reset")]))
    out.append(_record("longin", p + "CycleTime", [
        ("DTYP", "pydev"), ("DESC", "process image refresh cycle"), ("PINI", "YES"),
        ("INP", f"@{v}.read('modio.cycletime')"), ("EGU", "ms")]))
    return out


def load(configrsc: str, replace_io_file: str | None = None,
         simulator: bool = False) -> revpimodio2.RevPiModIO:
    """Parse ``configrsc`` with RevPiModIO against a scratch process image."""
    if not os.path.exists(configrsc):
        raise FileNotFoundError(f"piCtory configuration {configrsc} does not exist")
    with tempfile.NamedTemporaryFile(prefix="revpi-dbgen-", suffix=".img") as img:
        img.write(bytes(revpimodio2.PROCESS_IMAGE_SIZE))
        img.flush()
        modio = revpimodio2.RevPiModIO(procimg=img.name, configrsc=configrsc,
                                       replace_io_file=replace_io_file, simulator=simulator,
                                       debug=False)
    return modio


def generate(configrsc: str, opts: Options | None = None) -> str:
    """The database text for every (exported) IO of ``configrsc`` plus core/owner records."""
    opts = opts or Options()
    modio = load(configrsc, opts.replace_io_file)
    try:
        header = comment(f"Generated by: python -m pydevice.revpi db {os.path.basename(configrsc)}\n"
                         f"Records use the ProcessImage '{opts.var}' opened in st.cmd with "
                         f"{opts.var} = revpi.open(...)")
        parts = [header]
        for io in modio.io:
            if io.name.startswith("core.") or not (opts.all_ios or io.export):
                continue
            text = io_record(io, opts)
            if text:
                parts.append(text)
        parts.extend(core_records(modio, opts))
        return "\n".join(parts)
    finally:
        modio.cleanup()
