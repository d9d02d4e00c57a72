/* SPDX-License-Identifier: BSD-2-Clause */
#include "skb_capture.h"

int nc_skb_capture(const struct nc_skb_request *r, struct nc_capture_result *res, char *err,
		   size_t errlen)
{
	struct nc_request q = {.mode = NC_MODE_SKB, .cap = r->cap, .attach = r->attach};

	return nc_capture(&q, res, err, errlen);
}
