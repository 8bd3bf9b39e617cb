/* pydevWorkers.c - the worker threads that run Python for records.
 *
 * Scan threads only queue a job; a worker runs the snippet with the GIL, releases it, then
 * completes the record under its lock.  A job queued *by a worker* while it completes a record
 * (the next record of a FLNK chain) is kept by that worker and run next, without a wake-up or
 * a thread switch; further jobs go to the shared queue and wake one idle worker each.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <epicsMutex.h>
#include <epicsEvent.h>
#include <epicsThread.h>
#include <errlog.h>

#include "pydev.h"

typedef struct worker {
    struct worker *nextIdle;
    epicsEventId wake;
    pydevJob *kept;          /* continuation queued by this worker */
    unsigned long jobs;
    int busy;
} worker;

static struct {
    epicsMutexId lock;
    pydevJob *head, *tail;
    unsigned long depth, maxDepth, queued;
    worker *idle;
    worker *workers;
    int count;
    unsigned int stackSize;
} pool;

static epicsThreadPrivateId currentWorker;

static pydevJob *takeJob(worker *self)
{
    pydevJob *job;
    epicsMutexMustLock(pool.lock);
    while (!(job = pool.head)) {
        self->busy = 0;
        self->nextIdle = pool.idle;
        pool.idle = self;
        epicsMutexUnlock(pool.lock);
        epicsEventMustWait(self->wake);
        epicsMutexMustLock(pool.lock);
    }
    pool.head = job->next;
    if (!pool.head)
        pool.tail = NULL;
    pool.depth--;
    self->busy = 1;
    epicsMutexUnlock(pool.lock);
    return job;
}

static void workerMain(void *arg)
{
    worker *self = arg;
    epicsThreadPrivateSet(currentWorker, self);
    pydevPyThreadInit();
    for (;;) {
        pydevJob *job = takeJob(self);
        while (job) {
            job->run(job);
            self->jobs++;
            job = self->kept;
            self->kept = NULL;
        }
    }
}

void pydevWorkersQueue(pydevJob *job)
{
    worker *self = pool.count ? epicsThreadPrivateGet(currentWorker) : NULL;
    worker *wake = NULL;
    job->next = NULL;
    if (self && !self->kept) {
        self->kept = job;
        return;
    }
    epicsMutexMustLock(pool.lock);
    if (pool.tail)
        pool.tail->next = job;
    else
        pool.head = job;
    pool.tail = job;
    pool.queued++;
    if (++pool.depth > pool.maxDepth)
        pool.maxDepth = pool.depth;
    if ((wake = pool.idle) != NULL) {
        pool.idle = wake->nextIdle;
        wake->busy = 1;  /* claimed: a second job wakes another worker */
    }
    epicsMutexUnlock(pool.lock);
    if (wake)
        epicsEventMustTrigger(wake->wake);
}

/* Bytes of stack per worker: PYDEV_STACK_SIZE (with an optional k or M), else what a new
 * pthread gets by default - the stack Python's own threads run on - so that recursion a
 * Python thread survives also runs in a snippet (EPICS' "big" stack is only 2 MiB here). */
static unsigned int workerStackSize(void)
{
    const char *env = getenv("PYDEV_STACK_SIZE");
    size_t size = 0;
    pthread_attr_t attr;
    if (env && *env) {
        char *end;
        double v = strtod(env, &end);
        if (*end == 'k' || *end == 'K')
            v *= 1024;
        else if (*end == 'm' || *end == 'M')
            v *= 1024 * 1024;
        if (v >= 64 * 1024 && v < 4e9)
            return (unsigned int)v;
        errlogPrintf("pydev: PYDEV_STACK_SIZE=%s is not a size from 64k to 4G; using the default\n", env);
    }
    if (pthread_attr_init(&attr) == 0) {
        if (pthread_attr_getstacksize(&attr, &size) != 0)
            size = 0;
        pthread_attr_destroy(&attr);
    }
    if (size < 8u * 1024 * 1024)
        size = 8u * 1024 * 1024;
    return (unsigned int)size;
}

int pydevWorkersStart(int count)
{
    unsigned int stackSize = workerStackSize();
    int i;
    if (pool.count)
        return 0;
    if (count < 1)
        count = 1;
    pool.lock = epicsMutexMustCreate();
    currentWorker = epicsThreadPrivateCreate();
    pool.workers = calloc(count, sizeof(worker));
    if (!pool.workers)
        return -1;
    for (i = 0; i < count; i++) {
        char name[16];
        pool.workers[i].wake = epicsEventMustCreate(epicsEventEmpty);
        pool.workers[i].busy = 1;
        snprintf(name, sizeof(name), "pydev%d", i);
        if (!epicsThreadCreate(name, epicsThreadPriorityMedium, stackSize,
                               workerMain, &pool.workers[i])) {
            errlogPrintf("pydev: cannot start worker thread %s\n", name);
            return -1;
        }
    }
    pool.count = count;
    pool.stackSize = stackSize;
    return 0;
}

void pydevWorkersReport(int level)
{
    int i, busy = 0;
    if (!pool.count) {
        printf("pydev workers: not started\n");
        return;
    }
    epicsMutexMustLock(pool.lock);
    for (i = 0; i < pool.count; i++)
        busy += pool.workers[i].busy;
    printf("pydev workers: %d (%d busy), queue depth %lu (max %lu), %lu jobs queued, "
           "%u KiB stack each\n", pool.count, busy, pool.depth, pool.maxDepth, pool.queued,
           pool.stackSize / 1024);
    if (level > 0)
        for (i = 0; i < pool.count; i++)
            printf("  pydev%d: %s, %lu jobs run\n", i, pool.workers[i].busy ? "busy" : "idle",
                   pool.workers[i].jobs);
    epicsMutexUnlock(pool.lock);
}
