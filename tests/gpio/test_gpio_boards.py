# SPDX-License-Identifier: BSD-3-Clause
"""Raspberry Pi header maps and revision decoding (no hardware)."""
import pytest

from pydevice.gpio.boards import (bcm_line_name, bcm_to_board, board_to_bcm, decode_revision,
                                  read_board_info)


@pytest.mark.parametrize("pin,bcm", [(3, 2), (5, 3), (7, 4), (11, 17), (12, 18), (13, 27),
                                     (15, 22), (19, 10), (24, 8), (26, 7), (27, 0), (28, 1),
                                     (29, 5), (31, 6), (32, 12), (33, 13), (35, 19), (36, 16),
                                     (37, 26), (38, 20), (40, 21)])
def test_40_pin_header(pin, bcm):
    assert board_to_bcm(pin) == bcm
    assert bcm_to_board(bcm) == pin


def test_26_pin_revisions_differ_where_rpio_says():
    assert (board_to_bcm(3, 1), board_to_bcm(5, 1), board_to_bcm(13, 1)) == (0, 1, 21)
    assert (board_to_bcm(3, 2), board_to_bcm(5, 2), board_to_bcm(13, 2)) == (2, 3, 27)
    with pytest.raises(ValueError):
        board_to_bcm(29, 2)  # only on 40-pin headers


@pytest.mark.parametrize("pin", [1, 2, 4, 6, 9, 14, 17, 20, 25, 30, 34, 39, 41])
def test_power_and_ground_pins_are_not_gpios(pin):
    with pytest.raises(ValueError, match=f"pin {pin}"):
        board_to_bcm(pin)


def test_line_names():
    assert bcm_line_name(17) == "GPIO17"
    with pytest.raises(ValueError):
        bcm_line_name(54)


def test_decode_old_and_new_revision_codes():
    b = decode_revision("0002")
    assert (b.model, b.mb_ram, b.maker, b.header_revision) == ("B", 256, "Egoman", 1)
    assert decode_revision("000e").header_revision == 2
    assert decode_revision("1000002").header_revision == 1  # overvolted (warranty bit)
    b = decode_revision("a02082")   # Pi 3B, 1 GB, Sony UK
    assert (b.model, b.mb_ram, b.maker, b.revision, b.header_revision) == ("3B", 1024, "Sony UK", "1.2", 3)
    b = decode_revision("d04170")   # Pi 5, 8 GB
    assert (b.model, b.mb_ram, b.header_revision) == ("5", 8192, 3)
    with pytest.raises(ValueError):
        decode_revision("0001")


def test_board_info_from_files(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text("processor : 0\nRevision\t: c03111\nSerial : 1\n")
    b = read_board_info(str(tmp_path))
    assert (b.hex_rev, b.model, b.mb_ram) == ("c03111", "4B", 4096)
    (tmp_path / "proc/cpuinfo").write_text("processor : 0\n")
    (tmp_path / "proc/device-tree").mkdir()
    (tmp_path / "proc/device-tree/model").write_bytes(b"Kunbus RevPi Connect 4\x00")
    (tmp_path / "proc/meminfo").write_text("MemTotal:        2048000 kB\n")
    b = read_board_info(str(tmp_path))
    assert (b.hex_rev, b.model, b.mb_ram, b.header_revision) == ("", "Kunbus RevPi Connect 4", 2000, 3)


def test_revision_hex_from_the_device_tree_is_written_as_cpuinfo_writes_it(tmp_path):
    """RPIO's RPI_REVISION_HEX is /proc/cpuinfo's Revision ("%04x" in the kernel); a kernel
    that only has the device tree's 4 bytes gives the same string, not 8 hex digits."""
    (tmp_path / "proc/device-tree/system").mkdir(parents=True)
    (tmp_path / "proc/device-tree/system/linux,revision").write_bytes(bytes.fromhex("0000000e"))
    assert read_board_info(str(tmp_path)).hex_rev == "000e"
    (tmp_path / "proc/device-tree/system/linux,revision").write_bytes(bytes.fromhex("00a02082"))
    b = read_board_info(str(tmp_path))
    assert (b.hex_rev, b.model) == ("a02082", "3B")
