/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevPython.h - every use of the Python C-API: the interpreter, compiling and running links,
 * conversions between Python values and pydevResult/pydevFieldValue, the `pydev` module.
 *
 * Above values, the iointr registry and the worker pool; below the record glue.  It sees a
 * call description (pydevPyCall), never a dbCommon, and it takes no record lock while holding
 * the GIL.  Internal: not installed.
 */
#ifndef INC_pydevPython_H
#define INC_pydevPython_H

#include <stddef.h>

#include "pydevValue.h"
#include "pydevIointr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* a compiled link: a Python function of the field macros */
typedef struct pydevPyCode pydevPyCode;

/* What compiling a link gives. */
typedef struct pydevPyLink {
    pydevPyCode *code;
    pydevFieldValue *macros;   /* the field macros it uses: names filled in, the rest zero */
    int nmacros;
    char iointrName[64];       /* the link is pydev.iointr('name'); else "" */
    int runsFieldCode;         /* it hands a field's value to exec/eval/compile */
    char *words;               /* which words are field macros, for pydevReport; or NULL */
} pydevPyLink;

/* The console rate limit of one record's errors: one message every 10 s at most. */
typedef struct pydevPyLog {
    double lastLog;
    unsigned long suppressed;
} pydevPyLog;

/* An awaiting run ended (on the event loop's thread, with the GIL, never a record lock): the
 * run's res holds the outcome; failed says it is an alarm.  It must not wait. */
typedef void (*pydevPyDoneFn)(void *arg, int failed);

/* One run of a link. */
typedef struct pydevPyCall {
    const char *name;          /* the record's name, for messages */
    const char *link;          /* the code as written after '@', for messages */
    const pydevPyCode *code;
    const pydevFieldValue *args;
    int nargs;
    const pydevTarget *target;
    int isOutput;              /* None is a success (nothing stored); failures are WRITE alarms */
    int trace;                 /* TPRO: print the result and the time taken */
    int stamp;                 /* the result gets the time it came (a record with TSE -2) */
    pydevPyLog *log;
    /* A value that is an awaitable (an `await` in the link, or a coroutine it returns) is
     * awaited on the event loop when done is set: the run returns PYDEV_PY_PENDING at once,
     * and done(doneArg, failed) is called when the awaitable has ended, with res (which must
     * live until then) holding the outcome.  Without done the run waits for it. */
    pydevPyDoneFn done;
    void *doneArg;
    double timeout;            /* seconds the awaitable may take (0: no limit): then it is
                                * cancelled and res is a TIMEOUT alarm */
} pydevPyCall;

/* pydevPyRun's value for a run whose awaitable now runs on the event loop */
enum { PYDEV_PY_PENDING = 1 };

/* Start (or join) the interpreter and set up the shared namespace, once: 0 or -1. */
int  pydevPyInit(void);
/* "Python X.Y.Z (...), executable ..., prefix ..., virtualenv ...": the one the links run in
 * (starts it if it is not) */
void pydevPyDescribe(char *out, size_t size);
/* a worker thread's first act: give it a Python thread state (pydevWorkersStart's threadInit) */
void pydevPyThreadInit(void);
/* before Python starts: the startup script's directory, put on sys.path */
void pydevPySetStartupDir(const char *dir);

/* Compile a record's link; fields are the record type's field names (the macros' candidates),
 * type its name (which field words are macros inside string literals; may be NULL).
 * 0, or -1 with err saying why (the traceback is printed). */
int  pydevPyCompile(const char *name, const char *type, const char *link,
                    const char *const *fields, int nfields, pydevPyLink *out, char *err,
                    size_t errlen);
/* A pycalc record's CALC as a function of the inputs A..J it uses (pydevice.pycalc): out's
 * macros are those inputs (names filled in), runsFieldCode says an input reaches
 * exec/eval/compile; an array result longer than limit (MEVL, when more than 1) is cut to it.
 * 0, or -1 with err saying why (printed).  Free it with pydevPyRelease. */
int  pydevPyCompileCalc(const char *name, const char *calc, unsigned long limit,
                        pydevPyLink *out, char *err, size_t errlen);
/* Free what pydevPyCompile gave (a link run once, e.g. at init); takes the GIL. */
void pydevPyRelease(pydevPyLink *link);
/* Run it (takes the GIL): res gets the value, nothing (an output's None) or an alarm, and
 * seconds the time the code took (with the GIL).  0, or -1 after a failure (res is the
 * alarm; the console has the traceback, rate-limited), or PYDEV_PY_PENDING (call->done). */
int  pydevPyRun(const pydevPyCall *call, pydevResult *res, double *seconds);
/* The same for several runs under one hold of the GIL (a worker's batch): pydevPyEnter takes
 * the GIL and gives what pydevPyLeave needs to release it; pydevPyRunEntered is pydevPyRun
 * with the GIL already held.  Nothing between the two may take a record lock. */
int  pydevPyEnter(void);
int  pydevPyRunEntered(const pydevPyCall *call, pydevResult *res, double *seconds);
void pydevPyLeave(int state);
/* a record attached to an iointr name after pushes: give its slot the last value pushed */
void pydevPyPrimeSlot(pydevIointrSlot *slot, const char *name);

/* iocsh: run code (an expression's value is printed), or a file, in the shared namespace.
 * 0, or -1 after an exception (printed).  SystemExit ends the IOC like `exit`. */
int  pydevPyExec(const char *code);
int  pydevPyRunFile(const char *path);
/* cancel the event loop's tasks, run Python's exit handlers (atexit), then stop the loop,
 * waiting at most timeout seconds for it all */
void pydevPyAtExit(double timeout);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevPython_H */
