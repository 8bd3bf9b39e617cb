# SPDX-License-Identifier: BSD-3-Clause
"""An IOC inside an ordinary Python process: libpydev must use the running interpreter.

Run by tests/test_core_embedded.py as `python embedded_ioc.py TREE ARCH DB PREFIX` (TREE: the build's tree, harness.TREE; ARCH: EPICS'
name of the machine, harness.ARCH; DB's $(P));
prints RESULT lines and the records' values.
"""
import ctypes
import sys

from epicscorelibs import path

root, arch, db, prefix = sys.argv[1:5]
for lib in ("Com", "ca", "dbCore", "dbRecStd", "pvData", "pvAccess", "pvAccessIOC", "qsrv"):
    ctypes.CDLL(path.get_lib(lib), mode=ctypes.RTLD_GLOBAL)
pydev_lib = ctypes.CDLL(f"{root}/lib/{arch}/libpydev.so", mode=ctypes.RTLD_GLOBAL)
com = ctypes.CDLL(path.get_lib("Com"))
core = ctypes.CDLL(path.get_lib("dbCore"))
core.iocshRegisterCommon()
iocsh = com.iocshCmd
iocsh.argtypes = [ctypes.c_char_p]


def cmd(text: str) -> None:
    if iocsh(text.encode()):
        raise SystemExit(f"failed: {text}")


host_value = 41  # in __main__: the shared namespace of the running interpreter
cmd(f'dbLoadDatabase("{root}/dbd/pydevIoc.dbd")')
pdbbase = ctypes.c_void_p.in_dll(core, "pdbbase")
core.registerAllRecordDeviceDrivers.argtypes = [ctypes.c_void_p]
assert core.registerAllRecordDeviceDrivers(pdbbase) == 0
cmd(f'dbLoadRecords("{db}", "P={prefix}")')
cmd("iocInit")
import time  # noqa: E402

time.sleep(0.5)
import pydev  # noqa: E402  (the IOC's module, put into sys.modules by libpydev)

print("RESULT in_ioc", pydev.in_ioc, flush=True)
pydev.iointr("pushed", 7)
time.sleep(0.3)
sys.stdout.flush()
cmd(f"dbgf {prefix}answer")
cmd(f"dbgf {prefix}pushed")
sys.stdout.flush()
com.epicsExit(0)  # stop the IOC's threads before the interpreter goes away
