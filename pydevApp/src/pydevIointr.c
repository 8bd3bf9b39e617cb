/* pydevIointr.c - names used with pydev.iointr(): I/O Intr scan lists and latest values.
 *
 * A push converts the value once per distinct record target ("slot") with the pusher's
 * converter (Python's, under the GIL; or none, for numbers from C), then swaps it in under the
 * name's mutex; records on I/O Intr process synchronously in the scan callback thread without
 * Python.  Pushes coalesce: while a scan is outstanding a new value only replaces the stored
 * one; when the scan completes it is requested again if a newer value arrived, so the last
 * value pushed is always the value the records end with.
 * EPICS only: this file knows values (pydevValue.h), not Python and not records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epicsMutex.h>
#include <epicsStdio.h>
#include <epicsThread.h>
#include <dbScan.h>
#include <alarm.h>
#include <initHooks.h>

#include "pydevIointr.h"

struct pydevIointrSlot {
    struct pydevIointrSlot *next;
    pydevIointr *io;
    pydevTarget target;
    pydevResult value;
    epicsUInt64 valueSeq;     /* the push the value came from: a stale one never replaces it */
    int records;
};

struct pydevIointr {
    struct pydevIointr *next;
    char *name;
    IOSCANPVT scan;
    epicsMutexId lock;
    pydevIointrSlot *slots;
    unsigned long seq, scannedSeq, pushes, scans;
    epicsUInt64 pushSeq;      /* numbers pushes in the order they began */
    epicsTimeStamp lastTime;  /* of the last push */
    int outstanding;          /* scan priorities queued and not complete */
};

static pydevIointr *names;
static epicsMutexId namesLock;

/* with io->lock held; scanIoRequest only queues callbacks, it takes no record lock */
static void requestScanLocked(pydevIointr *io)
{
    unsigned int queued;
    io->scannedSeq = io->seq;
    io->scans++;
    for (queued = scanIoRequest(io->scan); queued; queued &= queued - 1)
        io->outstanding++;
}

static void scanComplete(void *usr, IOSCANPVT scan, int prio)
{
    pydevIointr *io = usr;
    (void)scan;
    (void)prio;
    epicsMutexMustLock(io->lock);
    if (--io->outstanding == 0 && io->seq != io->scannedSeq)
        requestScanLocked(io);
    epicsMutexUnlock(io->lock);
}

static void createNamesLock(void *unused)
{
    (void)unused;
    namesLock = epicsMutexMustCreate();
}

static pydevIointr *newName(const char *name)
{
    pydevIointr *io = calloc(1, sizeof(*io));
    if (io && !(io->name = strdup(name))) {
        free(io);
        return NULL;
    }
    if (io) {
        io->lock = epicsMutexMustCreate();
        scanIoInit(&io->scan);
        scanIoSetComplete(io->scan, scanComplete, io);
    }
    return io;
}

pydevIointr *pydevIointrFind(const char *name)
{
    static epicsThreadOnceId once = EPICS_THREAD_ONCE_INIT;
    pydevIointr *io;
    epicsThreadOnce(&once, createNamesLock, NULL);
    epicsMutexMustLock(namesLock);
    for (io = names; io; io = io->next)
        if (strcmp(io->name, name) == 0)
            break;
    if (!io && (io = newName(name)) != NULL) {
        io->next = names;
        names = io;
    }
    epicsMutexUnlock(namesLock);
    return io;
}

pydevIointrSlot *pydevIointrAttach(pydevIointr *io, const pydevTarget *target)
{
    pydevIointrSlot *slot;
    epicsMutexMustLock(io->lock);
    for (slot = io->slots; slot; slot = slot->next)
        if (pydevTargetSame(&slot->target, target))
            break;
    if (!slot && (slot = calloc(1, sizeof(*slot)))) {
        slot->io = io;
        slot->target = *target;
        if (pydevResultAlloc(&slot->value, target)) {
            free(slot);
            slot = NULL;
        } else {
            slot->next = io->slots;
            io->slots = slot;
        }
    }
    if (slot)
        slot->records++;
    epicsMutexUnlock(io->lock);
    return slot;
}

IOSCANPVT pydevIointrScan(const pydevIointr *io) { return io->scan; }
const char *pydevIointrName(const pydevIointr *io) { return io->name; }

epicsTimeStamp pydevIointrLastTime(pydevIointr *io)
{
    epicsTimeStamp time;
    epicsMutexMustLock(io->lock);
    time = io->lastTime;
    epicsMutexUnlock(io->lock);
    return time;
}
pydevIointr *pydevIointrOf(const pydevIointrSlot *slot) { return slot->io; }

/* The number the next push gets (pushes are ordered by when they begin). */
static epicsUInt64 nextPushSeq(pydevIointr *io)
{
    epicsUInt64 seq;
    epicsMutexMustLock(io->lock);
    seq = ++io->pushSeq;
    epicsMutexUnlock(io->lock);
    return seq;
}

epicsUInt64 pydevIointrLastSeq(pydevIointr *io)
{
    epicsUInt64 seq;
    epicsMutexMustLock(io->lock);
    seq = io->pushSeq;
    epicsMutexUnlock(io->lock);
    return seq;
}

/* Swap a converted value into slot, unless a newer push got there first. */
static void storeFresh(pydevIointrSlot *slot, pydevResult *fresh, epicsUInt64 seq)
{
    pydevResult old;
    epicsMutexMustLock(slot->io->lock);
    if (seq > slot->valueSeq) {
        old = slot->value;
        slot->value = *fresh;
        slot->valueSeq = seq;
    } else {
        old = *fresh;
    }
    epicsMutexUnlock(slot->io->lock);
    pydevResultFree(&old);
}

void pydevIointrStore(pydevIointrSlot *slot, pydevIointrConvert *convert, const void *value,
                      const epicsTimeStamp *time, epicsUInt64 seq)
{
    /* Convert with no lock held: conversion may run (Python) code, which may let another
     * thread take the GIL and push to this name too.  Whichever push began last wins in
     * every slot, whatever order the conversions finish in. */
    pydevResult fresh;
    if (pydevResultAlloc(&fresh, &slot->target))
        return;
    convert(value, &slot->target, &fresh);
    fresh.time = *time;
    storeFresh(slot, &fresh, seq);
}

/* After the slots have the value: count the push, and scan unless a scan is outstanding. */
static void pushed(pydevIointr *io, const epicsTimeStamp *time)
{
    epicsMutexMustLock(io->lock);
    io->lastTime = *time;
    io->pushes++;
    io->seq++;
    if (io->slots && !io->outstanding)
        requestScanLocked(io);
    epicsMutexUnlock(io->lock);
}

static pydevIointrSlot *slotsOf(pydevIointr *io)
{
    pydevIointrSlot *slots;
    epicsMutexMustLock(io->lock);
    slots = io->slots;  /* slots are only ever added, at the head */
    epicsMutexUnlock(io->lock);
    return slots;
}

void pydevIointrPush(pydevIointr *io, pydevIointrConvert *convert, const void *value,
                     const epicsTimeStamp *time)
{
    pydevIointrSlot *slot;
    epicsUInt64 seq = nextPushSeq(io);
    for (slot = slotsOf(io); slot; slot = slot->next)
        pydevIointrStore(slot, convert, value, time, seq);
    pushed(io, time);
}

void pydevIointrPushNumber(pydevIointr *io, double value)
{
    pydevIointrSlot *slot;
    epicsUInt64 seq = nextPushSeq(io);
    epicsTimeStamp now;
    epicsTimeGetCurrent(&now);
    for (slot = slotsOf(io); slot; slot = slot->next) {
        pydevResult fresh;
        if (pydevResultAlloc(&fresh, &slot->target))
            continue;
        pydevResultNumber(&fresh, &slot->target, value);
        fresh.time = now;
        storeFresh(slot, &fresh, seq);
    }
    pushed(io, &now);
}

pydevIointr *pydevIointrLookup(const char *name)
{
    pydevIointr *io = NULL;
    if (!namesLock)
        return NULL;
    epicsMutexMustLock(namesLock);
    for (io = names; io; io = io->next)
        if (strcmp(io->name, name) == 0)
            break;
    epicsMutexUnlock(namesLock);
    return io;
}

void pydevIointrTotals(unsigned long *pushes, unsigned long *scans)
{
    pydevIointr *io;
    *pushes = *scans = 0;
    if (!namesLock)
        return;
    epicsMutexMustLock(namesLock);
    for (io = names; io; io = io->next) {
        if (strncmp(io->name, "pydev:", 6) == 0)
            continue;  /* the diagnostics' own names (pydevStats.c) */
        epicsMutexMustLock(io->lock);
        *pushes += io->pushes;
        *scans += io->scans;
        epicsMutexUnlock(io->lock);
    }
    epicsMutexUnlock(namesLock);
}

/* Scan requests made before the IOC ran were dropped: deliver what was pushed by then. */
static void scanPushedNames(initHookState state)
{
    pydevIointr *io;
    if (state != initHookAfterIocRunning || !namesLock)
        return;
    epicsMutexMustLock(namesLock);
    for (io = names; io; io = io->next) {
        epicsMutexMustLock(io->lock);
        if (io->seq && io->slots && !io->outstanding)  /* scanIoRequest queued nothing before */
            requestScanLocked(io);
        epicsMutexUnlock(io->lock);
    }
    epicsMutexUnlock(namesLock);
}

void pydevIointrInit(void)
{
    static int done;
    if (!done) {
        done = 1;
        initHookRegister(scanPushedNames);
    }
}

int pydevIointrApply(pydevIointrSlot *slot, pydevIointrStoreFn *store, void *arg)
{
    pydevIointr *io = slot->io;
    int pushed;
    epicsMutexMustLock(io->lock);
    pushed = slot->value.kind != PYDEV_RESULT_NONE;
    if (pushed)
        store(arg, &slot->value);
    epicsMutexUnlock(io->lock);
    return pushed;
}

void pydevIointrReport(int level)
{
    pydevIointr *io;
    int n = 0;
    if (!namesLock)
        return;
    epicsMutexMustLock(namesLock);
    for (io = names; io; io = io->next) {
        pydevIointrSlot *slot;
        int records = 0;
        n++;
        for (slot = io->slots; slot; slot = slot->next)
            records += slot->records;
        if (level > 0)
            printf("  iointr '%s': %d records, %lu pushes, %lu scans\n", io->name, records,
                   io->pushes, io->scans);
    }
    epicsMutexUnlock(namesLock);
    printf("pydev iointr names: %d\n", n);
}
