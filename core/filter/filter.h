/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet filters: a tcpdump expression compiled by libpcap (cBPF, one program for Ethernet and
 * one for raw IP) and translated into eBPF that runs inside the probe programs (see
 * bpf/nc_filter_abi.h for the calling contract and core/load/splice.h for how it gets there).
 */
#ifndef NC_FILTER_H
#define NC_FILTER_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>

#include "cbpf.h"

/* Longest translation: eBPF jump offsets are 16-bit. */
#define NC_FILTER_MAX_INSNS 32767

struct nc_filter {
	char *expr; /* as given; "" accepts every packet */
	uint32_t snaplen;
	struct nc_cbpf_insn *cbpf[NC_LINK_COUNT];
	unsigned cbpf_len[NC_LINK_COUNT];
	/* Set when the expression does not apply to raw IP (e.g. "arp"): libpcap's reason. The
	 * L3 programs then reject every packet. */
	char *l3_reject_reason;
	struct bpf_insn *ebpf[NC_LINK_COUNT];
	size_t ebpf_len[NC_LINK_COUNT];
};

/*
 * Compiles expr for Ethernet and raw IP and translates both programs. snaplen is the value an
 * accepting filter returns. optimize is passed to pcap_compile() (tcpdump uses 1).
 * Returns 0 and *out (free with nc_filter_free()), or -EINVAL with a one-line reason in err:
 * libpcap's syntax error, or what the expression needs that copied bytes cannot give.
 */
int nc_filter_new(const char *expr, uint32_t snaplen, int optimize, struct nc_filter **out,
		  char *err, size_t errlen);
void nc_filter_free(struct nc_filter *f);

/*
 * Checks a classic BPF program and translates it into the body of an nc_filter_l2/l3 function.
 * Returns 0 with a malloc'ed program in *out and its length in *out_len, or -EINVAL with the
 * reason in err (an instruction libpcap's interpreter would not run, a load that needs socket
 * metadata, a program too long for 16-bit jumps). *out is untouched on failure.
 */
int nc_filter_translate(const struct nc_cbpf_insn *cbpf, unsigned len, struct bpf_insn **out,
			size_t *out_len, char *err, size_t errlen);

/* Prints both programs of f for each link type, as `tcpdump -d` does for the classic one. */
void nc_filter_dump(FILE *out, const struct nc_filter *f);

/* Writes one eBPF instruction in the kernel verifier's notation (no newline); returns the
 * number of slots it used (2 for ld_imm64). */
int nc_ebpf_format(char *buf, size_t len, const struct bpf_insn *insn);

#endif
