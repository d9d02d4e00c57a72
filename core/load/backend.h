/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seam where a probe backend plugs into a capture: every backend opens the probes of the
 * plan's points it serves (nc_plan_point.backend), with the filter, and then gives the session
 * the same operations: its ring, attach, the capture window, counters, each record's comment,
 * detach, close. The uprobe backend serves DPDK points, the kernel backend tracepoints and kernel
 * functions; a capture with points of both runs both, their rings merged by time.
 */
#ifndef NC_BACKEND_H
#define NC_BACKEND_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../bpf/nc_record.h"
#include "../consume/ring.h"
#include "../filter/filter.h"
#include "../plan/plan.h"
#include "../write/pcap.h"

struct nc_backend_opts {
	const struct nc_filter *filter; /* NULL accepts every packet */
	uint32_t snaplen;		/* 1..NC_MAX_SNAPLEN */
	size_t ring_bytes;		/* a power of two >= NC_RING_BYTES_MIN; 0 = 16 MiB */
	bool stacks;			/* -S: the stack of each hook call, in the comment */
};

struct nc_backend {
	const char *name; /* "uprobe", "kernel" */
	/* Loads the probes of plan's points of this backend (nothing attached yet): 0 and
	 * *state, or a negative errno with one line in err */
	int (*open)(const struct nc_plan *plan, const struct nc_backend_opts *o, void **state,
		    char *err, size_t errlen);
	int (*ring_fd)(void *state); /* the BPF ring buffer the records come through, or -1 */
	/* a backend without a BPF ring: hands fn what it holds, waiting up to timeout_ms for the
	 * first record; how many, or fn's negative value */
	int (*poll)(void *state, nc_record_fn fn, void *ctx, int timeout_ms);
	/* optional, such a backend: the same records written into b in the file's format (classic
	 * pcap records, or pcapng EPBs with their comments), no call per packet; how many were
	 * added, or a negative errno */
	int (*poll_pcap)(void *state, struct nc_pcap_batch *b, int timeout_ms);
	uint64_t (*malformed)(void *state); /* such a backend's records that failed their checks */
	int (*attach)(void *state, char *err, size_t errlen); /* every planned probe */
	/* optional: what attaching did that a user may want to know, one line per process (the
	 * agent: the thread stopped to load it, and for how long); "" for nothing */
	void (*note)(void *state, char *buf, size_t len);
	/* opens (on) or closes the capture window of every attached probe: a point counts and
	 * captures only while it is open, so that all points of a run share one window */
	void (*enable)(void *state, bool on);
	void (*detach)(void *state);
	int (*counters)(void *state, uint32_t hook, struct nc_counters *sum);
	/* the packet comment of a record of point `label` */
	void (*comment)(void *state, const struct nc_record *rec, const char *label, char *buf,
			size_t len);
	void (*close)(void *state); /* detaches and unloads; state may be NULL */
};

extern const struct nc_backend nc_uprobe_backend;
extern const struct nc_backend nc_kernel_backend;
extern const struct nc_backend nc_agent_backend;

/* The comment of a DPDK point's record, whichever backend took it: "pid P tid T cpu C LABEL"
 * and what was done to the packet (VLAN tags put back, segments not followed) */
void nc_mbuf_comment(const struct nc_record *rec, const char *label, char *buf, size_t len);

/*
 * -S: appends "\nstack:\n  fwd_one+0x3 (nc_fwd.c:120)\n  main+0xb98 (nc_fwd.c:515)..." for the n
 * frames of ips (frame 0 where the hook sits, then return addresses) to the comment in buf (len
 * bytes, cut to fit), as both DPDK backends write it; n -ENOSPC: "stack: lost (more than 4096
 * distinct stacks...)", any other n <= 0: "stack: none"
 */
struct nc_usym;
void nc_stack_append(struct nc_usym *u, pid_t pid, const uint64_t *ips, int n, char *buf,
		     size_t len);

/* The backend that serves points of kind b */
const struct nc_backend *nc_backend_of(enum nc_plan_backend b);

#endif
