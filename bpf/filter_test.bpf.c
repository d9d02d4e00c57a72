/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small program that runs the spliced packet filter on one packet for BPF_PROG_TEST_RUN:
 * user space writes the packet into `window` and its lengths into `caplen`/`wirelen`, runs the
 * program (tc type, only because its test runs support repeat and duration without the static-key
 * flips that make each repeated XDP test run take milliseconds; the packet given
 * to the test run is ignored) and reads the filter's return value from `verdict`.
 * Used by the differential test against libpcap and by bench/filter; nc_filter_bench runs the
 * filter NC_FILTER_BENCH_CALLS times per test run so that the harness's own cost is spread thin.
 */
/* vmlinux.h first: the other headers use its types */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "nc_filter.bpf.h"

#define NC_FILTER_BENCH_CALLS 64
#define TC_ACT_OK	      0 /* linux/pkt_cls.h, not in BTF */

struct nc_filter_window window;
__u32 caplen;
__u32 wirelen;
__u32 l3;
__u32 verdict;

/* &window, hidden from the compiler: the filter functions are static, and a constant argument
 * would be propagated into the placeholder and the register left unset at the call */
static __always_inline struct nc_filter_window *win(void)
{
	struct nc_filter_window *w = &window;

	asm volatile("" : "+r"(w));
	return w;
}

SEC("netcap.tc")
int nc_filter_test(struct __sk_buff *ctx)
{
	verdict = l3 ? nc_filter_l3(win(), caplen, wirelen) : nc_filter_l2(win(), caplen, wirelen);
	return TC_ACT_OK;
}

SEC("netcap.tc")
int nc_filter_bench(struct __sk_buff *ctx)
{
	__u32 v = 0;

	for (int i = 0; i < NC_FILTER_BENCH_CALLS; i++)
		v |= l3 ? nc_filter_l3(win(), caplen, wirelen)
			: nc_filter_l2(win(), caplen, wirelen);
	verdict = v;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
