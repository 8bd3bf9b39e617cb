# SPDX-License-Identifier: BSD-3-Clause
# An OPC UA server through asyncua: reads, writes and a data-change subscription (opcua.db).
# From this directory, a simulated server (when there is no real one) in one terminal and the
# IOC in another (docs/devices.md):
#   ../../.venv/bin/python simserver.py 4840
#   ../../bin/*/pydevIoc st.cmd
# OPCUA_URL chooses the server, OPCUA_TIMEOUT how long a request may take and OPCUA_RETRY how
# long after a failure the records fail at once (seconds); PREFIX the records' names.

dbLoadDatabase("../../dbd/pydevIoc.dbd")
pydevIoc_registerRecordDeviceDriver(pdbbase)

epicsEnvSet("PREFIX", "$(PREFIX=OpcUa:)")
epicsEnvSet("OPCUA_URL", "$(OPCUA_URL=opc.tcp://127.0.0.1:4840/)")
epicsEnvSet("OPCUA_TIMEOUT", "$(OPCUA_TIMEOUT=1.0)")
epicsEnvSet("OPCUA_RETRY", "$(OPCUA_RETRY=1.0)")
epicsEnvSet("EPICS_CAS_INTF_ADDR_LIST", "$(EPICS_CAS_INTF_ADDR_LIST=127.0.0.1)")
epicsEnvSet("EPICS_PVAS_INTF_ADDR_LIST", "$(EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1)")

# Nothing here waits for the server: the device connects on first use, and the subscription
# connects in the background (its records are in COMM alarm until the server answers).
pydev("import time")
pydev("from uadevice import UaDevice")
pydev("tank = UaDevice('$(OPCUA_URL)', timeout=$(OPCUA_TIMEOUT), retry=$(OPCUA_RETRY))")
pydev("tank.subscribe('ns=2;s=Tank.Counter', 'tank:counter')")
pydev("tank.subscribe('ns=2;s=Tank.Setpoint', 'tank:setpoint')")
pydev("started = time.monotonic()")

dbLoadRecords("opcua.db", "P=$(PREFIX)Tank:,DEV=tank")
# a record of the IOC's own that no server can hold up
dbLoadRecords("../iocmodbus/uptime.db", "P=$(PREFIX)")
iocInit()
