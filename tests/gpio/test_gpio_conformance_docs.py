# SPDX-License-Identifier: BSD-3-Clause
"""docs/gpio.md's conformance tables are backed by tests: a row that says "same" names the
in-rig tests that check it, those tests exist, and every function of the linuxpy reference
has a row (issue 14: a "same" with no test behind it is a claim, not a result)."""
from __future__ import annotations

import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "gpio.md"
LINUXPY_SEED = REPO.parent / "shared" / "seeds" / "linuxpy-gpio-reference.txt"


def _section(title: str) -> str:
    """The text of the ``###`` section whose heading starts with ``title``."""
    text = DOC.read_text()
    start = text.index("\n### " + title)
    end = re.compile(r"\n##+ ").search(text, start + 1).start()
    return text[start:end]


def _rows(title: str) -> list:
    """The table rows of a section as (reference, here, tests) cells; a ``|`` inside a
    backquoted cell is not a column boundary."""
    rows = []
    for line in _section(title).splitlines():
        if not line.startswith("| ") or line.startswith("| reference") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in re.split(r"\|(?=(?:[^`]*`[^`]*`)*[^`]*$)", line)[1:-1]]
        assert len(cells) == 3, f"{title}: not a (reference | here | tests) row: {line}"
        rows.append(cells)
    assert rows, f"no table under '### {title}'"
    return rows


def _defined_tests() -> dict:
    """Test function name -> file, over the GPIO test directories."""
    found = {}
    for path in sorted((REPO / "tests").glob("gpio*/test_*.py")):
        for name in re.findall(r"^def (test_\w+)\(", path.read_text(), re.M):
            found[name] = path.name
    return found


@pytest.mark.parametrize("title", ["RPIO", "linuxpy.gpio"])
def test_every_same_row_names_tests_that_exist(title):
    defined = _defined_tests()
    for reference, here, tests in _rows(title):
        names = re.findall(r"`(test_\w+)`", tests)
        if here.startswith("same"):
            assert names, f"{title} row {reference}: says 'same' but names no test"
        missing = [n for n in names if n not in defined]
        assert not missing, f"{title} row {reference}: no such test {missing}"


def test_linuxpy_rows_are_checked_by_the_linuxpy_test_file():
    defined = _defined_tests()
    for reference, _here, tests in _rows("linuxpy.gpio"):
        names = re.findall(r"`(test_\w+)`", tests)
        assert any(defined.get(n) == "test_kgpio_linuxpy.py" for n in names), (
            f"linuxpy row {reference}: none of its tests is in test_kgpio_linuxpy.py")


# how the table writes a reference name that is a Python special method
_SPELLED = {"__getitem__": "[key]", "__setitem__": "[key] = value", "__len__": "len(",
            "Device": "Device(", "Request": "Request("}


def test_every_function_of_the_linuxpy_reference_has_a_row():
    if not LINUXPY_SEED.exists():
        pytest.skip(f"the linuxpy reference is not at {LINUXPY_SEED}")
    seed = LINUXPY_SEED.read_text()
    functions = set(re.findall(r"^(\w+)(?:\(|: \w+ property)", seed, re.M))
    functions |= {"find", "LineFlag"}  # the reference's opening example uses them
    references = " ".join(reference for reference, _, _ in _rows("linuxpy.gpio"))
    missing = sorted(f for f in functions if _SPELLED.get(f, f) not in references)
    assert not missing, f"linuxpy reference functions with no conformance row: {missing}"
