/* SPDX-License-Identifier: BSD-2-Clause */
/* The trampoline builder of function hooks: see hook.h and docs/inproc.md "Function hooks". */
#include "inject/hook.h"
#include "util/err.h"

#include <capstone/capstone.h>
#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The trampoline being written. */
struct tbuf {
	uint8_t *p;
	size_t n;
	uint64_t base; /* run-time address of p[0] */
	bool over;
};

static void put(struct tbuf *b, const void *bytes, size_t len)
{
	if (b->n + len > NC_HOOK_TRAMP_MAX) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->n, bytes, len);
	b->n += len;
}

static void put1(struct tbuf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put32(struct tbuf *b, int32_t v)
{
	uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	put(b, le, 4);
}

static void put64(struct tbuf *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		put1(b, (uint8_t)(v >> (8 * i)));
}

static void set32(uint8_t *at, int32_t v)
{
	at[0] = (uint8_t)v;
	at[1] = (uint8_t)(v >> 8);
	at[2] = (uint8_t)(v >> 16);
	at[3] = (uint8_t)(v >> 24);
}

/* The 32-bit displacement from `next` (the address after the instruction) to `to`. */
static bool rel32(uint64_t next, uint64_t to, int32_t *d)
{
	int64_t v = (int64_t)(to - next);

	if (v < INT32_MIN || v > INT32_MAX)
		return false;
	*d = (int32_t)v;
	return true;
}

int nc_hook_jmp(uint64_t from, uint64_t to, uint8_t bytes[NC_HOOK_PATCH_LEN])
{
	int32_t d;

	if (!rel32(from + NC_HOOK_PATCH_LEN, to, &d))
		return -ERANGE;
	bytes[0] = 0xe9;
	set32(bytes + 1, d);
	return 0;
}

/* An absolute jump: jmp [rip+0] followed by the address (14 bytes, reaches anywhere). */
static void put_abs_jmp(struct tbuf *b, uint64_t to)
{
	static const uint8_t jmp_rip[] = {0xff, 0x25, 0, 0, 0, 0};

	put(b, jmp_rip, sizeof(jmp_rip));
	put64(b, to);
}

/* jmp rel32 to `to` when it reaches, else the absolute form. */
static void put_jmp(struct tbuf *b, uint64_t to)
{
	int32_t d;

	if (rel32(b->base + b->n + 5, to, &d)) {
		put1(b, 0xe9);
		put32(b, d);
	} else {
		put_abs_jmp(b, to);
	}
}

/*
 * Offsets from rbp of the registers the stub saved: pushfq, then rax rcx rdx rbx rbp rsi rdi,
 * r8..r15; rbp = rsp after the last push. The return address is at +128, argument 7 at +136.
 */
#define SAVED_RDI 64
#define SAVED_RSI 72
#define SAVED_RDX 96
#define SAVED_RCX 104
#define SAVED_R8  56
#define SAVED_R9  48
#define SAVED_RET 128

static int32_t arg_slot(unsigned n)
{
	static const int32_t reg[] = {SAVED_RDI, SAVED_RSI, SAVED_RDX,
				      SAVED_RCX, SAVED_R8,  SAVED_R9};

	return n <= 6 ? reg[n - 1] : SAVED_RET + 8 * (int32_t)(n - 6);
}

/* mov reg, [rbp + disp32]: reg is 6 (rsi) or 2 (rdx). */
static void put_load_saved(struct tbuf *b, unsigned reg, int32_t disp)
{
	put1(b, 0x48);
	put1(b, 0x8b);
	put1(b, (uint8_t)(0x80 | (reg << 3) | 5));
	put32(b, disp);
}

/* mov r64, [rip + to] (rax 0 or rdi 7) */
static bool put_load_rip(struct tbuf *b, unsigned reg, uint64_t to)
{
	int32_t d;

	if (!rel32(b->base + b->n + 7, to, &d))
		return false;
	put1(b, 0x48);
	put1(b, 0x8b);
	put1(b, (uint8_t)((reg << 3) | 5));
	put32(b, d);
	return true;
}

static const uint8_t stub_save[] = {
    0x9c,					    /* pushfq */
    0x50, 0x51, 0x52, 0x53, 0x55, 0x56, 0x57,	    /* push rax rcx rdx rbx rbp rsi rdi */
    0x41, 0x50, 0x41, 0x51, 0x41, 0x52, 0x41, 0x53, /* push r8 .. r11 */
    0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, /* push r12 .. r15 */
    0x48, 0x89, 0xe5,				    /* mov rbp, rsp */
    0x48, 0x83, 0xe4, 0xf0,			    /* and rsp, -16 */
    0xfc,					    /* cld */
};
static const uint8_t stub_restore_popfq[] = {
    0x48, 0x89, 0xec,				    /* mov rsp, rbp */
    0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, /* pop r15 .. r12 */
    0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58, /* pop r11 .. r8 */
    0x5f, 0x5e, 0x5d, 0x5b, 0x5a, 0x59, 0x58,	    /* pop rdi rsi rbp rbx rdx rcx rax */
    0x9d,					    /* popfq */
};
/*
 * The same without popfq (~8 ns here, against ~1 ns for this): with rax still on the stack and
 * the saved flags above it, DF is set again if it was (the stub cleared it), OF comes back from
 * `add al, 0x7f` on its saved bit (0x01 + 0x7f overflows, 0x7f does not), then sahf loads SF ZF
 * AF PF CF from the saved low byte; lea drops the flags' slot without touching them. What it
 * does not restore, TF and AC, no code the stub runs changes.
 */
static const uint8_t stub_restore_sahf[] = {
    0x48, 0x89, 0xec,				    /* mov rsp, rbp */
    0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, /* pop r15 .. r12 */
    0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58, /* pop r11 .. r8 */
    0x5f, 0x5e, 0x5d, 0x5b, 0x5a, 0x59,		    /* pop rdi rsi rbp rbx rdx rcx */
    0x8a, 0x44, 0x24, 0x09,			    /* mov al, [rsp + 9]: flags 8..15 */
    0xa8, 0x04,					    /* test al, 4: DF */
    0x74, 0x01,					    /* jz +1 */
    0xfd,					    /* std */
    0xc0, 0xe8, 0x03,				    /* shr al, 3 */
    0x24, 0x01,					    /* and al, 1: OF */
    0x04, 0x7f,					    /* add al, 0x7f: OF = al */
    0x8a, 0x64, 0x24, 0x08,			    /* mov ah, [rsp + 8]: flags 0..7 */
    0x9e,					    /* sahf */
    0x58,					    /* pop rax */
    0x48, 0x8d, 0x64, 0x24, 0x08,		    /* lea rsp, [rsp + 8] */
};

/* The registers and the flags back as the stub found them. */
static void put_restore(struct tbuf *b, const struct nc_hook_in *in)
{
	if (in->popfq)
		put(b, stub_restore_popfq, sizeof(stub_restore_popfq));
	else
		put(b, stub_restore_sahf, sizeof(stub_restore_sahf));
}

#define SAVED_RAX 112

/* The vector state saved on the (aligned) stack: rax and rdx are clobbered (xsave's mask) */
static void put_xsave(struct tbuf *b, uint32_t xsave_size)
{
	uint32_t size = (xsave_size + 63) & ~63u;

	put(b, (const uint8_t[]){0x48, 0x81, 0xec}, 3); /* sub rsp, size */
	put32(b, (int32_t)size);
	put(b, (const uint8_t[]){0x48, 0x83, 0xe4, 0xc0}, 4); /* and rsp, -64 */
	put(b, (const uint8_t[]){0x31, 0xc0}, 2);	      /* xor eax, eax */
	for (int32_t k = 0; k < 8; k++) { /* the xsave header: xrstor wants 0 there */
		put(b, (const uint8_t[]){0x48, 0x89, 0x84, 0x24}, 4); /* mov [rsp+d], rax */
		put32(b, 512 + 8 * k);
	}
	put(b, (const uint8_t[]){0xb8}, 1); /* mov eax, mask */
	put32(b, (int32_t)NC_HOOK_XSAVE_MASK);
	put(b, (const uint8_t[]){0x31, 0xd2}, 2);		    /* xor edx, edx */
	put(b, (const uint8_t[]){0x48, 0x0f, 0xae, 0x24, 0x24}, 5); /* xsave64 [rsp] */
}

/* xrstor64 [rsp], rax kept (in r11, saved by the stub) */
static void put_xrstor(struct tbuf *b)
{
	put(b, (const uint8_t[]){0x49, 0x89, 0xc3}, 3); /* mov r11, rax */
	put(b, (const uint8_t[]){0xb8}, 1);		/* mov eax, mask */
	put32(b, (int32_t)NC_HOOK_XSAVE_MASK);
	put(b, (const uint8_t[]){0x31, 0xd2}, 2);		    /* xor edx, edx */
	put(b, (const uint8_t[]){0x48, 0x0f, 0xae, 0x2c, 0x24}, 5); /* xrstor64 [rsp] */
	put(b, (const uint8_t[]){0x4c, 0x89, 0xd8}, 3);		    /* mov rax, r11 */
}

static int put_stub(struct tbuf *b, const struct nc_hook_in *in, char *err, size_t errlen)
{
	size_t jz;

	put(b, stub_save, sizeof(stub_save));
	if (!put_load_rip(b, 0, in->data)) /* mov rax, [data.entry] */
		goto far;
	put(b, (const uint8_t[]){0x48, 0x85, 0xc0}, 3); /* test rax, rax */
	put(b, (const uint8_t[]){0x0f, 0x84}, 2);	/* jz restore */
	jz = b->n;
	put32(b, 0);
	if (in->xsave_size) {
		/* the entry read once: a second read could see the 0 of a hook switched off
		 * meanwhile and call it (rax is xsave's mask; r11, saved above, keeps it) */
		put(b, (const uint8_t[]){0x49, 0x89, 0xc3}, 3); /* mov r11, rax */
		put_xsave(b, in->xsave_size);
		put(b, (const uint8_t[]){0x4c, 0x89, 0xd8}, 3); /* mov rax, r11 */
	}
	if (!put_load_rip(b, 7, in->data + 8)) /* mov rdi, [data.cookie] */
		goto far;
	put_load_saved(b, 6, arg_slot(in->arg)); /* mov rsi, argument N */
	if (in->kind == NC_HOOK_VECTOR)
		put_load_saved(b, 2, arg_slot(in->count_arg)); /* mov rdx, argument M */
	else if (in->kind == NC_HOOK_RET)
		put_load_saved(b, 2, SAVED_RET); /* mov rdx, the return address */
	else
		put(b, (const uint8_t[]){0x31, 0xd2}, 2); /* xor edx, edx */
	put(b, (const uint8_t[]){0xff, 0xd0}, 2);	  /* call rax */
	if (in->xsave_size)
		put_xrstor(b);
	if (in->kind == NC_HOOK_RET) { /* mov [rbp + SAVED_RET], rax: where the function returns */
		put(b, (const uint8_t[]){0x48, 0x89, 0x85}, 3);
		put32(b, SAVED_RET);
	}
	if (!b->over)
		set32(b->p + jz, (int32_t)(b->n - (jz + 4)));
	put_restore(b, in);
	return 0;
far:
	return nc_err(err, errlen, ERANGE,
		      "%s: the hook's data slot 0x%llx is out of reach of the trampoline at 0x%llx",
		      in->name ? in->name : "function", (unsigned long long)in->data,
		      (unsigned long long)in->tramp);
}

/*
 * USDT sites (in->loc[0].type set): the stub below the red zone, the probe's arguments computed
 * from the saved registers. Offsets from rbp of each register by its x86 number; rsp as it was
 * at the site is rbp + 128 (the pushes) + 128 (the red zone stepped over).
 */
#define SITE_RSP 256

static const int32_t saved_by_reg[16] = {
    SAVED_RAX, SAVED_RCX, SAVED_RDX, 88 /* rbx */, SITE_RSP, 80 /* rbp */, SAVED_RSI, SAVED_RDI,
    SAVED_R8,  SAVED_R9,  40,	     32,	   24,	     16,	   8,	      0};

static bool loc_ok(const struct nc_hook_loc *l)
{
	int s = l->size < 0 ? -l->size : l->size;

	if (l->type == NC_HOOK_LOC_CONST)
		return true;
	if ((l->type != NC_HOOK_LOC_REG && l->type != NC_HOOK_LOC_DEREF) || l->reg > 15 ||
	    (s != 1 && s != 2 && s != 4 && s != 8))
		return false;
	return l->type == NC_HOOK_LOC_REG || (l->off >= INT32_MIN && l->off <= INT32_MAX);
}

/*
 * Register r (6 rsi, 2 rdx) = the value at l: a constant, or a saved register, cut to its size
 * and sign in place (REG) or read from memory at the register + off with that size (DEREF).
 */
static void put_loc(struct tbuf *b, unsigned r, const struct nc_hook_loc *l)
{
	int s = l->size < 0 ? -l->size : l->size;
	bool sign = l->size < 0;

	if (l->type == NC_HOOK_LOC_CONST) { /* movabs r, imm64 */
		put1(b, 0x48);
		put1(b, (uint8_t)(0xb8 + r));
		put64(b, (uint64_t)l->off);
		return;
	}
	if (l->reg == 4) { /* lea r, [rbp + SITE_RSP] */
		put1(b, 0x48);
		put1(b, 0x8d);
		put1(b, (uint8_t)(0x80 | (r << 3) | 5));
		put32(b, SITE_RSP);
	} else {
		put_load_saved(b, r, saved_by_reg[l->reg]);
	}
	if (l->type == NC_HOOK_LOC_REG && s == 8)
		return;
	/* mov / movsxd / movzx / movsx r, r or [r + disp32] */
	if (s == 8)
		put(b, (const uint8_t[]){0x48, 0x8b}, 2);
	else if (s == 4)
		put(b, sign ? (const uint8_t[]){0x48, 0x63} : (const uint8_t[]){0x40, 0x8b}, 2);
	else if (s == 2)
		put(b, (const uint8_t[]){sign ? 0x48 : 0x40, 0x0f, sign ? 0xbf : 0xb7}, 3);
	else
		put(b, (const uint8_t[]){sign ? 0x48 : 0x40, 0x0f, sign ? 0xbe : 0xb6}, 3);
	if (l->type == NC_HOOK_LOC_REG) {
		put1(b, (uint8_t)(0xc0 | (r << 3) | r));
	} else {
		put1(b, (uint8_t)(0x80 | (r << 3) | r));
		put32(b, (int32_t)l->off);
	}
}

static int put_site_stub(struct tbuf *b, const struct nc_hook_in *in, char *err, size_t errlen)
{
	size_t jz;

	put(b, (const uint8_t[]){0x48, 0x8d, 0x64, 0x24, 0x80}, 5); /* lea rsp, [rsp - 128] */
	put(b, stub_save, sizeof(stub_save));
	if (!put_load_rip(b, 0, in->data)) /* mov rax, [data.entry] */
		goto far;
	put(b, (const uint8_t[]){0x48, 0x85, 0xc0}, 3); /* test rax, rax */
	put(b, (const uint8_t[]){0x0f, 0x84}, 2);	/* jz restore */
	jz = b->n;
	put32(b, 0);
	if (in->xsave_size) { /* as put_stub: the entry read once, kept in r11 */
		put(b, (const uint8_t[]){0x49, 0x89, 0xc3}, 3); /* mov r11, rax */
		put_xsave(b, in->xsave_size);
		put(b, (const uint8_t[]){0x4c, 0x89, 0xd8}, 3); /* mov rax, r11 */
	}
	if (!put_load_rip(b, 7, in->data + 8)) /* mov rdi, [data.cookie] */
		goto far;
	put_loc(b, 6, &in->loc[0]);
	if (in->kind == NC_HOOK_VECTOR)
		put_loc(b, 2, &in->loc[1]);
	else
		put(b, (const uint8_t[]){0x31, 0xd2}, 2); /* xor edx, edx */
	put(b, (const uint8_t[]){0xff, 0xd0}, 2);	  /* call rax */
	if (in->xsave_size)
		put_xrstor(b);
	if (!b->over)
		set32(b->p + jz, (int32_t)(b->n - (jz + 4)));
	put_restore(b, in);
	/* lea rsp, [rsp + 128]: lea keeps the flags */
	put(b, (const uint8_t[]){0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0}, 8);
	return 0;
far:
	return nc_err(err, errlen, ERANGE,
		      "%s: the hook's data slot 0x%llx is out of reach of the trampoline at 0x%llx",
		      in->name ? in->name : "function", (unsigned long long)in->data,
		      (unsigned long long)in->tramp);
}

/*
 * NC_HOOK_RET's return side, where the function returns to: a slot for the real return address,
 * every register saved, data->ret(cookie, rax) called (it gives the real return address back),
 * everything restored, ret.
 */
static int put_ret_stub(struct tbuf *b, const struct nc_hook_in *in)
{
	/* lea rsp, [rsp - 8]: room for the real return address; sub would change the flags the
	 * function returns with */
	put(b, (const uint8_t[]){0x48, 0x8d, 0x64, 0x24, 0xf8}, 5);
	put(b, stub_save, sizeof(stub_save));
	if (in->xsave_size)
		put_xsave(b, in->xsave_size);
	if (!put_load_rip(b, 7, in->data + 8) ||	      /* mov rdi, [data.cookie] */
	    !put_load_rip(b, 0, in->data + NC_HOOK_DATA_RET)) /* mov rax, [data.ret] */
		return -ERANGE;
	put_load_saved(b, 6, SAVED_RAX);	  /* mov rsi, the return value */
	put(b, (const uint8_t[]){0xff, 0xd0}, 2); /* call rax */
	if (in->xsave_size)
		put_xrstor(b);
	put(b, (const uint8_t[]){0x48, 0x89, 0x85}, 3); /* mov [rbp + SAVED_RET], rax */
	put32(b, SAVED_RET);
	put_restore(b, in);
	put1(b, 0xc3); /* ret */
	return 0;
}

uint32_t nc_hook_xsave_size(void)
{
	unsigned a, b, c, d, lo, hi;
	uint32_t size = 576;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	for (unsigned i = 2; i < 8; i++) {
		if (!(NC_HOOK_XSAVE_MASK & lo & (1u << i)))
			continue;
		if (!__get_cpuid_count(0xd, i, &a, &b, &c, &d))
			return 0;
		if (b + a > size) /* offset + size in the standard form */
			size = b + a;
	}
	return (size + 63) & ~63u;
}

bool nc_hook_has_sahf(void)
{
	unsigned a, b, c, d;

	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_LAHF_LM);
}

/* The branch kinds re-encoded; everything else relative is refused. */
enum branch { BR_NONE, BR_JMP, BR_JCC, BR_CALL, BR_OTHER };

/* What kind of direct (immediate-target) branch `in` is, and its condition code for jcc. */
static enum branch branch_kind(const cs_insn *in, uint8_t *cc)
{
	const cs_x86 *x = &in->detail->x86;
	uint8_t op0 = x->opcode[0], op1 = x->opcode[1];

	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return BR_NONE;
	if (op0 == 0xeb || op0 == 0xe9)
		return BR_JMP;
	if (op0 == 0xe8)
		return BR_CALL;
	if (op0 >= 0x70 && op0 <= 0x7f) {
		*cc = op0 & 0x0f;
		return BR_JCC;
	}
	if (op0 == 0x0f && op1 >= 0x80 && op1 <= 0x8f) {
		*cc = op1 & 0x0f;
		return BR_JCC;
	}
	if (op0 >= 0xe0 && op0 <= 0xe3) /* loopne, loope, loop, jrcxz */
		return BR_OTHER;
	if (op0 == 0xc7 && x->modrm == 0xf8) /* xbegin */
		return BR_OTHER;
	return BR_NONE;
}

static bool ends_flow(csh cs, const cs_insn *in)
{
	return cs_insn_group(cs, in, X86_GRP_RET) || in->id == X86_INS_JMP ||
	       in->id == X86_INS_LJMP || in->id == X86_INS_UD2 || in->id == X86_INS_HLT ||
	       in->id == X86_INS_INT3;
}

static bool rip_relative(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	for (unsigned i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			return true;
	return false;
}

/* Copies one instruction of the function into the trampoline, re-encoded for its new place. */
static int relocate(csh cs, const cs_insn *in, struct tbuf *b, const struct nc_hook_in *hin,
		    char *err, size_t errlen)
{
	const char *name = hin->name ? hin->name : "function";
	unsigned long long off = (unsigned long long)(in->address - hin->func);
	uint64_t next = in->address + in->size;
	uint8_t cc = 0;
	int32_t d;

	switch (branch_kind(in, &cc)) {
	case BR_JMP: put_jmp(b, (uint64_t)in->detail->x86.operands[0].imm); return 0;
	case BR_JCC: {
		uint64_t to = (uint64_t)in->detail->x86.operands[0].imm;

		if (rel32(b->base + b->n + 6, to, &d)) {
			put(b, (const uint8_t[]){0x0f, (uint8_t)(0x80 | cc)}, 2);
			put32(b, d);
		} else { /* j!cc over an absolute jump */
			put(b, (const uint8_t[]){(uint8_t)(0x70 | (cc ^ 1)), 14}, 2);
			put_abs_jmp(b, to);
		}
		return 0;
	}
	case BR_CALL: {
		uint64_t to = (uint64_t)in->detail->x86.operands[0].imm;

		if (rel32(b->base + b->n + 5, to, &d)) {
			put1(b, 0xe8);
			put32(b, d);
		} else { /* call [rip+2]; jmp +8; the address */
			put(b, (const uint8_t[]){0xff, 0x15, 2, 0, 0, 0, 0xeb, 8}, 8);
			put64(b, to);
		}
		return 0;
	}
	case BR_OTHER:
		return nc_err(
		    err, errlen, ENOTSUP,
		    "%s+0x%llx: %s %s cannot be relocated (a branch with an 8-bit form only)", name,
		    off, in->mnemonic, in->op_str);
	case BR_NONE: break;
	}
	(void)cs;
	if (rip_relative(in)) {
		const cs_x86 *x = &in->detail->x86;
		uint64_t target = next + (uint64_t)x->disp;
		size_t at = b->n;

		if (x->encoding.disp_offset == 0 || x->encoding.disp_size != 4)
			return nc_err(err, errlen, ENOTSUP,
				      "%s+0x%llx: %s %s: no 32-bit displacement to relocate", name,
				      off, in->mnemonic, in->op_str);
		if (!rel32(b->base + at + in->size, target, &d))
			return nc_err(
			    err, errlen, ERANGE,
			    "%s+0x%llx: %s %s: its operand at 0x%llx is out of reach of the "
			    "trampoline at 0x%llx",
			    name, off, in->mnemonic, in->op_str, (unsigned long long)target,
			    (unsigned long long)hin->tramp);
		put(b, in->bytes, in->size);
		if (!b->over)
			set32(b->p + at + x->encoding.disp_offset, d);
		return 0;
	}
	put(b, in->bytes, in->size);
	return 0;
}

/*
 * Every direct branch of the function's body (scan_len bytes) whose target lies strictly inside
 * the patched bytes is refused; a body that does not decode to its end is refused too. The same
 * for the function's cold part (in->cold), whose branches back into the function the body's
 * scan does not see.
 */
static int scan_code(csh cs, const struct nc_hook_in *in, const uint8_t *code, size_t scan_len,
		     uint64_t base, bool cold, char *err, size_t errlen)
{
	const char *name = in->name ? in->name : "function";
	const uint8_t *p = code;
	size_t left = scan_len;
	uint64_t addr = base, at = in->func + in->patch_off;
	cs_insn *insn = cs_malloc(cs);
	bool boundary = cold || in->patch_off == 0;
	const char *part = cold ? ".cold" : "";
	int ret = 0;

	if (!insn)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	while (left > 0) {
		uint8_t cc;

		boundary |= addr == at;

		if (!cs_disasm_iter(cs, &p, &left, &addr, insn)) {
			if (!cold && in->func_size == 0)
				break; /* only the bytes given: the last one may be cut */
			ret = nc_err(
			    err, errlen, EILSEQ,
			    "%s%s+0x%llx: bytes that do not decode; no branch into the patch "
			    "can be ruled out",
			    name, part, (unsigned long long)(addr - base));
			break;
		}
		enum branch k = branch_kind(insn, &cc);

		if (k != BR_NONE) {
			uint64_t to = (uint64_t)insn->detail->x86.operands[0].imm;

			/* a branch relocated with the patch (it starts among the 5 bytes) is
			 * re-aimed at the copy of its target */
			if (to > at && to < at + NC_HOOK_PATCH_LEN &&
			    !(in->site_off && (k == BR_JCC || k == BR_JMP) && insn->address >= at &&
			      insn->address < at + NC_HOOK_PATCH_LEN)) {
				ret = nc_err(err, errlen, ENOTSUP,
					     "%s%s+0x%llx: %s %s lands inside the %d patched bytes "
					     "(%s+0x%llx)",
					     name, part, (unsigned long long)(insn->address - base),
					     insn->mnemonic, insn->op_str, NC_HOOK_PATCH_LEN,
					     cold ? name : "", (unsigned long long)(to - in->func));
				break;
			}
		}
	}
	cs_free(insn, 1);
	if (!ret && !boundary && in->func_size)
		ret = nc_err(err, errlen, EILSEQ,
			     "%s+0x%llx: no instruction of the function starts there", name,
			     (unsigned long long)in->patch_off);
	return ret;
}

/* Whether the `left` bytes at p fail to decode only because they stop too early. */
static bool truncated(csh cs, const uint8_t *p, size_t left, uint64_t addr)
{
	uint8_t pad[16] = {0};
	const uint8_t *q = pad;
	size_t n = sizeof(pad);
	cs_insn *insn;
	bool ret = false;

	if (left >= sizeof(pad))
		return false;
	memcpy(pad, p, left);
	insn = cs_malloc(cs);
	if (insn && cs_disasm_iter(cs, &q, &n, &addr, insn))
		ret = insn->size > left;
	if (insn)
		cs_free(insn, 1);
	return ret;
}

static int check_args(const struct nc_hook_in *in, const char *name, char *err, size_t errlen)
{
	if (in->kind > NC_HOOK_RET)
		return nc_err(err, errlen, EINVAL, "%s: an unknown hook kind", name);
	if (in->kind != NC_HOOK_PASS && !in->loc[0].type &&
	    (in->arg < 1 || in->arg > NC_HOOK_MAX_ARG ||
	     (in->kind == NC_HOOK_VECTOR &&
	      (in->count_arg < 1 || in->count_arg > NC_HOOK_MAX_ARG))))
		return nc_err(err, errlen, EINVAL, "%s: argument numbers are 1 to %d", name,
			      NC_HOOK_MAX_ARG);
	if (in->site_off && (in->site_off < in->patch_off || !in->loc[0].type))
		return nc_err(err, errlen, EINVAL,
			      "%s+0x%llx: a site behind the patch's start (+0x%llx) needs to be "
			      "after it, with the argument locations of a USDT site",
			      name, (unsigned long long)in->site_off,
			      (unsigned long long)in->patch_off);
	if (in->patch_off && !in->loc[0].type)
		return nc_err(err, errlen, EINVAL,
			      "%s+0x%llx: a patch inside a function needs the argument locations "
			      "of a USDT site",
			      name, (unsigned long long)in->patch_off);
	if (in->loc[0].type &&
	    ((in->kind != NC_HOOK_SINGLE && in->kind != NC_HOOK_VECTOR) || !loc_ok(&in->loc[0]) ||
	     (in->kind == NC_HOOK_VECTOR && !loc_ok(&in->loc[1]))))
		return nc_err(err, errlen, EINVAL,
			      "%s: a USDT site takes a mbuf or an array and a count, each a "
			      "constant, a register or memory at a register plus a 32-bit offset",
			      name);
	return 0;
}

int nc_hook_build_pointer(const struct nc_hook_in *in, struct nc_hook_out *out, char *err,
			  size_t errlen)
{
	const char *name = in->name ? in->name : "function";
	struct tbuf b = {.p = out->tramp, .base = in->tramp};
	int ret;

	memset(out, 0, sizeof(*out));
	ret = check_args(in, name, err, errlen);
	if (ret)
		return ret;
	if (in->kind == NC_HOOK_PASS || in->kind == NC_HOOK_RET || in->loc[0].type)
		return nc_err(err, errlen, EINVAL,
			      "%s: a hook through a pointer needs a stub at the entry, with ABI "
			      "arguments",
			      name);
	ret = put_stub(&b, in, err, errlen);
	if (ret)
		return ret;
	out->reloc_off = b.n;
	put_jmp(&b, in->func);
	if (b.over)
		return nc_err(err, errlen, ENOSPC, "%s: the trampoline exceeds %d bytes", name,
			      NC_HOOK_TRAMP_MAX);
	out->tramp_len = b.n;
	return 0;
}

int nc_hook_site_patch(const uint8_t *code, size_t code_len, uint64_t func_size, uint64_t site_off,
		       uint64_t *patch_off)
{
	size_t left = func_size && func_size < code_len ? (size_t)func_size : code_len;
	const uint8_t *p = code;
	uint64_t addr = 0, prev = UINT64_MAX, prev_end = 0;
	bool prev_jcc = false, other = false, guard = false;
	cs_insn *insn;
	csh cs;
	int ret = 0;

	*patch_off = site_off;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return -ENOMEM;
	}
	while (left > 0) {
		uint8_t cc;
		enum branch k;

		if (!cs_disasm_iter(cs, &p, &left, &addr, insn)) {
			ret = -EILSEQ;
			break;
		}
		k = branch_kind(insn, &cc);
		if (insn->address + insn->size == site_off) {
			prev = insn->address;
			prev_end = site_off;
			prev_jcc = k == BR_JCC;
		}
		if (k != BR_NONE) {
			uint64_t to = (uint64_t)insn->detail->x86.operands[0].imm;

			if (to > site_off && to < site_off + NC_HOOK_PATCH_LEN) {
				if (insn->address == prev && prev_end == site_off && prev_jcc)
					guard = true;
				else
					other = true;
			}
		}
	}
	if (!ret && guard && !other)
		*patch_off = prev;
	cs_free(insn, 1);
	cs_close(&cs);
	return ret;
}

int nc_hook_build(const struct nc_hook_in *in, struct nc_hook_out *out, char *err, size_t errlen)
{
	const char *name = in->name ? in->name : "function";
	struct tbuf b = {.p = out->tramp, .base = in->tramp};
	size_t scan_len = in->code_len;
	uint64_t at = in->func + in->patch_off; /* where the jump goes */
	/* where the stub runs: the site (behind a conditional branch the patch starts at) */
	uint64_t site = in->func + (in->site_off ? in->site_off : in->patch_off);
	struct {
		uint64_t addr;
		size_t off;
	} map[16]; /* each relocated instruction's copy */
	struct {
		size_t at;
		uint64_t to, insn;
	} fix[4]; /* branches among them aimed at one of them */
	size_t n_map = 0, n_fix = 0;
	bool stub_done = false;
	size_t left = in->code_len > in->patch_off ? in->code_len - in->patch_off : 0;
	const uint8_t *p = left ? in->code + in->patch_off : in->code;
	uint64_t addr = at;
	cs_insn *insn = NULL;
	size_t covered = 0;
	csh cs;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!in->code)
		return nc_err(err, errlen, EINVAL, "%s: no code", name);
	ret = check_args(in, name, err, errlen);
	if (ret)
		return ret;
	if (in->func_size && in->func_size < NC_HOOK_PATCH_LEN)
		return nc_err(err, errlen, ENOSPC,
			      "%s is %llu bytes long, shorter than the %d-byte jump of the patch",
			      name, (unsigned long long)in->func_size, NC_HOOK_PATCH_LEN);
	if (in->func_size && in->patch_off > in->func_size - NC_HOOK_PATCH_LEN)
		return nc_err(
		    err, errlen, ENOSPC,
		    "%s+0x%llx: less than the %d bytes of the patch before the end of the "
		    "function",
		    name, (unsigned long long)in->patch_off, NC_HOOK_PATCH_LEN);
	if ((at & 4095) > 4096 - NC_HOOK_PATCH_LEN)
		return nc_err(err, errlen, EXDEV,
			      "%s at 0x%llx: the %d bytes of the patch would cross a page boundary",
			      name, (unsigned long long)at, NC_HOOK_PATCH_LEN);
	if (left < NC_HOOK_PATCH_LEN)
		return nc_err(err, errlen, ENOSPC, "%s: only %zu bytes given, the patch needs %d",
			      name, left, NC_HOOK_PATCH_LEN);
	if (in->func_size && in->code_len < in->func_size)
		return nc_err(err, errlen, ENOSPC,
			      "%s: %zu of its %llu bytes given; the scan for jumps into the patch "
			      "needs all of them",
			      name, in->code_len, (unsigned long long)in->func_size);
	if (nc_hook_jmp(at, in->tramp, out->patch))
		return nc_err(
		    err, errlen, ERANGE,
		    "%s at 0x%llx: the trampoline at 0x%llx is out of reach of a jmp rel32", name,
		    (unsigned long long)at, (unsigned long long)in->tramp);
	memcpy(out->orig, in->code + in->patch_off, NC_HOOK_PATCH_LEN);
	if (in->func_size && in->func_size < scan_len)
		scan_len = (size_t)in->func_size;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return nc_err(err, errlen, ENOMEM, "capstone: cannot open an x86-64 disassembler");
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	ret = scan_code(cs, in, in->code, scan_len, in->func, false, err, errlen);
	if (!ret && in->cold_len)
		ret = scan_code(cs, in, in->cold, in->cold_len, in->cold_addr, true, err, errlen);
	if (ret)
		goto out;

	if (!in->loc[0].type && in->kind != NC_HOOK_PASS) {
		ret = put_stub(&b, in, err, errlen);
		if (ret)
			goto out;
	}
	out->reloc_off = b.n;
	insn = cs_malloc(cs);
	if (!insn) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	/* with a site behind the patch's start, up to and including the site */
	while (covered < NC_HOOK_PATCH_LEN || (in->loc[0].type && at + covered <= site)) {
		uint8_t cc;
		enum branch k;

		if (!cs_disasm_iter(cs, &p, &left, &addr, insn)) {
			if (truncated(cs, p, left, addr))
				ret = nc_err(
				    err, errlen, ENOSPC,
				    "%s+0x%llx: the instruction runs past the %zu bytes given",
				    name, (unsigned long long)(in->patch_off + covered),
				    in->code_len);
			else
				ret = nc_err(err, errlen, EILSEQ,
					     "%s+0x%llx: bytes that do not decode", name,
					     (unsigned long long)(in->patch_off + covered));
			goto out;
		}
		covered += insn->size;
		if ((covered < NC_HOOK_PATCH_LEN || at + covered <= site) && ends_flow(cs, insn)) {
			ret = nc_err(err, errlen, ENOSPC,
				     "%s ends at +0x%llx (%s), before the %d bytes of the patch",
				     name, (unsigned long long)(in->patch_off + covered),
				     insn->mnemonic, NC_HOOK_PATCH_LEN);
			goto out;
		}
		if (n_map < sizeof(map) / sizeof(map[0])) {
			map[n_map].addr = insn->address;
			map[n_map++].off = b.n;
		}
		if (in->loc[0].type && insn->address == site) {
			stub_done = true;
			ret = put_site_stub(&b, in, err, errlen);
			if (ret)
				goto out;
		}
		k = branch_kind(insn, &cc);
		if ((k == BR_JCC || k == BR_JMP) && in->site_off &&
		    (uint64_t)insn->detail->x86.operands[0].imm > at &&
		    (uint64_t)insn->detail->x86.operands[0].imm < at + NC_HOOK_PATCH_LEN &&
		    n_fix < sizeof(fix) / sizeof(fix[0])) {
			/* aimed at the copy of its target once every copy is placed */
			if (k == BR_JCC)
				put(&b, (const uint8_t[]){0x0f, (uint8_t)(0x80 | cc)}, 2);
			else
				put1(&b, 0xe9);
			fix[n_fix].at = b.n;
			fix[n_fix].to = (uint64_t)insn->detail->x86.operands[0].imm;
			fix[n_fix++].insn = insn->address;
			put32(&b, 0);
		} else {
			ret = relocate(cs, insn, &b, in, err, errlen);
			if (ret)
				goto out;
		}
		out->n_reloc++;
	}
	out->reloc_len = covered;
	if (in->loc[0].type && !stub_done) {
		ret = nc_err(err, errlen, EILSEQ,
			     "%s+0x%llx: no instruction of the function starts at the site", name,
			     (unsigned long long)(site - in->func));
		goto out;
	}
	if (n_map < sizeof(map) / sizeof(map[0])) { /* the end: the jump back */
		map[n_map].addr = at + covered;
		map[n_map++].off = b.n;
	}
	for (size_t i = 0; i < n_fix && !b.over; i++) {
		size_t k = 0;

		while (k < n_map && map[k].addr != fix[i].to)
			k++;
		if (k == n_map) {
			ret = nc_err(err, errlen, ENOTSUP,
				     "%s+0x%llx: a branch lands inside an instruction (+0x%llx)",
				     name, (unsigned long long)(fix[i].insn - in->func),
				     (unsigned long long)(fix[i].to - in->func));
			goto out;
		}
		set32(b.p + fix[i].at, (int32_t)(map[k].off - (fix[i].at + 4)));
	}
	put_jmp(&b, at + covered);
	if (in->kind == NC_HOOK_RET) {
		out->ret_off = b.n;
		if (put_ret_stub(&b, in)) {
			ret = nc_err(err, errlen, ERANGE,
				     "%s: the hook's data slot 0x%llx is out of reach of the "
				     "trampoline at 0x%llx",
				     name, (unsigned long long)in->data,
				     (unsigned long long)in->tramp);
			goto out;
		}
	}
	if (b.over) {
		ret = nc_err(err, errlen, ENOSPC, "%s: the trampoline exceeds %d bytes", name,
			     NC_HOOK_TRAMP_MAX);
		goto out;
	}
	out->tramp_len = b.n;
out:
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	return ret;
}
