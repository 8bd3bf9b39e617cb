/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevStats.c - the state of the worker pool and of pydev.iointr, as records.
 *
 * Once a second a thread pushes each figure to an iointr name "pydev:<figure>"; the records
 * of db/pydevStats.db read them on I/O Intr.  Those records process in the scan threads and
 * need no worker and no Python, so they keep updating while the pool is saturated or hung -
 * exactly when they are needed (devIocStats works the same way for the whole IOC).
 */
#include <stddef.h>

#include <epicsThread.h>
#include <initHooks.h>

#include "pydevValue.h"
#include "pydevIointr.h"
#include "pydevWorkers.h"
#include "pydevStats.h"

typedef struct {
    const char *name;
    pydevIointr *io;
} figure;

enum { WORKERS, BUSY, STUCK, QUEUE, OLDEST, TIMEOUTS, JOBS_RATE, PUSH_RATE, COALESCED_RATE, DROPPED, NFIGURES };

static figure figures[NFIGURES] = {
    {"pydev:workers", NULL},   {"pydev:busy", NULL},    {"pydev:stuck", NULL},
    {"pydev:queue", NULL},     {"pydev:oldest", NULL},  {"pydev:timeouts", NULL},
    {"pydev:jobs_per_s", NULL}, {"pydev:pushes_per_s", NULL}, {"pydev:coalesced_per_s", NULL},
    {"pydev:dropped", NULL},
};

static void publish(int which, double value)
{
    if (figures[which].io)
        pydevIointrPushNumber(figures[which].io, value);
}

static void statsMain(void *unused)
{
    unsigned long lastJobs = 0, lastPushes = 0, lastScans = 0;
    double lastTime = pydevNow();
    (void)unused;
    for (;;) {
        pydevWorkersStats w;
        unsigned long pushes, scans, dropped;
        double now, dt;
        epicsThreadSleep(1.0);
        pydevWorkersGetStats(&w);
        pydevIointrTotals(&pushes, &scans, &dropped);
        now = pydevNow();
        dt = now - lastTime > 0 ? now - lastTime : 1.0;
        publish(WORKERS, w.workers);
        publish(BUSY, w.busy);
        publish(STUCK, w.stuck);
        publish(QUEUE, (double)w.depth);
        publish(OLDEST, w.oldestAge);
        publish(TIMEOUTS, (double)w.expired);
        publish(JOBS_RATE, (w.queued - lastJobs) / dt);
        publish(PUSH_RATE, (pushes - lastPushes) / dt);
        publish(COALESCED_RATE, ((pushes - lastPushes) - (scans - lastScans)) / dt);
        publish(DROPPED, (double)dropped);
        lastJobs = w.queued;
        lastPushes = pushes;
        lastScans = scans;
        lastTime = now;
    }
}

/* Once the IOC runs: find the names records registered; start only if there are any. */
static void startStats(initHookState state)
{
    int i, any = 0;
    if (state != initHookAfterIocRunning)
        return;
    for (i = 0; i < NFIGURES; i++)
        any |= (figures[i].io = pydevIointrLookup(figures[i].name)) != NULL;
    /* above the workers: the figures keep coming while the pool is saturated */
    if (any)
        epicsThreadCreate("pydevStats", pydevWorkersPriority() < epicsThreadPriorityMax ? pydevWorkersPriority() + 1 : epicsThreadPriorityMax,
                          epicsThreadGetStackSize(epicsThreadStackSmall), statsMain, NULL);
}

void pydevStatsInit(void)
{
    static int done;
    if (!done++)
        initHookRegister(startStats);
}
