/* SPDX-License-Identifier: BSD-3-Clause */
/* pydevRegisterAll.h - the registration commands of the pydevIoc program. */
#ifndef INC_pydevRegisterAll_H
#define INC_pydevRegisterAll_H

#ifdef __cplusplus
extern "C" {
#endif

/* Registers the iocsh command pydevIoc_registerRecordDeviceDriver(pdbbase), which the EPICS
 * build generates instead (so it exists, and pydevMain.c calls it, only with
 * PYDEV_REGISTER_ALL). */
void pydevRegisterAllCommand(void);
/* Registers pydevioc_registerRecordDeviceDriver(pdbbase), the original PyDevice's name of the
 * same command (both builds). */
void pydevRegisterOriginalCommand(void);

#ifdef __cplusplus
}
#endif
#endif
