/* SPDX-License-Identifier: BSD-3-Clause */
/* PyDevice's PYDEV_* environment settings: one table, read and checked in one place. */
#ifndef PYDEVSETTINGS_H
#define PYDEVSETTINGS_H

typedef enum {
    PYDEV_SET_NUM_THREADS,
    PYDEV_SET_MAX_THREADS,
    PYDEV_SET_TIMEOUT,
    PYDEV_SET_EXIT_TIMEOUT,
    PYDEV_SET_STACK_SIZE,
    PYDEV_SET_PRIORITY,
    PYDEV_SET_DBD,
    PYDEV_SET_PYTHON_DIR,
    PYDEV_SET_VENV,
    PYDEV_SET_COUNT
} pydevSettingId;

/* A numeric setting, read now (st.cmd's epicsEnvSet counts until the moment of reading).
 * 0 and the value in *value; 1 if it is unset or not valid and the setting has no fixed
 * default (*value untouched: the caller's own default).  A value out of its range or not a
 * number prints one message naming it and its range, and the default is used. */
int pydevSettingNumber(pydevSettingId id, double *value);

/* A text setting (a path), read now: NULL when unset or empty. */
const char *pydevSettingText(pydevSettingId id);

/* Every setting, its value and where it came from (pydevReport 1). */
void pydevSettingsReport(void);

#endif
