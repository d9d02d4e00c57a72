/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hook_lib: what tests/integration/test_hook.sh loads into nc_fwd (with core/inject's injector)
 * in place of netcap's agent, to give the function-hook trampolines memory near the code and an
 * entry to call (issue 16, docs/inproc.md "Function hooks").
 *
 * hook_lib_map("0xADDR PATH") maps, within +-2 GB of ADDR, one read+execute page for
 * trampolines (written by hook_tool through /proc/PID/mem) and one read-write page for their data
 * slots, and writes "tramp=0x… data=0x… entry=0x… counters=0x…" into PATH (through PATH.tmp and a
 * rename). hook_lib_entry(cookie, a, b) is the trampolines' entry: per cookie (0 or 1) it counts
 * its calls and adds up b, the count of a func@N@M hook; it touches general registers only.
 * hook_lib_entry_vec does the same after a vectorised memset (for the stub that saves them).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int hook_lib_map(const char *arg);
void hook_lib_entry(uint64_t cookie, uint64_t a, uint64_t b);

uint64_t hook_lib_counters[2][2]; /* [cookie] = {calls, sum of b} */

__attribute__((target("general-regs-only"))) void hook_lib_entry(uint64_t cookie, uint64_t a,
								 uint64_t b)
{
	(void)a;
	if (cookie > 1)
		return;
	__atomic_fetch_add(&hook_lib_counters[cookie][0], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&hook_lib_counters[cookie][1], b & 0xffff, __ATOMIC_RELAXED);
}

/*
 * The same for an entry that uses vector registers (libc's memset, vectorised): called through
 * the stub that saves them (nc_hook_in.xsave_size).
 */
void hook_lib_entry_vec(uint64_t cookie, uint64_t a, uint64_t b);

void hook_lib_entry_vec(uint64_t cookie, uint64_t a, uint64_t b)
{
	volatile uint8_t buf[256];

	memset((void *)buf, (int)(a & 0xff), sizeof(buf));
	if (buf[255] == (uint8_t)(a & 0xff))
		hook_lib_entry(cookie, a, b);
}

int hook_lib_map(const char *arg)
{
	uint64_t near = 0;
	char path[4096], tmp[4200];
	uint8_t *p = MAP_FAILED;
	FILE *f;

	if (sscanf(arg, "0x%" SCNx64 " %4095s", &near, path) != 2)
		return -1;
	for (uint64_t k = 1; k < 1024 && p == MAP_FAILED; k++) {
		uint64_t hint = (near & ~(uint64_t)0xfffff) - k * 0x100000;

		p = mmap((void *)hint, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != MAP_FAILED && (uint64_t)p != hint) {
			munmap(p, 8192);
			p = MAP_FAILED;
		}
	}
	if (p == MAP_FAILED)
		return -1;
	memset(p, 0xcc, 4096);
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "tramp=%p data=%p entry=%p counters=%p entry_vec=%p\n", (void *)p,
		(void *)(p + 4096), (void *)&hook_lib_entry, (void *)hook_lib_counters,
		(void *)&hook_lib_entry_vec);
	if (fclose(f) || rename(tmp, path))
		return -1;
	return 0;
}
