/* SPDX-License-Identifier: BSD-3-Clause */
/* iointrTest.c - the iointr registry and the worker pool, tested without Python.
 *
 * A real IOC database (base's records, iointrTest.db) whose records read iointr names through
 * a device support of this file, the way pydev's I/O Intr records do.  It checks what
 * pydev.iointr() promises: pushes coalesce while scans are outstanding, a record never goes
 * back to an older value, the last value pushed is the one every record ends with, and a push
 * that began later wins over one whose conversion finished later.  Then the worker pool's
 * thread-init callback.  Output is TAP (epicsUnitTest); run by tests/test_iointr_unit.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dbAccess.h>
#include <dbCommon.h>
#include <dbScan.h>
#include <dbStaticLib.h>
#include <dbUnitTest.h>
#include <devSup.h>
#include <epicsAtomic.h>
#include <epicsEvent.h>
#include <epicsExport.h>
#include <epicsThread.h>
#include <epicsUnitTest.h>
#include <epicsStdio.h>
#include <errlog.h>
#include <iocshRegisterCommon.h>
#include <link.h>
#include <longinRecord.h>
#include <stringinRecord.h>

#include "pydevIointr.h"
#include "pydevValue.h"
#include "pydevWorkers.h"

#ifndef TEST_DIR
#define TEST_DIR "."
#endif
#ifndef EPICS_DBD_DIR
#define EPICS_DBD_DIR "."
#endif

enum { HISTORY = 8192 };

typedef struct testRecord {
    pydevIointrSlot *slot;
    pydevTarget target;
    int processed;                /* atomic */
    epicsInt32 seen[HISTORY];     /* longin: VAL after each processing */
} testRecord;

static void *fieldOf(dbCommon *prec)
{
    return strcmp(prec->rdes->name, "longin") == 0 ? (void *)&((longinRecord *)prec)->val
                                                    : (void *)((stringinRecord *)prec)->val;
}

static void storePushed(void *arg, pydevResult *res, int mayTake)
{
    dbCommon *prec = arg;
    testRecord *t = prec->dpvt;
    pydevPlace place = {fieldOf(prec), NULL, NULL};
    (void)mayTake;
    pydevResultStore(prec, &t->target, place, res);
}

static long initRecord(dbCommon *prec)
{
    testRecord *t = calloc(1, sizeof(*t));
    struct link *plink = dbGetDevLink(prec);
    int isLongin = strcmp(prec->rdes->name, "longin") == 0;
    pydevIointr *io = pydevIointrFind(plink->value.instio.string);
    t->target.shape = isLongin ? PYDEV_SCALAR : PYDEV_STRING;
    t->target.dbfType = isLongin ? DBF_LONG : DBF_STRING;
    t->target.capacity = isLongin ? 0 : MAX_STRING_SIZE;
    const char *why;
    t->slot = pydevIointrAttach(io, &t->target, 0, &why);
    prec->dpvt = t;
    return 0;
}

static long getIointInfo(int cmd, dbCommon *prec, IOSCANPVT *ppvt)
{
    testRecord *t = prec->dpvt;
    (void)cmd;
    *ppvt = pydevIointrScan(pydevIointrOf(t->slot));
    return 0;
}

static long readPushed(dbCommon *prec)
{
    testRecord *t = prec->dpvt;
    int n;
    if (strcmp(prec->name, "slow") == 0)
        epicsThreadSleep(0.002);  /* keeps its scan outstanding while pushes go on */
    if (!pydevIointrApply(t->slot, storePushed, prec, NULL))
        return -1;
    n = epicsAtomicGetIntT(&t->processed);
    if (n < HISTORY && strcmp(prec->rdes->name, "longin") == 0)
        t->seen[n] = ((longinRecord *)prec)->val;
    epicsAtomicSetIntT(&t->processed, n + 1);
    return 0;
}

typedef struct {
    long number;
    long (*report)(int);
    long (*init)(int);
    long (*init_record)(dbCommon *);
    long (*get_ioint_info)(int, dbCommon *, IOSCANPVT *);
    long (*read)(dbCommon *);
} testDset;

testDset devTestIointrLongin = {5, NULL, NULL, initRecord, getIointInfo, readPushed};
testDset devTestIointrStringin = {5, NULL, NULL, initRecord, getIointInfo, readPushed};
epicsExportAddress(dset, devTestIointrLongin);
epicsExportAddress(dset, devTestIointrStringin);

static testRecord *recordOf(const char *name)
{
    dbCommon *prec = testdbRecordPtr(name);
    return prec->dpvt;
}

/* Wait (at most 10 s) until a longin shows value and no processing happened for 50 ms. */
static int settle(const char *name, epicsInt32 value)
{
    DBADDR addr;
    int i, last = -1;
    char pv[64];
    epicsSnprintf(pv, sizeof(pv), "%s.VAL", name);
    dbNameToAddr(pv, &addr);
    for (i = 0; i < 1000; i++) {
        epicsInt32 now;
        long n = 1;
        int processed = epicsAtomicGetIntT(&recordOf(name)->processed);
        dbScanLock(addr.precord);
        dbGet(&addr, DBR_LONG, &now, NULL, &n, NULL);
        dbScanUnlock(addr.precord);
        if (now == value && processed == last)
            return 1;
        last = processed;
        epicsThreadSleep(0.05);
    }
    return 0;
}

static void neverGoesBack(const char *name)
{
    testRecord *t = recordOf(name);
    int i, n = epicsAtomicGetIntT(&t->processed), ordered = 1;
    for (i = 1; i < n && i < HISTORY; i++)
        ordered &= t->seen[i] >= t->seen[i - 1];
    testOk(ordered, "%s: no processing saw an older value than the one before (%d processings)", name,
           n);
}

static void testCoalescing(void)
{
    enum { PUSHES = 2000 };
    pydevIointr *io = pydevIointrLookup("level");
    unsigned long pushes, scans, dropped;
    int i, fast, slow, text;
    char value[MAX_STRING_SIZE];

    testDiag("%d pushes in bursts of 100, 1 ms apart", PUSHES);
    for (i = 1; i <= PUSHES; i++) {
        pydevIointrPushNumber(io, i);
        if (i % 100 == 0)
            epicsThreadSleep(0.001);
    }
    testOk(settle("fast", PUSHES) && settle("slow", PUSHES),
           "both longin end with the last value pushed");
    testdbGetFieldEqual("text", DBR_STRING, "2000");
    fast = epicsAtomicGetIntT(&recordOf("fast")->processed);
    slow = epicsAtomicGetIntT(&recordOf("slow")->processed);
    text = epicsAtomicGetIntT(&recordOf("text")->processed);
    testOk(slow >= 1 && slow < PUSHES / 4, "the slow record processed %d times for %d pushes",
           slow, PUSHES);
    testOk(fast >= 1 && fast <= PUSHES, "the fast record processed %d times", fast);
    testOk(text >= 1 && text <= PUSHES, "the stringin (a slot of its own) processed %d times", text);
    neverGoesBack("fast");
    neverGoesBack("slow");
    pydevIointrTotals(&pushes, &scans, &dropped);
    testOk(pushes == PUSHES, "pydevIointrTotals counts %lu pushes", pushes);
    testOk(scans < pushes, "scans requested (%lu) are fewer than pushes: coalesced", scans);
    testOk(pydevIointrLastSeq(io) == PUSHES, "the last push is number %d", PUSHES);

    testDiag("a push when the name is quiet scans once");
    pydevIointrPushNumber(io, PUSHES + 1);
    testOk(settle("slow", PUSHES + 1), "the slow record has the new value");
    testOk(epicsAtomicGetIntT(&recordOf("slow")->processed) == slow + 1,
           "and processed exactly once more");
    epicsSnprintf(value, sizeof(value), "%d", PUSHES + 1);
    testdbGetFieldEqual("text", DBR_STRING, value);
}

/* A push whose conversion is held up until released (a Python conversion may let another
 * thread take the GIL and push meanwhile). */
typedef struct {
    double value;
    epicsEventId entered, release;
} heldValue;

static void convertHeld(const void *arg, const pydevTarget *target, pydevResult *res)
{
    const heldValue *held = arg;
    if (held->entered) {
        epicsEventMustTrigger(held->entered);
        epicsEventMustWait(held->release);
    }
    pydevResultNumber(res, target, held->value);
}

static heldValue first;
static epicsEventId firstDone;

static void pushFirst(void *unused)
{
    epicsTimeStamp now;
    (void)unused;
    epicsTimeGetCurrent(&now);
    pydevIointrPush(pydevIointrLookup("race"), convertHeld, &first, &now);
    epicsEventMustTrigger(firstDone);
}

static void testLaterPushWins(void)
{
    heldValue second = {2, NULL, NULL};
    epicsTimeStamp now;
    testDiag("push 1 begins, push 2 begins and ends, then push 1's conversion ends");
    first.value = 1;
    first.entered = epicsEventMustCreate(epicsEventEmpty);
    first.release = epicsEventMustCreate(epicsEventEmpty);
    firstDone = epicsEventMustCreate(epicsEventEmpty);
    epicsThreadMustCreate("pushFirst", epicsThreadPriorityMedium,
                          epicsThreadGetStackSize(epicsThreadStackSmall), pushFirst, NULL);
    epicsEventMustWait(first.entered);
    epicsTimeGetCurrent(&now);
    pydevIointrPush(pydevIointrLookup("race"), convertHeld, &second, &now);
    testOk(settle("race", 2), "the record has push 2's value");
    epicsEventMustTrigger(first.release);
    epicsEventMustWait(firstDone);
    testOk(settle("race", 2), "and keeps it after push 1's late conversion");
    testOk(pydevIointrLastSeq(pydevIointrLookup("race")) == 2, "two pushes were numbered");
}

static epicsThreadPrivateId initialised;
static int inits, jobsRun, jobsInitialised;
static epicsEventId jobsDone;

static void threadInit(void)
{
    epicsAtomicIncrIntT(&inits);
    epicsThreadPrivateSet(initialised, &inits);
}

enum { JOBS = 20 };

static void runJob(pydevJob *job)
{
    if (epicsThreadPrivateGet(initialised) == &inits)
        epicsAtomicIncrIntT(&jobsInitialised);
    if (pydevWorkersClaim(job) && epicsAtomicIncrIntT(&jobsRun) == JOBS)
        epicsEventMustTrigger(jobsDone);
}

static void testWorkers(void)
{
    static pydevJob jobs[JOBS];
    int i;
    testDiag("the worker pool runs its thread-init callback before any job");
    initialised = epicsThreadPrivateCreate();
    jobsDone = epicsEventMustCreate(epicsEventEmpty);
    testOk(pydevWorkersStart(2, 4, threadInit) == 0, "a pool of 2 workers starts");
    for (i = 0; i < JOBS; i++) {
        jobs[i].run = runJob;
        pydevWorkersQueue(&jobs[i]);
    }
    testOk(epicsEventWaitWithTimeout(jobsDone, 10.0) == epicsEventWaitOK, "%d jobs ran", JOBS);
    testOk(epicsAtomicGetIntT(&jobsInitialised) == JOBS, "each in an initialised thread");
    testOk(epicsAtomicGetIntT(&inits) == 2, "threadInit ran once per worker (%d)", inits);
}

int main(void)
{
    testPlan(21);
    testdbPrepare();
    testdbReadDatabase("iointrTest.dbd", TEST_DIR ":" EPICS_DBD_DIR, NULL);
    testOk(registerAllRecordDeviceDrivers(pdbbase) == 0, "record and device support registered");
    testdbReadDatabase("iointrTest.db", TEST_DIR, NULL);
    pydevIointrInit();
    eltc(0);
    testIocInitOk();
    eltc(1);
    testCoalescing();
    testLaterPushWins();
    testWorkers();
    testIocShutdownOk();
    testdbCleanup();
    return testDone();
}
