/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevMain.c - pydevIoc: an IOC shell with pydev support, with softIoc's command line.
 *
 *   pydevIoc [-h] [-V] [-D file.dbd] [-a file.acf] [-m macros] [-d file.db]... [-S] [st.cmd]
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dbAccess.h>
#include <epicsExit.h>
#include <epicsVersion.h>
#include <epicsThread.h>
#include <iocsh.h>

#include "pydevSettings.h"
#include "pydevPython.h"
#include "pydevRegisterAll.h"
#include "pydevSignals.h"

#ifdef PYDEV_REGISTER_ALL
#include <iocshRegisterCommon.h>
#endif

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
        "usage: %s [-h] [-V] [-D file.dbd] [-a file.acf] [-m macros] [-d file.db]... [-S] [st.cmd]\n"
        "\n"
        "An EPICS IOC with DTYP \"pydev\" (Python in record links), Channel Access and PV Access.\n"
        "  -h            this help\n"
        "  -V            the versions of EPICS and of the Python it embeds, its virtualenv\n"
        "  -D file.dbd   the database definitions (default: dbd/pydevIoc.dbd of this build)\n"
        "  -a file.acf   access security configuration (asSetFilename)\n"
        "  -m macros     macros for the -d files, e.g. -m \"P=Tank:,N=2\": each -d takes the\n"
        "                last -m before it, or else the first one after it\n"
        "  -d file.db    load records; with any -d, iocInit runs after st.cmd (if not already)\n"
        "  -S            no interactive shell: run until exit, SIGTERM or SIGINT\n"
        "  st.cmd        an IOC shell script; its directory goes on Python's sys.path\n"
        "Examples:\n"
        "  %s -d tank.db -m P=Tank:      # records of tank.db, then a shell\n"
        "  %s st.cmd                      # the usual iocBoot way\n",
        prog, prog, prog);
}

static void versions(void)
{
    char about[1024];
    printf("pydevIoc: EPICS %s\n", EPICS_VERSION_FULL);
    if (pydevPyInit() == 0)
        return;  /* starting Python printed which one it is */
    pydevPyDescribe(about, sizeof(about));
    printf("pydevIoc: %s\n", about);
}

/* dbd/pydevIoc.dbd of the build or installation this program belongs to. */
static int defaultDbd(char *out, size_t size)
{
    static const char *const relative[] = {"/../../dbd/pydevIoc.dbd", "/../dbd/pydevIoc.dbd"};
    char exe[PATH_MAX];
    const char *env = pydevSettingText(PYDEV_SET_DBD);
    ssize_t n;
    size_t i;
    if (env && *env) {
        snprintf(out, size, "%s", env);
        return 0;
    }
    if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
        return -1;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    for (i = 0; i < sizeof(relative) / sizeof(relative[0]); i++) {
        if (snprintf(out, size, "%s%s", exe, relative[i]) < (int)size && access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

static int run(const char *format, const char *a, const char *b)
{
    char line[2 * PATH_MAX + 64];
    snprintf(line, sizeof(line), format, a, b);
    return iocshCmd(line);
}

static void setStartupDir(const char *script)
{
    char path[PATH_MAX];
    char *slash;
    if (!realpath(script, path))
        return;
    if ((slash = strrchr(path, '/')) != NULL)
        *slash = '\0';
    pydevPySetStartupDir(path);
}

/* An option that loads something, in command-line order; a -d's macros are found once
 * every -m is known (issue #23: the README's `-d tank.db -m P=Tank:` must work). */
typedef struct loadOption {
    int opt;
    const char *arg;
} loadOption;

/* The macros of the -d at index i: the last -m before it, else the first one after it. */
static const char *macrosFor(const loadOption *ops, int n, int i)
{
    int j;
    for (j = i - 1; j >= 0; j--)
        if (ops[j].opt == 'm')
            return ops[j].arg;
    for (j = i + 1; j < n; j++)
        if (ops[j].opt == 'm')
            return ops[j].arg;
    return "";
}

int main(int argc, char *argv[])
{
    const char *dbd = NULL;
    char found[PATH_MAX];
    int opt, interactive = 1, loaded = 0, dbdLoaded = 0, nops = 0, i;
    loadOption *ops = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*ops));

    /* a console read by people and by programs through pipes: line by line */
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    if (!ops)
        return 1;
    pydevSignalsInstall();
#ifdef PYDEV_REGISTER_ALL
    iocshRegisterCommon();  /* the EPICS build's generated registration code does this */
    pydevRegisterAllCommand();
#endif
    pydevRegisterOriginalCommand();  /* the original PyDevice's st.cmd calls it */
    while ((opt = getopt(argc, argv, "hVD:a:m:d:S")) != -1) {
        if (opt == 'h') {
            usage(stdout, argv[0]);
            return 0;
        }
        if (opt == 'V') {
            versions();
            return 0;
        }
        if (opt == '?') {
            usage(stderr, argv[0]);
            return 2;
        }
        if (opt == 'S')
            interactive = 0;
        else if (opt == 'D')
            dbd = optarg;
        else
            ops[nops++] = (loadOption){opt, optarg};
    }
    for (i = 0; i < nops; i++) {
        if (ops[i].opt == 'm')
            continue;
        if (!dbdLoaded) {  /* -a and -d need the definitions */
            if (!dbd && defaultDbd(found, sizeof(found)) == 0)
                dbd = found;
            if (!dbd) {
                fprintf(stderr, "%s: cannot find dbd/pydevIoc.dbd: give it with -D\n", argv[0]);
                return 1;
            }
            if (run("dbLoadDatabase(\"%s\")", dbd, NULL) ||
                run("pydevIoc_registerRecordDeviceDriver(pdbbase)", NULL, NULL))
                return 1;
            dbdLoaded = 1;
        }
        if (ops[i].opt == 'a' && run("asSetFilename(\"%s\")", ops[i].arg, NULL))
            return 1;
        if (ops[i].opt == 'd') {
            if (run("dbLoadRecords(\"%s\", \"%s\")", ops[i].arg, macrosFor(ops, nops, i)))
                return 1;
            loaded = 1;
        }
    }
    free(ops);
    if (optind < argc) {
        setStartupDir(argv[optind]);
        iocsh(argv[optind]);
        epicsThreadSleep(.2);
    } else if (!dbdLoaded && (dbd || defaultDbd(found, sizeof(found)) == 0)) {
        /* a bare shell, as softIoc gives: ready for dbLoadRecords and iocInit */
        run("dbLoadDatabase(\"%s\")", dbd ? dbd : found, NULL);
        run("pydevIoc_registerRecordDeviceDriver(pdbbase)", NULL, NULL);
    }
    if (loaded && !interruptAccept && iocshCmd("iocInit()"))
        return 1;
    if (interactive) {
        iocsh(NULL);
        epicsExit(0);
    }
    for (;;)  /* the IOC runs in its threads until exit, SIGTERM or SIGINT */
        epicsThreadSleep(3600.0);
    return 0;
}
