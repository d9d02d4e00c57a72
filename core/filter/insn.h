/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * eBPF instruction builders (the kernel's include/linux/filter.h keeps its own out of the uapi
 * headers). Shared by the translator, the splicer and the tests.
 */
#ifndef NC_INSN_H
#define NC_INSN_H

#include <linux/bpf.h>

#define NC_INSN(c, d, s, o, i)                                                                     \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

/* dst = src (64 bit) */
#define NC_MOV64_REG(d, s) NC_INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
/* (u32)dst = (u32)src, upper half zeroed */
#define NC_MOV32_REG(d, s) NC_INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
/* (u32)dst = (u32)imm, upper half zeroed: any 32-bit constant, no sign extension */
#define NC_MOV32_IMM(d, i) NC_INSN(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
/* (u32)dst op= (u32)imm */
#define NC_ALU32_IMM(op, d, i) NC_INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
/* (u32)dst op= (u32)src */
#define NC_ALU32_REG(op, d, s) NC_INSN(BPF_ALU | (op) | BPF_X, d, s, 0, 0)
/* dst op= (s64)imm */
#define NC_ALU64_IMM(op, d, i) NC_INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
/* dst op= src */
#define NC_ALU64_REG(op, d, s) NC_INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
/* dst = htobe##bits(dst), upper bits zeroed */
#define NC_TO_BE(d, bits) NC_INSN(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, bits)
/* dst = *(size *)(src + off) */
#define NC_LDX_MEM(size, d, s, o) NC_INSN(BPF_LDX | BPF_MEM | (size), d, s, o, 0)
/* *(size *)(dst + off) = src */
#define NC_STX_MEM(size, d, s, o) NC_INSN(BPF_STX | BPF_MEM | (size), d, s, o, 0)
/* *(size *)(dst + off) = imm */
#define NC_ST_MEM(size, d, o, i) NC_INSN(BPF_ST | BPF_MEM | (size), d, 0, o, i)
/* if ((u64)dst op (s64)imm) goto pc + off */
#define NC_JMP_IMM(op, d, i, o) NC_INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
/* if ((u64)dst op (u64)src) goto pc + off */
#define NC_JMP_REG(op, d, s, o) NC_INSN(BPF_JMP | (op) | BPF_X, d, s, o, 0)
/* if ((u32)dst op (u32)imm) goto pc + off */
#define NC_JMP32_IMM(op, d, i, o) NC_INSN(BPF_JMP32 | (op) | BPF_K, d, 0, o, i)
/* if ((u32)dst op (u32)src) goto pc + off */
#define NC_JMP32_REG(op, d, s, o) NC_INSN(BPF_JMP32 | (op) | BPF_X, d, s, o, 0)
/* goto pc + off */
#define NC_JA(o)  NC_INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define NC_EXIT() NC_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#endif
