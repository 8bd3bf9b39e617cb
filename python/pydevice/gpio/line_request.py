# SPDX-License-Identifier: BSD-3-Clause
"""Line requests: reserve lines, read/write them, and receive their edge events.

A :class:`Request` is lazy: it reserves its lines when opened (``with request:`` or
:meth:`Request.open`) and always releases them when the ``with`` block ends, however it ends.

    with dev.request(["GPIO17", 5], edge="both", bias="pull-up", debounce=0.01) as req:
        print(req[17], req[5, 6], req[:])          # values (dict for several lines)
        for event in req:                          # blocking, infinite
            print(event.offset, event.kind, event.timestamp)

The kernel reserves at most 64 lines in one request; a :class:`Request` for more (as
``Device.request()`` for every line of a big chip) holds one kernel request per 64 lines,
as linuxpy does, and :meth:`Request.filenos` lists them all.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import select
import threading
import time
from typing import (TYPE_CHECKING, Any, AsyncIterator, Iterable, Iterator, Mapping, Optional,
                    Sequence, Union)

import gpiod
from gpiod.line import Value

from .errors import GpioError, LineBusyError
from .events import EdgeEvent
from .request_config import parse_request
from .settings import LineConfig, LineFlag, to_config

if TYPE_CHECKING:  # device.py makes Requests: it imports this module, not the other way
    from .device import Device, LineId, LineKey

__all__ = ["Request", "MAX_LINES_PER_REQUEST"]

log = logging.getLogger(__name__)

MAX_LINES_PER_REQUEST = 64  # the kernel's GPIO_V2_LINES_MAX


class Request:
    """Reserves lines of one chip, as linuxpy's ``Request(device, config, blocking=False)``.

    ``config`` is any of linuxpy's request configurations (see
    :mod:`pydevice.gpio.request_config`); ``Device.request``/``device[key]`` make one.
    ``blocking`` is the mode of the request files (:meth:`filenos`): non-blocking, a
    ``read`` of a file without pending events raises ``BlockingIOError``.

    Keys for ``req[...]`` are offsets, line names, slices (over this request's offsets) or
    tuples/lists of those; a single line gives an int, several a ``{offset: value}`` dict.
    Iterating (``for ev in req``, ``async for``) yields :class:`~pydevice.gpio.events.EdgeEvent`
    (with linuxpy's ``LineEvent`` fields).

    thread safety: ``_lock`` guards the kernel requests (open, close, reconfigure, reads and
    writes); a Request may be used from several threads.
    """

    def __init__(self, device: Device, config: Any = None, blocking: bool = False, *,
                 consumer: Optional[str] = None, event_buffer_size: Optional[int] = None,
                 base: Optional[LineConfig] = None,
                 values: Optional[Mapping[LineId, Any]] = None) -> None:
        self.device = device
        name, per_line = parse_request(config, device.offsets, range(device.num_lines),
                                       base or LineConfig(), device.describe)
        for k, v in (values or {}).items():
            for off in device.offsets(k):
                if off not in per_line:
                    raise ValueError(f"{device.describe(off)}: value given for a line not requested")
                per_line[off] = per_line[off].replace(value=v)
        self._config = per_line
        self._name = consumer or name or device.consumer
        self.blocking = bool(blocking)
        self.event_buffer_size = event_buffer_size
        self._reqs: list = []
        self._opens = 0
        self._lock = threading.RLock()
        self._names = {off: device.line_name(off) for off in self._config}

    # -- configuration (before opening) ----------------------------------------------------
    @property
    def name(self) -> str:
        """Consumer name shown by the kernel (set before opening)."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def config(self) -> dict:
        """``{offset: LineConfig}``."""
        return dict(self._config)

    @property
    def flags(self) -> LineFlag:
        """Kernel flags of the first line; setting them reconfigures all lines."""
        return next(iter(self._config.values())).flags

    @flags.setter
    def flags(self, flags: Union[int, LineFlag]) -> None:
        self.configure(to_config(int(flags)))

    def _chunks(self) -> list:
        """The offsets of each kernel request (at most 64 each), in request order."""
        offs = list(self._config)
        return [offs[i:i + MAX_LINES_PER_REQUEST]
                for i in range(0, len(offs), MAX_LINES_PER_REQUEST)]

    def configure(self, config: Union[LineConfig, int, Mapping[str, Any], None] = None,
                  lines: Optional[LineKey] = None, **settings: Any) -> None:
        """Change the configuration of some (default all) lines; applied at once if open."""
        with self._lock:
            offs = self._config.keys() if lines is None else self._keys(lines)
            for off in list(offs):
                base = self._config[off]
                if config is not None:
                    base = to_config(config)
                self._config[off] = base.replace(**settings) if settings else base
            for req, chunk in zip(self._reqs, self._chunks()):
                req.reconfigure_lines({off: self._config[off].to_gpiod() for off in chunk})

    @property
    def offsets(self) -> list:
        """Offsets of the requested lines, in the order requested."""
        return list(self._config)

    @property
    def lines(self) -> dict:
        """``{offset: name}`` of the requested lines."""
        return dict(self._names)

    def __len__(self) -> int:
        return len(self._config)

    @property
    def min_line(self) -> int:
        """The smallest line offset in the request."""
        return min(self._config)

    @property
    def max_line(self) -> int:
        """The biggest line offset in the request."""
        return max(self._config)

    def describe(self, offset: Optional[int] = None) -> str:
        """Chip and line(s), for messages."""
        if offset is not None:
            return self.device.describe(offset)
        lines = ", ".join(f"{o}" + (f" ({self._names[o]})" if self._names[o] else "")
                          for o in self._config)
        return f"{self.device.describe()} line{'s' if len(self._config) > 1 else ''} {lines}"

    # -- lifetime ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """True while the lines are reserved."""
        return bool(self._reqs)

    def open(self) -> "Request":
        """Reserve the lines (nested opens are counted; the last close releases)."""
        with self._lock:
            if not self._reqs:
                reqs = []
                try:
                    for chunk in self._chunks():
                        reqs.append(self._request(chunk))
                except BaseException:
                    for r in reqs:
                        r.release()
                    raise
                self._reqs = reqs
            self._opens += 1
        return self

    def _request(self, chunk: Sequence[int]) -> gpiod.LineRequest:
        settings: dict[Any, Any] = {off: self._config[off].to_gpiod() for off in chunk}
        try:
            req = self.device.gpiod_chip.request_lines(
                settings, consumer=self._name, event_buffer_size=self.event_buffer_size)
        except OSError as e:
            if e.errno == errno.EBUSY:
                users = []
                for off in chunk:
                    li = self.device.line_info(off)
                    if li.used:
                        users.append(f"{self.describe(off)} is in use by "
                                     f"'{li.consumer or 'a kernel driver'}'")
                raise LineBusyError("; ".join(users) or f"{self.describe()}: busy") from None
            raise GpioError(f"{self.describe()}: request failed: {e.strerror or e}") from e
        os.set_blocking(req.fd, self.blocking)
        return req

    def close(self) -> None:
        """Release the lines now, whatever the open count."""
        with self._lock:
            reqs, self._reqs, self._opens = self._reqs, [], 0
            for req in reqs:
                req.release()

    def release(self) -> None:
        """Same as :meth:`close`."""
        self.close()

    def __enter__(self) -> "Request":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self._opens -= 1
            if self._opens <= 0:
                self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<Request {self.describe()} {'open' if self.is_open else 'closed'}>"

    @property
    def gpiod_requests(self) -> list:
        """The underlying ``gpiod.LineRequest`` objects, one per 64 lines (raises when
        closed)."""
        return list(self._live())

    def _live(self) -> list:
        if not self._reqs:
            raise GpioError(f"{self.describe()}: request is not open")
        return self._reqs

    def _by_request(self, offsets: Iterable[int]) -> list:
        """``[(gpiod request, [offsets in it])]`` for ``offsets`` (request open)."""
        reqs = self._live()
        where = {off: i for i, chunk in enumerate(self._chunks()) for off in chunk}
        groups: dict = {}
        for off in offsets:
            groups.setdefault(where[off], []).append(off)
        return [(reqs[i], offs) for i, offs in groups.items()]

    # -- values -----------------------------------------------------------------------------
    def _keys(self, key: LineKey) -> list:
        if isinstance(key, slice):
            start = self.min_line if key.start is None else key.start
            stop = self.max_line + 1 if key.stop is None else key.stop
            return [o for o in range(start, stop, key.step or 1) if o in self._config]
        if isinstance(key, (tuple, list)):
            out: list = []
            for k in key:
                out.extend(self._keys(k))
            return out
        off = self.device.offset(key)
        if off not in self._config:
            raise GpioError(f"{self.describe(off)} is not part of this request")
        return [off]

    def get_values(self, lines: Optional[Iterable[LineKey]] = None) -> dict:
        """``{offset: 0|1}`` (logical values) for ``lines`` (default: all)."""
        offs = self.offsets if lines is None else self._keys(list(lines))
        got: dict = {}
        with self._lock:
            for req, group in self._by_request(offs):
                got.update(zip(group, req.get_values(group)))
        return {o: 1 if got[o] == Value.ACTIVE else 0 for o in offs}

    def get_value(self, line: LineId) -> int:
        """The logical value of one line."""
        return self.get_values([line])[self.device.offset(line)]

    def set_values(self, values: Mapping[LineId, Union[int, bool]]) -> None:
        """Drive output lines: ``{line: 0|1}`` (logical values)."""
        mapped = {}
        for k, v in values.items():
            for off in self._keys(k):
                mapped[off] = Value.ACTIVE if v else Value.INACTIVE
        with self._lock:
            for req, group in self._by_request(mapped):
                req.set_values({off: mapped[off] for off in group})

    def set_value(self, line: LineId, value: Union[int, bool]) -> None:
        """Drive one output line."""
        self.set_values({line: value})

    def __getitem__(self, key: LineKey) -> Union[int, dict]:
        offs = self._keys(key)
        vals = self.get_values(offs)
        if isinstance(key, (int, str)):
            return vals[offs[0]]
        return vals

    def __setitem__(self, key: LineKey, value: Union[int, bool, Sequence[int]]) -> None:
        offs = self._keys(key)
        if isinstance(key, (int, str)):
            if not isinstance(value, (int, bool)):
                raise ValueError(f"value for one line must be 0 or 1, not {value!r}")
            self.set_values({offs[0]: value})
            return
        if isinstance(value, (int, bool)):
            self.set_values({o: value for o in offs})
        else:
            vals = list(value)
            if len(vals) != len(offs):
                raise ValueError(f"{len(offs)} lines but {len(vals)} values")
            self.set_values(dict(zip(offs, vals)))

    # -- events -----------------------------------------------------------------------------
    def fileno(self) -> int:
        """The (first) request's file descriptor: readable when edge events are pending."""
        return self._live()[0].fd

    def filenos(self) -> list:
        """File descriptors to wait on in your own ``select``/``epoll`` loop (one per 64
        lines)."""
        return [req.fd for req in self._live()]

    def _convert(self, evs: Iterable[gpiod.EdgeEvent]) -> list:
        return [EdgeEvent.from_gpiod(e, self._names.get(e.line_offset, ""),
                                     self._config[e.line_offset].clock) for e in evs]

    def read_events(self, timeout: Optional[float] = 0, max_events: int = 64) -> list:
        """Pending edge events, waiting up to ``timeout`` s (None: forever) for the first."""
        reqs = {req.fd: req for req in self._live()}
        ready, _, _ = select.select(list(reqs), [], [], timeout)
        out: list = []
        with self._lock:
            live = {req.fd for req in self._reqs}
            for fd in ready:
                if fd not in live:
                    continue  # closed meanwhile
                try:
                    out.extend(self._convert(reqs[fd].read_edge_events(max_events)))
                except BlockingIOError:
                    pass  # another reader took them
        return out

    def events(self, timeout: Optional[float] = None) -> Iterator[EdgeEvent]:
        """Edge events as they come; ends after ``timeout`` s without any (None: never)."""
        while True:
            evs = self.read_events(timeout)
            if not evs:
                return
            yield from evs

    def __iter__(self) -> Iterator[EdgeEvent]:
        """Endless stream of edge events (as linuxpy's ``Request.__iter__``)."""
        return self.events(None)

    async def aevents(self) -> AsyncIterator[EdgeEvent]:
        """Edge events as an async iterator (the event loop never blocks on the device)."""
        loop = asyncio.get_running_loop()
        fds = self.filenos()
        ready = asyncio.Event()
        for fd in fds:
            loop.add_reader(fd, ready.set)
        try:
            while True:
                await ready.wait()
                ready.clear()
                for ev in self.read_events(0):
                    yield ev
        finally:
            for fd in fds:
                loop.remove_reader(fd)

    def __aiter__(self) -> AsyncIterator[EdgeEvent]:
        """Asynchronous stream of edge events (as linuxpy's ``Request.__aiter__``)."""
        return self.aevents()

    def wait_for_edge(self, timeout: Optional[float] = None) -> Optional[EdgeEvent]:
        """The next edge event, or None after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            evs = self.read_events(left, max_events=1)
            if evs:
                return evs[0]
            if deadline is not None and time.monotonic() >= deadline:
                return None
