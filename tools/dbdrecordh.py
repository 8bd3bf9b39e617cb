# SPDX-License-Identifier: BSD-3-Clause
"""Write the C header of a record type from its .dbd file, as EPICS' dbdToRecordtypeH.pl does.

Used by the CMake build, which has no EPICS perl tools (the EPICS make build uses base's own
tool through its pattern rule):
    python tools/dbdrecordh.py OUT.h IN.dbd DIR [DIR ...]

The header declares the record's struct (dbCommon's fields first, as every record type
has them), an enum of field indexes, and under GEN_SIZE_OFFSET the registrar that tells the
IOC each field's size and offset.  The `%` lines of the .dbd are copied in order before the
struct.  DIRs are searched for included files (dbCommon.dbd).
"""
from __future__ import annotations

import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from dbdexpand import expand  # noqa: E402

RECORDTYPE = re.compile(r"^\s*recordtype\(\s*(\w+)\s*\)")
FIELD = re.compile(r"^\s*field\(\s*(\w+)\s*,\s*(DBF_\w+)\s*\)")
ITEM = re.compile(r'^\s*(size|extra|prompt)\(\s*"?(.*?)"?\s*\)\s*$')
CDEF = re.compile(r"^\s*%(.*)$")

C_TYPES = {
    "DBF_CHAR": "epicsInt8", "DBF_UCHAR": "epicsUInt8", "DBF_SHORT": "epicsInt16",
    "DBF_USHORT": "epicsUInt16", "DBF_LONG": "epicsInt32", "DBF_ULONG": "epicsUInt32",
    "DBF_INT64": "epicsInt64", "DBF_UINT64": "epicsUInt64", "DBF_FLOAT": "epicsFloat32",
    "DBF_DOUBLE": "epicsFloat64", "DBF_ENUM": "epicsEnum16", "DBF_MENU": "epicsEnum16",
    "DBF_DEVICE": "epicsEnum16", "DBF_INLINK": "DBLINK", "DBF_OUTLINK": "DBLINK",
    "DBF_FWDLINK": "DBLINK",
}


def parse(lines: list[str]) -> tuple[str, list[str], list[dict[str, str]]]:
    """(record type name, % lines, fields in order: name, type, size, extra, prompt)."""
    name, cdefs, fields = "", [], []
    for line in lines:
        if line.lstrip().startswith("#"):
            continue
        if match := RECORDTYPE.match(line):
            name = match.group(1)
        elif match := CDEF.match(line):
            cdefs.append(match.group(1))
        elif match := FIELD.match(line):
            fields.append({"name": match.group(1), "type": match.group(2)})
        elif (match := ITEM.match(line)) and fields:
            fields[-1][match.group(1)] = match.group(2)
    if not name or not fields:
        sys.exit("dbdrecordh: no recordtype with fields found")
    return name, cdefs, fields


def member(field: dict[str, str]) -> str:
    """The struct member declaring a field."""
    lower = field["name"].lower()
    if field["type"] == "DBF_NOACCESS":
        return field["extra"] + ";"
    if field["type"] == "DBF_STRING":
        return f"char {lower}[{field['size']}];"
    return f"{C_TYPES[field['type']]} {lower};"


def header(name: str, cdefs: list[str], fields: list[dict[str, str]], source: str) -> str:
    rec = f"{name}Record"
    out = [f"/* {rec}.h - generated from {source} by tools/dbdrecordh.py; do not edit */",
           f"#ifndef INC_{rec}_H", f"#define INC_{rec}_H", ""]
    out += cdefs
    out += ["", f"typedef struct {rec} {{"]
    out += [f"    {member(f)}  /* {f['name']}: {f.get('prompt', '')} */" for f in fields]
    out += [f"}} {rec};", "", "typedef enum {"]
    out += [f"    {rec}{f['name']} = {i}," for i, f in enumerate(fields)]
    out += [f"}} {name}FieldIndex;", "", "#ifdef GEN_SIZE_OFFSET", "#include <epicsExport.h>",
            "#include <cantProceed.h>", "#ifdef __cplusplus", 'extern "C" {', "#endif",
            f"static int {rec}SizeOffset(dbRecordType *prt)", "{",
            f"    {rec} *prec = 0;", f"    if (prt->no_fields != {len(fields)}) {{",
            '        cantProceed("IOC build or installation error:\\n"',
            f'            "    The {rec} defined in the DBD file has %d fields,\\n"',
            f'            "    but the record support code was built with {len(fields)}.\\n",',
            "            prt->no_fields);", "    }"]
    for f in fields:
        lower = f["name"].lower()
        index = f"prt->papFldDes[{rec}{f['name']}]"
        out.append(f"    {index}->size = sizeof(prec->{lower});")
        out.append(f"    {index}->offset = (unsigned short)offsetof({rec}, {lower});")
    out += ["    prt->rec_size = sizeof(*prec);", "    return 0;", "}",
            f"epicsExportRegistrar({rec}SizeOffset);", "#ifdef __cplusplus", "}", "#endif",
            "#endif /* GEN_SIZE_OFFSET */", "", f"#endif /* INC_{rec}_H */", ""]
    return "\n".join(out)


def main(argv: list[str]) -> None:
    out, src, *dirs = argv
    source = pathlib.Path(src)
    lines = expand(source, [source.parent] + [pathlib.Path(d) for d in dirs])
    name, cdefs, fields = parse(lines)
    pathlib.Path(out).write_text(header(name, cdefs, fields, source.name))


if __name__ == "__main__":
    main(sys.argv[1:])
