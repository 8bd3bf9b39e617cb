/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevIointr.h - the iointr registry: named I/O Intr scan lists and their latest values.
 *
 * EPICS only (values below it; nothing above).  A push converts a value once per distinct
 * target ("slot") with a converter the caller gives, so Python values never reach this file
 * as anything but an opaque pointer.  Internal: not installed.
 *
 * Lock order: a name's mutex is taken last: under the GIL (a push converting), or under a
 * record lock (pydevIointrApply); no lock is taken while holding it.
 */
#ifndef INC_pydevIointr_H
#define INC_pydevIointr_H

#include <epicsTypes.h>
#include <epicsTime.h>
#include <dbScan.h>

#include "pydevValue.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pydevIointr pydevIointr;
typedef struct pydevIointrSlot pydevIointrSlot;

/* value converted for target into res (allocated for it, kind NONE) */
typedef void pydevIointrConvert(const void *value, const pydevTarget *target, pydevResult *res);
/* called with the name's mutex held: store res into a record (whose lock the caller holds).
 * mayTake: the record is the slot's only one; it may trade buffers with res (pydevResultTake)
 * rather than copy - the slot then knows the record holds the value and stores it only once */
typedef void pydevIointrStoreFn(void *arg, pydevResult *res, int mayTake);

/* the entry of name, created on first use; NULL only when out of memory */
pydevIointr *pydevIointrFind(const char *name);
/* the entry of name if a record or a push made it; NULL otherwise */
pydevIointr *pydevIointrLookup(const char *name);
const char *pydevIointrName(const pydevIointr *io);
/* A record of this target joins io (before iocInit).  queue: 0, pushes coalesce; N, the
 * record gets every push, up to N waiting (all records of a name must agree).  NULL with
 * *why saying why (out of memory, or a queue that differs from the name's). */
pydevIointrSlot *pydevIointrAttach(pydevIointr *io, const pydevTarget *target,
                                   unsigned int queue, const char **why);
pydevIointr *pydevIointrOf(const pydevIointrSlot *slot);
IOSCANPVT pydevIointrScan(const pydevIointr *io);

/* Deliver value to every record of io: convert it for each slot (with no lock held: the
 * converter may run code that pushes too; it sizes res->buf with pydevResultReserve), store
 * it unless a push that began later got there first, then scan, coalescing: while a scan is
 * outstanding a newer value only replaces the stored one, and the scan is requested again
 * when it completes.  A queueing name appends the value to each record's slot instead, and
 * scans until every slot is empty. */
void pydevIointrPush(pydevIointr *io, pydevIointrConvert *convert, const void *value,
                     const epicsTimeStamp *time);
/* a number to every record of io (strings get "%g"), without a converter */
void pydevIointrPushNumber(pydevIointr *io, double value);
/* one slot only (a record attached after pushes): the value replaces the slot's only if seq
 * is newer than the push it holds */
void pydevIointrStore(pydevIointrSlot *slot, pydevIointrConvert *convert, const void *value,
                      const epicsTimeStamp *time, epicsUInt64 seq);
/* the number of the last push begun on io (0: none), and its time */
epicsUInt64 pydevIointrLastSeq(pydevIointr *io);
epicsTimeStamp pydevIointrLastTime(pydevIointr *io);

/* With the record lock held: store(arg, latest value) - queueing, the oldest waiting one, or
 * the last delivered when none waits; 0 if nothing was pushed yet.  *dropped (may be NULL):
 * values dropped from a full queue since the last call (the record raises an alarm). */
int  pydevIointrApply(pydevIointrSlot *slot, pydevIointrStoreFn *store, void *arg,
                      unsigned long *dropped);

/* once, before iocInit: pushes made before the IOC runs are scanned when it does */
void pydevIointrInit(void);
/* pushes, the scans they caused and the values full queues dropped, over all names but the
 * reserved "pydev:..." */
void pydevIointrTotals(unsigned long *pushes, unsigned long *scans, unsigned long *dropped);
void pydevIointrReport(int level);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevIointr_H */
