/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The filter alone in the kernel: bpf/filter_test.bpf.c with a filter spliced in, run on given
 * bytes with BPF_PROG_TEST_RUN. Used by `netcap filter --verify`, the differential test against
 * libpcap, and bench/filter.
 */
#ifndef NC_FILTER_PROG_H
#define NC_FILTER_PROG_H

#include <stddef.h>
#include <stdint.h>

/* filter calls per run of the benchmark program (bpf/filter_test.bpf.c) */
#define NC_FILTER_BENCH_CALLS 64

#include "../filter/filter.h"

struct nc_filter_prog;

/* Loads f into the kernel (the verifier checks and the JIT compiles it). Returns 0 and *out, or
 * a negative errno with the reason (and the verifier's last lines) in err. */
int nc_filter_prog_load(const struct nc_filter *f, struct nc_filter_prog **out, char *err,
			size_t errlen);

/*
 * Runs the loaded filter `repeat` times (>= 1) on pkt[0..caplen) of a packet of wirelen bytes
 * (caplen <= NC_FILTER_WINDOW). Sets *verdict to the filter's return value and, if ns is set,
 * *ns to the kernel's mean run time per repetition. Returns 0 or a negative errno.
 */
int nc_filter_prog_run(struct nc_filter_prog *p, enum nc_link link, const uint8_t *pkt,
		       uint32_t caplen, uint32_t wirelen, uint32_t repeat, uint32_t *verdict,
		       uint32_t *ns);

/* Like nc_filter_prog_run, but *ns is the kernel's time per filter call, measured over
 * NC_FILTER_BENCH_CALLS calls in each of `repeat` test runs (bench/filter). */
int nc_filter_prog_bench(struct nc_filter_prog *p, enum nc_link link, const uint8_t *pkt,
			 uint32_t caplen, uint32_t wirelen, uint32_t repeat, uint32_t *verdict,
			 double *ns);

void nc_filter_prog_close(struct nc_filter_prog *p);

#endif
