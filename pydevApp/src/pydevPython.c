/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevPython.c - every use of the Python C-API in PyDevice.
 *
 * The interpreter (started here unless the process already runs one), the shared namespace,
 * compiling links through pydevice.snippet, running them, turning field macros into Python
 * values and results into pydevResult, and the built-in module `pydev`.
 * It sees call descriptions (pydevPyCall), not records; nothing here takes a record lock.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <alarm.h>
#include <dbAccess.h>
#include <epicsEndian.h>
#include <epicsEvent.h>
#include <epicsExit.h>
#include <epicsStdio.h>
#include <epicsThread.h>
#include <errlog.h>
#include <initHooks.h>

#include "pydevSettings.h"
#include "pydevPython.h"
#include "pydevField.h"
#include "pydevPaths.h"

#ifndef PYDEV_PYTHON_DIR
#define PYDEV_PYTHON_DIR ""
#endif
#ifndef PYDEV_DEFAULT_VENV
#define PYDEV_DEFAULT_VENV ""
#endif
#define PY_STR(x) #x
#define PY_XSTR(x) PY_STR(x)
#define PY_MAJOR_MINOR PY_XSTR(PY_MAJOR_VERSION) "." PY_XSTR(PY_MINOR_VERSION)

static PyObject *globals;        /* the one namespace of all links and pydev("...") */
static PyObject *compileLink;    /* pydevice.snippet.compile_link */
static PyObject *alarmType;      /* pydev.Alarm */
/* (concurrent.futures.TimeoutError, asyncio.TimeoutError): before Python 3.11 neither is a
 * TimeoutError (asyncio.wait_for raises the second), and a device that did not answer in time
 * must still be TIMEOUT (#22) */
static PyObject *futuresTimeout;
static PyObject *iointrNames;    /* str -> capsule(pydevIointr*) */
static PyObject *lastPushed;     /* str -> the last value pushed, for records that attach later */
static PyObject *frombuffer;     /* numpy.frombuffer, or None without numpy */
static PyObject *nativeArray;    /* pydevice.arrays.native: other byte orders, float16 */
static PyObject *formatException;  /* traceback.format_exception */
static PyObject *pydevModule;
static PyObject *aioSchedule;    /* pydevice.aio.schedule: an awaitable onto the event loop */
static PyObject *aioRun;         /* pydevice.aio.run: await one and wait for its value */
static int startedHere;          /* we started the interpreter (not a host Python process) */

/* ---- errors --------------------------------------------------------------------------- */

static epicsEnum16 lookupName(PyObject *obj, const char *const *names, int count, int fallback)
{
    int i;
    const char *text;
    if (PyLong_Check(obj)) {
        long v = PyLong_AsLong(obj);
        return (v >= 0 && v < count) ? (epicsEnum16)v : (epicsEnum16)fallback;
    }
    if (!obj || !PyUnicode_Check(obj) || !(text = PyUnicode_AsUTF8(obj))) {
        PyErr_Clear();
        return (epicsEnum16)fallback;
    }
    for (i = 0; i < count; i++)
        if (strcmp(names[i], text) == 0)
            return (epicsEnum16)i;
    return (epicsEnum16)fallback;
}

/* "message (ExcType)" of an exception object: the message first, so that the part that
 * names the problem fits AMSG's 40 bytes; a syntax error says where. */
static void describe(PyObject *exc, char *buf, size_t size)
{
    const char *type = Py_TYPE(exc)->tp_name;
    PyObject *text = NULL, *offset = NULL, *lineno = NULL;
    const char *msg = NULL;
    if (PyErr_GivenExceptionMatches(exc, PyExc_SyntaxError)) {
        PyObject *m = PyObject_GetAttrString(exc, "msg");
        text = m && PyUnicode_Check(m) ? m : (Py_XDECREF(m), NULL);
        offset = PyObject_GetAttrString(exc, "offset");
        lineno = PyObject_GetAttrString(exc, "lineno");
    }
    if (!text)
        text = PyObject_Str(exc);
    msg = text ? PyUnicode_AsUTF8(text) : NULL;
    PyErr_Clear();
    if (msg && *msg && offset && PyLong_Check(offset) && lineno && PyLong_AsLong(lineno) > 1)
        epicsSnprintf(buf, size, "%s at line %ld column %ld (%s)", msg, PyLong_AsLong(lineno),
                      PyLong_AsLong(offset), type);
    else if (msg && *msg && offset && PyLong_Check(offset))
        epicsSnprintf(buf, size, "%s at column %ld (%s)", msg, PyLong_AsLong(offset), type);
    else if (msg && *msg)
        epicsSnprintf(buf, size, "%s (%s)", msg, type);
    else
        epicsSnprintf(buf, size, "%s", type);
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(offset);
    Py_XDECREF(lineno);
}

/* Take the pending exception, normalised, with its traceback attached; NULL if none. */
static PyObject *takeException(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

/* errlog keeps at most its message size (256 bytes by default) of each call: print line by
 * line, a long line in pieces, so the end of a traceback - the line that says what went
 * wrong - is never cut off. */
static void printLines(const char *text)
{
    enum { PIECE = 200 };
    while (*text) {
        const char *eol = strchr(text, '\n');
        size_t len = eol ? (size_t)(eol - text) : strlen(text);
        for (; len > PIECE; text += PIECE, len -= PIECE)
            errlogPrintf("%.*s", (int)PIECE, text);
        errlogPrintf("%.*s\n", (int)len, text);
        text += len + (eol ? 1 : 0);
    }
}

/* The whole traceback of exc on the console, after an optional header line. */
static void printException(const char *header, PyObject *exc)
{
    PyObject *tb = PyException_GetTraceback(exc);
    PyObject *lines = formatException ? PyObject_CallFunctionObjArgs(
        formatException, (PyObject *)Py_TYPE(exc), exc, tb ? tb : Py_None, NULL) : NULL;
    PyObject *empty = PyUnicode_FromString("");
    PyObject *text = lines && empty ? PyUnicode_Join(empty, lines) : NULL;
    PyObject *bytes = text ? PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace") : NULL;
    PyErr_Clear();
    if (header)
        printLines(header);
    if (bytes) {
        printLines(PyBytes_AS_STRING(bytes));
    } else {
        char msg[256];
        describe(exc, msg, sizeof(msg));
        printLines(msg);
    }
    errlogFlush();
    Py_XDECREF(bytes);
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(tb);
}

/* exc on the console after a line naming the record and its link (then what, if any). */
static void printLinkException(const char *name, const char *link, const char *what,
                               PyObject *exc)
{
    size_t size = strlen(link) + strlen(what) + strlen(name) + 16;
    char *header = malloc(size);
    if (header)
        epicsSnprintf(header, size, "pydev: %s: @%s%s", name, link, what);
    printException(header, exc);
    free(header);
}

/* The STAT of an exception that is not a pydev.Alarm: a device that does not answer in time
 * (TimeoutError, and a link's time limit) is TIMEOUT, one that cannot be reached (OSError:
 * ConnectionError, refused, reset, no route) COMM; any other failure READ or WRITE. */
static epicsEnum16 exceptionAlarm(PyObject *exc, int isOutput)
{
    if (PyErr_GivenExceptionMatches(exc, PyExc_TimeoutError) ||
        (futuresTimeout && PyErr_GivenExceptionMatches(exc, futuresTimeout)))
        return TIMEOUT_ALARM;
    if (PyErr_GivenExceptionMatches(exc, PyExc_OSError))
        return COMM_ALARM;
    return isOutput ? WRITE_ALARM : READ_ALARM;
}

/* An exception object (raised or pushed) as an alarm result. */
static void alarmFromException(PyObject *exc, int isOutput, pydevResult *res)
{
    char msg[256];
    if (alarmType && PyObject_IsInstance(exc, alarmType) == 1) {
        PyObject *stat = PyObject_GetAttrString(exc, "stat");
        PyObject *sevr = PyObject_GetAttrString(exc, "sevr");
        PyObject *text = PyObject_GetAttrString(exc, "message");
        const char *m = text && PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;
        PyErr_Clear();
        pydevResultAlarm(res, lookupName(stat, epicsAlarmConditionStrings, ALARM_NSTATUS, COMM_ALARM),
                         lookupName(sevr, epicsAlarmSeverityStrings, ALARM_NSEV, INVALID_ALARM),
                         m ? m : "");
        Py_XDECREF(stat);
        Py_XDECREF(sevr);
        Py_XDECREF(text);
        return;
    }
    describe(exc, msg, sizeof(msg));
    pydevResultAlarm(res, exceptionAlarm(exc, isOutput), INVALID_ALARM, msg);
}

/* At most one console message per record every 10 s; the next one says how many were dropped. */
static int logAllowed(pydevPyLog *log, unsigned long *suppressed)
{
    double now = pydevNow();
    if (log->lastLog != 0.0 && now - log->lastLog < 10.0) {
        log->suppressed++;
        return 0;
    }
    log->lastLog = now;
    *suppressed = log->suppressed;
    log->suppressed = 0;
    return 1;
}

/* The console line of a raised pydev.Alarm, with its whole message (AMSG has what fits). */
static void printAlarm(const char *name, PyObject *exc, const pydevResult *res)
{
    PyObject *text = PyObject_GetAttrString(exc, "message");
    PyObject *str = text ? PyObject_Str(text) : NULL;
    const char *msg = str ? PyUnicode_AsUTF8(str) : NULL;
    size_t size = strlen(name) + (msg ? strlen(msg) : strlen(res->msg)) + 64;
    char *line = malloc(size);
    PyErr_Clear();
    if (line) {
        epicsSnprintf(line, size, "pydev: %s: pydev.Alarm %s/%s: %s", name,
                      epicsAlarmConditionStrings[res->stat],
                      epicsAlarmSeverityStrings[res->sevr], msg ? msg : res->msg);
        printLines(line);  /* errlog keeps 256 bytes of a call */
        free(line);
    }
    Py_XDECREF(str);
    Py_XDECREF(text);
}

/* Take the pending exception: alarm result, and a rate-limited traceback on the console. */
static void failRun(const pydevPyCall *call, pydevResult *res)
{
    PyObject *exc = takeException();
    unsigned long suppressed;
    if (!exc) {
        pydevResultAlarm(res, call->isOutput ? WRITE_ALARM : READ_ALARM, INVALID_ALARM,
                         "unknown error");
        return;
    }
    alarmFromException(exc, call->isOutput, res);
    if (PyObject_IsInstance(exc, alarmType) == 1) {
        if (logAllowed(call->log, &suppressed))
            printAlarm(call->name, exc, res);
    } else if (logAllowed(call->log, &suppressed)) {
        printLinkException(call->name, call->link, "", exc);
        if (suppressed)
            errlogPrintf("pydev: %s: (%lu more errors not shown)\n", call->name, suppressed);
    }
    PyErr_Clear();
    Py_DECREF(exc);
}

/* ---- results: Python object -> pydevResult ------------------------------------------- */

static int isFloatDbf(short dbf) { return dbf == DBF_FLOAT || dbf == DBF_DOUBLE; }

/* Range of an integer DBF type; 0 if not an integer type. */
static int intRange(short dbf, epicsInt64 *lo, epicsInt64 *hi)
{
    switch (dbf) {
    case DBF_CHAR:   *lo = -128; *hi = 127; return 1;
    case DBF_UCHAR:  *lo = 0; *hi = 255; return 1;
    case DBF_SHORT:  *lo = -32768; *hi = 32767; return 1;
    case DBF_USHORT:
    case DBF_ENUM:   *lo = 0; *hi = 65535; return 1;
    case DBF_LONG:   *lo = -2147483647 - 1; *hi = 2147483647; return 1;
    case DBF_ULONG:  *lo = 0; *hi = 4294967295LL; return 1;
    case DBF_UINT64: *lo = 0; *hi = INT64_MAX; return 1;
    case DBF_INT64:  *lo = INT64_MIN; *hi = INT64_MAX; return 1;
    default: return 0;
    }
}

static int checkRange(epicsInt64 v, epicsInt64 lo, epicsInt64 hi)
{
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_OverflowError, "%lld out of range %lld..%lld", (long long)v,
                     (long long)lo, (long long)hi);
        return -1;
    }
    return 0;
}

static int floatToInt(double d, epicsInt64 *out)
{
    if (isnan(d) || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) {
        PyErr_Format(PyExc_ValueError, "%g cannot be stored as an integer", d);
        return -1;
    }
    *out = (epicsInt64)d;  /* truncation, as EPICS converts double to integer */
    return 0;
}

/* A Python number as an integer (floats truncate); never parses strings. */
static int toInt(PyObject *obj, epicsInt64 *out)
{
    int overflow = 0;
    long long v;
    if (PyFloat_Check(obj))
        return floatToInt(PyFloat_AS_DOUBLE(obj), out);
    if (!PyLong_Check(obj) && Py_TYPE(obj)->tp_as_number && !Py_TYPE(obj)->tp_as_number->nb_index &&
        Py_TYPE(obj)->tp_as_number->nb_float) {
        double d = PyFloat_AsDouble(obj);
        if (d == -1.0 && PyErr_Occurred())
            return -1;
        return floatToInt(d, out);
    }
    if (!PyLong_Check(obj)) {
        PyObject *index = PyNumber_Index(obj);
        if (!index)
            return -1;
        v = PyLong_AsLongLongAndOverflow(index, &overflow);
        Py_DECREF(index);
    } else {
        v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    }
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "integer does not fit 64 bits");
        return -1;
    }
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = v;
    return 0;
}

static int toScalar(PyObject *obj, const pydevTarget *t, pydevResult *res)
{
    epicsInt64 lo, hi, v;
    if (isFloatDbf(t->dbfType)) {
        if (PyUnicode_Check(obj) || PyBytes_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "a number is required, not '%s'", Py_TYPE(obj)->tp_name);
            return -1;
        }
        res->d = PyFloat_AsDouble(obj);
        return (res->d == -1.0 && PyErr_Occurred()) ? -1 : 0;
    }
    if (t->isBool) {
        int truth;
        if (!PyNumber_Check(obj) || PyUnicode_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "a bool or number is required, not '%s'",
                         Py_TYPE(obj)->tp_name);
            return -1;
        }
        if ((truth = PyObject_IsTrue(obj)) < 0)
            return -1;
        res->i = truth;
        return 0;
    }
    if (toInt(obj, &v))
        return -1;
    if (t->isBits) {
        lo = -2147483647 - 1;
        hi = 4294967295LL;
    } else if (t->maxState) {
        lo = 0;
        hi = t->maxState;
    } else if (!intRange(t->dbfType, &lo, &hi)) {
        PyErr_SetString(PyExc_TypeError, "unsupported VAL type");
        return -1;
    }
    if (checkRange(v, lo, hi))
        return -1;
    res->i = v;
    return 0;
}

/* str -> UTF-8; bytes as they are; anything else through str().  Needs room for the NUL. */
static int toString(PyObject *obj, char *buf, epicsUInt32 capacity, epicsUInt32 *count)
{
    PyObject *text = NULL;
    const char *s;
    Py_ssize_t len;
    if (PyBytes_Check(obj)) {
        s = PyBytes_AS_STRING(obj);
        len = PyBytes_GET_SIZE(obj);
    } else {
        if (!(text = PyUnicode_Check(obj) ? (Py_INCREF(obj), obj) : PyObject_Str(obj)))
            return -1;
        if (!(s = PyUnicode_AsUTF8AndSize(text, &len))) {
            /* lone surrogates: bytes a client wrote that were not UTF-8 go back as they came */
            PyObject *raw;
            PyErr_Clear();
            raw = PyUnicode_AsEncodedString(text, "utf-8", "surrogateescape");
            Py_DECREF(text);
            if (!(text = raw))
                return -1;
            s = PyBytes_AS_STRING(raw);
            len = PyBytes_GET_SIZE(raw);
        }
    }
    if ((size_t)len >= capacity) {
        PyErr_Format(PyExc_ValueError, "%zd-byte string does not fit (at most %u)", len,
                     capacity - 1);
        Py_XDECREF(text);
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *count = (epicsUInt32)len + 1;
    Py_XDECREF(text);
    return 0;
}

/* One array element, read as a double or an integer. */
typedef struct { int isFloat; double d; epicsInt64 i; } element;

static int storeElement(char *dst, const pydevTarget *t, element e)
{
    epicsInt64 lo, hi, v = e.i;
    if (t->dbfType == DBF_DOUBLE) {
        *(epicsFloat64 *)dst = e.isFloat ? e.d : (double)e.i;
        return 0;
    }
    if (t->dbfType == DBF_FLOAT) {
        *(epicsFloat32 *)dst = (epicsFloat32)(e.isFloat ? e.d : (double)e.i);
        return 0;
    }
    if (!intRange(t->dbfType, &lo, &hi)) {
        PyErr_SetString(PyExc_TypeError, "unsupported element type");
        return -1;
    }
    if ((e.isFloat && floatToInt(e.d, &v)) || checkRange(v, lo, hi))
        return -1;
    switch (t->elemSize) {
    case 1: *(epicsInt8 *)dst = (epicsInt8)v; break;
    case 2: *(epicsInt16 *)dst = (epicsInt16)v; break;
    case 4: *(epicsInt32 *)dst = (epicsInt32)v; break;
    default: *(epicsInt64 *)dst = v; break;
    }
    return 0;
}

/* Kind ('i', 'u', 'f') and size of a native buffer format, 0 if unusable. */
static char bufferKind(const char *fmt)
{
    if (!fmt)
        return 'u';  /* plain bytes */
    if (*fmt == '@' || *fmt == '=' || (*fmt == '<' && EPICS_BYTE_ORDER == EPICS_ENDIAN_LITTLE))
        fmt++;
    if (fmt[0] == '\0' || fmt[1] != '\0')
        return 0;
    if (strchr("bhilq", fmt[0]))
        return 'i';
    if (strchr("BHILQ?c", fmt[0]))
        return 'u';
    if (strchr("fd", fmt[0]))
        return 'f';
    return 0;
}

static char dbfKind(short dbf)
{
    if (isFloatDbf(dbf))
        return 'f';
    if (dbf == DBF_CHAR || dbf == DBF_SHORT || dbf == DBF_LONG || dbf == DBF_INT64)
        return 'i';
    return 'u';
}

/* 1 (an exception set) unless n elements fit the target and res->buf has room for them */
static int tooMany(Py_ssize_t n, const pydevTarget *t, pydevResult *res)
{
    if ((size_t)n > t->capacity) {
        PyErr_Format(PyExc_ValueError, "%zd elements do not fit NELM=%u", n, t->capacity);
        return 1;
    }
    if (pydevResultReserve(res, (size_t)n * t->elemSize)) {
        PyErr_NoMemory();
        return 1;
    }
    return 0;
}

/* a string result: room for the target's longest, then the string */
static int resultString(PyObject *obj, const pydevTarget *t, pydevResult *res)
{
    if (pydevResultReserve(res, t->capacity)) {
        PyErr_NoMemory();
        return -1;
    }
    return toString(obj, res->buf, t->capacity, &res->count);
}

static int arrayFromBuffer(Py_buffer *view, const pydevTarget *t, pydevResult *res)
{
    char kind = bufferKind(view->format);
    Py_ssize_t n = view->itemsize ? view->len / view->itemsize : 0, k;
    if (!kind) {
        PyErr_Format(PyExc_TypeError, "unsupported array format '%s'", view->format);
        return -1;
    }
    if (tooMany(n, t, res))
        return -1;
    if (kind == dbfKind(t->dbfType) && (epicsUInt32)view->itemsize == t->elemSize) {
        memcpy(res->buf, view->buf, view->len);
    } else {
        for (k = 0; k < n; k++) {
            const char *p = (const char *)view->buf + k * view->itemsize;
            element e = {kind == 'f', 0.0, 0};
            if (kind == 'f')
                e.d = view->itemsize == 4 ? *(const float *)p : *(const double *)p;
            else if (view->itemsize == 1)
                e.i = kind == 'i' ? (epicsInt64) * (const epicsInt8 *)p : (epicsInt64) * (const epicsUInt8 *)p;
            else if (view->itemsize == 2)
                e.i = kind == 'i' ? (epicsInt64) * (const epicsInt16 *)p : (epicsInt64) * (const epicsUInt16 *)p;
            else if (view->itemsize == 4)
                e.i = kind == 'i' ? (epicsInt64) * (const epicsInt32 *)p : (epicsInt64) * (const epicsUInt32 *)p;
            else if (kind == 'u' && *(const epicsUInt64 *)p > (epicsUInt64)INT64_MAX) {
                PyErr_SetString(PyExc_OverflowError, "element does not fit 63 bits");
                return -1;
            } else
                e.i = *(const epicsInt64 *)p;
            if (storeElement(res->buf + k * t->elemSize, t, e))
                return -1;
        }
    }
    res->count = (epicsUInt32)n;
    return 0;
}

static int arrayFromSequence(PyObject *obj, const pydevTarget *t, pydevResult *res)
{
    PyObject *seq = PySequence_Fast(obj, "an array, a sequence or a number is required");
    Py_ssize_t n, k;
    if (!seq)
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    if (tooMany(n, t, res)) {
        Py_DECREF(seq);
        return -1;
    }
    for (k = 0; k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        char *dst = res->buf + k * t->elemSize;
        element e = {0, 0.0, 0};
        int rc;
        if (t->dbfType == DBF_STRING) {
            epicsUInt32 used;
            rc = toString(item, dst, t->elemSize, &used);
        } else if (PyUnicode_Check(item) || PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "element %zd: a number is required, not '%s'", k,
                         Py_TYPE(item)->tp_name);
            rc = -1;
        } else if (isFloatDbf(t->dbfType)) {
            e.isFloat = 1;
            e.d = PyFloat_AsDouble(item);
            rc = (e.d == -1.0 && PyErr_Occurred()) ? -1 : storeElement(dst, t, e);
        } else {
            rc = toInt(item, &e.i) ? -1 : storeElement(dst, t, e);
        }
        if (rc) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    res->count = (epicsUInt32)n;
    return 0;
}

/* bytes into a CHAR/UCHAR array: exactly those bytes (a str is a C string: see toString) */
static int arrayFromBytes(PyObject *obj, const pydevTarget *t, pydevResult *res)
{
    Py_ssize_t len = PyBytes_GET_SIZE(obj);
    if (tooMany(len, t, res))
        return -1;
    memcpy(res->buf, PyBytes_AS_STRING(obj), len);
    res->count = (epicsUInt32)len;
    return 0;
}

static int toArrayFrom(PyObject *obj, const pydevTarget *t, pydevResult *res, int mayConvert)
{
    int isChars = t->dbfType == DBF_CHAR || t->dbfType == DBF_UCHAR;
    if (PyUnicode_Check(obj) || PyBytes_Check(obj)) {
        if (!isChars) {
            PyErr_Format(PyExc_TypeError, "a string fits only a CHAR or UCHAR array, not FTVL "
                         "with %u-byte elements", t->elemSize);
            return -1;
        }
        return PyBytes_Check(obj) ? arrayFromBytes(obj, t, res) : resultString(obj, t, res);
    }
    if (t->dbfType != DBF_STRING && PyObject_CheckBuffer(obj)) {
        Py_buffer view;
        int rc;
        if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) == 0) {
            if (!bufferKind(view.format) && mayConvert && nativeArray) {
                /* another byte order, float16: numpy makes a native copy we can read */
                PyObject *native;
                PyBuffer_Release(&view);
                if (!(native = PyObject_CallFunctionObjArgs(nativeArray, obj, NULL)))
                    return -1;
                rc = toArrayFrom(native, t, res, 0);
                Py_DECREF(native);
                return rc;
            }
            rc = arrayFromBuffer(&view, t, res);
            PyBuffer_Release(&view);
            return rc;
        }
        PyErr_Clear();  /* not contiguous: take it element by element */
    }
    if (PyNumber_Check(obj) && !PySequence_Check(obj)) {
        PyObject *one = PyTuple_Pack(1, obj);
        int rc = one ? arrayFromSequence(one, t, res) : -1;
        Py_XDECREF(one);
        return rc;
    }
    return arrayFromSequence(obj, t, res);
}

static int toArray(PyObject *obj, const pydevTarget *t, pydevResult *res)
{
    return toArrayFrom(obj, t, res, 1);
}

/* 0: res holds the value; -1: a Python exception is set and res is unchanged. */
static int convert(PyObject *obj, const pydevTarget *t, pydevResult *res)
{
    pydevResult tmp = *res;  /* scalars and counts are committed only on success */
    int rc;
    if (obj == Py_None) {
        PyErr_SetString(PyExc_TypeError, "the code returned None, a value is required");
        return -1;
    }
    switch (t->shape) {
    case PYDEV_SCALAR: rc = toScalar(obj, t, &tmp); break;
    case PYDEV_STRING:
    case PYDEV_LSTRING: rc = resultString(obj, t, &tmp); break;
    default: rc = toArray(obj, t, &tmp); break;
    }
    if (rc == 0) {
        tmp.kind = PYDEV_RESULT_VALUE;
        *res = tmp;
    } else {
        res->buf = tmp.buf;  /* a buffer made room for the value is res's, failed or not */
        res->size = tmp.size;
    }
    return rc;
}

/* pydevIointrConvert for a pushed Python object (the pusher holds the GIL) */
static void convertPushed(const void *value, const pydevTarget *target, pydevResult *res)
{
    PyObject *obj = (PyObject *)value;
    if (PyExceptionInstance_Check(obj)) {
        alarmFromException(obj, 0, res);
    } else if (convert(obj, target, res)) {
        PyObject *exc = takeException();
        if (exc)
            alarmFromException(exc, 0, res);
        Py_XDECREF(exc);
    }
}

/* ---- field macros: copied field values -> Python ------------------------------------- */

static const char *numpyType(short dbr)
{
    switch (dbr) {
    case DBR_CHAR: return "i1";
    case DBR_UCHAR: return "u1";
    case DBR_SHORT: return "i2";
    case DBR_USHORT: case DBR_ENUM: return "u2";
    case DBR_LONG: return "i4";
    case DBR_ULONG: return "u4";
    case DBR_INT64: return "i8";
    case DBR_UINT64: return "u8";
    case DBR_FLOAT: return "f4";
    default: return "f8";
    }
}

static PyObject *scalarToPy(short dbr, const void *p)
{
    switch (dbr) {
    case DBR_CHAR: return PyLong_FromLong(*(const epicsInt8 *)p);
    case DBR_UCHAR: return PyLong_FromLong(*(const epicsUInt8 *)p);
    case DBR_SHORT: return PyLong_FromLong(*(const epicsInt16 *)p);
    case DBR_USHORT: case DBR_ENUM: return PyLong_FromLong(*(const epicsUInt16 *)p);
    case DBR_LONG: return PyLong_FromLong(*(const epicsInt32 *)p);
    case DBR_ULONG: return PyLong_FromUnsignedLong(*(const epicsUInt32 *)p);
    case DBR_INT64: return PyLong_FromLongLong(*(const epicsInt64 *)p);
    case DBR_UINT64: return PyLong_FromUnsignedLongLong(*(const epicsUInt64 *)p);
    case DBR_FLOAT: return PyFloat_FromDouble(*(const epicsFloat32 *)p);
    case DBR_DOUBLE: return PyFloat_FromDouble(*(const epicsFloat64 *)p);
    default: return PyUnicode_DecodeUTF8(p, strnlen(p, MAX_STRING_SIZE), "surrogateescape");
    }
}

static PyObject *macroToPy(const pydevFieldValue *m)
{
    long size = dbValueSize(m->dbrType), k;
    if (m->asString)
        return PyUnicode_DecodeUTF8(m->buf, strnlen(m->buf, m->count), "surrogateescape");
    if (!m->asArray)
        return scalarToPy(m->dbrType, m->buf);
    if (m->dbrType != DBR_STRING && frombuffer != Py_None && !m->asList) {
        PyObject *bytes = PyByteArray_FromStringAndSize(m->buf, m->count * size);
        PyObject *array = bytes ? PyObject_CallFunction(frombuffer, "Os", bytes,
                                                        numpyType(m->dbrType)) : NULL;
        Py_XDECREF(bytes);
        return array;
    } else {
        PyObject *list = PyList_New(m->count);
        for (k = 0; list && k < m->count; k++) {
            PyObject *item = scalarToPy(m->dbrType, (const char *)m->buf + k * size);
            if (!item) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, k, item);
        }
        return list;
    }
}

/* ---- running a link -------------------------------------------------------------------- */

static void trace(const pydevPyCall *call, PyObject *result, const pydevResult *res,
                  double seconds)
{
    PyObject *text = result ? PyObject_Repr(result) : NULL;
    const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
    /* which words of the link are field macros (snippet.Usage.describe), set at compile */
    PyObject *words = PyObject_GetAttrString((PyObject *)call->code, "pydev_words");
    const char *w = words && PyUnicode_Check(words) ? PyUnicode_AsUTF8(words) : NULL;
    PyErr_Clear();
    printf("pydev: %s: @%s -> %.200s (%.1f us)%s%s%s\n", call->name, call->link,
           s ? s : res->msg, seconds * 1e6, w && *w ? " [" : "", w && *w ? w : "",
           w && *w ? "]" : "");
    Py_XDECREF(words);
    Py_XDECREF(text);
}

/* ---- awaiting: a link whose value is an awaitable ------------------------------------ */

/* A coroutine, an asyncio future, or anything with __await__. */
static int isAwaitable(PyObject *obj)
{
    PyAsyncMethods *am = Py_TYPE(obj)->tp_as_async;
    return am && am->am_await;
}

/* What the end of an awaiting run needs: the call (its pointers are the record's, alive for
 * as long as the record) and where the outcome goes. */
typedef struct awaiting {
    pydevPyCall call;
    pydevResult *res;
    double start;
    int finished;            /* done was called: a second call must not complete it again */
} awaiting;

static void freeAwaiting(PyObject *capsule)
{
    PyMem_RawFree(PyCapsule_GetPointer(capsule, "pydev.awaiting"));
}

/* pydevice.aio calls this on the loop's thread when the task ended: done(ok, value). */
static PyObject *awaitDone(PyObject *capsule, PyObject *const *args, Py_ssize_t nargs)
{
    awaiting *w = PyCapsule_GetPointer(capsule, "pydev.awaiting");
    const pydevPyCall *call;
    PyObject *value;
    int failed = 0;
    if (!w || nargs != 2)
        return PyErr_Format(PyExc_TypeError, "done(ok, value) called wrongly");
    if (w->finished)
        Py_RETURN_NONE;
    w->finished = 1;
    call = &w->call;
    value = args[1];
    if (PyObject_IsTrue(args[0]) != 1) {
        PyErr_SetObject((PyObject *)Py_TYPE(value), value);
        failRun(call, w->res);
        failed = 1;
    } else if (value == Py_None && call->isOutput) {
        w->res->kind = PYDEV_RESULT_NONE;
    } else if (convert(value, call->target, w->res)) {
        failRun(call, w->res);
        failed = 1;
    }
    if (call->stamp)
        epicsTimeGetCurrent(&w->res->time);
    if (call->trace)
        trace(call, failed ? NULL : value, w->res, pydevNow() - w->start);
    PyErr_Clear();
    call->done(call->doneArg, failed);
    Py_RETURN_NONE;
}

static PyMethodDef awaitDoneDef = {"done", (PyCFunction)(void (*)(void))awaitDone, METH_FASTCALL,
                                   "done(ok, value): the end of a record's awaitable"};

/* Hand the awaitable to the loop; 0, or -1 with an exception set (then done is not called). */
static int scheduleAwait(const pydevPyCall *call, PyObject *awaitable, pydevResult *res,
                         double start)
{
    awaiting *w = PyMem_RawCalloc(1, sizeof(*w));
    PyObject *capsule, *done, *timeout, *rc = NULL;
    if (!w) {
        PyErr_NoMemory();
        return -1;
    }
    w->call = *call;
    w->call.args = NULL;  /* the field macros were passed already */
    w->call.nargs = 0;
    w->res = res;
    w->start = start;
    if (!(capsule = PyCapsule_New(w, "pydev.awaiting", freeAwaiting))) {
        PyMem_RawFree(w);
        return -1;
    }
    done = PyCFunction_New(&awaitDoneDef, capsule);
    Py_DECREF(capsule);
    timeout = done ? PyFloat_FromDouble(call->timeout > 0 ? call->timeout : 0.0) : NULL;
    if (timeout)
        rc = PyObject_CallFunctionObjArgs(aioSchedule, awaitable, done, timeout, NULL);
    Py_XDECREF(timeout);
    Py_XDECREF(done);
    if (!rc)
        return -1;
    Py_DECREF(rc);
    return 0;
}

int pydevPyEnter(void)
{
    return (int)PyGILState_Ensure();
}

void pydevPyLeave(int state)
{
    PyGILState_Release((PyGILState_STATE)state);
}

int pydevPyRunEntered(const pydevPyCall *call, pydevResult *res, double *seconds)
{
    PyObject *args[16], **argv = args, *result = NULL;
    double start = pydevNow();
    int i, n = call->nargs, rc = 0;

    if (n > 16 && !(argv = PyMem_Malloc(n * sizeof(PyObject *))))
        n = -1;
    for (i = 0; i < n; i++)
        if (!(argv[i] = macroToPy(&call->args[i])))
            break;
    if (i == n)
        result = PyObject_Vectorcall((PyObject *)call->code, argv, n, NULL);
    while (--i >= 0)
        Py_DECREF(argv[i]);
    if (argv != args)
        PyMem_Free(argv);

    if (result && isAwaitable(result)) {
        if (call->done) {
            rc = scheduleAwait(call, result, res, start) ? -1 : PYDEV_PY_PENDING;
            *seconds = pydevNow() - start;
            Py_DECREF(result);
            if (rc < 0)
                failRun(call, res);
            return rc;
        }
        /* no one to tell later (an output's init code): wait for it here */
        Py_SETREF(result, PyObject_CallOneArg(aioRun, result));
    }
    if (!result || (!(result == Py_None && call->isOutput) && convert(result, call->target, res))) {
        failRun(call, res);
        rc = -1;
    } else if (result == Py_None) {
        res->kind = PYDEV_RESULT_NONE;
    }
    if (call->stamp)
        epicsTimeGetCurrent(&res->time);
    *seconds = pydevNow() - start;
    if (call->trace)
        trace(call, result, res, *seconds);
    Py_XDECREF(result);
    return rc;
}

int pydevPyRun(const pydevPyCall *call, pydevResult *res, double *seconds)
{
    int gil = pydevPyEnter();
    int rc = pydevPyRunEntered(call, res, seconds);
    pydevPyLeave(gil);
    return rc;
}

/* What a link and a CALC compile to alike, (function, macros, iointr, runs_field_code, ...):
 * the function and the names of the field values it takes.  0, or -1 (out of memory). */
static int takeLink(PyObject *link, pydevPyLink *out, char *err, size_t errlen)
{
    PyObject *macros = PyTuple_GET_ITEM(link, 1);
    int i;
    out->runsFieldCode = PyObject_IsTrue(PyTuple_GET_ITEM(link, 3)) == 1;
    out->nmacros = (int)PyTuple_GET_SIZE(macros);
    out->macros = calloc(out->nmacros ? out->nmacros : 1, sizeof(pydevFieldValue));
    for (i = 0; out->macros && i < out->nmacros; i++)
        strncpy(out->macros[i].name, PyUnicode_AsUTF8(PyTuple_GET_ITEM(macros, i)),
                sizeof(out->macros[i].name) - 1);
    if (!out->macros) {
        epicsSnprintf(err, errlen, "out of memory");
        return -1;
    }
    out->code = (pydevPyCode *)PyTuple_GET_ITEM(link, 0);
    Py_INCREF((PyObject *)out->code);
    return 0;
}

int pydevPyCompile(const char *recordName, const char *recordType, const char *linkText,
                   const char *const *fields, int nfields, pydevPyLink *out, char *err,
                   size_t errlen)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *names = PyFrozenSet_New(NULL), *link = NULL, *iointr;
    int i, rc = -1;

    for (i = 0; names && i < nfields; i++) {
        PyObject *name = PyUnicode_FromString(fields[i]);
        if (!name || PySet_Add(names, name)) {
            Py_XDECREF(name);
            Py_CLEAR(names);
        } else {
            Py_DECREF(name);
        }
    }
    if (names)
        link = PyObject_CallFunction(compileLink, "ssOOz", linkText, recordName, names, globals,
                                     recordType);
    if (!link) {
        PyObject *exc = takeException();
        if (exc) {
            if (PyErr_GivenExceptionMatches(exc, PyExc_SyntaxError))
                PyException_SetTraceback(exc, Py_None);  /* the caret says it all */
            printLinkException(recordName, linkText, ": the link cannot be used:", exc);
            describe(exc, err, errlen);
        } else {
            epicsSnprintf(err, errlen, "cannot compile the link");
        }
        Py_XDECREF(exc);
        goto done;
    }
    memset(out, 0, sizeof(*out));
    iointr = PyTuple_GET_ITEM(link, 2);
    {
        const char *words = PyUnicode_AsUTF8(PyTuple_GET_ITEM(link, 4));
        PyErr_Clear();
        out->words = words && *words ? strdup(words) : NULL;
    }
    if (iointr != Py_None) {
        const char *name = PyUnicode_AsUTF8(iointr);
        if (!name || strlen(name) >= sizeof(out->iointrName)) {
            PyErr_Clear();
            epicsSnprintf(err, errlen, "iointr name too long (at most %d characters)",
                          (int)sizeof(out->iointrName) - 1);
            goto done;
        }
        strcpy(out->iointrName, name);
    }
    rc = takeLink(link, out, err, errlen);
done:
    Py_XDECREF(link);
    Py_XDECREF(names);
    PyGILState_Release(gil);
    return rc;
}

void pydevPyRelease(pydevPyLink *link)
{
    PyObject *code = (PyObject *)link->code;
    PyGILState_STATE gil = PyGILState_Ensure();
    link->code = NULL;
    Py_XDECREF(code);
    PyGILState_Release(gil);
    free(link->macros);
    link->macros = NULL;
    link->nmacros = 0;
    free(link->words);
    link->words = NULL;
}

/* ---- the built-in module `pydev` -------------------------------------------------------- */

static pydevIointr *iointrByName(PyObject *name)
{
    PyObject *capsule = PyDict_GetItemWithError(iointrNames, name);
    pydevIointr *io;
    const char *text;
    if (capsule)
        return PyCapsule_GetPointer(capsule, NULL);
    if (PyErr_Occurred() || !(text = PyUnicode_AsUTF8(name)))
        return NULL;
    if (!(io = pydevIointrFind(text)))
        return (pydevIointr *)PyErr_NoMemory();
    if (!(capsule = PyCapsule_New(io, NULL, NULL)))
        return NULL;
    PyDict_SetItem(iointrNames, name, capsule);
    Py_DECREF(capsule);
    return io;
}

void pydevPyPrimeSlot(pydevIointrSlot *slot, const char *name)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *value = lastPushed ? PyDict_GetItemString(lastPushed, name) : NULL;
    if (value) {
        pydevIointr *io = pydevIointrOf(slot);
        epicsTimeStamp stamp = pydevIointrLastTime(io);
        Py_INCREF(value);
        pydevIointrStore(slot, convertPushed, value, &stamp, pydevIointrLastSeq(io));
        Py_DECREF(value);
    }
    PyErr_Clear();
    PyGILState_Release(gil);
}

static PyObject *pyIointr(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                          PyObject *kwnames)
{
    PyObject *argv[3] = {NULL, NULL, NULL}, *value;
    static const char *const keywords[3] = {"name", "value", "timestamp"};
    Py_ssize_t i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    epicsTimeStamp stamp;
    pydevIointr *io;
    (void)self;

    if (nargs > 3)
        return PyErr_Format(PyExc_TypeError, "iointr() takes at most 3 arguments");
    for (i = 0; i < nargs; i++)
        argv[i] = args[i];
    for (i = 0; i < nkw; i++) {
        const char *key = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));
        int k;
        for (k = 0; key && k < 3 && strcmp(key, keywords[k]) != 0; k++)
            ;
        if (!key || k == 3 || argv[k])
            return PyErr_Format(PyExc_TypeError, "iointr() got an unexpected or repeated "
                                "argument '%s'", key ? key : "?");
        argv[k] = args[nargs + i];
    }
    if (!argv[0] || !PyUnicode_Check(argv[0]))
        return PyErr_Format(PyExc_TypeError, "iointr() needs a str name");
    if (!argv[1])  /* registration: records find their name in their link at init */
        Py_RETURN_NONE;
    if (!(io = iointrByName(argv[0])))
        return NULL;
    if (argv[2] && argv[2] != Py_None) {
        double t = PyFloat_AsDouble(argv[2]), secs;
        if (t == -1.0 && PyErr_Occurred())
            return NULL;
        if (!(t >= POSIX_TIME_AT_EPICS_EPOCH) || t > 4e9 + POSIX_TIME_AT_EPICS_EPOCH)
            return PyErr_Format(PyExc_ValueError, "timestamp %f is not POSIX seconds after 1990", t);
        secs = floor(t);
        stamp.secPastEpoch = (epicsUInt32)(secs - POSIX_TIME_AT_EPICS_EPOCH);
        stamp.nsec = (epicsUInt32)((t - secs) * 1e9);
    } else {
        epicsTimeGetCurrent(&stamp);
    }
    value = argv[1];
    if (PyIter_Check(value) && !PyObject_CheckBuffer(value)) {
        /* a generator gives its items once: every record of the name gets the same list */
        if (!(value = PySequence_List(value)))
            return NULL;
    } else {
        Py_INCREF(value);
    }
    /* records attach only before the IOC runs: until then, remember the value for them */
    if (lastPushed && PyDict_SetItem(lastPushed, argv[0], value)) {
        Py_DECREF(value);
        return NULL;
    }
    pydevIointrPush(io, convertPushed, value, &stamp);
    Py_DECREF(value);
    Py_RETURN_NONE;
}

/* ---- pydev.get / pydev.put: fields of this IOC's records ------------------------------ */

/* The field called name, or NULL with LookupError (or RuntimeError before the IOC runs). */
static int findField(const char *what, const char *name, pydevFieldInfo *info)
{
    if (!pydevFieldsReady()) {
        PyErr_Format(PyExc_RuntimeError, "pydev.%s('%s'): the IOC is not running (records can "
                     "be read and written from iocInit on)", what, name);
        return -1;
    }
    if (pydevFieldFind(name, info)) {
        PyErr_Format(PyExc_LookupError, "pydev.%s('%s'): no such record or field in this IOC",
                     what, name);
        return -1;
    }
    return 0;
}

/* An EPICS status as an exception: a refused put (DISP) is a PermissionError, a value the
 * field cannot take a ValueError, anything else a RuntimeError; the text is EPICS'. */
static PyObject *fieldError(const char *what, const char *name, long status)
{
    char text[200];
    PyObject *type = PyExc_RuntimeError;
    pydevFieldStatusText(status, text, sizeof(text));
    if (status == S_db_putDisabled)
        type = PyExc_PermissionError;
    else if (status == S_db_badChoice || status == S_db_badField || status == S_db_badDbrtype ||
             (status & 0xFFFF0000L) == M_stdlib)
        type = PyExc_ValueError;
    return PyErr_Format(type, "pydev.%s('%s'): %s", what, name, text);
}

static PyObject *pyGet(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"name", "as_string", NULL};
    const char *name;
    int asString = 0;
    pydevFieldInfo info;
    pydevFieldValue value;
    long status;
    PyObject *result;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|p:get", keywords, &name, &asString) ||
        findField("get", name, &info))
        return NULL;
    memset(&value, 0, sizeof(value));
    value.dbrType = info.isText ? DBR_CHAR : asString ? DBR_STRING : info.dbrType;
    value.asString = info.isText;
    value.asArray = !info.isText && info.elements > 1;
    value.capacity = value.count = info.elements > 0 ? info.elements : 1;
    if (!(value.buf = PyMem_RawCalloc(value.capacity + 1, dbValueSize(value.dbrType))))
        return PyErr_NoMemory();
    /* never a record lock under the GIL (the IOC's lock order): every other Python thread
     * would wait for whoever holds the lock set, and anything that takes the GIL under a
     * record lock would deadlock with us */
    Py_BEGIN_ALLOW_THREADS
    status = pydevFieldGet(&info, value.dbrType, value.buf, &value.count);
    Py_END_ALLOW_THREADS
    result = status ? fieldError("get", name, status) : macroToPy(&value);
    PyMem_RawFree(value.buf);
    return result;
}

/* A Python value as a dbPutField request for the field of info: DBR type, elements, buffer
 * (PyMem_Raw, the caller frees it).  0, or -1 with an exception set. */
static int putRequest(PyObject *obj, const pydevFieldInfo *info, short *dbr, long *count,
                      void **buf)
{
    short field = info->addr.dbr_field_type;
    int chars = field == DBR_CHAR || field == DBR_UCHAR;
    Py_ssize_t n, k;
    PyObject *seq;
    *buf = NULL;
    if (PyBytes_Check(obj) || (PyUnicode_Check(obj) && chars && info->elements > 1)) {
        /* a char array: exactly the bytes, or a str as a C string (with its NUL) */
        const char *s;
        Py_ssize_t len;
        if (PyBytes_Check(obj)) {
            s = PyBytes_AS_STRING(obj);
            len = PyBytes_GET_SIZE(obj);
        } else if ((s = PyUnicode_AsUTF8AndSize(obj, &len)) != NULL) {
            len++;
        } else {
            return -1;
        }
        if (len > info->elements) {
            PyErr_Format(PyExc_ValueError, "%zd bytes do not fit %ld elements", len,
                         info->elements);
            return -1;
        }
        *dbr = DBR_CHAR;
        *count = (long)len;
        if (!(*buf = PyMem_RawCalloc(len + 1, 1)))
            return PyErr_NoMemory(), -1;
        memcpy(*buf, s, len);
        return 0;
    }
    if (PyUnicode_Check(obj) || !PySequence_Check(obj)) {  /* a scalar: one element */
        PyObject *one = PyTuple_Pack(1, obj);
        int rc = one ? putRequest(one, info, dbr, count, buf) : -1;
        Py_XDECREF(one);
        return rc;
    }
    if (!(seq = PySequence_Fast(obj, "a number, a str, bytes or a sequence of them is required")))
        return -1;
    n = PySequence_Fast_GET_SIZE(seq);
    if (n < 1 || n > info->elements) {
        PyErr_Format(PyExc_ValueError, "%zd elements do not fit %ld", n, info->elements);
        Py_DECREF(seq);
        return -1;
    }
    /* what EPICS converts from: a float field takes doubles, a string field strings; others
     * integers, or doubles if a float is given (EPICS converts), or strings (enum labels) */
    *dbr = field == DBR_FLOAT || field == DBR_DOUBLE ? DBR_DOUBLE
         : field == DBR_STRING ? DBR_STRING : DBR_INT64;
    for (k = 0; *dbr == DBR_INT64 && k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        if (PyUnicode_Check(item))
            *dbr = DBR_STRING;
        else if (PyFloat_Check(item))
            *dbr = DBR_DOUBLE;
    }
    *count = (long)n;
    if (!(*buf = PyMem_RawCalloc(n + 1, dbValueSize(*dbr)))) {
        Py_DECREF(seq);
        return PyErr_NoMemory(), -1;
    }
    for (k = 0; k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        int rc;
        if (*dbr == DBR_STRING) {
            epicsUInt32 used;
            rc = toString(item, (char *)*buf + k * MAX_STRING_SIZE, MAX_STRING_SIZE, &used);
        } else if (PyUnicode_Check(item) || PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "a number is required, not '%s'", Py_TYPE(item)->tp_name);
            rc = -1;
        } else if (*dbr == DBR_DOUBLE) {
            double d = PyFloat_AsDouble(item);
            rc = d == -1.0 && PyErr_Occurred() ? -1 : 0;
            ((epicsFloat64 *)*buf)[k] = d;
        } else {
            rc = toInt(item, &((epicsInt64 *)*buf)[k]);
        }
        if (rc) {
            Py_DECREF(seq);
            PyMem_RawFree(*buf);
            *buf = NULL;
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

static PyObject *pyPut(PyObject *self, PyObject *args)
{
    const char *name;
    PyObject *obj;
    pydevFieldInfo info;
    short dbr;
    long count, status;
    void *buf;
    (void)self;
    if (!PyArg_ParseTuple(args, "sO:put", &name, &obj) || findField("put", name, &info))
        return NULL;
    if (putRequest(obj, &info, &dbr, &count, &buf)) {
        PyObject *exc = takeException();
        char msg[200];
        describe(exc, msg, sizeof(msg));
        Py_XDECREF(exc);
        return PyErr_Format(PyExc_ValueError, "pydev.put('%s'): %s", name, msg);
    }
    /* no GIL while taking the record lock; a busy record (PACT) only gets RPRO */
    Py_BEGIN_ALLOW_THREADS
    status = pydevFieldPut(&info, dbr, buf, count);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(buf);
    if (status)
        return fieldError("put", name, status);
    Py_RETURN_NONE;
}

static PyMethodDef pydevMethods[] = {
    {"iointr", (PyCFunction)(void (*)(void))pyIointr, METH_FASTCALL | METH_KEYWORDS,
     "iointr(name, value=<none>, timestamp=None)\n\n"
     "As a record's whole link with SCAN \"I/O Intr\": register the record under name.\n"
     "With a value, from any thread: deliver it to every record registered under name\n"
     "(an Exception instance puts them in alarm). timestamp is POSIX seconds; records\n"
     "with TSE=-2 take it as their TIME."},
    {"get", (PyCFunction)(void (*)(void))pyGet, METH_VARARGS | METH_KEYWORDS,
     "get(name, as_string=False)\n\n"
     "The value of a field of a record in this IOC, \"REC.FIELD\" (\"REC\" is REC.VAL), read\n"
     "through the database with the record's lock, as a CA client would see it: int or float\n"
     "for numbers, int for an enum (its state string with as_string=True), str for strings,\n"
     "menus and links, a numpy array for arrays, str for \"REC.FIELD$\".  From iocInit on;\n"
     "LookupError for an unknown name."},
    {"put", (PyCFunction)(void (*)(void))pyPut, METH_VARARGS,
     "put(name, value)\n\n"
     "Write a field of a record in this IOC, \"REC.FIELD\", as dbpf does: a passive record\n"
     "processes when the field is process-passive; a busy one processes again when done.  A\n"
     "number, a str (an enum's state string too), bytes, or a sequence for an array.  No access\n"
     "security applies (the code runs inside the IOC).  From iocInit on; LookupError for an\n"
     "unknown name, PermissionError when the record refuses (DISP), ValueError for a value\n"
     "the field cannot take."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef pydevModuleDef = {
    PyModuleDef_HEAD_INIT, "pydev",
    "The IOC side of PyDevice: iointr(), get(), put() and Alarm. Outside an IOC, pydevice.standin.", -1,
    pydevMethods, NULL, NULL, NULL, NULL};

static PyObject *initPydevModule(void) { return PyModule_Create(&pydevModuleDef); }

/* ---- the interpreter ------------------------------------------------------------------ */

/* a new reference to module.name, or NULL with the exception set */
static PyObject *importAttr(const char *module, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module);
    PyObject *attr = mod ? PyObject_GetAttrString(mod, name) : NULL;
    Py_XDECREF(mod);
    return attr;
}

/* Once the IOC runs no record can attach any more: stop keeping pushed values for them. */
static void forgetPushes(initHookState state)
{
    PyGILState_STATE gil;
    if (state != initHookAfterIocRunning || !lastPushed)
        return;
    gil = PyGILState_Ensure();
    Py_CLEAR(lastPushed);
    PyGILState_Release(gil);
}

/* The event loop's thread, started before any pydev() line runs: pydev.loop. */
static int startLoop(void)
{
    PyObject *start = importAttr("pydevice.aio", "start");
    PyObject *loop = start ? PyObject_CallNoArgs(start) : NULL;
    int rc = loop ? PyModule_AddObjectRef(pydevModule, "loop", loop) : -1;
    Py_XDECREF(loop);
    Py_XDECREF(start);
    if (rc || !(aioSchedule = importAttr("pydevice.aio", "schedule")) ||
        !(aioRun = importAttr("pydevice.aio", "run")))
        return -1;
    return 0;
}

static int setupNamespace(int weStarted)
{
    PyObject *main, *snippet, *standin, *numpy;

    if (weStarted) {
        pydevModule = PyImport_ImportModule("pydev");  /* the built-in, from the inittab */
    } else if ((pydevModule = initPydevModule()) != NULL &&
               PyDict_SetItemString(PyImport_GetModuleDict(), "pydev", pydevModule)) {
        Py_CLEAR(pydevModule);
    }
    if (!pydevModule)
        return -1;
    if (!(main = PyImport_AddModule("__main__")) || !(globals = PyModule_GetDict(main)))
        return -1;
    Py_INCREF(globals);
    if (PyDict_SetItemString(globals, "pydev", pydevModule))
        return -1;
    /* a built-in, as in the original PyDevice: module code that never imports it can call
     * pydev.iointr(); `import pydev` gives the same module */
    {
        PyObject *builtins = PyImport_ImportModule("builtins");
        int rc = builtins ? PyObject_SetAttrString(builtins, "pydev", pydevModule) : -1;
        Py_XDECREF(builtins);
        if (rc)
            return -1;
    }
    if (!(snippet = PyImport_ImportModule("pydevice.snippet")) ||
        !(compileLink = PyObject_GetAttrString(snippet, "compile_link")))
        return -1;
    Py_DECREF(snippet);
    if (!(standin = PyImport_ImportModule("pydevice.standin")) ||
        !(alarmType = PyObject_GetAttrString(standin, "Alarm")))
        return -1;
    Py_DECREF(standin);
    PyObject *futures = PyImport_ImportModule("concurrent.futures");
    PyObject *aio = PyImport_ImportModule("asyncio");
    PyObject *ft = futures ? PyObject_GetAttrString(futures, "TimeoutError") : NULL;
    PyObject *at = aio ? PyObject_GetAttrString(aio, "TimeoutError") : NULL;
    futuresTimeout = ft && at ? PyTuple_Pack(2, ft, at) : NULL;
    Py_XDECREF(ft);
    Py_XDECREF(at);
    Py_XDECREF(futures);
    Py_XDECREF(aio);
    if (!futuresTimeout)
        return -1;
    if (PyModule_AddObjectRef(pydevModule, "Alarm", alarmType) ||
        PyModule_AddObjectRef(pydevModule, "in_ioc", Py_True))
        return -1;
    if (!(iointrNames = PyDict_New()) || !(lastPushed = PyDict_New()))
        return -1;
    if ((numpy = PyImport_ImportModule("numpy")) != NULL) {
        frombuffer = PyObject_GetAttrString(numpy, "frombuffer");
        Py_DECREF(numpy);
    }
    if (!frombuffer) {
        PyErr_Clear();
        frombuffer = Py_None;  /* arrays reach Python as lists */
    } else {
        nativeArray = importAttr("pydevice.arrays", "native");
    }
    if (!(formatException = importAttr("traceback", "format_exception")))
        return -1;
    if (startLoop())
        return -1;
    initHookRegister(forgetPushes);
    return 0;
}

static int addToPath(const char *dir)
{
    PyObject *path = PySys_GetObject("path"), *entry;
    int rc;
    if (!dir || !*dir || !path)
        return 0;
    if (!(entry = PyUnicode_DecodeFSDefault(dir)))
        return -1;
    rc = PySequence_Contains(path, entry) ? 0 : PyList_Insert(path, 0, entry);
    Py_DECREF(entry);
    return rc;
}

static char *startupDir;

void pydevPySetStartupDir(const char *dir)
{
    free(startupDir);
    startupDir = dir ? strdup(dir) : NULL;
}

/* PyDevice's own python/ directory, then in front of it the current directory and the
 * startup script's directory (so a module next to st.cmd is found first, as a script's
 * directory is for python itself; by convention an IOC runs in its st.cmd's directory). */
static int addPythonDir(void)
{
    const char *dir = pydevSettingText(PYDEV_SET_PYTHON_DIR);
    char cwd[1024], installed[1024];
    if (!dir || !*dir)
        dir = PYDEV_PYTHON_DIR;
    if (!*dir && pydevInstallPath("python", installed, sizeof(installed)) == 0)
        dir = installed;  /* a relocatable installation: PREFIX/python */
    if (addToPath(dir) || addToPath(getcwd(cwd, sizeof(cwd))))
        return -1;
    return addToPath(startupDir);
}

/* "X.Y" of the Python a virtualenv was made with (its pyvenv.cfg), or "" if unknown. */
static void venvVersion(const char *venv, char *out, size_t size)
{
    char path[1024], line[256];
    FILE *cfg;
    out[0] = '\0';
    epicsSnprintf(path, sizeof(path), "%s/pyvenv.cfg", venv);
    if (!(cfg = fopen(path, "r")))
        return;
    while (fgets(line, sizeof(line), cfg)) {
        int major, minor;
        if ((sscanf(line, "version = %d.%d", &major, &minor) == 2 ||
             sscanf(line, "version_info = %d.%d", &major, &minor) == 2)) {
            epicsSnprintf(out, size, "%d.%d", major, minor);
            break;
        }
    }
    fclose(cfg);
}

/* The interpreter of a virtualenv: PYDEV_VENV, else VIRTUAL_ENV, else the build's .venv.
 * A venv of another Python version cannot serve this interpreter: PYDEV_VENV naming one is
 * an error (-1); an activated one is passed over, saying so. */
static int chooseInterpreter(PyConfig *config)
{
    const char *venv = pydevSettingText(PYDEV_SET_VENV), *active = getenv("VIRTUAL_ENV");
    const char *from = "PYDEV_VENV";
    char exe[1024], version[32], installed[1024];
    if (!venv || !*venv) {
        venv = active;
        from = "VIRTUAL_ENV";
    }
    if (venv && *venv) {
        venvVersion(venv, version, sizeof(version));
        if (*version && strcmp(version, PY_MAJOR_MINOR) != 0) {
            errlogPrintf("pydev: %s=%s is a Python %s virtualenv, but this IOC embeds Python %s\n",
                         from, venv, version, PY_MAJOR_MINOR);
            if (strcmp(from, "PYDEV_VENV") == 0)
                return -1;
            errlogPrintf("pydev: not using it (deactivate it, or set PYDEV_VENV to a Python %s "
                         "virtualenv)\n", PY_MAJOR_MINOR);
            venv = NULL;
        }
    }
    if (!venv || !*venv)
        venv = PYDEV_DEFAULT_VENV;
    if (!*venv && pydevInstallPath("venv", installed, sizeof(installed)) == 0)
        venv = installed;  /* a relocatable installation: PREFIX/venv */
    if (!*venv)
        return 0;
    epicsSnprintf(exe, sizeof(exe), "%s/bin/python3", venv);
    if (access(exe, X_OK) != 0) {
        errlogPrintf("pydev: no Python interpreter at %s, using the built-in one\n", exe);
        return 0;
    }
    PyConfig_SetBytesString(config, &config->executable, exe);
    return 0;
}

static int initStatus = -1;

/* sys's attribute name as text, "?" if it has none (the GIL held). */
static const char *sysText(const char *name)
{
    PyObject *value = PySys_GetObject(name);  /* borrowed */
    const char *text = value && PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
    if (!text)
        PyErr_Clear();
    return text && *text ? text : "?";
}

/* Which Python runs the links, and from which virtualenv (the GIL held): a user whose
 * packages were installed for another Python sees it at once (issue #23). */
static void describeHeld(char *out, size_t size)
{
    const char *version = Py_GetVersion(), *prefix = sysText("prefix");
    const char *base = sysText("base_prefix"), *space = strchr(version, ' ');
    int n = epicsSnprintf(out, size, "Python %.*s (%s), executable %s, prefix %s, ",
                          space ? (int)(space - version) : (int)strlen(version), version,
                          startedHere ? "embedded" : "the host process'", sysText("executable"),
                          base);
    if (n < 0 || (size_t)n >= size)
        return;
    epicsSnprintf(out + n, size - n, strcmp(prefix, base) ? "virtualenv %s" : "no virtualenv%s",
                  strcmp(prefix, base) ? prefix : "");
}

void pydevPyDescribe(char *out, size_t size)
{
    PyGILState_STATE gil;
    if (pydevPyInit()) {
        epicsSnprintf(out, size, "Python %s: not started", PY_MAJOR_MINOR);
        return;
    }
    gil = PyGILState_Ensure();
    describeHeld(out, size);
    PyGILState_Release(gil);
}

static void initOnce(void *unused)
{
    PyGILState_STATE gil;
    int weStarted = !Py_IsInitialized();
    (void)unused;

    if (weStarted) {
        PyConfig config;
        PyStatus status;
        PyImport_AppendInittab("pydev", initPydevModule);
        PyConfig_InitPythonConfig(&config);
        config.install_signal_handlers = 0;  /* ^C belongs to the IOC shell */
        config.parse_argv = 0;
        config.buffered_stdio = 0;  /* print() interleaves with the IOC console */
        if (chooseInterpreter(&config)) {
            PyConfig_Clear(&config);
            return;
        }
        status = Py_InitializeFromConfig(&config);
        PyConfig_Clear(&config);
        if (PyStatus_Exception(status)) {
            errlogPrintf("pydev: cannot start Python: %s\n", status.err_msg ? status.err_msg : "?");
            return;
        }
        gil = PyGILState_UNLOCKED;
    } else {
        gil = PyGILState_Ensure();
    }
    if (addPythonDir() || setupNamespace(weStarted)) {
        errlogPrintf("pydev: cannot set up the Python namespace:\n");
        PyErr_Print();
    } else {
        char about[1024];
        initStatus = 0;
        startedHere = weStarted;
        describeHeld(about, sizeof(about));
        printf("PyDevice: %s\n", about);
    }
    if (weStarted) {
        startedHere = 1;  /* a host interpreter runs its own exit handlers at its exit */
        PyEval_SaveThread();
    } else {
        PyGILState_Release(gil);
    }
}

int pydevPyInit(void)
{
    static epicsThreadOnceId once = EPICS_THREAD_ONCE_INIT;
    epicsThreadOnce(&once, initOnce, NULL);
    return initStatus;
}

void pydevPyThreadInit(void)
{
    PyGILState_Ensure();  /* this thread keeps its Python thread state for good */
    PyEval_SaveThread();
}

static void flushStdio(void)
{
    static const char *const names[] = {"stdout", "stderr"};
    int i;
    for (i = 0; i < 2; i++) {
        PyObject *stream = PySys_GetObject(names[i]);  /* borrowed */
        PyObject *rc = stream && stream != Py_None ? PyObject_CallMethod(stream, "flush", NULL) : NULL;
        Py_XDECREF(rc);
    }
    PyErr_Clear();
}

/* The process exit status a SystemExit asks for, as Python itself computes it. */
static int exitStatus(PyObject *exc)
{
    PyObject *code = PyObject_GetAttrString(exc, "code");
    int status = 1;
    if (!code || code == Py_None) {
        status = 0;
    } else if (PyLong_Check(code)) {
        status = (int)PyLong_AsLong(code);
    } else {
        PyObject *text = PyObject_Str(code);
        const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
        if (s)
            fprintf(stderr, "%s\n", s);
        Py_XDECREF(text);
    }
    PyErr_Clear();
    Py_XDECREF(code);
    return status;
}

/* The end of an iocsh command that ran Python (the GIL held, result NULL on an exception):
 * an exception prints and fails the command, SystemExit ends the IOC like `exit`. */
static int finishCommand(PyObject *result, PyGILState_STATE gil, int quotingHint)
{
    int exiting = 0, status = 0, rc = result ? 0 : -1;
    if (!result) {
        /* never PyErr_Print: on SystemExit it ends the process behind the IOC's back */
        PyObject *exc = takeException();
        if (exc && PyErr_GivenExceptionMatches(exc, PyExc_SystemExit)) {
            exiting = 1;
            status = exitStatus(exc);
        } else if (exc) {
            printException(NULL, exc);
            if (quotingHint && (PyErr_GivenExceptionMatches(exc, PyExc_NameError) ||
                                PyErr_GivenExceptionMatches(exc, PyExc_SyntaxError)))
                errlogPrintf("pydev: (iocsh ends a quoted argument at the next \"; inside the code, "
                             "use single quotes: pydev(\"print('hi')\"))\n");
        }
        Py_XDECREF(exc);
    }
    Py_XDECREF(result);
    flushStdio();
    PyGILState_Release(gil);
    if (exiting) {
        /* an explicit request from Python to end the IOC: the same orderly exit as `exit` */
        printf("pydev: SystemExit(%d): the IOC exits\n", status);
        epicsExit(status);
    }
    return rc;
}

int pydevPyExec(const char *code)
{
    PyGILState_STATE gil;
    PyObject *compiled, *result = NULL;
    if (pydevPyInit())
        return -1;
    PyCompilerFlags flags = {PyCF_ALLOW_TOP_LEVEL_AWAIT, PY_MINOR_VERSION};
    gil = PyGILState_Ensure();
    compiled = Py_CompileStringFlags(code, "<pydev>", Py_single_input, &flags);
    if (!compiled && PyErr_ExceptionMatches(PyExc_SyntaxError)) {
        PyErr_Clear();
        compiled = Py_CompileStringFlags(code, "<pydev>", Py_file_input, &flags);
    }
    if (compiled)
        result = PyEval_EvalCode(compiled, globals, globals);
    Py_XDECREF(compiled);
    if (result && PyCoro_CheckExact(result))  /* top-level await: it runs on the event loop */
        Py_SETREF(result, PyObject_CallOneArg(aioRun, result));
    return finishCommand(result, gil, 1);
}

int pydevPyRunFile(const char *path)
{
    PyGILState_STATE gil;
    PyObject *run, *file, *result = NULL;
    if (pydevPyInit())
        return -1;
    gil = PyGILState_Ensure();
    run = importAttr("pydevice.startup", "run_file");
    file = run ? PyUnicode_DecodeFSDefault(path) : NULL;
    if (file)
        result = PyObject_CallFunctionObjArgs(run, file, globals, NULL);
    Py_XDECREF(file);
    Py_XDECREF(run);
    return finishCommand(result, gil, 0);
}

static epicsEventId exitDone;

/* aio.cancel_all or aio.shutdown, waiting at most `wait` seconds */
static void loopStep(const char *what, double wait)
{
    PyObject *fn = importAttr("pydevice.aio", what);
    PyObject *rc = fn ? PyObject_CallFunction(fn, "d", wait) : NULL;
    if (!rc) {
        PyObject *exc = takeException();
        if (exc)
            printException("pydev: stopping the event loop failed:", exc);
        Py_XDECREF(exc);
    }
    Py_XDECREF(rc);
    Py_XDECREF(fn);
}

static double exitTimeout;

/* Tasks are cancelled first (a device call they wait in gives way), the exit handlers run
 * with the loop still there (they may await a safe-state write on it), then it stops. */
static void runExitFunctions(void *unused)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *run, *rc;
    (void)unused;
    loopStep("cancel_all", exitTimeout / 5);
    run = importAttr("atexit", "_run_exitfuncs");
    rc = run ? PyObject_CallObject(run, NULL) : NULL;
    if (!rc) {
        PyObject *exc = takeException();
        if (exc && !PyErr_GivenExceptionMatches(exc, PyExc_SystemExit))
            printException("pydev: Python exit handlers failed:", exc);
        Py_XDECREF(exc);
    }
    Py_XDECREF(rc);
    Py_XDECREF(run);
    loopStep("shutdown", exitTimeout / 5);
    flushStdio();
    PyGILState_Release(gil);
    epicsEventMustTrigger(exitDone);
}

void pydevPyAtExit(double timeout)
{
    if (initStatus || !startedHere || !Py_IsInitialized())
        return;
    /* In a thread of its own: Python code that holds the GIL in C (a long computation, an
     * endless C loop) must not hold up the end of the IOC for longer than timeout. */
    exitDone = epicsEventMustCreate(epicsEventEmpty);
    exitTimeout = timeout;
    if (!epicsThreadCreate("pydevExit", epicsThreadPriorityHigh,
                           epicsThreadGetStackSize(epicsThreadStackBig), runExitFunctions, NULL)) {
        fprintf(stderr, "pydev: cannot start a thread for the Python exit handlers\n");
        return;
    }
    if (epicsEventWaitWithTimeout(exitDone, timeout) != epicsEventWaitOK) {
        fprintf(stderr, "pydev: Python exit handlers did not finish within %g s (Python code "
                "holds the interpreter lock); outputs they set may not be in their safe state\n",
                timeout);
        fflush(stderr);
    }
}

/* ---- the pycalc record's CALC ------------------------------------------------------------ */

int pydevPyCompileCalc(const char *recordName, const char *calc, unsigned long limit,
                       pydevPyLink *out, char *err, size_t errlen)
{
    static PyObject *compileCalc;  /* pydevice.pycalc.compile_calc, imported at first use */
    PyGILState_STATE gil;
    PyObject *link = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (initStatus) {
        epicsSnprintf(err, errlen, "Python is not running");
        return -1;
    }
    gil = PyGILState_Ensure();
    if (compileCalc || (compileCalc = importAttr("pydevice.pycalc", "compile_calc")))
        link = PyObject_CallFunction(compileCalc, "ssOk", calc, recordName, globals, limit);
    if (!link) {
        PyObject *exc = takeException();
        size_t size = strlen(recordName) + strlen(calc) + 48;
        char *header = malloc(size);
        if (exc && PyErr_GivenExceptionMatches(exc, PyExc_SyntaxError))
            PyException_SetTraceback(exc, Py_None);  /* the caret says it all */
        if (header)
            epicsSnprintf(header, size, "pycalc: %s: CALC cannot be compiled: %s", recordName,
                          calc);
        if (exc) {
            printException(header, exc);
            describe(exc, err, errlen);
        } else {
            epicsSnprintf(err, errlen, "cannot compile CALC");
        }
        free(header);
        Py_XDECREF(exc);
        goto done;
    }
    rc = takeLink(link, out, err, errlen);
done:
    Py_XDECREF(link);
    PyGILState_Release(gil);
    return rc;
}
