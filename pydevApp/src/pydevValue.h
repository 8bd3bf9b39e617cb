/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevValue.h - values on their way into a record, and field values copied out of one.
 *
 * The bottom layer: EPICS only, no Python, no other PyDevice file.  A pydevTarget says what a
 * record's value field can hold; a pydevResult is a value (or an alarm) converted for one
 * target, ready to be stored without Python; a pydevFieldValue is a field copied at process
 * time for the code to read.  Internal: not installed.
 */
#ifndef INC_pydevValue_H
#define INC_pydevValue_H

#include <stddef.h>

#include <epicsTypes.h>
#include <epicsTime.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dbCommon;

typedef enum { PYDEV_SCALAR, PYDEV_STRING, PYDEV_LSTRING, PYDEV_ARRAY } pydevShape;

/* What a record's value field (VAL, or RVAL for a raw value) can hold. */
typedef struct pydevTarget {
    pydevShape shape;
    short dbfType;          /* scalar: the field's DBF type; array: element DBF type */
    epicsUInt32 elemSize;   /* array element size in bytes */
    epicsUInt32 capacity;   /* string: bytes incl. NUL; array: NELM */
    epicsUInt32 maxState;   /* enum VAL (bi/bo/mbbi/mbbo): highest state index; else 0 */
    int isBool;             /* bi/bo VAL: any true number is state 1 */
    int isBits;             /* mbbiDirect/mbboDirect VAL, and every RVAL: raw 32 bits */
} pydevTarget;

/* Whether two targets convert every value alike (records of one iointr name share a slot). */
int pydevTargetSame(const pydevTarget *a, const pydevTarget *b);

typedef enum { PYDEV_RESULT_NONE, PYDEV_RESULT_VALUE, PYDEV_RESULT_ALARM } pydevResultKind;

/* A converted result, ready to be stored into a record without Python. */
typedef struct pydevResult {
    pydevResultKind kind;
    double d;               /* scalar DBF_FLOAT/DBF_DOUBLE */
    epicsInt64 i;           /* other scalars (enum index, bits, integers) */
    char *buf;              /* string bytes or array elements */
    size_t size;            /* bytes buf holds (pydevResultReserve grows it, never shrinks) */
    epicsUInt32 count;      /* array elements, or string length incl. NUL */
    epicsEnum16 stat, sevr; /* alarm */
    char msg[40];           /* alarm message (AMSG) */
    epicsTimeStamp time;    /* when the value was produced */
} pydevResult;

/* kind NONE with a buffer for target's strings or arrays: 0, or -1 when out of memory */
int  pydevResultAlloc(pydevResult *res, const pydevTarget *target);
/* A zeroed buffer for a record's array, freed with free(); large ones get huge pages.
 * pydevBufferGains: whether a buffer of that size gets them (worth replacing base's). */
char *pydevBufferAlloc(size_t bytes);
int  pydevBufferGains(size_t bytes);
/* buf holds at least bytes (kept if it does; contents are not kept): 0, or -1 when out of
 * memory.  A push sizes its buffer by what it carries this way, not by the target's NELM. */
int  pydevResultReserve(pydevResult *res, size_t bytes);
void pydevResultFree(pydevResult *res);
void pydevResultAlarm(pydevResult *res, epicsEnum16 stat, epicsEnum16 sevr, const char *msg);
/* a number as a value for target (strings get "%g"; an array target gets an alarm) */
void pydevResultNumber(pydevResult *res, const pydevTarget *target, double value);

/* Where a result goes in a record: its value field (VAL's, or RVAL's for a raw value) and,
 * for lsi/lso and arrays, the element count the record keeps beside it (LEN, NORD). */
typedef struct pydevPlace {
    void *field;
    epicsUInt32 *count;
    char **buffer;          /* arrays: the record's pointer to its buffer (BPTR), or NULL */
} pydevPlace;

/* With the record lock held: store a value (and TIME when TSE is -2), or raise the alarm of
 * an alarm result leaving the value as it was.  A result of kind NONE changes nothing. */
void pydevResultStore(struct dbCommon *prec, const pydevTarget *target, pydevPlace place,
                      const pydevResult *res);
/* The same for a result the caller owns and will not read again: an array whose buffer holds
 * the record's whole NELM trades buffers with the record (place.buffer) instead of being
 * copied, so res->buf then holds the record's previous array.  Others are stored as above. */
void pydevResultTake(struct dbCommon *prec, const pydevTarget *target, pydevPlace place,
                     pydevResult *res);

/* A field value copied at process time (a field macro), as the code will see it. */
typedef struct pydevFieldValue {
    char name[16];          /* a field name, or one with "_STR" (read as DBR_STRING) */
    short dbrType;          /* DBR_xxx it was read as */
    int asArray;            /* an array (numpy, or a list of str) */
    int asString;           /* a char array holding a string (lsi/lso VAL) */
    int asList;             /* an array as a Python list even with numpy (pycalc's A..J) */
    long capacity;          /* elements the buffer holds */
    long count;             /* elements read at the last processing */
    void *buf;
} pydevFieldValue;

/* seconds on the monotonic clock */
double pydevNow(void);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevValue_H */
