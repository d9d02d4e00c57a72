/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Function hooks (issue 16, docs/inproc.md "Function hooks"): the trampoline builder
 * (core/inject/hook.h) over the fixture's real code and over hand-made bytes for each refusal;
 * trampolines run in this process (relocated code called directly, and a patched copy of a
 * function calling an entry that clobbers every call-clobbered register); the stop-all-threads
 * patcher (core/inject/patch.h) against tests/apps/hook_target: 100 patches and unpatches while
 * four threads call the hooked function, the patcher SIGKILLed at random moments, its refusals.
 * The patcher's cases need ptrace and are skipped with the reason where it is refused.
 */
#define _GNU_SOURCE
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "discover/elf.h"
#include "inject/hook.h"
#include "inject/patch.h"

/* --- small functions whose first bytes the builder relocates (AT&T syntax) --- */
__asm__(".text\n"
	".p2align 4\n"
	/* uint64_t t_sum(const uint64_t *a, unsigned n): test; je (rel8); xor, then a loop */
	".globl t_sum\n.type t_sum,@function\nt_sum:\n"
	"\ttest %esi, %esi\n\tje 2f\n\txor %eax, %eax\n"
	"1:\tadd (%rdi), %rax\n\tadd $8, %rdi\n\tdec %esi\n\tjne 1b\n\tret\n"
	"2:\txor %eax, %eax\n\tret\n"
	".globl t_sum_end\nt_sum_end:\n.size t_sum, .-t_sum\n"
	".p2align 4\n"
	/* uint64_t t_rip(uint64_t i, uint64_t add): lea rip-relative first */
	".globl t_rip\n.type t_rip,@function\nt_rip:\n"
	"\tlea t_table(%rip), %rax\n\tmov (%rax,%rdi,8), %rax\n\tadd %rsi, %rax\n\tret\n"
	".globl t_rip_end\nt_rip_end:\n.size t_rip, .-t_rip\n"
	".p2align 4\n"
	/* uint64_t t_call(uint64_t x, uint64_t y): call rel32 first; t_helper returns x + 1 */
	".globl t_call\n.type t_call,@function\nt_call:\n"
	"\tcall t_helper\n\tadd %rsi, %rax\n\tret\n"
	".globl t_call_end\nt_call_end:\n.size t_call, .-t_call\n"
	"t_helper:\n\tlea 1(%rdi), %rax\n\tret\n"
	".p2align 4\n"
	/* void t_keep(void): a 5-byte nop, ret */
	".globl t_keep\n.type t_keep,@function\nt_keep:\n"
	"\tnopl 0(%rax,%rax)\n\tret\n"
	".globl t_keep_end\nt_keep_end:\n.size t_keep, .-t_keep\n"
	".p2align 4\n"
	/* uint64_t t_arg8(a1..a8): returns a8 (on the stack) */
	".globl t_arg8\n.type t_arg8,@function\nt_arg8:\n"
	"\tmov 16(%rsp), %rax\n\tret\n"
	".globl t_arg8_end\nt_arg8_end:\n.size t_arg8, .-t_arg8\n"
	".p2align 4\n"
	/*
	 * void t_regs_probe(void): every general register but rsp set to 0x11111111111111NN and
	 * the flags to t_regs_flags, calls *t_regs_fn, stores all of them in t_regs_out[0..14]
	 * and the flags in t_regs_out[15] (then clears DF for the C caller).
	 */
	".globl t_regs_probe\n.type t_regs_probe,@function\nt_regs_probe:\n"
	"\tpush %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
	"\tsub $8, %rsp\n"
	"\tmovabs $0x1111111111111100, %rax\n\tmovabs $0x1111111111111101, %rcx\n"
	"\tmovabs $0x1111111111111102, %rdx\n\tmovabs $0x1111111111111103, %rbx\n"
	"\tmovabs $0x1111111111111104, %rbp\n\tmovabs $0x1111111111111105, %rsi\n"
	"\tmovabs $0x1111111111111106, %rdi\n\tmovabs $0x1111111111111107, %r8\n"
	"\tmovabs $0x1111111111111108, %r9\n\tmovabs $0x1111111111111109, %r10\n"
	"\tmovabs $0x111111111111110a, %r11\n\tmovabs $0x111111111111110b, %r12\n"
	"\tmovabs $0x111111111111110c, %r13\n\tmovabs $0x111111111111110d, %r14\n"
	"\tmovabs $0x111111111111110e, %r15\n"
	"\tpush t_regs_flags(%rip)\n\tpopfq\n"
	"\tcall *t_regs_fn(%rip)\n"
	"\tpushfq\n\tcld\n"
	"\tmov %rax, t_regs_out+0(%rip)\n\tmov %rcx, t_regs_out+8(%rip)\n"
	"\tmov %rdx, t_regs_out+16(%rip)\n\tmov %rbx, t_regs_out+24(%rip)\n"
	"\tmov %rbp, t_regs_out+32(%rip)\n\tmov %rsi, t_regs_out+40(%rip)\n"
	"\tmov %rdi, t_regs_out+48(%rip)\n\tmov %r8, t_regs_out+56(%rip)\n"
	"\tmov %r9, t_regs_out+64(%rip)\n\tmov %r10, t_regs_out+72(%rip)\n"
	"\tmov %r11, t_regs_out+80(%rip)\n\tmov %r12, t_regs_out+88(%rip)\n"
	"\tmov %r13, t_regs_out+96(%rip)\n\tmov %r14, t_regs_out+104(%rip)\n"
	"\tmov %r15, t_regs_out+112(%rip)\n"
	"\tpop %rax\n\tmov %rax, t_regs_out+120(%rip)\n"
	"\tadd $8, %rsp\n"
	"\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\tret\n"
	".size t_regs_probe, .-t_regs_probe\n"
	".p2align 4\n"
	/* void t_vec_probe(void) (AVX): ymm0..15 from t_vec_in, call *t_regs_fn, into t_vec_out */
	".globl t_vec_probe\n.type t_vec_probe,@function\nt_vec_probe:\n"
	"\tsub $8, %rsp\n"
	"\tvmovdqu t_vec_in+0(%rip), %ymm0\n"
	"\tvmovdqu t_vec_in+32(%rip), %ymm1\n"
	"\tvmovdqu t_vec_in+64(%rip), %ymm2\n"
	"\tvmovdqu t_vec_in+96(%rip), %ymm3\n"
	"\tvmovdqu t_vec_in+128(%rip), %ymm4\n"
	"\tvmovdqu t_vec_in+160(%rip), %ymm5\n"
	"\tvmovdqu t_vec_in+192(%rip), %ymm6\n"
	"\tvmovdqu t_vec_in+224(%rip), %ymm7\n"
	"\tvmovdqu t_vec_in+256(%rip), %ymm8\n"
	"\tvmovdqu t_vec_in+288(%rip), %ymm9\n"
	"\tvmovdqu t_vec_in+320(%rip), %ymm10\n"
	"\tvmovdqu t_vec_in+352(%rip), %ymm11\n"
	"\tvmovdqu t_vec_in+384(%rip), %ymm12\n"
	"\tvmovdqu t_vec_in+416(%rip), %ymm13\n"
	"\tvmovdqu t_vec_in+448(%rip), %ymm14\n"
	"\tvmovdqu t_vec_in+480(%rip), %ymm15\n"
	"\tcall *t_regs_fn(%rip)\n"
	"\tvmovdqu %ymm0, t_vec_out+0(%rip)\n"
	"\tvmovdqu %ymm1, t_vec_out+32(%rip)\n"
	"\tvmovdqu %ymm2, t_vec_out+64(%rip)\n"
	"\tvmovdqu %ymm3, t_vec_out+96(%rip)\n"
	"\tvmovdqu %ymm4, t_vec_out+128(%rip)\n"
	"\tvmovdqu %ymm5, t_vec_out+160(%rip)\n"
	"\tvmovdqu %ymm6, t_vec_out+192(%rip)\n"
	"\tvmovdqu %ymm7, t_vec_out+224(%rip)\n"
	"\tvmovdqu %ymm8, t_vec_out+256(%rip)\n"
	"\tvmovdqu %ymm9, t_vec_out+288(%rip)\n"
	"\tvmovdqu %ymm10, t_vec_out+320(%rip)\n"
	"\tvmovdqu %ymm11, t_vec_out+352(%rip)\n"
	"\tvmovdqu %ymm12, t_vec_out+384(%rip)\n"
	"\tvmovdqu %ymm13, t_vec_out+416(%rip)\n"
	"\tvmovdqu %ymm14, t_vec_out+448(%rip)\n"
	"\tvmovdqu %ymm15, t_vec_out+480(%rip)\n"
	"\tadd $8, %rsp\n\tvzeroupper\n\tret\n"
	".size t_vec_probe, .-t_vec_probe\n"
	".section .rodata\n.p2align 3\nt_table:\n\t.quad 10, 20, 30, 40\n"
	".text\n");

uint64_t t_sum(const uint64_t *a, unsigned n);
uint64_t t_rip(uint64_t i, uint64_t add);
uint64_t t_call(uint64_t x, uint64_t y);
void t_keep(void);
uint64_t t_arg8(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
void t_regs_probe(void);
extern const uint8_t t_sum_end[], t_rip_end[], t_call_end[], t_keep_end[], t_arg8_end[];
#define SIZE(f) ((size_t)(f##_end - (const uint8_t *)(f)))
void t_vec_probe(void);
void *t_regs_fn;
uint64_t t_regs_out[16];
uint64_t t_regs_flags = 0x8d5; /* CF PF AF ZF SF OF */
uint8_t t_vec_in[16 * 32], t_vec_out[16 * 32];

/*
 * The bound of every patch here: stopping every thread took up to ~100 ms here when
 * other jobs loaded the 2 CPUs (the threads must be scheduled to stop); the refusal case keeps
 * the same bound, so that a stop slowed by the load is not taken for the thread it looks for.
 */
#define BOUND_MS 1000

#define FLAGS_KEPT 0xcd5 /* CF PF AF ZF SF DF OF: what the stubs restore */

/* t_regs_probe's flags came back as it set them */
static void check_flags(void)
{
	g_assert_cmphex(t_regs_out[15] & FLAGS_KEPT, ==, t_regs_flags & FLAGS_KEPT);
}

/* Trampolines restore the flags with popfq instead of sahf (both variants are run) */
static bool use_popfq;

/* What the trampolines' entry saw. */
static uint64_t seen_cookie, seen_a, seen_b;
static int seen_calls;

static void entry(uint64_t cookie, uint64_t a, uint64_t b)
{
	seen_cookie = cookie;
	seen_a = a;
	seen_b = b;
	seen_calls++;
	/* what any C function may do to the caller-saved registers and the flags */
	__asm__ volatile("mov $-1, %%rax\n\tmov $-1, %%rcx\n\tmov $-1, %%rdx\n\t"
			 "mov $-1, %%rsi\n\tmov $-1, %%rdi\n\tmov $-1, %%r8\n\t"
			 "mov $-1, %%r9\n\tmov $-1, %%r10\n\tmov $-1, %%r11\n\t"
			 "xor %%eax, %%eax\n\t"
			 :
			 :
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc",
			   "memory");
}

/* entry(), then what libc's vectorised memcpy may do: every xmm/ymm register overwritten */
static void entry_vec(uint64_t cookie, uint64_t a, uint64_t b)
{
	entry(cookie, a, b);
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\tvmovdqa %%ymm0, %%ymm1\n\t"
			 "vmovdqa %%ymm0, %%ymm2\n\tvmovdqa %%ymm0, %%ymm3\n\t"
			 "vmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\t"
			 "vmovdqa %%ymm0, %%ymm6\n\tvmovdqa %%ymm0, %%ymm7\n\t"
			 "vmovdqa %%ymm0, %%ymm8\n\tvmovdqa %%ymm0, %%ymm9\n\t"
			 "vmovdqa %%ymm0, %%ymm10\n\tvmovdqa %%ymm0, %%ymm11\n\t"
			 "vmovdqa %%ymm0, %%ymm12\n\tvmovdqa %%ymm0, %%ymm13\n\t"
			 "vmovdqa %%ymm0, %%ymm14\n\tvmovdqa %%ymm0, %%ymm15\n\t"
			 "vzeroupper\n\t"
			 :
			 :
			 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
}

/* len bytes, read+write+execute, within +-1 GB of `near`. */
static uint8_t *map_near(const void *near, size_t len)
{
	uintptr_t base = (uintptr_t)near & ~(uintptr_t)0xfffff;

	for (uintptr_t k = 1; k < 1024; k++) {
		uintptr_t hint = base - k * 0x100000;
		void *p = mmap((void *)hint, len, PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == MAP_FAILED)
			continue;
		if ((uintptr_t)p == hint)
			return p;
		munmap(p, len);
	}
	g_assert_not_reached();
}

/* --- the builder over the fixture's code --- */

/* One instruction's meaning: a branch's or a memory operand's absolute target, else its bytes. */
struct meaning {
	char mnemonic[32];
	uint64_t target; /* branch target or RIP-relative address; 0: none */
	uint8_t bytes[16];
	size_t size;
};

static size_t meanings(csh cs, const uint8_t *code, size_t len, uint64_t addr, struct meaning *m,
		       size_t max)
{
	cs_insn *insn;
	size_t n = cs_disasm(cs, code, len, addr, 0, &insn), k = 0;

	for (size_t i = 0; i < n && k < max; i++, k++) {
		const cs_x86 *x = &insn[i].detail->x86;

		memset(&m[k], 0, sizeof(m[k]));
		g_strlcpy(m[k].mnemonic, insn[i].mnemonic, sizeof(m[k].mnemonic));
		memcpy(m[k].bytes, insn[i].bytes, insn[i].size);
		m[k].size = insn[i].size;
		for (unsigned o = 0; o < x->op_count; o++) {
			if (x->operands[o].type == X86_OP_MEM &&
			    x->operands[o].mem.base == X86_REG_RIP)
				m[k].target = insn[i].address + insn[i].size +
					      (uint64_t)x->operands[o].mem.disp;
			if (x->operands[o].type == X86_OP_IMM &&
			    (cs_insn_group(cs, &insn[i], X86_GRP_JUMP) ||
			     cs_insn_group(cs, &insn[i], X86_GRP_CALL)))
				m[k].target = (uint64_t)x->operands[o].imm;
		}
	}
	cs_free(insn, n);
	return k;
}

/*
 * The relocated instructions mean what the originals meant: same mnemonic and absolute target
 * where there is one, else the same bytes; then a jmp to func + reloc_len.
 */
static void check_relocated(const struct nc_hook_in *in, const struct nc_hook_out *out)
{
	struct meaning a[8], b[9];
	size_t na, nb;
	csh cs;

	g_assert_cmpint(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), ==, CS_ERR_OK);
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	na = meanings(cs, in->code, out->reloc_len, in->func, a, 8);
	nb = meanings(cs, out->tramp + out->reloc_off, out->tramp_len - out->reloc_off,
		      in->tramp + out->reloc_off, b, 9);
	cs_close(&cs);
	g_assert_cmpuint(na, ==, out->n_reloc);
	g_assert_cmpuint(nb, ==, na + 1);
	for (size_t i = 0; i < na; i++) {
		g_assert_cmpstr(a[i].mnemonic, ==, b[i].mnemonic);
		g_assert_cmphex(a[i].target, ==, b[i].target);
		if (!a[i].target)
			g_assert_cmpmem(a[i].bytes, a[i].size, b[i].bytes, b[i].size);
	}
	g_assert_cmpstr(b[na].mnemonic, ==, "jmp");
	g_assert_cmphex(b[na].target, ==, in->func + out->reloc_len);
}

static void test_fixture(void)
{
	static const char *const names[] = {"fwd_burst", "fwd_one", "fwd_rx"};
	const char *path = g_getenv("NC_FWD");
	struct nc_elf *e = NULL;
	char err[256];

	if (!path || access(path, R_OK)) {
		g_test_skip("NC_FWD (the nc_fwd fixture) not built");
		return;
	}
	g_assert_cmpint(nc_elf_open(path, &e, err, sizeof(err)), ==, 0);
	for (size_t f = 0; f < G_N_ELEMENTS(names); f++) {
		uint64_t off, size, vaddr;
		g_autofree uint8_t *code = NULL;
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		g_assert_cmpint(nc_elf_func(e, names[f], &off, &size, err, sizeof(err)), ==, 0);
		g_assert_cmpint(nc_elf_vaddr(e, off, &vaddr), ==, 0);
		code = g_malloc(size);
		g_assert_cmpint(pread(fd, code, size, (off_t)off), ==, (ssize_t)size);
		close(fd);
		for (int kind = NC_HOOK_PASS; kind <= NC_HOOK_VECTOR; kind++) {
			struct nc_hook_in in = {
			    .code = code,
			    .code_len = size,
			    .func = 0x555555554000 + vaddr,
			    .func_size = size,
			    .kind = (enum nc_hook_kind)kind,
			    .arg = f == 2 ? 2 : 1,
			    .count_arg = f == 2 ? 3 : 2,
			    .name = names[f],
			};
			struct nc_hook_out out;
			uint8_t jmp[NC_HOOK_PATCH_LEN];

			in.tramp = (in.func & ~0xfffULL) - 0x10000000;
			in.data = in.tramp + 4096;
			g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
			g_test_message("%s kind %d: %zu instructions, %zu bytes relocated, "
				       "trampoline %zu bytes (stub %zu)",
				       names[f], kind, out.n_reloc, out.reloc_len, out.tramp_len,
				       out.reloc_off);
			g_assert_cmpuint(out.reloc_len, >=, NC_HOOK_PATCH_LEN);
			g_assert_cmpuint(out.reloc_off == 0, ==, kind == NC_HOOK_PASS);
			g_assert_cmpmem(out.orig, 5, code, 5);
			g_assert_cmpint(nc_hook_jmp(in.func, in.tramp, jmp), ==, 0);
			g_assert_cmpmem(out.patch, 5, jmp, 5);
			check_relocated(&in, &out);
		}
	}
	nc_elf_close(e);
}

/*
 * Every function of a file (its .symtab, else .dynsym) through the builder at a made-up load
 * address: none may crash it, every trampoline built must mean what the function's first
 * instructions meant (check_relocated); the refusals are counted by their error.
 */
static void build_every_function(const char *path, unsigned *built, unsigned *refused)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr sh;
	size_t n;

	g_assert_cmpint(fd, >=, 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	g_assert_nonnull(elf);
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !symscn)))
			symscn = scn;
	g_assert_nonnull(symscn);
	gelf_getshdr(symscn, &sh);
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		Elf_Data *d = elf_getdata(symscn, NULL);
		GElf_Sym sym;
		Elf_Scn *text;
		GElf_Shdr tsh;
		Elf_Data *td;
		struct nc_hook_out out;
		char err[256];
		int ret;

		if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_size == 0)
			continue;
		text = elf_getscn(elf, sym.st_shndx);
		if (!text || !gelf_getshdr(text, &tsh) || tsh.sh_type != SHT_PROGBITS ||
		    sym.st_value < tsh.sh_addr ||
		    sym.st_value + sym.st_size > tsh.sh_addr + tsh.sh_size)
			continue;
		td = elf_getdata(text, NULL);
		struct nc_hook_in in = {
		    .code = (const uint8_t *)td->d_buf + (sym.st_value - tsh.sh_addr),
		    .code_len = sym.st_size,
		    .func = 0x7f0000000000ULL + sym.st_value,
		    .func_size = sym.st_size,
		    .kind = NC_HOOK_VECTOR,
		    .arg = 1,
		    .count_arg = 2,
		};
		in.tramp = (in.func & ~0xfffULL) - 0x10000000;
		in.data = in.tramp + 4096;
		ret = nc_hook_build(&in, &out, err, sizeof(err));
		if (ret == 0) {
			check_relocated(&in, &out);
			(*built)++;
		} else {
			g_assert_true(ret == -ENOSPC || ret == -ENOTSUP || ret == -EILSEQ ||
				      ret == -EXDEV);
			refused[ret == -ENOSPC	  ? 0
				: ret == -ENOTSUP ? 1
				: ret == -EILSEQ  ? 2
						  : 3]++;
			if (ret != -ENOSPC)
				g_test_message("  0x%llx: %s", (unsigned long long)sym.st_value,
					       err);
		}
	}
	elf_end(elf);
	close(fd);
}

static void test_every_function(void)
{
	const char *files[] = {g_getenv("NC_FWD"), "/lib/x86_64-linux-gnu/libc.so.6",
			       "/lib/x86_64-linux-gnu/librte_ethdev.so.23"};

	for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
		unsigned built = 0, refused[4] = {0};

		if (!files[f] || access(files[f], R_OK))
			continue;
		build_every_function(files[f], &built, refused);
		g_test_message("%s: %u built and checked; refused: %u too short, %u not "
			       "relocatable or a jump into the patch, %u undecodable, %u across a "
			       "page",
			       files[f], built, refused[0], refused[1], refused[2], refused[3]);
		g_assert_cmpuint(built, >, 0);
	}
}

/* --- refusals over hand-made bytes --- */

struct refusal {
	const char *what;
	const uint8_t *code;
	size_t len;
	uint64_t func_size;
	int64_t tramp_off; /* tramp = func + tramp_off */
	uint64_t func;	   /* 0: 0x400000 */
	enum nc_hook_kind kind;
	unsigned arg;
	int ret;
	const char *msg; /* a part of the message */
};

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/*
 * The function's cold part (NAME.cold, elsewhere in the text) jumping back into the patched
 * bytes is refused as the body's own jump is; one jumping to the entry or past the patch is not;
 * a cold part that does not decode is refused.
 */
static void test_cold_part(void)
{
	/* push rbp; mov rbp, rsp; test edi, edi; je .cold; pop rbp; ret (at 0x400000) */
	static const uint8_t body[] = {0x55, 0x48, 0x89, 0xe5, 0x85, 0xff, 0x0f,
				       0x84, 0xf4, 0x0f, 0x00, 0x00, 0x5d, 0xc3};
	const struct {
		const char *what;
		uint8_t cold[8];
		size_t len;
		int ret;
		const char *msg;
	} c[] = {
	    /* at 0x401000: inc edi; jmp 0x400001 (mov rbp, rsp: inside the patch) */
	    {"into the patch",
	     {0xff, 0xc7, 0xe9, 0xfa, 0xef, 0xff, 0xff},
	     7,
	     -ENOTSUP,
	     "t_cold.cold+0x2: jmp 0x400001 lands inside the 5 patched bytes (t_cold+0x1)"},
	    /* jmp 0x400000 (the entry) and jmp 0x400006 (past the patch): accepted */
	    {"to the entry", {0xff, 0xc7, 0xe9, 0xf9, 0xef, 0xff, 0xff}, 7, 0, NULL},
	    {"past the patch", {0xff, 0xc7, 0xe9, 0xff, 0xef, 0xff, 0xff}, 7, 0, NULL},
	    {"bytes that do not decode",
	     {0xff, 0xc7, 0x06, 0x90},
	     4,
	     -EILSEQ,
	     "t_cold.cold+0x2: bytes that do not decode; no branch into the patch can be ruled "
	     "out"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
		struct nc_hook_in in = {
		    .code = body,
		    .code_len = sizeof(body),
		    .func = 0x400000,
		    .func_size = sizeof(body),
		    .tramp = 0x500000,
		    .data = 0x501000,
		    .kind = NC_HOOK_SINGLE,
		    .arg = 1,
		    .name = "t_cold",
		    .cold = c[i].cold,
		    .cold_len = c[i].len,
		    .cold_addr = 0x401000,
		};
		struct nc_hook_out out;
		char err[256] = "";
		int ret = nc_hook_build(&in, &out, err, sizeof(err));

		g_test_message("cold part %s: %d %s", c[i].what, ret, err);
		g_assert_cmpint(ret, ==, c[i].ret);
		if (c[i].msg)
			g_assert_cmpstr(err, ==, c[i].msg);
	}
}

static void test_refusals(void)
{
	const struct refusal r[] = {
	    {"shorter than the patch (size)", B(0x31, 0xc0, 0xc3), 3, 0x100000, 0, NC_HOOK_PASS, 0,
	     -ENOSPC, "3 bytes long, shorter than the 5-byte jump"},
	    {"shorter than the patch (ret)", B(0x31, 0xc0, 0xc3, 0xcc, 0xcc, 0xcc), 0, 0x100000, 0,
	     NC_HOOK_PASS, 0, -ENOSPC, "ends at +0x3 (ret), before the 5 bytes"},
	    {"fewer bytes given", B(0x31, 0xc0, 0x90), 0, 0x100000, 0, NC_HOOK_PASS, 0, -ENOSPC,
	     "only 3 bytes given"},
	    {"fewer bytes than the function's size", B(0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3), 0x40,
	     0x100000, 0, NC_HOOK_PASS, 0, -ENOSPC, "6 of its 64 bytes given"},
	    {"an instruction cut", B(0x90, 0x90, 0x90, 0x48, 0x8b, 0x05, 0x00), 0, 0x100000, 0,
	     NC_HOOK_PASS, 0, -ENOSPC, "runs past the 7 bytes given"},
	    {"jrcxz", B(0xe3, 0x10, 0x90, 0x90, 0x90, 0x90, 0xc3), 0, 0x100000, 0, NC_HOOK_PASS, 0,
	     -ENOTSUP, "function+0x0: jrcxz"},
	    {"loop", B(0x90, 0xe2, 0x10, 0x90, 0x90, 0x90, 0xc3), 0, 0x100000, 0, NC_HOOK_PASS, 0,
	     -ENOTSUP, "function+0x1: loop"},
	    {"xbegin", B(0xc7, 0xf8, 0x10, 0x00, 0x00, 0x00, 0xc3), 0, 0x100000, 0, NC_HOOK_PASS, 0,
	     -ENOTSUP, "function+0x0: xbegin"},
	    /* xor eax,eax; 1: inc rax; cmp rax,10; jne 1b (+2, inside the patch); ret */
	    {"a jump into the patch",
	     B(0x31, 0xc0, 0x48, 0xff, 0xc0, 0x48, 0x83, 0xf8, 0x0a, 0x75, 0xf7, 0xc3), 12,
	     0x100000, 0, NC_HOOK_PASS, 0, -ENOTSUP,
	     "function+0x9: jne 0x400002 lands inside the 5 patched bytes (+0x2)"},
	    /* a jump to the entry itself is fine: the same without the loop, jne to +0 */
	    {"a jump to the entry (accepted)",
	     B(0x31, 0xc0, 0x48, 0xff, 0xc0, 0x48, 0x83, 0xf8, 0x0a, 0x75, 0xf5, 0xc3), 12,
	     0x100000, 0, NC_HOOK_PASS, 0, 0, NULL},
	    /* mov rax, [rip+0x70000000] with the trampoline 512 MB below */
	    {"rip-relative out of reach", B(0x48, 0x8b, 0x05, 0x00, 0x00, 0x00, 0x70, 0xc3), 8,
	     -0x20000000, 0x40000000, NC_HOOK_PASS, 0, -ERANGE, "out of reach of the trampoline"},
	    {"trampoline out of reach", B(0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3), 6, 0xc0000000LL, 0,
	     NC_HOOK_PASS, 0, -ERANGE, "out of reach of a jmp rel32"},
	    {"bytes that do not decode", B(0x06, 0x90, 0x90, 0x90, 0x90, 0xc3), 6, 0x100000, 0,
	     NC_HOOK_PASS, 0, -EILSEQ, "do not decode"},
	    {"a body that does not decode", B(0x55, 0x48, 0x89, 0xe5, 0x90, 0x06, 0x5d, 0xc3), 8,
	     0x100000, 0, NC_HOOK_PASS, 0, -EILSEQ, "function+0x5: bytes that do not decode"},
	    {"across a page", B(0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3), 6, 0x100000, 0x400ffd,
	     NC_HOOK_PASS, 0, -EXDEV, "cross a page boundary"},
	    {"argument 0", B(0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3), 6, 0x100000, 0, NC_HOOK_SINGLE, 0,
	     -EINVAL, "argument numbers are 1 to 16"},
	    {"argument 17", B(0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3), 6, 0x100000, 0, NC_HOOK_SINGLE,
	     17, -EINVAL, "argument numbers"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(r); i++) {
		struct nc_hook_in in = {
		    .code = r[i].code,
		    .code_len = r[i].len,
		    .func = r[i].func ? r[i].func : 0x400000,
		    .func_size = r[i].func_size,
		    .kind = r[i].kind,
		    .arg = r[i].arg,
		};
		struct nc_hook_out out;
		char err[256] = "";
		int ret;

		in.tramp = in.func + (uint64_t)r[i].tramp_off;
		in.data = in.tramp + 4096;
		ret = nc_hook_build(&in, &out, err, sizeof(err));
		g_test_message("%s: %d %s", r[i].what, ret, err);
		g_assert_cmpint(ret, ==, r[i].ret);
		if (r[i].msg)
			g_assert_nonnull(strstr(err, r[i].msg));
	}
	test_cold_part();
}

/*
 * Branches whose target the trampoline cannot reach with rel32 (the function 256 MB above it,
 * the target 2 GB above the function): jmp, jcc and call take their absolute forms.
 */
static void test_far_branches(void)
{
	const uint64_t func = 0x40000000, tramp = func - 0x10000000, to = func + 5 + 0x7ffffff0;
	struct {
		const char *what;
		uint8_t code[8];
		uint8_t want[24];
		size_t want_len;
	} c[] = {
	    /* jmp rel32 -> jmp [rip+0]; the address */
	    {"jmp",
	     {0xe9, 0xf0, 0xff, 0xff, 0x7f, 0xc3},
	     {0xff, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	     14},
	    /* call rel32 -> call [rip+2]; jmp +8; the address */
	    {"call",
	     {0xe8, 0xf0, 0xff, 0xff, 0x7f, 0xc3},
	     {0xff, 0x15, 2, 0, 0, 0, 0xeb, 8, 0, 0, 0, 0, 0, 0, 0, 0},
	     16},
	    /* jne rel32 (0f 85) -> je +14; jmp [rip+0]; the address */
	    {"jne",
	     {0x0f, 0x85, 0xef, 0xff, 0xff, 0x7f, 0xc3},
	     {0x74, 14, 0xff, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	     16},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
		struct nc_hook_in in = {
		    .code = c[i].code,
		    .code_len = c[i].code[0] == 0x0f ? 7 : 6,
		    .func = func,
		    .tramp = tramp,
		    .data = tramp + 4096,
		    .kind = NC_HOOK_PASS,
		};
		struct nc_hook_out out;
		char err[256];
		uint64_t target = c[i].code[0] == 0x0f ? func + 6 + 0x7fffffef : to;

		in.func_size = in.code_len;
		memcpy(c[i].want + c[i].want_len - 8, &target, 8); /* little-endian x86-64 */
		g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
		g_test_message("%s: %zu bytes relocated into %zu", c[i].what, out.reloc_len,
			       out.tramp_len);
		g_assert_cmpmem(out.tramp, c[i].want_len, c[i].want, c[i].want_len);
	}
}

/* A page at exactly `at` (read+write+execute), or NULL when that address is taken. */
static uint8_t *map_at(uintptr_t at)
{
	void *p = mmap((void *)at, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if ((uintptr_t)p != at) {
		munmap(p, 4096);
		return NULL;
	}
	return p;
}

/*
 * The absolute forms run: functions at A whose jne and call go to B = A + 1.75 GB, their PASS
 * trampolines at C = A - 1.75 GB (3.5 GB from B), called in place of the functions.
 */
static void test_exec_far(void)
{
	uintptr_t a = 0x300000000000, b = a + 0x70000000, c = a - 0x70000000;
	uint8_t *pa = map_at(a), *pb = map_at(b), *pc = map_at(c);
	int32_t rel;

	if (!pa || !pb || !pc) {
		g_test_skip("the addresses A, B, C are taken in this process");
		return;
	}
	/* A+0: test esi, esi; jne B+16; mov rax, rdi; ret */
	memcpy(pa, (const uint8_t[]){0x85, 0xf6, 0x0f, 0x85, 0, 0, 0, 0, 0x48, 0x89, 0xf8, 0xc3},
	       12);
	rel = (int32_t)((b + 16) - (a + 8));
	memcpy(pa + 4, &rel, 4);
	/* A+64: call B; add rax, rsi; ret */
	memcpy(pa + 64, (const uint8_t[]){0xe8, 0, 0, 0, 0, 0x48, 0x01, 0xf0, 0xc3}, 9);
	rel = (int32_t)(b - (a + 64 + 5));
	memcpy(pa + 65, &rel, 4);
	/* B+0: lea rax, [rdi+1]; ret.  B+16: lea rax, [rdi+2]; ret */
	memcpy(pb, (const uint8_t[]){0x48, 0x8d, 0x47, 0x01, 0xc3}, 5);
	memcpy(pb + 16, (const uint8_t[]){0x48, 0x8d, 0x47, 0x02, 0xc3}, 5);
	for (int f = 0; f < 2; f++) {
		struct nc_hook_in in = {
		    .code = pa + 64 * f,
		    .code_len = f ? 9 : 12,
		    .func = a + 64 * (uint64_t)f,
		    .func_size = f ? 9 : 12,
		    .tramp = c + 512 * (uint64_t)f,
		    .data = c + 2048,
		    .kind = NC_HOOK_PASS,
		};
		struct nc_hook_out out;
		char err[256];

		g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
		memcpy(pc + 512 * f, out.tramp, out.tramp_len);
	}
	__builtin___clear_cache((char *)pc, (char *)pc + 4096);
	uint64_t (*jne)(uint64_t, uint64_t) = (uint64_t(*)(uint64_t, uint64_t))pc;
	uint64_t (*call)(uint64_t, uint64_t) = (uint64_t(*)(uint64_t, uint64_t))(pc + 512);

	g_assert_cmpuint(jne(40, 0), ==, 40);  /* not taken: on to A+8 */
	g_assert_cmpuint(jne(40, 1), ==, 42);  /* taken: to B+16 through the absolute jump */
	g_assert_cmpuint(call(40, 5), ==, 46); /* B returns into the trampoline, on to A+5 */
	munmap(pa, 4096);
	munmap(pb, 4096);
	munmap(pc, 4096);
}

/* --- trampolines run in this process --- */

/* A PASS trampoline of fn at its own address: calling it must be calling fn. */
static void *pass_tramp(void *fn, size_t size, uint8_t *at)
{
	struct nc_hook_in in = {
	    .code = fn,
	    .code_len = size,
	    .func = (uint64_t)(uintptr_t)fn,
	    .func_size = size,
	    .tramp = (uint64_t)(uintptr_t)at,
	    .data = (uint64_t)(uintptr_t)at + 2048,
	    .kind = NC_HOOK_PASS,
	};
	struct nc_hook_out out;
	char err[256];

	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
	memcpy(at, out.tramp, out.tramp_len);
	__builtin___clear_cache((char *)at, (char *)at + out.tramp_len);
	return at;
}

static void test_exec_relocated(void)
{
	uint8_t *r = map_near((void *)t_rip, 3 * 4096);
	uint64_t a[5] = {1, 2, 3, 4, 5};
	uint64_t (*sum)(const uint64_t *, unsigned) =
	    (uint64_t(*)(const uint64_t *, unsigned))pass_tramp((void *)t_sum, SIZE(t_sum), r);
	uint64_t (*rip)(uint64_t, uint64_t) =
	    (uint64_t(*)(uint64_t, uint64_t))pass_tramp((void *)t_rip, SIZE(t_rip), r + 4096);
	uint64_t (*call)(uint64_t, uint64_t) =
	    (uint64_t(*)(uint64_t, uint64_t))pass_tramp((void *)t_call, SIZE(t_call), r + 8192);

	g_assert_cmpuint(sum(a, 5), ==, 15);
	g_assert_cmpuint(sum(a, 0), ==, 0);  /* the relocated je, taken */
	g_assert_cmpuint(rip(2, 5), ==, 35); /* the relocated lea t_table(%rip) */
	g_assert_cmpuint(call(3, 4), ==, 8); /* the relocated call t_helper */
	munmap(r, 3 * 4096);
}

/*
 * A copy of fn (size bytes) at r, patched to jump into a trampoline of `kind` at r + 4096 whose
 * data slot is at r + 8192 ({entry, cookie}); returns the copy.
 */
static void *patched_copy_x(const void *fn, size_t size, uint8_t *r, enum nc_hook_kind kind,
			    unsigned arg, unsigned count_arg,
			    void (*ent)(uint64_t, uint64_t, uint64_t), uint32_t xsave)
{
	struct nc_hook_in in = {
	    .code = fn,
	    .code_len = size,
	    .func = (uint64_t)(uintptr_t)r,
	    .func_size = size,
	    .tramp = (uint64_t)(uintptr_t)r + 4096,
	    .data = (uint64_t)(uintptr_t)r + 8192,
	    .kind = kind,
	    .arg = arg,
	    .count_arg = count_arg,
	    .xsave_size = xsave,
	    .popfq = use_popfq,
	};
	struct nc_hook_out out;
	struct nc_hook_data d = {(uint64_t)(uintptr_t)ent, 0xc00c1e};
	char err[256];

	memcpy(r, fn, size);
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
	memcpy(r + 4096, out.tramp, out.tramp_len);
	memcpy(r + 8192, &d, sizeof(d));
	memcpy(r, out.patch, NC_HOOK_PATCH_LEN);
	__builtin___clear_cache((char *)r, (char *)r + 8192);
	return r;
}

static void *patched_copy(const void *fn, size_t size, uint8_t *r, enum nc_hook_kind kind,
			  unsigned arg, unsigned count_arg)
{
	return patched_copy_x(fn, size, r, kind, arg, count_arg, entry, 0);
}

static void test_exec_patched(void)
{
	uint8_t *r = map_near((void *)t_sum, 3 * 4096);
	uint64_t a[4] = {10, 20, 30, 40};
	uint64_t (*sum)(const uint64_t *, unsigned);
	uint64_t (*arg8)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
			 uint64_t);
	struct nc_hook_data *d = (struct nc_hook_data *)(r + 8192);

	/* func@1@2 on a copy of t_sum */
	sum = (uint64_t(*)(const uint64_t *, unsigned))patched_copy((void *)t_sum, SIZE(t_sum), r,
								    NC_HOOK_VECTOR, 1, 2);
	seen_calls = 0;
	g_assert_cmpuint(sum(a, 4), ==, 100);
	g_assert_cmpint(seen_calls, ==, 1);
	g_assert_cmphex(seen_cookie, ==, 0xc00c1e);
	g_assert_true(seen_a == (uint64_t)(uintptr_t)a);
	g_assert_cmpuint(seen_b, ==, 4);
	g_assert_cmpuint(sum(a, 0), ==, 0);
	g_assert_cmpint(seen_calls, ==, 2);
	/* switched off: entry 0, no call, the same result */
	d->entry = 0;
	g_assert_cmpuint(sum(a, 3), ==, 60);
	g_assert_cmpint(seen_calls, ==, 2);

	/* arguments 7 and 8 come from the caller's stack */
	arg8 = (uint64_t(*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
			    uint64_t))patched_copy((void *)t_arg8, SIZE(t_arg8), r, NC_HOOK_VECTOR,
						   8, 7);
	g_assert_cmpuint(arg8(1, 2, 3, 4, 5, 6, 77, 88), ==, 88);
	g_assert_cmpint(seen_calls, ==, 3);
	g_assert_cmpuint(seen_a, ==, 88);
	g_assert_cmpuint(seen_b, ==, 77);
	munmap(r, 3 * 4096);
}

static void test_exec_registers(void)
{
	uint8_t *r = map_near((void *)t_keep, 3 * 4096);
	struct nc_hook_data *d = (struct nc_hook_data *)(r + 8192);

	/* every arithmetic flag and DF set, none, and mixes; restored with sahf, then popfq */
	static const uint64_t flags[] = {0xcd5, 0x0, 0x801, 0x4c4, 0x410, 0x0d5};

	for (size_t k = 0; k < 2 * G_N_ELEMENTS(flags); k++) {
		use_popfq = k >= G_N_ELEMENTS(flags);
		t_regs_flags = flags[k % G_N_ELEMENTS(flags)];
		t_regs_fn = patched_copy((void *)t_keep, SIZE(t_keep), r, NC_HOOK_SINGLE, 1, 0);
		seen_calls = 0;
		memset(t_regs_out, 0, sizeof(t_regs_out));
		t_regs_probe();
		g_assert_cmpint(seen_calls, ==, 1);
		for (int i = 0; i < 15; i++)
			g_assert_cmphex(t_regs_out[i], ==, 0x1111111111111100 + (uint64_t)i);
		check_flags();
	}
	use_popfq = false;
	t_regs_flags = 0x8d5;
	t_regs_fn = patched_copy((void *)t_keep, SIZE(t_keep), r, NC_HOOK_SINGLE, 1, 0);
	for (int round = 0; round < 2; round++) {
		seen_calls = 0;
		memset(t_regs_out, 0, sizeof(t_regs_out));
		t_regs_probe();
		g_assert_cmpint(seen_calls, ==, round == 0);
		if (round == 0) {
			g_assert_cmphex(seen_a, ==, 0x1111111111111106); /* rdi, argument 1 */
			g_assert_cmphex(seen_b, ==, 0);
		}
		for (int i = 0; i < 15; i++)
			g_assert_cmphex(t_regs_out[i], ==, 0x1111111111111100 + (uint64_t)i);
		check_flags();
		d->entry = 0; /* round 2: switched off */
	}
	munmap(r, 3 * 4096);
}

/*
 * An entry that overwrites every xmm/ymm register: without xsave_size the probe sees them
 * changed (what the general-regs-only contract forbids), with it every one is kept.
 */
static void test_exec_vector(void)
{
	uint32_t xsave = nc_hook_xsave_size();
	uint8_t *r;

	if (!__builtin_cpu_supports("avx") || !xsave) {
		g_test_skip("no AVX or no xsave on this CPU");
		return;
	}
	g_test_message("xsave area: %u bytes", xsave);
	for (size_t i = 0; i < sizeof(t_vec_in); i++)
		t_vec_in[i] = (uint8_t)(i * 7 + 1);
	r = map_near((void *)t_keep, 3 * 4096);
	for (int save = 0; save < 2; save++) {
		t_regs_fn = patched_copy_x((void *)t_keep, SIZE(t_keep), r, NC_HOOK_SINGLE, 1, 0,
					   entry_vec, save ? xsave : 0);
		seen_calls = 0;
		memset(t_vec_out, 0, sizeof(t_vec_out));
		t_vec_probe();
		g_assert_cmpint(seen_calls, ==, 1);
		if (save)
			g_assert_cmpmem(t_vec_in, sizeof(t_vec_in), t_vec_out, sizeof(t_vec_out));
		else /* the control: the probe does see a clobbering entry */
			g_assert_true(memcmp(t_vec_in, t_vec_out, sizeof(t_vec_in)) != 0);
		/* and the general registers and flags with the xsave stub too */
		memset(t_regs_out, 0, sizeof(t_regs_out));
		t_regs_probe();
		for (int i = 0; i < 15; i++)
			g_assert_cmphex(t_regs_out[i], ==, 0x1111111111111100 + (uint64_t)i);
		check_flags();
	}
	munmap(r, 3 * 4096);
}

/* NC_HOOK_RET: the entry keeps the return address and sends the function to the return stub
 * (ret_stub_at; 0: it declines), the return side gives it back */
static uint64_t ret_stub_at, ret_saved, ret_seen_rax, ret_seen_a;
static int ret_calls;
static bool ret_clobber_vec;

static uint64_t entry_ret(uint64_t cookie, uint64_t a, uint64_t ret)
{
	entry(cookie, a, 0);
	ret_seen_a = a;
	if (!ret_stub_at)
		return ret;
	ret_saved = ret;
	return ret_stub_at;
}

static uint64_t ret_side(uint64_t cookie, uint64_t rax)
{
	g_assert_cmphex(cookie, ==, 0xc00c1e);
	ret_seen_rax = rax;
	ret_calls++;
	if (ret_clobber_vec)
		entry_vec(cookie, 0, 0); /* every ymm register overwritten, as libc may */
	else
		entry(cookie, 0, 0); /* every caller-saved register and the flags */
	return ret_saved;
}

/* A copy of fn at r patched with a NC_HOOK_RET trampoline (argument `arg`), ret_stub_at set */
static void *patched_copy_ret(const void *fn, size_t size, uint8_t *r, unsigned arg, uint32_t xsave)
{
	struct nc_hook_in in = {
	    .code = fn,
	    .code_len = size,
	    .func = (uint64_t)(uintptr_t)r,
	    .func_size = size,
	    .tramp = (uint64_t)(uintptr_t)r + 4096,
	    .data = (uint64_t)(uintptr_t)r + 8192,
	    .kind = NC_HOOK_RET,
	    .arg = arg,
	    .xsave_size = xsave,
	};
	struct nc_hook_out out;
	uint64_t d[4] = {(uint64_t)(uintptr_t)entry_ret, 0xc00c1e, 0,
			 (uint64_t)(uintptr_t)ret_side};
	char err[256];

	g_assert_cmpuint(NC_HOOK_DATA_RET, ==, 24);
	memcpy(r, fn, size);
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(out.ret_off, >, out.reloc_off);
	memcpy(r + 4096, out.tramp, out.tramp_len);
	memcpy(r + 8192, d, sizeof(d));
	memcpy(r, out.patch, NC_HOOK_PATCH_LEN);
	__builtin___clear_cache((char *)r, (char *)r + 8192);
	ret_stub_at = (uint64_t)(uintptr_t)r + 4096 + out.ret_off;
	return r;
}

/*
 * func@N@ret: the function returns into the return stub, which hands the return side rax and
 * returns where the function would have, every register and flag as the function left them
 * (also the vector registers with the xsave stub); an entry that declines leaves the return
 * alone; entry 0 calls nothing
 */
static void test_exec_return(void)
{
	uint8_t *r = map_near((void *)t_sum, 3 * 4096);
	uint64_t a[4] = {10, 20, 30, 40};
	uint64_t (*sum)(const uint64_t *, unsigned) =
	    (uint64_t(*)(const uint64_t *, unsigned))patched_copy_ret((void *)t_sum, SIZE(t_sum), r,
								      1, 0);
	uint32_t xsave = nc_hook_xsave_size();

	seen_calls = ret_calls = 0;
	ret_clobber_vec = false;
	g_assert_cmpuint(sum(a, 4), ==, 100);
	g_assert_cmpint(seen_calls, ==, 2); /* the entry, then the return side */
	g_assert_cmpint(ret_calls, ==, 1);
	g_assert_true(ret_seen_a == (uint64_t)(uintptr_t)a);
	g_assert_cmpuint(ret_seen_rax, ==, 100);
	g_assert_cmpuint(sum(a, 2), ==, 30);
	g_assert_cmpuint(ret_seen_rax, ==, 30);
	g_assert_cmpint(ret_calls, ==, 2);
	ret_stub_at = 0; /* declined: no return side */
	g_assert_cmpuint(sum(a, 3), ==, 60);
	g_assert_cmpint(ret_calls, ==, 2);
	((uint64_t *)(r + 8192))[0] = 0; /* switched off */
	g_assert_cmpuint(sum(a, 1), ==, 10);
	g_assert_cmpint(ret_calls, ==, 2);

	/* every general register and the flags as t_keep left them, through the return stub */
	for (int x = 0; x < 2; x++) {
		if (x && (!xsave || !__builtin_cpu_supports("avx")))
			break;
		t_regs_fn = patched_copy_ret((void *)t_keep, SIZE(t_keep), r, 1, x ? xsave : 0);
		ret_clobber_vec = x;
		ret_calls = 0;
		for (int f = 0; f < 2; f++) { /* every arithmetic flag and DF, then none */
			t_regs_flags = f ? 0 : 0xcd5;
			memset(t_regs_out, 0, sizeof(t_regs_out));
			t_regs_probe();
			g_assert_cmpint(ret_calls, ==, f + 1);
			g_assert_cmphex(ret_seen_rax, ==, 0x1111111111111100);
			for (int i = 0; i < 15; i++)
				g_assert_cmphex(t_regs_out[i], ==,
						0x1111111111111100 + (uint64_t)i);
			check_flags();
		}
		t_regs_flags = 0x8d5;
		ret_calls = 1;
		if (!x)
			continue;
		for (size_t i = 0; i < sizeof(t_vec_in); i++)
			t_vec_in[i] = (uint8_t)(i * 7 + 1);
		memset(t_vec_out, 0, sizeof(t_vec_out));
		t_vec_probe();
		g_assert_cmpint(ret_calls, ==, 2);
		g_assert_cmpmem(t_vec_in, sizeof(t_vec_in), t_vec_out, sizeof(t_vec_out));
	}
	ret_clobber_vec = false;
	munmap(r, 3 * 4096);
}

static void entry_count(uint64_t cookie, uint64_t a, uint64_t b)
{
	(void)cookie;
	(void)a;
	(void)b;
	seen_calls++;
}

/* ns per call of fn, the best of 5 rounds of 200,000 calls */
static double per_call(void (*fn)(void))
{
	double best = 1e9;

	for (int round = 0; round < 5; round++) {
		gint64 t0 = g_get_monotonic_time();

		for (int i = 0; i < 200000; i++)
			fn();
		best = MIN(best, (double)(g_get_monotonic_time() - t0) * 1e3 / 200000);
	}
	return best;
}

/* What a call through the stub costs, with and without xsave (printed, not judged). */
static void test_exec_cost(void)
{
	uint32_t xsave = nc_hook_xsave_size();
	uint8_t *r = map_near((void *)t_keep, 3 * 4096);
	double plain = per_call(t_keep), stub, with_xsave = 0;

	stub = per_call((void (*)(void))patched_copy_x((void *)t_keep, SIZE(t_keep), r,
						       NC_HOOK_SINGLE, 1, 0, entry_count, 0));
	if (xsave)
		with_xsave = per_call((void (*)(void))patched_copy_x(
		    (void *)t_keep, SIZE(t_keep), r, NC_HOOK_SINGLE, 1, 0, entry_count, xsave));
	g_test_message("a call: %.1f ns plain, %.1f ns through the stub, %.1f ns with xsave (%u "
		       "bytes)",
		       plain, stub, with_xsave, xsave);
	g_assert_cmpint(seen_calls, >, 0);
	munmap(r, 3 * 4096);
}

/*
 * A hook through a pointer: t_sum called through a function pointer swapped to a trampoline
 * near it (jmp rel32 back) and to one at 0x300000000000, far from this binary (the absolute
 * jump); the entry sees the array and the count, the result is t_sum's.
 */
static void test_exec_pointer(void)
{
	uint64_t a[3] = {5, 6, 7};
	uint8_t *near = map_near((void *)t_sum, 4096), *far = map_at(0x300000000000);
	uint8_t *where[2] = {near, far};

	for (int i = 0; i < 2; i++) {
		struct nc_hook_in in = {
		    .func = (uint64_t)(uintptr_t)t_sum,
		    .kind = NC_HOOK_VECTOR,
		    .arg = 1,
		    .count_arg = 2,
		};
		struct nc_hook_data d = {(uint64_t)(uintptr_t)entry, 0x9017};
		struct nc_hook_out out;
		uint64_t (*volatile fn)(const uint64_t *, unsigned) = t_sum;
		char err[256];

		if (!where[i]) {
			g_test_message("0x300000000000 taken: the far case not run");
			continue;
		}
		in.tramp = (uint64_t)(uintptr_t)where[i];
		in.data = in.tramp + 2048;
		g_assert_cmpint(nc_hook_build_pointer(&in, &out, err, sizeof(err)), ==, 0);
		memcpy(where[i], out.tramp, out.tramp_len);
		memcpy(where[i] + 2048, &d, sizeof(d));
		__builtin___clear_cache((char *)where[i], (char *)where[i] + 4096);
		g_assert_cmpuint(out.tramp_len - out.reloc_off, ==,
				 i ? 14 : 5); /* jmp [rip] / rel32 */
		fn = (uint64_t(*)(const uint64_t *, unsigned))where[i];
		seen_calls = 0;
		g_assert_cmpuint(fn(a, 3), ==, 18);
		g_assert_cmpint(seen_calls, ==, 1);
		g_assert_cmphex(seen_cookie, ==, 0x9017);
		g_assert_true(seen_a == (uint64_t)(uintptr_t)a);
		g_assert_cmpuint(seen_b, ==, 3);
		munmap(where[i], 4096);
	}
	struct nc_hook_in pass = {.func = 0x1000, .tramp = 0x2000, .data = 0x3000};
	struct nc_hook_out out;
	g_assert_cmpint(nc_hook_build_pointer(&pass, &out, NULL, 0), ==, -EINVAL);
}

/* --- the patcher against hook_target --- */

struct target {
	GPid pid;
	int in, out;
	FILE *outf;
	uint64_t step, tramp, data, entry, spin, park;
	uint8_t orig[5], patch[5];
};

static int target_stop(struct target *t, char *res, size_t len);

static bool target_start(struct target *t, bool spin)
{
	const char *path = g_getenv("NC_HOOK_TARGET");
	char *argv[] = {(char *)path, spin ? "--spin" : NULL, NULL};
	char line[512];
	g_autoptr(GError) e = NULL;
	int fd;

	memset(t, 0, sizeof(*t));
	if (!path) {
		g_test_skip("NC_HOOK_TARGET (tests/apps/hook_target) not set");
		return false;
	}
	g_assert_true(g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
					       NULL, &t->pid, &t->in, &t->out, NULL, &e));
	t->outf = fdopen(t->out, "r");
	g_assert_nonnull(fgets(line, sizeof(line), t->outf));
	g_assert_cmpint(sscanf(line,
			       "step=0x%" SCNx64 " tramp=0x%" SCNx64 " data=0x%" SCNx64
			       " entry=0x%" SCNx64 " spin=0x%" SCNx64 " park=0x%" SCNx64,
			       &t->step, &t->tramp, &t->data, &t->entry, &t->spin, &t->park),
			==, 6);
	snprintf(line, sizeof(line), "/proc/%d/mem", (int)t->pid);
	fd = open(line, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		g_autofree char *why =
		    g_strdup_printf("cannot open %s: %s (ptrace refused)", line, g_strerror(errno));
		char res[256];

		g_test_skip(why);
		target_stop(t, res, sizeof(res));
		return false;
	}
	close(fd);
	return true;
}

/* Ends the target (its stdin closed); its last line into `res`; returns its exit status. */
static int target_stop(struct target *t, char *res, size_t len)
{
	int st;

	close(t->in);
	res[0] = 0;
	if (!fgets(res, (int)len, t->outf))
		res[0] = 0;
	fclose(t->outf);
	g_assert_cmpint(waitpid(t->pid, &st, 0), ==, t->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void mem_rw(pid_t pid, uint64_t addr, void *buf, size_t len, bool write)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	if (write)
		g_assert_cmpint(pwrite(fd, buf, len, (off_t)addr), ==, (ssize_t)len);
	else
		g_assert_cmpint(pread(fd, buf, len, (off_t)addr), ==, (ssize_t)len);
	close(fd);
}

/* The trampoline of step() (func@1@2) written into the target; t->orig and t->patch set. */
static void target_hook(struct target *t)
{
	const char *path = g_getenv("NC_HOOK_TARGET");
	struct nc_elf *e = NULL;
	uint64_t off, size;
	uint8_t code[256];
	struct nc_hook_out out;
	struct nc_hook_data d;
	char err[256];

	g_assert_cmpint(nc_elf_open(path, &e, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_func(e, "step", &off, &size, err, sizeof(err)), ==, 0);
	nc_elf_close(e);
	g_assert_cmpuint(size, <=, sizeof(code));
	mem_rw(t->pid, t->step, code, size, false);
	struct nc_hook_in in = {
	    .code = code,
	    .code_len = size,
	    .func = t->step,
	    .func_size = size,
	    .tramp = t->tramp,
	    .data = t->data,
	    .kind = NC_HOOK_VECTOR,
	    .arg = 1,
	    .count_arg = 2,
	    .name = "step",
	};
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
	g_test_message("step: %zu bytes relocated in %zu instructions", out.reloc_len, out.n_reloc);
	mem_rw(t->pid, t->tramp, out.tramp, out.tramp_len, true);
	d = (struct nc_hook_data){t->entry, 0x5eed};
	mem_rw(t->pid, t->data, &d, sizeof(d), true);
	memcpy(t->orig, out.orig, 5);
	memcpy(t->patch, out.patch, 5);
}

/*
 * hook_target's last line: no error, no bad argument, the hook called, threads came and went,
 * every real-time signal sent to it handled.
 */
static void check_result(const char *res, uint64_t sent)
{
	uint64_t chunks, errors, calls, badargs, spawned, signals;

	g_test_message("hook_target: %s", res);
	g_assert_cmpint(sscanf(res,
			       "chunks=%" SCNu64 " errors=%" SCNu64 " calls=%" SCNu64
			       " badargs=%" SCNu64 " threads=%" SCNu64 " signals=%" SCNu64,
			       &chunks, &errors, &calls, &badargs, &spawned, &signals),
			==, 6);
	g_assert_cmpuint(signals, ==, sent);
	g_assert_cmpuint(errors, ==, 0);
	g_assert_cmpuint(badargs, ==, 0);
	g_assert_cmpuint(calls, >, 0);
	g_assert_cmpuint(chunks, >, 0);
	g_assert_cmpuint(spawned, >, 0);
}

/* Whether ptrace works on this target; skips the case with the reason when it does not. */
static bool can_trace(struct target *t)
{
	struct nc_patch_site s = {t->step, t->orig, t->orig, 5};
	char err[256], res[256];
	int ret = nc_patch_apply(t->pid, &s, 1, BOUND_MS, NULL, err, sizeof(err));

	if (ret == -EPERM) {
		g_test_skip(err);
		target_stop(t, res, sizeof(res));
		return false;
	}
	g_assert_cmpint(ret, ==, 0);
	return true;
}

/* Queued real-time signals sent to a process until told to stop. */
struct sender {
	pid_t pid;
	gint stop;
	guint64 sent;
};

static gpointer send_rt(gpointer p)
{
	struct sender *s = p;

	while (!g_atomic_int_get(&s->stop)) {
		union sigval v = {0};

		if (sigqueue(s->pid, SIGRTMIN, v) == 0)
			s->sent++;
		g_usleep(200);
	}
	return NULL;
}

/*
 * 100 patches and unpatches while the threads call step(), real-time signals arriving
 * meanwhile (some of them while a thread is stopped: each must be handed back at the detach).
 */
static void test_patch_live(void)
{
	struct target t;
	struct sender snd = {0};
	GThread *sender;
	char err[256], res[256];
	uint64_t longest = 0, total = 0, held = 0;
	unsigned retries = 0, threads = 0, handed = 0;

	if (!target_start(&t, false))
		return;
	target_hook(&t);
	if (!can_trace(&t))
		return;
	snd.pid = t.pid;
	sender = g_thread_new("sigqueue", send_rt, &snd);
	for (int i = 0; i < 100; i++) {
		struct nc_patch_site on = {t.step, t.orig, t.patch, 5};
		struct nc_patch_site off = {t.step, t.patch, t.orig, 5};
		struct nc_patch_result r;

		if (nc_patch_apply(t.pid, &on, 1, BOUND_MS, &r, err, sizeof(err)))
			g_error("patch %d: %s", i, err);
		longest = MAX(longest, r.stop_ns);
		held = MAX(held, r.held_ns);
		total += r.stop_ns;
		retries += r.tries - 1;
		handed += r.signals;
		threads = r.threads;
		usleep(2000);
		if (nc_patch_apply(t.pid, &off, 1, BOUND_MS, &r, err, sizeof(err)))
			g_error("unpatch %d: %s", i, err);
		longest = MAX(longest, r.stop_ns);
		held = MAX(held, r.held_ns);
		total += r.stop_ns;
		retries += r.tries - 1;
		handed += r.signals;
		usleep(1000);
	}
	g_test_message("200 stops of %u threads: mean %.0f us, longest %.0f us, a thread held at "
		       "most %.0f us, %u retried",
		       threads, (double)total / 200 / 1e3, (double)longest / 1e3,
		       (double)held / 1e3, retries);
	g_atomic_int_set(&snd.stop, 1);
	g_thread_join(sender);
	g_test_message("%" G_GUINT64_FORMAT " SIGRTMIN sent meanwhile, %u of them stopped a thread "
		       "and were handed back at the patches' detach",
		       snd.sent, handed);
	g_assert_cmpint(target_stop(&t, res, sizeof(res)), ==, 0);
	check_result(res, snd.sent);
}

/* TracerPid of every thread of pid is 0. */
static void assert_untraced(pid_t pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *p = g_strdup_printf("%s/%s/status", dir, name);
		g_autofree char *s = NULL;

		if (!g_file_get_contents(p, &s, NULL, NULL))
			continue; /* exited */
		g_assert_nonnull(strstr(s, "\nTracerPid:\t0\n"));
	}
	g_dir_close(d);
}

static void test_patch_kill(void)
{
	struct target t;
	char res[256];
	unsigned n_orig = 0, n_patch = 0;

	if (!target_start(&t, false))
		return;
	target_hook(&t);
	if (!can_trace(&t))
		return;
	for (int i = 0; i < 50; i++) {
		uint8_t now[5];
		pid_t child = fork();
		int st;

		g_assert_cmpint(child, >=, 0);
		if (child == 0) {
			struct nc_patch_site on = {t.step, t.orig, t.patch, 5};
			struct nc_patch_site off = {t.step, t.patch, t.orig, 5};
			uint8_t cur[5];

			mem_rw(t.pid, t.step, cur, 5, false);
			for (bool patched = !memcmp(cur, t.patch, 5);; patched = !patched)
				if (nc_patch_apply(t.pid, patched ? &off : &on, 1, BOUND_MS, NULL,
						   NULL, 0))
					_exit(1);
		}
		usleep((useconds_t)g_random_int_range(0, 20000));
		kill(child, SIGKILL);
		g_assert_cmpint(waitpid(child, &st, 0), ==, child);
		g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL); /* never failed */
		mem_rw(t.pid, t.step, now, 5, false);
		if (!memcmp(now, t.orig, 5))
			n_orig++;
		else if (!memcmp(now, t.patch, 5))
			n_patch++;
		else
			g_assert_not_reached(); /* half-written */
		assert_untraced(t.pid);
		g_assert_cmpint(kill(t.pid, 0), ==, 0);
	}
	g_test_message("50 kills: %u left the original bytes, %u the jump", n_orig, n_patch);
	g_assert_cmpint(target_stop(&t, res, sizeof(res)), ==, 0);
	check_result(res, 0);
}

static void test_patch_refusals(void)
{
	struct target t;
	struct nc_patch_result r;
	uint8_t before[8], after[8], wrong[5] = {0x90, 0x90, 0x90, 0x90, 0x90};
	char err[256], res[256];
	int ret;

	if (!target_start(&t, true))
		return;
	target_hook(&t);
	if (!can_trace(&t))
		return;

	/* code that is not what was expected */
	mem_rw(t.pid, t.step, before, 5, false);
	struct nc_patch_site stale = {t.step, wrong, t.patch, 5};
	ret = nc_patch_apply(t.pid, &stale, 1, BOUND_MS, NULL, err, sizeof(err));
	g_test_message("%s", err);
	g_assert_cmpint(ret, ==, -ESTALE);
	g_assert_nonnull(strstr(err, "changed"));
	mem_rw(t.pid, t.step, after, 5, false);
	g_assert_cmpmem(before, 5, after, 5);

	/*
	 * a thread that never leaves the bytes to patch (spin_site + 2); the bytes "written" are
	 * the same, so that a try made before the thread reached its loop changes nothing
	 */
	mem_rw(t.pid, t.spin, before, 5, false);
	struct nc_patch_site spin = {t.spin, before, before, 5};
	for (int i = 0; i < 50; i++) {
		ret = nc_patch_apply(t.pid, &spin, 1, BOUND_MS, &r, err, sizeof(err));
		if (ret)
			break;
		usleep(10000);
	}
	g_test_message("%s (%u tries)", err, r.tries);
	g_assert_cmpint(ret, ==, -ETIMEDOUT);
	g_assert_cmphex(r.busy_rip, ==, t.spin + 2);
	g_assert_cmpint(r.busy_tid, >, 0);
	g_assert_cmpuint(r.tries, >, 1);
	g_assert_cmphex(r.busy_stack, ==, 0);
	g_assert_nonnull(strstr(err, "stayed inside the bytes to patch"));
	mem_rw(t.pid, t.spin, after, 5, false);
	g_assert_cmpmem(before, 5, after, 5);
	assert_untraced(t.pid);

	/*
	 * a thread parked in a signal handler that interrupted it at park_site + 2: its registers
	 * are in the handler, the interrupted context on its stack; written, the patch would
	 * resume it in the middle of the jump
	 */
	mem_rw(t.pid, t.park, before, 5, false);
	struct nc_patch_site park = {t.park, before, before, 5};
	ret = nc_patch_apply(t.pid, &park, 1, BOUND_MS, &r, err, sizeof(err));
	g_test_message("%s (%u tries)", err, r.tries);
	g_assert_cmpint(ret, ==, -ETIMEDOUT);
	g_assert_cmphex(r.busy_rip, ==, t.park + 2);
	g_assert_cmpint(r.busy_tid, >, 0);
	g_assert_cmphex(r.busy_stack, !=, 0);
	g_autofree char *want = g_strdup_printf(
	    "thread %d of process %d kept 0x%" PRIx64 ", inside the bytes to patch, on its stack "
	    "(at 0x%" PRIx64 ": a return address or a signal handler's interrupted context) for %d "
	    "ms",
	    (int)r.busy_tid, (int)t.pid, t.park + 2, r.busy_stack, BOUND_MS);
	g_assert_cmpstr(err, ==, want);
	mem_rw(t.pid, t.park, after, 5, false);
	g_assert_cmpmem(before, 5, after, 5);
	assert_untraced(t.pid);

	/* a site across a page; no such process */
	struct nc_patch_site cross = {(t.step & ~4095ULL) + 4093, before, t.patch, 5};
	g_assert_cmpint(nc_patch_apply(t.pid, &cross, 1, 0, NULL, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(target_stop(&t, res, sizeof(res)), ==, 0);
	struct nc_patch_site gone = {t.step, t.orig, t.patch, 5};
	g_assert_cmpint(nc_patch_apply(t.pid, &gone, 1, 0, NULL, err, sizeof(err)), ==, -ESRCH);
}

/* --- USDT sites: a patch inside a function, the probe's arguments read by the trampoline --- */

__asm__(".text\n"
	".p2align 4\n"
	/* uint64_t t_site(uint64_t x): a leaf keeping values in the red zone across the site,
	 * with registers live after it; returns 2x + 7 */
	".globl t_site\n.type t_site,@function\nt_site:\n"
	"\tmov %rdi, -8(%rsp)\n\tmov $-5, %rcx\n\tlea 7(%rdi), %r9\n\tmovw $0xfffe, -16(%rsp)\n"
	".globl t_site_nop\nt_site_nop:\n\tnop\n"
	"\tmov -8(%rsp), %rax\n\tadd %r9, %rax\n\tadd %rcx, %rax\n\tadd $5, %rax\n\tret\n"
	".globl t_site_end\nt_site_end:\n.size t_site, .-t_site\n"
	".p2align 4\n"
	/* uint64_t t_guard(uint64_t x): the site behind a test whose je lands right after it */
	".globl t_guard\n.type t_guard,@function\nt_guard:\n"
	"\ttest %rdi, %rdi\n\tje 1f\n"
	".globl t_guard_nop\nt_guard_nop:\n\tnop\n"
	"1:\tmov %rdi, %rax\n\tadd $1, %rax\n\tret\n"
	".globl t_guard_end\nt_guard_end:\n.size t_guard, .-t_guard\n");

uint64_t t_site(uint64_t x);
uint64_t t_guard(uint64_t x);
extern const uint8_t t_site_nop[], t_site_end[], t_guard_nop[], t_guard_end[];

/* A copy of t_site at r with its site patched into a trampoline at r + 4096 reading locs */
static uint64_t (*site_copy(uint8_t *r, enum nc_hook_kind kind, struct nc_hook_loc l0,
			    struct nc_hook_loc l1, uint32_t xsave))(uint64_t)
{
	struct nc_hook_in in = {
	    .code = (const uint8_t *)t_site,
	    .code_len = SIZE(t_site),
	    .func = (uint64_t)(uintptr_t)r,
	    .func_size = SIZE(t_site),
	    .tramp = (uint64_t)(uintptr_t)r + 4096,
	    .data = (uint64_t)(uintptr_t)r + 8192,
	    .kind = kind,
	    .xsave_size = xsave,
	    .patch_off = (uint64_t)(t_site_nop - (const uint8_t *)t_site),
	    .loc = {l0, l1},
	};
	struct nc_hook_out out;
	struct nc_hook_data d = {(uint64_t)(uintptr_t)entry, 0xc00c1e};
	char err[256] = "";

	memcpy(r, (const void *)t_site, SIZE(t_site));
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(out.reloc_len, ==, 6); /* the nop and the mov after it */
	memset(r + 4096, 0xcc, 4096);
	memcpy(r + 4096, out.tramp, out.tramp_len);
	memcpy(r + 8192, &d, sizeof(d));
	memcpy(r + in.patch_off, out.patch, NC_HOOK_PATCH_LEN);
	__builtin___clear_cache((char *)r, (char *)r + 8192);
	return (uint64_t(*)(uint64_t))(uintptr_t)r;
}

static void test_exec_site(void)
{
	uint8_t *r = map_near((void *)t_site, 3 * 4096);
	const struct nc_hook_loc none = {0};
	const struct {
		struct nc_hook_loc l0, l1;
		uint64_t a, b;
		enum nc_hook_kind kind;
	} c[] = {
	    /* 8@%rdi, -4@%ecx */
	    {{.type = NC_HOOK_LOC_REG, .reg = 7, .size = 8},
	     {.type = NC_HOOK_LOC_REG, .reg = 1, .size = -4},
	     0x123456789a,
	     (uint64_t)-5,
	     NC_HOOK_VECTOR},
	    /* 4@%ecx: zero-extended */
	    {{.type = NC_HOOK_LOC_REG, .reg = 1, .size = 4}, none, 0xfffffffb, 0, NC_HOOK_SINGLE},
	    /* 8@-8(%rsp), -2@-16(%rsp): rsp as at the site, the red zone intact */
	    {{.type = NC_HOOK_LOC_DEREF, .reg = 4, .off = -8, .size = 8},
	     {.type = NC_HOOK_LOC_DEREF, .reg = 4, .off = -16, .size = -2},
	     0x123456789a,
	     (uint64_t)-2,
	     NC_HOOK_VECTOR},
	    /* 4@$42, 2@-16(%rsp) */
	    {{.type = NC_HOOK_LOC_CONST, .off = 42},
	     {.type = NC_HOOK_LOC_DEREF, .reg = 4, .off = -16, .size = 2},
	     42,
	     0xfffe,
	     NC_HOOK_VECTOR},
	    /* 1@%r9b, -1@%r9b: x + 7 = 0x...a1 */
	    {{.type = NC_HOOK_LOC_REG, .reg = 9, .size = 1},
	     {.type = NC_HOOK_LOC_REG, .reg = 9, .size = -1},
	     0xa1,
	     (uint64_t)(int8_t)0xa1,
	     NC_HOOK_VECTOR},
	    /* 8@(%rsp)-ish through rbp's slot: rsp itself, 8@%rsp */
	    {{.type = NC_HOOK_LOC_REG, .reg = 4, .size = 8}, none, 0, 0, NC_HOOK_SINGLE},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(c); i++) {
		for (int x = 0; x < 2; x++) {
			uint64_t (*f)(uint64_t) =
			    site_copy(r, c[i].kind, c[i].l0, c[i].l1, x ? nc_hook_xsave_size() : 0);

			seen_calls = 0;
			seen_a = seen_b = 0xdead;
			g_assert_cmpuint(f(0x123456789a), ==, 2 * 0x123456789aull + 7);
			g_assert_cmpint(seen_calls, ==, 1);
			g_assert_cmphex(seen_cookie, ==, 0xc00c1e);
			if (c[i].l0.type == NC_HOOK_LOC_REG && c[i].l0.reg == 4) {
				/* the caller's rsp minus the return address, 16-aligned + 8 */
				g_assert_cmphex(seen_a & 15, ==, 8);
			} else {
				g_assert_cmphex(seen_a, ==, c[i].a);
			}
			g_assert_cmphex(seen_b, ==, c[i].b);
			((struct nc_hook_data *)(r + 8192))->entry = 0; /* off: no call */
			g_assert_cmpuint(f(3), ==, 13);
			g_assert_cmpint(seen_calls, ==, 1);
		}
	}
	munmap(r, 3 * 4096);
}

/*
 * A site behind `je` over its nop (if (PROBE_ENABLED()) PROBE()): the patch starts at the je,
 * relocated with the site and aimed at the copy of the instruction after the nop; the stub runs
 * only when the je falls through
 */
static void test_exec_guard(void)
{
	uint8_t *r = map_near((void *)t_guard, 3 * 4096);
	uint64_t site = (uint64_t)(t_guard_nop - (const uint8_t *)t_guard), patch = 0, other = 0;
	struct nc_hook_in in = {
	    .code = (const uint8_t *)t_guard,
	    .code_len = SIZE(t_guard),
	    .func = (uint64_t)(uintptr_t)r,
	    .func_size = SIZE(t_guard),
	    .tramp = (uint64_t)(uintptr_t)r + 4096,
	    .data = (uint64_t)(uintptr_t)r + 8192,
	    .kind = NC_HOOK_SINGLE,
	    .loc = {{.type = NC_HOOK_LOC_REG, .reg = 7, .size = 8}},
	    .name = "t_guard",
	};
	struct nc_hook_data d = {(uint64_t)(uintptr_t)entry, 0xc00c1e};
	struct nc_hook_out out;
	uint64_t (*f)(uint64_t) = (uint64_t(*)(uint64_t))(uintptr_t)r;
	char err[256] = "";

	g_assert_cmpint(nc_hook_site_patch(in.code, in.code_len, in.func_size, site, &patch), ==,
			0);
	g_assert_cmpuint(patch, ==, 3); /* test %rdi, %rdi (3 bytes), then the je */
	/* t_site has no branch into its site: the patch stays there */
	g_assert_cmpint(nc_hook_site_patch((const uint8_t *)t_site, SIZE(t_site), SIZE(t_site),
					   (uint64_t)(t_site_nop - (const uint8_t *)t_site),
					   &other),
			==, 0);
	g_assert_cmpuint(other, ==, (uint64_t)(t_site_nop - (const uint8_t *)t_site));
	in.patch_off = patch;
	in.site_off = site;
	memcpy(r, (const void *)t_guard, SIZE(t_guard));
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(out.reloc_len, ==, 6); /* je, nop, mov */
	g_assert_cmpuint(out.n_reloc, ==, 3);
	memset(r + 4096, 0xcc, 4096);
	memcpy(r + 4096, out.tramp, out.tramp_len);
	memcpy(r + 8192, &d, sizeof(d));
	memcpy(r + patch, out.patch, NC_HOOK_PATCH_LEN);
	__builtin___clear_cache((char *)r, (char *)r + 8192);
	seen_calls = 0;
	g_assert_cmpuint(f(7), ==, 8);
	g_assert_cmpint(seen_calls, ==, 1);
	g_assert_cmpuint(seen_a, ==, 7);
	g_assert_cmpuint(f(0), ==, 1); /* the je taken: over the site, no call */
	g_assert_cmpint(seen_calls, ==, 1);
	((struct nc_hook_data *)(r + 8192))->entry = 0;
	g_assert_cmpuint(f(9), ==, 10);
	g_assert_cmpint(seen_calls, ==, 1);
	munmap(r, 3 * 4096);
}

static void test_site_refusals(void)
{
	const struct nc_hook_loc l = {.type = NC_HOOK_LOC_REG, .reg = 7, .size = 8};
	struct nc_hook_in in = {
	    .code = (const uint8_t *)t_guard,
	    .code_len = SIZE(t_guard),
	    .func = 0x400000,
	    .func_size = SIZE(t_guard),
	    .tramp = 0x401000,
	    .data = 0x402000,
	    .kind = NC_HOOK_SINGLE,
	    .patch_off = (uint64_t)(t_guard_nop - (const uint8_t *)t_guard),
	    .loc = {l},
	    .name = "t_guard",
	};
	struct nc_hook_out out;
	char err[256];

	/* the je lands right after the nop, inside the 5 bytes */
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, -ENOTSUP);
	g_assert_cmpstr(err, ==,
			"t_guard+0x3: je 0x400006 lands inside the 5 patched bytes (+0x6)");
	/* not an instruction's start */
	in.code = (const uint8_t *)t_site;
	in.code_len = in.func_size = SIZE(t_site);
	in.patch_off = 1;
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, -EILSEQ);
	g_assert_cmpstr(err, ==, "t_guard+0x1: no instruction of the function starts there");
	/* a site needs the argument locations; a location must be readable */
	in.patch_off = (uint64_t)(t_site_nop - (const uint8_t *)t_site);
	in.loc[0].type = 0;
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, -EINVAL);
	in.loc[0] =
	    (struct nc_hook_loc){.type = NC_HOOK_LOC_DEREF, .reg = 3, .off = 1ll << 40, .size = 8};
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, -EINVAL);
	in.loc[0] = (struct nc_hook_loc){.type = NC_HOOK_LOC_REG, .reg = 3, .size = 3};
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, -EINVAL);
	in.loc[0] = l;
	in.kind = NC_HOOK_RET;
	in.arg = 1;
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, -EINVAL);
	/* the site too close to the end */
	in.kind = NC_HOOK_SINGLE;
	in.patch_off = SIZE(t_site) - 2;
	g_assert_cmpint(nc_hook_build(&in, &out, err, sizeof(err)), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hook/build/fixture-functions", test_fixture);
	g_test_add_func("/hook/build/refusals", test_refusals);
	g_test_add_func("/hook/build/far-branches-take-absolute-forms", test_far_branches);
	g_test_add_func("/hook/build/every-function-of-nc_fwd-libc-ethdev", test_every_function);
	g_test_add_func("/hook/exec/relocated-code-runs", test_exec_relocated);
	g_test_add_func("/hook/exec/far-jcc-and-call-run", test_exec_far);
	g_test_add_func("/hook/exec/patched-copy-calls-entry", test_exec_patched);
	g_test_add_func("/hook/exec/stub-keeps-every-register-and-flag", test_exec_registers);
	g_test_add_func("/hook/exec/xsave-stub-keeps-vector-registers", test_exec_vector);
	g_test_add_func("/hook/exec/return-side", test_exec_return);
	g_test_add_func("/hook/exec/cost", test_exec_cost);
	g_test_add_func("/hook/exec/through-a-pointer", test_exec_pointer);
	g_test_add_func("/hook/exec/usdt-site-arguments", test_exec_site);
	g_test_add_func("/hook/build/usdt-site-refusals", test_site_refusals);
	g_test_add_func("/hook/exec/usdt-site-behind-its-guard", test_exec_guard);
	g_test_add_func("/hook/patch/100-times-while-threads-call-it", test_patch_live);
	g_test_add_func("/hook/patch/patcher-sigkilled", test_patch_kill);
	g_test_add_func("/hook/patch/refusals", test_patch_refusals);
	return g_test_run();
}
