/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Multi-point capture (-G): each packet followed from hook point to hook point. The points form
 * stages in the order the user gave them (-f a,b,c); a record joins the oldest open path of its
 * key (the mbuf pointer in its process, the skb pointer, or a hash of its bytes) that has not
 * yet reached its stage, else it starts a new path. A path closes when it reaches the last
 * stage, when its timeout passes, when its pointer comes back at a stage it already passed (DPDK
 * reused the mbuf for a new packet), or when the capture ends.
 *
 * Records are held, in arrival order, until their path closes, then handed out with the lines
 * that describe the path: the file keeps the order it would have had without -G, and every
 * record's comment is final when written (a pcapng block cannot be changed once written). The
 * cost is a delay of at most the timeout for packets that stop early, and memory for the
 * records held (bounded: past the window, the oldest path is closed as it stands).
 */
#ifndef NC_GATHER_H
#define NC_GATHER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/nc_record.h"

enum nc_gather_match {
	NC_GATHER_POINTER =
	    0,		   /* the mbuf pointer in its process (pid + pointer), the skb pointer */
	NC_GATHER_CONTENT, /* wire length and the first NC_GATHER_CONTENT_BYTES bytes */
};

#define NC_GATHER_CONTENT_BYTES 128
#define NC_GATHER_WINDOW	65536	    /* records held at most */
#define NC_GATHER_WINDOW_BYTES	(64u << 20) /* packet bytes held at most */

struct nc_gather_opts {
	enum nc_gather_match match;
	uint64_t timeout_ms; /* a path not at its last stage after this long is closed */
	bool kernel; /* skb pointers: one address space, whichever task is current (no pid) */
};

/* What the gather needs to know of each hook point */
struct nc_gather_point {
	uint32_t stage;	  /* index of its -f spec */
	const char *what; /* its short name: "rx_burst:port0", "fwd_burst" */
	const char *name; /* its interface name: "nc_fwd[1234]:rx_burst:port0" */
	bool kernel;	  /* a kernel (skb) point in a run that also has DPDK points */
};

/* Paths and what they missed, over the records handed out */
struct nc_gather_summary {
	uint64_t paths;		       /* packets followed (paths whose first record was written) */
	uint64_t complete;	       /* of those, seen at every stage */
	uint64_t missed[NC_MAX_HOOKS]; /* per stage: paths not seen there */
	char *stage_names[NC_MAX_HOOKS];
	uint32_t n_stages;
};

struct nc_gather;

/* Called for each record released, with the lines describing its path (no trailing newline). */
typedef int (*nc_gather_write_fn)(void *ctx, const struct nc_record *rec, const uint8_t *data,
				  const char *lines);

/*
 * points[i] describes hook i; stages[k] is the spec text of stage k (named in "not seen at"
 * when its points disagree on a short name). Returns 0 and *out, or a negative errno with err.
 */
int nc_gather_new(const struct nc_gather_opts *o, const struct nc_gather_point *points,
		  uint32_t n_points, char *const *stages, uint32_t n_stages, struct nc_gather **out,
		  char *err, size_t errlen);

/* Takes a copy of a record and its bytes. 0 or -ENOMEM. */
int nc_gather_add(struct nc_gather *g, const struct nc_record *rec, const uint8_t *data);

/*
 * Closes the paths whose timeout has passed at now_ns (CLOCK_MONOTONIC), or every path with
 * all, and hands the records at the head whose path is closed to write, in arrival order.
 * Returns how many were written, or the first non-zero value write returned.
 */
int nc_gather_release(struct nc_gather *g, uint64_t now_ns, bool all, nc_gather_write_fn write,
		      void *ctx);

/* The counts so far; free with nc_gather_summary_clear() */
void nc_gather_summarize(const struct nc_gather *g, struct nc_gather_summary *s);
void nc_gather_summary_clear(struct nc_gather_summary *s);

void nc_gather_free(struct nc_gather *g);

/* The key of a record's bytes in content mode (FNV-1a 64 of the wire length and the bytes) */
uint64_t nc_gather_content_hash(uint32_t wire_len, const uint8_t *data, uint32_t cap_len);

#endif
