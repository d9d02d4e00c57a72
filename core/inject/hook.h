/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Function hooks inside a running process (issue 16, docs/inproc.md "Function hooks"): the
 * trampoline builder. A pure function of the function's first bytes and a few addresses; nothing
 * here touches a process. netcap builds with it and writes what it built (through
 * /proc/PID/mem) into pages the agent mapped near the function; core/inject/patch.h writes the
 * 5-byte jump.
 *
 * The trampoline, at address `tramp`:
 *
 *   stub       (NC_HOOK_SINGLE, NC_HOOK_VECTOR only) saves every general register and the
 *              flags (and, with xsave_size, the x87/SSE/AVX/AVX-512 state), aligns the stack,
 *              calls data->entry(data->cookie, a, b) unless entry is 0, restores everything
 *              (of the flags: the arithmetic ones and DF, with sahf unless in->popfq);
 *   relocated  the function's first instructions (at least NC_HOOK_PATCH_LEN bytes of them),
 *              re-encoded for their new address;
 *   jmp        back to func + reloc_len.
 *
 * x86-64 only. Errors: 0 or a negative errno with one line in err (errlen bytes, may be NULL)
 * naming the function, the offset and the instruction; *out is then undefined.
 */
#ifndef NC_HOOK_H
#define NC_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_HOOK_PATCH_LEN 5   /* jmp rel32 */
#define NC_HOOK_TRAMP_MAX 640 /* stub (<= 215) + relocated code + the jump back + return stub */
#define NC_HOOK_MAX_ARG	  16  /* arguments 1..6 in registers, 7..16 on the caller's stack */

enum nc_hook_kind {
	NC_HOOK_PASS =
	    0,		/* no stub: relocated code and the jump back (tests, a switched-off hook) */
	NC_HOOK_SINGLE, /* func@N: entry(cookie, argument N, 0) */
	NC_HOOK_VECTOR, /* func@N@M: entry(cookie, argument N, argument M) */
	/*
	 * func@N@ret: at the entry, entry(cookie, argument N, the return address) returns the
	 * address the function is to return to (the return address itself, or tramp + ret_off,
	 * the return stub, which calls ret(cookie, rax) at data + NC_HOOK_DATA_RET: it returns the
	 * real return address, where the stub then returns with every register as the function
	 * left it). The entry's side keeps the return address (and argument N) per thread; ret
	 * must stay callable as long as a thread may be inside the function.
	 */
	NC_HOOK_RET,
};

#define NC_HOOK_DATA_RET 24 /* NC_HOOK_RET: the return side's function, after the data slot */

/*
 * A USDT site (docs/inproc.md "USDT probes"): where one of the probe's arguments is at the site,
 * as its note says ("8@%rdi", "-4@-20(%rbp)", "8@(%rax)", "4@$5"). The trampoline computes the
 * values itself and hands them to the entry as a and b (NC_HOOK_SINGLE: loc[0]; NC_HOOK_VECTOR:
 * loc[0], loc[1]), so the entry is the one of a function hook.
 */
enum nc_hook_loc_type {
	NC_HOOK_LOC_NONE = 0,  /* not a site: the ABI argument numbers arg, count_arg */
	NC_HOOK_LOC_CONST = 1, /* the constant off */
	NC_HOOK_LOC_REG = 2,   /* register reg */
	NC_HOOK_LOC_DEREF = 3, /* memory at register reg + off (off within 32 bits) */
};

struct nc_hook_loc {
	int64_t off;
	uint8_t type; /* enum nc_hook_loc_type */
	uint8_t reg;  /* x86 register number: 0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp (as at the site),
		       * 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15 */
	int8_t size;  /* 1, 2, 4, 8 bytes; negative: sign-extended */
};

/* The stub's data slot in the target, read RIP-relative: 0 in entry switches the call off. */
struct nc_hook_data {
	uint64_t entry;	 /* void (*)(uint64_t cookie, uint64_t a, uint64_t b), or 0 */
	uint64_t cookie; /* passed as the first argument (the hook id) */
};

struct nc_hook_in {
	const uint8_t
	    *code; /* the function's bytes from its entry: all of it for the branch scan */
	size_t code_len;
	uint64_t func;	    /* the function's run-time address */
	uint64_t func_size; /* its size (ELF st_size); 0: unknown, code_len bytes scanned */
	uint64_t tramp;	    /* where the trampoline will be (within +-2 GB of func) */
	uint64_t data;	    /* where its struct nc_hook_data will be (within +-2 GB of tramp) */
	enum nc_hook_kind kind;
	unsigned arg;	    /* N, 1-based (SINGLE, VECTOR) */
	unsigned count_arg; /* M, 1-based (VECTOR) */
	const char *name;   /* for messages; NULL: "function" */
	/*
	 * 0: the entry touches general registers only (built -mgeneral-regs-only), nothing more is
	 * saved. Else the stub saves the x87, SSE, AVX and AVX-512 state (NC_HOOK_XSAVE_MASK) with
	 * xsave64 into this many bytes of the stack around the call, and restores it with xrstor64:
	 * nc_hook_xsave_size() of the machine the target runs on (netcap's own).
	 */
	uint32_t xsave_size;
	/*
	 * Restore the flags with popfq (~8 ns here) instead of sahf and two instructions for OF
	 * and DF (~1 ns): for a CPU without sahf in 64-bit mode (nc_hook_has_sahf()).
	 */
	bool popfq;
	/*
	 * A USDT site inside the function (loc[0].type set): the patch goes at func + patch_off
	 * (an instruction of the function: the probe's nop) instead of the entry, the instructions
	 * covering its 5 bytes are relocated, and a branch of the function landing strictly inside
	 * them is refused. The stub first steps over the 128-byte red zone below rsp (a leaf
	 * function may keep values there) and passes the arguments loc describes; kind SINGLE or
	 * VECTOR only, arg and count_arg unused.
	 */
	uint64_t patch_off;
	struct nc_hook_loc loc[2];
	/*
	 * Where the stub runs when it is not at patch_off: the site, behind the conditional branch
	 * that starts the patch (nc_hook_site_patch()). The instructions from patch_off up to and
	 * including the site are relocated, the stub just before the site's copy; a branch among
	 * them landing among them is re-aimed at the copy. 0: at patch_off.
	 */
	uint64_t site_off;
	/*
	 * The function's cold part (GCC's NAME.cold: the unlikely paths it moved out of the body,
	 * which jump back into it), cold_len bytes at run-time address cold_addr, scanned like the
	 * body for branches into the patched bytes; cold_len 0: none.
	 */
	const uint8_t *cold;
	size_t cold_len;
	uint64_t cold_addr;
};

#define NC_HOOK_XSAVE_MASK 0xe7u /* x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM */

struct nc_hook_out {
	uint8_t tramp[NC_HOOK_TRAMP_MAX]; /* the trampoline's bytes, for address in->tramp */
	size_t tramp_len;
	size_t reloc_off;		  /* offset of the relocated instructions in tramp */
	size_t reloc_len;		  /* bytes of the function they replace (>= 5) */
	size_t n_reloc;			  /* instructions relocated */
	size_t ret_off;			  /* NC_HOOK_RET: offset of the return stub in tramp */
	uint8_t patch[NC_HOOK_PATCH_LEN]; /* jmp rel32 func -> tramp */
	uint8_t orig[NC_HOOK_PATCH_LEN];  /* the function's bytes it replaces */
};

/*
 * Builds the trampoline and the patch. Refusals (nothing else is returned):
 *   -EINVAL     bad input (no code, an argument number out of 1..NC_HOOK_MAX_ARG, an unknown kind,
 *               a patch_off without loc, a location that cannot be read);
 *   -ENOSPC     a function shorter than the patch (its size, or a ret/jmp/ud2 before 5 bytes),
 *               fewer bytes given than the instructions to relocate, or than func_size;
 *   -EILSEQ     bytes that do not decode (of the first instructions, or of the function's body
 *               up to func_size when it is known), or a patch_off that is no instruction's start;
 *   -ENOTSUP    an instruction that cannot be re-encoded (jrcxz, loop*, xbegin), or a direct
 *               branch of the function or of its cold part landing inside the patched bytes
 *               (func, func + 5), or (site, site + 5) with patch_off;
 *   -ERANGE     a RIP-relative operand, or the trampoline, out of reach of a 32-bit displacement;
 *   -EXDEV      the 5 bytes would cross a page boundary (a write to /proc/PID/mem is not atomic
 *               across pages).
 */
int nc_hook_build(const struct nc_hook_in *in, struct nc_hook_out *out, char *err, size_t errlen);

/*
 * Where the patch of a USDT site at site_off of the function (code, code_len, func_size as for
 * nc_hook_build(), func_size known) starts: site_off itself, or, when the only branches of the
 * function landing inside the 5 bytes at the site are one conditional branch right before it (the
 * `je` over the nop of `if (PROBE_ENABLED()) PROBE(...)`), that branch's offset, so that the
 * branch is relocated with the site and keeps its meaning in the trampoline (give both to
 * nc_hook_build() as patch_off and site_off). Anything else: site_off (nc_hook_build() then
 * refuses with the branch named). 0, or -EILSEQ / -ENOMEM when the code cannot be decoded.
 */
int nc_hook_site_patch(const uint8_t *code, size_t code_len, uint64_t func_size, uint64_t site_off,
		       uint64_t *patch_off);

/*
 * A trampoline for a hook through a pointer instead of a patch: a function the application calls
 * through a GOT slot (the PLT) or a table of function pointers. The stub (in->kind SINGLE or
 * VECTOR, in->data, in->xsave_size as for nc_hook_build()), then a jump to in->func, whose code is
 * neither read nor changed (in->code, code_len, func_size unused; out->patch, orig, reloc_len
 * 0). The caller stores in->tramp into the pointer (an aligned 8-byte store: no thread needs to
 * stop) and the old value back to unhook. -EINVAL: a kind or argument out of range; -ERANGE: the
 * data slot out of reach of the trampoline.
 */
int nc_hook_build_pointer(const struct nc_hook_in *in, struct nc_hook_out *out, char *err,
			  size_t errlen);

/*
 * The bytes xsave64 needs for NC_HOOK_XSAVE_MASK's components that this CPU and kernel enable
 * (CPUID leaf 0xd, XCR0), at least 576 (legacy area and header), a multiple of 64; 0 when the
 * CPU or the kernel has no xsave.
 */
uint32_t nc_hook_xsave_size(void);

/* Whether this CPU has lahf/sahf in 64-bit mode (CPUID 0x80000001 ECX bit 0): else popfq. */
bool nc_hook_has_sahf(void);

/*
 * The 5 bytes of a jmp rel32 at `from` to `to`: -ERANGE when out of reach. For the patcher and
 * for recognising a patch already in place (re-attach).
 */
int nc_hook_jmp(uint64_t from, uint64_t to, uint8_t bytes[NC_HOOK_PATCH_LEN]);

#endif
