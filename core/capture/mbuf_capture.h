/* SPDX-License-Identifier: BSD-2-Clause */
/* mbuf mode through nc_capture() (request.h): the request of the extcap until it fills an
 * nc_request itself */
#ifndef NC_MBUF_CAPTURE_H
#define NC_MBUF_CAPTURE_H

#include "request.h"

struct nc_mbuf_request {
	const pid_t *pids;
	size_t n_pids;
	struct nc_capture_common cap;
	bool verbose;
};

int nc_mbuf_capture(const struct nc_mbuf_request *r, struct nc_capture_result *res, char *err,
		    size_t errlen);

#endif
