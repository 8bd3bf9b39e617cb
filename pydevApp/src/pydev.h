/* pydev.h - the interfaces between PyDevice's parts.
 *
 *   pydevRecord.c   EPICS record glue: the per-record-type table, the dset, alarms
 *   pydevPython.c   every use of the Python C-API: interpreter, snippets, conversions, `pydev`
 *   pydevWorkers.c  the worker-thread pool that runs snippets off the scan threads
 *   pydevIointr.c   `pydev.iointr` names: I/O Intr scan lists and their latest values
 *   pydevShell.c    iocsh commands and the registrar
 *
 * Lock order: a thread may take the GIL and then a pydevIointr mutex, or a record lock and then
 * a pydevIointr mutex; it never takes a record lock while holding the GIL.
 */
#ifndef INC_pydev_H
#define INC_pydev_H

#include <stddef.h>

#include <epicsTypes.h>
#include <epicsTime.h>
#include <dbAddr.h>
#include <dbScan.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dbCommon;

/* ---- values moving from Python into a record ---------------------------------------- */

typedef enum { PYDEV_SCALAR, PYDEV_STRING, PYDEV_LSTRING, PYDEV_ARRAY } pydevShape;

/* What a record's VAL can hold; derived from the record type and its VAL dbAddr. */
typedef struct pydevTarget {
    pydevShape shape;
    short dbfType;          /* scalar: VAL's DBF type; array: element DBF type */
    epicsUInt32 elemSize;   /* array element size in bytes */
    epicsUInt32 capacity;   /* string: bytes incl. NUL; array: NELM */
    epicsUInt32 maxState;   /* enum VAL (bi/bo/mbbi/mbbo): highest state index; else 0 */
    int isBool;             /* bi/bo: any true number is state 1 */
    int isBits;             /* mbbiDirect/mbboDirect: raw 32 bits */
} pydevTarget;

typedef enum { PYDEV_RESULT_NONE, PYDEV_RESULT_VALUE, PYDEV_RESULT_ALARM } pydevResultKind;

/* A converted result, ready to be stored into a record without Python. */
typedef struct pydevResult {
    pydevResultKind kind;
    double d;               /* scalar DBF_FLOAT/DBF_DOUBLE */
    epicsInt64 i;           /* other scalars (enum index, bits, integers) */
    char *buf;              /* string bytes or array elements; capacity from the target */
    epicsUInt32 count;      /* array elements, or string length incl. NUL */
    epicsEnum16 stat, sevr; /* alarm */
    char msg[40];           /* alarm message (AMSG) */
    epicsTimeStamp time;    /* when the value was produced */
} pydevResult;

int  pydevResultAlloc(pydevResult *res, const pydevTarget *target);
void pydevResultAlarm(pydevResult *res, epicsEnum16 stat, epicsEnum16 sevr, const char *msg);

/* ---- a field macro: a field value copied at process time --------------------------- */

typedef struct pydevMacro {
    char name[8];
    DBADDR addr;
    short dbrType;          /* DBR_xxx used to read it */
    int asArray;            /* hand it to Python as a numpy array (or list of str) */
    int asString;           /* char array holding a string (lsi/lso VAL) */
    long capacity;          /* elements the buffer holds */
    long count;             /* elements read at the last processing */
    void *buf;
} pydevMacro;

/* ---- the worker pool ---------------------------------------------------------------- */

typedef struct pydevJob {
    struct pydevJob *next;
    void (*run)(struct pydevJob *job);
    /* the watch thread: the job ran past its timeout (its late result will be refused) */
    void (*expire)(struct pydevJob *job);
    double timeout;          /* seconds the run may take; 0: no limit */
    double queuedAt;
} pydevJob;

typedef struct pydevWorkersStats {
    int workers, busy, stuck;
    unsigned long depth, queued, expired;
    double oldestAge;        /* seconds: the longest-running or longest-queued job */
} pydevWorkersStats;

/* count workers at all times (stuck ones replaced, up to capacity); threadInit runs first in
 * every worker thread */
int  pydevWorkersStart(int count, int capacity, void (*threadInit)(void));
void pydevWorkersQueue(pydevJob *job);
/* in job->run, before completing: 0 if the job expired meanwhile (drop its result) */
int  pydevWorkersClaim(pydevJob *job);
void pydevWorkersGetStats(pydevWorkersStats *stats);
void pydevWorkersReport(int level);

/* ---- per-record state ---------------------------------------------------------------- */

struct pydevIointrSlot;
struct pydevRecordType;

typedef struct pydevRecord {
    pydevJob job;                        /* first: the worker runs it */
    struct dbCommon *prec;
    const struct pydevRecordType *type;
    const char *link;                    /* the code, as written after '@' */
    void *function;                      /* the compiled link (a Python callable) */
    pydevMacro *macros;
    int nmacros;
    DBADDR val;                          /* the record's VAL */
    pydevTarget target;
    pydevResult result;                  /* worker -> record */
    struct pydevIointrSlot *slot;        /* when the link is pydev.iointr('name') */
    char iointrName[64];
    /* statistics and console rate limit, written by whoever processes the record */
    unsigned long runs, errors, suppressed;
    double seconds, lastLog;
    char lastError[40];
    char *disabled;                      /* why the record cannot run (set at init), or NULL */
    int running;                         /* atomic: queued or running in a worker */
    int runsFieldCode;                   /* exec/eval of a field: needs access security */
    int timedOut;                        /* the watch thread completes the record: TIMEOUT */
    struct pydevRecord *nextRecord;
} pydevRecord;

/* Record glue (pydevRecord.c) */
const char *pydevRecordName(const pydevRecord *rec);
int  pydevIsOutput(const pydevRecord *rec);
int  pydevLogAllowed(pydevRecord *rec, unsigned long *suppressed);
void pydevApplyResult(pydevRecord *rec, const pydevResult *res);
void pydevReportRecords(const char *typeName, int level);
void pydevShutdown(void *unused);      /* epicsAtExit handler */
/* seconds Python's exit handlers may take: PYDEV_EXIT_TIMEOUT, 5 by default */
double pydevExitTimeout(void);
/* pydevReport / dbior pydev: the pool, the iointr names, and from level 1 the records */
void pydevReport(int level);

/* Python (pydevPython.c) */
int  pydevPyInit(void);
int  pydevPyCompile(pydevRecord *rec, const char *const *fields, int nfields,
                    char *err, size_t errlen);
void pydevPyThreadInit(void);
void pydevPyRun(pydevRecord *rec);
int  pydevPyExec(const char *code);
/* run a Python file in the shared namespace (relative to the current directory) */
int  pydevPyRunFile(const char *path);
/* before Python starts: the startup script's directory, put on sys.path */
void pydevPySetStartupDir(const char *dir);
void pydevPyConvertPushed(void *value, const pydevTarget *target, pydevResult *res);
void pydevPyPrimeSlot(pydevRecord *rec);
/* run Python's exit handlers (atexit), waiting at most timeout seconds for them */
void pydevPyAtExit(double timeout);

/* pydev.iointr names (pydevIointr.c) */
typedef struct pydevIointr pydevIointr;
typedef struct pydevIointrSlot pydevIointrSlot;
/* the entry of name, created on first use; NULL only when out of memory */
pydevIointr *pydevIointrFind(const char *name);
pydevIointrSlot *pydevIointrAttach(pydevIointr *io, const pydevTarget *target);
IOSCANPVT pydevIointrScan(const pydevIointr *io);
epicsTimeStamp pydevIointrLastTime(pydevIointr *io);
pydevIointr *pydevIointrOf(const pydevIointrSlot *slot);
/* with the GIL held (value is a PyObject*): convert for every slot and scan the records */
void pydevIointrPush(pydevIointr *io, void *value, const epicsTimeStamp *time);
/* with the GIL held: convert value into one slot (a record attached after pushes); the value
 * replaces the slot's only if seq is newer than the push it holds */
void pydevIointrStore(pydevIointrSlot *slot, void *value, const epicsTimeStamp *time,
                      epicsUInt64 seq);
/* the number of the last push begun on io (0: none) */
epicsUInt64 pydevIointrLastSeq(pydevIointr *io);
/* from C, without Python: a number to every record of io (strings get "%g") */
void pydevIointrPushNumber(pydevIointr *io, double value);
/* the entry of name if a record or a push made it; NULL otherwise */
pydevIointr *pydevIointrLookup(const char *name);
/* pushes and the scans they caused, over all names but the reserved "pydev:..." */
void pydevIointrTotals(unsigned long *pushes, unsigned long *scans);
/* once, before iocInit: pushes made before the IOC runs are scanned when it does */
void pydevIointrInit(void);
/* with the record lock held: store the slot's latest value; 0 if nothing was pushed yet */
int  pydevIointrApply(pydevIointrSlot *slot, pydevRecord *rec);
void pydevIointrReport(int level);

/* Diagnostic figures pushed once a second (pydevStats.c); once, before iocInit */
void pydevStatsInit(void);

/* Shared helpers */
double pydevNow(void);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydev_H */
