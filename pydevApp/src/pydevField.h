/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevField.h - fields of this IOC's records by name ("REC.FIELD"), through dbAccess.
 *
 * The bottom layer beside values: EPICS only.  Get and put take the record's lock (dbGetField,
 * dbPutField), so a caller that holds the GIL must release it around them.  Internal: not
 * installed.
 */
#ifndef INC_pydevField_H
#define INC_pydevField_H

#include <stddef.h>

#include <dbAddr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a field reads naturally (as a field macro does): its own DBR type for numbers and
 * enums, DBR_STRING for strings, menus, links and device names; a "$" name is a string. */
typedef struct pydevFieldInfo {
    DBADDR addr;
    short dbrType;
    long elements;          /* no_elements: > 1 for arrays */
    int isText;             /* a char array holding a string (FIELD$, lsi/lso VAL) */
} pydevFieldInfo;

/* 0, or -1: no such record or field (nothing locked) */
int  pydevFieldFind(const char *name, pydevFieldInfo *info);
/* whether the records can be read and written now: the IOC runs (after iocInit) */
int  pydevFieldsReady(void);
/* dbGetField (the record's lock): count in = buffer elements, out = elements read; status */
long pydevFieldGet(pydevFieldInfo *info, short dbrType, void *buf, long *count);
/* dbPutField (the record's lock; processes a passive record, or sets RPRO if it is busy) */
long pydevFieldPut(pydevFieldInfo *info, short dbrType, const void *buf, long count);
/* the text of an EPICS status code */
void pydevFieldStatusText(long status, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevField_H */
