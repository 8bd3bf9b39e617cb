/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevLanes.c - lanes: the jobs of one device run one at a time, in order.
 *
 * A record with info(pydev:lane, "plc1") queues its job on lane "plc1" instead of the pool.
 * The lane hands the pool one job at a time: the next goes when the one before has ended
 * (pydevLaneDone), which for a record that awaits is when its task ends, not when its worker
 * let go.  So a lane never holds more than one worker, and a device that hangs holds one
 * worker (or none, awaiting) however many of its records are processed: the other records
 * keep the rest of the pool.
 *
 * A job waiting on its lane past its timeout (counted from when it entered the lane, as the
 * pool counts) is taken out and dropped: its client gets the alarm at the time it was
 * promised, even while the lane is held by a job that hangs.  A small thread watches the
 * backlogs for that.  This file knows nothing of Python or records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epicsMutex.h>
#include <epicsThread.h>
#include <errlog.h>

#include "pydevLanes.h"

struct pydevLane {
    struct pydevLane *next;
    char *name;
    pydevJob *current;           /* the job that holds the lane (queued, running, awaiting) */
    double since;                /* when it took the lane */
    pydevJob *head, *tail;       /* the backlog */
    unsigned long depth, maxDepth, jobs, dropped;
};

static struct {
    epicsMutexId lock;
    pydevLane *all;
    int watching;
} lanes;

static const double WATCH_PERIOD = 0.05;

/* with lanes.lock held: the backlog's jobs that passed their time limit, taken out of it */
static pydevJob *takeOverdue(pydevLane *lane, double now)
{
    pydevJob **link = &lane->head, *overdue = NULL, **end = &overdue, *job;
    lane->tail = NULL;
    while ((job = *link) != NULL) {
        if (job->timeout > 0 && job->drop && now - job->queuedAt > job->timeout) {
            *link = job->next;
            job->next = NULL;
            *end = job;
            end = &job->next;
            lane->depth--;
            lane->dropped++;
        } else {
            lane->tail = job;
            link = &job->next;
        }
    }
    return overdue;
}

static void watchMain(void *unused)
{
    (void)unused;
    for (;;) {
        pydevJob *overdue = NULL, **end = &overdue;
        pydevLane *lane;
        double now;
        epicsThreadSleep(WATCH_PERIOD);
        now = pydevWorkersNow();
        epicsMutexMustLock(lanes.lock);
        for (lane = lanes.all; lane; lane = lane->next) {
            if (!lane->head)
                continue;
            *end = takeOverdue(lane, now);
            while (*end)
                end = &(*end)->next;
        }
        epicsMutexUnlock(lanes.lock);
        while (overdue) {
            pydevJob *job = overdue;
            overdue = job->next;
            job->drop(job);
        }
    }
}

static void init(void *unused)
{
    (void)unused;
    lanes.lock = epicsMutexMustCreate();
}

pydevLane *pydevLaneFind(const char *name)
{
    static epicsThreadOnceId once = EPICS_THREAD_ONCE_INIT;
    pydevLane *lane;
    int start = 0;
    epicsThreadOnce(&once, init, NULL);
    epicsMutexMustLock(lanes.lock);
    for (lane = lanes.all; lane && strcmp(lane->name, name) != 0; lane = lane->next)
        ;
    if (!lane && (lane = calloc(1, sizeof(*lane))) != NULL) {
        if (!(lane->name = malloc(strlen(name) + 1))) {
            free(lane);
            lane = NULL;
        } else {
            strcpy(lane->name, name);
            lane->next = lanes.all;
            lanes.all = lane;
            start = !lanes.watching;
            lanes.watching = 1;
        }
    }
    epicsMutexUnlock(lanes.lock);
    /* above the workers, like the pool's own watch: it must run while they are busy */
    if (start && !epicsThreadCreate("pydevLanes", epicsThreadPriorityHigh,
                                    epicsThreadGetStackSize(epicsThreadStackSmall), watchMain,
                                    NULL))
        errlogPrintf("pydev: cannot start the pydevLanes thread: no time limits on lanes\n");
    return lane;
}

const char *pydevLaneName(const pydevLane *lane) { return lane->name; }

void pydevLaneQueue(pydevLane *lane, pydevJob *job)
{
    int now;
    job->next = NULL;
    job->queuedAt = pydevWorkersNow();
    epicsMutexMustLock(lanes.lock);
    lane->jobs++;
    if ((now = !lane->current) != 0) {
        lane->current = job;
        lane->since = job->queuedAt;
    } else {
        if (lane->tail)
            lane->tail->next = job;
        else
            lane->head = job;
        lane->tail = job;
        if (++lane->depth > lane->maxDepth)
            lane->maxDepth = lane->depth;
    }
    epicsMutexUnlock(lanes.lock);
    if (now)
        pydevWorkersQueueSince(job);
}

void pydevLaneDone(pydevLane *lane, pydevJob *job)
{
    pydevJob *next = NULL;
    epicsMutexMustLock(lanes.lock);
    if (lane->current == job) {
        if ((next = lane->head) != NULL) {
            lane->head = next->next;
            if (!lane->head)
                lane->tail = NULL;
            lane->depth--;
            next->next = NULL;
            lane->since = pydevWorkersNow();
        }
        lane->current = next;
    }
    epicsMutexUnlock(lanes.lock);
    if (next)
        pydevWorkersQueueSince(next);  /* its time limit counts from when it entered the lane */
}

void pydevLanesReport(int level)
{
    pydevLane *lane;
    double now = pydevWorkersNow();
    (void)level;
    if (!lanes.lock)
        return;
    epicsMutexMustLock(lanes.lock);
    for (lane = lanes.all; lane; lane = lane->next) {
        printf("pydev lane '%s': ", lane->name);
        if (lane->current)
            printf("held for %.3f s", now - lane->since);
        else
            printf("free");
        printf(", backlog %lu (max %lu), %lu jobs, %lu timed out waiting\n", lane->depth,
               lane->maxDepth, lane->jobs, lane->dropped);
    }
    epicsMutexUnlock(lanes.lock);
}
