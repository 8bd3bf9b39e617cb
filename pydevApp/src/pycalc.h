/* SPDX-License-Identifier: BSD-3-Clause */
/* pycalc.h - the pycalc record's support (pycalcRecord.c), as the shell sees it.
 *
 * Internal: not installed.
 */
#ifndef INC_pycalc_H
#define INC_pycalc_H

#ifdef __cplusplus
extern "C" {
#endif

/* pydevReport from level 1: each pycalc record (runs, errors, mean time, last error, or why
 * it is disabled); from level 2 also its CALC */
void pydevPycalcReport(int level);

#ifdef __cplusplus
}
#endif
#endif /* INC_pycalc_H */
