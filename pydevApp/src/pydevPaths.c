/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevPaths.c - where an installed PyDevice finds its Python files and its virtualenv.
 *
 * A relocatable installation (make install PREFIX=...) has no paths compiled in: it looks
 * for them next to libpydev itself, PREFIX/lib/<arch>/libpydev.so, so that the whole tree
 * can be moved or copied to another board.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pydevPaths.h"

int pydevInstallPath(const char *leaf, char *out, size_t size)
{
    Dl_info info;
    char *slash, real[PATH_MAX];
    int n;
    /* the loader may have found it as PREFIX/bin/<arch>/../../lib/<arch>/libpydev.so */
    if (!dladdr((void *)pydevInstallPath, &info) || !info.dli_fname ||
        !realpath(info.dli_fname, real))
        return -1;
    n = snprintf(out, size, "%s", real);
    if (n < 0 || (size_t)n >= size)
        return -1;
    /* PREFIX/lib/<arch>/libpydev.so -> PREFIX */
    for (n = 0; n < 3; n++) {
        if (!(slash = strrchr(out, '/')))
            return -1;
        *slash = '\0';
    }
    n = (int)strlen(out);
    if ((size_t)n + strlen(leaf) + 2 > size)
        return -1;
    snprintf(out + n, size - n, "/%s", leaf);
    return access(out, F_OK) == 0 ? 0 : -1;
}
