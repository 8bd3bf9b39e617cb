# SPDX-License-Identifier: BSD-3-Clause
"""Read the records of an EPICS database file: type, name and fields, macros expanded.

Only what a screen (and ``python -m pydevice check``) needs: ``record``/``grecord`` blocks
with their ``field`` and ``info`` entries (several may share a line); ``alias``, ``include``
and comments are skipped.  A macro without a value stays as it is written (``$(P)``) so that
a screen can carry it on.  Escapes in quoted values are translated as EPICS' database parser
does (``\\n`` becomes a newline, ``\\"`` a quote).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

__all__ = ["Record", "DbSyntaxError", "parse", "expand"]


@dataclass
class Record:
    """One record of a database."""

    rtype: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    line: int = 0  # where its record(...) starts in the file

    def get(self, name: str, default: str = "") -> str:
        """The field's value as written, or ``default`` when the record does not set it."""
        return self.fields.get(name, default)

    @property
    def link(self) -> str:
        """The record's INP or OUT link text."""
        return self.fields.get("INP") or self.fields.get("OUT", "")


class DbSyntaxError(ValueError):
    """The database text is not what ``dbLoadRecords`` would read."""


_MACRO = re.compile(r"\$(?:\(([^)=]+)(?:=([^)]*))?\)|\{([^}=]+)(?:=([^}]*))?\})")
_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|[(){},]|[^\s(){},"#]+')


def expand(text: str, macros: Mapping[str, str]) -> str:
    """``text`` with ``$(NAME)``, ``${NAME}`` and ``$(NAME=default)`` replaced from
    ``macros`` (or the default); other macros are kept as written."""
    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2) if match.group(1) else match.group(4)
        if name in macros:
            return macros[name]
        return default if default is not None else match.group(0)
    return _MACRO.sub(one, text)


_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{1,2})|(x)|(.))", re.S)
_CONTROL = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "0": "\0"}


def _translate(match: re.Match) -> str:
    """One escape as base 7's epicsStrnRawFromEscaped reads it: ``\\xHH``, the C control
    characters and ``\\0``; ``\\x`` without a hex digit is nothing, any other is its character."""
    hexa, bare_x, char = match.groups()
    if hexa:
        return chr(int(hexa, 16))
    return "" if bare_x else _CONTROL.get(char, char)


def _unquote(token: str) -> str:
    if token.startswith('"'):
        return _ESCAPE.sub(_translate, token[1:-1]).split("\0")[0]  # a NUL ends the C string
    return token


def _tokens(text: str) -> list[tuple[str, int]]:
    out, pos, line = [], 0, 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise DbSyntaxError(f"line {line}: cannot read {text[pos:pos + 20]!r}")
        token = match.group(0)
        if not (token.isspace() or token.startswith("#")):
            out.append((token, line))
        line += token.count("\n")
        pos = match.end()
    return out


def parse(text: str, macros: Mapping[str, str] | None = None) -> list[Record]:
    """The records of database ``text`` in file order, macros from ``macros`` expanded."""
    tokens = _tokens(expand(text, macros or {}))
    records: list[Record] = []
    i = 0

    def expect(want: str) -> None:
        nonlocal i
        if i >= len(tokens) or tokens[i][0] != want:
            got, line = tokens[i] if i < len(tokens) else ("end of file", tokens[-1][1])
            raise DbSyntaxError(f"line {line}: expected '{want}', found '{got}'")
        i += 1

    def call() -> tuple[str, list[str]]:
        """``word(arg, arg)``: the word and its unquoted arguments."""
        nonlocal i
        word = tokens[i][0]
        i += 1
        expect("(")
        args: list[str] = []
        while i < len(tokens) and tokens[i][0] != ")":
            if tokens[i][0] != ",":
                args.append(_unquote(tokens[i][0]))
            i += 1
        expect(")")
        return word, args

    while i < len(tokens):
        word, line = tokens[i]
        if word in ("record", "grecord"):
            _, args = call()
            if len(args) != 2:
                raise DbSyntaxError(f"line {line}: record needs a type and a name")
            rec = Record(args[0], args[1], line=line)
            records.append(rec)
            if i < len(tokens) and tokens[i][0] == "{":
                i += 1
                while i < len(tokens) and tokens[i][0] != "}":
                    if tokens[i][0] not in ("field", "info", "alias"):
                        raise DbSyntaxError(f"line {tokens[i][1]}: unexpected "
                                            f"'{tokens[i][0]}' in record {rec.name}")
                    item, item_args = call()
                    if item == "field" and len(item_args) == 2:
                        rec.fields[item_args[0]] = item_args[1]
                    elif item == "info" and len(item_args) == 2:
                        rec.info[item_args[0]] = item_args[1]
                expect("}")
        elif word == "alias":
            call()
        elif word in ("include", "path", "addpath"):
            i += 2  # include "other.db": the screen shows this file's records only
        else:
            raise DbSyntaxError(f"line {line}: unexpected '{word}'")
    return records
