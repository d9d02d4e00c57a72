/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The skb probe (bpf/skb.bpf.c) in the kernel: one instance per tracepoint (its settings are
 * rodata), all sharing the first instance's ring, counters, record scratch and stack map.
 */
#ifndef NC_SKB_PROBE_H
#define NC_SKB_PROBE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/nc_record.h"
#include "../discover/kallsyms.h"
#include "../filter/filter.h"

#define NC_SKB_MAX_TRACEPOINTS 16
#define NC_STACK_DEPTH	       127

struct nc_skb_probe;

struct nc_skb_point {
	const char *target; /* the raw tracepoint ("netif_receive_skb") or kernel function */
	enum nc_skb_attach how;
	struct nc_skb_probe_cfg cfg;
};

/* Loads one instance per point with filter f (NULL: all). Returns 0 and *out, or a negative
 * errno with one line in err. */
int nc_skb_probe_open(const struct nc_skb_point *points, size_t n, const struct nc_filter *f,
		      size_t ring_bytes, bool stacks, struct nc_skb_probe **out, char *err,
		      size_t errlen);

int nc_skb_probe_attach(struct nc_skb_probe *p, char *err, size_t errlen);
/* Opens (on) or closes the capture window: attached points count and capture only while open */
void nc_skb_probe_enable(struct nc_skb_probe *p, bool on);
void nc_skb_probe_detach(struct nc_skb_probe *p);
int nc_skb_probe_ring_fd(const struct nc_skb_probe *p);
int nc_skb_probe_counters(const struct nc_skb_probe *p, uint32_t hook, struct nc_counters *sum);

/* The kernel addresses of stack `id` (at most NC_STACK_DEPTH, ending at the first 0); returns
 * how many, or a negative errno (-ENOENT: the map lost it) */
int nc_skb_probe_stack(const struct nc_skb_probe *p, int32_t id, uint64_t *ips);

/* The JIT images of every function of the loaded programs (the probe's own frames in a kernel
 * stack), in *out (free with free()); a negative errno when the kernel does not tell them */
int nc_skb_probe_text(const struct nc_skb_probe *p, struct nc_addr_range **out, size_t *n);

void nc_skb_probe_close(struct nc_skb_probe *p);

#endif
