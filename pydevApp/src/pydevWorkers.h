/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevWorkers.h - the worker-thread pool: runs jobs off the scan threads.
 *
 * EPICS only: it knows nothing of Python or records.  Internal: not installed.
 */
#ifndef INC_pydevWorkers_H
#define INC_pydevWorkers_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pydevJob {
    struct pydevJob *next;
    void (*run)(struct pydevJob *job);
    /* the watch thread: the job ran past its timeout (its late result will be refused) */
    void (*expire)(struct pydevJob *job);
    /* the job waited past its timeout before it ran: it is out of the queue and will not
     * run (NULL: it waits on) */
    void (*drop)(struct pydevJob *job);
    double timeout;          /* seconds from queuedAt to its end; 0: no limit */
    int batchable;           /* another job's run may take it into its batch (TakeNext) */
    double queuedAt;         /* pydevWorkersNow() when it was queued (by a lane: entered it) */
} pydevJob;

typedef struct pydevWorkersStats {
    int workers, busy, stuck;
    unsigned long depth, queued, expired;
    double oldestAge;        /* seconds: the longest-running or longest-queued job */
} pydevWorkersStats;

/* count workers at all times (stuck ones replaced, up to capacity); threadInit (may be NULL)
 * runs first in every worker thread */
int  pydevWorkersStart(int count, int capacity, void (*threadInit)(void));
void pydevWorkersQueue(pydevJob *job);
/* the same, keeping job->queuedAt (a job that waited in a lane since then) */
void pydevWorkersQueueSince(pydevJob *job);
/* the pool's clock (seconds, monotonic, millisecond resolution) */
double pydevWorkersNow(void);
/* in job->run: the next queued job, taken by this worker as if it had finished the one it runs,
 * if that job has the same run function and is batchable; else NULL.  Never waits.  A run
 * may so do the first half of several jobs (their Python, under one hold of the GIL) before
 * completing them. */
pydevJob *pydevWorkersTakeNext(void (*run)(pydevJob *job));
/* in job->run, when it completes its record: a job it queues from now on (the next of a FLNK
 * chain) is kept by this worker and run next; before, queued jobs go to the shared queue */
void pydevWorkersCompleting(void);
/* in job->run, before completing: 0 if the job expired meanwhile (drop its result) */
int  pydevWorkersClaim(pydevJob *job);
void pydevWorkersGetStats(pydevWorkersStats *stats);
/* the EPICS priority the workers run at (PYDEV_PRIORITY, default 11) */
unsigned int pydevWorkersPriority(void);
void pydevWorkersReport(int level);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevWorkers_H */
