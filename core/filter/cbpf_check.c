/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What netcap's two compilers of libpcap's programs (translate.c: to eBPF for the kernel probes;
 * core/jit: to x86-64 for the in-process agent) refuse: whatever would not run the way libpcap's
 * interpreter runs it on copied packet bytes. Plain C and libc (and util/err.c).
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "cbpf.h"

/* Linux socket ancillary data (SKF_AD_OFF + n): what libpcap asks of a live Linux socket. */
static const char *ancillary_name(uint32_t k)
{
	switch (k - (uint32_t)SKF_AD_OFF) {
	case SKF_AD_PROTOCOL: return "the skb protocol";
	case SKF_AD_PKTTYPE: return "the packet direction (inbound/outbound)";
	case SKF_AD_IFINDEX: return "the interface index (ifindex)";
	case SKF_AD_NLATTR:
	case SKF_AD_NLATTR_NEST: return "netlink attributes";
	case SKF_AD_MARK: return "the packet mark";
	case SKF_AD_QUEUE: return "the queue";
	case SKF_AD_HATYPE: return "the hardware type";
	case SKF_AD_RXHASH: return "the receive hash";
	case SKF_AD_CPU: return "the CPU";
	case SKF_AD_VLAN_TAG:
	case SKF_AD_VLAN_TAG_PRESENT:
	case SKF_AD_VLAN_TPID: return "the VLAN tag stripped by the NIC";
	case SKF_AD_PAY_OFFSET: return "the payload offset";
	case SKF_AD_RANDOM: return "a random number";
	default: return "Linux socket metadata";
	}
}

static int bad_insn(char *err, size_t errlen, unsigned i, const struct nc_cbpf_insn *p,
		    const char *why)
{
	return nc_err(err, errlen, EINVAL, "cBPF instruction %u (code 0x%02x, k %u): %s", i,
		      p->code, p->k, why);
}

int nc_cbpf_check(const struct nc_cbpf_insn *prog, unsigned len, char *err, size_t errlen)
{
	if (len == 0 || len > BPF_MAXINSNS)
		return nc_err(err, errlen, EINVAL,
			      "cBPF program of %u instructions (1..%d allowed)", len, BPF_MAXINSNS);
	for (unsigned i = 0; i < len; i++) {
		const struct nc_cbpf_insn *p = &prog[i];

		switch (p->code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (p->k >= (uint32_t)SKF_AD_OFF)
				return nc_err(
				    err, errlen, EINVAL,
				    "the filter needs %s, which a Linux socket supplies "
				    "but copied packet bytes do not; drop that part of "
				    "the expression (for direction, pick an rx or tx hook)",
				    ancillary_name(p->k));
			if (p->k >= (uint32_t)SKF_LL_OFF)
				return bad_insn(
				    err, errlen, i, p,
				    "negative (Linux SKF_*_OFF) load offsets are not supported");
			break;
		case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND:
		case BPF_LDX | BPF_B | BPF_MSH:
		case BPF_LD | BPF_W | BPF_LEN:
		case BPF_LDX | BPF_W | BPF_LEN:
		case BPF_LD | BPF_IMM:
		case BPF_LDX | BPF_IMM:
		case BPF_RET | BPF_K:
		case BPF_RET | BPF_A:
		case BPF_MISC | BPF_TAX:
		case BPF_MISC | BPF_TXA:
		case BPF_ALU | BPF_NEG: break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (p->k >= BPF_MEMWORDS)
				return bad_insn(err, errlen, i, p,
						"scratch memory index out of range");
			break;
		case BPF_ALU | BPF_ADD | BPF_K:
		case BPF_ALU | BPF_SUB | BPF_K:
		case BPF_ALU | BPF_MUL | BPF_K:
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_ALU | BPF_OR | BPF_K:
		case BPF_ALU | BPF_XOR | BPF_K:
		case BPF_ALU | BPF_ADD | BPF_X:
		case BPF_ALU | BPF_SUB | BPF_X:
		case BPF_ALU | BPF_MUL | BPF_X:
		case BPF_ALU | BPF_DIV | BPF_X:
		case BPF_ALU | BPF_MOD | BPF_X:
		case BPF_ALU | BPF_AND | BPF_X:
		case BPF_ALU | BPF_OR | BPF_X:
		case BPF_ALU | BPF_XOR | BPF_X:
		case BPF_ALU | BPF_LSH | BPF_X:
		case BPF_ALU | BPF_RSH | BPF_X: break;
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_K:
			if (p->k == 0)
				return bad_insn(err, errlen, i, p, "division by the constant 0");
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			/* libpcap's interpreter leaves this to the C compiler (undefined) */
			if (p->k >= 32)
				return bad_insn(err, errlen, i, p, "shift by 32 or more bits");
			break;
		case BPF_JMP | BPF_JA: {
			/* backward jumps exist: libpcap implements `protochain` with them */
			int64_t t = (int64_t)i + 1 + (int32_t)p->k;

			if (t < 0 || t >= len)
				return bad_insn(err, errlen, i, p, "jump out of the program");
			break;
		}
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_X:
			if (i + 1 + p->jt >= len || i + 1 + p->jf >= len)
				return bad_insn(err, errlen, i, p, "jump out of the program");
			break;
		default:
			return bad_insn(err, errlen, i, p,
					"opcode not in libpcap's instruction set");
		}
	}
	if (BPF_CLASS(prog[len - 1].code) != BPF_RET)
		return bad_insn(err, errlen, len - 1, &prog[len - 1],
				"program does not end in ret");
	return 0;
}

int nc_cbpf_reachable(const struct nc_cbpf_insn *prog, unsigned len, bool *reach)
{
	unsigned *stack = malloc(len * sizeof(*stack)), top = 0;

	if (!stack)
		return -ENOMEM;
	memset(reach, 0, len * sizeof(*reach));
	reach[0] = true;
	stack[top++] = 0;
	while (top) {
		unsigned i = stack[--top], succ[2], n = 0;
		const struct nc_cbpf_insn *p = &prog[i];

		if (BPF_CLASS(p->code) == BPF_RET)
			continue;
		if (p->code == (BPF_JMP | BPF_JA)) {
			succ[n++] = (unsigned)((int64_t)i + 1 + (int32_t)p->k);
		} else if (BPF_CLASS(p->code) == BPF_JMP) {
			succ[n++] = i + 1 + p->jt;
			succ[n++] = i + 1 + p->jf;
		} else {
			succ[n++] = i + 1;
		}
		for (unsigned s = 0; s < n; s++) {
			if (!reach[succ[s]]) {
				reach[succ[s]] = true;
				stack[top++] = succ[s];
			}
		}
	}
	free(stack);
	return 0;
}
