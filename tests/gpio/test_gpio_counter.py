# SPDX-License-Identifier: BSD-3-Clause
"""EdgeCounter: exact counts from the kernel's line seqno, even across dropped events."""
import pytest

from pydevice.gpio import EdgeCounter


def feed(counter, events):
    for seq, kind in events:
        counter.update(seq, kind)
    return counter


def test_no_gaps_counts_each_event():
    c = feed(EdgeCounter("both", "both"), [(1, "rising"), (2, "falling"), (3, "rising")])
    assert (c.count, c.lost, c.overflows) == (3, 0, 0)
    c = feed(EdgeCounter("rising", "both"), [(1, "rising"), (2, "falling"), (3, "rising")])
    assert c.count == 2


def test_gap_adds_exactly_when_the_kernel_numbers_only_counted_edges():
    # request detects rising edges only: seqno counts rising edges, so a gap is exact
    c = feed(EdgeCounter("rising", "rising"), [(1, "rising"), (2, "rising"), (7, "rising")])
    assert (c.count, c.lost, c.overflows, c.estimated) == (7, 4, 1, 0)
    c = feed(EdgeCounter("both", "both"), [(1, "rising"), (5, "rising"), (9, "falling")])
    assert (c.count, c.lost, c.overflows) == (9, 6, 2)


@pytest.mark.parametrize("total", range(2, 30))
@pytest.mark.parametrize("start", ["rising", "falling"])
def test_alternation_recovers_one_kind_across_any_gap(total, start):
    # a square wave of `total` edges of which the kernel kept only the first and last
    other = "falling" if start == "rising" else "rising"
    kinds = [start if i % 2 == 0 else other for i in range(total)]
    for edge in ("rising", "falling"):
        c = feed(EdgeCounter(edge, "both"), [(1, kinds[0]), (total, kinds[-1])])
        assert c.count == kinds.count(edge)
        assert c.lost == total - 2


def test_gap_before_the_first_event():
    # events 1..4 dropped; the 5th (rising) kept: dropped ones were R F R F
    c = feed(EdgeCounter("rising", "both"), [(5, "rising")])
    assert (c.count, c.lost) == (3, 4)
    c = feed(EdgeCounter("falling", "both"), [(5, "rising")])
    assert c.count == 2


def test_restarted_numbering_is_not_a_gap():
    c = feed(EdgeCounter("both", "both"), [(1, "rising"), (2, "falling"), (1, "rising")])
    assert (c.count, c.lost) == (3, 0)


def test_bad_combinations():
    with pytest.raises(ValueError):
        EdgeCounter("rising", "falling")
    with pytest.raises(ValueError):
        EdgeCounter("up")
