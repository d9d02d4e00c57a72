/* SPDX-License-Identifier: BSD-2-Clause */
#include "mbuf_capture.h"

int nc_mbuf_capture(const struct nc_mbuf_request *r, struct nc_capture_result *res, char *err,
		    size_t errlen)
{
	struct nc_request q = {
	    .mode = NC_MODE_MBUF, .pids = r->pids, .n_pids = r->n_pids, .cap = r->cap};

	return nc_capture(&q, res, err, errlen);
}
