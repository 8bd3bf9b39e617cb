# SPDX-License-Identifier: BSD-3-Clause
"""Small Channel Access and PV Access command-line clients for the project's virtualenv.

EPICS sites use ``caget``, ``caput``, ``camonitor``, ``pvget``, ``pvput`` and ``pvmonitor``
from EPICS base; the ``epicscorelibs`` wheel ships no programs, so ``make`` writes these
commands into ``.venv/bin``, on top of pyepics and p4p.  They take the everyday forms::

    caget PV [PV ...]          caput [-c] PV VALUE [VALUE ...]    camonitor PV [PV ...]
    pvget PV [PV ...]          pvput PV VALUE                     pvmonitor PV [PV ...]

``caRepeater`` is there too: pyepics (libca) starts a program of that name for beacons.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["COMMANDS", "install", "use_epicscorelibs_libca"]


def use_epicscorelibs_libca() -> None:
    """Make pyepics load libca from the epicscorelibs wheel: the EPICS the IOC runs on.

    Call it before pyepics' first Channel Access call.  pyepics bundles libca for a few
    platforms and picks one by system and word size, not by CPU: on 64-bit ARM Linux it
    loads its x86-64 copy and fails ("libca.so: cannot open shared object file").  A
    ``PYEPICS_LIBCA`` set by the user wins; it is an environment variable, so programs this
    one starts load the same library.
    """
    if "PYEPICS_LIBCA" not in os.environ:
        from epicscorelibs.path import get_lib
        os.environ["PYEPICS_LIBCA"] = get_lib("ca")


def _ca_environment() -> None:
    """libca finds caRepeater on PATH: ours lives beside the command that runs."""
    here = str(Path(sys.argv[0]).resolve().parent)
    os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")
    use_epicscorelibs_libca()


def _value(text: str) -> object:
    """A number where the text is one, else the text (as caput does for a string PV)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _show(value: object) -> str:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return f"{len(value)} " + " ".join(str(v) for v in value)
    return str(value)


def _old_new(pv: str, old: object, new: object) -> None:
    """What caput and pvput print: the value before and after the write."""
    print(f"Old : {pv:<30} {_show(old)}")
    print(f"New : {pv:<30} {_show(new)}")


def caget(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="caget", description="Read PVs over Channel Access.")
    parser.add_argument("-w", type=float, default=5.0, help="timeout in seconds (default 5)")
    parser.add_argument("pvs", nargs="+")
    args = parser.parse_args(argv)
    _ca_environment()
    import epics
    status = 0
    for pv in args.pvs:
        value = epics.caget(pv, timeout=args.w, as_string=False)
        if value is None:
            print(f"{pv} *** not connected", file=sys.stderr)
            status = 1
        else:
            print(f"{pv:<30} {_show(value)}")
    return status


def caput(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="caput", description="Write a PV over Channel Access.")
    parser.add_argument("-c", action="store_true", help="wait for the processing to complete")
    parser.add_argument("-w", type=float, default=5.0, help="timeout in seconds (default 5)")
    parser.add_argument("pv")
    parser.add_argument("values", nargs="+")
    args = parser.parse_args(argv)
    _ca_environment()
    import epics
    pv = epics.PV(args.pv)
    if not pv.wait_for_connection(args.w):
        print(f"{args.pv} *** not connected", file=sys.stderr)
        return 1
    old = pv.get(timeout=args.w, use_monitor=False)
    values = [_value(v) for v in args.values]
    if pv.put(values if len(values) > 1 else values[0], wait=args.c, timeout=args.w) is None and args.c:
        print(f"{args.pv} *** put did not complete", file=sys.stderr)
        return 1
    _old_new(args.pv, old, pv.get(timeout=args.w, use_monitor=False))
    return 0


def camonitor(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="camonitor", description="Print PV updates (Ctrl-C ends).")
    parser.add_argument("pvs", nargs="+")
    args = parser.parse_args(argv)
    _ca_environment()
    import epics

    reader_gone = []

    def show(pvname: str = "", value: object = None, timestamp: float = 0.0, **_: object) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
        try:
            print(f"{pvname:<30} {stamp}.{int(timestamp % 1 * 1e6):06d} {_show(value)}", flush=True)
        except BrokenPipeError:  # `camonitor PV | head`: the reader has had enough
            reader_gone.append(True)

    pvs = [epics.PV(name, callback=show, form="time") for name in args.pvs]
    try:
        while not reader_gone:
            time.sleep(0.1)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for pv in pvs:
            pv.clear_callbacks()


def _pva():
    from p4p.client.thread import Context
    return Context("pva", nt=False)


def _pva_value(value: Any) -> object:
    return value["value"] if hasattr(value, "get") and "value" in value else value


def pvget(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="pvget", description="Read PVs over PV Access.")
    parser.add_argument("-w", type=float, default=5.0, help="timeout in seconds (default 5)")
    parser.add_argument("pvs", nargs="+")
    args = parser.parse_args(argv)
    with _pva() as ctx:
        for pv in args.pvs:
            print(f"{pv:<30} {_show(_pva_value(ctx.get(pv, timeout=args.w)))}")
    return 0


def pvput(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="pvput", description="Write a PV over PV Access.")
    parser.add_argument("-w", type=float, default=5.0, help="timeout in seconds (default 5)")
    parser.add_argument("pv")
    parser.add_argument("value")
    args = parser.parse_args(argv)
    with _pva() as ctx:
        old = _pva_value(ctx.get(args.pv, timeout=args.w))
        ctx.put(args.pv, _value(args.value), timeout=args.w, wait=True)
        _old_new(args.pv, old, _pva_value(ctx.get(args.pv, timeout=args.w)))
    return 0


def pvmonitor(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="pvmonitor", description="Print PV updates (Ctrl-C ends).")
    parser.add_argument("pvs", nargs="+")
    args = parser.parse_args(argv)
    with _pva() as ctx:
        subs = [ctx.monitor(pv, lambda v, pv=pv: print(f"{pv:<30} {_show(_pva_value(v))}", flush=True))
                for pv in args.pvs]
        try:
            while True:
                time.sleep(0.1)
        except KeyboardInterrupt:
            return 0
        finally:
            for sub in subs:
                sub.close()


def ca_repeater(argv: Sequence[str]) -> int:
    """libca's CA repeater (relays server beacons to the clients of this host)."""
    import ctypes
    from epicscorelibs.path import get_lib
    ctypes.CDLL(get_lib("ca")).caRepeaterThread(None)
    return 0


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "caget": caget, "caput": caput, "camonitor": camonitor,
    "pvget": pvget, "pvput": pvput, "pvmonitor": pvmonitor, "caRepeater": ca_repeater,
}


def install(bin_dir: str | os.PathLike) -> list[Path]:
    """Write one small script per command into ``bin_dir`` (a virtualenv's bin)."""
    written = []
    for name in COMMANDS:
        path = Path(bin_dir) / name
        path.write_text(f"#!{sys.executable}\nimport sys\nfrom pydevice.clients import COMMANDS\n"
                        f"sys.exit(COMMANDS[{name!r}](sys.argv[1:]))\n")
        path.chmod(0o755)
        written.append(path)
    return written


if __name__ == "__main__":  # python -m pydevice.clients install DIR
    if len(sys.argv) == 3 and sys.argv[1] == "install":
        for script in install(sys.argv[2]):
            print(f"wrote {script}")
    else:
        sys.exit(f"usage: python -m pydevice.clients install BIN_DIR  (commands: {', '.join(COMMANDS)})")
