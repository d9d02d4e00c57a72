/* SPDX-License-Identifier: BSD-2-Clause */
/* skb mode: capture at kernel tracepoints that carry a struct sk_buff *. */
#ifndef NC_SKB_CAPTURE_H
#define NC_SKB_CAPTURE_H

#include <stdbool.h>

#include "session.h"

struct nc_skb_request {
	/* specs: "tracepoint:CAT:NAME", "tp:CAT:NAME", "FUNC@N"; -G follows each packet by skb
	 * pointer or content */
	struct nc_capture_common cap;
	/* FUNC@N through this (NC_SKB_FENTRY or NC_SKB_KPROBE); NC_SKB_TRACEPOINT (0): fentry where
	 * the kernel allows it, else a kprobe */
	enum nc_skb_attach attach;
};

/* Runs the capture; 0 with res filled (nc_capture_result_free()), or -errno with one line in
 * err. Nothing stays attached. */
int nc_skb_capture(const struct nc_skb_request *r, struct nc_capture_result *res, char *err,
		   size_t errlen);

/*
 * The kernel points of a run that also has DPDK points (netcap mbuf -f ...,skb:SPEC): r's specs
 * planned into s (spec i is stage stages[i]), the probe loaded, ops filled for
 * nc_session_run_probes(). r's iface, netns, filter, snaplen, ring_bytes and stacks are used.
 * Close with nc_skb_part_close() after the run.
 */
struct nc_skb_part;

int nc_skb_part_open(const struct nc_skb_request *r, const uint32_t *stages, struct nc_session *s,
		     struct nc_skb_part **out, struct nc_probe_ops *ops, char *err, size_t errlen);
void nc_skb_part_close(struct nc_skb_part *p);

#endif
