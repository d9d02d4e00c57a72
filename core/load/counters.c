/* SPDX-License-Identifier: BSD-2-Clause */
#include "counters.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int nc_counters_sum(const struct bpf_map *map, uint32_t hook, struct nc_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct nc_counters *v;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map__lookup_elem(map, &hook, sizeof(hook), v, (size_t)ncpu * sizeof(*v), 0)) {
		free(v);
		return -errno;
	}
	for (int c = 0; c < ncpu; c++) {
		sum->seen += v[c].seen;
		sum->matched += v[c].matched;
		sum->written += v[c].written;
		sum->ringfull += v[c].ringfull;
		sum->readerr += v[c].readerr;
	}
	free(v);
	return 0;
}
