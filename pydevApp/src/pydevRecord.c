/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevRecord.c - EPICS record glue: DTYP "pydev" for every supported record type.
 *
 * One generic implementation; what differs between record types is data in recordTypes[].
 * Processing a record with a plain link takes two passes, like any asynchronous device support:
 *   1. in the scan thread, under the record lock: copy the field macros, set PACT, queue a job;
 *   2. a worker runs the Python (GIL held, no record lock), releases the GIL, takes the record
 *      lock and calls process() again, which stores the converted result (no Python).
 * A link that is exactly pydev.iointr('name') stores the latest pushed value synchronously.
 * A record that asks for its own conversion (rawKind: LINR, MASK, ZRVL..FFVL, SHFT) gets raw
 * values: an input's result goes to RVAL and the record converts it, an output's to RBV.
 * Only this file writes a pydevRecord; Python sees a pydevPyCall, the registry a store callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alarm.h>
#include <asLib.h>
#include <dbAccess.h>
#include <dbBase.h>
#include <dbLock.h>
#include <dbScan.h>
#include <dbStaticLib.h>
#include <devSup.h>
#include <drvSup.h>
#include <epicsAtomic.h>
#include <epicsExport.h>
#include <epicsMutex.h>
#include <epicsStdio.h>
#include <epicsString.h>
#include <errlog.h>
#include <initHooks.h>
#include <link.h>
#include <recGbl.h>
#include <recSup.h>
#include <special.h>

#include <dbCommon.h>
#include <lsiRecord.h>
#include <lsoRecord.h>
#include <waveformRecord.h>
#include <aaiRecord.h>
#include <aaoRecord.h>

#include "pydevValue.h"
#include "pydevIointr.h"
#include "pydevSettings.h"
#include "pydevWorkers.h"
#include "pydevLanes.h"
#include "pydevStats.h"
#include "pydevPython.h"
#include "pydevRecord.h"

typedef struct pydevRecordType {
    const char *name;
    int isOutput;
    pydevShape shape;
    size_t countOffset;      /* NORD / LEN: element count the record keeps beside VAL */
    size_t bufferOffset;     /* BPTR / val: the record's own pointer to its value buffer */
    long initReturn;         /* 2: "do not convert RVAL" for ao/bo/mbbo/mbboDirect */
    long ioReturn;           /* 2: "VAL was set, do not convert RVAL" for ai/bi/mbbi/... */
    epicsUInt32 maxState;    /* enum VAL: highest state index */
    int isBool, isBits;
    int raw;                 /* which fields ask for the record's own conversion (rawKind) */
} pydevRecordType;

/* Record types that convert a raw value (RVAL) to VAL, or VAL to RVAL, themselves. */
enum rawKind {
    RAW_NONE,
    RAW_ANALOG,  /* ai/ao: LINR other than NO CONVERSION, or ASLO/AOFF/ROFF */
    RAW_BINARY,  /* bi/bo: MASK */
    RAW_MULTI,   /* mbbi/mbbo: ZRVL..FFVL, MASK (NOBT) or SHFT */
    RAW_DIRECT   /* mbbiDirect/mbboDirect: SHFT */
};

#define IN 0
#define OUT 1
static const pydevRecordType recordTypes[] = {
    /* name           dir   shape           count                            buffer                           init  io  max  bool  bits  raw */
    {"longin",     IN,  PYDEV_SCALAR,  0,                              0,                              0, 0, 0,  0, 0, RAW_NONE},
    {"longout",    OUT, PYDEV_SCALAR,  0,                              0,                              0, 0, 0,  0, 0, RAW_NONE},
    {"ai",         IN,  PYDEV_SCALAR,  0,                              0,                              0, 2, 0,  0, 0, RAW_ANALOG},
    {"ao",         OUT, PYDEV_SCALAR,  0,                              0,                              2, 0, 0,  0, 0, RAW_ANALOG},
    {"bi",         IN,  PYDEV_SCALAR,  0,                              0,                              0, 2, 1,  1, 0, RAW_BINARY},
    {"bo",         OUT, PYDEV_SCALAR,  0,                              0,                              2, 0, 1,  1, 0, RAW_BINARY},
    {"mbbi",       IN,  PYDEV_SCALAR,  0,                              0,                              0, 2, 15, 0, 0, RAW_MULTI},
    {"mbbo",       OUT, PYDEV_SCALAR,  0,                              0,                              2, 0, 15, 0, 0, RAW_MULTI},
    {"mbbiDirect", IN,  PYDEV_SCALAR,  0,                              0,                              0, 2, 0,  0, 1, RAW_DIRECT},
    {"mbboDirect", OUT, PYDEV_SCALAR,  0,                              0,                              2, 0, 0,  0, 1, RAW_DIRECT},
    {"stringin",   IN,  PYDEV_STRING,  0,                              0,                              0, 0, 0,  0, 0, RAW_NONE},
    {"stringout",  OUT, PYDEV_STRING,  0,                              0,                              0, 0, 0,  0, 0, RAW_NONE},
    {"lsi",        IN,  PYDEV_LSTRING, offsetof(lsiRecord, len),       offsetof(lsiRecord, val),       0, 0, 0,  0, 0, RAW_NONE},
    {"lso",        OUT, PYDEV_LSTRING, offsetof(lsoRecord, len),       offsetof(lsoRecord, val),       0, 0, 0,  0, 0, RAW_NONE},
    {"int64in",    IN,  PYDEV_SCALAR,  0,                              0,                              0, 0, 0,  0, 0, RAW_NONE},
    {"int64out",   OUT, PYDEV_SCALAR,  0,                              0,                              0, 0, 0,  0, 0, RAW_NONE},
    {"waveform",   IN,  PYDEV_ARRAY,   offsetof(waveformRecord, nord), offsetof(waveformRecord, bptr), 0, 0, 0,  0, 0, RAW_NONE},
    {"aai",        IN,  PYDEV_ARRAY,   offsetof(aaiRecord, nord),      offsetof(aaiRecord, bptr),      0, 0, 0,  0, 0, RAW_NONE},
    {"aao",        OUT, PYDEV_ARRAY,   offsetof(aaoRecord, nord),      offsetof(aaoRecord, bptr),      0, 0, 0,  0, 0, RAW_NONE},
};
#define NTYPES (sizeof(recordTypes) / sizeof(recordTypes[0]))

/* Per-record state (dpvt); only this file writes it. */
typedef struct pydevRecord {
    pydevJob job;                        /* first: the worker runs it */
    dbCommon *prec;
    const pydevRecordType *type;
    const char *link;                    /* the code, as written after '@' */
    pydevPyLink code;                    /* the compiled link and its field macros */
    DBADDR *macroAddr;                   /* where each field macro is read from */
    DBADDR val;                          /* the record's VAL */
    int raw;                             /* results go to RVAL (inputs) or RBV (outputs) */
    DBADDR rawField;                     /* that field */
    epicsUInt32 rawMask;                 /* RVAL's bits a raw device sees (0: all): an input
                                          * keeps them, an output's code gets them */
    int rvalMacro;                       /* outputs: which field macro is RVAL (-1: none) */
    pydevTarget target;
    pydevResult result;                  /* worker -> record */
    pydevIointrSlot *slot;               /* when the link is pydev.iointr('name') */
    pydevPyLog log;                      /* console rate limit of its errors */
    /* statistics, written by whoever processes the record */
    unsigned long runs, errors;
    double seconds;
    char lastError[40];
    char *disabled;                      /* why the record cannot run (set at init), or NULL */
    int running;                         /* atomic: queued or running in a worker */
    int timedOut;                        /* the watch thread completes the record: TIMEOUT */
    struct pydevRecord *nextFinished;    /* its awaitable has ended: see `finished` */
    int orphan;                          /* atomic: the awaitable's record was completed by
                                          * the watch thread; drop its outcome */
    int awaitMet;                        /* atomic: see meetAwait */
    pydevLane *lane;                     /* info(pydev:lane): runs one at a time with its
                                          * lane's other records; NULL: straight to the pool */
    struct pydevRecord *nextRecord;
} pydevRecord;

/* Valid field names per record type, handed to the snippet compiler for macro detection. */
static struct {
    const char **names;
    int count;
} typeFields[NTYPES];

static pydevRecord *allRecords;
static volatile int stopping;  /* the IOC is ending: no more Python runs */

static char *valueBuffer(const pydevRecord *rec);

/* Where a result for VAL goes: arrays and lsi/lso keep their own buffer pointer and count. */
static pydevPlace valuePlace(const pydevRecord *rec)
{
    pydevPlace place = {valueBuffer(rec), NULL, NULL};
    if (rec->raw)
        place.field = rec->rawField.pfield;
    else if (rec->type->countOffset)
        place.count = (epicsUInt32 *)((char *)rec->prec + rec->type->countOffset);
    if (!rec->raw && rec->type->shape == PYDEV_ARRAY)
        place.buffer = (char **)((char *)rec->prec + rec->type->bufferOffset);
    return place;
}

/* With the record lock held: store a result; an alarm result leaves VAL as it was.  mayTake:
 * res is the record's alone (its own run's, or a push to a slot with no other record), so an
 * array trades buffers with BPTR and the conversion was the only copy; else it is copied.  A
 * raw input keeps the bits of its mask, as base's "Raw Soft Channel" device supports do. */
static void storeResult(pydevRecord *rec, pydevResult *res, int mayTake)
{
    if (mayTake)
        pydevResultTake(rec->prec, &rec->target, valuePlace(rec), res);
    else
        pydevResultStore(rec->prec, &rec->target, valuePlace(rec), res);
    if (rec->raw && rec->rawMask && !rec->type->isOutput && res->kind == PYDEV_RESULT_VALUE)
        *(epicsUInt32 *)rec->rawField.pfield &= rec->rawMask;
}

/* The read/write status of a stored value: a raw value is for the record to convert (0). */
static long ioReturn(const pydevRecord *rec)
{
    return rec->raw ? 0 : rec->type->ioReturn;
}

/* pydevIointrStoreFn: the latest pushed value, under the name's mutex and the record lock */
static void applyPushed(void *arg, pydevResult *res, int mayTake)
{
    storeResult(arg, res, mayTake);
}

static const pydevRecordType *findType(const char *name)
{
    size_t i;
    for (i = 0; i < NTYPES; i++)
        if (strcmp(recordTypes[i].name, name) == 0)
            return &recordTypes[i];
    return NULL;
}

static void loadFieldNames(const pydevRecordType *type, dbRecordType *rdes)
{
    size_t t = (size_t)(type - recordTypes);
    int i;
    if (typeFields[t].names)
        return;
    typeFields[t].names = calloc(rdes->no_fields, sizeof(char *));
    if (!typeFields[t].names)
        return;
    for (i = 0; i < rdes->no_fields; i++) {
        dbFldDes *fld = rdes->papFldDes[i];
        if (fld->field_type != DBF_NOACCESS || fld->special == SPC_DBADDR)
            typeFields[t].names[typeFields[t].count++] = fld->name;
    }
}

/* A field of the record as a number (0 if it has none). */
static double fieldNumber(dbCommon *prec, const char *field)
{
    char pv[PVNAME_STRINGSZ + 8];
    DBADDR addr;
    double value = 0.0;
    long n = 1;
    epicsSnprintf(pv, sizeof(pv), "%s.%s", prec->name, field);
    if (dbNameToAddr(pv, &addr) || dbGet(&addr, DBR_DOUBLE, &value, NULL, &n, NULL))
        return 0.0;
    return value;
}

/* Whether the record asks for its own conversion between RVAL and VAL (decided at init, after
 * the record's own init_record computed MASK from NOBT). */
static int wantsRaw(dbCommon *prec, int kind)
{
    static const char *const stateValues[] = {"ZRVL", "ONVL", "TWVL", "THVL", "FRVL", "FVVL",
        "SXVL", "SVVL", "EIVL", "NIVL", "TEVL", "ELVL", "TVVL", "TTVL", "FTVL", "FFVL"};
    double aslo;
    int i;
    switch (kind) {
    case RAW_ANALOG:
        aslo = fieldNumber(prec, "ASLO");
        return fieldNumber(prec, "LINR") != 0 || (aslo != 0 && aslo != 1) ||
               fieldNumber(prec, "AOFF") != 0 || fieldNumber(prec, "ROFF") != 0;
    case RAW_BINARY:
        return fieldNumber(prec, "MASK") != 0;
    case RAW_MULTI:
        for (i = 0; i < 16; i++)
            if (fieldNumber(prec, stateValues[i]) != 0)
                return 1;
        return fieldNumber(prec, "MASK") != 0 || fieldNumber(prec, "SHFT") != 0;
    case RAW_DIRECT:
        return fieldNumber(prec, "SHFT") != 0;
    default:
        return 0;
    }
}

/* A raw record's results go to RVAL (inputs) or RBV (outputs' readback).  The bits base's raw
 * device supports keep: MASK for bi/bo, all bits or MASK (NOBT) shifted by SHFT for
 * mbbi/mbbo and mbbiDirect/mbboDirect, all for ai/ao.  Inputs keep them of their RVAL;
 * outputs hand them to the code, as "Raw Soft Channel" writes RVAL & MASK. */
static int setupRaw(pydevRecord *rec)
{
    dbCommon *prec = rec->prec;
    char pv[PVNAME_STRINGSZ + 8];
    rec->rvalMacro = -1;
    if (!(rec->raw = wantsRaw(prec, rec->type->raw)))
        return 0;
    epicsSnprintf(pv, sizeof(pv), "%s.%s", prec->name, rec->type->isOutput ? "RBV" : "RVAL");
    if (dbNameToAddr(pv, &rec->rawField))
        return -1;
    if (rec->type->raw == RAW_ANALOG)
        rec->rawMask = 0;
    else if (rec->type->raw == RAW_BINARY)
        rec->rawMask = (epicsUInt32)fieldNumber(prec, "MASK");
    else
        rec->rawMask = (fieldNumber(prec, "NOBT") != 0 ? (epicsUInt32)fieldNumber(prec, "MASK")
                                                       : 0xFFFFFFFFu)
                       << (int)fieldNumber(prec, "SHFT");
    return 0;
}

static void setupTarget(pydevRecord *rec)
{
    const pydevRecordType *type = rec->type;
    pydevTarget *t = &rec->target;
    if (rec->raw) {
        /* a number the record converts: RVAL's (RBV's) integer type and its range */
        memset(t, 0, sizeof(*t));
        t->shape = PYDEV_SCALAR;
        t->dbfType = rec->rawField.field_type;
        return;
    }
    t->shape = type->shape;
    t->dbfType = rec->val.field_type;
    t->elemSize = rec->val.field_size;
    t->maxState = type->maxState;
    t->isBool = type->isBool;
    t->isBits = type->isBits;
    if (t->shape == PYDEV_STRING)
        t->capacity = rec->val.field_size;
    else if (t->shape == PYDEV_ARRAY)
        t->capacity = rec->val.no_elements;
    else if (t->shape == PYDEV_LSTRING) {
        /* VAL's dbAddr is one DBF_STRING; the buffer is SIZV bytes */
        long sizv = 0, n = 1;
        DBADDR addr;
        char pv[PVNAME_STRINGSZ + 8];
        epicsSnprintf(pv, sizeof(pv), "%s.SIZV", rec->prec->name);
        if (dbNameToAddr(pv, &addr) == 0)
            dbGet(&addr, DBR_LONG, &sizv, NULL, &n, NULL);
        t->capacity = sizv > 0 ? (epicsUInt32)sizv : 1;
    }
}

static char *valueBuffer(const pydevRecord *rec)
{
    return rec->type->bufferOffset ? *(char **)((char *)rec->prec + rec->type->bufferOffset)
                                   : rec->val.pfield;
}

static int setupMacros(pydevRecord *rec, char *err, size_t errlen)
{
    int i;
    if (!(rec->macroAddr = calloc(rec->code.nmacros ? rec->code.nmacros : 1, sizeof(DBADDR)))) {
        epicsSnprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < rec->code.nmacros; i++) {
        pydevFieldValue *m = &rec->code.macros[i];
        DBADDR *addr = &rec->macroAddr[i];
        char pv[PVNAME_STRINGSZ + 24];
        size_t len = strlen(m->name);
        /* FIELD_STR: the field's string form, e.g. an enum's state string (DBR_STRING) */
        int label = len > 4 && strcmp(m->name + len - 4, "_STR") == 0;
        int isVal = strcmp(m->name, "VAL") == 0;
        epicsSnprintf(pv, sizeof(pv), "%s.%.*s", rec->prec->name, (int)(label ? len - 4 : len),
                      m->name);
        if (dbNameToAddr(pv, addr)) {
            epicsSnprintf(err, errlen, "field macro %s is not available", m->name);
            return -1;
        }
        m->dbrType = !label && addr->field_type <= DBF_ENUM ? addr->field_type : DBR_STRING;
        if (rec->type->isOutput && rec->rawMask && strcmp(m->name, "RVAL") == 0 &&
            m->dbrType == DBR_ULONG)
            rec->rvalMacro = i;
        m->asString = isVal && rec->target.shape == PYDEV_LSTRING;  /* copied from the buffer */
        m->asArray = !m->asString && !label &&
                     (addr->no_elements > 1 || (isVal && rec->target.shape == PYDEV_ARRAY));
        m->capacity = m->asString ? (long)rec->target.capacity
                                  : label ? 1 : addr->no_elements;
        m->buf = calloc(m->capacity ? m->capacity : 1,
                        m->asString ? 1 : dbValueSize(m->dbrType) + 1);
        if (!m->buf) {
            epicsSnprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* A record whose link cannot run: INVALID/UDF with the reason in AMSG.  It still processes
 * (put-callbacks complete, PINI runs), each time only to raise that alarm again. */
static void disableRecord(dbCommon *prec, pydevRecord *rec, const char *why)
{
    errlogPrintf("pydev: %s: %s\n", prec->name, why);
    /* STAT/SEVR/AMSG, not NSTA/NSEV: processing raises the alarm again, with its message */
    prec->stat = UDF_ALARM;
    prec->sevr = INVALID_ALARM;
    strncpy(prec->amsg, why, sizeof(prec->amsg) - 1);
    prec->amsg[sizeof(prec->amsg) - 1] = '\0';
    if (rec) {
        rec->disabled = epicsStrDup(why);
        prec->dpvt = rec;
    } else {
        prec->pact = TRUE;  /* out of memory: nothing to process with */
    }
}

static void runJob(pydevJob *job);
static void expireJob(pydevJob *job);
static void dropJob(pydevJob *job);

/* The STAT of a failure to read (inputs) or to write (outputs). */
static epicsEnum16 ioAlarm(const pydevRecord *rec)
{
    return rec->type->isOutput ? WRITE_ALARM : READ_ALARM;
}

/* A copy of the record's info(tag, "..."), or NULL without one (free it). */
static char *infoCopy(dbCommon *prec, const char *tag)
{
    DBENTRY entry;
    char *text = NULL;
    dbInitEntryFromRecord(prec, &entry);
    if (dbFindInfo(&entry, tag) == 0)
        text = epicsStrDup(dbGetInfoString(&entry));
    dbFinishEntry(&entry);
    return text;
}

/* Seconds a run of this record may take: info(pydev:timeout, "2.5"), else PYDEV_TIMEOUT;
 * 0 (the default) is no limit.  -1 if the tag is not a number. */
static double timeLimit(dbCommon *prec)
{
    char *tag = infoCopy(prec, "pydev:timeout"), *end;
    double value = 0.0;
    int bad = 0;
    if (!tag)
        pydevSettingNumber(PYDEV_SET_TIMEOUT, &value);  /* a bad one: said once, no limit */
    else if (*tag) {
        value = strtod(tag, &end);
        bad = *end || value < 0;
    }
    free(tag);
    return bad ? -1.0 : value;
}

enum { QUEUE_MOST = 100000 };

/* Values an iointr record keeps waiting: info(pydev:queue, "1000"); 0 (no tag): pushes
 * coalesce.  -1 if the tag is not a count from 1 to QUEUE_MOST. */
static long queueLength(dbCommon *prec)
{
    DBENTRY entry;
    long value = 0;
    dbInitEntryFromRecord(prec, &entry);
    if (dbFindInfo(&entry, "pydev:queue") == 0) {
        const char *text = dbGetInfoString(&entry);
        char *end;
        value = strtol(text ? text : "", &end, 10);
        if (!text || !*text || *end || value < 1 || value > QUEUE_MOST)
            value = -1;
    }
    dbFinishEntry(&entry);
    return value;
}

/* The record joins its iointr name (its link is exactly pydev.iointr('name')). */
static int setupIointr(pydevRecord *rec, char *err, size_t errlen)
{
    pydevIointr *io = pydevIointrFind(rec->code.iointrName);
    long queue = queueLength(rec->prec);
    const char *why = "out of memory";
    if (queue < 0) {
        epicsSnprintf(err, errlen, "pydev:queue must be a count 1..%d", QUEUE_MOST);
        return -1;
    }
    if (!io || !(rec->slot = pydevIointrAttach(io, &rec->target, (unsigned int)queue, &why))) {
        epicsSnprintf(err, errlen, "%s", why);
        return -1;
    }
    /* with what was pushed before this record existed */
    pydevPyPrimeSlot(rec->slot, rec->code.iointrName);
    return 0;
}

/* The record's array buffer.  aao allocates BPTR after its device support's init_record,
 * unless that did (base's aao contract); a value read at init needs the buffer then.  A large
 * buffer base allocated (waveform, aai) is replaced by one with huge pages: results trade
 * buffers with BPTR, so both must copy as fast.  Base never frees BPTR.  0, or -1 out of
 * memory. */
static int ensureBuffer(pydevRecord *rec)
{
    size_t bytes = (size_t)(rec->target.capacity ? rec->target.capacity : 1) * rec->target.elemSize;
    char **buffer, *mine;
    if (!rec->type->bufferOffset)
        return 0;
    buffer = (char **)((char *)rec->prec + rec->type->bufferOffset);
    if (*buffer && (rec->target.shape != PYDEV_ARRAY || !pydevBufferGains(bytes)))
        return 0;
    if (!(mine = pydevBufferAlloc(bytes)))
        return *buffer ? 0 : -1;
    free(*buffer);
    *buffer = mine;
    return 0;
}

/* info(pydev:lane, "plc1"): the record's lane; 0, or -1 with err saying why. */
static int setupLane(pydevRecord *rec, char *err, size_t errlen)
{
    char *name = infoCopy(rec->prec, "pydev:lane");
    int rc = 0;
    if (!name)
        return 0;
    if (!*name) {
        epicsSnprintf(err, errlen, "info(pydev:lane) needs a name, e.g. \"plc1\"");
        rc = -1;
    } else if (!(rec->lane = pydevLaneFind(name))) {
        epicsSnprintf(err, errlen, "out of memory");
        rc = -1;
    }
    free(name);
    return rc;
}

/* Everything a record needs before it can process; on failure err says why. */
static int setupRecord(pydevRecord *rec, char *err, size_t errlen)
{
    const pydevRecordType *type = rec->type;
    char pv[PVNAME_STRINGSZ + 8];

    epicsSnprintf(pv, sizeof(pv), "%s.VAL", rec->prec->name);
    if (dbNameToAddr(pv, &rec->val)) {
        epicsSnprintf(err, errlen, "no VAL field");
        return -1;
    }
    if (setupRaw(rec)) {
        epicsSnprintf(err, errlen, "no RVAL/RBV field");
        return -1;
    }
    setupTarget(rec);
    if (pydevResultAlloc(&rec->result, &rec->target) || ensureBuffer(rec)) {
        epicsSnprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pydevPyCompile(rec->prec->name, type->name, rec->link,
                       typeFields[type - recordTypes].names,
                       typeFields[type - recordTypes].count, &rec->code, err, errlen) ||
        setupMacros(rec, err, errlen))
        return -1;
    if (rec->code.iointrName[0])
        return setupIointr(rec, err, errlen);
    if (queueLength(rec->prec)) {
        epicsSnprintf(err, errlen, "pydev:queue needs @pydev.iointr('name')");
        return -1;
    }
    return 0;
}

/* Run an output's init code (a link without field macros) into res: 0 with a value, else -1
 * after printing why. */
static int runInitial(pydevRecord *rec, const char *code, pydevResult *res)
{
    dbCommon *prec = rec->prec;
    pydevPyLink link;
    char err[256];
    double seconds;
    int rc = -1;
    if (pydevPyCompile(prec->name, NULL, code, NULL, 0, &link, err, sizeof(err))) {
        errlogPrintf("pydev: %s: info(pydev:init) cannot be used (%s): the record starts "
                     "without a value\n", prec->name, err);
        return -1;
    }
    if (link.iointrName[0]) {
        epicsSnprintf(err, sizeof(err), "it must read a value, not name a pydev.iointr");
    } else if (pydevResultAlloc(res, &rec->target)) {
        epicsSnprintf(err, sizeof(err), "out of memory");
    } else {
        pydevPyCall call = {prec->name, code, link.code, NULL, 0, &rec->target, 0, prec->tpro,
                            1, &rec->log, NULL, NULL, 0.0};  /* an awaitable: waited for */
        rc = pydevPyRun(&call, res, &seconds) == 0 && res->kind == PYDEV_RESULT_VALUE ? 0 : -1;
        epicsSnprintf(err, sizeof(err), "%s", res->msg);
    }
    pydevPyRelease(&link);
    if (rc)
        errlogPrintf("pydev: %s: info(pydev:init) gave no value (%s): the record starts "
                     "without one\n", prec->name, err);
    return rc;
}

/* info(pydev:init, "code") of an output: the device's current value, read once here, is the
 * record's starting value (EPICS' readback at init: the record starts with what the hardware
 * has, not UDF).  VAL gets it, or RVAL for a record that converts (which then converts it:
 * init_record returns 0).  Nothing is written.  Returns init_record's status. */
static long readInitial(pydevRecord *rec)
{
    dbCommon *prec = rec->prec;
    char *code = infoCopy(prec, "pydev:init"), pv[PVNAME_STRINGSZ + 8];
    pydevResult res = {0};
    pydevPlace place;
    DBADDR rval;
    long status = rec->type->initReturn;

    if (!code)
        return status;
    epicsSnprintf(pv, sizeof(pv), "%s.RVAL", prec->name);
    if (!rec->type->isOutput) {
        disableRecord(prec, rec, "info(pydev:init) is for output records");
    } else if (rec->raw && dbNameToAddr(pv, &rval)) {
        disableRecord(prec, rec, "no RVAL field");
    } else if (ensureBuffer(rec)) {
        disableRecord(prec, rec, "out of memory");
    } else if (runInitial(rec, code, &res) == 0) {
        place = valuePlace(rec);
        if (rec->raw)
            place.field = rval.pfield;
        pydevResultStore(prec, &rec->target, place, &res);
        prec->stat = NO_ALARM;  /* a value, read from the device: no UDF/INVALID */
        prec->sevr = NO_ALARM;
        status = rec->raw ? 0 : status;
    }
    pydevResultFree(&res);
    free(code);
    return status;
}

static long initRecord(dbCommon *prec)
{
    const pydevRecordType *type = findType(prec->rdes->name);
    struct link *plink = dbGetDevLink(prec);
    pydevRecord *rec;
    char err[256];

    if (!type) {
        disableRecord(prec, NULL, "record type not supported by pydev");
        return -1;
    }
    if (!(rec = calloc(1, sizeof(*rec)))) {
        disableRecord(prec, NULL, "out of memory");
        return type->initReturn;
    }
    rec->prec = prec;
    rec->type = type;
    rec->job.run = runJob;
    rec->job.expire = expireJob;
    rec->job.drop = dropJob;
    rec->nextRecord = allRecords;
    allRecords = rec;
    /* Without the '@', EPICS takes the text for a PV name and leaves an empty INST_IO link */
    if (!plink || plink->type != INST_IO || !plink->value.instio.string ||
        !*plink->value.instio.string) {
        rec->link = epicsStrDup("");
        disableRecord(prec, rec, "link must be \"@<python code>\"");
        return type->initReturn;
    }
    loadFieldNames(type, prec->rdes);
    rec->link = epicsStrDup(plink->value.instio.string);
    rec->job.timeout = timeLimit(prec);
    rec->job.batchable = rec->job.timeout == 0;  /* until a run says otherwise */
    if (rec->job.timeout < 0)
        disableRecord(prec, rec, "info(pydev:timeout) must be seconds, e.g. \"2.5\"");
    else if (setupLane(rec, err, sizeof(err)))
        disableRecord(prec, rec, err);
    else if (setupRecord(rec, err, sizeof(err)))
        disableRecord(prec, rec, err);
    else {
        prec->dpvt = rec;
        return readInitial(rec);
    }
    return type->initReturn;
}

/* Whether access security limits who may write prec: an ACF is loaded and puts the record in
 * a group of its own (a record whose group the ACF lacks falls back to DEFAULT). */
static int writersLimited(const dbCommon *prec)
{
    const ASGMEMBER *member = prec->asp;
    return asActive && member && member->pasg && member->pasg->name &&
           strcmp(member->pasg->name, "DEFAULT") != 0;
}

/* After iocInit has loaded access security (asInit runs after record init) and before the
 * IOC serves or processes anything: records that exec a field value need a guarded group. */
static void checkCodeRunners(initHookState state)
{
    pydevRecord *rec;
    if (state != initHookAfterIocBuilt)
        return;
    for (rec = allRecords; rec; rec = rec->nextRecord) {
        if (!rec->code.runsFieldCode || rec->disabled || writersLimited(rec->prec))
            continue;
        /* errlog keeps 256 bytes of a call: one call per line */
        errlogPrintf("pydev: %s: @%s runs code that clients write; refused\n", rec->prec->name,
                     rec->link);
        errlogPrintf("    until access security limits who may write it: give the record\n");
        errlogPrintf("    field(ASG, \"PYDEV_EXEC\") and load an ACF with that group before "
                     "iocInit, e.g.\n");
        errlogPrintf("    asSetSubstitutions(\"EXEC_USERS='alice,bob',EXEC_HOSTS='console1'\")\n");
        errlogPrintf("    asSetFilename(\"db/pydevExec.acf\")\n");
        disableRecord(rec->prec, rec, "exec of a field needs an ASG (see log)");
    }
}

static long getIointInfo(int cmd, dbCommon *prec, IOSCANPVT *ppvt)
{
    pydevRecord *rec = prec->dpvt;
    (void)cmd;
    if (!rec || rec->disabled)
        return S_dev_badInpType;  /* disabled at init, and the reason was printed then */
    if (!rec->slot) {
        disableRecord(prec, rec, "I/O Intr needs @pydev.iointr('name')");
        return S_dev_badInpType;
    }
    *ppvt = pydevIointrScan(pydevIointrOf(rec->slot));
    return 0;
}

static void snapshotMacros(pydevRecord *rec)
{
    int i;
    for (i = 0; i < rec->code.nmacros; i++) {
        pydevFieldValue *m = &rec->code.macros[i];
        long n = m->capacity;
        if (m->asString) {
            const char *text = valueBuffer(rec);
            m->count = text ? (long)strnlen(text, m->capacity - 1) : 0;
            memcpy(m->buf, text ? text : "", m->count);
            ((char *)m->buf)[m->count] = '\0';
            continue;
        }
        if (dbGet(&rec->macroAddr[i], m->dbrType, m->buf, NULL, &n, NULL))
            n = 0;
        m->count = n;
        if (i == rec->rvalMacro)
            *(epicsUInt32 *)m->buf &= rec->rawMask;
    }
}

static long statusOf(const pydevRecord *rec, const pydevResult *res)
{
    return res->kind == PYDEV_RESULT_ALARM ? -1 : ioReturn(rec);
}

static long readWrite(dbCommon *prec)
{
    pydevRecord *rec = prec->dpvt;
    if (!rec)
        return -1;
    if (prec->nsev == NO_ALARM)
        prec->namsg[0] = '\0';  /* base keeps the last alarm's message in NAMSG (#23) */
    if (rec->disabled) {
        recGblSetSevrMsg(prec, UDF_ALARM, INVALID_ALARM, "%s", rec->disabled);
        return -1;
    }
    if (rec->slot) {
        unsigned long dropped;
        rec->runs++;
        if (!pydevIointrApply(rec->slot, applyPushed, rec, &dropped)) {
            recGblSetSevrMsg(prec, UDF_ALARM, INVALID_ALARM, "nothing pushed yet");
            return -1;
        }
        if (dropped)  /* the queue was full: this value follows a gap */
            recGblSetSevrMsg(prec, SOFT_ALARM, MINOR_ALARM, "queue full: %lu values dropped",
                             dropped);
        if (prec->tpro)
            printf("pydev: %s: value pushed to '%s'\n", prec->name, rec->code.iointrName);
        return prec->nsev >= INVALID_ALARM ? -1 : ioReturn(rec);
    }
    if (prec->pact) {
        if (rec->timedOut) {
            rec->timedOut = 0;
            recGblSetSevrMsg(prec, TIMEOUT_ALARM, INVALID_ALARM, "no result within %g s",
                             rec->job.timeout);
            return -1;
        }
        if (rec->type->isOutput && prec->rpro && rec->result.kind == PYDEV_RESULT_VALUE)
            /* A client wrote VAL while the code ran.  The last write wins: the code's result
             * must not overwrite it, and RPRO now sends it to the device. */
            return statusOf(rec, &rec->result);
        storeResult(rec, &rec->result, 1);
        return statusOf(rec, &rec->result);
    }
    if (stopping) {
        recGblSetSevrMsg(prec, ioAlarm(rec), INVALID_ALARM, "the IOC is shutting down");
        return -1;
    }
    if (epicsAtomicGetIntT(&rec->running)) {
        /* a run that passed its time limit is still going: never two runs of one record */
        recGblSetSevrMsg(prec, TIMEOUT_ALARM, INVALID_ALARM, "still busy after %g s",
                         rec->job.timeout);
        return -1;
    }
    snapshotMacros(rec);
    prec->pact = TRUE;
    epicsAtomicSetIntT(&rec->awaitMet, 0);
    epicsAtomicSetIntT(&rec->running, 1);
    if (rec->lane)
        pydevLaneQueue(rec->lane, &rec->job);
    else
        pydevWorkersQueue(&rec->job);
    return 0;
}

/* The record's run has ended (completed, or its late result dropped): its lane's next. */
static void laneDone(pydevRecord *rec)
{
    if (rec->lane)
        pydevLaneDone(rec->lane, &rec->job);
}

/* What is left of the record's time limit, counted from when it was queued (0: none). */
static double timeLeft(const pydevRecord *rec)
{
    double left;
    if (rec->job.timeout <= 0)
        return 0.0;
    left = rec->job.timeout - (pydevWorkersNow() - rec->job.queuedAt);
    return left > 0.001 ? left : 0.001;
}

static void noteError(pydevRecord *rec)
{
    rec->errors++;
    epicsSnprintf(rec->lastError, sizeof(rec->lastError), "%s", rec->result.msg);
}

/* Records whose awaitable ended, waiting for their second pass.  One pool job completes all
 * that are there: tasks end in bursts (10,000 sleeps end in one turn of the loop), and a job
 * each woke a worker for every record. */
static struct {
    epicsMutexId lock;
    pydevRecord *head, *tail;
    int queued;                          /* the job is queued or running */
    pydevJob job;
} finished;

static int awaiting;  /* atomic: records whose awaitable runs on the loop */

static void queueFinished(pydevRecord *rec)
{
    int kick;
    epicsMutexMustLock(finished.lock);
    rec->nextFinished = NULL;
    if (finished.tail)
        finished.tail->nextFinished = rec;
    else
        finished.head = rec;
    finished.tail = rec;
    kick = !finished.queued;
    finished.queued = 1;
    epicsMutexUnlock(finished.lock);
    if (kick)
        pydevWorkersQueue(&finished.job);
}

static void finishAwait(pydevRecord *rec);

/* A worker (no GIL): the second passes of the records in `finished`, until there is none. */
static void runFinished(pydevJob *job)
{
    (void)job;
    for (;;) {
        pydevRecord *rec;
        epicsMutexMustLock(finished.lock);
        if ((rec = finished.head) != NULL) {
            finished.head = rec->nextFinished;
            if (!finished.head)
                finished.tail = NULL;
        } else {
            finished.queued = 0;
        }
        epicsMutexUnlock(finished.lock);
        if (!rec)
            return;
        finishAwait(rec);
    }
}

/* The worker that handed the awaitable over has claimed the run (or found it expired), and
 * the awaitable has ended: whichever comes second queues the second pass.  The loop can run
 * the task before the worker claims (the GIL changes hands while Python runs), so
 * finishAwait must not look at `orphan` before both happened. */
static void meetAwait(pydevRecord *rec)
{
    if (epicsAtomicIncrIntT(&rec->awaitMet) == 2)
        queueFinished(rec);
}

/* On the event loop's thread (GIL, no record lock): the record's awaitable has ended and
 * rec->result holds its outcome.  A worker completes the record, as it completes any. */
static void awaitEnded(void *arg, int failed)
{
    pydevRecord *rec = arg;
    if (failed)
        noteError(rec);
    meetAwait(rec);
}

/* The second pass proper, in a worker without the GIL: the record's process() stores the
 * result under the record lock; then its lane may run the next record. */
static void processResult(pydevRecord *rec)
{
    dbCommon *prec = rec->prec;
    epicsAtomicSetIntT(&rec->running, 0);
    pydevWorkersCompleting();
    dbScanLock(prec);
    prec->rset->process(prec);
    dbScanUnlock(prec);
    laneDone(rec);
}

/* A worker: the second pass of a record whose awaitable ended (no GIL). */
static void finishAwait(pydevRecord *rec)
{
    epicsAtomicDecrIntT(&awaiting);
    if (epicsAtomicCmpAndSwapIntT(&rec->orphan, 1, 0) == 1) {
        /* the watch thread completed it with a TIMEOUT alarm before the code returned */
        epicsAtomicSetIntT(&rec->running, 0);
        laneDone(rec);
        return;
    }
    processResult(rec);
}

/* In a worker, with the GIL and without the record lock: the link's code, with the field
 * macros copied at the first pass.  The statistics are this worker's to write until it
 * completes the record.  The seconds the code took; *pending: its value is an awaitable,
 * which now runs on the event loop and completes the record when it ends. */
static double runPython(pydevRecord *rec, int *pending)
{
    dbCommon *prec = rec->prec;
    pydevPyCall call = {prec->name, rec->link, rec->code.code, rec->code.macros,
                        rec->code.nmacros, &rec->target, rec->type->isOutput, prec->tpro,
                        prec->tse == epicsTimeEventDeviceTime, &rec->log,
                        awaitEnded, rec, timeLeft(rec)};
    double seconds = 0.0;
    int rc;
    *pending = 0;
    if (stopping) {
        pydevResultAlarm(&rec->result, ioAlarm(rec), INVALID_ALARM, "the IOC is shutting down");
        return 0.0;
    }
    rc = pydevPyRunEntered(&call, &rec->result, &seconds);
    if (rc == PYDEV_PY_PENDING)
        *pending = 1;
    else if (rc)
        noteError(rec);
    rec->runs++;
    rec->seconds += seconds;
    return seconds;
}

/* In a worker, without the GIL: the second pass stores the result under the record lock. */
static void complete(pydevRecord *rec)
{
    if (!pydevWorkersClaim(&rec->job)) {
        /* too late: the record was completed with a TIMEOUT alarm; drop this result */
        epicsAtomicSetIntT(&rec->running, 0);
        laneDone(rec);
        return;
    }
    processResult(rec);
}

/* A batch: a worker runs the code of up to BATCH_MAX queued records under one hold of the
 * GIL, then completes them all.  Taking and dropping the GIL for every record cost a fifth of
 * a short link's run.  The records of a batch wait for each other's code, so only short runs
 * are batched: a batch ends when its code has taken BATCH_SECONDS, and a record whose last
 * run took that long (it computes, or waits without the GIL: sleep, I/O) is never taken into
 * another's batch; it stays in the queue for any worker.  A record with a time limit runs
 * alone: the pool watches the one job its worker runs. */
enum { BATCH_MAX = 64 };
static const double BATCH_SECONDS = 0.0002;

static void runJob(pydevJob *job)
{
    pydevRecord *batch[BATCH_MAX];
    const pydevJob *first = job;
    int i, n = 0, gil = pydevPyEnter();
    double spent = 0.0, seconds;
    do {
        pydevRecord *rec = (pydevRecord *)job;
        int pending;
        seconds = runPython(rec, &pending);
        rec->job.batchable = rec->job.timeout <= 0 && seconds < BATCH_SECONDS;
        if (!pending) {
            batch[n++] = rec;
            spent += seconds;
        } else {
            /* nothing of it waits for this batch: it counts towards no limit, so a worker
             * hands a burst of awaiting records to the loop under one hold of the GIL */
            epicsAtomicIncrIntT(&awaiting);
            if (!pydevWorkersClaim(&rec->job))
                epicsAtomicSetIntT(&rec->orphan, 1);  /* the watch thread completed it */
            meetAwait(rec);
        }
    } while (first->timeout <= 0 && n < BATCH_MAX && spent < BATCH_SECONDS &&
             (job = pydevWorkersTakeNext(runJob)) != NULL);
    pydevPyLeave(gil);
    for (i = 0; i < n; i++)
        complete(batch[i]);
}

/* The watch thread: the run passed its time limit.  Complete the record (put-callbacks
 * return) with TIMEOUT/INVALID; the run goes on in its worker, whose result is dropped. */
static void expireJob(pydevJob *job)
{
    pydevRecord *rec = (pydevRecord *)job;
    dbCommon *prec = rec->prec;
    dbScanLock(prec);
    rec->timedOut = 1;
    rec->errors++;
    epicsSnprintf(rec->lastError, sizeof(rec->lastError), "no result within %g s", job->timeout);
    prec->rset->process(prec);
    dbScanUnlock(prec);
}

/* The pool's or the lane's watch: the record waited past its time limit and never ran.
 * Complete it with TIMEOUT/INVALID; it may run again at once. */
static void dropJob(pydevJob *job)
{
    pydevRecord *rec = (pydevRecord *)job;
    expireJob(job);
    epicsAtomicSetIntT(&rec->running, 0);
    laneDone(rec);
}

static long initDevice(int after)
{
    static int started;
    double count = 3, most;
    if (after || started)
        return 0;
    pydevSettingNumber(PYDEV_SET_NUM_THREADS, &count);
    most = 4 * count;
    pydevSettingNumber(PYDEV_SET_MAX_THREADS, &most);
    started = 1;
    pydevIointrInit();
    pydevStatsInit();
    finished.lock = epicsMutexMustCreate();
    finished.job.run = runFinished;
    initHookRegister(checkCodeRunners);
    if (pydevPyInit())
        return -1;
    /* room to replace stuck workers: a hung snippet never starves the other records */
    return pydevWorkersStart((int)count, (int)most, pydevPyThreadInit);
}

double pydevExitTimeout(void)
{
    double timeout = 5.0;
    pydevSettingNumber(PYDEV_SET_EXIT_TIMEOUT, &timeout);  /* now: st.cmd may have set it */
    return timeout;
}

/* epicsAtExit: no Python runs for records from now on; then Python's exit handlers (which
 * put outputs in their safe state), for at most pydevExitTimeout() seconds. */
void pydevShutdown(void *unused)
{
    (void)unused;
    stopping = 1;
    pydevPyAtExit(pydevExitTimeout());
}

static void pydevReportRecords(const char *typeName, int level)
{
    pydevRecord *rec;
    for (rec = allRecords; rec; rec = rec->nextRecord) {
        if (typeName && strcmp(rec->type->name, typeName) != 0)
            continue;
        printf("  %-28s %-10s runs %-8lu errors %-6lu avg %8.1f us", rec->prec->name,
               rec->type->name, rec->runs, rec->errors,
               rec->runs && !rec->slot ? 1e6 * rec->seconds / rec->runs : 0.0);
        if (rec->slot)
            printf("  iointr '%s'", rec->code.iointrName);
        if (rec->raw)
            printf("  raw (%s)", rec->type->isOutput ? "RBV" : "RVAL");
        if (rec->lane)
            printf("  lane '%s'", pydevLaneName(rec->lane));
        if (rec->disabled)
            printf("  DISABLED: %s", rec->disabled);
        else if (rec->lastError[0])
            printf("  last error: %s", rec->lastError);
        printf("\n");
        if (level > 1)
            printf("      @%s\n", rec->link);
        if (level > 1 && rec->code.words)
            printf("      %s\n", rec->code.words);
    }
}

void pydevReport(int level)
{
    char about[1024];
    pydevPyDescribe(about, sizeof(about));
    printf("pydev python: %s\n", about);
    pydevWorkersReport(level);
    printf("pydev event loop: %d records awaiting\n", epicsAtomicGetIntT(&awaiting));
    pydevLanesReport(level);
    pydevIointrReport(level);
    if (level > 0)
        pydevSettingsReport();
    if (level > 0)
        pydevReportRecords(NULL, level);
}

/* A driver table named "pydev": `dbior pydev 1` is `pydevReport 1`. */
static long reportDriver(int level)
{
    pydevReport(level);
    return 0;
}

static struct {
    long number;
    long (*report)(int level);
    long (*init)(void);
} pydev = {2, reportDriver, NULL};
epicsExportAddress(drvet, pydev);

/* The dset, one instance per record type so that dbior reports each type once. */
typedef struct pydevDset {
    long number;
    long (*report)(int level);
    long (*init)(int after);
    long (*init_record)(dbCommon *prec);
    long (*get_ioint_info)(int cmd, dbCommon *prec, IOSCANPVT *ppvt);
    long (*read_write)(dbCommon *prec);
    long (*special_linconv)(dbCommon *prec, int after);
} pydevDset;

#define PYDEV_DSET(type)                                                           \
    static long report_##type(int level)                                           \
    {                                                                              \
        if (level > 0)                                                             \
            pydevReportRecords(#type, level);                                      \
        return 0;                                                                  \
    }                                                                              \
    pydevDset devPydev_##type = {6, report_##type, initDevice, initRecord,         \
                                 getIointInfo, readWrite, NULL};                   \
    epicsExportAddress(dset, devPydev_##type);

PYDEV_DSET(longin) PYDEV_DSET(longout) PYDEV_DSET(ai) PYDEV_DSET(ao)
PYDEV_DSET(bi) PYDEV_DSET(bo) PYDEV_DSET(mbbi) PYDEV_DSET(mbbo)
PYDEV_DSET(mbbiDirect) PYDEV_DSET(mbboDirect) PYDEV_DSET(stringin) PYDEV_DSET(stringout)
PYDEV_DSET(lsi) PYDEV_DSET(lso) PYDEV_DSET(int64in) PYDEV_DSET(int64out)
PYDEV_DSET(waveform) PYDEV_DSET(aai) PYDEV_DSET(aao)
