/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Putting a translated filter into a probe program at load time.
 *
 * Probe programs call the placeholders nc_filter_l2()/nc_filter_l3() (bpf/nc_filter.bpf.h) and
 * live in netcap's own SEC() names (NC_SEC_*). libbpf calls our prepare-load handler for those
 * after it has linked the subprograms into each program; the handler replaces each placeholder's
 * body with the filter's eBPF and keeps the BPF-to-BPF call offsets, func_info and line_info
 * consistent, so the verifier checks the filter like any other function (once: it is global).
 */
#ifndef NC_SPLICE_H
#define NC_SPLICE_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>

#include "../filter/filter.h"

/* libbpf's own messages go to stderr only when on (off by default: the core reports errors
 * through its message buffers). */
void nc_load_set_verbose(bool on);

/* Registers netcap's SEC() handlers with libbpf. Call before opening any skeleton; later calls
 * do nothing. Returns 0 or a negative errno with the reason in err. */
int nc_splice_register(char *err, size_t errlen);

/*
 * The programs' placeholders will be replaced by filter f at load time (f must outlive the
 * load). A program that is not bound gets an accept-all filter. Returns 0 or -ENOMEM.
 */
int nc_splice_bind(struct bpf_program *prog, const struct nc_filter *f);

/* Frees what bind and the load kept for the programs of obj; call after loading it. */
void nc_splice_release(struct bpf_object *obj);

/*
 * Loads an opened skeleton with filter f (NULL: accept all) spliced into each of its programs,
 * keeping the verifier's log. what names the object in messages ("the mbuf probe"). Returns 0,
 * or a negative errno with one line in err: the splice's problem, the verifier's reason, or the
 * capabilities needed (EPERM). NC_VERIFIER_LOG=FILE keeps a refused program's whole log.
 */
int nc_splice_load(struct bpf_object_skeleton *skel, const struct nc_filter *f, const char *what,
		   char *err, size_t errlen);

/* err = what could not be done and, for EPERM, the capabilities netcap needs; returns ret */
int nc_bpf_refused(char *err, size_t errlen, int ret, const char *what);

#endif
