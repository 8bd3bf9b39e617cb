/* pydevMain.c - pydevIoc: an IOC shell with pydev support; runs the st.cmd given. */
#include <stddef.h>
#include <stdio.h>

#include <epicsExit.h>
#include <epicsThread.h>
#include <iocsh.h>

#include "pydevSignals.h"

#ifdef PYDEV_REGISTER_ALL
#include <iocshRegisterCommon.h>
void pydevRegisterAllCommand(void);
#endif

int main(int argc, char *argv[])
{
    /* a console read by people and by programs through pipes: line by line */
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    pydevSignalsInstall();
#ifdef PYDEV_REGISTER_ALL
    iocshRegisterCommon();  /* the EPICS build's generated registration code does this */
    pydevRegisterAllCommand();
#endif
    if (argc >= 2) {
        iocsh(argv[1]);
        epicsThreadSleep(.2);
    }
    iocsh(NULL);
    epicsExit(0);
    return 0;
}
