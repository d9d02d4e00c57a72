/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The code netcap copies into a target's scratch pages (x86-64). It is data here (.rodata: never
 * run in netcap); in the target it runs at the pages' start and finds its data RIP-relative.
 *
 * Restore stub: the hijacked thread "returns" into it from pthread_create(). It stores
 * pthread_create()'s result, then loads every general register and the flags from
 * nc_inject_data.regs, the stack pointer last, and jumps to the saved instruction pointer. netcap
 * has put there the state the thread resumes with, the interrupted system call's restart already
 * applied the way the kernel applies it when no signal handler runs (inject.c,
 * nc_inject_resume_regs()). It uses only the thread's own stack below the red zone (push/popfq
 * of the flags) and needs nothing from netcap: if netcap is gone, the thread resumes all the same.
 *
 * Thread stub: the start routine of the new thread. It records its thread id, detaches itself
 * (no one joins it), names itself ("nc-agent": it inherits the hijacked thread's name otherwise),
 * calls dlopen(path, RTLD_NOW), dlsym(handle, sym) and sym(arg), and records
 * each step in nc_inject_data.state (dlerror()'s text on failure), then returns: the thread ends.
 * In copy mode (img_len > 0: the library is not visible in the target's root, e.g. a container)
 * it first asks dlopen(soname, RTLD_NOW | RTLD_NOLOAD) whether the library is loaded already
 * (an earlier injection: the bytes are then unmapped unused); if not, it makes a memfd
 * (memfd_create(name, MFD_CLOEXEC | MFD_EXEC), again without MFD_EXEC for a kernel older than 6.3),
 * writes the library's bytes netcap put after the pages into it, unmaps them, completes the path
 * "/proc/self/fd/" with the memfd's number, dlopen()s it and closes the memfd (the loader keeps its
 * own mappings).
 */
#include <stddef.h>

#include "stub.h"

#define D(off)	   (NC_INJECT_DATA_OFF + (off))
#define REG(r)	   D(8 * (r))
#define D_DLOPEN   D(144)
#define D_DLSYM	   D(152)
#define D_DLERROR  D(160)
#define D_PSELF	   D(168)
#define D_PDETACH  D(176)
#define D_PTHREAD  D(184)
#define D_HANDLE   D(192)
#define D_CREATE   D(200)
#define D_REACHED  D(204)
#define D_STATE	   D(208)
#define D_AGENTTID D(212)
#define D_ENTRYRET D(216)
#define D_ERR	   D(224)
#define D_NAME	   D(480)
#define D_IMGLEN   D(496)
#define D_IMGMAP   D(504)
#define D_MEMFD	   D(512)
#define D_SYSERR   D(516)
#define D_FDBUF	   D(520)
#define D_SONAME   D(536)
#define D_MFDNAME  D(600)

_Static_assert(offsetof(struct nc_inject_data, regs) == 0, "regs");
/* the asm below numbers the registers: 0 r15 ... 15 eflags, 16 rip, 17 rsp */
_Static_assert(NC_R_R15 == 0 && NC_R_RBX == 5 && NC_R_RDI == 14 && NC_R_EFLAGS == 15 &&
		   NC_R_RIP == 16 && NC_R_RSP == 17,
	       "register numbers");
_Static_assert(offsetof(struct nc_inject_data, fn_dlopen) == 144, "fn_dlopen");
_Static_assert(offsetof(struct nc_inject_data, fn_dlsym) == 152, "fn_dlsym");
_Static_assert(offsetof(struct nc_inject_data, fn_dlerror) == 160, "fn_dlerror");
_Static_assert(offsetof(struct nc_inject_data, fn_pthread_self) == 168, "fn_pthread_self");
_Static_assert(offsetof(struct nc_inject_data, fn_pthread_detach) == 176, "fn_pthread_detach");
_Static_assert(offsetof(struct nc_inject_data, pthread) == 184, "pthread");
_Static_assert(offsetof(struct nc_inject_data, handle) == 192, "handle");
_Static_assert(offsetof(struct nc_inject_data, create_ret) == 200, "create_ret");
_Static_assert(offsetof(struct nc_inject_data, reached) == 204, "reached");
_Static_assert(offsetof(struct nc_inject_data, state) == 208, "state");
_Static_assert(offsetof(struct nc_inject_data, agent_tid) == 212, "agent_tid");
_Static_assert(offsetof(struct nc_inject_data, entry_ret) == 216, "entry_ret");
_Static_assert(offsetof(struct nc_inject_data, err) == 224, "err");
_Static_assert(offsetof(struct nc_inject_data, name) == 480, "name");
_Static_assert(offsetof(struct nc_inject_data, img_len) == 496, "img_len");
_Static_assert(offsetof(struct nc_inject_data, img_map) == 504, "img_map");
_Static_assert(offsetof(struct nc_inject_data, memfd) == 512, "memfd");
_Static_assert(offsetof(struct nc_inject_data, sys_err) == 516, "sys_err");
_Static_assert(offsetof(struct nc_inject_data, fdbuf) == 520, "fdbuf");
_Static_assert(offsetof(struct nc_inject_data, soname) == 536, "soname");
_Static_assert(offsetof(struct nc_inject_data, memfd_name) == 600, "memfd_name");
_Static_assert(sizeof(NC_INJECT_FD_PREFIX) - 1 == 14, "the prefix the stub completes");
_Static_assert(NC_INJECT_DATA_OFF + sizeof(struct nc_inject_data) <= NC_INJECT_PATH_OFF, "size");

#define S(x) #x
#define X(x) S(x)
/* a RIP-relative operand at offset off of the pages */
#define AT(off) ".Lnc_base+" X(off) "(%rip)"

#if defined(__x86_64__)
// clang-format off
__asm__(
	".pushsection .rodata.nc_inject_stub,\"a\"\n"
	".p2align 4\n"
	".globl nc_inject_stub_begin\n"
	".globl nc_inject_stub_restore\n"
	".globl nc_inject_stub_thread\n"
	".globl nc_inject_stub_end\n"
	"nc_inject_stub_begin:\n"
	".Lnc_base:\n"
	"nc_inject_stub_restore:\n"
	"\tmovl %eax, " AT(D_CREATE) "\n"
	"\tpushq " AT(REG(15)) "\n"
	"\tpopfq\n"
	"\tmovq " AT(REG(0)) ", %r15\n"
	"\tmovq " AT(REG(1)) ", %r14\n"
	"\tmovq " AT(REG(2)) ", %r13\n"
	"\tmovq " AT(REG(3)) ", %r12\n"
	"\tmovq " AT(REG(4)) ", %rbp\n"
	"\tmovq " AT(REG(5)) ", %rbx\n"
	"\tmovq " AT(REG(6)) ", %r11\n"
	"\tmovq " AT(REG(7)) ", %r10\n"
	"\tmovq " AT(REG(8)) ", %r9\n"
	"\tmovq " AT(REG(9)) ", %r8\n"
	"\tmovq " AT(REG(10)) ", %rax\n"
	"\tmovq " AT(REG(11)) ", %rcx\n"
	"\tmovq " AT(REG(12)) ", %rdx\n"
	"\tmovq " AT(REG(13)) ", %rsi\n"
	"\tmovq " AT(REG(14)) ", %rdi\n"
	"\tmovl $1, " AT(D_REACHED) "\n" /* mov leaves the flags alone */
	"\tmovq " AT(REG(17)) ", %rsp\n"
	"\tjmpq *" AT(REG(16)) "\n"
	"\t.p2align 4\n"
	"nc_inject_stub_thread:\n"
	"\tpushq %rbx\n" /* three pushes: the stack aligned for the calls */
	"\tpushq %r12\n"
	"\tpushq %r13\n"
	"\tmovl $186, %eax\n" /* gettid */
	"\tsyscall\n"
	"\tmovl %eax, " AT(D_AGENTTID) "\n"
	"\tmovl $157, %eax\n" /* prctl(PR_SET_NAME, name) */
	"\tmovl $15, %edi\n"
	"\tleaq " AT(D_NAME) ", %rsi\n"
	"\tsyscall\n"
	"\tcall *" AT(D_PSELF) "\n"
	"\tmovq %rax, %rdi\n"
	"\tcall *" AT(D_PDETACH) "\n"
	"\tmovl $1, " AT(D_STATE) "\n"
	"\tcmpq $0, " AT(D_IMGLEN) "\n"
	"\tje .Lnc_path\n"
	/* copy mode: loaded already? */
	"\tcmpb $0, " AT(D_SONAME) "\n"
	"\tje .Lnc_memfd\n"
	"\tleaq " AT(D_SONAME) ", %rdi\n"
	"\tmovl $6, %esi\n" /* RTLD_NOW | RTLD_NOLOAD */
	"\tcall *" AT(D_DLOPEN) "\n"
	"\ttestq %rax, %rax\n"
	"\tjz .Lnc_memfd\n"
	"\tmovq %rax, %r13\n" /* loaded: the bytes are not needed */
	"\tmovl $11, %eax\n"
	"\tleaq " AT(NC_INJECT_IMG_OFF) ", %rdi\n"
	"\tmovq " AT(D_IMGMAP) ", %rsi\n"
	"\tsyscall\n"
	"\tmovq %r13, %rax\n"
	"\tjmp .Lnc_loaded\n"
	".Lnc_memfd:\n"
	"\tmovl $319, %eax\n" /* memfd_create(name, MFD_CLOEXEC | MFD_EXEC) */
	"\tleaq " AT(D_MFDNAME) ", %rdi\n"
	"\tmovl $0x11, %esi\n"
	"\tsyscall\n"
	"\ttestq %rax, %rax\n"
	"\tjns .Lnc_fd\n"
	"\tmovl $319, %eax\n" /* memfd_create(name, MFD_CLOEXEC): before Linux 6.3 */
	"\tleaq " AT(D_MFDNAME) ", %rdi\n"
	"\tmovl $1, %esi\n"
	"\tsyscall\n"
	"\ttestq %rax, %rax\n"
	"\tjs .Lnc_sysfail\n"
	".Lnc_fd:\n"
	"\tmovl %eax, " AT(D_MEMFD) "\n"
	"\tmovl %eax, %r12d\n"
	"\tleaq " AT(NC_INJECT_IMG_OFF) ", %r13\n"
	"\tmovq " AT(D_IMGLEN) ", %rbx\n"
	".Lnc_write:\n"
	"\ttestq %rbx, %rbx\n"
	"\tjz .Lnc_written\n"
	"\tmovl $1, %eax\n" /* write(fd, p, left) */
	"\tmovl %r12d, %edi\n"
	"\tmovq %r13, %rsi\n"
	"\tmovq %rbx, %rdx\n"
	"\tsyscall\n"
	"\tcmpq $-4, %rax\n" /* EINTR: again */
	"\tje .Lnc_write\n"
	"\ttestq %rax, %rax\n"
	"\tjs .Lnc_sysfail\n"
	"\tjnz .Lnc_wrote\n"
	"\tmovq $-5, %rax\n" /* wrote nothing: EIO */
	"\tjmp .Lnc_sysfail\n"
	".Lnc_wrote:\n"
	"\taddq %rax, %r13\n"
	"\tsubq %rax, %rbx\n"
	"\tjmp .Lnc_write\n"
	".Lnc_written:\n"
	"\tmovl $11, %eax\n" /* munmap(the bytes, img_map) */
	"\tleaq " AT(NC_INJECT_IMG_OFF) ", %rdi\n"
	"\tmovq " AT(D_IMGMAP) ", %rsi\n"
	"\tsyscall\n"
	"\tmovl %r12d, %eax\n" /* the fd's digits, backwards from the end of fdbuf */
	"\tleaq " AT(D_FDBUF + 15) ", %rdi\n"
	"\tmovb $0, (%rdi)\n"
	"\tmovl $10, %ecx\n"
	".Lnc_digit:\n"
	"\tdecq %rdi\n"
	"\txorl %edx, %edx\n"
	"\tdivl %ecx\n"
	"\taddb $48, %dl\n"
	"\tmovb %dl, (%rdi)\n"
	"\ttestl %eax, %eax\n"
	"\tjnz .Lnc_digit\n"
	"\tleaq " AT(NC_INJECT_PATH_OFF + 14) ", %rsi\n" /* after "/proc/self/fd/" */
	".Lnc_copy:\n"
	"\tmovb (%rdi), %al\n"
	"\tmovb %al, (%rsi)\n"
	"\tincq %rdi\n"
	"\tincq %rsi\n"
	"\ttestb %al, %al\n"
	"\tjnz .Lnc_copy\n"
	".Lnc_path:\n"
	"\tleaq " AT(NC_INJECT_PATH_OFF) ", %rdi\n"
	"\tmovl $2, %esi\n" /* RTLD_NOW */
	"\tcall *" AT(D_DLOPEN) "\n"
	"\tmovl " AT(D_MEMFD) ", %edi\n" /* copy mode: the loader has its mappings */
	"\ttestl %edi, %edi\n"
	"\tjs .Lnc_opened\n"
	"\tmovq %rax, %r13\n"
	"\tmovl $3, %eax\n" /* close */
	"\tsyscall\n"
	"\tmovq %r13, %rax\n"
	".Lnc_opened:\n"
	"\ttestq %rax, %rax\n"
	"\tjz 1f\n"
	".Lnc_loaded:\n"
	"\tmovq %rax, " AT(D_HANDLE) "\n"
	"\tmovq %rax, %rdi\n"
	"\tleaq " AT(NC_INJECT_SYM_OFF) ", %rsi\n"
	"\tcall *" AT(D_DLSYM) "\n"
	"\ttestq %rax, %rax\n"
	"\tjz 2f\n"
	"\tmovq %rax, %rbx\n"
	"\tmovl $2, " AT(D_STATE) "\n"
	"\tleaq " AT(NC_INJECT_ARG_OFF) ", %rdi\n"
	"\tcall *%rbx\n"
	"\tmovl %eax, " AT(D_ENTRYRET) "\n"
	"\tmovl $3, " AT(D_STATE) "\n"
	"\tjmp 9f\n"
	".Lnc_sysfail:\n" /* rax: -errno; the memfd (if any) closed, the bytes unmapped */
	"\tnegl %eax\n"
	"\tmovl %eax, " AT(D_SYSERR) "\n"
	"\tmovl " AT(D_MEMFD) ", %edi\n"
	"\ttestl %edi, %edi\n"
	"\tjs 6f\n"
	"\tmovl $3, %eax\n"
	"\tsyscall\n"
	"6:\tmovl $11, %eax\n"
	"\tleaq " AT(NC_INJECT_IMG_OFF) ", %rdi\n"
	"\tmovq " AT(D_IMGMAP) ", %rsi\n"
	"\tsyscall\n"
	"\tmovl $-3, %ebx\n"
	"\tjmp 5f\n"
	"1:\tmovl $-1, %ebx\n"
	"\tjmp 3f\n"
	"2:\tmovl $-2, %ebx\n"
	"3:\tcall *" AT(D_DLERROR) "\n"
	"\ttestq %rax, %rax\n"
	"\tjz 5f\n"
	"\tleaq " AT(D_ERR) ", %rdi\n"
	"\tmovl $255, %ecx\n"
	"4:\tmovb (%rax), %dl\n"
	"\tmovb %dl, (%rdi)\n"
	"\ttestb %dl, %dl\n"
	"\tjz 5f\n"
	"\tincq %rax\n"
	"\tincq %rdi\n"
	"\tdecl %ecx\n"
	"\tjnz 4b\n"
	"\tmovb $0, (%rdi)\n"
	"5:\tmovl %ebx, " AT(D_STATE) "\n"
	"9:\txorl %eax, %eax\n"
	"\tpopq %r13\n"
	"\tpopq %r12\n"
	"\tpopq %rbx\n"
	"\tret\n"
	"nc_inject_stub_end:\n"
	".popsection\n");
// clang-format on
#endif
