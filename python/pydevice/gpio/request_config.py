# SPDX-License-Identifier: BSD-3-Clause
"""linuxpy's request configuration, turned into one :class:`LineConfig` per line.

A request's ``config`` (``Device.request(config)``, ``Request(device, config)``,
:func:`pydevice.gpio.raw.request`) is any of linuxpy's forms::

    None                                   # every line of the chip
    5   or   "GPIO17"   or   slice(0, 4)   # one line (a name or a slice: our additions)
    [5, 6, {"line": 7, "direction": "output"}]
    {"name": "my-app", "lines": <any of the above, or {5: {}, 6: {"direction": "output"}}>}
    {5: {"edge": "both"}, "GPIO27": {"direction": "output"}}   # line -> settings (ours)

A line's settings use linuxpy's keys and values -- ``direction`` (input/output), ``active``
(high/low), ``bias`` (pull-up/pull-down/none), ``drive`` (push-pull/drain/source), ``edge``
(none/rising/falling/both), ``clock`` (monotonic/realtime/hte), ``debounce`` (s) -- or ours
(:class:`LineConfig`'s field names and spellings, ``flags`` for kernel flags, ``value`` for
the initial output).  Settings not given come from the request's keyword settings.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Optional, Sequence

from .settings import LineConfig, LineFlag, to_config

__all__ = ["parse_request", "line_config"]

# linuxpy's spellings that LineConfig spells otherwise ("" = linuxpy's "not given")
_LINUXPY_VALUES = {
    "direction": {"": "input", "none": "input"},
    "bias": {"": "as-is", "none": "as-is"},
    "drive": {"": "push-pull", "none": "push-pull", "drain": "open-drain",
              "source": "open-source"},
    "edge": {"": "none"},
    "clock": {"": "monotonic"},
}
_ACTIVE = {"high": False, "low": True, "": False}
_KEYS = sorted({"line", "active", "flags", *(f for f in LineConfig.__dataclass_fields__)})


def line_config(settings: Any, base: LineConfig) -> LineConfig:
    """One line's configuration: ``settings`` (None, a :class:`LineConfig`, kernel flags or a
    dict in linuxpy's or our spelling) over ``base``."""
    if settings is None:
        return base
    if isinstance(settings, (LineConfig, int)):
        return to_config(settings)
    if not isinstance(settings, Mapping):
        raise TypeError(f"line settings are a dict, LineConfig or LineFlag, not {settings!r}")
    kw: dict = {}
    cfg = base
    for key, value in settings.items():
        if key == "line":
            continue
        if key not in _KEYS:
            raise ValueError(f"unknown line setting {key!r}; use one of {_KEYS}")
        if key == "flags":
            cfg = LineConfig.from_flags(LineFlag(value), debounce=base.debounce, value=base.value)
        elif key == "active":
            active = str(value).lower()
            if active not in _ACTIVE:
                raise ValueError(f"bad active {value!r}; use 'high' or 'low'")
            kw["active_low"] = _ACTIVE[active]
        elif key == "debounce" and value is None:
            continue  # linuxpy: None leaves the debounce as it is
        else:
            if isinstance(value, str):
                value = _LINUXPY_VALUES.get(key, {}).get(value.lower(), value)
            kw[key] = value
    return cfg.replace(**kw) if kw else cfg


def _line_items(lines: Any) -> list:
    """``[(line key, settings or None)]`` of linuxpy's ``lines`` entry."""
    if isinstance(lines, Mapping):
        return list(lines.items())
    if isinstance(lines, (list, tuple, range)):
        items: list[tuple[Any, Optional[Mapping]]] = []
        for item in lines:
            if isinstance(item, Mapping):
                if "line" not in item:
                    raise ValueError(f"a line configuration needs a 'line' key: {dict(item)!r}")
                items.append((item["line"], item))
            else:
                items.append((item, None))
        return items
    return [(lines, None)]


def parse_request(config: Any, offsets_of: Callable[[Any], Sequence[int]],
                  all_offsets: Sequence[int], base: LineConfig,
                  describe: Callable[[Optional[int]], str] = lambda off: "") -> tuple:
    """``(consumer name or None, {offset: LineConfig})`` of a request ``config``, lines in the
    order given.  ``offsets_of`` expands a line key (offset, name, slice) to offsets."""
    name = None
    if config is None:
        items = [(off, None) for off in all_offsets]
    elif isinstance(config, Mapping) and ("lines" in config or "name" in config):
        extra = set(config) - {"name", "lines"}
        if extra:
            raise ValueError(f"unknown request keys {sorted(extra)}; use 'name' and 'lines'")
        if "lines" not in config:
            raise ValueError("a request configuration with 'name' needs 'lines' too")
        name = config.get("name")
        items = _line_items(config["lines"])
    else:
        items = _line_items(config)
    per_line: dict = {}
    for key, settings in items:
        for off in offsets_of(key):
            if off in per_line:
                raise ValueError(f"{describe(off)}: given twice in one request")
            try:
                per_line[off] = line_config(settings, base)
            except (TypeError, ValueError) as e:
                raise type(e)(f"{describe(off)}: {e}") from None
    if not per_line:
        raise ValueError(f"{describe(None)}: request for no lines")
    return name, per_line
