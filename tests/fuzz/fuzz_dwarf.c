/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the DWARF reader (core/discover/dwarf.c, over libdw) on a mutated file: the
 * functions that take mbufs (netcap list) and the rte_mbuf layout (mbuf mode). The input is the
 * file (seed: the nc_fwd fixture, built with -g, copied by the fuzz build). No crash, no
 * sanitizer report, no hang; what is listed must be well formed.
 */
#include <unistd.h>

#include "discover/dpdk.h"
#include "discover/dwarf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nc_mbuf_layout layout;
	struct nc_mbuf_func *funcs;
	char path[64], err[512];
	size_t n;
	int fd = fuzz_memfd(data, size, path, sizeof(path));

	if (fd < 0)
		abort();
	if (!nc_dwarf_mbuf_funcs(path, &funcs, &n, err, sizeof(err))) {
		for (size_t i = 0; i < n; i++)
			if (!funcs[i].name || !funcs[i].proto || funcs[i].arg_pkt < 1 ||
			    funcs[i].arg_pkt > 6 || funcs[i].arg_cnt > 6)
				FUZZ_FAIL("function %zu listed with a bad description", i);
		nc_mbuf_funcs_free(funcs, n);
	}
	nc_dwarf_mbuf_layout(path, &layout, err, sizeof(err));
	close(fd);
	return 0;
}
