# SPDX-License-Identifier: BSD-3-Clause
"""pydevice.revpi: a Revolution Pi's process image as EPICS records.

Built on the vendor's ``revpimodio2``.  In st.cmd::

    pydev("from pydevice import revpi")
    pydev("rpi = revpi.open(procimg='/dev/piControl0', cycletime=20)")

and in records::

    field(INP, "@pydev.iointr('revpi:I_1')")   field(SCAN, "I/O Intr")
    field(OUT, "@rpi.write('O_1', VAL)")

``python -m pydevice.revpi db config.rsc --prefix P:`` writes a database for a whole
configuration.  See docs/revpi.md.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Sequence

from .errors import IoNotFoundError, NotWritableError, OpenError, RevPiError
from .image import ProcessImage

__all__ = ["open", "current", "close", "create_image", "ProcessImage", "RevPiError",
           "OpenError", "IoNotFoundError", "NotWritableError", "DEFAULT_PROCIMG", "IMAGE_SIZE"]

log = logging.getLogger(__name__)

DEFAULT_PROCIMG = "/dev/piControl0"
IMAGE_SIZE = 4096
"""Bytes of a piControl process image (revpimodio2.PROCESS_IMAGE_SIZE)."""

# EPICS semantics: one IOC process owns one process image (one refresh thread).
_owner: ProcessImage | None = None
_owner_lock = threading.Lock()
_builtin_open = open


def create_image(path: str, size: int = IMAGE_SIZE) -> str:
    """Create a zero-filled file-backed process image at ``path`` unless it exists."""
    if not os.path.exists(path):
        with _builtin_open(path, "wb") as fh:
            fh.write(bytes(size))
    return path


def _check_file(path: str, what: str, hint: str = "") -> None:
    if not os.path.exists(path):
        raise OpenError(f"{what} {path} does not exist{hint}")
    if not os.access(path, os.R_OK):
        raise OpenError(f"{what} {path} is not readable")


def open(  # noqa: A001 - the st.cmd-facing name; builtins.open stays reachable above
    procimg: str | None = None,
    configrsc: str | None = None,
    *,
    cycletime: int | None = None,
    monitoring: bool = False,
    simulator: bool = False,
    shared_procimg: bool = False,
    syncoutputs: bool = True,
    replace_io_file: str | None = None,
    devices: int | str | Sequence[int | str] | None = None,
    driver: int | str | Sequence[int | str] | None = None,
    maxioerrors: int = 0,
    create: bool = False,
    on_exit: str = "defaults",
    name: str = "revpi",
    watch: str | Sequence[str] = "auto",
    every_cycle: Sequence[str] = (),
    debug: bool = False,
) -> ProcessImage:
    """Open the IOC's process image with RevPiModIO and start serving records.

    :param procimg: process image path (default /dev/piControl0) or a file for simulation
    :param configrsc: piCtory configuration (default: /etc/revpi/config.rsc or
                      /opt/KUNBUS/config.rsc, as RevPiModIO searches)
    :param cycletime: refresh cycle in ms (5..2000); default RevPiModIO's (20 ms multi-core)
    :param monitoring: read inputs and outputs, never write (RevPiModIO monitoring)
    :param simulator: swap inputs and outputs to simulate the field side
    :param shared_procimg: write only the outputs this IOC changed, each cycle
    :param syncoutputs: start from the outputs currently in the image
    :param replace_io_file: RevPiModIO replace_io file (INI), e.g. to read a float
    :param devices: only these devices (names/positions) -> RevPiModIOSelected
    :param driver: virtual device(s) whose inputs this IOC writes -> RevPiModIODriver
    :param maxioerrors: stop refreshing after this many I/O errors (0 = never)
    :param create: create a zero-filled file at ``procimg`` when it does not exist
    :param on_exit: 'defaults' sets outputs to piCtory defaults at IOC exit, 'keep' leaves them
    :param name: prefix of the I/O Intr names ('revpi' -> 'revpi:I_1')
    :param watch: 'auto' (the names the IOC's records use, found after iocInit), 'all'
                  (every readable IO) or a list of IO names to push changes of
    :param every_cycle: IO names to push after every refresh cycle ('revpi:cycle:<IO>')
    :param debug: let RevPiModIO print detailed warnings
    :raises OpenError: missing/unreadable process image, configuration or replace_io file
    """
    global _owner
    import revpimodio2
    from revpimodio2.errors import DeviceNotFoundError

    procimg = procimg or DEFAULT_PROCIMG
    if on_exit not in ("defaults", "keep"):
        raise ValueError("on_exit must be 'defaults' or 'keep'")
    if devices is not None and driver is not None:
        raise ValueError("pass either devices (RevPiModIOSelected) or driver (RevPiModIODriver)")
    if driver is not None and (monitoring or simulator):
        raise ValueError("driver mode sets simulator mode itself and cannot monitor")
    if create and procimg != DEFAULT_PROCIMG:
        create_image(procimg)
    _check_file(procimg, "process image",
                " (is the piControl driver loaded? for simulation pass a file and create=True)"
                if procimg == DEFAULT_PROCIMG else " (pass create=True to make a zero-filled one)")
    if not os.access(procimg, os.W_OK) and not monitoring:
        raise OpenError(f"process image {procimg} is not writable (use monitoring=True to only read)")
    if configrsc is not None:
        _check_file(configrsc, "piCtory configuration")
    if replace_io_file is not None:
        _check_file(replace_io_file, "replace_io file")

    with _owner_lock:
        if _owner is not None:
            raise RevPiError(f"this IOC already owns a process image: {_owner!r}; close() it first")
        common = dict(autorefresh=False, syncoutputs=syncoutputs, procimg=procimg,
                      configrsc=configrsc, debug=debug, replace_io_file=replace_io_file,
                      shared_procimg=shared_procimg)
        try:
            if driver is not None:
                modio = revpimodio2.RevPiModIODriver(driver, **common)
            elif devices is not None:
                modio = revpimodio2.RevPiModIOSelected(devices, monitoring=monitoring,
                                                       simulator=simulator, **common)
            else:
                modio = revpimodio2.RevPiModIO(monitoring=monitoring, simulator=simulator, **common)
        except (OSError, RuntimeError, ValueError, DeviceNotFoundError) as exc:
            raise OpenError(f"cannot open process image {procimg} with configuration "
                            f"{configrsc or '(default location)'}: {exc}") from exc
        if cycletime is not None:
            modio.cycletime = int(cycletime)
        modio.maxioerrors = int(maxioerrors)
        owner = ProcessImage(modio, name=name,
                             watch=watch if isinstance(watch, str) else list(watch))
        for io_name in every_cycle:
            owner.every_cycle(io_name)
        _owner = owner
        atexit.register(_close_at_exit, _owner, on_exit == "defaults")
        log.info("opened %r", _owner)
        return _owner


def current() -> ProcessImage:
    """The IOC's open process image (RevPiError if :func:`open` was not called)."""
    if _owner is None:
        raise RevPiError("no process image is open: call revpi.open(...) in st.cmd first")
    return _owner


def close(defaults: bool = False) -> None:
    """Close the IOC's process image (tests; the IOC closes it at exit)."""
    global _owner
    with _owner_lock:
        owner, _owner = _owner, None
    if owner is not None:
        owner.close(defaults=defaults)


def _close_at_exit(owner: ProcessImage, defaults: bool) -> None:
    global _owner
    with _owner_lock:
        if _owner is owner:
            _owner = None
    owner.close(defaults=defaults)
