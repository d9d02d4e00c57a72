/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kernel addresses to "function+0xoff", from /proc/kallsyms, and the frames of a kernel stack
 * that belong to the probe that took it.
 */
#ifndef NC_KALLSYMS_H
#define NC_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nc_kallsyms;

/* [start, end) of code */
struct nc_addr_range {
	uint64_t start, end;
};

/*
 * Reads /proc/kallsyms and /proc/modules. -EACCES when the addresses are hidden (kptr_restrict,
 * not root). Read it after the probes are loaded, so that their symbols are among those read.
 */
int nc_kallsyms_load(struct nc_kallsyms **out, char *err, size_t errlen);

/* The same from files in those formats (tests); modules may be NULL (no module text) */
int nc_kallsyms_load_from(const char *kallsyms, const char *modules, struct nc_kallsyms **out,
			  char *err, size_t errlen);

/*
 * "name+0x1f" (or "name") for addr into buf, and true, when addr lies in the kernel's text
 * (_stext.._etext) or a module's (/proc/modules) or in a BPF program or trampoline known to
 * kallsyms; otherwise "0x..." and false: the address is not resolved to whatever symbol happens
 * to lie below it.
 */
bool nc_kallsyms_format(const struct nc_kallsyms *k, uint64_t addr, char *buf, size_t len);

/*
 * How many leading frames of a kernel stack belong to the probe that took it: the frames inside
 * the probe's own programs (`own`, their JIT images), then the tracing glue between them and the
 * traced code: the raw tracepoint dispatch (bpf_trace_runN, __bpf_trace_*, __traceiter_*) and BPF
 * trampolines (fentry). Frames are dropped only while they are leading; without a frame inside
 * `own`, none is.
 */
size_t nc_kallsyms_probe_frames(const struct nc_kallsyms *k, const uint64_t *ips, size_t n,
				const struct nc_addr_range *own, size_t n_own);

/*
 * The type letter of the kernel's own text symbols names[0..n-1] in one pass over a kallsyms
 * file (NULL: /proc/kallsyms): types[i] = 'T' (global) or 't' (local: a copy some file emitted,
 * e.g. of an inline wrapper), 0 when it has none (module symbols do not count). Returns 0 or a
 * negative errno when the file cannot be read (types all 0).
 */
int nc_kallsyms_text_types(const char *path, const char *const *names, size_t n, char *types);

void nc_kallsyms_free(struct nc_kallsyms *k);

#endif
