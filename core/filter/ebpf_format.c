/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A printer for eBPF instructions in the verifier's notation. Hand-written because no Debian
 * library exports one (bpftool's and the kernel's disassemblers are not libraries); it covers the
 * instructions the translator emits and prints anything else as raw fields.
 */
#include <stdint.h>
#include <stdio.h>

#include "filter.h"

static const char *alu_op(int op)
{
	switch (op) {
	case BPF_ADD: return "+=";
	case BPF_SUB: return "-=";
	case BPF_MUL: return "*=";
	case BPF_DIV: return "/=";
	case BPF_MOD: return "%=";
	case BPF_OR: return "|=";
	case BPF_AND: return "&=";
	case BPF_XOR: return "^=";
	case BPF_LSH: return "<<=";
	case BPF_RSH: return ">>=";
	case BPF_ARSH: return "s>>=";
	case BPF_MOV: return "=";
	default: return NULL;
	}
}

static const char *jmp_op(int op)
{
	switch (op) {
	case BPF_JEQ: return "==";
	case BPF_JNE: return "!=";
	case BPF_JGT: return ">";
	case BPF_JGE: return ">=";
	case BPF_JLT: return "<";
	case BPF_JLE: return "<=";
	case BPF_JSET: return "&";
	case BPF_JSGT: return "s>";
	case BPF_JSGE: return "s>=";
	case BPF_JSLT: return "s<";
	case BPF_JSLE: return "s<=";
	default: return NULL;
	}
}

static const char *size_name(int size)
{
	switch (size) {
	case BPF_B: return "u8";
	case BPF_H: return "u16";
	case BPF_W: return "u32";
	default: return "u64";
	}
}

int nc_ebpf_format(char *buf, size_t len, const struct bpf_insn *in)
{
	int cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
	char r = (cls == BPF_ALU || cls == BPF_JMP32) ? 'w' : 'r';

	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64:
		if (op == BPF_END) {
			snprintf(buf, len, "r%d = %s%d r%d", in->dst_reg,
				 BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le", in->imm,
				 in->dst_reg);
			return 1;
		}
		if (op == BPF_NEG) {
			snprintf(buf, len, "%c%d = -%c%d", r, in->dst_reg, r, in->dst_reg);
			return 1;
		}
		if (!alu_op(op))
			break;
		if (BPF_SRC(in->code) == BPF_X)
			snprintf(buf, len, "%c%d %s %c%d", r, in->dst_reg, alu_op(op), r,
				 in->src_reg);
		else
			snprintf(buf, len, "%c%d %s %#x", r, in->dst_reg, alu_op(op),
				 (uint32_t)in->imm);
		return 1;
	case BPF_LDX:
		snprintf(buf, len, "r%d = *(%s *)(r%d %+d)", in->dst_reg,
			 size_name(BPF_SIZE(in->code)), in->src_reg, in->off);
		return 1;
	case BPF_STX:
		snprintf(buf, len, "*(%s *)(r%d %+d) = r%d", size_name(BPF_SIZE(in->code)),
			 in->dst_reg, in->off, in->src_reg);
		return 1;
	case BPF_ST:
		snprintf(buf, len, "*(%s *)(r%d %+d) = %d", size_name(BPF_SIZE(in->code)),
			 in->dst_reg, in->off, in->imm);
		return 1;
	case BPF_LD:
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			uint64_t v = (uint32_t)in[0].imm | ((uint64_t)(uint32_t)in[1].imm << 32);

			snprintf(buf, len, "r%d = %#llx ll", in->dst_reg, (unsigned long long)v);
			return 2;
		}
		break;
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_EXIT && cls == BPF_JMP) {
			snprintf(buf, len, "exit");
			return 1;
		}
		if (op == BPF_JA && cls == BPF_JMP) {
			snprintf(buf, len, "goto pc%+d", in->off);
			return 1;
		}
		if (op == BPF_CALL && cls == BPF_JMP) {
			snprintf(buf, len, "call %s%+d",
				 in->src_reg == BPF_PSEUDO_CALL ? "pc" : "#", in->imm);
			return 1;
		}
		if (!jmp_op(op))
			break;
		if (BPF_SRC(in->code) == BPF_X)
			snprintf(buf, len, "if %c%d %s %c%d goto pc%+d", r, in->dst_reg, jmp_op(op),
				 r, in->src_reg, in->off);
		else
			snprintf(buf, len, "if %c%d %s %#x goto pc%+d", r, in->dst_reg, jmp_op(op),
				 (uint32_t)in->imm, in->off);
		return 1;
	}
	snprintf(buf, len, "code %#04x dst r%d src r%d off %d imm %d", in->code, in->dst_reg,
		 in->src_reg, in->off, in->imm);
	return 1;
}
