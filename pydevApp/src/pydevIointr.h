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
/* called with the name's mutex held: store res into a record (whose lock the caller holds) */
typedef void pydevIointrStoreFn(void *arg, const pydevResult *res);

/* the entry of name, created on first use; NULL only when out of memory */
pydevIointr *pydevIointrFind(const char *name);
/* the entry of name if a record or a push made it; NULL otherwise */
pydevIointr *pydevIointrLookup(const char *name);
const char *pydevIointrName(const pydevIointr *io);
/* a record of this target joins io (before iocInit); NULL when out of memory */
pydevIointrSlot *pydevIointrAttach(pydevIointr *io, const pydevTarget *target);
pydevIointr *pydevIointrOf(const pydevIointrSlot *slot);
IOSCANPVT pydevIointrScan(const pydevIointr *io);

/* Deliver value to every record of io: convert it for each slot (with no lock held: the
 * converter may run code that pushes too), store it unless a push that began later got there
 * first, then scan, coalescing: while a scan is outstanding a newer value only replaces the
 * stored one, and the scan is requested again when it completes. */
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

/* With the record lock held: store(arg, latest value); 0 if nothing was pushed yet. */
int  pydevIointrApply(pydevIointrSlot *slot, pydevIointrStoreFn *store, void *arg);

/* once, before iocInit: pushes made before the IOC runs are scanned when it does */
void pydevIointrInit(void);
/* pushes and the scans they caused, over all names but the reserved "pydev:..." */
void pydevIointrTotals(unsigned long *pushes, unsigned long *scans);
void pydevIointrReport(int level);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevIointr_H */
