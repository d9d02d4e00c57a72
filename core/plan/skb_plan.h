/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel points of a plan: "tracepoint:CAT:NAME" (tp:CAT:NAME, CAT:NAME) becomes a raw
 * tracepoint probe, FUNC@N an fentry or kprobe probe of the kernel function whose argument N is
 * the skb; each gives two hook points, one for packets with an Ethernet header and one for
 * packets without a link header (":raw"). -i IFACE [--netns PATH] is resolved here.
 */
#ifndef NC_SKB_PLAN_H
#define NC_SKB_PLAN_H

#include "plan.h"

struct btf;

struct nc_skb_plan_opts {
	const char *iface; /* NULL or "any": every interface */
	const char *netns; /* the namespace of iface: a path, or NULL */
	/* FUNC@N through NC_SKB_FENTRY or NC_SKB_KPROBE; NC_SKB_TRACEPOINT: fentry where the
	 * kernel allows it, else a kprobe */
	enum nc_skb_attach attach;
};

/*
 * Plans specs[0..n_specs-1] (spec i is stage stages[i]; NULL: i) against the kernel's BTF.
 * Returns 0, or a negative errno with one line in err.
 */
int nc_skb_plan(struct nc_plan *plan, const struct btf *btf, const struct nc_skb_plan_opts *o,
		char *const *specs, size_t n_specs, const uint32_t *stages, char *err,
		size_t errlen);

#endif
