# SPDX-License-Identifier: BSD-3-Clause
# A Modbus TCP PLC through pymodbus, twice: on its sync client (Sync: records, modbus.db) and on
# its asyncio client (Async: records, modbus-async.db). From this directory, a simulated PLC
# (when there is no real one) in one terminal and the IOC in another (docs/devices.md):
#   ../../.venv/bin/python simplc.py 5020
#   ../../bin/*/pydevIoc st.cmd
# PLC_HOST, PLC_PORT choose the PLC, PLC_TIMEOUT how long a request may take and PLC_RETRY
# how long after a failure the records fail at once (seconds); PREFIX the records' names.

dbLoadDatabase("../../dbd/pydevIoc.dbd")
pydevIoc_registerRecordDeviceDriver(pdbbase)

epicsEnvSet("PREFIX", "$(PREFIX=Modbus:)")
epicsEnvSet("PLC_HOST", "$(PLC_HOST=127.0.0.1)")
epicsEnvSet("PLC_PORT", "$(PLC_PORT=5020)")
epicsEnvSet("PLC_TIMEOUT", "$(PLC_TIMEOUT=0.5)")
epicsEnvSet("PLC_RETRY", "$(PLC_RETRY=1.0)")
epicsEnvSet("EPICS_CAS_INTF_ADDR_LIST", "$(EPICS_CAS_INTF_ADDR_LIST=127.0.0.1)")
epicsEnvSet("EPICS_PVAS_INTF_ADDR_LIST", "$(EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1)")

# Nothing here talks to the PLC: the device objects connect on first use, so an IOC whose PLC
# is off starts all the same, with its records in COMM alarm until the PLC answers.
pydev("import time")
pydev("from plc import Plc, AsyncPlc")
pydev("from pydevice.poller import Poller")
pydev("plc = Plc('$(PLC_HOST)', $(PLC_PORT), timeout=$(PLC_TIMEOUT), retry=$(PLC_RETRY))")
pydev("aplc = AsyncPlc('$(PLC_HOST)', $(PLC_PORT), timeout=$(PLC_TIMEOUT), retry=$(PLC_RETRY))")
# register 2 read every 0.2 s and pushed to the Counter records (I/O Intr): in a thread of its
# own for the sync client, as a task on the IOC's event loop (pydev.loop) for the asyncio one
pydev("plc_counter = Poller('plc:counter', lambda: plc.read_register(2), period=0.2)")
pydev("aplc_counter = Poller('aplc:counter', lambda: aplc.read_register(2), period=0.2, loop=pydev.loop)")
pydev("started = time.monotonic()")

dbLoadRecords("modbus.db", "P=$(PREFIX)Sync:,DEV=plc")
dbLoadRecords("modbus-async.db", "P=$(PREFIX)Async:,DEV=aplc")
# a record of the IOC's own that no PLC can hold up
dbLoadRecords("uptime.db", "P=$(PREFIX)")
iocInit()
