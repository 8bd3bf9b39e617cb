/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevShell.c - iocsh commands and the registrar.
 *
 *   pydev "code"          run Python in the namespace shared with every pydev record
 *   pydevFile "file.py"   run a Python file there
 *   pydevReport [level]   workers, queue, iointr names and per-record statistics
 */
#include <stdio.h>

#include <epicsExit.h>
#include <epicsExport.h>
#include <iocsh.h>

#include "pydevPython.h"
#include "pydevRecord.h"
#include "pycalc.h"
#include "pydevSignals.h"

/* Extra arguments are declared so that they are seen, not dropped: iocsh splits a line at
 * blanks, commas and parentheses outside quotes, so Python code quoted the wrong way arrives
 * in pieces. */
#define PYDEV_NARGS 8
static const iocshArg pydevArg0 = {"python code", iocshArgString};
static const iocshArg pydevArgMore = {"(nothing: quote all the code)", iocshArgString};
static const iocshArg *const pydevArgs[PYDEV_NARGS] = {&pydevArg0, &pydevArgMore, &pydevArgMore,
    &pydevArgMore, &pydevArgMore, &pydevArgMore, &pydevArgMore, &pydevArgMore};
static const iocshFuncDef pydevDef = {
    "pydev", PYDEV_NARGS, pydevArgs,
    "Run Python code in the namespace shared by all pydev records.  Put the whole code in\n"
    "double quotes, and use single quotes inside it:\n"
    "  pydev(\"from mydevice import MyDevice\")\n"
    "  pydev(\"device1 = MyDevice('127.0.0.1', 5000)\")\n"
    "An expression's value is printed; an exception prints its traceback and fails the command\n"
    "(so `on error break` stops an st.cmd there).  SystemExit ends the IOC like `exit`.\n"
    "For more than a line, write a Python file and run it with pydevFile(\"init.py\").\n"};

static int oneArgument(const char *command, const iocshArgBuf *args, int nargs)
{
    int i;
    if (!args[0].sval) {
        printf("usage: %s(\"...\")  (see: help %s)\n", command, command);
        return 0;
    }
    for (i = 1; i < nargs; i++) {
        if (args[i].sval) {
            printf("%s: got more than one argument (\"%s\", then \"%s\"): put the whole code in "
                   "double quotes and use single quotes inside, e.g. %s(\"print('hi')\")\n",
                   command, args[0].sval, args[i].sval, command);
            return 0;
        }
    }
    return 1;
}

static void pydevCall(const iocshArgBuf *args)
{
    if (!oneArgument("pydev", args, PYDEV_NARGS)) {
        iocshSetError(1);
        return;
    }
    iocshSetError(pydevPyExec(args[0].sval) ? 1 : 0);
    pydevSignalsCheck();
}

static const iocshArg fileArg0 = {"file.py", iocshArgString};
static const iocshArg *const fileArgs[2] = {&fileArg0, &pydevArgMore};
static const iocshFuncDef fileDef = {
    "pydevFile", 2, fileArgs,
    "Run a Python file in the namespace shared by all pydev records (like pyDevSup's pyfile):\n"
    "  pydevFile(\"init.py\")\n"
    "A relative path is from the current directory (an st.cmd's directory, by convention);\n"
    "that directory is also on sys.path, so `import tank` finds tank.py there.  A traceback\n"
    "fails the command.\n"};

static void fileCall(const iocshArgBuf *args)
{
    if (!oneArgument("pydevFile", args, 2)) {
        iocshSetError(1);
        return;
    }
    iocshSetError(pydevPyRunFile(args[0].sval) ? 1 : 0);
    pydevSignalsCheck();
}

static const iocshArg reportArg0 = {"level", iocshArgInt};
static const iocshArg *const reportArgs[] = {&reportArg0};
static const iocshFuncDef reportDef = {
    "pydevReport", 1, reportArgs,
    "Report PyDevice.  0: which Python (version, executable, virtualenv), the worker pool\n"
    "(busy, stuck, queue, timeouts) and how many iointr names; 1: also each worker, each\n"
    "iointr name, and each record (runs, errors, mean time, last error, or why it is\n"
    "disabled; pycalc records too); 2: also each record's link (a pycalc's CALC).\n"
    "`dbior pydev` is the same without the pycalc records.\n"};

static void reportCall(const iocshArgBuf *args)
{
    pydevReport(args[0].ival);
    pydevPycalcReport(args[0].ival);
}

static void pydevRegister(void)
{
    static int registered;
    if (!registered++)
        epicsAtExit(pydevShutdown, NULL);  /* first registered, so it runs after iocShutdown */
    iocshRegister(&pydevDef, pydevCall);
    iocshRegister(&fileDef, fileCall);
    iocshRegister(&reportDef, reportCall);
}
epicsExportRegistrar(pydevRegister);
