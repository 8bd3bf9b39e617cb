# SPDX-License-Identifier: BSD-3-Clause
# Run from this directory: ../../bin/<arch>/pydevIoc st.cmd (make run-... does), <arch> being
# linux-x86_64, linux-aarch64 (64-bit Raspberry Pi OS / RevPi OS) or linux-arm.
# PyDevice demo IOC: `make run` from the top directory starts it.

dbLoadDatabase("../../dbd/pydevIoc.dbd")
pydevIoc_registerRecordDeviceDriver(pdbbase)

# Python setup: these names are visible to every record's code.
pydev("import math, sys, time, numpy")
pydev("from mydevice import MyDevice, EchoServer")
pydev("echo = EchoServer()")
pydev("device1 = MyDevice('127.0.0.1', echo.port)")
pydev("setpoints = {}")

# Secure by default: Channel Access and PV Access serve this machine only, unless you say
# otherwise (e.g. EPICS_CAS_INTF_ADDR_LIST=0.0.0.0 EPICS_PVAS_INTF_ADDR_LIST=0.0.0.0 make run).
epicsEnvSet("EPICS_CAS_INTF_ADDR_LIST", "$(EPICS_CAS_INTF_ADDR_LIST=127.0.0.1)")
epicsEnvSet("EPICS_PVAS_INTF_ADDR_LIST", "$(EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1)")

# PyDev:Exec runs whatever a client writes, so access security limits who may write it: by
# default the user who started the IOC, from this host (PYDEV_EXEC_USERS/HOSTS to change).
pydev("import getpass, os, socket")
# asSetFilename warns about a relative path (it may be read again after a cd): TOP, absolute
pydev("os.environ['TOP'] = os.path.abspath('../..')")
pydev("os.environ.setdefault('PYDEV_EXEC_USERS', getpass.getuser())")
pydev("os.environ.setdefault('PYDEV_EXEC_HOSTS', socket.gethostname() + ',localhost')")
asSetSubstitutions("EXEC_USERS='$(PYDEV_EXEC_USERS)',EXEC_HOSTS='$(PYDEV_EXEC_HOSTS)'")
asSetFilename("$(TOP)/db/pydevExec.acf")

dbLoadRecords("../../db/pydevDemo.db", "P=PyDev:")
iocInit()

# Try here: pydevReport 1 ; and in another terminal, after `. .venv/bin/activate`:
#   caput PyDev:Device1:Send hello ; caget PyDev:Device1:SentCb ; camonitor PyDev:Test:HelloWorld
