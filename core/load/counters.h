/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef NC_COUNTERS_H
#define NC_COUNTERS_H

#include <linux/types.h>
#include <stdint.h>

#include "../../bpf/nc_record.h"

struct bpf_map;

/* The per-CPU counters of `hook` in a probe's `counters` map, summed over CPUs. 0 or -errno. */
int nc_counters_sum(const struct bpf_map *map, uint32_t hook, struct nc_counters *sum);

#endif
