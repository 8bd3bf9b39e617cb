/* pydevRegisterAll.h - pydevIoc_registerRecordDeviceDriver for the embedded (CMake) build. */
#ifndef INC_pydevRegisterAll_H
#define INC_pydevRegisterAll_H

#ifdef __cplusplus
extern "C" {
#endif

/* Registers the iocsh command pydevIoc_registerRecordDeviceDriver(pdbbase), which the EPICS
 * build generates instead (so pydevMain.c calls this only with PYDEV_REGISTER_ALL). */
void pydevRegisterAllCommand(void);

#ifdef __cplusplus
}
#endif
#endif
