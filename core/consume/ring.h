/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading records from a probe's ring buffer. Each record is checked (length, captured length)
 * before the callback sees it; a malformed one is counted, not passed on.
 */
#ifndef NC_RING_H
#define NC_RING_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/nc_record.h"

/* Called per record; data holds rec->cap_len bytes. Return 0 to go on, a negative errno to stop
 * the poll (it returns that value). */
typedef int (*nc_record_fn)(void *ctx, const struct nc_record *rec, const uint8_t *data);

struct nc_consumer;

/*
 * Hands on the records of one ring sample: one record, or several back to back, each but the last
 * flagged NC_REC_MORE, which share the first one's timestamp (NC_REC_MORE is cleared). A record
 * that is too short or inconsistent is counted in *malformed and ends the sample (what follows it
 * cannot be found). Counts the records delivered in *delivered; returns 0, or fn's value when it
 * stopped the sample.
 */
int nc_ring_sample(const void *data, size_t size, nc_record_fn fn, void *ctx, uint64_t *malformed,
		   unsigned *delivered);

/* The probes wake the reader once this much of a ring of ring_bytes is pending (asked every
 * 1/16 of it written per CPU; the reader also drains on a timer): 1/NC_RING_WAKE_DEFAULT of the
 * ring, or 1/N with the environment's NETCAP_RING_WAKE=N (2..1024; docs/performance.md). 0, or
 * a negative errno with the reason in err. */
#define NC_RING_WAKE_DEFAULT 8
int nc_ring_wake_bytes(size_t ring_bytes, uint64_t *wake, char *err, size_t errlen);

int nc_consumer_new(int ring_fd, nc_record_fn fn, void *ctx, struct nc_consumer **out, char *err,
		    size_t errlen);

/* Reads another probe's ring too (libbpf's ring_buffer__add); one poll serves both */
int nc_consumer_add(struct nc_consumer *c, int ring_fd, char *err, size_t errlen);

/* Delivers what is pending (at most a few thousand records, so that the caller keeps control
 * under load), waiting up to timeout_ms for the first record. Returns the number of records
 * delivered, or the callback's negative value; an interrupted wait returns 0. */
int nc_consumer_poll(struct nc_consumer *c, int timeout_ms);

/* Records that were too short or inconsistent */
uint64_t nc_consumer_malformed(const struct nc_consumer *c);

void nc_consumer_free(struct nc_consumer *c);

/*
 * Probe timestamps (CLOCK_MONOTONIC) to wall-clock time: the offset between the clocks, taken as
 * the closest of a few readings and re-taken by nc_clock_sync() while capturing.
 */
struct nc_clock {
	int64_t offset_ns;
	uint64_t synced_ns; /* monotonic time of the last sync */
};

void nc_clock_sync(struct nc_clock *c);
uint64_t nc_clock_to_realtime(const struct nc_clock *c, uint64_t mono_ns);
uint64_t nc_clock_monotonic_ns(void);

#endif
