/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A capture request, as the front ends (the netcap command, the extcap) fill it, the one check of
 * its rules, and the capture that runs it: check → discover → plan → filter → backends → session.
 */
#ifndef NC_REQUEST_H
#define NC_REQUEST_H

#include <linux/types.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../../bpf/nc_record.h"
#include "../write/sink.h"
#include "gather.h"
#include "session.h"

#define NC_DEFAULT_SNAPLEN NC_MAX_SNAPLEN

/* A kernel point among the specs of a DPDK capture: "skb:net:netif_receive_skb" */
#define NC_MBUF_SKB_PREFIX "skb:"

enum nc_mode {
	NC_MODE_MBUF = 0, /* netcap mbuf: DPDK points of processes, kernel points (skb:SPEC) too */
	NC_MODE_SKB,	  /* netcap skb: kernel points */
};

/* What every capture request holds, whatever its hook points (mbuf and skb mode) */
struct nc_capture_common {
	char *const *specs; /* hook specs */
	size_t n_specs;
	const char *filter;   /* tcpdump expression; NULL or "" captures everything */
	uint32_t snaplen;     /* 1..NC_MAX_SNAPLEN */
	uint64_t count;	      /* stop after writing this many packets; 0 = no limit */
	uint64_t duration_ms; /* stop after this long; 0 = no limit */
	size_t ring_bytes;    /* a power of two >= NC_RING_BYTES_MIN; 0 = 16 MiB */
	bool stacks;	      /* -S: the stack of each packet's hook call in its comment */
	struct nc_sink_opts out;
	const char *ready_file;	       /* created once every probe is attached; may be NULL */
	volatile sig_atomic_t *stop;   /* set by a signal handler: detach, flush, finish */
	struct nc_capture_hooks hooks; /* optional */
	/* -G: follow each packet from spec to spec (at least 2 specs); NULL = off */
	const struct nc_gather_opts *gather;
	/* kernel points: the interface (NULL or "any": every one) and its namespace (a path) */
	const char *iface;
	const char *netns;
};

struct nc_request {
	enum nc_mode mode;
	const pid_t *pids; /* mbuf: the DPDK processes */
	size_t n_pids;
	/* mbuf: core/plan/spec.h, and "skb:SPEC" for a kernel point; skb: "tracepoint:CAT:NAME",
	 * "tp:CAT:NAME", "CAT:NAME", "FUNC@N" */
	struct nc_capture_common cap;
	/* kernel functions (FUNC@N) through NC_SKB_FENTRY or NC_SKB_KPROBE; NC_SKB_TRACEPOINT
	 * (0): fentry where the kernel allows it, else a kprobe */
	enum nc_skb_attach attach;
	/* mbuf: capture inside the process (netcap's agent, loaded with ptrace) instead of through
	 * uprobes; rx_burst and tx_burst only */
	bool inject;
	FILE *plan_out; /* print the plan here before anything is loaded (-v); may be NULL */
	bool dry_run;	/* stop after the plan: load nothing */
};

/*
 * The rules of a request that need nothing but the request: specs and processes given, -G with
 * two points or more and not into classic pcap, the snap length, and in mbuf mode the kernel
 * points' rules (-i/--netns only with one, not only kernel points, -G to them by content).
 * Returns 0 or -EINVAL with one line in err (the front end prefixes its name).
 */
int nc_request_check(const struct nc_request *r, char *err, size_t errlen);

/*
 * Runs the capture: checks the request and the caller's privileges, discovers the processes,
 * plans the points, compiles the filter, opens the backends the plan names and runs the session.
 * Returns 0 with res filled (free with nc_capture_result_free()), or a negative errno with one
 * line in err; nothing stays attached either way. With r->dry_run nothing is loaded (res is
 * then empty).
 */
int nc_capture(const struct nc_request *r, struct nc_capture_result *res, char *err, size_t errlen);

/* The session options a request gives (watch and stages are the capture's to add) */
struct nc_session_opts nc_session_opts_of(const struct nc_capture_common *c);

#endif
