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
	char *const
	    *specs; /* hook specs (core/plan/spec.h); "skb:SPEC": a kernel point (skb mode) */
	size_t n_specs;
	const char *filter;   /* tcpdump expression; NULL or "" captures everything */
	uint32_t snaplen;     /* 1..NC_MAX_SNAPLEN */
	uint64_t count;	      /* stop after writing this many packets; 0 = no limit */
	uint64_t duration_ms; /* stop after this long; 0 = no limit */
	size_t ring_bytes;    /* a power of two >= NC_RING_BYTES_MIN; 0 = 16 MiB */
	struct nc_sink_opts out;
	const char *ready_file;	       /* created once every probe is attached; may be NULL */
	volatile sig_atomic_t *stop;   /* set by a signal handler: detach, flush, finish */
	struct nc_capture_hooks hooks; /* optional */
	bool stacks; /* the user stack of each packet's hook call in its comment (-S) */
	/* -G: follow each packet from spec to spec (at least 2 specs); NULL = off */
	const struct nc_gather_opts *gather;
	bool verbose;
	/* the kernel points' interface and its namespace (netcap skb's -i, --netns); may be NULL */
	const char *iface;
	const char *netns;
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
