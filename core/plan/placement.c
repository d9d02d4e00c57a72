/* SPDX-License-Identifier: BSD-2-Clause */
#include "placement.h"

#include <capstone/capstone.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SKIP 8	   /* instructions the probe may move past */
#define MAX_FUNC (1 << 16) /* bytes of a function searched for jumps into the prologue */

/* The System V argument registers, in every width */
static bool is_arg_reg(unsigned reg)
{
	static const unsigned args[] = {
	    X86_REG_RDI, X86_REG_EDI, X86_REG_DI,  X86_REG_DIL, X86_REG_RSI, X86_REG_ESI,
	    X86_REG_SI,	 X86_REG_SIL, X86_REG_RDX, X86_REG_EDX, X86_REG_DX,  X86_REG_DL,
	    X86_REG_DH,	 X86_REG_RCX, X86_REG_ECX, X86_REG_CX,	X86_REG_CL,  X86_REG_CH,
	    X86_REG_R8,	 X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_R9,  X86_REG_R9D,
	    X86_REG_R9W, X86_REG_R9B};

	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		if (reg == args[i])
			return true;
	return false;
}

/* Instructions the kernel's x86 uprobes emulate or optimise rather than single-step */
static bool emulated(csh cs, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	switch (in->id) {
	case X86_INS_PUSH: return x->op_count == 1 && x->operands[0].type == X86_OP_REG;
	case X86_INS_NOP: return in->size == 5;
	case X86_INS_CALL:
	case X86_INS_JMP: return x->op_count == 1 && x->operands[0].type == X86_OP_IMM;
	default:
		/* conditional jumps with a relative target */
		return cs_insn_group(cs, in, X86_GRP_JUMP) && x->op_count == 1 &&
		       x->operands[0].type == X86_OP_IMM;
	}
}

/* Safe to run before the probe: no control transfer, no argument register written, no memory
 * written (the probe reads the caller's data) */
static bool passable(csh cs, const cs_insn *in)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr;

	if (cs_insn_group(cs, in, X86_GRP_JUMP) || cs_insn_group(cs, in, X86_GRP_CALL) ||
	    cs_insn_group(cs, in, X86_GRP_RET) || cs_insn_group(cs, in, X86_GRP_INT) ||
	    cs_insn_group(cs, in, X86_GRP_IRET))
		return false;
	if (cs_regs_access(cs, in, rd, &nrd, wr, &nwr))
		return false;
	for (uint8_t i = 0; i < nwr; i++)
		if (is_arg_reg(wr[i]) || wr[i] == X86_REG_RSP)
			return false;
	for (uint8_t i = 0; i < in->detail->x86.op_count; i++)
		if (in->detail->x86.operands[i].type == X86_OP_MEM &&
		    (in->detail->x86.operands[i].access & CS_AC_WRITE))
			return false;
	return true;
}

static int read_at(const char *path, uint64_t off, size_t len, uint8_t *buf, size_t *got)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	if (n < 0)
		return -errno;
	*got = (size_t)n;
	return 0;
}

/*
 * The size of the function that starts at file offset `entry`, from the call frame information
 * (.eh_frame, kept in stripped files for unwinding): its FDE must start exactly there. 0 if not.
 */
uint64_t nc_fde_size(const char *path, uint64_t entry)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = NULL;
	Dwarf_CFI *cfi = NULL;
	Dwarf_Frame *frame = NULL;
	Dwarf_Addr start, end, vaddr = 0;
	uint64_t size = 0;
	size_t phnum = 0;
	bool mapped = false;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_getphdrnum(elf, &phnum))
		goto out;
	/* file offset -> address, through the loadable segment that holds it */
	for (size_t i = 0; i < phnum && !mapped; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    entry >= ph.p_offset && entry < ph.p_offset + ph.p_filesz) {
			vaddr = entry - ph.p_offset + ph.p_vaddr;
			mapped = true;
		}
	}
	cfi = mapped ? dwarf_getcfi_elf(elf) : NULL;
	if (cfi && dwarf_cfi_addrframe(cfi, vaddr, &frame) == 0 &&
	    dwarf_frame_info(frame, &start, &end, NULL) >= 0 && start == vaddr && end > start)
		size = end - start;
	free(frame);
out:
	if (cfi)
		dwarf_cfi_end(cfi);
	if (elf)
		elf_end(elf);
	close(fd);
	return size;
}

int nc_probe_site(const char *path, uint64_t entry, uint64_t size, uint64_t *site, char *why,
		  size_t len)
{
	size_t got = 0, count = 0, n;
	uint8_t *code;
	cs_insn *insn = NULL;
	csh cs;
	int ret;

	*site = entry;
	if (!size)
		size = nc_fde_size(path, entry);
	if (!size) {
		snprintf(why, len, "entry (function size unknown)");
		return 0;
	}
	if (size > MAX_FUNC)
		size = MAX_FUNC;
	code = malloc(size);
	if (!code)
		return -ENOMEM;
	ret = read_at(path, entry, size, code, &got);
	if (ret || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		free(code);
		snprintf(why, len, "entry (cannot decode)");
		return ret;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	/* the addresses are file offsets: jump targets come out as file offsets too */
	count = cs_disasm(cs, code, got, entry, 0, &insn);
	snprintf(why, len, "entry");
	for (n = 0; n < count && n < MAX_SKIP; n++) {
		if (emulated(cs, &insn[n]))
			break;
		if (!passable(cs, &insn[n])) {
			n = count; /* a stretch we cannot move past */
			break;
		}
	}
	if (n == 0 && count) {
		snprintf(why, len, "entry: %s, emulated", insn[0].mnemonic);
	} else if (n < count && n < MAX_SKIP) {
		uint64_t target = insn[n].address;
		bool jumped_into = false;

		/* nothing in the function may land in (entry, target]: it would skip or repeat the
		 * probe */
		for (size_t i = 0; i < count && !jumped_into; i++) {
			const cs_x86 *x = &insn[i].detail->x86;

			if ((cs_insn_group(cs, &insn[i], X86_GRP_JUMP) ||
			     cs_insn_group(cs, &insn[i], X86_GRP_CALL)) &&
			    x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
				jumped_into = (uint64_t)x->operands[0].imm > entry &&
					      (uint64_t)x->operands[0].imm <= target;
		}
		if (!jumped_into) {
			*site = target;
			snprintf(why, len, "+%#llx: %s, emulated, after %zu instruction(s) from %s",
				 (unsigned long long)(target - entry), insn[n].mnemonic, n,
				 insn[0].mnemonic);
		} else {
			snprintf(why, len, "entry (a jump lands in the prologue)");
		}
	} else {
		snprintf(why, len, "entry (no emulated instruction before the arguments change)");
	}
	cs_free(insn, count);
	cs_close(&cs);
	free(code);
	return 0;
}
