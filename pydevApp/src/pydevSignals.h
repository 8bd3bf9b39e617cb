/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevSignals.h - SIGTERM/SIGINT run the orderly epicsExit (pydevIoc only). */
#ifndef INC_pydevSignals_H
#define INC_pydevSignals_H

#ifdef __cplusplus
extern "C" {
#endif

/* pydevIoc's main: before anything else, so Python's signal module finds our handlers */
int  pydevSignalsInstall(void);
/* after Python code ran at the iocsh: put our handlers back if Python replaced them */
void pydevSignalsCheck(void);

#ifdef __cplusplus
}
#endif
#endif
