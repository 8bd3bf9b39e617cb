#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The include and call graph of pydevApp/src, from its ``#include "..."`` lines and calls.

    python3 tools/depgraph.py [SRC_DIR]          # text: edges, then cycles (if any)
    python3 tools/depgraph.py --check [SRC_DIR]  # exit status 1 if the files call in a circle

A call edge A -> B means that A.c calls a function that B.c defines (not static).  Functions
are found by their definitions at the start of a line; good enough for this code base's style,
not a C parser.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \t\*]*?\b(pydev\w+)\s*\((?:[^;]*|[^;]*\)\s*\{.*)$", re.M)
CALL = re.compile(r"\b(pydev\w+)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def scan(src: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(includes, calls): file stem -> local headers it includes / file stems it calls into."""
    texts = {p.stem: p.read_text() for p in sorted(src.glob("*.c"))}
    code = {stem: STRING.sub('""', COMMENT.sub(" ", text)) for stem, text in texts.items()}
    owner: dict[str, str] = {}
    for stem, text in code.items():
        for name in DEFINITION.findall(text):
            owner.setdefault(name, stem)
    includes = {stem: set(INCLUDE.findall(text)) for stem, text in texts.items()}
    calls: dict[str, set[str]] = {}
    for stem, text in code.items():
        calls[stem] = {owner[n] for n in CALL.findall(text) if n in owner and owner[n] != stem}
    return includes, calls


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one file (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default=str(Path(__file__).parent.parent / "pydevApp/src"))
    parser.add_argument("--check", action="store_true", help="fail if files call in a circle")
    args = parser.parse_args()
    includes, calls = scan(Path(args.src))
    print("includes (local headers):")
    for stem in sorted(includes):
        print(f"  {stem}.c: {', '.join(sorted(includes[stem])) or '-'}")
    print("calls (A -> the files whose functions A calls):")
    for stem in sorted(calls):
        print(f"  {stem} -> {', '.join(sorted(calls[stem])) or '-'}")
    circles = cycles(calls)
    print("cycles:", "; ".join(" <-> ".join(c) for c in circles) if circles else "none")
    return 1 if args.check and circles else 0


if __name__ == "__main__":
    sys.exit(main())
