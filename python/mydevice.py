# SPDX-License-Identifier: BSD-3-Clause
"""The tutorial's example device: a TCP client, plus a loopback echo service for the demo.

As in the tutorial, it calls ``pydev.iointr`` without importing anything: inside pydevIoc
``pydev`` is a built-in.  Outside an IOC, run it as a script (``python mydevice.py``: the
tutorial's dummy ``pydev`` class at the end stands in), or make the stand-in the built-in
first (``pydevice.standin.install()``), as a unit test does::

    import pydevice.standin
    pydevice.standin.install()
    from mydevice import MyDevice, EchoServer
    server = EchoServer()
    device = MyDevice("127.0.0.1", server.port)
    device.connect()
    device.send("test")
"""
from __future__ import annotations

import logging
import socket
import socketserver
import threading

log = logging.getLogger(__name__)


class MyDevice:
    """A device reached over TCP that counts the bytes sent to it."""

    def __init__(self, ip: str, port: int = 4011) -> None:
        self.ip = ip
        self.port = port
        self.socket: socket.socket | None = None
        self.sent = 0

    def connect(self, timeout: float = 1.0) -> None:
        """Connect to the device; raises OSError when it cannot."""
        self.disconnect()
        self.socket = socket.create_connection((self.ip, self.port), timeout=timeout)
        log.info("connected to %s:%d", self.ip, self.port)

    def disconnect(self) -> None:
        if self.socket:
            self.socket.close()
            self.socket = None

    def send(self, msg: str | bytes) -> None:
        """Send all of ``msg`` and tell records on I/O Intr 'bytes_sent' the new total."""
        if not self.socket:
            raise RuntimeError("not connected")
        data = msg.encode() if isinstance(msg, str) else msg
        self.socket.sendall(data)
        self.sent += len(data)
        pydev.iointr("bytes_sent", self.sent)


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


class EchoServer(socketserver.ThreadingTCPServer):
    """A TCP echo service on 127.0.0.1 (a free port unless given), served by a daemon thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Echo)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, name="echo", daemon=True).start()


if __name__ == "__main__":
    class pydev:  # noqa: N801  (the tutorial's stand-in for the IOC's built-in pydev)
        @staticmethod
        def iointr(param, value=None):
            print(f"pydev.iointr({param!r}, {value!r})")

    server = EchoServer()
    device = MyDevice("127.0.0.1", server.port)
    device.connect()
    device.send("test")
    print(f"sent {device.sent} bytes")
