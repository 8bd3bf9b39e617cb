/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevSignals.c - SIGTERM and SIGINT end pydevIoc the orderly way.
 *
 * systemd and procServ stop an IOC with SIGTERM (procServ: SIGHUP, when it closes the
 * console), a person with Ctrl-C.  Each must run the
 * same epicsExit as the iocsh `exit`, so that exit handlers put outputs in their safe state.
 * The handler only writes the signal number to a pipe; a thread reads it and calls epicsExit.
 * A second signal exits at once, and so does a shutdown that takes longer than its bound.
 *
 * Python leaves a C handler alone when it starts its `signal` module, but Python code may
 * replace it with signal.signal(); such a handler would never run (the main thread is the
 * iocsh, not Python), so pydevSignalsCheck puts ours back after each pydev command.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <epicsExit.h>
#include <epicsThread.h>
#include <errlog.h>

#include "pydevRecord.h"
#include "pydevSignals.h"

static const int stopSignals[] = {SIGTERM, SIGINT, SIGHUP};
#define NSIGNALS (int)(sizeof(stopSignals) / sizeof(stopSignals[0]))
static int pipeFds[2] = {-1, -1};
static volatile sig_atomic_t received;

static void onSignal(int sig)
{
    unsigned char byte = (unsigned char)sig;
    if (received && sig == SIGHUP)
        return;  /* the console went away while we shut down (procServ closes it): go on */
    if (received++) {
        static const char msg[] = "pydevIoc: second signal: exiting at once\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(128 + sig);
    }
    (void)!write(pipeFds[1], &byte, 1);
}

static void exitInOrder(void *unused)
{
    (void)unused;
    /* epicsExit's exit() would hang: since glibc 2.41 exit() takes the lock of every stdio
     * stream, stdin's too, which the main thread holds while iocsh waits for a line.  So the
     * same exit handlers, then the streams this thread may flush, and the end. */
    epicsExitCallAtExits();
    errlogFlush();
    fflush(stdout);
    fflush(stderr);
    _exit(0);
}

static void watchSignals(void *unused)
{
    unsigned char sig = 0;
    double bound;
    (void)unused;
    while (read(pipeFds[0], &sig, 1) != 1)
        if (errno != EINTR)
            return;
    /* Read only now: the bound st.cmd set is the one that counts, and while main() sets the
     * environment at startup (iocshRegisterCommon, epicsEnvSet) a getenv here raced its
     * setenv - glibc's getenv may walk an environ array setenv has just freed. */
    bound = pydevExitTimeout() + 5.0;  /* Python's exit handlers, then room for EPICS */
    fprintf(stderr, "pydevIoc: %s: shutting down (a second signal exits at once)\n",
            strsignal(sig));
    fflush(stderr);
    if (!epicsThreadCreate("pydevStop", epicsThreadPriorityHigh,
                           epicsThreadGetStackSize(epicsThreadStackBig), exitInOrder, NULL))
        epicsExit(0);
    epicsThreadSleep(bound);
    fprintf(stderr, "pydevIoc: shutdown did not finish within %g s: exiting at once\n", bound);
    fflush(stderr);
    _exit(1);
}

static int installed(int sig)
{
    struct sigaction now;
    return sigaction(sig, NULL, &now) == 0 && now.sa_handler == onSignal;
}

static void install(int sig)
{
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(sig, &action, NULL);
}

int pydevSignalsInstall(void)
{
    sigset_t mask;
    int i;
    if (pipeFds[0] >= 0)
        return 0;
    /* A parent may have blocked them (procServ does): threads made from here on inherit
     * this thread's mask, and a blocked signal would never reach our handler. */
    sigemptyset(&mask);
    for (i = 0; i < NSIGNALS; i++)
        sigaddset(&mask, stopSignals[i]);
    pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
    if (pipe(pipeFds) != 0) {
        perror("pydevIoc: pipe");
        return -1;
    }
    if (!epicsThreadCreate("pydevSignals", epicsThreadPriorityHigh,
                           epicsThreadGetStackSize(epicsThreadStackSmall), watchSignals, NULL))
        return -1;
    for (i = 0; i < NSIGNALS; i++)
        install(stopSignals[i]);
    return 0;
}

void pydevSignalsCheck(void)
{
    int i;
    if (pipeFds[0] < 0)
        return;  /* another IOC program: its signals are its own business */
    for (i = 0; i < NSIGNALS; i++) {
        if (installed(stopSignals[i]))
            continue;
        errlogPrintf("pydev: Python code replaced the %s handler; pydevIoc keeps its own, which "
                     "ends the IOC in order (use atexit for clean-up code)\n",
                     strsignal(stopSignals[i]));
        install(stopSignals[i]);
    }
}
