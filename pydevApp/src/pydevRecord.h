/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevRecord.h - the record glue (DTYP "pydev"), as the shell and pydevIoc see it.
 *
 * Above everything but the shell.  Internal: not installed.
 */
#ifndef INC_pydevRecord_H
#define INC_pydevRecord_H

#ifdef __cplusplus
extern "C" {
#endif

/* epicsAtExit handler: no Python runs for records from now on, then Python's exit handlers */
void pydevShutdown(void *unused);
/* seconds Python's exit handlers may take: PYDEV_EXIT_TIMEOUT, 5 by default */
double pydevExitTimeout(void);
/* pydevReport / dbior pydev: the pool, the iointr names, and from level 1 the records */
void pydevReport(int level);

#ifdef __cplusplus
}
#endif
#endif /* INC_pydevRecord_H */
