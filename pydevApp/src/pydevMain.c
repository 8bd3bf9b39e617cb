/* pydevMain.c - pydevIoc: an IOC shell with pydev support, with softIoc's command line.
 *
 *   pydevIoc [-h] [-D file.dbd] [-a file.acf] [-m macros] [-d file.db]... [-S] [st.cmd]
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dbAccess.h>
#include <epicsExit.h>
#include <epicsThread.h>
#include <iocsh.h>

#include "pydevPython.h"
#include "pydevRegisterAll.h"
#include "pydevSignals.h"

#ifdef PYDEV_REGISTER_ALL
#include <iocshRegisterCommon.h>
#endif

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
        "usage: %s [-h] [-D file.dbd] [-a file.acf] [-m macros] [-d file.db]... [-S] [st.cmd]\n"
        "\n"
        "An EPICS IOC with DTYP \"pydev\" (Python in record links), Channel Access and PV Access.\n"
        "  -h            this help\n"
        "  -D file.dbd   the database definitions (default: dbd/pydevIoc.dbd of this build)\n"
        "  -a file.acf   access security configuration (asSetFilename)\n"
        "  -m macros     macros for the -d files after it, e.g. -m \"P=Tank:,N=2\"\n"
        "  -d file.db    load records; with any -d, iocInit runs after st.cmd (if not already)\n"
        "  -S            no interactive shell: run until exit, SIGTERM or SIGINT\n"
        "  st.cmd        an IOC shell script; its directory goes on Python's sys.path\n"
        "Examples:\n"
        "  %s -d tank.db -m P=Tank:      # records of tank.db, then a shell\n"
        "  %s st.cmd                      # the usual iocBoot way\n",
        prog, prog, prog);
}

/* dbd/pydevIoc.dbd of the build or installation this program belongs to. */
static int defaultDbd(char *out, size_t size)
{
    static const char *const relative[] = {"/../../dbd/pydevIoc.dbd", "/../dbd/pydevIoc.dbd"};
    char exe[PATH_MAX];
    const char *env = getenv("PYDEV_DBD");
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

int main(int argc, char *argv[])
{
    const char *dbd = NULL, *macros = "";
    char found[PATH_MAX];
    int opt, interactive = 1, loaded = 0, dbdLoaded = 0;

    /* a console read by people and by programs through pipes: line by line */
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    pydevSignalsInstall();
#ifdef PYDEV_REGISTER_ALL
    iocshRegisterCommon();  /* the EPICS build's generated registration code does this */
    pydevRegisterAllCommand();
#endif
    pydevRegisterOriginalCommand();  /* the original PyDevice's st.cmd calls it */
    while ((opt = getopt(argc, argv, "hD:a:m:d:S")) != -1) {
        if (opt == 'h') {
            usage(stdout, argv[0]);
            return 0;
        }
        if (opt == '?') {
            usage(stderr, argv[0]);
            return 2;
        }
        if (opt == 'S') {
            interactive = 0;
            continue;
        }
        if (opt == 'D') {
            dbd = optarg;
            continue;
        }
        if (opt == 'm') {
            macros = optarg;
            continue;
        }
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
        if (opt == 'a' && run("asSetFilename(\"%s\")", optarg, NULL))
            return 1;
        if (opt == 'd') {
            if (run("dbLoadRecords(\"%s\", \"%s\")", optarg, macros))
                return 1;
            loaded = 1;
        }
    }
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
