/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel addresses to "function+0xoff", from /proc/kallsyms. */
#ifndef NC_KALLSYMS_H
#define NC_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>

struct nc_kallsyms;

/* Reads /proc/kallsyms. -EACCES when the addresses are hidden (kptr_restrict, not root). */
int nc_kallsyms_load(struct nc_kallsyms **out, char *err, size_t errlen);

/* "name+0x1f" (or "name") for addr into buf; "0x..." when no symbol holds it */
void nc_kallsyms_format(const struct nc_kallsyms *k, uint64_t addr, char *buf, size_t len);

void nc_kallsyms_free(struct nc_kallsyms *k);

#endif
