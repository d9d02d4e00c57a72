/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * User-space addresses of running processes to "function+0xoff (file.c:line)": the process's
 * memory map gives the file and offset, the file's symbols (libelf) the function, its DWARF
 * (libdw, when present) the source line. For the user stacks of `netcap mbuf -S`.
 *
 * Files are opened once and kept until nc_usym_free(); a process's map is read at its first
 * address and read again once when an address is in none of its mappings (dlopen).
 */
#ifndef NC_USYM_H
#define NC_USYM_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nc_usym;

/* A new, empty symbolizer; NULL when out of memory */
struct nc_usym *nc_usym_new(void);
void nc_usym_free(struct nc_usym *u);

/* Reads the memory map of pid now, so that its addresses can be named after it has exited */
void nc_usym_watch(struct nc_usym *u, pid_t pid);

/*
 * Appends address addr of process pid to out as lines "\n  FRAME": "fwd_one+0x3 (nc_fwd.c:120)",
 * "libfoo.so.1+0x1f20" (no symbol) or "0x7f12..." (in no file); a function inlined at addr is a
 * frame of its own before the one it is inlined in ("forward (inlined) (nc_fwd.c:422)").
 * ret_addr: addr is a return address, so the line is that of the call before it. Cannot fail; a
 * process that is gone gives bare addresses.
 */
void nc_usym_append(struct nc_usym *u, pid_t pid, uint64_t addr, bool ret_addr, GString *out);

#endif
