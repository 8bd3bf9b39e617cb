/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevField.c - fields of this IOC's records by name, for pydev.get() and pydev.put(). */
#include <string.h>

#include <dbAccess.h>
#include <dbStaticLib.h>
#include <epicsStdio.h>
#include <epicsStdlib.h>
#include <errMdef.h>
#include <errlog.h>

#include "pydevField.h"

int pydevFieldFind(const char *name, pydevFieldInfo *info)
{
    short type;
    memset(info, 0, sizeof(*info));
    if (!pdbbase || dbNameToAddr(name, &info->addr))
        return -1;
    type = info->addr.field_type;  /* a "$" name: DBF_CHAR, whatever the field is */
    info->elements = info->addr.no_elements;
    info->isText = type == DBF_CHAR && strchr(name, '$') != NULL;
    /* as field macros read them: menus, like strings and links, as their text */
    info->dbrType = type <= DBF_ENUM ? type : DBR_STRING;
    return 0;
}

int pydevFieldsReady(void) { return interruptAccept; }

long pydevFieldGet(pydevFieldInfo *info, short dbrType, void *buf, long *count)
{
    return dbGetField(&info->addr, dbrType, buf, NULL, count, NULL);
}

long pydevFieldPut(pydevFieldInfo *info, short dbrType, const void *buf, long count)
{
    return dbPutField(&info->addr, dbrType, buf, count);
}

/* The texts of dbAccessDefs.h and epicsStdlib.h for the statuses a get or put gives: the
 * EPICS error symbol table is not always built in (epicscorelibs has none). */
static const struct {
    long status;
    const char *text;
} statusTexts[] = {
    {S_db_notFound, "Process Variable Not Found"},
    {S_db_badDbrtype, "Illegal Database Request Type"},
    {S_db_noMod, "Attempt to modify noMod field"},
    {S_db_onlyOne, "Only one element allowed"},
    {S_db_badChoice, "Illegal choice"},
    {S_db_badField, "Illegal field value"},
    {S_db_putDisabled, "putFields are disabled (DISP is 1)"},
    {S_db_errArg, "Error in argument"},
    {S_db_noMemory, "unable to allocate data structure from pool"},
    {S_db_notInit, "Not initialized"},
    {S_stdlib_noConversion, "No digits to convert"},
    {S_stdlib_extraneous, "Extraneous characters"},
    {S_stdlib_underflow, "Too small to represent"},
    {S_stdlib_overflow, "Too large to represent"},
};

void pydevFieldStatusText(long status, char *buf, size_t size)
{
    char text[256];
    size_t i;
    for (i = 0; i < sizeof(statusTexts) / sizeof(statusTexts[0]); i++) {
        if (statusTexts[i].status == status) {
            epicsSnprintf(buf, size, "%s", statusTexts[i].text);
            return;
        }
    }
    errSymLookup(status, text, sizeof(text));
    epicsSnprintf(buf, size, "%s", text);
}
