# SPDX-License-Identifier: BSD-3-Clause
"""Write EPICS database text: one ``record(...)`` with its fields, values escaped.

Both database generators (``python -m pydevice.gpio db``, ``python -m pydevice.revpi db``)
write their records here, so escaping is done once and the same way.  A field value goes
inside double quotes as EPICS' database lexer reads them: a backslash and a double quote
get a backslash (``\\\\``, ``\\"``), control characters their C escape (``\\n``, ``\\t``, ...,
else octal ``\\ooo``) -- what ``dbLoadRecords`` turns back into the original text.  ``$(...)``
stays a macro reference, as in any database file.

    >>> print(record("bi", "P:In", [("DTYP", "pydev"), ("DESC", 'say "hi"')]), end="")
    record(bi, "P:In") {
        field(DTYP, "pydev")
        field(DESC, "say \\"hi\\"")
    }
"""
from __future__ import annotations

import re
from typing import Iterable

__all__ = ["quote", "record", "comment"]

_NAMED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\a": "\\a",
          "\b": "\\b", "\f": "\\f", "\v": "\\v"}
_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f]')
_FIELD = re.compile(r"[A-Z][A-Z0-9_]*")
_INFO = re.compile(r"[A-Za-z_][A-Za-z0-9_:]*")
_BAD_NAME = re.compile(r'[\s"\\\x00-\x1f\x7f]')


def quote(value: object) -> str:
    """``value`` as text for inside a database string's double quotes."""
    return _SPECIAL.sub(lambda m: _NAMED.get(m.group(), "\\%03o" % ord(m.group())), str(value))


def record(rtype: str, name: str, fields: Iterable[tuple[str, object]],
           info: Iterable[tuple[str, object]] = ()) -> str:
    """The text of one record: ``record(<rtype>, "<name>") {`` one ``field`` a line, then one
    ``info`` a line (``info`` pairs: tag, value), ``}``.

    Raises ValueError for a record type or field name that is not a plain word, for an info
    tag that is not a word (``:`` allowed, as in ``pydev:init``), and for a record name with
    quotes, backslashes, white space or control characters (EPICS could not load it, or would
    load another name)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", rtype):
        raise ValueError(f"bad record type {rtype!r}")
    if not name or _BAD_NAME.search(name):
        raise ValueError(f"bad record name {name!r}: no quotes, backslashes, spaces or "
                         "control characters")
    body = []
    for field, value in fields:
        if not _FIELD.fullmatch(field):
            raise ValueError(f"record {name}: bad field name {field!r}")
        body.append(f'    field({field}, "{quote(value)}")\n')
    for tag, value in info:
        if not _INFO.fullmatch(tag):
            raise ValueError(f"record {name}: bad info tag {tag!r}")
        body.append(f'    info({tag}, "{quote(value)}")\n')
    return f'record({rtype}, "{name}") {{\n{"".join(body)}}}\n'


def comment(text: str) -> str:
    """``text`` as database comment lines (``# ...``)."""
    return "".join(f"# {line}\n" for line in str(text).splitlines() or [""])
