/* SPDX-License-Identifier: BSD-3-Clause */
/* pycalcRecord.c - record support of the pycalc record: Python code (CALC) of inputs A..J.
 *
 * Record glue beside pydevRecord.c (layer 4): the worker pool runs it, the Python layer
 * compiles and runs CALC (pydevPyCompileCalc, pydevPyRunEntered) and converts its result into
 * a pydevResult.  Processing takes two passes, as every pydev record's:
 *   1. in the scan thread, under the record lock: read the input links into A..J, copy the
 *      inputs (and CALC, when it changed) for the code, set PACT, queue a job;
 *   2. a worker compiles CALC if its text changed (once per text) and runs it with the GIL and
 *      without the record lock; then, without the GIL and under the record lock, process()
 *      stores VAL, writes OUT, raises the alarms, posts monitors and completes (FLNK,
 *      put-callbacks).
 * CALC is code: clients change it only where access security guards the record (calcAddress).
 * Only this file writes a pycalcPrivate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alarm.h>
#include <asLib.h>
#include <dbAccess.h>
#include <dbEvent.h>
#include <dbLink.h>
#include <dbLock.h>
#include <dbServer.h>
#include <dbStaticLib.h>
#include <epicsAtomic.h>
#include <epicsExit.h>
#include <epicsStdio.h>
#include <epicsString.h>
#include <epicsThread.h>
#include <errlog.h>
#include <initHooks.h>
#include <recGbl.h>
#include <recSup.h>
#include <special.h>

#define GEN_SIZE_OFFSET
#include "pycalcRecord.h"
#undef GEN_SIZE_OFFSET
#include <epicsExport.h>

#include "pydevValue.h"
#include "pydevSettings.h"
#include "pydevWorkers.h"
#include "pydevPython.h"
#include "pycalc.h"

enum { NINPUTS = 10 };
#define CALC_SIZE sizeof(((pycalcRecord *)0)->calc)

/* The record's state (RPVT). */
typedef struct pycalcPrivate {
    pydevJob job;                        /* first: the worker runs it */
    pycalcRecord *prec;
    pydevPyLink code;                    /* CALC compiled; code.code is NULL if it did not */
    char compiled[CALC_SIZE];            /* the text compiled last (worker, and init) */
    char pending[CALC_SIZE];             /* a changed CALC, as the first pass saw it */
    int recompile;                       /* pending is to be compiled before the run */
    char compileError[40];               /* why the compiled text cannot run */
    int warned;                          /* the refusal of this text was printed */
    char before[CALC_SIZE];              /* CALC before a client's put that is refused */
    int refusing;                        /* that put is under way (record lock held) */
    int refusals;                        /* clients' puts to CALC refused so far */
    pydevFieldValue inputs[NINPUTS];     /* A..J copied for the code */
    int posted[NINPUTS];                 /* a link changed the input: post it at the end */
    pydevTarget target;                  /* what VAL holds */
    pydevResult result;                  /* worker -> record */
    pydevPyLog log;
    char *disabled;                      /* why the record cannot run (set at init) */
    /* statistics, written by whoever runs the record */
    unsigned long runs, errors;
    double seconds;
    char lastError[40];
    int running;                         /* atomic: queued or running in a worker */
    int timedOut;                        /* the watch thread completes the record */
    struct pycalcPrivate *next;
} pycalcPrivate;

static pycalcPrivate *allRecords;
static volatile int stopping;            /* the IOC is ending: no more Python runs */

/* The fields of input i (0 is A). */
static DBLINK *inputLink(pycalcRecord *prec, int i) { return &prec->inpa + i; }
static void **inputBuffer(pycalcRecord *prec, int i) { return &prec->a + i; }
static epicsEnum16 inputType(const pycalcRecord *prec, int i) { return (&prec->fta)[i]; }
static epicsUInt32 *inputMost(pycalcRecord *prec, int i) { return &prec->mea + i; }
static epicsUInt32 *inputCount(pycalcRecord *prec, int i) { return &prec->nea + i; }

/* Whether access security limits who may write the record: an ACF is loaded and puts it in
 * a group other than DEFAULT (a group the ACF lacks falls back to DEFAULT). */
static int writersLimited(const pycalcRecord *prec)
{
    const ASGMEMBER *member = (const ASGMEMBER *)prec->asp;
    return asActive && member && member->pasg && member->pasg->name &&
           strcmp(member->pasg->name, "DEFAULT") != 0;
}

/* Threads that act for clients without dbServerClient() knowing: QSRV's receive threads
 * (QSRV does not say who it works for), and dbCa's, which makes CA links' channels (a client
 * may point a link field at CALC with "CA", and dbCa cannot say who did). */
static const char *const serverThreads[] = {"TCP-rx", "dbCaLink"};

enum { NO_CLIENT, CA_CLIENT, OTHER_CLIENT };

/* Whether this thread acts for a client of the IOC's servers (CA says so itself). */
static int servingClient(void)
{
    char who[80];
    const char *thread = epicsThreadGetNameSelf();
    size_t i;
    if (dbServerClient(who, sizeof(who)) == 0)
        return CA_CLIENT;
    for (i = 0; i < sizeof(serverThreads) / sizeof(serverThreads[0]); i++)
        if (thread && strncmp(thread, serverThreads[i], strlen(serverThreads[i])) == 0)
            return OTHER_CLIENT;
    return NO_CLIENT;
}

/* CALC's address made for a client that is not CA's: its puts are undone (special()).
 * Any value from SPC_MOD up has dbPut call the record's special(); this one is ours. */
enum { SPC_CLIENT_CALC = SPC_MOD + 50 };

/* ---- addresses of CALC, VAL and A..J -------------------------------------------------- */

/* A value field's address: its buffer, type and room (they come from FTx/MEx, FTVL/MEVL). */
static long valueAddress(DBADDR *paddr, void *buffer, epicsEnum16 type, epicsUInt32 most)
{
    if (!buffer)
        return S_db_notInit;  /* before init_record allocated it */
    paddr->pfield = buffer;
    paddr->no_elements = most;
    paddr->field_type = type;
    paddr->field_size = dbValueSize(type);
    paddr->dbr_field_type = type;
    return 0;
}

/* CALC's address decides who may change it through it.  Made for a client (a channel of the
 * CA or PVA server, a link a client pointed at CALC, any CA link), it is read-only unless
 * access security guards the record: a client's value never becomes code that runs.  The
 * IOC's own (dbpf, DB links of the database, pydev.put) may write it.  For CA it is SPC_NOMOD: the server
 * tells its client there is no write access, and a put made later through that address (by a
 * link) fails.  QSRV would hold the record's lock for good after a put that fails in a
 * put-callback (it throws through dbNotify), so for other servers special() undoes the put
 * instead: the client's put succeeds and changes nothing, and the console says so. */
static long calcAddress(DBADDR *paddr, const pycalcRecord *prec)
{
    int client = writersLimited(prec) ? NO_CLIENT : servingClient();
    paddr->special = client == CA_CLIENT ? SPC_NOMOD
                     : client == OTHER_CLIENT ? SPC_CLIENT_CALC : SPC_MOD;
    return 0;
}

static long cvtDbaddr(DBADDR *paddr)
{
    pycalcRecord *prec = (pycalcRecord *)paddr->precord;
    int index = dbGetFieldIndex(paddr), i = index - pycalcRecordA;
    if (index == pycalcRecordCALC)
        return calcAddress(paddr, prec);
    if (index == pycalcRecordVAL)
        return valueAddress(paddr, prec->val, prec->ftvl, prec->mevl);
    if (i >= 0 && i < NINPUTS)
        return valueAddress(paddr, *inputBuffer(prec, i), inputType(prec, i),
                            *inputMost(prec, i));
    return S_db_badField;
}

static long getArrayInfo(DBADDR *paddr, long *no_elements, long *offset)
{
    pycalcRecord *prec = (pycalcRecord *)paddr->precord;
    int index = dbGetFieldIndex(paddr), i = index - pycalcRecordA;
    *offset = 0;
    if (index == pycalcRecordVAL)
        *no_elements = prec->nevl;
    else if (i >= 0 && i < NINPUTS)
        *no_elements = *inputCount(prec, i);
    else
        *no_elements = paddr->no_elements;  /* CALC (or CALC$, its characters) */
    return 0;
}

static long putArrayInfo(DBADDR *paddr, long nNew)
{
    pycalcRecord *prec = (pycalcRecord *)paddr->precord;
    int index = dbGetFieldIndex(paddr), i = index - pycalcRecordA;
    if (index == pycalcRecordVAL)
        prec->nevl = (epicsUInt32)nNew;
    else if (i >= 0 && i < NINPUTS)
        *inputCount(prec, i) = (epicsUInt32)nNew;
    return 0;
}

/* A put through an address made for a client that is not CA's is undone unless access
 * security guards the record; under the record lock, before anything can process the new
 * text.  Only the address decides: a link of the database writes CALC in whatever thread
 * processes its record, a client's put to a record upstream included. */
static long special(DBADDR *paddr, int after)
{
    pycalcRecord *prec = (pycalcRecord *)paddr->precord;
    pycalcPrivate *p = prec->rpvt;
    if (!p || dbGetFieldIndex(paddr) != pycalcRecordCALC)
        return 0;
    if (!after) {
        p->refusing = paddr->special == SPC_CLIENT_CALC && !writersLimited(prec);
        if (p->refusing)
            memcpy(p->before, prec->calc, CALC_SIZE);
        return 0;
    }
    if (p->refusing) {
        p->refusing = 0;
        memcpy(prec->calc, p->before, CALC_SIZE);
        if (!p->refusals++)  /* once: a client must not flood the console */
            errlogPrintf("pycalc: %s: a client's put to CALC was undone: clients may change "
                         "CALC only where access security guards the record (field(ASG))\n",
                         prec->name);
    }
    return 0;
}

/* ---- init -------------------------------------------------------------------------------- */

/* A record that cannot run: INVALID/UDF with the reason in AMSG at each processing. */
static void disableRecord(pycalcRecord *prec, pycalcPrivate *p, const char *why)
{
    errlogPrintf("pycalc: %s: %s\n", prec->name, why);
    p->disabled = epicsStrDup(why);
}

/* Seconds a run may take: info(pydev:timeout, "2.5"), else PYDEV_TIMEOUT; 0 is no limit,
 * -1 a tag that is not a number of seconds. */
static double timeLimit(pycalcRecord *prec)
{
    DBENTRY entry;
    char *tag = NULL, *end;
    double value = 0.0;
    dbInitEntryFromRecord((dbCommon *)prec, &entry);
    if (dbFindInfo(&entry, "pydev:timeout") == 0)
        tag = epicsStrDup(dbGetInfoString(&entry));
    dbFinishEntry(&entry);
    if (!tag)
        pydevSettingNumber(PYDEV_SET_TIMEOUT, &value);  /* a bad one: said once, no limit */
    else if (*tag) {
        value = strtod(tag, &end);
        if (*end || value < 0)
            value = -1.0;
    }
    free(tag);
    return value;
}

/* Pass 0: the buffers of A..J and VAL, as FTx/MEx and FTVL/MEVL ask.  0, or -1 out of memory. */
static int allocateValues(pycalcRecord *prec, pycalcPrivate *p)
{
    int i;
    for (i = 0; i < NINPUTS; i++) {
        epicsEnum16 type = inputType(prec, i);
        epicsUInt32 *most = inputMost(prec, i);
        pydevFieldValue *copy = &p->inputs[i];
        if (*most < 1)
            *most = 1;
        *inputCount(prec, i) = *most == 1 ? 1 : 0;
        *inputBuffer(prec, i) = calloc(*most, dbValueSize(type));
        copy->name[0] = (char)('A' + i);
        copy->dbrType = (short)type;
        copy->asArray = *most > 1;
        copy->asList = 1;  /* as the original: arrays reach CALC as lists */
        copy->capacity = *most;
        copy->buf = calloc(*most, dbValueSize(type));
        if (!*inputBuffer(prec, i) || !copy->buf)
            return -1;
    }
    if (prec->mevl < 1)
        prec->mevl = 1;
    prec->nevl = prec->mevl == 1 ? 1 : 0;
    return (prec->val = calloc(prec->mevl, dbValueSize(prec->ftvl))) ? 0 : -1;
}

/* What VAL holds, for the conversion of results. */
static void setupTarget(pycalcRecord *prec, pydevTarget *t)
{
    memset(t, 0, sizeof(*t));
    t->dbfType = (short)prec->ftvl;
    t->elemSize = dbValueSize(prec->ftvl);
    if (prec->mevl > 1) {
        t->shape = PYDEV_ARRAY;
        t->capacity = prec->mevl;
    } else if (prec->ftvl == DBF_STRING) {
        t->shape = PYDEV_STRING;
        t->capacity = MAX_STRING_SIZE;
    } else {
        t->shape = PYDEV_SCALAR;
    }
}

/* Constant inputs get their values once, here; clients and dbpf may change them later. */
static void loadConstants(pycalcRecord *prec)
{
    int i;
    for (i = 0; i < NINPUTS; i++) {
        DBLINK *link = inputLink(prec, i);
        long n = *inputMost(prec, i);
        if (!dbLinkIsConstant(link))
            continue;
        if (n == 1)
            recGblInitConstantLink(link, inputType(prec, i), *inputBuffer(prec, i));
        else if (dbLoadLinkArray(link, inputType(prec, i), *inputBuffer(prec, i), &n) == 0)
            *inputCount(prec, i) = (epicsUInt32)n;
    }
}

/* Compile text once; a failure is kept (with its reason) until CALC changes. */
static void compileCalc(pycalcPrivate *p, const char *text)
{
    pycalcRecord *prec = p->prec;
    char err[256];
    pydevPyRelease(&p->code);
    p->compileError[0] = '\0';
    p->warned = 0;
    if (pydevPyCompileCalc(prec->name, text, prec->mevl > 1 ? prec->mevl : 0, &p->code, err,
                           sizeof(err)))
        epicsSnprintf(p->compileError, sizeof(p->compileError), "%s", err);
    strncpy(p->compiled, text, sizeof(p->compiled) - 1);
    p->compiled[sizeof(p->compiled) - 1] = '\0';
}

/* Code that execs an input runs what whoever writes the input wrote: as for a pydev link's
 * exec(VAL), it runs only where access security guards the record.  Printed once per text. */
static int refused(pycalcPrivate *p)
{
    pycalcRecord *prec = p->prec;
    if (!p->code.runsFieldCode || writersLimited(prec))
        return 0;
    if (!p->warned) {
        p->warned = 1;
        errlogPrintf("pycalc: %s: CALC %s runs code that clients write; refused\n", prec->name,
                     p->compiled);
        errlogPrintf("    until access security limits who may write the record: give it\n");
        errlogPrintf("    field(ASG, \"PYDEV_EXEC\") and load an ACF with that group before "
                     "iocInit (see db/pydevExec.acf)\n");
    }
    return 1;
}

/* After iocInit loaded access security, before anything processes: say which records will
 * refuse to run their CALC. */
static void checkCodeRunners(initHookState state)
{
    pycalcPrivate *p;
    if (state != initHookAfterIocBuilt)
        return;
    for (p = allRecords; p; p = p->next)
        if (!p->disabled)
            refused(p);
}

/* epicsAtExit: no Python runs for these records from now on (registered after pydev's own
 * handler, so it runs before Python's exit handlers do). */
static void stop(void *unused)
{
    (void)unused;
    stopping = 1;
}

static void runJob(pydevJob *job);
static void expireJob(pydevJob *job);

static long initRecord(struct dbCommon *pcommon, int pass)
{
    static int registered;
    pycalcRecord *prec = (pycalcRecord *)pcommon;
    pycalcPrivate *p = prec->rpvt;
    if (pass == 0) {
        if (!(p = prec->rpvt = calloc(1, sizeof(*p))) || allocateValues(prec, p)) {
            errlogPrintf("pycalc: %s: out of memory\n", prec->name);
            return S_db_noMemory;
        }
        p->prec = prec;
        p->job.run = runJob;
        p->job.expire = expireJob;
        p->next = allRecords;
        allRecords = p;
        if (!registered++) {
            initHookRegister(checkCodeRunners);
            epicsAtExit(stop, NULL);
        }
        return 0;
    }
    if (!p)
        return S_db_noMemory;
    loadConstants(prec);
    setupTarget(prec, &p->target);
    p->job.timeout = timeLimit(prec);
    if (pydevResultAlloc(&p->result, &p->target))
        disableRecord(prec, p, "out of memory");
    else if (p->job.timeout < 0)
        disableRecord(prec, p, "info(pydev:timeout) must be seconds, e.g. \"2.5\"");
    else
        compileCalc(p, prec->calc);
    return 0;
}

/* ---- processing ---------------------------------------------------------------------------- */

/* The first pass reads the linked inputs into A..J and copies every input for the code;
 * inputs a link changed are posted when the record completes. */
static void readInputs(pycalcRecord *prec, pycalcPrivate *p)
{
    int i;
    for (i = 0; i < NINPUTS; i++) {
        DBLINK *link = inputLink(prec, i);
        pydevFieldValue *copy = &p->inputs[i];
        size_t size = dbValueSize(copy->dbrType);
        long n = copy->capacity;
        epicsUInt32 count = *inputCount(prec, i);
        p->posted[i] = 0;
        if (!dbLinkIsConstant(link) &&
            dbGetLink(link, copy->dbrType, *inputBuffer(prec, i), NULL, &n) == 0) {
            count = copy->asArray ? (epicsUInt32)n : 1;
            p->posted[i] = count != *inputCount(prec, i) ||
                           memcmp(copy->buf, *inputBuffer(prec, i), count * size) != 0;
            *inputCount(prec, i) = count;
        }
        if (count > copy->capacity)
            count = (epicsUInt32)copy->capacity;
        memcpy(copy->buf, *inputBuffer(prec, i), count * size);
        copy->count = count;
    }
}

/* The first pass: 0 with the run queued, or -1 with an alarm raised instead. */
static long startRun(pycalcRecord *prec, pycalcPrivate *p)
{
    if (p->disabled) {
        recGblSetSevrMsg(prec, UDF_ALARM, INVALID_ALARM, "%s", p->disabled);
        return -1;
    }
    if (stopping) {
        recGblSetSevrMsg(prec, CALC_ALARM, INVALID_ALARM, "the IOC is shutting down");
        return -1;
    }
    if (epicsAtomicGetIntT(&p->running)) {
        /* a run that passed its time limit is still going: never two runs of one record */
        recGblSetSevrMsg(prec, TIMEOUT_ALARM, INVALID_ALARM, "still busy after %g s",
                         p->job.timeout);
        return -1;
    }
    readInputs(prec, p);
    if ((p->recompile = strncmp(prec->calc, p->compiled, CALC_SIZE) != 0))
        memcpy(p->pending, prec->calc, CALC_SIZE);
    prec->pact = TRUE;
    epicsAtomicSetIntT(&p->running, 1);
    pydevWorkersQueue(&p->job);
    return 0;
}

/* In the worker, with the GIL and without the record lock: CALC's result (or alarm). */
static void runCalc(pycalcPrivate *p)
{
    pycalcRecord *prec = p->prec;
    pydevPyCall call;
    double seconds;
    int k;
    if (p->recompile)
        compileCalc(p, p->pending);
    p->recompile = 0;
    if (stopping) {
        pydevResultAlarm(&p->result, CALC_ALARM, INVALID_ALARM, "the IOC is shutting down");
        return;
    }
    if (!p->code.code) {
        pydevResultAlarm(&p->result, CALC_ALARM, INVALID_ALARM, p->compileError);
        if (prec->tpro)
            printf("pycalc: %s: CALC %s -> cannot be compiled: %s\n", prec->name, p->compiled,
                   p->compileError);
        return;
    }
    if (refused(p)) {
        pydevResultAlarm(&p->result, CALC_ALARM, INVALID_ALARM, "exec of an input needs an ASG");
        return;
    }
    for (k = 0; k < p->code.nmacros; k++) {
        pydevFieldValue *arg = &p->code.macros[k];
        const pydevFieldValue *input = &p->inputs[arg->name[0] - 'A'];
        char name[sizeof(arg->name)];
        memcpy(name, arg->name, sizeof(name));
        *arg = *input;  /* the copy's buffer, shared: the run only reads it */
        memcpy(arg->name, name, sizeof(name));
    }
    /* an output's convention: None stores nothing; a plain exception is CALC's failure */
    call = (pydevPyCall){.name = prec->name, .link = p->compiled, .code = p->code.code,
                         .args = p->code.macros, .nargs = p->code.nmacros,
                         .target = &p->target, .isOutput = 1, .trace = prec->tpro,
                         .log = &p->log};
    if (pydevPyRunEntered(&call, &p->result, &seconds) && p->result.stat == WRITE_ALARM &&
        p->result.sevr == INVALID_ALARM)
        p->result.stat = CALC_ALARM;
    p->runs++;
    p->seconds += seconds;
}

/* The second pass: VAL gets the result (1), or the alarm is raised (0). */
static int storeResult(pycalcRecord *prec, pycalcPrivate *p)
{
    pydevPlace place = {prec->val, &prec->nevl, NULL};
    if (p->timedOut) {
        p->timedOut = 0;
        recGblSetSevrMsg(prec, TIMEOUT_ALARM, INVALID_ALARM, "no result within %g s",
                         p->job.timeout);
        return 0;
    }
    pydevResultStore((dbCommon *)prec, &p->target, place, &p->result);
    return p->result.kind == PYDEV_RESULT_VALUE;
}

/* The end of processing, under the record lock: OUT, alarms, monitors, FLNK, PACT. */
static void finish(pycalcRecord *prec, pycalcPrivate *p, int stored, epicsUInt32 oldCount)
{
    unsigned short mask;
    int i;
    if (stored && !dbLinkIsConstant(&prec->out))
        dbPutLink(&prec->out, (short)prec->ftvl, prec->val, prec->nevl);
    if (prec->udf)
        recGblSetSevr(prec, UDF_ALARM, prec->udfs);
    recGblGetTimeStamp(prec);
    mask = recGblResetAlarms(prec);
    if (stored)
        mask |= DBE_VALUE | DBE_LOG;
    if (mask)
        db_post_events(prec, prec->val, mask);
    if (oldCount != prec->nevl)
        db_post_events(prec, &prec->nevl, DBE_VALUE | DBE_LOG);
    for (i = 0; p && i < NINPUTS; i++)
        if (p->posted[i]) {
            db_post_events(prec, *inputBuffer(prec, i), DBE_VALUE | DBE_LOG);
            db_post_events(prec, inputCount(prec, i), DBE_VALUE | DBE_LOG);
            p->posted[i] = 0;
        }
    recGblFwdLink(prec);
    prec->pact = FALSE;
}

static long process(struct dbCommon *pcommon)
{
    pycalcRecord *prec = (pycalcRecord *)pcommon;
    pycalcPrivate *p = prec->rpvt;
    epicsUInt32 oldCount = prec->nevl;
    int stored = 0;
    if (!p) {
        prec->pact = TRUE;  /* out of memory at init: nothing to process with */
        return S_db_noMemory;
    }
    if (!prec->pact) {
        if (startRun(prec, p) == 0)
            return 0;  /* a worker runs CALC and calls process() again */
        prec->pact = TRUE;
    } else {
        stored = storeResult(prec, p);
    }
    finish(prec, p, stored, oldCount);
    return 0;
}

/* A worker: CALC under the GIL, then the second pass under the record lock (no GIL). */
static void runJob(pydevJob *job)
{
    pycalcPrivate *p = (pycalcPrivate *)job;
    int gil = pydevPyEnter();
    runCalc(p);
    pydevPyLeave(gil);
    if (p->result.kind == PYDEV_RESULT_ALARM) {
        p->errors++;
        epicsSnprintf(p->lastError, sizeof(p->lastError), "%s", p->result.msg);
    }
    if (!pydevWorkersClaim(job)) {
        /* too late: the record was completed with a TIMEOUT alarm; drop this result */
        epicsAtomicSetIntT(&p->running, 0);
        return;
    }
    epicsAtomicSetIntT(&p->running, 0);
    pydevWorkersCompleting();
    dbScanLock((dbCommon *)p->prec);
    process((dbCommon *)p->prec);
    dbScanUnlock((dbCommon *)p->prec);
}

/* The watch thread: the run passed its time limit.  Complete the record (put-callbacks
 * return) with TIMEOUT/INVALID; the run goes on in its worker, whose result is dropped. */
static void expireJob(pydevJob *job)
{
    pycalcPrivate *p = (pycalcPrivate *)job;
    dbScanLock((dbCommon *)p->prec);
    p->timedOut = 1;
    p->errors++;
    epicsSnprintf(p->lastError, sizeof(p->lastError), "no result within %g s", job->timeout);
    process((dbCommon *)p->prec);
    dbScanUnlock((dbCommon *)p->prec);
}

void pydevPycalcReport(int level)
{
    pycalcPrivate *p;
    if (level < 1)
        return;
    for (p = allRecords; p; p = p->next) {
        printf("  %-28s %-10s runs %-8lu errors %-6lu avg %8.1f us", p->prec->name, "pycalc",
               p->runs, p->errors, p->runs ? 1e6 * p->seconds / p->runs : 0.0);
        if (p->disabled)
            printf("  DISABLED: %s", p->disabled);
        else if (p->lastError[0])
            printf("  last error: %s", p->lastError);
        printf("\n");
        if (level > 1)
            printf("      CALC %s\n", p->compiled);
    }
}

rset pycalcRSET = {
    .number = RSETNUMBER,
    .init_record = initRecord,
    .process = process,
    .special = special,
    .cvt_dbaddr = cvtDbaddr,
    .get_array_info = getArrayInfo,
    .put_array_info = putArrayInfo,
};
epicsExportAddress(rset, pycalcRSET);
