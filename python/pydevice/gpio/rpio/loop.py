# SPDX-License-Identifier: BSD-3-Clause
"""RPIO's interrupt loop: one epoll for GPIO edge events and TCP sockets.

GPIO sources are line-request file descriptors (the kernel queues edge events there, with
its own debounce); TCP sources are listening sockets and their clients.  Callbacks run in
the loop thread, or -- ``threaded_callback=True`` -- on a bounded thread pool: at most
``workers`` threads, and at most ``max_pending`` queued calls, beyond which the loop waits
(the kernel keeps buffering edges meanwhile) instead of growing without limit.
"""
from __future__ import annotations

import concurrent.futures
import logging
import os
import select
import socket
import threading
from typing import Any, Callable, Optional

__all__ = ["InterruptLoop", "TcpClient"]

log = logging.getLogger("pydevice.gpio.rpio")


class TcpClient:
    """The socket handed to TCP callbacks: a real socket whose ``send``/``sendall`` also
    accept ``str`` (RPIO's examples send text)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, data: Any, *args: Any) -> int:
        return self._sock.send(data.encode() if isinstance(data, str) else data, *args)

    def sendall(self, data: Any, *args: Any) -> None:
        self._sock.sendall(data.encode() if isinstance(data, str) else data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def __repr__(self) -> str:
        return f"<TcpClient fd={self._sock.fileno()}>"


class InterruptLoop:
    """The epoll loop behind ``wait_for_interrupts``.

    thread safety: ``_lock`` guards the handler, server and client tables (changed from
    any thread, read by the loop thread); ``_running`` lets one thread run the loop at a
    time; ``_slots`` bounds the threaded callbacks queued to the pool.
    """

    def __init__(self, workers: int = 4, max_pending: int = 64) -> None:
        self._epoll = select.epoll()
        self._lock = threading.RLock()
        self._handlers: dict = {}      # fd -> callable(fd) run when readable
        self._servers: dict = {}       # fd -> (socket, callback, threaded)
        self._clients: dict = {}       # fd -> (TcpClient, callback, threaded)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._epoll.register(self._wake_r, select.EPOLLIN)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._running = threading.Lock()
        self._workers = workers
        self._pool: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._slots = threading.BoundedSemaphore(max_pending)

    # -- sources ----------------------------------------------------------------------------
    def add_fd(self, fd: int, handler: Callable[[int], None]) -> None:
        """Call ``handler(fd)`` in the loop whenever ``fd`` is readable."""
        with self._lock:
            self._handlers[fd] = handler
            self._epoll.register(fd, select.EPOLLIN)

    def remove_fd(self, fd: int) -> None:
        with self._lock:
            if self._handlers.pop(fd, None) is not None:
                try:
                    self._epoll.unregister(fd)
                except (OSError, ValueError):
                    pass

    def add_tcp_server(self, port: int, callback: Callable, threaded: bool = False,
                       bind_address: str = "") -> int:
        """Listen on ``port``; returns the server socket's fileno."""
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((bind_address, port))
        srv.listen(8)
        srv.setblocking(False)
        with self._lock:
            self._servers[srv.fileno()] = (srv, callback, threaded)
            self._handlers[srv.fileno()] = self._accept
            self._epoll.register(srv.fileno(), select.EPOLLIN)
        log.debug("TCP callback listening on port %d", port)
        return srv.fileno()

    def _accept(self, fd: int) -> None:
        srv, callback, threaded = self._servers[fd]
        try:
            conn, addr = srv.accept()
        except BlockingIOError:
            return
        conn.setblocking(True)
        with self._lock:
            self._clients[conn.fileno()] = (TcpClient(conn), callback, threaded)
            self._handlers[conn.fileno()] = self._receive
            self._epoll.register(conn.fileno(), select.EPOLLIN)
        log.debug("TCP client %s connected (fd %d)", addr, conn.fileno())

    def _receive(self, fd: int) -> None:
        entry = self._clients.get(fd)
        if entry is None:
            return
        client, callback, threaded = entry
        try:
            data = client.recv(4096)
        except OSError:
            data = b""
        msg = data.decode(errors="replace").strip()
        if not msg:
            # RPIO: an empty message (or the client closing) ends the connection
            self.close_tcp_client(fd)
            return
        self.dispatch(callback, (client, msg), threaded)

    def close_tcp_client(self, fileno: int) -> None:
        """Close a TCP client connection and forget it."""
        with self._lock:
            entry = self._clients.pop(fileno, None)
            self._handlers.pop(fileno, None)
            if entry is None:
                return
            try:
                self._epoll.unregister(fileno)
            except (OSError, ValueError):
                pass
        entry[0].close()
        log.debug("TCP client fd %d closed", fileno)

    # -- callbacks ----------------------------------------------------------------------------
    def dispatch(self, callback: Callable, args: tuple, threaded: bool) -> None:
        """Run ``callback(*args)`` here, or on the pool when ``threaded``."""
        if not threaded:
            try:
                callback(*args)
            except Exception:
                log.exception("callback %r failed", callback)
            return
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self._workers, thread_name_prefix="rpio-callback")
            pool = self._pool
        self._slots.acquire()  # back-pressure: wait for a free slot
        try:
            fut = pool.submit(callback, *args)
        except RuntimeError:
            self._slots.release()
            return
        fut.add_done_callback(self._done)

    def _done(self, fut: concurrent.futures.Future) -> None:
        self._slots.release()
        exc = fut.exception()
        if exc is not None:
            log.error("threaded callback failed: %r", exc, exc_info=exc)

    # -- running ----------------------------------------------------------------------------
    def run(self, epoll_timeout: float = 1) -> None:
        """Dispatch until :meth:`stop`."""
        if not self._running.acquire(blocking=False):
            raise RuntimeError("wait_for_interrupts() is already running")
        try:
            self._stop.clear()
            while not self._stop.is_set():
                for fd, _ in self._epoll.poll(epoll_timeout):
                    if fd == self._wake_r:
                        try:
                            os.read(self._wake_r, 512)
                        except BlockingIOError:
                            pass
                        continue
                    handler = self._handlers.get(fd)
                    if handler is None:
                        continue
                    try:
                        handler(fd)
                    except OSError as e:
                        # e.g. the chip went away (ENODEV): drop the source, keep the others
                        log.error("interrupt source fd %d failed (%s); removed", fd, e)
                        self.remove_fd(fd)
                    if self._stop.is_set():
                        break
        finally:
            self._running.release()

    def start(self, epoll_timeout: float = 1) -> None:
        """Run the loop in a background (daemon) thread."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, args=(epoll_timeout,),
                                            name="rpio-interrupts", daemon=True)
            self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Make the loop return; with ``wait``, join its background thread."""
        self._stop.set()
        os.write(self._wake_w, b"x")
        t = self._thread
        if wait and t is not None and t is not threading.current_thread():
            t.join(5.0)
            self._thread = None

    def close(self) -> None:
        """Stop, close all sockets and the pool."""
        self.stop()
        with self._lock:
            for fd in list(self._clients):
                self.close_tcp_client(fd)
            for fd, (srv, _, _) in list(self._servers.items()):
                try:
                    self._epoll.unregister(fd)
                except (OSError, ValueError):
                    pass
                self._handlers.pop(fd, None)
                srv.close()
            self._servers.clear()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
