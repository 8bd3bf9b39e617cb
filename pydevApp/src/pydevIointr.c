/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevIointr.c - names used with pydev.iointr(): I/O Intr scan lists and latest values.
 *
 * A push converts the value once per distinct record target ("slot") with the pusher's
 * converter (Python's, under the GIL; or none, for numbers from C), then swaps it in under the
 * name's mutex; records on I/O Intr process synchronously in the scan callback thread without
 * Python.  Pushes coalesce by default: while a scan is outstanding a new value only replaces
 * the stored one; when the scan completes it is requested again if a newer value arrived, so
 * the last value pushed is always the value the records end with.  A name can queue instead
 * (its records say info(pydev:queue, "N")): each record has a slot of its own holding up to N
 * values, oldest first, one taken per processing, and scans are requested until every slot
 * is empty; when a slot is full the oldest value is dropped, counted, and the next value
 * delivered carries the count, for the record to raise an alarm - never a silent loss.
 * A push converts into a buffer sized by what it carries, reused from push to push.
 * EPICS only: this file knows values (pydevValue.h), not Python and not records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <epicsMutex.h>
#include <epicsStdio.h>
#include <epicsThread.h>
#include <errlog.h>
#include <dbScan.h>
#include <alarm.h>
#include <initHooks.h>

#include "pydevIointr.h"

struct pydevIointrSlot {
    struct pydevIointrSlot *next;
    pydevIointr *io;
    pydevTarget target;
    pydevResult value;        /* the latest value; queueing: the last one delivered */
    pydevResult spare;        /* a buffer the next push converts into (reused, not freed) */
    epicsUInt64 valueSeq;     /* the push the value came from: a stale one never replaces it */
    int records;
    int taken;                /* the record took value's buffer: it holds the value already */
    /* queueing: values waiting for the slot's one record, ring[head] the oldest */
    pydevResult *ring;
    unsigned int head, count;
    unsigned long dropped;    /* dropped since a value was last delivered */
};

struct pydevIointr {
    struct pydevIointr *next;
    char *name;
    IOSCANPVT scan;
    epicsMutexId lock;
    pydevIointrSlot *slots;
    unsigned long seq, scannedSeq, pushes, scans, dropped;
    unsigned int queue;       /* values each record's slot holds; 0: pushes coalesce */
    epicsUInt64 pushSeq;      /* numbers pushes in the order they began */
    epicsTimeStamp lastTime;  /* of the last push */
    int outstanding;          /* scan priorities queued and not complete */
    int consumed;             /* queueing: a record took a value since the scan was requested */
};

static pydevIointr *names;
static epicsMutexId namesLock;

/* with io->lock held; scanIoRequest only queues callbacks, it takes no record lock */
static void requestScanLocked(pydevIointr *io)
{
    unsigned int queued;
    io->scannedSeq = io->seq;
    io->consumed = 0;
    io->scans++;
    for (queued = scanIoRequest(io->scan); queued; queued &= queued - 1)
        io->outstanding++;
}

/* with io->lock held: whether the records have something new to take */
static int scanOwed(const pydevIointr *io)
{
    const pydevIointrSlot *slot;
    if (!io->queue)
        return io->seq != io->scannedSeq;
    for (slot = io->slots; slot; slot = slot->next)
        if (slot->count)
            return 1;
    return 0;
}

static void scanComplete(void *usr, IOSCANPVT scan, int prio)
{
    pydevIointr *io = usr;
    (void)scan;
    (void)prio;
    epicsMutexMustLock(io->lock);
    /* queueing: a scan that took nothing (the records are disabled) waits for the next push
     * rather than scanning again and again */
    if (--io->outstanding == 0 && scanOwed(io) && (!io->queue || io->consumed))
        requestScanLocked(io);
    epicsMutexUnlock(io->lock);
}

static void createNamesLock(void *unused)
{
    (void)unused;
    namesLock = epicsMutexMustCreate();
}

/* The names' lock, locked; created once, whichever thread comes first (a report or a lookup
 * may come before any name exists, while another thread makes the first). */
static void lockNames(void)
{
    static epicsThreadOnceId once = EPICS_THREAD_ONCE_INIT;
    epicsThreadOnce(&once, createNamesLock, NULL);
    epicsMutexMustLock(namesLock);
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
    pydevIointr *io;
    lockNames();
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

static pydevIointrSlot *newSlot(pydevIointr *io, const pydevTarget *target, unsigned int queue)
{
    pydevIointrSlot *slot = calloc(1, sizeof(*slot));
    if (slot && queue && !(slot->ring = calloc(queue, sizeof(pydevResult)))) {
        free(slot);
        return NULL;
    }
    if (slot) {
        slot->io = io;
        slot->target = *target;
        slot->next = io->slots;
        io->slots = slot;
    }
    return slot;
}

pydevIointrSlot *pydevIointrAttach(pydevIointr *io, const pydevTarget *target,
                                   unsigned int queue, const char **why)
{
    pydevIointrSlot *slot = NULL;
    *why = "out of memory";
    epicsMutexMustLock(io->lock);
    if (io->slots && io->queue != queue) {
        *why = "pydev:queue differs from other records of its iointr name";
        epicsMutexUnlock(io->lock);
        return NULL;
    }
    io->queue = queue;
    /* coalescing records of one target share what a push converted; a queueing record takes
     * its values one by one, so it has a slot of its own */
    for (slot = queue ? NULL : io->slots; slot; slot = slot->next)
        if (pydevTargetSame(&slot->target, target))
            break;
    if (!slot)
        slot = newSlot(io, target, queue);
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

/* with io->lock held: a buffer no longer holding a value becomes the spare, or is freed
 * (by the caller, after unlocking: *drop) when there is one already */
static void recycle(pydevIointrSlot *slot, pydevResult *res, pydevResult *drop)
{
    if (!res->buf)
        ;  /* a value whose buffer a push borrowed (takeSpare) */
    else if (!slot->spare.buf)
        slot->spare = *res;
    else
        *drop = *res;
    memset(res, 0, sizeof(*res));
}

/* A result to convert into, without allocating when the slot has a buffer to give.  Once
 * the slot's record took the value, the buffer left in the slot is the record's old one,
 * which nothing reads any more: converting into it, rather than into the spare, makes an
 * array's pushes alternate between two buffers (the record's and this one), as a record's
 * own results do, instead of cycling through three (an 8 MB copy into three buffers in turn
 * took 1.1-1.3 times as long as into two here: bench row 5).  Pushes faster than the record
 * takes them still need the third (the record's, the last push's, this one's).  The value
 * stays (kind and count): taken, it is not stored again, and the next push replaces it. */
static pydevResult takeSpare(pydevIointrSlot *slot)
{
    pydevResult fresh, *from;
    memset(&fresh, 0, sizeof(fresh));
    epicsMutexMustLock(slot->io->lock);
    from = slot->taken && slot->value.buf && !slot->io->queue ? &slot->value : &slot->spare;
    fresh.buf = from->buf;
    fresh.size = from->size;
    from->buf = NULL;
    from->size = 0;
    epicsMutexUnlock(slot->io->lock);
    return fresh;
}

/* with io->lock held: the value at the end of a queueing slot, the oldest dropped if full */
static void enqueue(pydevIointrSlot *slot, pydevResult *fresh, pydevResult *drop)
{
    unsigned int queue = slot->io->queue;
    if (slot->count == queue) {
        recycle(slot, &slot->ring[slot->head], drop);
        slot->head = (slot->head + 1) % queue;
        slot->count--;
        slot->dropped++;
        slot->io->dropped++;
    }
    slot->ring[(slot->head + slot->count) % queue] = *fresh;
    slot->count++;
    memset(fresh, 0, sizeof(*fresh));
}

/* Swap a converted value into slot unless a newer push got there first. */
static void storeFresh(pydevIointrSlot *slot, pydevResult *fresh, epicsUInt64 seq)
{
    pydevResult drop;
    memset(&drop, 0, sizeof(drop));
    epicsMutexMustLock(slot->io->lock);
    if (seq > slot->valueSeq) {
        pydevResult old = slot->value;
        slot->value = *fresh;
        slot->valueSeq = seq;
        slot->taken = 0;
        recycle(slot, &old, &drop);
    } else {
        recycle(slot, fresh, &drop);
    }
    epicsMutexUnlock(slot->io->lock);
    pydevResultFree(&drop);
}

/* Convert with no lock held: conversion may run (Python) code, which may let another thread
 * take the GIL and push to this name too.  Coalescing, whichever push began last wins in
 * every slot, whatever order the conversions finish in. */
static pydevResult convertFor(pydevIointrSlot *slot, pydevIointrConvert *convert,
                              const void *value, const epicsTimeStamp *time)
{
    pydevResult fresh = takeSpare(slot);
    convert(value, &slot->target, &fresh);
    fresh.time = *time;
    return fresh;
}

void pydevIointrStore(pydevIointrSlot *slot, pydevIointrConvert *convert, const void *value,
                      const epicsTimeStamp *time, epicsUInt64 seq)
{
    pydevResult fresh = convertFor(slot, convert, value, time);
    storeFresh(slot, &fresh, seq);
}

/* A push to a queueing name: converted for every slot first, then queued in all of them at
 * once, so that a scan never finds the value in one record's queue and not yet in another's
 * (that record would deliver its last value again). */
static void pushQueued(pydevIointr *io, pydevIointrSlot *slots, pydevIointrConvert *convert,
                       const void *value, const epicsTimeStamp *time)
{
    enum { ON_STACK = 8 };
    pydevResult local[ON_STACK], *fresh = local;
    pydevIointrSlot *slot;
    size_t n = 0, i;
    for (slot = slots; slot; slot = slot->next)
        n++;
    if (n > ON_STACK && !(fresh = calloc(n, sizeof(*fresh)))) {
        errlogPrintf("pydev: iointr '%s': out of memory, a push was dropped\n", io->name);
        epicsMutexMustLock(io->lock);
        io->dropped++;
        epicsMutexUnlock(io->lock);
        return;
    }
    for (slot = slots, i = 0; slot; slot = slot->next, i++)
        fresh[i] = convertFor(slot, convert, value, time);
    epicsMutexMustLock(io->lock);
    for (slot = slots, i = 0; slot; slot = slot->next, i++) {
        pydevResult drop;
        memset(&drop, 0, sizeof(drop));
        enqueue(slot, &fresh[i], &drop);
        fresh[i] = drop;  /* freed below, with no lock held */
    }
    epicsMutexUnlock(io->lock);
    for (i = 0; i < n; i++)
        pydevResultFree(&fresh[i]);
    if (fresh != local)
        free(fresh);
}

/* After the slots have the value: count the push, and scan unless a scan is outstanding. */
static void pushed(pydevIointr *io, const epicsTimeStamp *time)
{
    epicsMutexMustLock(io->lock);
    io->lastTime = *time;
    io->pushes++;
    io->seq++;
    if (io->slots && !io->outstanding && scanOwed(io))
        requestScanLocked(io);
    epicsMutexUnlock(io->lock);
}

static pydevIointrSlot *slotsOf(pydevIointr *io, unsigned int *queue)
{
    pydevIointrSlot *slots;
    epicsMutexMustLock(io->lock);
    slots = io->slots;  /* slots are only ever added, at the head */
    *queue = io->queue;
    epicsMutexUnlock(io->lock);
    return slots;
}

void pydevIointrPush(pydevIointr *io, pydevIointrConvert *convert, const void *value,
                     const epicsTimeStamp *time)
{
    pydevIointrSlot *slot, *slots;
    epicsUInt64 seq = nextPushSeq(io);
    unsigned int queue;
    slots = slotsOf(io, &queue);
    if (queue) {
        pushQueued(io, slots, convert, value, time);
    } else {
        for (slot = slots; slot; slot = slot->next)
            pydevIointrStore(slot, convert, value, time, seq);
    }
    pushed(io, time);
}

/* pydevIointrConvert of a number from C */
static void convertNumber(const void *value, const pydevTarget *target, pydevResult *res)
{
    pydevResultNumber(res, target, *(const double *)value);
}

void pydevIointrPushNumber(pydevIointr *io, double value)
{
    epicsTimeStamp now;
    epicsTimeGetCurrent(&now);
    pydevIointrPush(io, convertNumber, &value, &now);
}

pydevIointr *pydevIointrLookup(const char *name)
{
    pydevIointr *io = NULL;
    lockNames();
    for (io = names; io; io = io->next)
        if (strcmp(io->name, name) == 0)
            break;
    epicsMutexUnlock(namesLock);
    return io;
}

void pydevIointrTotals(unsigned long *pushes, unsigned long *scans, unsigned long *dropped)
{
    pydevIointr *io;
    *pushes = *scans = *dropped = 0;
    lockNames();
    for (io = names; io; io = io->next) {
        if (strncmp(io->name, "pydev:", 6) == 0)
            continue;  /* the diagnostics' own names (pydevStats.c) */
        epicsMutexMustLock(io->lock);
        *pushes += io->pushes;
        *scans += io->scans;
        *dropped += io->dropped;
        epicsMutexUnlock(io->lock);
    }
    epicsMutexUnlock(namesLock);
}

/* Scan requests made before the IOC ran were dropped: deliver what was pushed by then. */
static void scanPushedNames(initHookState state)
{
    pydevIointr *io;
    if (state != initHookAfterIocRunning)
        return;
    lockNames();
    for (io = names; io; io = io->next) {
        epicsMutexMustLock(io->lock);
        /* scanIoRequest queued nothing before; a queueing record may hold only the value
         * pushed before it existed, with nothing in its queue: scan whatever the mode */
        if (io->seq && io->slots && !io->outstanding)
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

/* with io->lock held: a queueing slot's oldest value becomes the one to deliver */
static void dequeue(pydevIointrSlot *slot, pydevResult *drop)
{
    pydevResult old = slot->value;
    slot->value = slot->ring[slot->head];
    memset(&slot->ring[slot->head], 0, sizeof(slot->ring[slot->head]));
    slot->head = (slot->head + 1) % slot->io->queue;
    slot->count--;
    slot->taken = 0;
    recycle(slot, &old, drop);
}

int pydevIointrApply(pydevIointrSlot *slot, pydevIointrStoreFn *store, void *arg,
                     unsigned long *dropped)
{
    pydevIointr *io = slot->io;
    pydevResult drop;
    int pushed;
    memset(&drop, 0, sizeof(drop));
    epicsMutexMustLock(io->lock);
    if (slot->count) {
        dequeue(slot, &drop);
        io->consumed = 1;
    }
    pushed = slot->value.kind != PYDEV_RESULT_NONE;
    if (pushed && !slot->taken) {
        /* a slot's only record may take the buffer (one copy for an array in all): then it
         * holds this value, and the buffer left here is the record's old one */
        const char *before = slot->value.buf;
        store(arg, &slot->value, slot->records == 1);
        slot->taken = slot->value.buf != before;
    }
    if (dropped)
        *dropped = slot->dropped;
    slot->dropped = 0;
    epicsMutexUnlock(io->lock);
    pydevResultFree(&drop);
    return pushed;
}

void pydevIointrReport(int level)
{
    pydevIointr *io;
    int n = 0;
    lockNames();
    for (io = names; io; io = io->next) {
        pydevIointrSlot *slot;
        unsigned long pushes, scans, dropped;
        unsigned int queue;
        int records = 0;
        n++;
        epicsMutexMustLock(io->lock);  /* the counters move under it */
        for (slot = io->slots; slot; slot = slot->next)
            records += slot->records;
        pushes = io->pushes;
        scans = io->scans;
        dropped = io->dropped;
        queue = io->queue;
        epicsMutexUnlock(io->lock);
        if (level > 0 && queue)
            printf("  iointr '%s': %d records, %lu pushes, %lu scans, queue of %u per record, "
                   "%lu values dropped\n", io->name, records, pushes, scans, queue, dropped);
        else if (level > 0)
            printf("  iointr '%s': %d records, %lu pushes, %lu scans\n", io->name, records,
                   pushes, scans);
    }
    epicsMutexUnlock(namesLock);
    printf("pydev iointr names: %d\n", n);
}
