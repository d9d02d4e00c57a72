/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap's side of function hooks with the agent (docs/inproc.md "Function hooks"): between the
 * agent's TRAMPS and netcap's ARMED, each hooked function's trampoline is built
 * (core/inject/hook.c) for the place the agent gave, written through /proc/PID/mem with the
 * function's original bytes in its data slot, and every function patched in one stop
 * (core/inject/patch.c); at the end of the capture every function is unpatched in one stop.
 * Internal to core/inproc/client.c.
 */
#ifndef NC_INPROC_FHOOK_H
#define NC_INPROC_FHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../agent/nc_agent_abi.h"

#define NC_FH_PATCH_LEN                                                                            \
	5 /* NC_HOOK_PATCH_LEN (core/inject/hook.h, whose enum nc_hook_kind is                     \
	   * not bpf/nc_record.h's: the two are never included together) */

/* Where a USDT argument is (core/inject/hook.h's struct nc_hook_loc: type, x86 register
 * number, offset, size); type 0: not a USDT site */
struct nc_fh_loc {
	int64_t off;
	uint8_t type, reg;
	int8_t size;
};

/* A function to hook (as struct nc_inproc_hook's fields); func 0: not a function hook */
struct nc_fh_func {
	uint64_t func, func_size, file_off;
	const char *path, *spec;
	uint8_t arg, count_arg, ret_bits;
	/* a USDT site: the patch at func + site_off (the probe's nop), the arguments at loc[0]
	 * (and loc[1] with count_arg); func, func_size and file_off are the containing
	 * function's */
	uint64_t site_off;
	struct nc_fh_loc loc[2];
	const char *func_name; /* the containing function, for messages (NULL: the spec's) */
	uint64_t patch_off;    /* where the patch starts: site_off, or the branch over the site's
				* nop right before it (nc_fh_site_start()) */
	uint64_t cold, cold_size, cold_off; /* its cold part: address, size, offset in path */
};

struct nc_fh_site {
	uint64_t func; /* where the patch is: the function's entry, or the USDT site */
	uint8_t patch[NC_FH_PATCH_LEN]; /* the jump into this capture's trampoline */
	uint8_t orig[NC_FH_PATCH_LEN];	/* the function's own bytes */
	uint8_t now[NC_FH_PATCH_LEN];	/* what it held before this capture */
	bool hooked; /* the jump is in place (patched by this capture or before) */
};

/*
 * Builds and writes the trampoline of every function hook of hooks[0..n) at the places of
 * t (the agent's TRAMPS), then patches them all in one stop. sites[i] is filled for each
 * function hook. On failure nothing is patched (trampolines written stay unused). The message
 * names the hook spec.
 */
int nc_fh_install(pid_t pid, const struct nc_fh_func *hooks, size_t n,
		  const struct nc_agent_tramps *t, int timeout_ms, struct nc_fh_site *sites,
		  char *err, size_t errlen);

/*
 * A USDT site's hook (h->loc[0].type set): h->patch_off from the function's bytes in its file
 * (core/inject/hook.h, nc_hook_site_patch()), before the agent is told where the patch goes. 0 or
 * -errno with one line naming the spec.
 */
int nc_fh_site_start(struct nc_fh_func *h, char *err, size_t errlen);

/* Puts every hooked function's original bytes back, in one stop */
int nc_fh_remove(pid_t pid, struct nc_fh_site *sites, size_t n, int timeout_ms, char *err,
		 size_t errlen);

#endif
