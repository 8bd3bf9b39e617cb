/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevWorkers.c - the worker threads that run Python for records.
 *
 * Scan threads only queue a job; a worker runs the snippet with the GIL, releases it, then
 * completes the record under its lock.  A job queued *by a worker* while it completes a record
 * (the next record of a FLNK chain; the job says when with pydevWorkersCompleting) is kept by
 * that worker and run next, without a wake-up or a thread switch; further jobs, and jobs queued
 * while the snippet runs (a pydev.put that processes a record), go to the shared queue.
 *
 * Batches: a run may take further queued jobs of its kind (pydevWorkersTakeNext) to do their
 * first half - the record glue runs their Python under one hold of the GIL - before it
 * completes them all.  The jobs stay in the shared queue until taken, one at a time.
 *
 * Waking: a queued job wakes a sleeping worker only when no worker is awake.  An awake worker
 * takes job after job until the queue is empty, so GIL-holding snippets run in one thread
 * without the GIL moving between threads on every record.  When the awake workers stop
 * taking jobs - they wait in GIL-free code (time.sleep, I/O, numpy), or the snippet waits for
 * a job it queued - the pydevWake thread, watching while the queue is not empty, wakes one
 * more each WAKE_AFTER seconds without progress, so such snippets still run side by side.
 *
 * Priority: workers run at PYDEV_PRIORITY (EPICS 0-99, default 11: above
 * epicsThreadPriorityLow, below the CA server's threads, epicsThreadPriorityCAServerLow = 20
 * and up), so a saturated pool cannot starve clients or the scan threads.
 *
 * Hang protection: a job may carry a time limit, counted from when it was queued (what a
 * client waits, not only what the code runs).  A job still queued past it is taken out of the
 * queue and dropped (drop()); a watch thread expires a job that runs past it (the job's
 * expire() completes its record with an alarm) and declares its worker stuck; a
 * new worker takes the stuck one's place, so the pool keeps its size (up to its capacity).
 * When the stuck code returns at last, its worker finds the job expired (pydevWorkersClaim
 * fails), drops the late result and retires if the pool has its full size without it.
 * This file knows nothing of Python or records: it runs jobs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <epicsMutex.h>
#include <epicsEvent.h>
#include <epicsThread.h>
#include <epicsTime.h>
#include <errlog.h>

#include "pydevSettings.h"
#include "pydevWorkers.h"

typedef struct worker {
    struct worker *nextIdle;
    epicsEventId wake;
    pydevJob *kept;          /* continuation queued by this worker */
    pydevJob *current;       /* the job being run, for the watch thread */
    double startedAt;
    unsigned long jobs;
    int running;             /* a thread runs this entry (entries are reused after retiring) */
    int busy, claimed, expired;
    int completing;          /* the job said it completes its record: keep what it queues */
} worker;

enum { DEFAULT_PRIORITY = 11 };
static const double WAKE_AFTER = 0.0005;  /* seconds without a job taken: wake one more */
/* a job that has run this long waits on something (a device, a sleep) or computes: its
 * worker takes no job soon, so a job queued now wakes another at once (the coarse clock
 * ticks every few ms: a shorter limit would read most jobs as that old) */
static const double RUNNING_LONG = 0.010;

static struct {
    epicsMutexId lock;
    pydevJob *head, *tail;
    unsigned long depth, maxDepth, queued, expiredJobs;
    unsigned long taken, wakes;  /* jobs taken from the queue, workers woken */
    unsigned long timedQueued;   /* queued jobs with a time limit (the watch walks the queue) */
    worker *idle;
    int idleCount;
    int watching;            /* the pydevWake thread watches the queue */
    epicsEventId watch;      /* starts it watching */
    unsigned int priority;
    worker *workers;         /* capacity entries; those below `started` were used */
    pydevJob **expiring;     /* the watch thread's scratch list, capacity entries */
    int target;              /* workers that are not stuck, wanted at all times */
    int started, live, stuck, capacity;
    unsigned int stackSize;
    void (*threadInit)(void);
} pool;

static epicsThreadPrivateId currentWorker;

/* A cheap clock for queue and run times: a time limit needs no better than milliseconds. */
static double coarseNow(void)
{
#ifdef CLOCK_MONOTONIC_COARSE
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
        return ts.tv_sec + 1e-9 * ts.tv_nsec;
#endif
    return epicsMonotonicGet() * 1e-9;
}

/* with pool.lock held */
static void startRunning(worker *self, pydevJob *job)
{
    self->busy = 1;
    self->current = job;
    self->startedAt = coarseNow();
    self->claimed = 0;
    self->completing = 0;
}

/* with pool.lock held: the queue's first job, taken off it */
static pydevJob *dequeue(void)
{
    pydevJob *job = pool.head;
    pool.head = job->next;
    if (!pool.head)
        pool.tail = NULL;
    pool.depth--;
    pool.taken++;
    if (job->timeout > 0)
        pool.timedQueued--;
    return job;
}

double pydevWorkersNow(void) { return coarseNow(); }

/* The next job; NULL when this worker, back from an expired job, is one too many. */
static pydevJob *takeJob(worker *self)
{
    pydevJob *job;
    epicsMutexMustLock(pool.lock);
    self->current = NULL;
    if (self->expired) {
        self->expired = 0;
        pool.stuck--;
        if (pool.live - pool.stuck > pool.target) {
            self->busy = 0;
            self->running = 0;
            pool.live--;
            epicsMutexUnlock(pool.lock);
            return NULL;
        }
    }
    while (!pool.head) {
        self->busy = 0;
        self->nextIdle = pool.idle;
        pool.idle = self;
        pool.idleCount++;
        epicsMutexUnlock(pool.lock);
        epicsEventMustWait(self->wake);
        epicsMutexMustLock(pool.lock);
    }
    job = dequeue();
    startRunning(self, job);
    epicsMutexUnlock(pool.lock);
    return job;
}

static void workerMain(void *arg)
{
    worker *self = arg;
    pydevJob *job;
    epicsThreadPrivateSet(currentWorker, self);
    if (pool.threadInit)
        pool.threadInit();
    while ((job = takeJob(self)) != NULL) {
        for (;;) {
            job->run(job);
            self->jobs++;
            if (!(job = self->kept))
                break;
            self->kept = NULL;
            epicsMutexMustLock(pool.lock);
            startRunning(self, job);
            epicsMutexUnlock(pool.lock);
        }
    }
}

pydevJob *pydevWorkersTakeNext(void (*run)(pydevJob *job))
{
    worker *self = pool.capacity ? epicsThreadPrivateGet(currentWorker) : NULL;
    pydevJob *job;
    if (!self)
        return NULL;
    /* one job at a time, left in the shared queue until then: a job behind one that turns out
     * slow is taken by another worker (taking several at once measured no faster) */
    epicsMutexMustLock(pool.lock);
    job = pool.head && pool.head->run == run && pool.head->batchable ? dequeue() : NULL;
    if (job) {
        self->current = job;
        self->jobs++;
    }
    epicsMutexUnlock(pool.lock);
    return job;
}

int pydevWorkersClaim(pydevJob *job)
{
    worker *self;
    int mine = 1;
    if (job->timeout <= 0)
        return 1;  /* the watch thread never expires a job without a limit: no lock per job */
    if (!(self = pool.capacity ? epicsThreadPrivateGet(currentWorker) : NULL))
        return 1;
    epicsMutexMustLock(pool.lock);
    if (self->expired && self->current == job)
        mine = 0;
    else
        self->claimed = 1;
    epicsMutexUnlock(pool.lock);
    return mine;
}

void pydevWorkersCompleting(void)
{
    worker *self = pool.capacity ? epicsThreadPrivateGet(currentWorker) : NULL;
    if (self)
        self->completing = 1;
}

/* with pool.lock held: whether an awake worker will take a job soon: it is between jobs, or
 * its job began less than RUNNING_LONG ago */
static int takerAwake(double now)
{
    int i;
    for (i = 0; i < pool.started; i++) {
        const worker *w = &pool.workers[i];
        if (w->running && w->busy && !w->expired &&
            (!w->current || now - w->startedAt < RUNNING_LONG))
            return 1;
    }
    return 0;
}

/* with pool.lock held: an idle worker, claimed (a second job wakes another); NULL if none */
static worker *claimIdle(void)
{
    worker *w = pool.idle;
    if (w) {
        pool.idle = w->nextIdle;
        pool.idleCount--;
        pool.wakes++;
        w->busy = 1;
    }
    return w;
}

void pydevWorkersQueue(pydevJob *job)
{
    job->queuedAt = coarseNow();
    pydevWorkersQueueSince(job);
}

void pydevWorkersQueueSince(pydevJob *job)
{
    worker *self = pool.capacity ? epicsThreadPrivateGet(currentWorker) : NULL;
    worker *wake = NULL;
    int watch = 0;
    job->next = NULL;
    if (self && self->completing && !self->kept) {
        self->kept = job;
        return;
    }
    epicsMutexMustLock(pool.lock);
    if (job->timeout > 0)
        pool.timedQueued++;
    if (pool.tail)
        pool.tail->next = job;
    else
        pool.head = job;
    pool.tail = job;
    pool.queued++;
    if (++pool.depth > pool.maxDepth)
        pool.maxDepth = pool.depth;
    /* workers awake and not stuck past a time limit take this job in their turn, unless
     * they all run jobs that wait (a device that hangs): then it would wait for pydevWake */
    if (pool.live - pool.idleCount - pool.stuck <= 0 || (pool.idle && !takerAwake(coarseNow())))
        wake = claimIdle();
    else if (!pool.watching && pool.idle)
        watch = pool.watching = 1;
    epicsMutexUnlock(pool.lock);
    if (wake)
        epicsEventMustTrigger(wake->wake);
    if (watch)
        epicsEventMustTrigger(pool.watch);
}

/* While the queue is not empty: wake one more worker whenever no job was taken for
 * WAKE_AFTER seconds (the awake ones are busy in code that does not take jobs). */
static void wakeMain(void *unused)
{
    (void)unused;
    for (;;) {
        epicsEventMustWait(pool.watch);
        for (;;) {
            unsigned long taken;
            worker *wake = NULL;
            epicsMutexMustLock(pool.lock);
            taken = pool.taken;
            epicsMutexUnlock(pool.lock);
            epicsThreadSleep(WAKE_AFTER);
            epicsMutexMustLock(pool.lock);
            /* nothing queued, or no worker to wake (none goes idle while jobs wait): rest
             * until a job is queued while a worker sleeps */
            if (!pool.head || !pool.idle) {
                pool.watching = 0;
                epicsMutexUnlock(pool.lock);
                break;
            }
            if (pool.taken == taken)
                wake = claimIdle();
            epicsMutexUnlock(pool.lock);
            if (wake)
                epicsEventMustTrigger(wake->wake);
        }
    }
}

/* Bytes of stack per worker: PYDEV_STACK_SIZE (with an optional k or M), else what a new
 * pthread gets by default - the stack Python's own threads run on - so that recursion a
 * Python thread survives also runs in a snippet (EPICS' "big" stack is only 2 MiB here). */
static unsigned int workerStackSize(void)
{
    double v;
    size_t size = 0;
    pthread_attr_t attr;
    if (pydevSettingNumber(PYDEV_SET_STACK_SIZE, &v) == 0)
        return (unsigned int)v;
    if (pthread_attr_init(&attr) == 0) {
        if (pthread_attr_getstacksize(&attr, &size) != 0)
            size = 0;
        pthread_attr_destroy(&attr);
    }
    if (size < 8u * 1024 * 1024)
        size = 8u * 1024 * 1024;
    return (unsigned int)size;
}

/* EPICS priority of the workers: PYDEV_PRIORITY, else DEFAULT_PRIORITY */
static unsigned int workerPriority(void)
{
    double v = DEFAULT_PRIORITY;
    pydevSettingNumber(PYDEV_SET_PRIORITY, &v);
    return (unsigned int)v;
}

/* with pool.lock held */
static int startWorker(void)
{
    worker *w;
    char name[16];
    int i;
    for (i = 0; i < pool.capacity && pool.workers[i].running; i++)
        ;
    if (i == pool.capacity)
        return -1;
    w = &pool.workers[i];
    if (!w->wake)
        w->wake = epicsEventMustCreate(epicsEventEmpty);
    w->busy = 1;
    w->running = 1;
    snprintf(name, sizeof(name), "pydev%d", i);
    if (!epicsThreadCreate(name, pool.priority, pool.stackSize, workerMain, w)) {
        errlogPrintf("pydev: cannot start worker thread %s\n", name);
        w->running = w->busy = 0;
        return -1;
    }
    if (i >= pool.started)
        pool.started = i + 1;
    pool.live++;
    return 0;
}

/* with pool.lock held: take the queued jobs that passed their time limit out of the queue;
 * the list of them (linked by next) */
static pydevJob *takeOverdue(double now)
{
    pydevJob **link = &pool.head, *overdue = NULL, **end = &overdue, *job;
    pool.tail = NULL;
    while ((job = *link) != NULL) {
        if (job->timeout > 0 && job->drop && now - job->queuedAt > job->timeout) {
            *link = job->next;
            job->next = NULL;
            *end = job;
            end = &job->next;
            pool.depth--;
            pool.timedQueued--;
            pool.expiredJobs++;
        } else {
            pool.tail = job;
            link = &job->next;
        }
    }
    return overdue;
}

static void watchMain(void *unused)
{
    (void)unused;
    for (;;) {
        int i, n = 0;
        double now;
        pydevJob *overdue = NULL;
        epicsThreadSleep(0.05);
        now = coarseNow();
        epicsMutexMustLock(pool.lock);
        if (pool.timedQueued)
            overdue = takeOverdue(now);
        for (i = 0; i < pool.started; i++) {
            worker *w = &pool.workers[i];
            pydevJob *job = w->current;
            if (job && w->running && w->busy && !w->claimed && !w->expired && job->timeout > 0 &&
                now - job->queuedAt > job->timeout) {
                w->expired = 1;
                pool.stuck++;
                pool.expiredJobs++;
                pool.expiring[n++] = job;
            }
        }
        while (pool.live - pool.stuck < pool.target && startWorker() == 0)
            ;
        epicsMutexUnlock(pool.lock);
        for (i = 0; i < n; i++)
            pool.expiring[i]->expire(pool.expiring[i]);
        while (overdue) {
            pydevJob *job = overdue;
            overdue = job->next;
            job->drop(job);
        }
    }
}

int pydevWorkersStart(int count, int capacity, void (*threadInit)(void))
{
    int i;
    if (pool.capacity)
        return 0;
    if (count < 1)
        count = 1;
    if (capacity < count)
        capacity = count;
    pool.lock = epicsMutexMustCreate();
    currentWorker = epicsThreadPrivateCreate();
    pool.workers = calloc(capacity, sizeof(worker));
    pool.expiring = calloc(capacity, sizeof(pydevJob *));
    if (!pool.workers || !pool.expiring)
        return -1;
    pool.stackSize = workerStackSize();
    pool.priority = workerPriority();
    pool.watch = epicsEventMustCreate(epicsEventEmpty);
    pool.threadInit = threadInit;
    pool.target = count;
    pool.capacity = capacity;
    epicsMutexMustLock(pool.lock);
    for (i = 0; i < count; i++)
        if (startWorker()) {
            epicsMutexUnlock(pool.lock);
            return -1;
        }
    epicsMutexUnlock(pool.lock);
    /* above the workers, so that it runs while they are busy; it only wakes them */
    if (!epicsThreadCreate("pydevWake", pool.priority < epicsThreadPriorityMax ? pool.priority + 1
                                                                              : pool.priority,
                           epicsThreadGetStackSize(epicsThreadStackSmall), wakeMain, NULL)) {
        errlogPrintf("pydev: cannot start the pydevWake thread\n");
        return -1;
    }
    if (!epicsThreadCreate("pydevWatch", epicsThreadPriorityHigh,
                           epicsThreadGetStackSize(epicsThreadStackSmall), watchMain, NULL)) {
        errlogPrintf("pydev: cannot start the pydevWatch thread: no time limits\n");
        return -1;
    }
    return 0;
}

unsigned int pydevWorkersPriority(void) { return pool.priority; }

void pydevWorkersGetStats(pydevWorkersStats *stats)
{
    int i;
    double now = coarseNow(), oldest = 0.0;
    epicsMutexMustLock(pool.lock);
    stats->workers = pool.live;
    stats->busy = 0;
    for (i = 0; i < pool.started; i++) {
        worker *w = &pool.workers[i];
        if (w->running && w->busy && w->current) {
            stats->busy++;
            if (now - w->startedAt > oldest)
                oldest = now - w->startedAt;
        }
    }
    if (pool.head && now - pool.head->queuedAt > oldest)
        oldest = now - pool.head->queuedAt;
    stats->stuck = pool.stuck;
    stats->depth = pool.depth;
    stats->queued = pool.queued;
    stats->expired = pool.expiredJobs;
    stats->oldestAge = oldest;
    epicsMutexUnlock(pool.lock);
}

void pydevWorkersReport(int level)
{
    int i;
    pydevWorkersStats stats;
    if (!pool.capacity) {
        printf("pydev workers: not started\n");
        return;
    }
    pydevWorkersGetStats(&stats);
    printf("pydev workers: %d (%d busy, %d stuck past their time limit), queue depth %lu "
           "(max %lu), %lu jobs queued, %lu wake-ups, %lu timed out, oldest job %.3f s, "
           "priority %u, %u KiB stack each\n",
           stats.workers, stats.busy, stats.stuck, stats.depth, pool.maxDepth, stats.queued,
           pool.wakes, stats.expired, stats.oldestAge, pool.priority, pool.stackSize / 1024);
    if (level > 0) {
        double now = coarseNow();
        epicsMutexMustLock(pool.lock);
        for (i = 0; i < pool.started; i++) {
            worker *w = &pool.workers[i];
            if (!w->running)
                continue;
            printf("  pydev%d: ", i);
            if (w->expired)
                printf("STUCK for %.1f s", now - w->startedAt);
            else if (w->busy && w->current)
                printf("busy for %.3f s", now - w->startedAt);
            else if (w->busy)
                printf("starting");
            else
                printf("idle");
            printf(", %lu jobs run\n", w->jobs);
        }
        epicsMutexUnlock(pool.lock);
    }
}
