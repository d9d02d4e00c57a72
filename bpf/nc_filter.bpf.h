/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Filter placeholders for probe programs (see nc_filter_abi.h for the contract). Include this
 * header in exactly one .bpf.c per object. The functions are static: a global function may take
 * no pointer but the context before Linux 5.12, so the verifier checks the filter at each call
 * site (one or two per program); their bodies are opaque to the compiler (inline asm that takes
 * every argument), so calls are neither folded nor stripped of their arguments.
 */
#ifndef NC_FILTER_BPF_H
#define NC_FILTER_BPF_H

#include "nc_filter_abi.h"

#define NC__STR(x) #x
#define NC_STR(x)  NC__STR(x)

static __attribute__((noinline, unused)) int nc_filter_l2(const struct nc_filter_window *win,
							  __u32 caplen, __u32 wirelen)
{
	long ret;

	asm volatile("%0 = " NC_STR(NC_FILTER_MAGIC_L2) " ll"
		     : "=r"(ret)
		     : "r"(win), "r"(caplen), "r"(wirelen));
	return (int)ret;
}

static __attribute__((noinline, unused)) int nc_filter_l3(const struct nc_filter_window *win,
							  __u32 caplen, __u32 wirelen)
{
	long ret;

	asm volatile("%0 = " NC_STR(NC_FILTER_MAGIC_L3) " ll"
		     : "=r"(ret)
		     : "r"(win), "r"(caplen), "r"(wirelen));
	return (int)ret;
}

#endif
