/* SPDX-License-Identifier: BSD-3-Clause */
/* The PYDEV_* settings as EPICS' ENV_PARAMs (envGetConfigParamPtr: unset or empty gives the
 * default), each checked against its range here, so that a typo never silently becomes 0
 * threads or no exit bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envDefs.h>
#include <epicsMutex.h>
#include <epicsThread.h>
#include <errlog.h>

#include "pydevSettings.h"

typedef enum { KIND_COUNT, KIND_SECONDS, KIND_SIZE, KIND_PRIORITY, KIND_PATH } kind;

typedef struct {
    ENV_PARAM param;      /* name, and the default's text (NULL: the caller's own) */
    kind kind;
    double low, high;     /* the allowed range, both ends included */
    const char *what;     /* what a value is, for the message: "a count of threads" */
    const char *dflt;     /* the default, for people (pydevReport) */
} setting;

/* The order of pydevSettingId.  The workers' priority range is EPICS' (0..99). */
static setting settings[PYDEV_SET_COUNT] = {
    {{"PYDEV_NUM_THREADS", "3"}, KIND_COUNT, 1, 1000, "a count of threads", "3"},
    {{"PYDEV_MAX_THREADS", NULL}, KIND_COUNT, 1, 10000, "a count of threads",
     "4 x PYDEV_NUM_THREADS"},
    {{"PYDEV_TIMEOUT", "0"}, KIND_SECONDS, 0, 1e9, "a number of seconds", "0 (no limit)"},
    {{"PYDEV_EXIT_TIMEOUT", "5"}, KIND_SECONDS, 0.001, 1e9, "a number of seconds", "5"},
    {{"PYDEV_STACK_SIZE", NULL}, KIND_SIZE, 64 * 1024, 4e9, "a size (k, M)",
     "the pthread default, at least 8M"},
    {{"PYDEV_PRIORITY", "11"}, KIND_PRIORITY, epicsThreadPriorityMin, epicsThreadPriorityMax,
     "an EPICS priority", "11"},
    {{"PYDEV_DBD", NULL}, KIND_PATH, 0, 0, "a path", "the build's dbd/pydevIoc.dbd"},
    {{"PYDEV_PYTHON_DIR", NULL}, KIND_PATH, 0, 0, "a path", "the build's python/"},
    {{"PYDEV_VENV", NULL}, KIND_PATH, 0, 0, "a path", "VIRTUAL_ENV, else the build's .venv"},
};

static epicsThreadOnceId once = EPICS_THREAD_ONCE_INIT;
static epicsMutexId lock;
static char warned[PYDEV_SET_COUNT][128];  /* the bad value each last warned about */

static void makeLock(void *unused)
{
    (void)unused;
    lock = epicsMutexMustCreate();
}

/* The number in text, whole and inside the setting's range: 0, else -1. */
static int parse(const setting *s, const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text)
        return -1;
    if (s->kind == KIND_SIZE && (*end == 'k' || *end == 'K'))
        v *= 1024, end++;
    else if (s->kind == KIND_SIZE && (*end == 'm' || *end == 'M'))
        v *= 1024 * 1024, end++;
    else if (s->kind == KIND_SIZE && (*end == 'g' || *end == 'G'))
        v *= 1024.0 * 1024 * 1024, end++;
    if (*end || !(v >= s->low && v <= s->high))  /* NaN too */
        return -1;
    if ((s->kind == KIND_COUNT || s->kind == KIND_PRIORITY) && v != (double)(long long)v)
        return -1;
    *out = v;
    return 0;
}

/* Once per bad value (a time limit is read for each record). */
static void warn(pydevSettingId id, const char *text)
{
    const setting *s = &settings[id];
    int first;
    epicsThreadOnce(&once, makeLock, NULL);
    epicsMutexMustLock(lock);
    first = strncmp(warned[id], text, sizeof(warned[id]) - 1) != 0;
    if (first)
        snprintf(warned[id], sizeof(warned[id]), "%s", text);
    epicsMutexUnlock(lock);
    if (first)
        errlogPrintf("pydev: %s=%s is not %s from %g to %g; using %s\n", s->param.name, text,
                     s->what, s->low, s->high, s->param.pdflt ? s->param.pdflt : "the default");
}

int pydevSettingNumber(pydevSettingId id, double *value)
{
    const setting *s = &settings[id];
    const char *text = envGetConfigParamPtr(&s->param);
    if (text && parse(s, text, value) == 0)
        return 0;
    if (text)
        warn(id, text);
    return s->param.pdflt && parse(s, s->param.pdflt, value) == 0 ? 0 : 1;
}

const char *pydevSettingText(pydevSettingId id)
{
    return envGetConfigParamPtr(&settings[id].param);
}

void pydevSettingsReport(void)
{
    int i;
    printf("pydev settings:\n");
    for (i = 0; i < PYDEV_SET_COUNT; i++) {
        const setting *s = &settings[i];
        const char *env = getenv(s->param.name);
        double v;
        if (!env || !*env)
            printf("  %-20s %s (default)\n", s->param.name, s->dflt);
        else if (s->kind != KIND_PATH && parse(s, env, &v) != 0)
            printf("  %-20s %s (environment, not valid: %s used)\n", s->param.name, env, s->dflt);
        else
            printf("  %-20s %s (environment)\n", s->param.name, env);
    }
}
