/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the ELF symbol reader (core/discover/elf.c, over libelf) on a mutated file. The
 * input is the file (seeds: the nc_fwd fixture and a DPDK PMD, copied by the fuzz build). Every
 * look-up netcap makes on a target's files runs: functions and objects by name, offsets back to
 * names, the first PT_LOAD. No crash, no sanitizer report, no hang.
 */
#include <unistd.h>

#include "discover/elf.h"
#include "fuzz.h"

static const char *const names[] = {
    "main", "fwd_rx", "rte_eth_rx_burst", "rte_eth_fp_ops", "memcpy", "memcpy@@GLIBC_2.14", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512], sym[256];
	struct nc_elf *e;
	uint64_t off, sz, vaddr, poff;
	int fd = fuzz_memfd(data, size, path, sizeof(path));

	if (fd < 0)
		abort();
	if (nc_elf_open(path, &e, err, sizeof(err))) {
		close(fd);
		return 0;
	}
	nc_elf_has_symtab(e);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!nc_elf_func(e, names[i], &off, &sz, err, sizeof(err))) {
			nc_elf_symbolize(e, off, sym, sizeof(sym));
			nc_elf_symbolize(e, off + sz, sym, sizeof(sym));
			nc_elf_symbolize(e, off, sym, 4);
		}
		if (!nc_elf_object(e, names[i], &vaddr, &sz, err, sizeof(err)))
			nc_elf_symbolize(e, vaddr, sym, sizeof(sym));
	}
	for (uint64_t o = 0; o < size; o += 4096)
		nc_elf_symbolize(e, o, sym, sizeof(sym));
	nc_elf_first_load(e, &vaddr, &poff, err, sizeof(err));
	nc_elf_close(e);
	close(fd);
	return 0;
}
