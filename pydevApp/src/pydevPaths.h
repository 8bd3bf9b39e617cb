/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevPaths.h - paths of a relocatable installation, found from libpydev's own location. */
#ifndef INC_pydevPaths_H
#define INC_pydevPaths_H

#include <stddef.h>

/* PREFIX/leaf of the installation holding this libpydev, if it exists: 0, else -1 */
int pydevInstallPath(const char *leaf, char *out, size_t size);

#endif
