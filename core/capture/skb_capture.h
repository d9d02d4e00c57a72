/* SPDX-License-Identifier: BSD-2-Clause */
/* skb mode: capture at kernel tracepoints that carry a struct sk_buff *. */
#ifndef NC_SKB_CAPTURE_H
#define NC_SKB_CAPTURE_H

#include <stdbool.h>

#include "session.h"

struct nc_skb_request {
	char *const *specs; /* "tracepoint:CAT:NAME", "tp:CAT:NAME", "FUNC@N" */
	size_t n_specs;
	const char *iface; /* NULL or "any": every interface */
	const char *netns; /* the namespace of iface: a path such as /run/netns/NAME */
	const char *filter;
	uint32_t snaplen;
	uint64_t count;
	uint64_t duration_ms;
	size_t ring_bytes; /* a power of two >= NC_RING_BYTES_MIN; 0 = 16 MiB */
	bool stacks;	   /* -S: the kernel stack in each packet's comment */
	struct nc_sink_opts out;
	const char *ready_file;
	volatile sig_atomic_t *stop;
	struct nc_capture_hooks hooks; /* optional */
	/* -G: follow each packet (by skb pointer or content) from spec to spec; NULL = off */
	const struct nc_gather_opts *gather;
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
