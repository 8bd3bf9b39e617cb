#!../../bin/linux-x86_64/pydevIoc
# PyDevice demo IOC: `make run` from the top directory starts it.

dbLoadDatabase("../../dbd/pydevIoc.dbd")
pydevIoc_registerRecordDeviceDriver(pdbbase)

# Python setup: these names are visible to every record's code.
pydev("import math, sys, time, numpy")
pydev("from mydevice import MyDevice, EchoServer")
pydev("echo = EchoServer()")
pydev("device1 = MyDevice('127.0.0.1', echo.port)")
pydev("setpoints = {}")

dbLoadRecords("../../db/pydevDemo.db", "P=PyDev:")
iocInit()

# Try: caput PyDev:Device1:Send hello ; caget PyDev:Device1:SentCb ; pydevReport 1
