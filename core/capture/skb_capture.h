/* SPDX-License-Identifier: BSD-2-Clause */
/* skb mode through nc_capture() (request.h): the request of the extcap until it fills an
 * nc_request itself */
#ifndef NC_SKB_CAPTURE_H
#define NC_SKB_CAPTURE_H

#include "request.h"

struct nc_skb_request {
	struct nc_capture_common cap;
	enum nc_skb_attach attach;
};

int nc_skb_capture(const struct nc_skb_request *r, struct nc_capture_result *res, char *err,
		   size_t errlen);

#endif
