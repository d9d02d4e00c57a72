/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cBPF -> eBPF, in the shape of the kernel's bpf_convert_filter(): nc_cbpf_check() refuses what
 * cannot run on copied packet bytes (cbpf_check.c), then the converter runs twice, first to learn
 * where each classic instruction lands (addrs[]), then to emit with resolved jumps.
 *
 * Semantics follow libpcap's interpreter (bpf_filter.c), which is the test oracle:
 * A and X are unsigned 32-bit, loads outside the captured bytes end the program with 0,
 * division or modulo by X == 0 returns 0, a shift by X >= 32 gives 0, `len` is the wire length.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/nc_filter_abi.h"
#include "../util/err.h"
#include "cbpf.h"
#include "filter.h"
#include "insn.h"

/* Registers of the translated filter. r1-r3 carry the arguments in; no helpers are called. */
#define R_A    BPF_REG_0 /* accumulator, kept zero-extended */
#define R_X    BPF_REG_7 /* index register, kept zero-extended */
#define R_DATA BPF_REG_6 /* struct nc_filter_window * */
#define R_CAP  BPF_REG_8 /* captured bytes, clamped to NC_FILTER_WINDOW */
#define R_WIRE BPF_REG_9 /* wire length */
#define R_TMP  BPF_REG_2
#define R_TMP2 BPF_REG_3

/* M[i] lives at r10 - 64 + 4 * i */
#define M_OFF(i) ((int16_t)(-(int)(BPF_MEMWORDS * 4) + 4 * (int)(i)))

_Static_assert(NC_FILTER_WINDOW < INT16_MAX, "window offsets fit the 16-bit load offset");

struct emitter {
	struct bpf_insn *out; /* NULL in the sizing pass */
	size_t n;	      /* instructions emitted so far */
	const size_t *addrs;  /* addrs[i]: where cBPF insn i starts; addrs[len]: the reject label */
	const bool *reach;    /* reach[i]: some path runs cBPF insn i */
	bool range_error;
};

static void emit(struct emitter *e, struct bpf_insn insn)
{
	if (e->out)
		e->out[e->n] = insn;
	e->n++;
}

/* Offset of a jump emitted now to eBPF position `target` (meaningful in the second pass). */
static int16_t rel(struct emitter *e, size_t target)
{
	int64_t off = (int64_t)target - (int64_t)(e->n + 1);

	if (e->out && (off < INT16_MIN || off > INT16_MAX))
		e->range_error = true;
	return (int16_t)off;
}

static int size_of(uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	default: return 1;
	}
}

/* bytes 1,2,4 -> BPF_B,BPF_H,BPF_W (the same encoding in both instruction sets) */
#define LD_SIZE(code) BPF_SIZE(code)

/* if (caplen < need) reject; need beyond the window can never be met */
static void emit_need(struct emitter *e, uint64_t need, size_t reject)
{
	int32_t imm = need <= NC_FILTER_WINDOW ? (int32_t)need : NC_FILTER_WINDOW + 1;

	emit(e, NC_JMP_IMM(BPF_JLT, R_CAP, imm, rel(e, reject)));
}

/* A = big-endian load of `size` bytes that emit_need() or the caller proved inside the window */
static void emit_load(struct emitter *e, uint16_t code, int dst, int base, int16_t off)
{
	emit(e, NC_LDX_MEM(LD_SIZE(code), dst, base, off));
	if (size_of(code) > 1)
		emit(e, NC_TO_BE(dst, size_of(code) * 8));
}

static int invert(int op)
{
	switch (op) {
	case BPF_JEQ: return BPF_JNE;
	case BPF_JGT: return BPF_JLE;
	case BPF_JGE: return BPF_JLT;
	default: return -1; /* JSET has no inverse */
	}
}

static void emit_cond(struct emitter *e, const struct nc_cbpf_insn *p, int op, size_t target)
{
	if (BPF_SRC(p->code) == BPF_X)
		emit(e, NC_JMP32_REG(op, R_A, R_X, rel(e, target)));
	else
		emit(e, NC_JMP32_IMM(op, R_A, (int32_t)p->k, rel(e, target)));
}

/* The translation of cBPF instruction i; `reject` is the eBPF position of `return 0`. */
static void translate_one(struct emitter *e, const struct nc_cbpf_insn *prog, unsigned i,
			  size_t reject)
{
	const struct nc_cbpf_insn *p = &prog[i];
	const size_t *addrs = e->addrs;
	int size = size_of(p->code);

	switch (p->code) {
	/* A = P[k:size] */
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
		emit_need(e, (uint64_t)p->k + size, reject);
		if ((uint64_t)p->k + size <= NC_FILTER_WINDOW)
			emit_load(e, p->code, R_A, R_DATA, (int16_t)p->k);
		break;
	/* A = P[X + k:size] */
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
		if ((uint64_t)p->k + size > NC_FILTER_WINDOW) {
			emit_need(e, (uint64_t)p->k + size, reject);
			break;
		}
		emit(e, NC_MOV64_REG(R_TMP, R_X));
		emit(e, NC_ALU64_IMM(BPF_ADD, R_TMP, (int32_t)p->k));
		/* bound for the verifier; caplen <= window makes it redundant at run time */
		emit(e, NC_JMP_IMM(BPF_JGT, R_TMP, NC_FILTER_WINDOW - size, rel(e, reject)));
		emit(e, NC_MOV64_REG(R_TMP2, R_TMP));
		emit(e, NC_ALU64_IMM(BPF_ADD, R_TMP2, size));
		emit(e, NC_JMP_REG(BPF_JGT, R_TMP2, R_CAP, rel(e, reject)));
		emit(e, NC_MOV64_REG(R_TMP2, R_DATA));
		emit(e, NC_ALU64_REG(BPF_ADD, R_TMP2, R_TMP));
		emit_load(e, p->code, R_A, R_TMP2, 0);
		break;
	/* X = 4 * (P[k] & 0xf) */
	case BPF_LDX | BPF_B | BPF_MSH:
		emit_need(e, (uint64_t)p->k + 1, reject);
		if ((uint64_t)p->k + 1 <= NC_FILTER_WINDOW) {
			emit(e, NC_LDX_MEM(BPF_B, R_X, R_DATA, (int16_t)p->k));
			emit(e, NC_ALU32_IMM(BPF_AND, R_X, 0xf));
			emit(e, NC_ALU32_IMM(BPF_LSH, R_X, 2));
		}
		break;
	/* A = len, X = len: the wire length */
	case BPF_LD | BPF_W | BPF_LEN: emit(e, NC_MOV32_REG(R_A, R_WIRE)); break;
	case BPF_LDX | BPF_W | BPF_LEN: emit(e, NC_MOV32_REG(R_X, R_WIRE)); break;
	/* A = k, X = k */
	case BPF_LD | BPF_IMM: emit(e, NC_MOV32_IMM(R_A, (int32_t)p->k)); break;
	case BPF_LDX | BPF_IMM: emit(e, NC_MOV32_IMM(R_X, (int32_t)p->k)); break;
	/* A = M[k], X = M[k], M[k] = A, M[k] = X */
	case BPF_LD | BPF_MEM: emit(e, NC_LDX_MEM(BPF_W, R_A, BPF_REG_10, M_OFF(p->k))); break;
	case BPF_LDX | BPF_MEM: emit(e, NC_LDX_MEM(BPF_W, R_X, BPF_REG_10, M_OFF(p->k))); break;
	case BPF_ST: emit(e, NC_STX_MEM(BPF_W, BPF_REG_10, R_A, M_OFF(p->k))); break;
	case BPF_STX: emit(e, NC_STX_MEM(BPF_W, BPF_REG_10, R_X, M_OFF(p->k))); break;
	/* A op= X: a zero divisor returns 0, a shift by 32 or more gives 0 (as libpcap does) */
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_X:
		emit(e, NC_JMP_IMM(BPF_JEQ, R_X, 0, rel(e, reject)));
		emit(e, NC_ALU32_REG(BPF_OP(p->code), R_A, R_X));
		break;
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_X:
		emit(e, NC_JMP_IMM(BPF_JLT, R_X, 32, 2));
		emit(e, NC_MOV32_IMM(R_A, 0));
		emit(e, NC_JA(1));
		emit(e, NC_ALU32_REG(BPF_OP(p->code), R_A, R_X));
		break;
	case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_X: emit(e, NC_ALU32_REG(BPF_OP(p->code), R_A, R_X)); break;
	/* A op= k: 32-bit ALU ops use the immediate's 32 bits as they are, sign or not */
	case BPF_ALU | BPF_ADD | BPF_K:
	case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_MUL | BPF_K:
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_MOD | BPF_K:
	case BPF_ALU | BPF_AND | BPF_K:
	case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_K:
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		emit(e, NC_ALU32_IMM(BPF_OP(p->code), R_A, (int32_t)p->k));
		break;
	/* A = -A */
	case BPF_ALU | BPF_NEG: emit(e, NC_INSN(BPF_ALU | BPF_NEG, R_A, 0, 0, 0)); break;
	/* X = A, A = X */
	case BPF_MISC | BPF_TAX: emit(e, NC_MOV32_REG(R_X, R_A)); break;
	case BPF_MISC | BPF_TXA: emit(e, NC_MOV32_REG(R_A, R_X)); break;
	/* return k, return A */
	case BPF_RET | BPF_K:
		emit(e, NC_MOV32_IMM(R_A, (int32_t)p->k));
		emit(e, NC_EXIT());
		break;
	case BPF_RET | BPF_A: emit(e, NC_EXIT()); break;
	/* goto k (signed: libpcap's protochain jumps backwards) */
	case BPF_JMP | BPF_JA: emit(e, NC_JA(rel(e, addrs[(int64_t)i + 1 + (int32_t)p->k]))); break;
	/* if (A op k|X) goto jt else goto jf: JMP32 compares unsigned 32-bit values, so an
	 * immediate >= 0x80000000 needs no zero-extension trick. */
	default: {
		int op = BPF_OP(p->code);
		size_t t = addrs[i + 1 + p->jt], f = addrs[i + 1 + p->jf];

		if (p->jt == p->jf) {
			if (p->jt)
				emit(e, NC_JA(rel(e, t)));
		} else if (p->jf == 0) {
			emit_cond(e, p, op, t);
		} else if (p->jt == 0 && invert(op) >= 0) {
			emit_cond(e, p, invert(op), f);
		} else {
			emit_cond(e, p, op, t);
			emit(e, NC_JA(rel(e, f)));
		}
		break;
	}
	}
}

/* One pass over the program; addrs is filled in the sizing pass and read in the emitting one. */
static void translate_pass(struct emitter *e, const struct nc_cbpf_insn *prog, unsigned len,
			   size_t *addrs, const bool *mem_read)
{
	size_t reject = addrs[len];

	/* prologue: a NULL window rejects; caplen never exceeds the window; A = X = 0 */
	emit(e, NC_JMP_IMM(BPF_JEQ, BPF_REG_1, 0, rel(e, reject)));
	emit(e, NC_MOV64_REG(R_DATA, BPF_REG_1));
	emit(e, NC_MOV32_REG(R_CAP, BPF_REG_2));
	emit(e, NC_MOV32_REG(R_WIRE, BPF_REG_3));
	emit(e, NC_JMP_IMM(BPF_JLE, R_CAP, NC_FILTER_WINDOW, 1));
	emit(e, NC_MOV32_IMM(R_CAP, NC_FILTER_WINDOW));
	emit(e, NC_MOV32_IMM(R_A, 0));
	emit(e, NC_MOV32_IMM(R_X, 0));
	/* the verifier refuses reads of unwritten stack; libpcap leaves M[] undefined */
	for (unsigned m = 0; m < BPF_MEMWORDS; m++)
		if (mem_read[m])
			emit(e, NC_ST_MEM(BPF_W, BPF_REG_10, M_OFF(m), 0));

	for (unsigned i = 0; i < len; i++) {
		if (!e->out)
			addrs[i] = e->n;
		if (e->reach[i])
			translate_one(e, prog, i, reject);
	}
	if (!e->out)
		addrs[len] = e->n;
	/* reject: return 0 */
	emit(e, NC_MOV32_IMM(R_A, 0));
	emit(e, NC_EXIT());
}

int nc_filter_translate(const struct nc_cbpf_insn *prog, unsigned len, struct bpf_insn **out,
			size_t *out_len, char *err, size_t errlen)
{
	bool mem_read[BPF_MEMWORDS] = {false};
	struct emitter e = {0};
	size_t *addrs = NULL;
	bool *reach = NULL;
	int ret;

	ret = nc_cbpf_check(prog, len, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < len; i++)
		if (prog[i].code == (BPF_LD | BPF_MEM) || prog[i].code == (BPF_LDX | BPF_MEM))
			mem_read[prog[i].k] = true;

	addrs = calloc(len + 1, sizeof(*addrs));
	reach = calloc(len, sizeof(*reach));
	if (!addrs || !reach) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	/* libpcap's interpreter never looks at unreachable code, but the kernel refuses it: it is
	 * not translated (without memory for the walk, everything is, and the verifier decides) */
	if (nc_cbpf_reachable(prog, len, reach))
		memset(reach, 1, len * sizeof(*reach));
	e.addrs = addrs;
	e.reach = reach;
	translate_pass(&e, prog, len, addrs, mem_read); /* 1st pass: sizes */
	if (e.n > NC_FILTER_MAX_INSNS) {
		ret = nc_err(err, errlen, E2BIG,
			     "the filter translates to %zu eBPF instructions (at most %d); "
			     "simplify the expression",
			     e.n, NC_FILTER_MAX_INSNS);
		goto out;
	}
	e.out = calloc(e.n, sizeof(*e.out));
	if (!e.out) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	size_t n = e.n;

	e.n = 0;
	translate_pass(&e, prog, len, addrs, mem_read); /* 2nd pass: emit */
	if (e.range_error || e.n != n) {
		free(e.out);
		ret = nc_err(err, errlen, E2BIG,
			     "a jump of the filter does not fit 16 bits; "
			     "simplify the expression");
		goto out;
	}
	*out = e.out;
	*out_len = n;
out:
	free(reach);
	free(addrs);
	return ret;
}
