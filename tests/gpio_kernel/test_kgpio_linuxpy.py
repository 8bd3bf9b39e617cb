# SPDX-License-Identifier: BSD-3-Clause
"""Conformance with linuxpy's GPIO API (../shared/seeds/linuxpy-gpio-reference.txt), on a
real kernel: one test per function of the reference, written as linuxpy's documentation
uses it.  Where we knowingly differ, docs/gpio.md "Conformance" says so."""
from __future__ import annotations

import asyncio
import os
import pathlib
import threading
import time

import pytest

from pydevice.gpio import (ChipNotFoundError, Device, LineChangedType, LineEventId, LineFlag,
                           Request, expand_from_list, find, get_chip_info, get_info,
                           get_line_info, get_values, iter_devices, iter_gpio_files,
                           read_one_event, request, set_values)


def mask_of(offsets, lines):
    """linuxpy's mask: bit i is the request's i-th line."""
    return sum(1 << offsets.index(line) for line in lines)


# -- Device -------------------------------------------------------------------------------------

def test_device_opens_by_path_object_and_from_id(sim):
    with Device(pathlib.Path(sim.path)) as dev:
        assert dev.name == sim.name and len(dev) == 8
    with Device.from_id(int(sim.name[len("gpiochip"):])) as dev:
        assert dev.path == sim.path
    assert dev.closed
    dev.open()  # as linuxpy's, a closed Device opens again
    try:
        assert not dev.closed and get_chip_info(dev).lines == 8
    finally:
        dev.close()


def test_device_request_without_config_reserves_every_line(sim):
    with Device(sim.name, consumer="all-lines") as dev:
        req = dev.request()
        assert len(req) == 8 and not dev.line_info(7).used  # lazy until opened
        with req:
            assert sorted(req.get_values()) == list(range(8))
            assert all(li.used and li.consumer == "all-lines" for li in dev.get_info().lines)
        assert not any(li.used for li in dev.get_info().lines)


def test_device_request_dict_config_names_the_consumer_and_configures_each_line(sim):
    config = {"name": "conf-app",
              "lines": [5, {"line": 6, "direction": "output"},
                        {"line": 4, "bias": "pull-up", "active": "low"}]}
    with Device(sim.name) as dev, dev.request(config) as lines:
        infos = {i: dev.line_info(i) for i in (4, 5, 6)}
        assert {li.consumer for li in infos.values()} == {"conf-app"}
        assert (infos[5].direction, infos[6].direction, infos[4].direction) == \
            ("input", "output", "input")
        assert infos[4].bias == "pull-up" and infos[4].active_low
        assert lines[4] == 0  # pulled up, active low
        lines[6] = 1
        assert sim.level(6) == 1


def test_device_request_line_map_form_and_linuxpy_spellings(sim):
    config = {"name": "map", "lines": {5: {}, 6: {"direction": "output", "drive": "drain"}}}
    with Device(sim.name) as dev, dev.request(config):
        assert dev.line_info(6).drive == "open-drain"
        assert dev.line_info(5).direction == "input"


def test_bad_request_config_is_refused_naming_the_line(sim):
    with Device(sim.name) as dev:
        with pytest.raises(ValueError, match=rf"{sim.name} line 5.*'pull'"):
            dev.request({"lines": [{"line": 5, "pull": "up"}]})
        with pytest.raises(ValueError, match="'line' key"):
            dev.request({"lines": [{"direction": "output"}]})
        with pytest.raises(ValueError, match="given twice"):
            dev.request([5, {"line": 5}])
        assert not dev.line_info(5).used


def test_device_len_is_the_number_of_lines(sim, sim_factory):
    with Device(sim.name) as dev:
        assert len(dev) == 8 == get_chip_info(dev).lines
    with Device(sim_factory(70).name) as dev:
        assert len(dev) == 70


def test_device_getitem_is_a_lazy_request(sim):
    """device[key] is device.request(key): nothing reserved until it is opened."""
    with Device(sim.name) as dev:
        lines = dev[5, 6]
        assert isinstance(lines, Request) and not dev.line_info(5).used
        part = dev[2:5]  # a slice, as linuxpy's expand_from_list
        assert (len(part), part.min_line, part.max_line) == (3, 2, 4)
        sim.pull(5, 1)
        with lines:
            assert lines[:] == {5: 1, 6: 0}
            assert dev.line_info(6).used and not dev.line_info(4).used


def test_find_and_line_flags_as_the_references_example(sim):
    """The reference's opening example: find() the chip, flag lines 5 and 6 ACTIVE_LOW
    before the request opens; the kernel then holds them active-low."""
    sim.pull(5, 1)
    with find() as gpio:
        assert gpio.path == sim.path
        lines = gpio[5, 6]
        lines.flags = LineFlag.ACTIVE_LOW
        with lines:
            assert lines[:] == {5: 0, 6: 1}  # line 5 pulled up, 6 down: inverted
            assert lines.flags & LineFlag.ACTIVE_LOW
            for off in (5, 6):
                info = gpio.line_info(off)
                assert info.active_low and info.flags & LineFlag.ACTIVE_LOW and info.used


def test_find_criteria_find_all_and_no_match(sim, sim_factory):
    """find(find_all=True) iterates every match, custom_match decides too; where nothing
    matches ours raises ChipNotFoundError naming what was asked (the reference says
    nothing; linuxpy itself returns None, which `with find()` turns into a TypeError)."""
    other = sim_factory(4, label="pinctrl-sim")
    found = list(find(find_all=True, label="pinctrl-sim"))
    try:
        assert sorted(d.name for d in found) == sorted([sim.name, other.name])
    finally:
        for d in found:
            d.close()
    assert list(find(find_all=True, label="no-such-label")) == []
    with find(custom_match=lambda d: d.name == other.name) as dev:
        assert dev.label == "pinctrl-sim" and len(dev) == 4
    with pytest.raises(ChipNotFoundError, match="label='no-such-label'"):
        find(label="no-such-label")


def test_device_get_info(sim):
    with Device(sim.name) as dev:
        info = dev.get_info()
    name, label, lines = info
    assert (name, label, len(lines)) == (sim.name, "pinctrl-sim", 8)
    assert lines[0].name == "GPIO17" and lines[0].flags & LineFlag.INPUT


def _toggle_line_info(sim, line):
    with Device(sim.name, consumer="someone") as other:
        with other.request(line, bias="pull-up") as req:
            req.configure(bias="pull-down")


def test_device_iteration_yields_line_info_events(sim):
    with Device(sim.name) as dev, dev.watching([2]):
        before = time.time()
        _toggle_line_info(sim, 2)
        stream = iter(dev)
        events = [next(stream) for _ in range(3)]
    assert [e.type for e in events] == [LineChangedType.REQUESTED, LineChangedType.CONFIG,
                                       LineChangedType.RELEASED]
    name, consumer, line, flags, attributes, timestamp, type_ = events[1]
    assert (name, consumer, line) == ("GPIO22", "someone", 2)
    assert flags & LineFlag.USED and flags & LineFlag.BIAS_PULL_DOWN
    assert type_ is LineChangedType.CONFIG and attributes.debounce_period is None
    assert before - 1 < events[0].timestamp <= events[2].timestamp < time.time() + 1
    assert not events[2].flags & LineFlag.USED


def test_device_async_iteration_yields_line_info_events(sim):
    async def main():
        with Device(sim.name) as dev, dev.watching(["GPIO27"]):
            loop = asyncio.get_running_loop()
            loop.call_later(0.1, _toggle_line_info, sim, 1)
            got = []
            async for ev in dev:
                got.append((ev.line, ev.type, ev.consumer))
                if len(got) == 3:
                    return got

    got = asyncio.run(asyncio.wait_for(main(), 10))
    assert got == [(1, LineChangedType.REQUESTED, "someone"),
                   (1, LineChangedType.CONFIG, "someone"), (1, LineChangedType.RELEASED, "")]


# -- Request ------------------------------------------------------------------------------------

def test_request_constructor_takes_device_config_and_blocking(sim):
    with Device(sim.name) as dev:
        req = Request(dev, {"name": "ctor", "lines": [2, {"line": 3, "direction": "output"}]},
                      blocking=True)
        assert not dev.line_info(2).used  # lazy, as device.request()
        with req:
            assert dev.line_info(2).consumer == "ctor" == dev.line_info(3).consumer
            assert dev.line_info(3).direction == "output"
            assert all(os.get_blocking(fd) for fd in req.filenos())


def test_request_name_is_writable_until_open(sim):
    with Device(sim.name) as dev:
        req = dev.request({"name": "first", "lines": [2]})
        assert req.name == "first"
        req.name = "renamed"
        with req:
            assert req.name == "renamed" == dev.line_info(2).consumer


def test_request_open_reserves_the_lines(sim):
    with Device(sim.name) as dev:
        req = dev.request([2, 3])
        assert req.open() is req  # returns itself, so `req = dev[2].open()` holds the line
        try:
            assert dev.line_info(2).used and dev.line_info(3).used
        finally:
            req.close()


def test_request_close_releases_and_does_nothing_when_not_open(sim):
    with Device(sim.name) as dev:
        req = dev.request([2])
        req.close()  # not open: nothing done
        req.open()
        req.close()
        assert not dev.line_info(2).used and not req.is_open
        req.close()


def test_request_files_follow_blocking(sim):
    with Device(sim.name) as dev:
        with dev.request([3]) as req:  # linuxpy's default: non-blocking
            assert not any(os.get_blocking(fd) for fd in req.filenos())
        with dev.request([3], blocking=True) as req:
            assert all(os.get_blocking(fd) for fd in req.filenos())
    with Device(sim.name, blocking=True) as dev, dev.request([3]) as req:
        assert dev.is_blocking and all(os.get_blocking(fd) for fd in req.filenos())


@pytest.fixture
def outputs16(sim_factory):
    """(chip, request): 16 simulated lines, all requested as outputs at 0."""
    chip = sim_factory(16, label="pinctrl-sim16")
    with Device(chip.name) as dev:
        with dev.request([{"line": i, "direction": "output"} for i in range(16)]) as lines:
            yield chip, lines


def test_request_min_line_is_the_smallest_line(sim):
    with Device(sim.name) as dev:
        assert dev.request([6, 2, 4]).min_line == 2


def test_request_max_line_is_the_biggest_line(sim):
    with Device(sim.name) as dev:
        assert dev.request([6, 2, 4]).max_line == 6


def test_request_getitem_reads_a_line_or_a_dict_as_the_user_guide(outputs16):
    chip, lines = outputs16
    for off in (3, 12, 14):
        lines[off] = 1
    assert lines[12] == 1 and lines[13] == 0
    assert lines[3, 6, 10:16:2] == {3: 1, 6: 0, 10: 0, 12: 1, 14: 1}
    assert lines[:] == {i: int(i in (3, 12, 14)) for i in range(16)}


def test_request_setitem_writes_lines_as_the_user_guide(outputs16):
    chip, lines = outputs16
    lines[5] = 1
    lines[7, 5] = 0, 1
    assert (chip.level(7), chip.level(5)) == (0, 1)
    lines[:] = 1
    assert all(chip.level(i) for i in range(16))
    lines[3, 10, 12:15] = (0, 0, 1, 0, 1)
    assert [chip.level(i) for i in (3, 10, 12, 13, 14)] == [0, 0, 1, 0, 1]
    with pytest.raises(ValueError):
        lines[5] = (1,)  # one line, a sequence


def test_request_get_values_reads_the_given_lines_or_all(outputs16):
    chip, lines = outputs16
    lines[12] = 1
    assert lines.get_values([12, 13]) == {12: 1, 13: 0}
    assert lines.get_values() == {i: int(i == 12) for i in range(16)}


def test_request_set_values_writes_a_dict_of_lines(outputs16):
    chip, lines = outputs16
    lines.set_values({13: True, 2: 1})
    assert (chip.level(13), chip.level(2), chip.level(3)) == (1, 1, 0)
    lines.set_values({13: False})
    assert (chip.level(13), chip.level(2)) == (0, 1)


def test_request_of_more_than_64_lines_uses_several_kernel_requests(sim_factory):
    chip = sim_factory(70, label="wide")
    chip.pull(69, 1)
    chip.pull(1, 1)
    with Device(chip.name) as dev, dev.request(edge="both") as lines:
        assert len(lines.filenos()) == 2
        values = lines[:]
        assert len(values) == 70 and values[69] == 1 and values[1] == 1 and values[68] == 0
        chip.pull(69, 0)
        ev = next(iter(lines))
        assert (ev.line, ev.type) == (69, LineEventId.FALLING_EDGE)


def test_request_iteration_yields_linuxpy_line_events(sim):
    sim.pull(4, 0)
    with Device(sim.name) as dev, dev.request({"lines": [{"line": 4, "edge": "both"}]}) as lines:
        stream = iter(lines)
        sim.pull(4, 1)
        first = next(stream)
        sim.pull(4, 0)
        second = next(stream)
    timestamp, type_, line, sequence, line_sequence = first
    assert (type_.name, line, sequence, line_sequence) == ("RISING_EDGE", 4, 1, 1)
    assert second.type is LineEventId.FALLING_EDGE and second.sequence == 2
    assert abs(timestamp - time.time()) < 5


def test_request_async_iteration_yields_linuxpy_line_events(sim):
    sim.pull(3, 0)

    async def main():
        with Device(sim.name) as dev, dev.request([{"line": 3, "edge": "rising"}]) as lines:
            asyncio.get_running_loop().call_later(0.1, sim.pull, 3, 1)
            async for event in lines:
                return event

    event = asyncio.run(asyncio.wait_for(main(), 10))
    assert (event.type, event.line, event.line_sequence) == (LineEventId.RISING_EDGE, 3, 1)


def test_request_nested_with_releases_at_the_outermost_exit(sim):
    """Request is a ReentrantOpen in the reference: nested ``with`` blocks are counted and
    only the outermost exit releases the lines; close() releases at once."""
    with Device(sim.name) as dev:
        req = dev[3]
        with req:
            with req:
                assert dev.line_info(3).used
            assert dev.line_info(3).used and req.filenos()  # the inner exit kept them
            with req:
                req.close()  # the reference's close(): the files now
                assert not dev.line_info(3).used
        assert not dev.line_info(3).used  # exits after close() do nothing
        with req:  # and it opens again
            assert dev.line_info(3).used
        assert not dev.line_info(3).used


# -- module functions ---------------------------------------------------------------------------

def test_iter_gpio_files_yields_the_chips_as_paths(sim, tmp_path):
    files = list(iter_gpio_files())
    assert all(isinstance(p, pathlib.Path) for p in files)
    assert pathlib.Path(sim.path) in files
    (tmp_path / "gpiochip0").write_text("not a device")
    assert list(iter_gpio_files(tmp_path)) == []  # only GPIO character devices


def test_iter_devices_opens_the_chips_under_path_with_the_keywords(sim, sim_factory, tmp_path):
    """iter_devices(path, **kwargs): a Device per chip under ``path``, made with
    ``kwargs``; the caller closes them."""
    sim_factory(4)  # under /dev, not under tmp_path
    (tmp_path / sim.name).symlink_to(sim.path)
    devices = list(iter_devices(tmp_path, consumer="iterated", blocking=True))
    try:
        assert [os.path.realpath(d.path) for d in devices] == [sim.path]
        dev = devices[0]
        assert dev.is_blocking and not dev.closed
        with dev.request([2]) as req:
            assert all(os.get_blocking(fd) for fd in req.filenos())
            assert get_line_info(dev, 2).consumer == "iterated"
    finally:
        for d in devices:
            d.close()
    assert all(d.closed for d in devices)
    assert list(iter_devices(tmp_path / "empty")) == []


# -- fd-level functions -------------------------------------------------------------------------

def test_get_chip_info_of_a_file(sim):
    with Device(sim.name) as dev:
        assert get_chip_info(dev.fileno()) == (sim.name, "pinctrl-sim", 8)
    with open(sim.path, "rb") as f:
        name, label, lines = get_chip_info(f)
    assert (name, label, lines) == (sim.name, "pinctrl-sim", 8)


def test_get_line_info_of_a_file(sim):
    with open(sim.path, "rb") as f:
        name, consumer, line, flags, attributes = get_line_info(f, 0)
        assert (name, consumer, line) == ("GPIO17", "", 0) and not flags & LineFlag.USED
        with Device(sim.name, consumer="holder") as dev, dev.request(0, bias="pull-up",
                                                                      debounce=0.01):
            info = get_line_info(f.fileno(), 0)
    assert info.consumer == "holder" and info.line == 0
    assert info.flags & LineFlag.USED and info.flags & LineFlag.BIAS_PULL_UP
    assert info.attributes.debounce_period == pytest.approx(0.01)


def test_get_info_of_a_file(sim):
    with open(sim.path, "rb") as f:
        info = get_info(f)
    assert (info.name, info.label, len(info.lines)) == (sim.name, "pinctrl-sim", 8)
    assert [li.name for li in info.lines[:3]] == ["GPIO17", "GPIO27", "GPIO22"]


def test_raw_request_holds_the_lines_until_its_fd_is_closed(sim):
    with open(sim.path, "rb") as f:
        result = request(f, {"name": "raw-app", "lines": [{"line": 5, "direction": "output"}, 6]})
        try:
            assert not os.get_blocking(result.fd)
            assert sorted(result.offsets) == [5, 6] and result.consumer == "raw-app"
            info = get_line_info(f, 5)
            assert info.consumer == "raw-app" and info.flags & LineFlag.OUTPUT
        finally:
            os.close(result.fd)
        assert not get_line_info(f, 5).flags & LineFlag.USED
        blocking = request(f, {"lines": [2]}, blocking=True)
        try:
            assert os.get_blocking(blocking.fd)
        finally:
            os.close(blocking.fd)


def test_raw_get_values_reads_the_masked_lines(sim):
    sim.pull(2, 1)
    sim.pull(3, 0)
    with open(sim.path, "rb") as f:
        req = request(f, {"lines": [2, 3, 4]})
    try:
        offs = list(req.offsets)
        values = get_values(req.fd, mask_of(offs, [2, 3]))
        assert values.mask == mask_of(offs, [2, 3]) and values.bits == mask_of(offs, [2])
        sim.pull(3, 1)
        assert get_values(req.fd, mask_of(offs, [3])).bits == mask_of(offs, [3])
    finally:
        os.close(req.fd)


def test_raw_set_values_drives_the_masked_lines(sim):
    with open(sim.path, "rb") as f:
        req = request(f, {"lines": [{"line": 5, "direction": "output"},
                                    {"line": 6, "direction": "output"}]})
    try:
        offs = list(req.offsets)
        sent = set_values(req.fd, mask_of(offs, [5, 6]), mask_of(offs, [6]))
        assert sent.mask == mask_of(offs, [5, 6])
        assert (sim.level(5), sim.level(6)) == (0, 1)
        set_values(req.fd, mask_of(offs, [5]), mask_of(offs, [5]))
        assert (sim.level(5), sim.level(6)) == (1, 1)  # line 6 not in the mask: kept
    finally:
        os.close(req.fd)


def test_read_one_event_reads_one_kernel_edge_event(sim):
    sim.pull(3, 0)
    with open(sim.path, "rb") as f:
        req = request(f, {"lines": [{"line": 3, "edge": "both", "clock": "realtime"}]})
    try:
        with pytest.raises(BlockingIOError):
            read_one_event(req.fd)  # non-blocking and nothing pending
        sim.pull(3, 1)
        time.sleep(0.1)  # edges closer than the simulator's interrupt handling merge
        sim.pull(3, 0)
        time.sleep(0.2)
        first, second = read_one_event(req.fd), read_one_event(req.fd)
    finally:
        os.close(req.fd)
    timestamp, type_, line, sequence, line_sequence = first
    assert (type_, line, sequence, line_sequence) == (LineEventId.RISING_EDGE, 3, 1, 1)
    assert (second.type, second.line_sequence) == (LineEventId.FALLING_EDGE, 2)
    assert abs(timestamp - time.time()) < 5  # realtime clock: POSIX seconds


def test_read_one_event_blocks_on_a_blocking_request(sim):
    sim.pull(4, 0)
    with Device(sim.name) as dev, dev.request({"lines": [{"line": 4, "edge": "rising"}]},
                                              blocking=True) as lines:
        threading.Timer(0.2, sim.pull, (4, 1)).start()
        t0 = time.monotonic()
        ev = read_one_event(lines.filenos()[0])
        assert time.monotonic() - t0 >= 0.1
    assert (ev.line, ev.type) == (4, LineEventId.RISING_EDGE)


def test_expand_from_list_as_linuxpy():
    assert expand_from_list(5, 0, 8) == [5]
    assert expand_from_list(slice(None), 2, 8) == [2, 3, 4, 5, 6, 7]
    assert expand_from_list(slice(None, None, 3), 0, 8) == [0, 3, 6]
    assert expand_from_list((1, slice(3, 5), (6, 7)), 0, 8) == [1, 3, 4, 6, 7]
