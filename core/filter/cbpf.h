/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classic BPF from libpcap. This header includes neither libpcap's nor the kernel's BPF headers
 * (both define struct bpf_insn and the BPF_* macros); cbpf.c is the only file that sees libpcap.
 */
#ifndef NC_CBPF_H
#define NC_CBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One classic BPF instruction: the layout of libpcap's struct bpf_insn and Linux's sock_filter */
struct nc_cbpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

enum nc_link {
	NC_LINK_L2 = 0, /* Ethernet (DLT_EN10MB) */
	NC_LINK_L3 = 1, /* raw IPv4/IPv6, no link header (DLT_RAW) */
	NC_LINK_COUNT
};

/*
 * Compiles a tcpdump expression with pcap_compile() on a dead handle of the given link type.
 * On success *insns is a malloc'ed program of *len instructions (free() it). On failure returns
 * -EINVAL with libpcap's message in err, and leaves *insns untouched.
 */
int nc_cbpf_compile(const char *expr, enum nc_link link, uint32_t snaplen, int optimize,
		    struct nc_cbpf_insn **insns, unsigned *len, char *err, size_t errlen);

/* libpcap's own bpf_validate(): 1 if the program is valid. */
int nc_cbpf_validate(const struct nc_cbpf_insn *insns, unsigned len);

/*
 * Refuses what netcap's compilers (the eBPF translator, the in-process x86-64 compiler) cannot
 * run the way libpcap's interpreter would: loads of Linux socket metadata (SKF_AD_OFF...) or at
 * negative offsets, scratch indexes out of range, division by the constant 0, shifts by 32 or
 * more, jumps out of the program, opcodes outside libpcap's set, no final ret, more than
 * BPF_MAXINSNS instructions. Returns 0 or -EINVAL with one line in err. No libpcap needed.
 */
int nc_cbpf_check(const struct nc_cbpf_insn *prog, unsigned len, char *err, size_t errlen);

/* Marks in reach[0..len-1] the instructions of a checked program some path reaches (both
 * compilers leave the others out). 0, or -ENOMEM. */
int nc_cbpf_reachable(const struct nc_cbpf_insn *prog, unsigned len, bool *reach);

/* libpcap's interpreter, bpf_filter(): the oracle for the translator. */
unsigned nc_cbpf_run(const struct nc_cbpf_insn *insns, const uint8_t *pkt, unsigned wirelen,
		     unsigned buflen);

/* libpcap's bpf_image(): one instruction as tcpdump -d prints it (static buffer). */
const char *nc_cbpf_image(const struct nc_cbpf_insn *insn, unsigned n);

#endif
