/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevStats.h - the worker pool's and the iointr registry's figures, pushed as records.
 *
 * Above the iointr registry and the worker pool; EPICS only.  Internal: not installed.
 */
#ifndef INC_pydevStats_H
#define INC_pydevStats_H

#ifdef __cplusplus
extern "C" {
#endif

/* once, before iocInit: figures are pushed once a second to "pydev:<figure>" names */
void pydevStatsInit(void);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevStats_H */
