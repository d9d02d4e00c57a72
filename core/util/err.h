/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core's error convention: functions return 0 or a negative errno and, on failure, write one
 * line into the caller's buffer naming what is wrong and what to do. Only front ends print.
 */
#ifndef NC_ERR_H
#define NC_ERR_H

#include <stddef.h>

/* Writes the formatted message into err (if err and errlen are set) and returns -errnum. */
int nc_err(char *err, size_t errlen, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
