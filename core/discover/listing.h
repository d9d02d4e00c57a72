/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What netcap can hook in a DPDK process, as one value that `netcap list` prints and the
 * Wireshark extcap offers as interfaces: the running DPDK processes; a process's release, ports
 * and their PMD burst functions (nc_dpdk_inspect()), the functions of its executable that take
 * mbufs with the hook specs that capture at them (DWARF), and the USDT probes of its mapped
 * files with theirs. Where a probe would sit is the plan's question (core/plan/placement.h):
 * the listing gives the file offsets and sizes it needs.
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * (errlen bytes, may be NULL). Nothing here prints or exits.
 */
#ifndef NC_LISTING_H
#define NC_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dpdk.h"

/* A process that maps librte_ethdev */
struct nc_listing_app {
	pid_t pid;
	char *comm; /* /proc/PID/comm */
};

/*
 * The processes this user may read that map librte_ethdev.so, in /proc's order (by pid), the
 * caller left out; with comm, only those of that name (whose maps alone are read). *out is a
 * array of *n (free with nc_listing_apps_free()), *n may be 0. Cannot fail.
 */
void nc_listing_apps(const char *comm, struct nc_listing_app **out, size_t *n);
void nc_listing_apps_free(struct nc_listing_app *v, size_t n);

/* A function of an executable that takes mbufs */
struct nc_listing_func {
	char *name;
	char *proto; /* "uint16_t fwd_rx(uint16_t, struct rte_mbuf **, uint16_t)" */
	/* the hook specs that capture at it, the preferred first: "f@1" (one mbuf), "f@1@3" (an
	 * array and its count), "f@1@ret" (an array, the count returned); none for an array
	 * without a count */
	char *specs[2];
	size_t n_specs;
	bool has_symbol;       /* found in the file's symbol table (only when asked for): */
	uint64_t offset, size; /* its file offset and size there */
};

/*
 * The functions of exe that take mbufs (nc_dwarf_mbuf_funcs()), in DWARF order; with symbols,
 * each looked up in exe's symbol table too. *out is a malloc()ed array of *n (free with
 * nc_listing_funcs_free()); *n is 0 for a file without DWARF. -ENOENT/-EIO with a message when
 * exe cannot be read, -ENOMEM.
 */
int nc_listing_funcs(const char *exe, bool symbols, struct nc_listing_func **out, size_t *n,
		     char *err, size_t errlen);
void nc_listing_funcs_free(struct nc_listing_func *v, size_t n);

/* A USDT probe of a mapped file */
struct nc_listing_usdt {
	const char *path; /* the file, borrowed from the listing's process maps */
	char *spec; /* "usdt:PROVIDER:NAME", "usdt:FILE:PROVIDER:NAME" outside the executable */
	char *args; /* the argument specs as the note has them, "" if none */
	unsigned nargs;
	bool semaphore;
};

/* What netcap can hook in one DPDK process */
struct nc_listing {
	struct nc_dpdk_proc *proc; /* release, executable, ports and their burst functions */
	struct nc_listing_func *funcs;
	size_t n_funcs;
	char *funcs_err; /* why the executable's functions could not be read, or NULL */
	struct nc_listing_usdt
	    *usdt; /* the probes of each ELF file, in map order, then note order */
	size_t n_usdt;
};

/*
 * Lists process pid. Fails as nc_dpdk_inspect() does (not a DPDK process, no permission...) or
 * with -ENOMEM; a file that cannot be read leaves out its functions (funcs_err) or probes.
 * Free *out with nc_listing_free().
 */
int nc_listing_read(pid_t pid, struct nc_listing **out, char *err, size_t errlen);
void nc_listing_free(struct nc_listing *l);

#endif
