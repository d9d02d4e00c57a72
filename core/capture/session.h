/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A capture session, the part every mode shares: the hook points (one interface each), the
 * sink, the ring reader, the loop (count, duration, signals, targets exiting), then detach,
 * drain, statistics and the result. A mode plans its points, loads its probe and hands the
 * session a few operations on it.
 */
#ifndef NC_SESSION_H
#define NC_SESSION_H

#include <linux/types.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../bpf/nc_record.h"
#include "../load/backend.h"
#include "../write/sink.h"
#include "gather.h"

struct nc_session_point {
	char *name;	   /* the interface name: "nc_fwd[1234]:rx_burst:port0" */
	char *description; /* if_description */
	char *label;	   /* for packet comments: the function, tracepoint, ... */
	uint16_t linktype; /* NC_LINKTYPE_ETHERNET or NC_LINKTYPE_RAW */
	uint32_t iface;	   /* the sink's interface id */
	uint64_t written;
	uint64_t skipped; /* of another link type than a pcap or text output's */
	uint32_t stage;	  /* -G: the index of the -f spec it comes from */
	char *what;	  /* -G: its short name ("rx_burst:port0"); NULL = label */
	bool kernel;	  /* a kernel (skb) point: -G keys its skb pointer without a pid */
};

/* One hook point (one interface of the file) at the end of a capture */
struct nc_hook_summary {
	char *name;
	struct nc_counters counters;
	uint64_t written; /* packets this capture wrote for it */
	uint64_t skipped; /* not written: their link type differs from a pcap/text output's */
	uint16_t linktype;
};

struct nc_capture_result {
	struct nc_hook_summary *hooks;
	size_t n_hooks;
	uint64_t written;
	char *end; /* why it ended: "count reached", "interrupted", "process 1234 exited", ... */
	uint64_t malformed; /* ring records that failed their checks: skipped, not written */
	bool gathered;	    /* -G: gather holds the paths' counts */
	struct nc_gather_summary gather;
	/* pcapng that libpcap (tcpdump) cannot read, why: nc_pcapng_libpcap_refuses() ("has
	 * Ethernet and raw-IP interfaces"); NULL when it can, and for pcap and text */
	const char *libpcap_refuses;
};

/* Optional observers of a capture: attach and detach (a line of text), and the counters of every
 * hook point together once a second while capturing (the extcap's toolbar). */
struct nc_capture_hooks {
	void (*log)(void *ctx, const char *line);
	void (*tick)(void *ctx, const struct nc_counters *total, uint64_t written);
	void *ctx;
};

struct nc_session_opts {
	const struct nc_sink_opts *out;
	const char *filter;	     /* the expression, for if_filter; may be NULL */
	uint32_t snaplen;	     /* for the interfaces */
	uint64_t count;		     /* stop after writing this many packets; 0 = no limit */
	uint64_t duration_ms;	     /* stop after this long; 0 = no limit */
	const char *ready_file;	     /* created once the probes are attached; may be NULL */
	volatile sig_atomic_t *stop; /* set by a signal handler */
	const pid_t *watch;	     /* stop when one of these processes exits */
	size_t n_watch;
	struct nc_capture_hooks hooks;
	/* -G: follow each packet from stage to stage (points[].stage); NULL = off */
	const struct nc_gather_opts *gather;
	char *const *stages; /* the spec of each stage, in command-line order */
	uint32_t n_stages;
};

/* A loaded backend (core/load/backend.h) as the session runs it. A session may run several (DPDK
 * and kernel points in one run), each with its own ring and the hook ids first_hook ..
 * first_hook + n_hooks - 1 of the session's points. */
struct nc_probe_ops {
	const struct nc_backend *b;
	void *state;
	int ring_fd;
	uint32_t first_hook;
	uint32_t n_hooks;
};

struct nc_session {
	struct nc_session_point points[NC_MAX_HOOKS];
	uint32_t n_points;
};

/*
 * Runs the capture: opens the sink and declares the points, attaches, reads until the end,
 * detaches, drains, writes the statistics. Returns 0 with res filled (free with
 * nc_capture_result_free()) or a negative errno with one line in err. Nothing stays attached.
 */
int nc_session_run(struct nc_session *s, const struct nc_session_opts *o,
		   const struct nc_probe_ops *ops, struct nc_capture_result *res, char *err,
		   size_t errlen);

/* The same with n_ops probes, whose hook ranges do not overlap. With more than one, the records
 * of their rings are merged in timestamp order (held until every ring has been read past them). */
int nc_session_run_probes(struct nc_session *s, const struct nc_session_opts *o,
			  const struct nc_probe_ops *ops, size_t n_ops,
			  struct nc_capture_result *res, char *err, size_t errlen);

void nc_session_clear(struct nc_session *s);
void nc_capture_result_free(struct nc_capture_result *res);

#endif
