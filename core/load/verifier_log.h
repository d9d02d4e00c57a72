/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NC_VERIFIER_LOG_H
#define NC_VERIFIER_LOG_H

/* Size of the log buffer given to the kernel: it keeps the end of a log that overflows, which is
 * where the reason is. */
#define NC_VERIFIER_LOG_SIZE (1024 * 1024)

/* The verifier's reason for refusing a program: the last line of its log other than the
 * statistics it ends with. Trims log in place; returns a pointer into it. */
const char *nc_verifier_reason(char *log);

#endif
