/* pydevShell.c - iocsh commands and the registrar.
 *
 *   pydev "code"          run Python in the namespace shared with every pydev record
 *   pydevReport [level]   workers, queue, iointr names and per-record statistics
 */
#include <stdio.h>

#include <epicsExit.h>
#include <epicsExport.h>
#include <iocsh.h>

#include "pydev.h"
#include "pydevSignals.h"

static const iocshArg pydevArg0 = {"python code", iocshArgString};
static const iocshArg *const pydevArgs[] = {&pydevArg0};
static const iocshFuncDef pydevDef = {
    "pydev", 1, pydevArgs,
    "Run Python code in the namespace shared by all pydev records, e.g.\n"
    "  pydev(\"from mydevice import MyDevice\")\n"
    "  pydev(\"device1 = MyDevice('127.0.0.1')\")\n"
    "An expression's value is printed; an exception prints its traceback and fails the command.\n"};

static void pydevCall(const iocshArgBuf *args)
{
    if (!args[0].sval) {
        printf("usage: pydev \"python code\"\n");
        iocshSetError(1);
        return;
    }
    iocshSetError(pydevPyExec(args[0].sval) ? 1 : 0);
    pydevSignalsCheck();
}

static const iocshArg reportArg0 = {"level", iocshArgInt};
static const iocshArg *const reportArgs[] = {&reportArg0};
static const iocshFuncDef reportDef = {
    "pydevReport", 1, reportArgs,
    "Report PyDevice: worker threads and queue depth (level 0); per worker, iointr names and\n"
    "per-record runs, errors, mean time and last error (level 1); record links (level 2).\n"};

static void reportCall(const iocshArgBuf *args)
{
    int level = args[0].ival;
    pydevWorkersReport(level);
    pydevIointrReport(level);
    if (level > 0)
        pydevReportRecords(NULL, level);
}

static void pydevRegister(void)
{
    static int registered;
    if (!registered++)
        epicsAtExit(pydevShutdown, NULL);  /* first registered, so it runs after iocShutdown */
    iocshRegister(&pydevDef, pydevCall);
    iocshRegister(&reportDef, reportCall);
}
epicsExportRegistrar(pydevRegister);
