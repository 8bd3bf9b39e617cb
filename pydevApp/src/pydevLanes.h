/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevLanes.h - lanes: jobs of one device, run one at a time and in order.
 *
 * Above the worker pool (it queues a lane's jobs there one by one); EPICS only, no Python,
 * no records.  Internal: not installed.
 */
#ifndef INC_pydevLanes_H
#define INC_pydevLanes_H

#include "pydevWorkers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pydevLane pydevLane;

/* The lane called name, created on first use (at record init); NULL when out of memory. */
pydevLane *pydevLaneFind(const char *name);
const char *pydevLaneName(const pydevLane *lane);
/* Queue job on its lane: to the pool now if the lane is free, else after the lane's earlier
 * jobs have ended.  A job that waits on the lane past its timeout is taken out and dropped
 * (job->drop), as the pool drops one that waits in its queue. */
void pydevLaneQueue(pydevLane *lane, pydevJob *job);
/* job has ended (its record completed, an awaiting one when its task ended): if it holds the
 * lane, the lane's next job goes to the pool.  A job that never held it changes nothing. */
void pydevLaneDone(pydevLane *lane, pydevJob *job);
/* pydevReport: every lane, what holds it and its backlog */
void pydevLanesReport(int level);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevLanes_H */
