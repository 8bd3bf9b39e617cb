/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevAutosave.c - setpoints that survive a restart and a power cut.
 *
 * The embedded build has no autosave module, so this is a small one with autosave's own
 * conventions: fields named by info(autosaveFields, "VAL ...") (or autosaveFields_pass0) are
 * restored before records initialise and saved in autosave's .sav format.  A site can switch
 * to real autosave without touching its databases.
 *
 *   pydevAutosave("/var/lib/ioc", "tank", 30)     before iocInit: directory, name, period (s)
 *
 * Saving: a thread compares the tagged fields every 0.2 s and writes the file within that
 * time of a change, and every period seconds in any case.  A write goes to NAME.sav.tmp,
 * which is fsynced; then NAME.sav is linked as NAME.sav.bak and the new file renamed over
 * NAME.sav, and the directory is fsynced.  Whatever moment power fails, NAME.sav or
 * NAME.sav.bak is whole.
 * Restoring: a file is used only if it ends with "<END>"; otherwise the console says why and
 * the backup is used.  EPICS only: no Python here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dbAccess.h>
#include <dbStaticLib.h>
#include <epicsExport.h>
#include <epicsStdio.h>
#include <epicsString.h>
#include <epicsThread.h>
#include <epicsTime.h>
#include <errlog.h>
#include <initHooks.h>
#include <iocsh.h>

#define VALUE_SIZE MAX_STRING_SIZE

typedef struct savedField {
    char name[PVNAME_STRINGSZ + 8];  /* REC.FIELD */
    DBADDR addr;
    char last[VALUE_SIZE];
} savedField;

static struct {
    char *dir, *name;
    double period;
    savedField *fields;
    int count;
    unsigned long writes, failures;
    char lastError[128];
    epicsTimeStamp lastWrite;
} config;

static void pathOf(char *out, size_t size, const char *suffix)
{
    epicsSnprintf(out, size, "%s/%s.sav%s", config.dir, config.name, suffix);
}

/* ---- restoring ------------------------------------------------------------------------ */

/* A "REC.FIELD value" line, a comment, a blank line or the end marker. */
static int lineIsWellFormed(const char *line)
{
    const char *value = strchr(line, ' '), *dot = strchr(line, '.');
    if (*line == '#' || *line == '\0' || strcmp(line, "<END>") == 0)
        return 1;
    return value && dot && dot < value && dot > line;
}

/* Why the file at path cannot be used, or NULL if it is whole.  A bad line makes the whole
 * file suspect (a torn write or a damaged disk block), so the backup is preferred. */
static const char *checkFile(const char *path, char *why, size_t size)
{
    FILE *f = fopen(path, "r");
    char line[512], last[512] = "";
    int number = 0, bad = 0;
    int c;
    if (!f)
        return errno == ENOENT ? "missing" : "unreadable";
    /* a power cut can leave blocks of zeros in a file; fgets would see them as short lines */
    while ((c = fgetc(f)) != EOF && c != '\0')
        ;
    if (c == '\0') {
        fclose(f);
        return "corrupt (it holds NUL bytes)";
    }
    rewind(f);
    while (fgets(line, sizeof(line), f)) {
        number++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!bad && !lineIsWellFormed(line))
            bad = number;
        if (*line)
            strcpy(last, line);
    }
    fclose(f);
    if (strcmp(last, "<END>") != 0)
        return "incomplete or corrupt (no <END> at its end)";
    if (!bad)
        return NULL;
    epicsSnprintf(why, size, "corrupt (line %d is not \"RECORD.FIELD value\")", bad);
    return why;
}

/* 1: restored; 0: nothing to restore on this line (or skipped, saying why); -1: malformed */
static int restoreLine(DBENTRY *entry, char *line, const char *path, int number)
{
    char *value = strchr(line, ' ');
    char *dot = strchr(line, '.');
    if (*line == '#' || *line == '\0' || strcmp(line, "<END>") == 0)
        return 0;
    if (!lineIsWellFormed(line)) {
        errlogPrintf("pydevAutosave: %s line %d: not \"RECORD.FIELD value\": %s\n", path, number, line);
        return -1;
    }
    *value++ = '\0';
    *dot = '\0';
    if (dbFindRecord(entry, line) || dbFindField(entry, dot + 1)) {
        errlogPrintf("pydevAutosave: %s line %d: no field %s.%s in this IOC (skipped)\n", path,
                     number, line, dot + 1);
        return 0;
    }
    if (dbPutString(entry, value)) {
        errlogPrintf("pydevAutosave: %s line %d: %s.%s cannot take \"%s\" (skipped)\n", path,
                     number, line, dot + 1, value);
        return 0;
    }
    return 1;
}

static int restoreFrom(const char *path)
{
    DBENTRY entry;
    FILE *f = fopen(path, "r");
    char line[512];
    int number = 0, restored = 0;
    if (!f)
        return -1;
    dbInitEntry(pdbbase, &entry);
    while (fgets(line, sizeof(line), f)) {
        number++;
        line[strcspn(line, "\r\n")] = '\0';
        if (restoreLine(&entry, line, path, number) == 1)
            restored++;
    }
    dbFinishEntry(&entry);
    fclose(f);
    printf("pydevAutosave: restored %d values from %s\n", restored, path);
    return 0;
}

/* Pass 0, before records initialise: outputs come up at their saved values. */
static void restore(void)
{
    char savPath[1024], backup[1024], reason[128];
    const char *why;
    pathOf(savPath, sizeof(savPath), "");
    pathOf(backup, sizeof(backup), ".bak");
    if (!(why = checkFile(savPath, reason, sizeof(reason)))) {
        restoreFrom(savPath);
        return;
    }
    if (strcmp(why, "missing") != 0 || access(backup, F_OK) == 0)
        errlogPrintf("pydevAutosave: %s is %s: using the backup %s\n", savPath, why, backup);
    if (!(why = checkFile(backup, reason, sizeof(reason))))
        restoreFrom(backup);
    else if (strcmp(why, "missing") != 0)
        errlogPrintf("pydevAutosave: the backup %s is %s too: nothing restored\n", backup, why);
    else
        printf("pydevAutosave: no %s yet: the records start from their database values\n", savPath);
}

/* ---- saving -------------------------------------------------------------------------- */

static void collectFields(void)
{
    DBENTRY entry;
    long status;
    int capacity = 0;
    dbInitEntry(pdbbase, &entry);
    for (status = dbFirstRecordType(&entry); !status; status = dbNextRecordType(&entry)) {
        for (status = dbFirstRecord(&entry); !status; status = dbNextRecord(&entry)) {
            static const char *const tags[] = {"autosaveFields", "autosaveFields_pass0"};
            int t;
            for (t = 0; t < 2; t++) {
                char *list, *word, *save;
                if (dbFindInfo(&entry, tags[t]) != 0)
                    continue;
                list = epicsStrDup(dbGetInfoString(&entry));
                for (word = epicsStrtok_r(list, " \t,", &save); word;
                     word = epicsStrtok_r(NULL, " \t,", &save)) {
                    savedField *f;
                    if (config.count == capacity) {
                        capacity = capacity ? 2 * capacity : 16;
                        config.fields = realloc(config.fields, capacity * sizeof(savedField));
                    }
                    f = &config.fields[config.count];
                    epicsSnprintf(f->name, sizeof(f->name), "%s.%s", dbGetRecordName(&entry), word);
                    if (dbNameToAddr(f->name, &f->addr) == 0) {
                        f->last[0] = '\0';
                        config.count++;
                    } else {
                        errlogPrintf("pydevAutosave: %s: no such field (in info %s)\n", f->name, tags[t]);
                    }
                }
                free(list);
            }
        }
    }
    dbFinishEntry(&entry);
}

/* A field's value as text that restores to the same value.  Floating-point fields are not
 * read as DBR_STRING: that conversion rounds to the record's PREC, and a setpoint of 12.3456
 * with PREC 1 would come back as 12.3. */
static long readField(DBADDR *addr, char *out)
{
    long n = 1, status;
    double value;
    if (addr->field_type != DBF_DOUBLE && addr->field_type != DBF_FLOAT)
        return dbGetField(addr, DBR_STRING, out, NULL, &n, NULL) || n < 1;
    status = dbGetField(addr, DBR_DOUBLE, &value, NULL, &n, NULL);
    if (status || n < 1)
        return 1;
    /* the shortest of these that reads back exactly, so files stay readable */
    epicsSnprintf(out, VALUE_SIZE, "%.15g", value);
    if (addr->field_type == DBF_DOUBLE && strtod(out, NULL) != value)
        epicsSnprintf(out, VALUE_SIZE, "%.17g", value);
    return 0;
}

/* Read every field; 1 if any differs from what was last saved. */
static int readFields(char (*now)[VALUE_SIZE])
{
    int i, changed = 0;
    for (i = 0; i < config.count; i++) {
        if (readField(&config.fields[i].addr, now[i]))
            strcpy(now[i], config.fields[i].last);
        changed |= strcmp(now[i], config.fields[i].last) != 0;
    }
    return changed;
}

static int syncDir(void)
{
    int fd = open(config.dir, O_RDONLY);
    int rc = fd >= 0 ? fsync(fd) : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The last good file becomes the backup.  A second name for it (link), so NAME.sav exists at
 * every moment and the next rename replaces it in one step; where the filesystem has no hard
 * links (FAT), rename it, which leaves NAME.sav missing, never torn, until the new one is in. */
static int keepAsBackup(const char *savPath, const char *backup)
{
    if ((unlink(backup) == 0 || errno == ENOENT) && link(savPath, backup) == 0)
        return 0;
    return rename(savPath, backup);
}

static int writeFile(char (*values)[VALUE_SIZE])
{
    char tmp[1024], savPath[1024], backup[1024], stamp[64], reason[128];
    epicsTimeStamp now;
    FILE *f;
    int i, ok;
    pathOf(tmp, sizeof(tmp), ".tmp");
    pathOf(savPath, sizeof(savPath), "");
    pathOf(backup, sizeof(backup), ".bak");
    if (!(f = fopen(tmp, "w"))) {
        epicsSnprintf(config.lastError, sizeof(config.lastError), "%s: %s", tmp, strerror(errno));
        return -1;
    }
    epicsTimeGetCurrent(&now);
    epicsTimeToStrftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &now);
    fprintf(f, "# pydevAutosave (autosave .sav format) %s\n", stamp);
    for (i = 0; i < config.count; i++)
        fprintf(f, "%s %s\n", config.fields[i].name, values[i]);
    fprintf(f, "<END>\n");
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (ok && access(savPath, F_OK) == 0 && checkFile(savPath, reason, sizeof(reason)) == NULL)
        ok = keepAsBackup(savPath, backup) == 0;
    ok = ok && rename(tmp, savPath) == 0 && syncDir() == 0;
    if (!ok) {
        epicsSnprintf(config.lastError, sizeof(config.lastError), "%s: %s", savPath, strerror(errno));
        return -1;
    }
    config.lastWrite = now;
    return 0;
}

static void saveMain(void *unused)
{
    char (*now)[VALUE_SIZE] = calloc(config.count ? config.count : 1, VALUE_SIZE);
    double sinceWrite = 0.0;
    (void)unused;
    if (!now)
        return;
    for (;;) {
        int changed = readFields(now);
        if (changed || sinceWrite >= config.period) {
            if (writeFile(now) == 0) {
                int i;
                for (i = 0; i < config.count; i++)
                    strcpy(config.fields[i].last, now[i]);
                config.writes++;
                sinceWrite = 0.0;
            } else if (config.failures++ % 50 == 0) {
                errlogPrintf("pydevAutosave: cannot save: %s\n", config.lastError);
            }
        }
        epicsThreadSleep(0.2);
        sinceWrite += 0.2;
    }
}

static void autosaveHook(initHookState state)
{
    if (!config.dir)
        return;
    if (state == initHookAfterInitDevSup)
        restore();
    else if (state == initHookAfterIocRunning) {
        collectFields();
        printf("pydevAutosave: saving %d fields to %s/%s.sav\n", config.count, config.dir,
               config.name);
        epicsThreadCreate("pydevAutosave", epicsThreadPriorityLow,
                          epicsThreadGetStackSize(epicsThreadStackSmall), saveMain, NULL);
    }
}

/* ---- iocsh ---------------------------------------------------------------------------- */

static const iocshArg arg0 = {"directory", iocshArgString};
static const iocshArg arg1 = {"name", iocshArgString};
static const iocshArg arg2 = {"period (s)", iocshArgDouble};
static const iocshArg *const args[] = {&arg0, &arg1, &arg2};
static const iocshFuncDef autosaveDef = {
    "pydevAutosave", 3, args,
    "Save the fields that info(autosaveFields, \"VAL ...\") names, and restore them before\n"
    "records initialise at the next start (autosave's tags and .sav format).  Before iocInit:\n"
    "  pydevAutosave(\"/var/lib/ioc\", \"tank\", 30)\n"
    "writes /var/lib/ioc/tank.sav within 0.2 s of a change and every 30 s, atomically, and keeps\n"
    "tank.sav.bak; a damaged tank.sav is reported and the backup used.\n"};

static void autosaveCall(const iocshArgBuf *a)
{
    struct stat st;
    const char *dir = a[0].sval, *name = a[1].sval;
    if (!dir || !name || !*name || strchr(name, '/')) {
        printf("usage: pydevAutosave(\"directory\", \"name\", period)  (see: help pydevAutosave)\n");
        iocshSetError(1);
        return;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) != 0) {
        errlogPrintf("pydevAutosave: %s is not a writable directory: nothing is saved or restored\n", dir);
        iocshSetError(1);
        return;
    }
    if (interruptAccept) {
        printf("pydevAutosave: must come before iocInit\n");
        iocshSetError(1);
        return;
    }
    free(config.dir);
    free(config.name);
    config.dir = epicsStrDup(dir);
    config.name = epicsStrDup(name);
    config.period = a[2].dval > 0 ? a[2].dval : 30.0;
}

static const iocshFuncDef reportDef = {"pydevAutosaveReport", 0, NULL,
                                       "What pydevAutosave saves, where, and how it went.\n"};

static void reportCall(const iocshArgBuf *a)
{
    char stamp[64] = "never";
    int i;
    (void)a;
    if (!config.dir) {
        printf("pydevAutosave: not configured\n");
        return;
    }
    if (config.writes)
        epicsTimeToStrftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S.%03f", &config.lastWrite);
    printf("pydevAutosave: %d fields to %s/%s.sav every %g s and on change; %lu writes, last %s; "
           "%lu failures%s%s\n", config.count, config.dir, config.name, config.period,
           config.writes, stamp, config.failures, config.failures ? ", last: " : "",
           config.failures ? config.lastError : "");
    for (i = 0; i < config.count; i++)
        printf("  %s = %s\n", config.fields[i].name, config.fields[i].last);
}

static void pydevAutosaveRegister(void)
{
    static int done;
    if (done++)
        return;
    iocshRegister(&autosaveDef, autosaveCall);
    iocshRegister(&reportDef, reportCall);
    initHookRegister(autosaveHook);
}
epicsExportRegistrar(pydevAutosaveRegister);
