# SPDX-License-Identifier: BSD-3-Clause
"""``python -m pydevice check FILE.db [...] [-m macros] [--dbd FILE]``: a database's pydev
links, checked without an IOC.

Every ``DTYP "pydev"`` link (and the code field of the record types in :data:`CODE_RECORDS`,
``pycalc``'s CALC) is compiled as the IOC compiles it at ``iocInit``, and each record is
told:

- **DISABLED**: what would disable it at init (a syntax error, no ``@``, ``SCAN "I/O Intr"``
  without ``pydev.iointr``, ``exec`` of a field without an access security group, ...), or
  what makes ``dbLoadRecords`` refuse the file (a field its type does not have, a macro
  without a value);
- **differs**: where it behaves otherwise than with the original PyDevice (``@VAL`` is a
  string here, not code; a bare field name outside quotes that the original left to Python;
  ...), with what to write instead (docs/moving-from-original.md has them all);
- **note**: what is worth knowing but the same as in the original (words in string literals
  that stay words, an ``info(pydev:init)`` that cannot run).

The exit status is 1 when a record would be disabled (or a file not load), 2 when a file
cannot be read, else 0: sites run it before they deploy.  The record types' fields come from
the IOC's dbd (``--dbd``; by default ``dbd/pydevIoc.dbd`` of this installation, else EPICS
base's record definitions of the ``epicscorelibs`` package).
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from .screens import dbtext
from .snippet import LITERAL_WORDS, Link, Usage, _prepare, compile_link

__all__ = ["SUPPORTED", "CODE_RECORDS", "Finding", "RecordReport", "check", "read_dbd", "main"]

SUPPORTED = {  # record type -> the field of its link (pydevRecord.c's table)
    **{t: "INP" for t in ("longin", "ai", "bi", "mbbi", "mbbiDirect", "stringin", "lsi",
                          "int64in", "waveform", "aai")},
    **{t: "OUT" for t in ("longout", "ao", "bo", "mbbo", "mbboDirect", "stringout", "lso",
                          "int64out", "aao")},
}
CODE_RECORDS = {  # record types whose code is a field of their own: (field, its names)
    "pycalc": ("CALC", tuple("ABCDEFGHIJ")),
}
# the types of the original PyDevice's tutorial: only their links can differ from it
ORIGINAL_TYPES = frozenset({"longin", "longout", "ai", "ao", "bi", "bo", "mbbi", "mbbo",
                            "stringin", "stringout", "lsi", "lso", "waveform"})
ARRAY_TYPES = frozenset({"waveform", "aai", "aao"})
QUEUE_MOST = 100000
IOINTR_NAME_MOST = 63
DOC = "docs/moving-from-original.md"


@dataclass
class Finding:
    kind: str  # "DISABLED", "differs" or "note"
    text: str
    detail: str = ""  # more lines (a syntax error's caret)


@dataclass
class RecordReport:
    record: dbtext.Record
    file: str
    findings: list[Finding] = field(default_factory=list)
    usage: Optional[Usage] = None

    @property
    def disabled(self) -> bool:
        return any(f.kind == "DISABLED" for f in self.findings)

    def add(self, kind: str, text: str, detail: str = "") -> None:
        self.findings.append(Finding(kind, text, detail))


# ---- record types: their fields, from a dbd ------------------------------------------------

@dataclass
class FieldDef:
    dbf: str
    special: str = ""
    initial: str = ""

    @property
    def is_macro(self) -> bool:
        """A field the IOC offers as a macro (pydevRecord.c's loadFieldNames)."""
        return self.dbf != "DBF_NOACCESS" or self.special == "SPC_DBADDR"


_DBD_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|#[^\n]*|%[^\n]*|[(){},]|[^\s(){},"#%]+|\s+')


def _dbd_tokens(path: Path, dirs: list[Path], depth: int = 0) -> list[str]:
    """The tokens of a dbd file with its includes read in place."""
    if depth > 20:
        raise ValueError(f"{path}: includes nested too deep")
    tokens = [t for t in _DBD_TOKEN.findall(path.read_text(errors="replace"))
              if not t.isspace() and t[0] not in "#%"]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "include" and i + 1 < len(tokens) and tokens[i + 1].startswith('"'):
            name = tokens[i + 1][1:-1]
            found = next((d / name for d in [path.parent, *dirs] if (d / name).is_file()), None)
            if found is None:
                raise ValueError(f"{path}: cannot find included {name!r}")
            out += _dbd_tokens(found, dirs, depth + 1)
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


def read_dbd(paths: Iterable[Path], dirs: Sequence[Path] = ()) -> dict[str, dict[str, FieldDef]]:
    """Record type -> field name -> definition, from the ``recordtype`` blocks of ``paths``."""
    types: dict[str, dict[str, FieldDef]] = {}
    for path in paths:
        tokens = _dbd_tokens(Path(path), list(dirs))
        i = 0
        while i < len(tokens):
            if tokens[i] == "recordtype" and tokens[i + 1: i + 2] == ["("]:
                name, i = tokens[i + 2], i + 4
                fields: dict[str, FieldDef] = {}
                if tokens[i: i + 1] == ["{"]:
                    i = _record_body(tokens, i + 1, fields)
                types[name] = fields
            else:
                i += 1
    return types


def _record_body(tokens: list[str], i: int, fields: dict[str, FieldDef]) -> int:
    """Read a recordtype's body from ``i`` (after its ``{``); returns the index after ``}``."""
    while i < len(tokens) and tokens[i] != "}":
        if tokens[i] == "field" and tokens[i + 1] == "(":
            definition = FieldDef(tokens[i + 4])
            fields[tokens[i + 2]] = definition
            i += 6
            if tokens[i: i + 1] == ["{"]:
                i += 1
                while i < len(tokens) and tokens[i] != "}":
                    if tokens[i] in ("special", "initial") and tokens[i + 1] == "(":
                        setattr(definition, tokens[i], tokens[i + 2].strip('"'))
                    i += 1
                i += 1
        else:
            i += 1
    return i + 1


def default_dbd() -> tuple[list[Path], list[Path]]:
    """The dbd files (and include directories) that describe pydevIoc's record types."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_ioc" / "dbd" / "pydevIoc.dbd",
                      here.parents[1] / "dbd" / "pydevIoc.dbd"):
        if candidate.is_file():
            return [candidate], []
    try:
        import epicscorelibs.path
    except ImportError:
        return [], []
    base = Path(epicscorelibs.path.base_path) / "dbd"
    return sorted(base.glob("*Record.dbd")), [base]


# ---- checks -------------------------------------------------------------------------------

_UNDEFINED_MACRO = re.compile(r"\$[({][^)}]*[)}]")


def _syntax_detail(err: SyntaxError) -> str:
    if not err.text:
        return ""
    line = err.text.rstrip("\n")
    return f"{line}\n{' ' * max((err.offset or 1) - 1, 0)}^"


def _describe(err: BaseException) -> str:
    """As the IOC's AMSG says it (pydevPython.c's describe)."""
    kind = type(err).__name__
    if isinstance(err, SyntaxError) and err.msg:
        where = (f" at line {err.lineno} column {err.offset}" if err.lineno and err.lineno > 1
                 else f" at column {err.offset}") if err.offset else ""
        return f"{err.msg}{where} ({kind})"
    return f"{err} ({kind})" if str(err) else kind


def _is_text(rtype: str, name: str, fields: dict[str, FieldDef]) -> bool:
    """Whether the original pasted this field's value into the code as raw text (a string)."""
    base = fields.get(name)
    if name == "VAL":
        return rtype in ("stringin", "stringout", "lsi", "lso")
    return base is not None and base.dbf == "DBF_STRING"


class Checker:
    def __init__(self, types: dict[str, dict[str, FieldDef]]) -> None:
        self.types = types
        self.queues: dict[str, list[tuple[RecordReport, str]]] = {}

    def fields_of(self, rtype: str) -> set[str]:
        fields = self.types.get(rtype)
        if fields is None:  # no dbd for it: what the tutorial lists, and the common ones
            return set(LITERAL_WORDS.get(rtype, ())) | {"VAL", "NAME", "DESC", "SCAN"}
        return {name for name, definition in fields.items() if definition.is_macro}

    def record(self, rec: dbtext.Record, file: str) -> Optional[RecordReport]:
        code = CODE_RECORDS.get(rec.rtype)
        if rec.get("DTYP") != "pydev" and not code:
            return None
        report = RecordReport(rec, file)
        self.load_errors(report)
        if code:
            self.code_record(report, *code)
        elif rec.rtype not in SUPPORTED:
            report.add("DISABLED", f"record type {rec.rtype} not supported by pydev")
        else:
            self.pydev_record(report)
        return report

    def load_errors(self, report: RecordReport) -> None:
        rec = report.record
        for name, value in [("the name", rec.name), *rec.fields.items(), *rec.info.items()]:
            for macro in _UNDEFINED_MACRO.findall(value):
                report.add("DISABLED", f"{name}: macro {macro} has no value: dbLoadRecords "
                                       "refuses the file (give it with -m)")
        known = self.types.get(rec.rtype)
        if known is not None:
            for name in rec.fields:
                if name not in known and not self.misplaced_link(rec, name):
                    report.add("DISABLED", f"{rec.rtype} has no field {name}: dbLoadRecords "
                                           "refuses the file")

    def compile(self, report: RecordReport, text: str, fields: Iterable[str],
                rtype: str) -> Optional[Link]:
        """The link as the IOC compiles it (a pydev.iointr(<expression>) not evaluated)."""
        names = set(fields)
        try:
            link = compile_link(text, report.record.name, names, {}, rtype, evaluate_iointr=False)
        except SyntaxError as err:
            report.add("DISABLED", _describe(err), _syntax_detail(err))
            for word in _prepare(text, lambda name: name.removesuffix("_STR") in names)[1]:
                self.glued(report, word)
            return None
        except Exception as err:  # noqa: BLE001 - what the IOC would print
            report.add("DISABLED", _describe(err))
            return None
        report.usage = link.usage
        return link

    def code_record(self, report: RecordReport, code_field: str, names: Sequence[str]) -> None:
        text = report.record.get(code_field)
        if not text.strip():
            report.add("DISABLED", f"{code_field} is empty: nothing to compute")
            return
        link = self.compile(report, text, names, report.record.rtype)
        if link and link.runs_field_code and (report.record.get("ASG") or "DEFAULT") == "DEFAULT":
            report.add("DISABLED", f"{code_field} passes an input to exec/eval/compile: it "
                                   "needs field(ASG, ...) of a group that limits writers")

    @staticmethod
    def misplaced_link(rec: dbtext.Record, name: str) -> bool:
        """An OUT on an input record (or INP on an output) that holds its link."""
        link_field = SUPPORTED.get(rec.rtype)
        return (rec.get("DTYP") == "pydev" and link_field is not None
                and link_field not in rec.fields
                and name == ("INP" if link_field == "OUT" else "OUT"))

    def pydev_record(self, report: RecordReport) -> None:
        rec = report.record
        rtype, link_field = rec.rtype, SUPPORTED[rec.rtype]
        is_output = link_field == "OUT"
        other = "INP" if is_output else "OUT"
        if self.misplaced_link(rec, other):
            report.add("DISABLED", f"the link is in {other}, which a {rtype} does not have "
                                   f"(dbLoadRecords refuses the file): write {link_field}")
            return
        text = rec.get(link_field).lstrip()
        if _UNDEFINED_MACRO.search(text):
            return  # dbLoadRecords refuses the file (said above)
        if not text.startswith("@") or not text[1:]:
            report.add("DISABLED", 'link must be "@<python code>"')
            return
        timeout = rec.info.get("pydev:timeout")
        if timeout is not None and not _seconds(timeout):
            report.add("DISABLED", 'info(pydev:timeout) must be seconds, e.g. "2.5"')
            return
        link = self.compile(report, text[1:], self.fields_of(rtype), rtype)
        if link is None:
            return
        usage = link.usage
        self.iointr_checks(report, link.iointr or usage.iointr_expression, usage)
        if link.runs_field_code:
            group = rec.get("ASG") or "DEFAULT"
            if group == "DEFAULT":
                report.add("DISABLED", "exec of a field needs an ASG: give the record "
                                       'field(ASG, "PYDEV_EXEC") and load an ACF with that group')
            else:
                report.add("note", f"runs code that clients write: the ACF must define group "
                                   f"{group} (else the record is refused at iocInit)")
        if "pydev:init" in rec.info:
            self.init_checks(report, rec.info["pydev:init"], is_output)
        if rtype in ORIGINAL_TYPES:
            self.differences(report, text[1:], link)
        if usage.kept:
            report.add("note", "words in string literals that stay words, as in the original: "
                               f"{', '.join(usage.kept)} (write %{usage.kept[0]}% for the field)")

    def iointr_checks(self, report: RecordReport, iointr: Optional[str], usage: Usage) -> None:
        rec = report.record
        queue = rec.info.get("pydev:queue")
        if rec.get("SCAN") == "I/O Intr" and not iointr:
            report.add("DISABLED", "I/O Intr needs @pydev.iointr('name')")
        if queue is not None and not iointr:
            report.add("DISABLED", "pydev:queue needs @pydev.iointr('name')")
        if not iointr:
            return
        # a pydev.iointr(<expression>) is evaluated at init, in the IOC's namespace: not here
        if not usage.iointr_expression and len(iointr) > IOINTR_NAME_MOST:
            report.add("DISABLED", f"iointr name too long (at most {IOINTR_NAME_MOST} characters)")
        if queue is not None and not _count(queue):
            report.add("DISABLED", f"pydev:queue must be a count 1..{QUEUE_MOST}")
        elif not usage.iointr_expression:
            self.queues.setdefault(iointr, []).append((report, queue or ""))

    def init_checks(self, report: RecordReport, code: str, is_output: bool) -> None:
        if not is_output:
            report.add("DISABLED", "info(pydev:init) is for output records")
            return
        try:
            link = compile_link(code, report.record.name, (), {}, evaluate_iointr=False)
        except SyntaxError as err:
            report.add("note", f"info(pydev:init) cannot be used ({_describe(err)}): the record "
                               "starts without a value", _syntax_detail(err))
            return
        if link.iointr or link.usage.iointr_expression:
            report.add("note", "info(pydev:init) must read a value, not name a pydev.iointr: "
                               "the record starts without one")

    def differences(self, report: RecordReport, text: str, link: Link) -> None:
        rec, usage = report.record, link.usage
        rtype, fields = rec.rtype, self.types.get(rec.rtype, {})
        listed = LITERAL_WORDS.get(rtype, frozenset())
        bare = text.strip()
        whole = bare[1:-1] if bare.startswith("%") and bare.endswith("%") else bare
        if whole in usage.code and _is_text(rtype, whole, fields):
            report.add("differs", f"@{bare}: the original ran the text of {whole} (what a client "
                                  f"writes) as Python code; here it is that string. To run it, "
                                  f"write @exec({whole}) and give the record an ASG ({DOC})")
        for name in usage.code:
            if name.endswith("_STR") or name == whole:
                continue
            if name not in listed:
                report.add("differs", f"{name} outside quotes is the record's field here; the "
                                      f"original left it to Python (a global {name}, if any). "
                                      f"Rename such a global ({DOC})")
            elif _is_text(rtype, name, fields) and not link.runs_field_code:
                report.add("differs", f"{name} outside quotes is the field's str here; the "
                                      f"original pasted its text into the code (a client's 1 "
                                      f"became the number 1). Write int({name}) or "
                                      f"float({name}) where a number is meant ({DOC})")
            elif name == "VAL" and rtype in ARRAY_TYPES and rec.get("FTVL", "STRING") != "STRING":
                report.add("differs", "VAL is a numpy array here; the original gave a list "
                                      "(+ adds elementwise instead of joining). Write "
                                      f"VAL.tolist() where a list is meant ({DOC})")
        for word in usage.glued:
            self.glued(report, word)

    @staticmethod
    def glued(report: RecordReport, word: str) -> None:
        if report.record.rtype in ORIGINAL_TYPES:
            report.add("differs", f"{word} joined to a word outside quotes: the original pasted "
                                  f"the value's text into the code there (a name made from it); "
                                  f"here it is Python's %. Look the object up instead, e.g. "
                                  f"devices[VAL] ({DOC})")

    def finish(self) -> None:
        """Checks across records: every record of an iointr name has the same pydev:queue."""
        for name, members in self.queues.items():
            first = members[0][1]
            for report, queue in members[1:]:
                if queue != first:
                    report.add("DISABLED", f"pydev:queue differs from other records of iointr "
                                           f"'{name}' ({members[0][0].record.name}: "
                                           f"{first or 'none'})")


def _seconds(text: str) -> bool:
    try:
        return text == text.strip() and float(text) >= 0
    except ValueError:
        return False


def _count(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+", text)) and 1 <= int(text) <= QUEUE_MOST


def check(files: Sequence[tuple[str, list[dbtext.Record]]],
          types: dict[str, dict[str, FieldDef]]) -> list[RecordReport]:
    """The reports of the pydev (and pycalc) records of ``files``: (name, records) pairs."""
    checker = Checker(types)
    merged: dict[str, tuple[dbtext.Record, str]] = {}
    for file, records in files:
        for rec in records:  # a record given again adds fields, as dbLoadRecords does
            if rec.name in merged:
                old = merged[rec.name][0]
                old.fields.update(rec.fields)
                old.info.update(rec.info)
            else:
                merged[rec.name] = (rec, file)
    order = {name: i for i, name in enumerate(types)}  # iocInit: by record type, then load order
    ordered = sorted(merged.values(), key=lambda item: order.get(item[0].rtype, len(order)))
    reports = [r for r in (checker.record(rec, file) for rec, file in ordered) if r]
    checker.finish()
    position = {name: i for i, name in enumerate(merged)}
    return sorted(reports, key=lambda r: position[r.record.name])


# ---- the command line -----------------------------------------------------------------------

def _print(reports: list[RecordReport], verbose: bool, out) -> None:
    for report in reports:
        if not report.findings and not verbose:
            continue
        rec = report.record
        print(f"{rec.name} ({rec.rtype}, {report.file}:{rec.line})", file=out)
        for finding in report.findings:
            print(f"  {finding.kind}: {finding.text}", file=out)
            for line in finding.detail.splitlines():
                print(f"      {line}", file=out)
        if verbose and report.usage and report.usage.describe():
            print(f"  {report.usage.describe()}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    from .screens.cli import _macros

    parser = argparse.ArgumentParser(
        prog="python -m pydevice check",
        description="Compile every pydev link (and pycalc CALC) of the databases without an IOC, "
                    "and say per record what would disable it at init and where it behaves "
                    "otherwise than with the original PyDevice. Exit status 1 when a record "
                    "would be disabled.")
    parser.add_argument("files", nargs="+", metavar="FILE.db")
    parser.add_argument("-m", "--macros", action="append", default=[],
                        help="macros for the files, as for dbLoadRecords: -m P=Tank:,N=2")
    parser.add_argument("--dbd", action="append", type=Path, default=[],
                        help="the IOC's dbd (default: dbd/pydevIoc.dbd of this installation)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="every record, with the words of its link taken as macros")
    args = parser.parse_args(argv)
    try:
        macros: dict[str, str] = {}
        for text in args.macros:
            macros.update(_macros(text))
    except ValueError as exc:
        parser.error(str(exc))
    dbds, dirs = (args.dbd, [p.parent for p in args.dbd]) if args.dbd else default_dbd()
    try:
        types = read_dbd(dbds, dirs)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not types:
        print("warning: no dbd found (give --dbd): fields are not checked", file=sys.stderr)
    files = []
    for name in args.files:
        try:
            files.append((name, dbtext.parse(Path(name).read_text(), macros)))
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            return 2
        except dbtext.DbSyntaxError as exc:
            print(f"{name}: DISABLED: dbLoadRecords cannot read it: {exc}")
            return 1
    reports = check(files, types)
    _print(reports, args.verbose, sys.stdout)
    disabled = sum(r.disabled for r in reports)
    differs = sum(any(f.kind == "differs" for f in r.findings) for r in reports)
    print(f"{len(reports)} records with Python code: {disabled} would be disabled, "
          f"{differs} behave otherwise than with the original PyDevice")
    return 1 if disabled else 0
