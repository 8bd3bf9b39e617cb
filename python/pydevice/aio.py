# SPDX-License-Identifier: BSD-3-Clause
"""The IOC's one asyncio event loop, in a thread of its own (``pydev.loop``).

The IOC starts it with the interpreter, before st.cmd's first ``pydev()`` line.  A record
whose link awaits (``@await plc.read()``), or whose link's value is an awaitable, hands that
awaitable to :func:`schedule`: it becomes a task on this loop, and the worker that ran the
link is free at once.  When the task ends, ``done`` gets its outcome on the loop's thread.

``pydev("await ...")`` and ``pydevFile`` with top-level ``await`` wait here too
(:func:`run`).  At exit :func:`shutdown` cancels what is still running and stops the loop.
"""
from __future__ import annotations

import asyncio
import collections
import functools
import threading
from typing import Any, Awaitable, Callable

__all__ = ["start", "schedule", "run", "cancel_all", "shutdown", "Expired"]

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


class Expired(TimeoutError):
    """A record's awaitable did not finish within its time limit (it was cancelled)."""


def start() -> asyncio.AbstractEventLoop:
    """Start the loop thread once; the loop."""
    global _loop, _thread
    if _loop is not None:
        return _loop
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    _thread = threading.Thread(target=main, name="pydevLoop", daemon=True)
    _thread.start()
    ready.wait()
    _loop = loop
    return loop


def _begin(awaitable: Awaitable[Any], done: Callable[[bool, Any], None],
           timeout: float) -> None:
    """On the loop: run awaitable as a task; done(ok, value or exception) when it ends."""
    assert _loop is not None
    try:
        task = (_loop.create_task(awaitable) if asyncio.iscoroutine(awaitable)
                else asyncio.ensure_future(awaitable))
    except BaseException as exc:  # not awaitable after all, or the loop is closing
        done(False, exc)
        return
    timer = _loop.call_later(timeout, _expire, task, timeout) if timeout > 0 else None
    task.add_done_callback(functools.partial(_finished, done, timer))


def _finished(done: Callable[[bool, Any], None], timer: asyncio.TimerHandle | None,
              task: asyncio.Future[Any]) -> None:
    """The task ended: its outcome to done."""
    if timer is not None:
        timer.cancel()
    if task.cancelled():
        expired = getattr(task, "_pydev_expired", None)
        done(False, Expired(f"no result within {expired:g} s") if expired is not None
             else asyncio.CancelledError("cancelled"))
        return
    exc = task.exception()
    if exc is not None:
        done(False, exc)
    else:
        done(True, task.result())


def _expire(task: asyncio.Future[Any], timeout: float) -> None:
    task._pydev_expired = timeout  # type: ignore[attr-defined]
    task.cancel()


# Awaitables handed over and not yet started.  The loop is woken once for all that come
# while it is busy, not once each: every wake-up moves the GIL between the thread that
# schedules and the loop's, and 10,000 of them cost far more than the tasks themselves.
_incoming: collections.deque[tuple[Awaitable[Any], Callable[[bool, Any], None], float]] = \
    collections.deque()
_armed_lock = threading.Lock()
_armed = False  # a _drain is on its way: later awaitables go with it


def _drain() -> None:
    global _armed
    with _armed_lock:
        _armed = False  # from here on a schedule() wakes the loop again
    while _incoming:
        _begin(*_incoming.popleft())


def schedule(awaitable: Awaitable[Any], done: Callable[[bool, Any], None],
             timeout: float = 0.0) -> None:
    """From any thread: await ``awaitable`` on the loop, then call ``done(ok, value)``.

    ``ok`` is False when it raised (``value`` is the exception) or was cancelled; a task
    still running after ``timeout`` seconds (0: no limit) is cancelled, and ``value`` is an
    :class:`Expired`.  Never waits.
    """
    global _armed
    loop = start()
    _incoming.append((awaitable, done, timeout))
    with _armed_lock:
        if _armed:
            return
        _armed = True
    try:
        loop.call_soon_threadsafe(_drain)
    except RuntimeError as exc:  # the loop was closed at exit
        with _armed_lock:
            _armed = False
        while _incoming:
            item, late, _ = _incoming.popleft()
            if asyncio.iscoroutine(item):
                item.close()
            late(False, exc)


def run(awaitable: Awaitable[Any]) -> Any:
    """Await ``awaitable`` on the loop and return its value (from any thread but the loop's)."""
    loop = start()
    if threading.current_thread() is _thread:
        raise RuntimeError("pydevice.aio.run() called from the event loop's own thread")

    async def wrapped() -> Any:
        return await awaitable

    return asyncio.run_coroutine_threadsafe(wrapped(), loop).result()


def cancel_all(wait: float = 1.0) -> None:
    """Cancel every task on the loop (records' and others') and wait up to ``wait`` s."""
    if _loop is None or _loop.is_closed():
        return
    finished = threading.Event()

    def cancel() -> None:
        tasks = [t for t in asyncio.all_tasks(_loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if not tasks:
            finished.set()
            return
        gathered = asyncio.gather(*tasks, return_exceptions=True)
        gathered.add_done_callback(lambda _: finished.set())

    try:
        _loop.call_soon_threadsafe(cancel)
    except RuntimeError:
        return
    finished.wait(wait)


def shutdown(wait: float = 1.0) -> None:
    """Stop the loop and wait up to ``wait`` s for its thread to end."""
    if _loop is None or _loop.is_closed():
        return
    try:
        _loop.call_soon_threadsafe(_loop.stop)
    except RuntimeError:
        return
    if _thread is not None:
        _thread.join(wait)
