/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cBPF -> x86-64 over a burst of mbufs (contract in burst_jit.h).
 *
 * A check pass refuses what libpcap's interpreter would not run the same way; then the code is
 * generated pass after pass until its size no longer changes: the first pass makes every jump
 * long (rel32), later passes make a jump short (rel8) when the previous pass shows its target
 * near, or drop it when its target is the next byte. Code only shrinks from pass to pass, so the
 * addresses settle; the last pass writes the bytes with the settled addresses. Three facts
 * found before make the code shorter: a bounds check that earlier checks prove on every path
 * is left out, A and X are zeroed only if some path reads them first (analyse()), and a 16- or
 * 32-bit load read only by jeq #k / jset #k stays in packet byte order (find_raw()).
 *
 * Registers of the generated code:
 *   callee-saved, for the whole burst:  r12 mbufs, r13d n, r14 verdict, r15d i, ebx matches,
 *                                        rbp ctx; [rsp + SLOW] the slow-path function
 *   per packet (nothing is called):     r10 the mbuf, rdi its data, esi the bytes the filter may
 *                                        read in place (data_len), r9d pkt_len,
 *                                        eax A, r8d X (both kept zero-extended), ecx/edx/r11
 *                                        scratch (shift count, division)
 * Frame: M[0..15] at [rsp], the slow function at [rsp + 64], the backward-jump budget at
 * [rsp + 72]; 6 pushes + 88 bytes keep rsp 16-byte aligned at the slow-path call.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11, for the agent's own build */
#include "burst_jit.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../bpf/nc_record.h"
#include "../util/err.h"

enum reg { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* x86 condition codes (the low nibble of Jcc / CMOVcc); cc ^ 1 is the inverse */
enum cc { CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7 };

/* group-1 ALU operations: the /digit of 0x81/0x83, and (<< 3 | 1) their r/m32, r32 opcode */
enum alu { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };

#define FRAME	    88
#define SLOW_SLOT   64
#define BACK_SLOT   72
#define M_SLOT(k)   ((int32_t)(4 * (k)))
#define NO_INDEX    (-1)
#define JMP_ALWAYS  (-1)
#define MAX_PASSES  32
#define EXTRA_JUMPS 16 /* jumps outside the translated instructions */

/* labels after the program's own instructions (label i < len is cBPF instruction i) */
enum label {
	L_LOOP,	  /* the next packet */
	L_REJECT, /* verdict 0 */
	L_STORE,  /* verdict eax, counted if not 0 */
	L_PUT,	  /* verdict eax, already counted */
	L_DONE,
	L_OOB,	/* a load past the bytes in place */
	L_SLOW, /* verdict from the slow path */
	L_COUNT
};

struct jit {
	uint8_t *buf; /* NULL until the writing pass */
	size_t pos;
	const struct nc_jit_layout *lay;
	unsigned len;	       /* cBPF instructions */
	size_t *lab_old;       /* label addresses of the previous pass (len + L_COUNT) */
	size_t *lab_new;       /* ... of this pass */
	bool *placed;	       /* this pass has placed the label */
	size_t *jend_old;      /* end of jump m in the previous pass */
	size_t *jend_new;      /* ... in this pass */
	size_t njumps;	       /* jumps emitted this pass */
	size_t max_jumps;      /* room in jend_* */
	const uint32_t *known; /* known[i]: bytes in place proven on every path to insn i */
	const struct nc_cbpf_insn *prog;
	const int32_t *adef; /* adef[i]: the load whose value A holds at insn i (find_raw()) */
	const bool *raw;     /* raw[i]: load i leaves A in packet byte order */
	bool long_only;	     /* every jump rel32 (the first pass, and the fallback) */
	bool jumps_overrun;  /* more jumps than max_jumps: a bug, reported as such */
};

/* ---- bytes ---- */

static void byte(struct jit *j, uint8_t v)
{
	if (j->buf)
		j->buf[j->pos] = v;
	j->pos++;
}

static void imm32(struct jit *j, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		byte(j, (uint8_t)(v >> (8 * i)));
}

static void imm64(struct jit *j, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		byte(j, (uint8_t)(v >> (8 * i)));
}

static bool fits8(int64_t v)
{
	return v >= -128 && v <= 127;
}

/* REX prefix if any of its bits is needed: w 64-bit operand, r ModRM.reg, x SIB.index, b base */
static void rex(struct jit *j, int w, int r, int x, int b)
{
	uint8_t v = (uint8_t)(0x40 | w << 3 | (r >> 3 & 1) << 2 | (x >> 3 & 1) << 1 | (b >> 3 & 1));

	if (v != 0x40)
		byte(j, v);
}

static void modrm(struct jit *j, int mod, int reg, int rm)
{
	byte(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | (rm & 7)));
}

/* ModRM (+SIB, +displacement) for [base + index * 2^scale + disp]; index may be NO_INDEX */
static void mem(struct jit *j, int reg, int base, int index, int scale, int32_t disp)
{
	int mod = disp == 0 && (base & 7) != RBP ? 0 : fits8(disp) ? 1 : 2;

	if (index == NO_INDEX && (base & 7) != RSP) {
		modrm(j, mod, reg, base);
	} else {
		modrm(j, mod, reg, RSP);
		byte(j, (uint8_t)(scale << 6 | ((index == NO_INDEX ? RSP : index) & 7) << 3 |
				  (base & 7)));
	}
	if (mod == 1)
		byte(j, (uint8_t)disp);
	else if (mod == 2)
		imm32(j, (uint32_t)disp);
}

/* op reg, [mem] (or op [mem], reg), with one- or two-byte opcode op (0x0fXX), w 64-bit */
static void op_mem(struct jit *j, int w, unsigned op, int reg, int base, int index, int scale,
		   int32_t disp)
{
	rex(j, w, reg, index == NO_INDEX ? 0 : index, base);
	if (op > 0xff)
		byte(j, (uint8_t)(op >> 8));
	byte(j, (uint8_t)op);
	mem(j, reg, base, index, scale, disp);
}

/* op with ModRM register form: reg field `reg`, r/m field `rm` */
static void op_reg(struct jit *j, int w, unsigned op, int reg, int rm)
{
	rex(j, w, reg, 0, rm);
	if (op > 0xff)
		byte(j, (uint8_t)(op >> 8));
	byte(j, (uint8_t)op);
	modrm(j, 3, reg, rm);
}

/* ---- instructions ---- */

static void push(struct jit *j, int r)
{
	rex(j, 0, 0, 0, r);
	byte(j, (uint8_t)(0x50 | (r & 7)));
}

static void pop(struct jit *j, int r)
{
	rex(j, 0, 0, 0, r);
	byte(j, (uint8_t)(0x58 | (r & 7)));
}

/* mov dst, src (32-bit: zero-extends; w: 64-bit) */
static void mov_rr(struct jit *j, int w, int dst, int src)
{
	op_reg(j, w, 0x89, src, dst);
}

/* alu dst, src (32-bit, or 64-bit with w) */
static void alu_rr(struct jit *j, int w, enum alu op, int dst, int src)
{
	op_reg(j, w, (unsigned)op << 3 | 1, src, dst);
}

/* alu dst32, imm */
static void alu_ri(struct jit *j, enum alu op, int dst, uint32_t imm)
{
	if (fits8((int32_t)imm)) {
		op_reg(j, 0, 0x83, (int)op, dst);
		byte(j, (uint8_t)imm);
	} else if (dst == RAX) {
		byte(j, (uint8_t)(op << 3 | 5));
		imm32(j, imm);
	} else {
		op_reg(j, 0, 0x81, (int)op, dst);
		imm32(j, imm);
	}
}

/* mov dst32, imm (zero-extends) */
static void mov_ri(struct jit *j, int dst, uint32_t imm)
{
	if (imm == 0) {
		alu_rr(j, 0, ALU_XOR, dst, dst);
		return;
	}
	rex(j, 0, 0, 0, dst);
	byte(j, (uint8_t)(0xb8 | (dst & 7)));
	imm32(j, imm);
}

static void test_rr(struct jit *j, int w, int a, int b)
{
	op_reg(j, w, 0x85, b, a);
}

/* test eax, imm32 */
static void test_eax_imm(struct jit *j, uint32_t imm)
{
	byte(j, 0xa9);
	imm32(j, imm);
}

/* shl/shr r32, imm (ext 4 shl, 5 shr) */
static void shift_ri(struct jit *j, int ext, int r, uint8_t n)
{
	op_reg(j, 0, 0xc1, ext, r);
	byte(j, n);
}

/* jmp or jcc to label l; see the file comment for the choice of size */
static void jump(struct jit *j, int cc, unsigned l)
{
	size_t m = j->njumps++;
	int64_t target, dist;
	bool is_short;

	if (m >= j->max_jumps) {
		j->jumps_overrun = true;
		return;
	}
	if (j->placed[l]) { /* backward: this pass's address is final for this pass */
		target = (int64_t)j->lab_new[l];
		is_short = !j->long_only && fits8(target - (int64_t)(j->pos + 2));
	} else { /* forward: the previous pass's distance, which only shrinks */
		target = (int64_t)j->lab_old[l];
		dist = target - (int64_t)j->jend_old[m];
		if (!j->long_only && dist == 0) { /* to the next byte: no jump at all */
			j->jend_new[m] = j->pos;
			return;
		}
		is_short = !j->long_only && dist <= 127;
	}
	if (is_short) {
		byte(j, cc == JMP_ALWAYS ? 0xeb : (uint8_t)(0x70 | cc));
		byte(j, (uint8_t)(target - (int64_t)(j->pos + 1)));
	} else if (cc == JMP_ALWAYS) {
		byte(j, 0xe9);
		imm32(j, (uint32_t)(target - (int64_t)(j->pos + 4)));
	} else {
		byte(j, 0x0f);
		byte(j, (uint8_t)(0x80 | cc));
		imm32(j, (uint32_t)(target - (int64_t)(j->pos + 4)));
	}
	j->jend_new[m] = j->pos;
}

static void place(struct jit *j, unsigned l)
{
	j->lab_new[l] = j->pos;
	j->placed[l] = true;
}

static unsigned label(const struct jit *j, enum label l)
{
	return j->len + l;
}

/* ---- the check pass: nc_cbpf_check() (core/filter/cbpf_check.c) ---- */

static int check_layout(const struct nc_jit_layout *lay, char *err, size_t errlen)
{
	if (lay->window < 1 || lay->window > NC_JIT_MAX_WINDOW)
		return nc_err(err, errlen, EINVAL, "filter window of %u bytes (1..%d allowed)",
			      lay->window, NC_JIT_MAX_WINDOW);
	return 0;
}

/* ---- code ---- */

static int size_of(uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	default: return 1;
	}
}

/*
 * A = the big-endian value of `size` bytes at [rdi + index + disp], the bounds already checked;
 * left in packet byte order if raw.
 */
static void load_packet(struct jit *j, int size, int index, int32_t disp, bool raw)
{
	switch (size) {
	case 1: op_mem(j, 0, 0x0fb6, RAX, RDI, index, 0, disp); break; /* movzx eax, byte */
	case 2:
		op_mem(j, 0, 0x0fb7, RAX, RDI, index, 0, disp); /* movzx eax, word */
		if (!raw) {					/* rol ax, 8 */
			byte(j, 0x66);
			byte(j, 0xc1);
			byte(j, 0xc0);
			byte(j, 8);
		}
		break;
	default:
		op_mem(j, 0, 0x8b, RAX, RDI, index, 0, disp); /* mov eax, dword */
		if (!raw) {				      /* bswap eax */
			byte(j, 0x0f);
			byte(j, 0xc8);
		}
		break;
	}
}

static uint32_t swap16(uint32_t v)
{
	return (v >> 8 & 0xff) | (v & 0xff) << 8;
}

static uint32_t swap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v & 0xff00) << 8 | v << 24;
}

/*
 * The constant of jeq #k / jset #k (instruction i) as it compares with A: swapped when A holds
 * a load left in packet byte order. A 16-bit value never equals a k above 0xffff, swapped or not.
 */
static uint32_t cmp_const(const struct jit *j, const struct nc_cbpf_insn *p, unsigned i)
{
	int32_t d = j->adef[i];

	if (d < 0 || !j->raw[d] || BPF_SRC(p->code) != BPF_K)
		return p->k;
	if (BPF_SIZE(j->prog[d].code) == BPF_W)
		return swap32(p->k);
	if (BPF_OP(p->code) == BPF_JSET)
		return swap16(p->k & 0xffff);
	return p->k > 0xffff ? p->k : swap16(p->k);
}

/* if (A op k|X) goto jt else goto jf */
static void cond_jump(struct jit *j, const struct nc_cbpf_insn *p, unsigned i)
{
	unsigned t = i + 1 + p->jt, f = i + 1 + p->jf;
	int cc;

	if (p->jt == p->jf) {
		jump(j, JMP_ALWAYS, t);
		return;
	}
	if (BPF_OP(p->code) == BPF_JSET) {
		if (BPF_SRC(p->code) == BPF_X)
			test_rr(j, 0, RAX, R8);
		else
			test_eax_imm(j, cmp_const(j, p, i));
		cc = CC_NE;
	} else {
		if (BPF_SRC(p->code) == BPF_X)
			alu_rr(j, 0, ALU_CMP, RAX, R8);
		else
			alu_ri(j, ALU_CMP, RAX, cmp_const(j, p, i));
		cc = BPF_OP(p->code) == BPF_JEQ ? CC_E : BPF_OP(p->code) == BPF_JGT ? CC_A : CC_AE;
	}
	if (p->jf == 0) {
		jump(j, cc, t);
	} else if (p->jt == 0) {
		jump(j, cc ^ 1, f);
	} else {
		jump(j, cc, t);
		jump(j, JMP_ALWAYS, f);
	}
}

static void translate_one(struct jit *j, const struct nc_cbpf_insn *p, unsigned i)
{
	uint32_t window = j->lay->window;
	int size = size_of(p->code);

	switch (p->code) {
	/* A = P[k:size]: inside the first segment, else the out-of-segment path */
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
		if ((uint64_t)p->k + (unsigned)size > window) { /* never inside the window */
			jump(j, JMP_ALWAYS, label(j, L_REJECT));
			break;
		}
		if (j->known[i] < p->k + (unsigned)size) {
			alu_ri(j, ALU_CMP, RSI, p->k + (unsigned)size);
			jump(j, CC_B, label(j, L_OOB));
		}
		load_packet(j, size, NO_INDEX, (int32_t)p->k, j->raw[i]);
		break;
	/* A = P[X + k:size]; X + k in 64 bits, so it cannot wrap */
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
		if ((uint64_t)p->k + (unsigned)size > window) {
			jump(j, JMP_ALWAYS, label(j, L_REJECT));
			break;
		}
		op_mem(j, 1, 0x8d, R11, R8, NO_INDEX, 0,
		       (int32_t)(p->k + (unsigned)size)); /* lea r11, [r8 + k + size] */
		op_reg(j, 1, 0x81, ALU_CMP, R11);	  /* cmp r11, window */
		imm32(j, window);
		jump(j, CC_A, label(j, L_REJECT));
		alu_rr(j, 1, ALU_CMP, R11, RSI);
		jump(j, CC_A, label(j, L_OOB));
		load_packet(j, size, R8, (int32_t)p->k, j->raw[i]);
		break;
	/* X = 4 * (P[k] & 0xf) */
	case BPF_LDX | BPF_B | BPF_MSH:
		if ((uint64_t)p->k + 1 > window) {
			jump(j, JMP_ALWAYS, label(j, L_REJECT));
			break;
		}
		if (j->known[i] < p->k + 1) {
			alu_ri(j, ALU_CMP, RSI, p->k + 1);
			jump(j, CC_B, label(j, L_OOB));
		}
		op_mem(j, 0, 0x0fb6, R8, RDI, NO_INDEX, 0, (int32_t)p->k); /* movzx r8d, byte */
		alu_ri(j, ALU_AND, R8, 0xf);
		shift_ri(j, 4, R8, 2);
		break;
	/* A = len, X = len */
	case BPF_LD | BPF_W | BPF_LEN: mov_rr(j, 0, RAX, R9); break;
	case BPF_LDX | BPF_W | BPF_LEN: mov_rr(j, 0, R8, R9); break;
	/* A = k, X = k */
	case BPF_LD | BPF_IMM: mov_ri(j, RAX, p->k); break;
	case BPF_LDX | BPF_IMM: mov_ri(j, R8, p->k); break;
	/* A = M[k], X = M[k], M[k] = A, M[k] = X */
	case BPF_LD | BPF_MEM: op_mem(j, 0, 0x8b, RAX, RSP, NO_INDEX, 0, M_SLOT(p->k)); break;
	case BPF_LDX | BPF_MEM: op_mem(j, 0, 0x8b, R8, RSP, NO_INDEX, 0, M_SLOT(p->k)); break;
	case BPF_ST: op_mem(j, 0, 0x89, RAX, RSP, NO_INDEX, 0, M_SLOT(p->k)); break;
	case BPF_STX: op_mem(j, 0, 0x89, R8, RSP, NO_INDEX, 0, M_SLOT(p->k)); break;
	/* A op= k */
	case BPF_ALU | BPF_ADD | BPF_K: alu_ri(j, ALU_ADD, RAX, p->k); break;
	case BPF_ALU | BPF_SUB | BPF_K: alu_ri(j, ALU_SUB, RAX, p->k); break;
	case BPF_ALU | BPF_AND | BPF_K: alu_ri(j, ALU_AND, RAX, p->k); break;
	case BPF_ALU | BPF_OR | BPF_K: alu_ri(j, ALU_OR, RAX, p->k); break;
	case BPF_ALU | BPF_XOR | BPF_K: alu_ri(j, ALU_XOR, RAX, p->k); break;
	case BPF_ALU | BPF_MUL | BPF_K: /* imul eax, eax, k: the low 32 bits are unsigned's */
		op_reg(j, 0, 0x69, RAX, RAX);
		imm32(j, p->k);
		break;
	case BPF_ALU | BPF_LSH | BPF_K:
		if (p->k)
			shift_ri(j, 4, RAX, (uint8_t)p->k);
		break;
	case BPF_ALU | BPF_RSH | BPF_K:
		if (p->k)
			shift_ri(j, 5, RAX, (uint8_t)p->k);
		break;
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_MOD | BPF_K: /* k != 0 (checked) */
		mov_ri(j, RCX, p->k);
		mov_ri(j, RDX, 0);
		op_reg(j, 0, 0xf7, 6, RCX); /* div ecx */
		if (BPF_OP(p->code) == BPF_MOD)
			mov_rr(j, 0, RAX, RDX);
		break;
	/* A op= X */
	case BPF_ALU | BPF_ADD | BPF_X: alu_rr(j, 0, ALU_ADD, RAX, R8); break;
	case BPF_ALU | BPF_SUB | BPF_X: alu_rr(j, 0, ALU_SUB, RAX, R8); break;
	case BPF_ALU | BPF_AND | BPF_X: alu_rr(j, 0, ALU_AND, RAX, R8); break;
	case BPF_ALU | BPF_OR | BPF_X: alu_rr(j, 0, ALU_OR, RAX, R8); break;
	case BPF_ALU | BPF_XOR | BPF_X: alu_rr(j, 0, ALU_XOR, RAX, R8); break;
	case BPF_ALU | BPF_MUL | BPF_X: op_reg(j, 0, 0x0faf, RAX, R8); break; /* imul eax, r8d */
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_X: /* X == 0 rejects */
		test_rr(j, 0, R8, R8);
		jump(j, CC_E, label(j, L_REJECT));
		mov_ri(j, RDX, 0);
		op_reg(j, 0, 0xf7, 6, R8); /* div r8d */
		if (BPF_OP(p->code) == BPF_MOD)
			mov_rr(j, 0, RAX, RDX);
		break;
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_X: /* X >= 32 gives 0 (x86 would shift by X & 31) */
		mov_rr(j, 0, RCX, R8);
		op_reg(j, 0, 0xd3, BPF_OP(p->code) == BPF_LSH ? 4 : 5, RAX); /* shl/shr eax, cl */
		mov_ri(j, RDX, 0);
		alu_ri(j, ALU_CMP, R8, 32);
		op_reg(j, 0, 0x0f40 | CC_AE, RAX, RDX); /* cmovae eax, edx */
		break;
	/* A = -A */
	case BPF_ALU | BPF_NEG: op_reg(j, 0, 0xf7, 3, RAX); break;
	/* X = A, A = X */
	case BPF_MISC | BPF_TAX: mov_rr(j, 0, R8, RAX); break;
	case BPF_MISC | BPF_TXA: mov_rr(j, 0, RAX, R8); break;
	/* return k, return A */
	case BPF_RET | BPF_K:
		if (p->k == 0) {
			jump(j, JMP_ALWAYS, label(j, L_REJECT));
		} else {
			mov_ri(j, RAX, p->k);
			op_reg(j, 0, 0xff, 0, RBX); /* inc ebx: one match more */
			jump(j, JMP_ALWAYS, label(j, L_PUT));
		}
		break;
	case BPF_RET | BPF_A: jump(j, JMP_ALWAYS, label(j, L_STORE)); break;
	/* goto k; backward (signed k) only NC_JIT_MAX_BACKWARD times per packet */
	case BPF_JMP | BPF_JA: {
		unsigned t = (unsigned)((int64_t)i + 1 + (int32_t)p->k);

		if (t <= i) {
			op_mem(j, 0, 0x83, ALU_SUB, RSP, NO_INDEX, 0, BACK_SLOT); /* sub [..], 1 */
			byte(j, 1);
			jump(j, CC_B, label(j, L_REJECT));
		}
		jump(j, JMP_ALWAYS, t);
		break;
	}
	default: cond_jump(j, p, i); break;
	}
}

/* What the per-packet prologue must set up. */
struct needs {
	bool data;		     /* packet bytes are read: find the first segment */
	bool len;		     /* `len` is read: load pkt_len */
	bool backward;		     /* a backward jump: reset the budget */
	bool zero_a, zero_x;	     /* A or X may be read before it is written */
	bool mem_read[BPF_MEMWORDS]; /* M[k] is read: zero it */
};

/*
 * The flags test: `test [r10 + ol_flags + lo], mask >> 8 * lo` of the narrowest width (1 or 4
 * bytes, inside the 8 of ol_flags) that holds every set bit, else through r11.
 */
static void flags_test(struct jit *j)
{
	uint64_t mask = j->lay->slow_flags;
	int lo = 0, hi = 7, width = 1;

	while (!(mask >> (8 * lo) & 0xff))
		lo++;
	while (!(mask >> (8 * hi) & 0xff))
		hi--;
	while (width < hi - lo + 1)
		width *= 2;
	if (width == 2) /* no imm16: a length-changing prefix stalls Intel's decoders */
		width = 4;
	if (lo > 8 - width)
		lo = 8 - width;

	uint64_t m = mask >> (8 * lo);
	int32_t disp = (int32_t)j->lay->ol_flags + lo;

	switch (width) {
	case 1:
		op_mem(j, 0, 0xf6, 0, R10, NO_INDEX, 0, disp); /* test byte [..], imm8 */
		byte(j, (uint8_t)m);
		break;
	case 4:
		op_mem(j, 0, 0xf7, 0, R10, NO_INDEX, 0, disp); /* test dword [..], imm32 */
		imm32(j, (uint32_t)m);
		break;
	default:
		rex(j, 1, 0, 0, R11); /* mov r11, imm64 */
		byte(j, (uint8_t)(0xb8 | (R11 & 7)));
		imm64(j, mask);
		op_mem(j, 1, 0x85, R11, R10, NO_INDEX, 0, (int32_t)j->lay->ol_flags);
		break;
	}
}

/* One pass: the whole function. */
static void gen(struct jit *j, const struct nc_cbpf_insn *prog, const bool *reach,
		const struct needs *nd)
{
	const struct nc_jit_layout *lay = j->lay;
	static const int saved[] = {RBX, RBP, R12, R13, R14, R15};

	j->pos = 0;
	j->njumps = 0;
	memset(j->placed, 0, (j->len + L_COUNT) * sizeof(*j->placed));

	/* prologue: keep the arguments in callee-saved registers */
	for (size_t r = 0; r < sizeof(saved) / sizeof(saved[0]); r++)
		push(j, saved[r]);
	rex(j, 1, 0, 0, RSP); /* sub rsp, FRAME */
	byte(j, 0x83);
	modrm(j, 3, ALU_SUB, RSP);
	byte(j, FRAME);
	mov_rr(j, 1, R12, RDI);
	mov_rr(j, 0, R13, RSI);
	mov_rr(j, 1, R14, RDX);
	op_mem(j, 1, 0x89, RCX, RSP, NO_INDEX, 0, SLOW_SLOT);
	mov_rr(j, 1, RBP, R8);
	mov_ri(j, RBX, 0);
	mov_ri(j, R15, 0);
	test_rr(j, 0, R13, R13);
	jump(j, CC_E, label(j, L_DONE));

	/* per packet: the mbuf, the slow-path test, the first segment */
	place(j, label(j, L_LOOP));
	op_mem(j, 1, 0x8b, R10, R12, R15, 3, 0); /* mov r10, [r12 + r15 * 8] */
	test_rr(j, 1, R10, R10);
	jump(j, CC_E, label(j, L_REJECT));
	if (lay->slow_flags) {
		flags_test(j);
		jump(j, CC_NE, label(j, L_SLOW));
	}
	if (nd->data) {
		op_mem(j, 1, 0x8b, RDI, R10, NO_INDEX, 0, lay->buf_addr);   /* mov rdi, buf_addr */
		op_mem(j, 0, 0x0fb7, RCX, R10, NO_INDEX, 0, lay->data_off); /* movzx ecx, .. */
		alu_rr(j, 1, ALU_ADD, RDI, RCX);
		op_mem(j, 0, 0x0fb7, RSI, R10, NO_INDEX, 0, lay->data_len); /* movzx esi, .. */
	}
	if (nd->len)
		op_mem(j, 0, 0x8b, R9, R10, NO_INDEX, 0, lay->pkt_len); /* mov r9d, pkt_len */
	if (nd->zero_a)
		mov_ri(j, RAX, 0);
	if (nd->zero_x)
		mov_ri(j, R8, 0);
	for (unsigned m = 0; m < BPF_MEMWORDS; m++) {
		if (nd->mem_read[m]) { /* mov dword [rsp + 4m], 0 */
			op_mem(j, 0, 0xc7, 0, RSP, NO_INDEX, 0, M_SLOT(m));
			imm32(j, 0);
		}
	}
	if (nd->backward) { /* mov dword [rsp + BACK_SLOT], NC_JIT_MAX_BACKWARD */
		op_mem(j, 0, 0xc7, 0, RSP, NO_INDEX, 0, BACK_SLOT);
		imm32(j, NC_JIT_MAX_BACKWARD);
	}

	/* the filter */
	for (unsigned i = 0; i < j->len; i++) {
		place(j, i);
		if (reach[i])
			translate_one(j, &prog[i], i);
	}

	/* verdict[i] = eax; next packet */
	place(j, label(j, L_REJECT));
	mov_ri(j, RAX, 0);
	place(j, label(j, L_PUT));
	op_mem(j, 0, 0x89, RAX, R14, R15, 2, 0); /* mov [r14 + r15 * 4], eax */
	op_reg(j, 0, 0xff, 0, R15);		 /* inc r15d */
	alu_rr(j, 0, ALU_CMP, R15, R13);
	jump(j, CC_B, label(j, L_LOOP));
	place(j, label(j, L_DONE));
	mov_rr(j, 0, RAX, RBX);
	rex(j, 1, 0, 0, RSP); /* add rsp, FRAME */
	byte(j, 0x83);
	modrm(j, 3, ALU_ADD, RSP);
	byte(j, FRAME);
	for (size_t r = sizeof(saved) / sizeof(saved[0]); r-- > 0;)
		pop(j, saved[r]);
	byte(j, 0xc3); /* ret */

	/* ret A and the slow path: count eax if not 0 */
	place(j, label(j, L_STORE));
	alu_ri(j, ALU_CMP, RAX, 1); /* ebx += eax != 0 */
	op_reg(j, 0, 0x83, 3, RBX); /* sbb ebx, -1 */
	byte(j, 0xff);
	jump(j, JMP_ALWAYS, label(j, L_PUT));

	/* a load beyond the bytes in place: reject if they were the whole window or the whole
	 * packet, else the slow path */
	place(j, label(j, L_OOB));
	alu_ri(j, ALU_CMP, RSI, lay->window);
	jump(j, CC_AE, label(j, L_REJECT));
	op_mem(j, 1, 0x8b, R10, R12, R15, 3, 0);
	byte(j, 0x66); /* cmp word [r10 + nb_segs], 1 */
	op_mem(j, 0, 0x83, ALU_CMP, R10, NO_INDEX, 0, lay->nb_segs);
	byte(j, 1);
	jump(j, CC_A, label(j, L_SLOW));
	op_mem(j, 0, 0x0fb7, RCX, R10, NO_INDEX, 0, lay->data_len);
	op_mem(j, 0, 0x39, RCX, R10, NO_INDEX, 0, lay->pkt_len); /* cmp pkt_len, ecx */
	jump(j, CC_BE, label(j, L_REJECT));

	/* verdict = slow(ctx, mbuf, i) */
	place(j, label(j, L_SLOW));
	mov_rr(j, 1, RDI, RBP);
	op_mem(j, 1, 0x8b, RSI, R12, R15, 3, 0);
	mov_rr(j, 0, RDX, R15);
	op_mem(j, 0, 0xff, 2, RSP, NO_INDEX, 0, SLOW_SLOT); /* call [rsp + SLOW_SLOT] */
	jump(j, JMP_ALWAYS, label(j, L_STORE));
}

static void find_needs(const struct nc_cbpf_insn *prog, unsigned len, const bool *reach,
		       struct needs *nd)
{
	memset(nd, 0, sizeof(*nd));
	for (unsigned i = 0; i < len; i++) {
		const struct nc_cbpf_insn *p = &prog[i];

		if (!reach[i])
			continue;
		if (p->code == (BPF_LD | BPF_W | BPF_LEN) || p->code == (BPF_LDX | BPF_W | BPF_LEN))
			nd->len = true;
		if ((BPF_CLASS(p->code) == BPF_LD &&
		     (BPF_MODE(p->code) == BPF_ABS || BPF_MODE(p->code) == BPF_IND)) ||
		    p->code == (BPF_LDX | BPF_B | BPF_MSH))
			nd->data = true;
		if (p->code == (BPF_LD | BPF_MEM) || p->code == (BPF_LDX | BPF_MEM))
			nd->mem_read[p->k] = true;
		if (p->code == (BPF_JMP | BPF_JA) && (int32_t)p->k < 0)
			nd->backward = true;
	}
}

#define REG_A 1
#define REG_X 2

/* which of A and X instruction p reads (*rd) and writes (*wr) */
static void regs_of(const struct nc_cbpf_insn *p, unsigned *rd, unsigned *wr)
{
	*rd = *wr = 0;
	switch (BPF_CLASS(p->code)) {
	case BPF_LD:
		*wr = REG_A;
		*rd = BPF_MODE(p->code) == BPF_IND ? REG_X : 0;
		break;
	case BPF_LDX: *wr = REG_X; break;
	case BPF_ST: *rd = REG_A; break;
	case BPF_STX: *rd = REG_X; break;
	case BPF_ALU:
		*rd = REG_A | (BPF_OP(p->code) != BPF_NEG && BPF_SRC(p->code) == BPF_X ? REG_X : 0);
		*wr = REG_A;
		break;
	case BPF_JMP:
		if (BPF_OP(p->code) != BPF_JA)
			*rd = REG_A | (BPF_SRC(p->code) == BPF_X ? REG_X : 0);
		break;
	case BPF_RET: *rd = BPF_RVAL(p->code) == BPF_A ? REG_A : 0; break;
	default: /* BPF_MISC */
		*rd = p->code == (BPF_MISC | BPF_TAX) ? REG_A : REG_X;
		*wr = p->code == (BPF_MISC | BPF_TAX) ? REG_X : REG_A;
		break;
	}
}

/*
 * Two facts per instruction i, true on every path that reaches it: known[i], how many bytes in
 * place (esi) earlier checks proved, so that its own check can go; def[i], which of A and X
 * some instruction has written, so that the prologue zeroes only what may be read first
 * (nd->zero_a, nd->zero_x). Jumps go forward, so one pass in order sees every predecessor
 * first; the target of a backward jump starts with nothing known.
 */
static void analyse(const struct nc_cbpf_insn *prog, unsigned len, const bool *reach,
		    uint32_t window, uint32_t *known, uint8_t *def, struct needs *nd)
{
	for (unsigned i = 0; i < len; i++) {
		known[i] = UINT32_MAX;
		def[i] = REG_A | REG_X;
	}
	known[0] = 0;
	def[0] = 0;
	for (unsigned i = 0; i < len; i++) {
		if (reach[i] && prog[i].code == (BPF_JMP | BPF_JA) && (int32_t)prog[i].k < 0) {
			known[(int64_t)i + 1 + (int32_t)prog[i].k] = 0;
			def[(int64_t)i + 1 + (int32_t)prog[i].k] = 0;
		}
	}
	for (unsigned i = 0; i < len; i++) {
		const struct nc_cbpf_insn *p = &prog[i];
		uint32_t out = known[i];
		uint64_t need = 0;
		unsigned succ[2], n = 0, rd, wr;

		if (!reach[i])
			continue;
		regs_of(p, &rd, &wr);
		nd->zero_a |= (rd & REG_A) && !(def[i] & REG_A);
		nd->zero_x |= (rd & REG_X) && !(def[i] & REG_X);
		if (BPF_CLASS(p->code) == BPF_RET)
			continue;
		if (BPF_CLASS(p->code) == BPF_LD && BPF_MODE(p->code) == BPF_ABS)
			need = (uint64_t)p->k + (unsigned)size_of(p->code);
		else if (p->code == (BPF_LDX | BPF_B | BPF_MSH))
			need = (uint64_t)p->k + 1;
		if (need > window) /* always rejects: no path goes on from here */
			continue;
		if (need > out)
			out = (uint32_t)need;
		if (p->code == (BPF_JMP | BPF_JA)) {
			if ((int32_t)p->k >= 0)
				succ[n++] = i + 1 + p->k;
		} else if (BPF_CLASS(p->code) == BPF_JMP) {
			succ[n++] = i + 1 + p->jt;
			succ[n++] = i + 1 + p->jf;
		} else {
			succ[n++] = i + 1;
		}
		for (unsigned k = 0; k < n; k++) {
			if (out < known[succ[k]])
				known[succ[k]] = out;
			def[succ[k]] &= (uint8_t)(def[i] | wr);
		}
	}
}

#define DEF_UNSET (-3) /* no path seen yet */
#define DEF_MIXED (-2) /* different values on different paths */
#define DEF_OTHER (-1) /* a value that is not a 16- or 32-bit packet load */

/* merges `in`, what A holds coming from one predecessor, into adef[s]; live: A is read later */
static void merge_def(int32_t *adef, bool *raw, unsigned s, int32_t in, bool live)
{
	if (adef[s] == DEF_UNSET) {
		adef[s] = in;
	} else if (adef[s] != in) {
		if (adef[s] >= 0 && live)
			raw[adef[s]] = false;
		if (in >= 0 && live)
			raw[in] = false;
		adef[s] = DEF_MIXED;
	}
}

/*
 * raw[i]: 16- or 32-bit load i may leave A in packet byte order, saving the swap, because every
 * instruction that reads that value is a jeq #k or jset #k that sees no other (it compares
 * with the constant swapped instead: cmp_const()). adef[i]: the load whose value A holds at
 * instruction i on every path, else DEF_OTHER or DEF_MIXED. A value that meets another at a
 * join where A is still to be read (live[]), or reaches any other reader of A, is swapped as it
 * is loaded. Programs with backward jumps are left alone.
 */
static void find_raw(const struct nc_cbpf_insn *prog, unsigned len, const bool *reach,
		     int32_t *adef, bool *raw, bool *live)
{
	for (unsigned i = 0; i < len; i++) {
		raw[i] = false;
		adef[i] = DEF_UNSET;
	}
	for (unsigned i = 0; i < len; i++)
		if (reach[i] && prog[i].code == (BPF_JMP | BPF_JA) && (int32_t)prog[i].k < 0)
			return;
	for (unsigned i = 0; i < len; i++)
		raw[i] = reach[i] && BPF_CLASS(prog[i].code) == BPF_LD &&
			 (BPF_MODE(prog[i].code) == BPF_ABS || BPF_MODE(prog[i].code) == BPF_IND) &&
			 BPF_SIZE(prog[i].code) != BPF_B;
	/* live[i]: some path from instruction i reads A before writing it (successors come later)
	 */
	for (unsigned i = len; i-- > 0;) {
		const struct nc_cbpf_insn *p = &prog[i];
		unsigned rd, wr;
		bool after;

		regs_of(p, &rd, &wr);
		if (BPF_CLASS(p->code) == BPF_RET)
			after = false;
		else if (p->code == (BPF_JMP | BPF_JA))
			after = live[i + 1 + p->k];
		else if (BPF_CLASS(p->code) == BPF_JMP)
			after = live[i + 1 + p->jt] || live[i + 1 + p->jf];
		else
			after = live[i + 1];
		live[i] = (rd & REG_A) || (!(wr & REG_A) && after);
	}
	adef[0] = DEF_OTHER;
	for (unsigned i = 0; i < len; i++) {
		const struct nc_cbpf_insn *p = &prog[i];
		int32_t in = adef[i], out;
		unsigned rd, wr;

		if (!reach[i] || BPF_CLASS(p->code) == BPF_RET) {
			if (reach[i] && BPF_RVAL(p->code) == BPF_A && in >= 0)
				raw[in] = false;
			continue;
		}
		regs_of(p, &rd, &wr);
		if ((rd & REG_A) && in >= 0 && p->code != (BPF_JMP | BPF_JEQ | BPF_K) &&
		    p->code != (BPF_JMP | BPF_JSET | BPF_K))
			raw[in] = false;
		out = !(wr & REG_A) ? in : raw[i] ? (int32_t)i : DEF_OTHER;
		if (p->code == (BPF_JMP | BPF_JA)) {
			merge_def(adef, raw, i + 1 + p->k, out, live[i + 1 + p->k]);
		} else if (BPF_CLASS(p->code) == BPF_JMP) {
			merge_def(adef, raw, i + 1 + p->jt, out, live[i + 1 + p->jt]);
			merge_def(adef, raw, i + 1 + p->jf, out, live[i + 1 + p->jf]);
		} else {
			merge_def(adef, raw, i + 1, out, live[i + 1]);
		}
	}
}

/* Ends a pass: true if no address moved since the previous one. */
static bool settle(struct jit *j)
{
	size_t nl = j->len + L_COUNT;
	bool same = !memcmp(j->lab_old, j->lab_new, nl * sizeof(*j->lab_old)) &&
		    !memcmp(j->jend_old, j->jend_new, j->njumps * sizeof(*j->jend_old));
	size_t *t;

	t = j->lab_old, j->lab_old = j->lab_new, j->lab_new = t;
	t = j->jend_old, j->jend_old = j->jend_new, j->jend_new = t;
	return same;
}

int nc_jit_compile(const struct nc_cbpf_insn *prog, unsigned len,
		   const struct nc_jit_layout *layout, uint8_t **code, size_t *code_len, char *err,
		   size_t errlen)
{
	struct jit j = {.lay = layout, .len = len};
	struct needs nd;
	bool *reach = NULL, stable = false;
	uint32_t *known = NULL;
	uint8_t *def = NULL;
	int32_t *adef = NULL;
	bool *raw = NULL, *live = NULL;
	size_t size;
	int ret;

	ret = check_layout(layout, err, errlen);
	if (!ret)
		ret = len > BPF_MAXINSNS ? nc_err(err, errlen, E2BIG,
						  "cBPF program of %u instructions (1..%d allowed)",
						  len, BPF_MAXINSNS)
					 : nc_cbpf_check(prog, len, err, errlen);
	if (ret)
		return ret;
	j.max_jumps = 2 * (size_t)len + EXTRA_JUMPS;
	reach = malloc(len * sizeof(*reach));
	known = malloc(len * sizeof(*known));
	def = malloc(len * sizeof(*def));
	adef = malloc(len * sizeof(*adef));
	raw = malloc(len * sizeof(*raw));
	live = malloc(len * sizeof(*live));
	j.lab_old = calloc(len + L_COUNT, sizeof(*j.lab_old));
	j.lab_new = calloc(len + L_COUNT, sizeof(*j.lab_new));
	j.placed = calloc(len + L_COUNT, sizeof(*j.placed));
	j.jend_old = calloc(j.max_jumps, sizeof(*j.jend_old));
	j.jend_new = calloc(j.max_jumps, sizeof(*j.jend_new));
	if (!reach || !known || !def || !adef || !raw || !live || !j.lab_old || !j.lab_new ||
	    !j.placed || !j.jend_old || !j.jend_new || nc_cbpf_reachable(prog, len, reach)) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory compiling the filter");
		goto out;
	}
	find_needs(prog, len, reach, &nd);
	analyse(prog, len, reach, layout->window, known, def, &nd);
	find_raw(prog, len, reach, adef, raw, live);
	j.known = known;
	j.prog = prog;
	j.adef = adef;
	j.raw = raw;

	/* every jump long, then shorter until nothing moves; if that never happens, long */
	j.long_only = true;
	gen(&j, prog, reach, &nd);
	settle(&j);
	j.long_only = false;
	for (int pass = 0; pass < MAX_PASSES && !stable; pass++) {
		gen(&j, prog, reach, &nd);
		stable = settle(&j);
	}
	if (!stable) {
		j.long_only = true;
		gen(&j, prog, reach, &nd);
		settle(&j);
	}
	if (j.jumps_overrun) {
		ret = nc_err(err, errlen, EFAULT, "filter compiler: more jumps than planned (bug)");
		goto out;
	}
	size = j.pos;
	j.buf = malloc(size);
	if (!j.buf) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory compiling the filter");
		goto out;
	}
	gen(&j, prog, reach, &nd);
	if (j.pos != size || !settle(&j)) {
		free(j.buf);
		ret = nc_err(err, errlen, EFAULT, "filter compiler: addresses moved (bug)");
		goto out;
	}
	*code = j.buf;
	*code_len = size;
out:
	free(j.jend_new);
	free(j.jend_old);
	free(j.placed);
	free(j.lab_new);
	free(j.lab_old);
	free(live);
	free(raw);
	free(adef);
	free(def);
	free(known);
	free(reach);
	return ret;
}

void nc_jit_layout_init(struct nc_jit_layout *lay, const struct nc_mbuf_layout *m,
			unsigned direction, uint32_t snaplen)
{
	memset(lay, 0, sizeof(*lay));
	lay->buf_addr = m->buf_addr;
	lay->data_off = m->data_off;
	lay->data_len = m->data_len;
	lay->pkt_len = m->pkt_len;
	lay->nb_segs = m->nb_segs;
	lay->ol_flags = m->ol_flags;
	lay->window = snaplen < NC_JIT_MAX_WINDOW ? snaplen : NC_JIT_MAX_WINDOW;
	/* as bpf/mbuf.bpf.c: rx flags unless outbound, tx flags unless inbound */
	if (direction != NC_DIR_OUT)
		lay->slow_flags |= NC_MBUF_F_RX_VLAN_STRIPPED | NC_MBUF_F_RX_QINQ_STRIPPED;
	if (direction != NC_DIR_IN)
		lay->slow_flags |= NC_MBUF_F_TX_VLAN | NC_MBUF_F_TX_QINQ;
}

/* big-endian value of n bytes at p */
static uint32_t be(const uint8_t *p, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

uint32_t nc_jit_run(const struct nc_cbpf_insn *prog, unsigned len, const uint8_t *pkt,
		    uint32_t wirelen, uint32_t buflen)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
	unsigned backward = 0;

	for (unsigned pc = 0; pc < len; pc++) {
		const struct nc_cbpf_insn *p = &prog[pc];
		uint64_t off;
		int size = size_of(p->code);

		switch (p->code) {
		case BPF_RET | BPF_K: return p->k;
		case BPF_RET | BPF_A: return A;
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND:
			off = (uint64_t)p->k + (BPF_MODE(p->code) == BPF_IND ? X : 0);
			if (off + (unsigned)size > buflen)
				return 0;
			A = be(pkt + off, size);
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if ((uint64_t)p->k + 1 > buflen)
				return 0;
			X = (pkt[p->k] & 0xfu) << 2;
			break;
		case BPF_LD | BPF_W | BPF_LEN: A = wirelen; break;
		case BPF_LDX | BPF_W | BPF_LEN: X = wirelen; break;
		case BPF_LD | BPF_IMM: A = p->k; break;
		case BPF_LDX | BPF_IMM: X = p->k; break;
		case BPF_LD | BPF_MEM: A = M[p->k % BPF_MEMWORDS]; break;
		case BPF_LDX | BPF_MEM: X = M[p->k % BPF_MEMWORDS]; break;
		case BPF_ST: M[p->k % BPF_MEMWORDS] = A; break;
		case BPF_STX: M[p->k % BPF_MEMWORDS] = X; break;
		case BPF_ALU | BPF_ADD | BPF_K: A += p->k; break;
		case BPF_ALU | BPF_SUB | BPF_K: A -= p->k; break;
		case BPF_ALU | BPF_MUL | BPF_K: A *= p->k; break;
		case BPF_ALU | BPF_AND | BPF_K: A &= p->k; break;
		case BPF_ALU | BPF_OR | BPF_K: A |= p->k; break;
		case BPF_ALU | BPF_XOR | BPF_K: A ^= p->k; break;
		case BPF_ALU | BPF_LSH | BPF_K: A = p->k < 32 ? A << p->k : 0; break;
		case BPF_ALU | BPF_RSH | BPF_K: A = p->k < 32 ? A >> p->k : 0; break;
		case BPF_ALU | BPF_ADD | BPF_X: A += X; break;
		case BPF_ALU | BPF_SUB | BPF_X: A -= X; break;
		case BPF_ALU | BPF_MUL | BPF_X: A *= X; break;
		case BPF_ALU | BPF_AND | BPF_X: A &= X; break;
		case BPF_ALU | BPF_OR | BPF_X: A |= X; break;
		case BPF_ALU | BPF_XOR | BPF_X: A ^= X; break;
		case BPF_ALU | BPF_LSH | BPF_X: A = X < 32 ? A << X : 0; break;
		case BPF_ALU | BPF_RSH | BPF_X: A = X < 32 ? A >> X : 0; break;
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_K:
		case BPF_ALU | BPF_DIV | BPF_X:
		case BPF_ALU | BPF_MOD | BPF_X: {
			uint32_t d = BPF_SRC(p->code) == BPF_X ? X : p->k;

			if (!d)
				return 0;
			A = BPF_OP(p->code) == BPF_DIV ? A / d : A % d;
			break;
		}
		case BPF_ALU | BPF_NEG: A = 0u - A; break;
		case BPF_MISC | BPF_TAX: X = A; break;
		case BPF_MISC | BPF_TXA: A = X; break;
		case BPF_JMP | BPF_JA:
			if ((int32_t)p->k < 0 && backward++ >= NC_JIT_MAX_BACKWARD)
				return 0;
			pc = (unsigned)((int64_t)pc + (int32_t)p->k);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_X: {
			uint32_t v = BPF_SRC(p->code) == BPF_X ? X : p->k;
			bool taken = BPF_OP(p->code) == BPF_JEQ	  ? A == v
				     : BPF_OP(p->code) == BPF_JGT ? A > v
				     : BPF_OP(p->code) == BPF_JGE ? A >= v
								  : (A & v) != 0;

			pc += taken ? p->jt : p->jf;
			break;
		}
		default: return 0; /* not a program nc_jit_compile() takes */
		}
	}
	return 0; /* ran off the end (or jumped out): not a program nc_jit_compile() takes */
}

int nc_jit_map(const uint8_t *code, size_t code_len, nc_jit_burst_fn *fn, char *err, size_t errlen)
{
	void *p;
	int e;

	if (!code_len)
		return nc_err(err, errlen, EINVAL, "no code to map");
	p = mmap(NULL, code_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		e = errno;
		return nc_err(err, errlen, e, "mapping the filter code: %s", strerror(e));
	}
	memcpy(p, code, code_len);
	if (mprotect(p, code_len, PROT_READ | PROT_EXEC)) {
		e = errno;
		munmap(p, code_len);
		return nc_err(err, errlen, e, "making the filter code executable: %s", strerror(e));
	}
	/* a data pointer to a function pointer: POSIX (dlsym) guarantees this works */
	memcpy(fn, &p, sizeof(*fn));
	return 0;
}

void nc_jit_unmap(nc_jit_burst_fn fn, size_t code_len)
{
	void *p;

	if (!fn)
		return;
	memcpy(&p, &fn, sizeof(p));
	munmap(p, code_len);
}
