/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DPDK points of a plan: each hook spec (core/plan/spec.h) of each process becomes hook
 * points and the uprobes that serve them. rx_burst/tx_burst: one uprobe per distinct PMD
 * function and one point per port, ports told apart by their queue pointers; FUNC@N, FUNC@N@M,
 * @ret and OBJECT+0xOFF: one uprobe at the function (moved past a single-stepped start,
 * core/plan/placement.h); usdt: every site of the probe in the first file that has it.
 */
#ifndef NC_MBUF_PLAN_H
#define NC_MBUF_PLAN_H

#include "plan.h"

/*
 * Plans specs[0..n_specs-1] (spec i is stage stages[i]; stages NULL: i) in every process of
 * procs (what nc_dpdk_inspect() found; borrowed, not kept), whose rte_mbuf layouts are
 * layouts[i] (the app's DWARF, or its release's table). Processes of different layouts or
 * releases are refused. inject: the points are served by the in-process agent (--inject), which
 * hooks rx_burst and tx_burst through rte_eth_fp_ops; other spec kinds are refused. Returns 0, or a
 * negative errno with one line in err (the plan then holds what was planned before: clear it).
 */
int nc_mbuf_plan(struct nc_plan *plan, struct nc_dpdk_proc *const *procs,
		 const struct nc_mbuf_layout *layouts, size_t n_procs, char *const *specs,
		 size_t n_specs, const uint32_t *stages, bool inject, char *err, size_t errlen);

#endif
