# SPDX-License-Identifier: BSD-3-Clause
"""The RPIO-compatible layer against gpio-sim lines named like a Raspberry Pi's."""
from __future__ import annotations

import os
import queue
import re
import socket
import threading
import time
import warnings

import pytest

import pydevice.gpio.rpio as RPIO
from pydevice.gpio import Device, GpioError, LineNotFoundError

# the `sim` fixture names offsets 0..5 GPIO17, GPIO27, GPIO22, GPIO4, GPIO5, GPIO6


@pytest.fixture(autouse=True)
def clean(sim):  # needs `sim` so RPIO lets go of the lines before the chip is removed
    RPIO.setmode(RPIO.BCM)
    RPIO.setchip(None)
    yield
    RPIO.cleanup()
    RPIO.setwarnings(True)  # RPIO's default


def test_setup_input_output_cleanup(sim):
    sim.pull(0, 1)
    RPIO.setup(17, RPIO.IN)
    assert RPIO.input(17) == 1
    RPIO.setup(27, RPIO.OUT, initial=RPIO.HIGH)
    assert sim.level(1) == 1
    RPIO.output(27, False)
    assert sim.level(1) == 0
    RPIO.output(27, 1)
    assert sim.level(1) == 1
    with pytest.raises(RuntimeError):
        RPIO.output(17, 1)  # an input
    with pytest.raises(RuntimeError):
        RPIO.input(22)  # not set up
    assert RPIO.gpio_function(27) == RPIO.OUT and RPIO.gpio_function(17) == RPIO.IN
    with Device(sim.name) as dev:
        assert dev.line_info(1).consumer == "RPIO"
        RPIO.cleanup()
        info = dev.line_info(1)
        assert not info.used and info.direction == "input"  # outputs go back to inputs


def test_board_numbering(sim):
    RPIO.setmode(RPIO.BOARD)
    assert RPIO.getmode() == RPIO.BOARD
    sim.pull(0, 1)
    RPIO.setup(11, RPIO.IN)  # header pin 11 = BCM 17
    assert RPIO.input(11) == 1
    RPIO.setup(13, RPIO.OUT, initial=1)  # pin 13 = BCM 27
    assert sim.level(1) == 1
    with pytest.raises(ValueError):
        RPIO.setup(1, RPIO.IN)  # 3.3 V pin


def test_set_pullupdn_and_setup_pull(sim):
    RPIO.setup(22, RPIO.IN, pull_up_down=RPIO.PUD_UP)
    assert RPIO.input(22) == 1
    RPIO.set_pullupdn(22, RPIO.PUD_DOWN)
    assert RPIO.input(22) == 0
    RPIO.set_pullupdn(4, RPIO.PUD_UP)  # not set up: claimed as an input with the pull
    assert RPIO.forceinput(4) == 1


def test_gpio_function_of_line_used_elsewhere(sim):
    with Device(sim.name) as dev, dev.request(4, consumer="spi-ish"):
        assert RPIO.gpio_function(5) == RPIO.ALT0


def test_setchip_offsets_and_missing_line(sim, sim_factory):
    other = sim_factory(4)  # unnamed lines: reachable only by offset after setchip
    with pytest.raises(LineNotFoundError, match="GPIO3"):
        RPIO.setup(3, RPIO.IN)
    RPIO.setchip(other.name)
    other.pull(3, 1)
    RPIO.setup(3, RPIO.IN)
    assert RPIO.input(3) == 1


def test_interrupt_callbacks_edges_values(sim):
    got = queue.Queue()
    RPIO.add_interrupt_callback(17, lambda gpio, v: got.put(("both", gpio, v)))
    RPIO.add_interrupt_callback(27, lambda gpio, v: got.put(("rising", gpio, v)), edge="rising",
                                pull_up_down=RPIO.PUD_DOWN)
    RPIO.wait_for_interrupts(threaded=True)
    sim.pull(0, 1)
    assert got.get(timeout=5) == ("both", 17, 1)
    sim.pull(0, 0)
    assert got.get(timeout=5) == ("both", 17, 0)
    sim.pull(1, 1)
    assert got.get(timeout=5) == ("rising", 27, 1)
    sim.pull(1, 0)
    time.sleep(0.3)
    assert got.empty()  # no falling-edge callback on 27
    RPIO.del_interrupt_callback(17)
    sim.pull(0, 1)
    time.sleep(0.3)
    assert got.empty()
    with Device(sim.name) as dev:
        assert not dev.line_info(0).used  # released: it was claimed only for the callback
    RPIO.stop_waiting_for_interrupts()


def test_threaded_callbacks_run_on_a_bounded_pool(sim):
    threads = set()
    count = [0]
    lock = threading.Lock()

    def slow(gpio, v):
        time.sleep(0.05)
        with lock:
            threads.add(threading.current_thread().name)
            count[0] += 1

    RPIO.add_interrupt_callback(22, slow, threaded_callback=True)
    RPIO.wait_for_interrupts(threaded=True)
    for i in range(10):  # edges faster than the 50 ms callbacks finish
        sim.pull(2, (i + 1) % 2)
        time.sleep(0.02)
    # gpio-sim may merge edges under load: wait until the callbacks stop coming
    last = -1
    while count[0] != last:
        last = count[0]
        time.sleep(0.5)
    assert count[0] >= 2
    assert all(t.startswith("rpio-callback") for t in threads)
    assert 1 <= len(threads) <= 4


def test_board_mode_callbacks_receive_the_gpio_id(sim):
    """Issue 14.4: RPIO converts the channel with channel_to_gpio; BOARD pin 11 is GPIO17."""
    got = queue.Queue()
    RPIO.setmode(RPIO.BOARD)
    sim.pull(0, 0)
    RPIO.add_interrupt_callback(11, lambda gpio, v: got.put((gpio, v)))
    RPIO.wait_for_interrupts(threaded=True)
    sim.pull(0, 1)
    assert got.get(timeout=5) == (17, 1)
    RPIO.stop_waiting_for_interrupts()


def test_rpi_revision_is_1_or_2_as_rpio_defines_it():
    assert RPIO.RPI_REVISION in (1, 2)


def test_debounce_timeout_is_rpios_first_edge_then_quiet(sim):
    """Issue 14.4: RPIO passes the first edge at once and drops edges for the window."""
    got = queue.Queue()
    sim.pull(3, 0)
    RPIO.add_interrupt_callback(4, lambda g, v: got.put((time.monotonic(), v)),
                                debounce_timeout_ms=1000)
    RPIO.wait_for_interrupts(threaded=True)
    with Device(sim.name) as dev:
        assert dev.line_info(3).debounce == 0  # not the kernel's
    t0 = time.monotonic()
    sim.pull(3, 1)
    t, v = got.get(timeout=5)
    assert v == 1 and t - t0 < 0.3  # the first edge at once, not after the window
    sim.pull(3, 0)
    sim.pull(3, 1)  # within the window: dropped
    time.sleep(1.3)
    assert got.empty()
    sim.pull(3, 0)  # after the window: passed
    assert got.get(timeout=5)[1] == 0
    RPIO.stop_waiting_for_interrupts()


def test_debounce_kernel_option_uses_kernel_debounce(sim):
    got = queue.Queue()
    sim.pull(3, 0)
    RPIO.add_interrupt_callback(4, lambda g, v: got.put(v), debounce_timeout_ms=100,
                                debounce_kernel=True)
    RPIO.wait_for_interrupts(threaded=True)
    with Device(sim.name) as dev:
        assert dev.line_info(3).debounce == pytest.approx(0.1)
    sim.pull(3, 1)
    sim.pull(3, 0)  # glitch far shorter than 100 ms
    time.sleep(0.3)
    assert got.empty()
    sim.pull(3, 1)
    assert got.get(timeout=5) == 1


def test_tcp_and_gpio_callbacks_share_the_loop(sim):
    events = queue.Queue()

    def on_msg(sock, msg):
        events.put(("tcp", msg))
        sock.send("echo: %s\n" % msg)
        if msg == "bye":
            RPIO.close_tcp_client(sock.fileno())

    RPIO.add_tcp_callback(18765, on_msg, bind_address="127.0.0.1")
    RPIO.add_interrupt_callback(5, lambda g, v: events.put(("gpio", g, v)))
    t = threading.Thread(target=RPIO.wait_for_interrupts, kwargs={"epoll_timeout": 0.1})
    t.start()
    try:
        c = socket.create_connection(("127.0.0.1", 18765), timeout=5)
        c.sendall(b"hello\n")
        assert events.get(timeout=5) == ("tcp", "hello")
        assert c.recv(100) == b"echo: hello\n"
        sim.pull(4, 1)
        assert events.get(timeout=5) == ("gpio", 5, 1)
        c.sendall(b"bye\n")
        assert events.get(timeout=5) == ("tcp", "bye")
        assert c.recv(100) == b"echo: bye\n"
        assert c.recv(100) == b""  # the server closed us
        c.close()
        c2 = socket.create_connection(("127.0.0.1", 18765), timeout=5)
        c2.sendall(b"\n")  # an empty message closes the connection
        assert c2.recv(100) == b""
        c2.close()
    finally:
        RPIO.stop_waiting_for_interrupts()
        t.join(5)
    assert not t.is_alive()


def test_sysinfo_and_version():
    hex_rev, model, revision, mb, maker = RPIO.sysinfo()
    assert isinstance(model, str) and model and mb > 0
    assert RPIO.version()[1] == "2.5.0"
    assert RPIO.RPI_REVISION in (1, 2)


def test_rpi_gpio_event_detection_on_the_same_engine(sim):
    """Issue 14.4: add_event_detect / event_detected / remove_event_detect / wait_for_edge."""
    got = queue.Queue()
    sim.pull(0, 0)
    RPIO.add_event_detect(17, RPIO.RISING, callback=got.put)
    assert not RPIO.event_detected(17)
    sim.pull(0, 1)
    assert got.get(timeout=5) == 17  # RPi.GPIO callbacks receive the channel
    assert RPIO.event_detected(17) and not RPIO.event_detected(17)
    with pytest.raises(RuntimeError, match="Conflicting"):
        RPIO.add_event_detect(17, RPIO.BOTH)
    RPIO.remove_event_detect(17)
    with Device(sim.name) as dev:
        assert not dev.line_info(0).used
    sim.pull(1, 0)
    assert RPIO.wait_for_edge(27, RPIO.RISING, timeout=200) is None
    threading.Timer(0.3, sim.pull, (1, 1)).start()
    assert RPIO.wait_for_edge(27, RPIO.RISING, timeout=5000) == 27
    with Device(sim.name) as dev:
        assert not dev.line_info(1).used


def test_forceoutput_drives_a_line_not_set_up_and_the_level_stays(sim):
    """RPIO: forceoutput writes any GPIO without setup(); the kernel shows the line driven
    by RPIO at that level until cleanup(), and output() still wants setup() first."""
    assert sim.level(1) == 0  # gpio-sim's default pull
    RPIO.forceoutput(27, 1)
    time.sleep(0.2)  # a released line would be back at its pull by now
    assert sim.level(1) == 1
    with Device(sim.name) as dev:
        info = dev.line_info(1)
        assert (info.used, info.consumer, info.direction) == (True, "RPIO", "output")
        RPIO.forceoutput(27, False)
        assert sim.level(1) == 0
        with pytest.raises(RuntimeError, match="OUTPUT"):
            RPIO.output(27, 1)  # as RPIO: forceoutput does not set the channel up
        RPIO.cleanup()
        info = dev.line_info(1)
        assert not info.used and info.direction == "input"


def test_forceoutput_of_a_line_another_program_holds_is_refused(sim):
    """Differs from RPIO (which writes the register anyway): the kernel gives a line to one
    holder, so forceoutput raises and the holder's level stays."""
    with Device(sim.name, consumer="holder") as dev, dev.request(2, direction="output", value=1):
        with pytest.raises(GpioError, match="in use by 'holder'"):
            RPIO.forceoutput(22, 0)
        assert sim.level(2) == 1


def _left_as_output_by_another_program(sim, offset):
    """Drive a line as another program would and let it go: the kernel keeps its direction."""
    with Device(sim.name, consumer="earlier-run") as dev:
        with dev.request(offset, direction="output", value=1):
            pass
        info = dev.line_info(offset)
    assert info.direction == "output" and not info.used  # the ground truth RPIO warns on


def test_setwarnings_switches_setups_already_in_use_warning(sim):
    """RPIO's setup() warns (RuntimeWarning) for a line that is an output no setup() of this
    program made, and continues; setwarnings(False) silences it.  Setting a channel up again
    is no warning."""
    _left_as_output_by_another_program(sim, 1)
    with pytest.warns(RuntimeWarning, match="already in use.*setwarnings"):
        RPIO.setup(27, RPIO.IN)
    sim.pull(1, 1)
    assert RPIO.input(27) == 1  # continued: the line is RPIO's input now
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RPIO.setup(27, RPIO.OUT)  # set up here before: no warning
        RPIO.setup(22, RPIO.IN)   # an input nobody drove: no warning
    RPIO.forceoutput(4, 1)
    with pytest.warns(RuntimeWarning, match="already in use"):
        RPIO.setup(4, RPIO.IN)  # an output forceoutput made, not setup()
    RPIO.cleanup()
    _left_as_output_by_another_program(sim, 1)
    RPIO.setwarnings(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RPIO.setup(27, RPIO.IN)
    with Device(sim.name) as dev:
        assert dev.line_info(1).consumer == "RPIO"


def test_add_event_callback_adds_a_callback_to_the_same_detection(sim):
    """RPi.GPIO: add_event_callback needs add_event_detect first; each edge calls every
    callback in the order added, with the channel; the kernel sees one request."""
    with pytest.raises(RuntimeError, match="add_event_detect"):
        RPIO.add_event_callback(17, print)
    got = queue.Queue()
    sim.pull(0, 0)
    RPIO.add_event_detect(17, RPIO.RISING, callback=lambda ch: got.put(("first", ch)))
    RPIO.add_event_callback(17, lambda ch: got.put(("second", ch)))
    with Device(sim.name) as dev:
        info = dev.line_info(0)
        assert (info.consumer, info.edge) == ("RPIO", "rising")
        sim.pull(0, 1)
        assert [got.get(timeout=5), got.get(timeout=5)] == [("first", 17), ("second", 17)]
        sim.pull(0, 0)  # a falling edge: no callback
        time.sleep(0.3)
        assert got.empty()
        RPIO.remove_event_detect(17)
        assert not dev.line_info(0).used


def _kernels_revision_code():
    """The guest kernel's own answer: /proc/cpuinfo's Revision as written, else the device
    tree's 4 bytes as the kernel writes them there (%04x), else none (not a Raspberry Pi)."""
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^Revision\s*:\s*(\S+)", f.read(), re.M)
    if m:
        return m.group(1)
    path = "/proc/device-tree/system/linux,revision"
    if os.path.exists(path):
        with open(path, "rb") as f:
            return "%04x" % int.from_bytes(f.read(4), "big")
    return ""


def test_rpi_revision_hex_is_the_kernels_revision_code():
    """RPIO: RPI_REVISION_HEX is the board's revision code (also sysinfo()'s first field);
    off a Raspberry Pi, as in the rig, there is none."""
    code = _kernels_revision_code()
    assert RPIO.RPI_REVISION_HEX == code == RPIO.sysinfo()[0]
    # RPIO: 1 for the first boards' codes 0002/0003 (also with the overvolt bit 1000000)
    first_boards = bool(code) and int(code, 16) & 0xFFFFFF in (2, 3)
    assert RPIO.RPI_REVISION == (1 if first_boards else 2)
