# SPDX-License-Identifier: BSD-3-Clause
"""RPIO's TCP callbacks and loop on the host (loopback sockets; no GPIO needed)."""
import queue
import socket
import threading
import time

import pytest

from pydevice.gpio.rpio.loop import InterruptLoop


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def loop():
    lp = InterruptLoop(workers=2, max_pending=4)
    yield lp
    lp.close()


def test_messages_echo_and_close(loop):
    got = queue.Queue()

    def cb(sock, msg):
        got.put(msg)
        sock.send("echo: %s\n" % msg)
        if msg == "quit":
            loop.close_tcp_client(sock.fileno())

    port = free_port()
    loop.add_tcp_server(port, cb, bind_address="127.0.0.1")
    loop.start(epoll_timeout=0.1)
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.sendall(b"  hi there \r\n")
    assert got.get(timeout=5) == "hi there"
    assert c.recv(100) == b"echo: hi there\n"
    c.sendall(b"quit\n")
    assert got.get(timeout=5) == "quit"
    assert c.recv(100) == b"echo: quit\n"
    assert c.recv(100) == b""
    c.close()
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.sendall(b"\n")
    assert c.recv(100) == b""  # an empty message closes the client
    c.close()
    loop.stop()


def test_threaded_callbacks_bounded_pool_and_backpressure(loop):
    running = []
    peak = [0]
    lock = threading.Lock()
    done = queue.Queue()

    def cb(sock, msg):
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        time.sleep(0.05)
        with lock:
            running.pop()
        done.put((threading.current_thread().name, msg))

    port = free_port()
    loop.add_tcp_server(port, cb, threaded=True, bind_address="127.0.0.1")
    loop.start(epoll_timeout=0.1)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
    for i, c in enumerate(clients):
        c.sendall(b"m%d\n" % i)
    results = [done.get(timeout=10) for _ in clients]
    assert sorted(m for _, m in results) == sorted("m%d" % i for i in range(8))
    assert all(n.startswith("rpio-callback") for n, _ in results)
    assert 1 <= peak[0] <= 2  # never more threads than the pool has
    for c in clients:
        c.close()


def test_stop_from_a_callback_and_a_failing_callback(loop):
    r, w = socket.socketpair()
    calls = []

    def bad(fd):
        calls.append("bad")
        r.recv(10)
        raise RuntimeError("callback bug")

    loop.add_fd(r.fileno(), lambda fd: loop.dispatch(bad, (fd,), False))
    t = threading.Thread(target=loop.run, kwargs={"epoll_timeout": 0.1})
    t.start()
    w.send(b"x")
    time.sleep(0.3)
    assert t.is_alive() and calls == ["bad"]  # the loop survived the exception
    loop.add_fd(w.fileno(), lambda fd: loop.stop(wait=False))
    r.send(b"y")  # makes w readable -> stop from inside the loop
    t.join(5)
    assert not t.is_alive()
    r.close()
    w.close()
