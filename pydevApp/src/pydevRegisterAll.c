/* pydevRegisterAll.c - embedded (CMake) build only.
 *
 * The EPICS make build generates pydevIoc_registerRecordDeviceDriver with perl; without
 * EPICS' tools we provide the same iocsh command, so one st.cmd serves both builds.  dbCore's
 * registerAllRecordDeviceDrivers() finds every record, device, driver, registrar and variable
 * named in the loaded .dbd files among the symbols of the libraries this program links.
 */
#include <stdio.h>

#include <dbStaticLib.h>
#include <iocsh.h>
#include <iocshRegisterCommon.h>
#include <epicsExport.h>

#include "pydevRegisterAll.h"

static const iocshArg arg0 = {"pdbbase", iocshArgPdbbase};
static const iocshArg *const args[] = {&arg0};
static const iocshFuncDef def = {"pydevIoc_registerRecordDeviceDriver", 1, args,
                                 "Register the record, device and driver support of the loaded .dbd files.\n"};

static void call(const iocshArgBuf *argv)
{
    (void)argv;  /* like the generated command: the database is *iocshPpdbbase */
    iocshSetError(registerAllRecordDeviceDrivers(*iocshPpdbbase) ? 1 : 0);
}

void pydevRegisterAllCommand(void)
{
    iocshRegister(&def, call);
}
