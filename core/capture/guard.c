/* SPDX-License-Identifier: BSD-2-Clause */
#include "guard.h"

#include <errno.h>
#include <glib.h>

#include "../inject/inject.h"
#include "../plan/spec.h"
#include "../util/err.h"
#include "../util/privs.h"

int nc_guard_mbuf(char *const *specs, size_t n_specs, const pid_t *pids, size_t n_pids, bool inject,
		  char *err, size_t errlen)
{
	struct nc_privs_need need = {.uprobes = true, .pids = pids, .n_pids = n_pids};
	bool raw = false;
	size_t first_raw = 0;
	int ret;

	/* the specs first: bad input is named before anything else is looked at */
	for (size_t i = 0; i < n_specs; i++) {
		struct nc_hook_spec s;

		for (const char *c = specs[i]; *c; c++)
			if (g_ascii_iscntrl(*c)) {
				g_autofree char *shown = g_strescape(specs[i], NULL);

				return nc_err(
				    err, errlen, EINVAL,
				    "hook spec \"%s\": control characters are not part of "
				    "a hook spec; see: netcap mbuf --help",
				    shown);
			}
		ret = nc_spec_parse(specs[i], &s, err, errlen);
		if (ret)
			return ret;
		if (s.type == NC_SPEC_OFFSET && !raw) {
			raw = true;
			first_raw = i;
		}
		nc_spec_clear(&s);
	}
	/* --inject loads no BPF: ptrace into each process is what it needs */
	for (size_t i = 0; inject && i < n_pids; i++) {
		ret = nc_privs_is_root() ? 0 : nc_privs_may_trace(pids[i], err, errlen);
		if (!ret || ret == -ESRCH)
			ret = nc_inject_check(pids[i], NULL, err, errlen);
		if (ret)
			return ret;
	}
	ret = inject ? 0 : nc_privs_check(&need, err, errlen);
	if (ret || nc_privs_is_root())
		return ret;
	for (size_t i = 0; i < n_pids; i++) {
		ret = nc_privs_may_trace(pids[i], err, errlen);
		if (ret && ret != -ESRCH)
			return ret;
	}
	if (raw)
		return nc_err(
		    err, errlen, EPERM,
		    "hook spec \"%s\": a file offset may point inside an instruction, and a "
		    "uprobe there breaks every process that runs the file; netcap takes "
		    "offsets from root only: hook a function by name, or rx_burst/tx_burst",
		    specs[first_raw]);
	return 0;
}

int nc_guard_skb(bool netns, char *err, size_t errlen)
{
	struct nc_privs_need need = {.netns = netns};

	return nc_privs_check(&need, err, errlen);
}
