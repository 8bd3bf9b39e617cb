/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevValue.c - results: allocate, alarm, store into a record.  EPICS only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include <alarm.h>
#include <dbAccess.h>
#include <dbCommon.h>
#include <epicsStdio.h>
#include <epicsTime.h>
#include <recGbl.h>

#include "pydevValue.h"

double pydevNow(void) { return epicsMonotonicGet() * 1e-9; }

int pydevTargetSame(const pydevTarget *a, const pydevTarget *b)
{
    return a->shape == b->shape && a->dbfType == b->dbfType && a->elemSize == b->elemSize &&
           a->capacity == b->capacity && a->maxState == b->maxState &&
           a->isBool == b->isBool && a->isBits == b->isBits;
}

/* Buffers of 4 MiB and more are 2 MiB-aligned with transparent huge pages asked for, as numpy
 * allocates its large arrays: an 8 MB copy between 4 KiB pages took 2-3 times as long here
 * (TLB misses), so the one copy of an array result cost that much more than numpy's own. */
enum { HUGE_PAGE = 2u << 20, HUGE_FROM = 4u << 20 };

int pydevBufferGains(size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    return bytes >= HUGE_FROM;
#else
    (void)bytes;
    return 0;
#endif
}

static char *allocBuffer(size_t bytes, int zero)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (pydevBufferGains(bytes)) {
        size_t whole = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        void *p;
        if (posix_memalign(&p, HUGE_PAGE, whole) == 0) {
            madvise(p, whole, MADV_HUGEPAGE);  /* a hint: without it, plain pages */
            if (zero)
                memset(p, 0, whole);
            return p;
        }
    }
#endif
    return zero ? calloc(1, bytes) : malloc(bytes);
}

char *pydevBufferAlloc(size_t bytes)
{
    return allocBuffer(bytes ? bytes : 1, 1);
}

int pydevResultAlloc(pydevResult *res, const pydevTarget *target)
{
    size_t size = 0;
    memset(res, 0, sizeof(*res));
    if (target->shape == PYDEV_STRING || target->shape == PYDEV_LSTRING)
        size = target->capacity;
    else if (target->shape == PYDEV_ARRAY)
        size = (size_t)target->capacity * target->elemSize;
    if (size && !(res->buf = allocBuffer(size, 1)))
        return -1;
    res->size = size;
    return 0;
}

int pydevResultReserve(pydevResult *res, size_t bytes)
{
    char *buf;
    if (bytes == 0)
        bytes = 1;  /* an empty array still has a buffer: memcpy never sees NULL */
    if (bytes <= res->size)
        return 0;
    /* no realloc: the old contents are not wanted, and copying them would cost a copy */
    if (!(buf = allocBuffer(bytes, 0)))
        return -1;
    free(res->buf);
    res->buf = buf;
    res->size = bytes;
    return 0;
}

void pydevResultFree(pydevResult *res)
{
    free(res->buf);
    res->buf = NULL;
    res->size = 0;
}

void pydevResultAlarm(pydevResult *res, epicsEnum16 stat, epicsEnum16 sevr, const char *msg)
{
    size_t len = strlen(msg);
    res->kind = PYDEV_RESULT_ALARM;
    res->stat = stat;
    res->sevr = sevr;
    if (len >= sizeof(res->msg)) {
        /* what fits AMSG, never half a UTF-8 character (the console has the whole text) */
        len = sizeof(res->msg) - 1;
        while (len > 0 && ((unsigned char)msg[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(res->msg, msg, len);
    res->msg[len] = '\0';
}

void pydevResultNumber(pydevResult *res, const pydevTarget *t, double value)
{
    switch (t->shape) {
    case PYDEV_SCALAR:
        res->kind = PYDEV_RESULT_VALUE;
        res->d = value;
        res->i = (epicsInt64)value;
        break;
    case PYDEV_STRING:
    case PYDEV_LSTRING:
        if (pydevResultReserve(res, t->capacity)) {
            pydevResultAlarm(res, SOFT_ALARM, INVALID_ALARM, "out of memory");
            break;
        }
        res->kind = PYDEV_RESULT_VALUE;
        res->count = (epicsUInt32)epicsSnprintf(res->buf, t->capacity, "%g", value) + 1;
        if (res->count > t->capacity)
            res->count = t->capacity;
        break;
    default:
        pydevResultAlarm(res, SOFT_ALARM, INVALID_ALARM, "a number, not an array");
        break;
    }
}

static void storeScalar(void *field, short dbfType, const pydevResult *res)
{
    switch (dbfType) {
    case DBF_CHAR:   *(epicsInt8 *)field = (epicsInt8)res->i; break;
    case DBF_UCHAR:  *(epicsUInt8 *)field = (epicsUInt8)res->i; break;
    case DBF_SHORT:  *(epicsInt16 *)field = (epicsInt16)res->i; break;
    case DBF_USHORT:
    case DBF_ENUM:   *(epicsUInt16 *)field = (epicsUInt16)res->i; break;
    case DBF_LONG:   *(epicsInt32 *)field = (epicsInt32)res->i; break;
    case DBF_ULONG:  *(epicsUInt32 *)field = (epicsUInt32)res->i; break;
    case DBF_INT64:  *(epicsInt64 *)field = res->i; break;
    case DBF_UINT64: *(epicsUInt64 *)field = (epicsUInt64)res->i; break;
    case DBF_FLOAT:  *(epicsFloat32 *)field = (epicsFloat32)res->d; break;
    case DBF_DOUBLE: *(epicsFloat64 *)field = res->d; break;
    default: break;
    }
}

/* a value is in the record: it is defined, and with TSE=-2 it has the value's time */
static void stored(dbCommon *prec, const pydevResult *res)
{
    prec->udf = FALSE;
    if (prec->tse == epicsTimeEventDeviceTime)
        prec->time = res->time;
}

void pydevResultStore(dbCommon *prec, const pydevTarget *t, pydevPlace place,
                      const pydevResult *res)
{
    if (res->kind == PYDEV_RESULT_ALARM) {
        /* A record with no value yet is INVALID (UDF) whatever the code says; raising that
         * severity here keeps the code's STAT and message, which UDF's own would replace. */
        epicsEnum16 sevr = prec->udf && res->sevr < INVALID_ALARM ? INVALID_ALARM : res->sevr;
        if (prec->nsta == UDF_ALARM && !prec->namsg[0] && sevr >= prec->nsev) {
            /* An output checks UDF before it writes (longout, bo at PINI): that bare UDF
             * would keep the reason out of AMSG, so the code's failure replaces it. */
            prec->nsev = NO_ALARM;
        }
        recGblSetSevrMsg(prec, res->stat, sevr, "%s", res->msg);
        return;
    }
    if (res->kind != PYDEV_RESULT_VALUE)
        return;
    switch (t->shape) {
    case PYDEV_SCALAR:
        storeScalar(place.field, t->dbfType, res);
        break;
    case PYDEV_STRING:
        memcpy(place.field, res->buf, res->count);
        break;
    case PYDEV_LSTRING:
        memcpy(place.field, res->buf, res->count);
        *place.count = res->count;
        break;
    case PYDEV_ARRAY:
        memcpy(place.field, res->buf, (size_t)res->count * t->elemSize);
        *place.count = res->count;
        break;
    }
    stored(prec, res);
}

void pydevResultTake(dbCommon *prec, const pydevTarget *t, pydevPlace place, pydevResult *res)
{
    char *previous;
    if (res->kind != PYDEV_RESULT_VALUE || t->shape != PYDEV_ARRAY || !place.buffer ||
        res->size != (size_t)t->capacity * t->elemSize) {
        pydevResultStore(prec, t, place, res);
        return;
    }
    /* The record's buffer has the same NELM x element size: trade them.  The array records
     * read BPTR afresh for every access (get_array_info), so readers see the new one. */
    previous = *place.buffer;
    *place.buffer = res->buf;
    res->buf = previous;
    *place.count = res->count;
    stored(prec, res);
}
