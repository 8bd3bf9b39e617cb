/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevRegisterAll.c - the IOC program's own registration commands.
 *
 * The EPICS make build generates pydevIoc_registerRecordDeviceDriver with perl; without
 * EPICS' tools (the embedded CMake build, PYDEV_REGISTER_ALL) we provide the same iocsh
 * command, so one st.cmd serves both builds.  dbCore's registerAllRecordDeviceDrivers()
 * finds every record, device, driver, registrar and variable named in the loaded .dbd files
 * among the symbols of the libraries this program links.
 *
 * In both builds, pydevioc_registerRecordDeviceDriver is the same command under the name the
 * original PyDevice's IOC (pydevioc) gives it, so its st.cmd boots unchanged.
 */
#include <stdio.h>

#include <dbStaticLib.h>
#include <iocsh.h>
#include <epicsExport.h>
#ifdef PYDEV_REGISTER_ALL
#include <iocshRegisterCommon.h>
#endif

#include "pydevRegisterAll.h"

static const iocshArg arg0 = {"pdbbase", iocshArgPdbbase};
static const iocshArg *const args[] = {&arg0};

#ifdef PYDEV_REGISTER_ALL
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
#endif

static const iocshFuncDef originalDef = {"pydevioc_registerRecordDeviceDriver", 1, args,
                                         "The same as pydevIoc_registerRecordDeviceDriver (the "
                                         "original PyDevice's name for it).\n"};

static void originalCall(const iocshArgBuf *argv)
{
    (void)argv;
    iocshSetError(iocshCmd("pydevIoc_registerRecordDeviceDriver(pdbbase)") ? 1 : 0);
}

void pydevRegisterOriginalCommand(void)
{
    iocshRegister(&originalDef, originalCall);
}
