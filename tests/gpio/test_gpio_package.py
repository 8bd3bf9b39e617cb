# SPDX-License-Identifier: BSD-3-Clause
"""The package's names: every submodule is reachable as itself, and the public API users
call stays (issue 11.4: `import pydevice.gpio.chip` gave the records function)."""
import importlib
import pkgutil

import pytest

import pydevice.gpio
import pydevice.gpio.rpio
import pydevice.revpi


@pytest.mark.parametrize("package", [pydevice.gpio, pydevice.gpio.rpio, pydevice.revpi],
                         ids=lambda p: p.__name__)
def test_no_package_attribute_hides_a_submodule_of_the_same_name(package):
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "__main__":
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        assert getattr(package, info.name) is module, (
            f"{package.__name__}.{info.name} is {getattr(package, info.name)!r}, "
            "not the submodule")


def test_the_public_names_users_call_are_kept():
    from pydevice import gpio
    from pydevice.gpio import records
    assert gpio.chip is records.chip and callable(gpio.chip)
    assert gpio.Device is importlib.import_module("pydevice.gpio.device").Device
    assert gpio.request is importlib.import_module("pydevice.gpio.raw").request
    assert gpio.Request is importlib.import_module("pydevice.gpio.line_request").Request
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("pydevice.gpio.chip")  # no module hides behind gpio.chip


def test_each_type_alias_is_defined_in_one_module_only():
    import pathlib
    import re
    root = pathlib.Path(pydevice.gpio.__file__).parent
    defined: dict = {}
    for path in root.rglob("*.py"):
        for name in re.findall(r"^(\w+) = Union\[", path.read_text(), re.M):
            defined.setdefault(name, []).append(path.name)
    assert defined.get("LineId") == ["device.py"], defined
    assert all(len(where) == 1 for where in defined.values()), defined
