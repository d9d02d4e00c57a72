/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the two filter targets share: loading a translated filter into the kernel (the verifier
 * must accept it) and comparing its verdicts with libpcap's bpf_filter() on a few fixed packets
 * and one packet made of fuzzer bytes.
 */
#ifndef NC_FUZZ_FILTER_H
#define NC_FUZZ_FILTER_H

#include "filter/filter.h"
#include "fuzz.h"

/* false when this process may not load BPF programs (not root): only the translator runs */
extern bool fuzz_filter_kernel;

/* Checks that BPF programs can be loaded; called once from LLVMFuzzerInitialize(). */
void fuzz_filter_init(void);

/*
 * Loads f (both link types; the verifier must accept them, except for the refusals
 * docs/filters.md documents) and compares every verdict with libpcap's on the fixed packets
 * and on pkt[0..len) with wire length len + extra. Programs are cached by key (the last few),
 * since a load costs about a millisecond.
 */
void fuzz_filter_check(const struct nc_filter *f, const void *key, size_t keylen,
		       const uint8_t *pkt, size_t len, uint32_t extra);

#endif
