/* SPDX-License-Identifier: BSD-2-Clause */
/* The options every capture command takes (-f, -e, -w, -P, -t, -c, -s, --duration, ...), their
 * checks, the signal handling and the exit summary. */
#ifndef NC_CAPTURE_OPTS_H
#define NC_CAPTURE_OPTS_H

#include <glib.h>
#include <signal.h>
#include <stdint.h>

#include "capture/gather.h"
#include "netcap.h"
#include "write/sink.h"

#define CAPTURE_OPTS_ENTRIES 12 /* rows capture_opts_entries() writes, terminator included */

struct capture_opts {
	GStrv funcs;
	char *expr, *write, *text, *count_arg, *snap_arg, *duration_arg, *ready, *buffer_arg;
	gboolean pcap, verbose;
	/* filled by capture_opts_finish() */
	GPtrArray *specs; /* -f values split at commas */
	struct nc_sink_opts out;
	uint32_t snaplen;
	uint64_t count;
	uint64_t duration_ms;
	size_t ring_bytes; /* -B, rounded up to a power of two; 0 = the default */
	char *cmdline;
};

#define CAPTURE_GATHER_ENTRIES 3 /* rows capture_gather_entries() writes */

/* -G, --match, --gather-timeout (multi-point capture) */
struct capture_gather {
	gboolean on;
	char *match_arg, *timeout_arg;
	struct nc_gather_opts opts; /* filled by capture_gather_finish() */
};

/* Writes the -G rows; match_help describes --match for the command */
void capture_gather_entries(struct capture_gather *g, GOptionEntry *rows, const char *match_help);

/* Checks the -G options of command cmd: --match and --gather-timeout only with -G, and their
 * values (the rules of -G with the rest of the request: nc_request_check()). Returns 0, or
 * prints one line and returns 2. */
int capture_gather_finish(struct capture_gather *g, const char *cmd);

void capture_gather_clear(struct capture_gather *g);

/* The request part every capture command fills the same way from its options (the stop flag
 * aside): specs, filter, limits, output (stacks and -G paths printed under each packet in text
 * mode), -S, -G, and the kernel points' interface and namespace (may be NULL). */
void capture_request(const struct capture_opts *o, const struct capture_gather *g, bool stacks,
		     const char *iface, const char *netns, struct nc_capture_common *cap);

/* Writes the common option rows (and a terminating row) into rows. */
void capture_opts_entries(struct capture_opts *o, GOptionEntry *rows, const char *func_help);

/*
 * Checks the parsed options of command cmd ("mbuf"); the leftover arguments (argv[1..]) are the
 * filter expression, as with tcpdump. Returns 0, or prints one line and returns 2 (usage).
 */
int capture_opts_finish(struct capture_opts *o, const char *cmd, int argc, char **argv,
			char **all_argv);

void capture_opts_clear(struct capture_opts *o);

/* SIGINT, SIGTERM and SIGPIPE set *stop (no SA_RESTART: the poll returns) */
void capture_signals(volatile sig_atomic_t *stop);

/* One line per hook point and the total, on stderr */
void capture_report(const struct nc_capture_result *res);

/* Strict unsigned parsing; prints "netcap CMD: bad OPT ..." and returns -1 on failure */
int capture_parse_u64(const char *cmd, const char *opt, const char *arg, guint64 min, guint64 max,
		      guint64 *out);

#endif
