/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mbuf mode from request to file: inspect the processes, plan the hook points, load the probe
 * with the filter, attach, read the ring, write, detach, report. The front ends fill a request.
 */
#ifndef NC_MBUF_CAPTURE_H
#define NC_MBUF_CAPTURE_H

#include <linux/types.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../bpf/nc_record.h"
#include "../write/sink.h"
#include "session.h"

#define NC_DEFAULT_SNAPLEN NC_MAX_SNAPLEN

struct nc_mbuf_request {
	const pid_t *pids;
	size_t n_pids;
	/* specs: core/plan/spec.h; "skb:SPEC" is a kernel point (skb mode), which iface and netns
	 * (netcap skb's -i, --netns) select */
	struct nc_capture_common cap;
	bool verbose;
};

#define NC_MBUF_SKB_PREFIX "skb:"

/*
 * Runs the capture. Kernel points among the specs ("skb:tp:net:netif_receive_skb") join the run
 * with a probe of their own: one file, one -G path from DPDK points to kernel points. Returns 0
 * with res filled (free with nc_capture_result_free()), or a negative errno with one line in err;
 * nothing stays attached either way.
 */
int nc_mbuf_capture(const struct nc_mbuf_request *r, struct nc_capture_result *res, char *err,
		    size_t errlen);

#endif
