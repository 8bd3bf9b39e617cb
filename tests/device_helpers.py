# SPDX-License-Identifier: BSD-3-Clause
"""What the device example tests (tests/test_devices_*.py) share: ports, a device that hangs,
puts whose completion the test watches."""
from __future__ import annotations

import socket
import threading

from harness import TIME_SCALE, Ioc


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server the test starts and restarts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Silent:
    """A TCP port that accepts connections and never answers (a PLC that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def put_pending(ioc: Ioc, names: list[str]) -> list:
    """Put to each record with a completion callback; the PVs, to see which completed."""
    pending = []
    for name in names:
        pv = ioc.pv(name)
        assert pv.wait_for_connection(5 * TIME_SCALE)
        pv.put(1, use_complete=True)
        pending.append(pv)
    return pending
