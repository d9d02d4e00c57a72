/* SPDX-License-Identifier: BSD-2-Clause */
#include "guard.h"

#include <errno.h>

#include "../plan/spec.h"
#include "../util/err.h"
#include "../util/privs.h"

int nc_guard_mbuf(const struct nc_mbuf_request *r, char *err, size_t errlen)
{
	struct nc_privs_need need = {.uprobes = true, .pids = r->pids, .n_pids = r->n_pids};
	int ret = nc_privs_check(&need, err, errlen);

	if (ret || nc_privs_is_root())
		return ret;
	for (size_t i = 0; i < r->n_pids; i++) {
		ret = nc_privs_may_trace(r->pids[i], err, errlen);
		if (ret && ret != -ESRCH)
			return ret;
	}
	for (size_t i = 0; i < r->n_specs; i++) {
		struct nc_hook_spec s;
		bool raw;

		if (nc_spec_parse(r->specs[i], &s, NULL, 0))
			continue; /* the capture reports a bad spec */
		raw = s.type == NC_SPEC_OFFSET;
		nc_spec_clear(&s);
		if (raw)
			return nc_err(err, errlen, EPERM,
				      "hook spec \"%s\": a file offset may point inside an "
				      "instruction, and a uprobe there breaks every process that "
				      "runs the file; netcap takes offsets from root only: hook a "
				      "function by name, or rx_burst/tx_burst",
				      r->specs[i]);
	}
	return 0;
}

int nc_guard_skb(const struct nc_skb_request *r, char *err, size_t errlen)
{
	struct nc_privs_need need = {.netns = r->netns != NULL};

	return nc_privs_check(&need, err, errlen);
}
