/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * USDT probes of an ELF file (systemtap's sys/sdt.h): the NT_STAPSDT notes in .note.stapsdt, the
 * file offsets a uprobe and its semaphore take, and the argument specs ("8@%rdi", "-4@-4(%rbp)",
 * "4@$5") turned into the locations the mbuf probe reads (bpf/nc_record.h, struct nc_arg_loc).
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * naming the file or the spec. Nothing here prints or exits.
 */
#ifndef NC_USDT_H
#define NC_USDT_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/nc_record.h"

struct nc_usdt_probe {
	char *provider;
	char *name;
	uint64_t pc;	     /* link-time address, corrected by .stapsdt.base (prelink) */
	uint64_t offset;     /* file offset of pc: where the uprobe goes */
	uint64_t sem_offset; /* file offset of the semaphore (uprobe ref_ctr_offset), 0 if none */
	char *args;	     /* the argument specs as the note has them, "" if none */
};

/*
 * Lists the USDT probes of path in note order. *out is a malloc()ed array of *n (free with
 * nc_usdt_free()); *n is 0 for a file without probes. -ENOENT/-EACCES/-ENOEXEC naming the file.
 */
int nc_usdt_list(const char *path, struct nc_usdt_probe **out, size_t *n, char *err, size_t errlen);
void nc_usdt_free(struct nc_usdt_probe *v, size_t n);

/* The number of arguments in an args string */
unsigned nc_usdt_nargs(const char *args);

/*
 * Where argument i (1-based) of args is: a register, user memory at a register plus an offset,
 * or a constant, with its size and sign. -ERANGE when args has fewer than i arguments, -ENOTSUP
 * for forms the probe cannot read (%rip-relative or indexed memory, unknown registers), -EINVAL
 * for what is not an argument spec; the message quotes the spec.
 */
int nc_usdt_arg(const char *args, unsigned i, struct nc_arg_loc *loc, char *err, size_t errlen);

#endif
